// web-demo/app-stats.mjs: the stats loop of the call (once a second):
// connection quality and figures per tile, the active speaker, and
// window.__parleyStats, the summary the tests and debugging read.

import { extractStats, streamRates, qualityLevel } from './parley.js';
import { client, renderConn } from './app-common.mjs';
import { localLevel } from './app-audio.mjs';
import { tiles, serverState } from './app-tiles.mjs';

let statsTimer = null;
const prevSamples = new Map();   // stats id -> sample
const speakerHold = { pid: null, until: 0 };

export function startStatsLoop() {
	stopStatsLoop();
	const tick = async () => {
		try { await statsTick(); } catch (e) { console.debug('stats', e); }
		if (statsTimer !== null) statsTimer = setTimeout(tick, 1000);
	};
	statsTimer = setTimeout(tick, 300);
}

export function stopStatsLoop() {
	clearTimeout(statsTimer);
	statsTimer = null;
	prevSamples.clear();
}

function fmtRate(bps) {
	if (bps === null || bps === undefined) return '–';
	return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1000)} kb/s`;
}

async function statsTick() {
	const c = client;
	if (!c) return;
	if (c.state !== 'joined') {
		// nothing is measured while (re)connecting: no stale figures
		for (const t of tiles.values()) renderQuality(t, null);
		for (const t of tiles.values()) t.li.classList.remove('speaking');
		prevSamples.clear();
		window.__parleyStats = { ...(window.__parleyStats || {}), t: Date.now(), state: c.state, pc: c.connectionStates(),
			joins: c.stats.joins, reconnects: c.stats.reconnects, iceRestarts: c.stats.iceRestarts };
		renderConn();
		return;
	}
	const reports = await c.getStats();
	const sub = reports.sub ? extractStats(reports.sub) : null;
	const pub = reports.pub ? extractStats(reports.pub) : null;
	const out = {
		t: Date.now(), state: c.state, room: c.room, me: c.me, pc: c.connectionStates(),
		joins: c.stats.joins, reconnects: c.stats.reconnects, iceRestarts: c.stats.iceRestarts,
		subOffers: c.stats.subOffers, participants: {}, local: { audio: null, video: null },
		messages: c.messages.length, lastSeq: c.lastSeq,
	};
	const levels = new Map();
	// remote: inbound streams by mid -> participant
	if (sub) {
		for (const s of sub.inbound) {
			const rt = s.mid !== null ? c.remoteTracks.get(String(s.mid)) : [...c.remoteTracks.values()].find((x) => x.track && x.track.id === s.trackIdentifier);
			if (!rt) continue;
			const rates = streamRates(prevSamples.get(s.id), s);
			prevSamples.set(s.id, s);
			const p = c.participants.get(rt.participantId);
			const o = (out.participants[rt.participantId] ||= { display: p ? p.display : rt.participantId });
			if (s.kind === 'video') {
				(o.videos ||= []).push({
					mid: rt.mid, framesDecoded: s.framesDecoded || 0, framesPerSecond: rates.fps, bitrate: rates.bitrate,
					loss: rates.loss, packetsLost: s.packetsLost, bytesReceived: s.bytesReceived,
					frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0,
				});
			} else {
				let level = s.audioLevel || 0;
				if (!level && rt.transceiver && rt.transceiver.receiver.getSynchronizationSources) {
					const ss = rt.transceiver.receiver.getSynchronizationSources();
					if (ss.length && performance.timeOrigin + performance.now() - ss[0].timestamp < 1000) level = ss[0].audioLevel || 0;
				}
				levels.set(rt.participantId, Math.max(levels.get(rt.participantId) || 0, level));
				o.audio = { mid: rt.mid, packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived, bitrate: rates.bitrate, loss: rates.loss, audioLevel: level };
			}
		}
	}
	const rttSub = sub ? sub.rtt : null;
	for (const o of Object.values(out.participants)) {
		// the first (lowest mid) video is the camera tile, a second one the "screen" tile
		const vs = (o.videos || []).sort((a, b) => Number(a.mid) - Number(b.mid));
		delete o.videos;
		if (vs[0]) o.video = vs[0];
		if (vs[1]) o.screen = vs[1];
	}
	for (const [pid, o] of Object.entries(out.participants)) {
		const t = tiles.get(pid);
		const p = c.participants.get(pid);
		const st = serverState(p);
		o.micMuted = st.micMuted;
		o.cameraOff = t ? t.li.dataset.cameraOff === 'true' : true;
		const playing = (x) => !!(x && x.video.srcObject && x.video.readyState >= 2 && !x.video.paused && x.video.videoWidth > 0);
		o.videoPlaying = playing(t);
		if (o.screen) o.screen.playing = playing(tiles.get(`${pid}:screen`));
		o.rtt = rttSub;
		if (t) renderQuality(t, o.video || o.audio, rttSub, o.video);
	}
	// local
	if (pub) {
		for (const s of pub.outbound) {
			const rates = streamRates(prevSamples.get(s.id), s);
			prevSamples.set(s.id, s);
			const k = s.kind === 'video' ? 'video' : 'audio';
			const cur = out.local[k];
			const rec = { packetsSent: s.packetsSent, framesEncoded: s.framesEncoded, bitrate: rates.bitrate, framesPerSecond: rates.fps, frameWidth: s.frameWidth, qualityLimitationReason: s.qualityLimitationReason };
			if (!cur || (s.packetsSent || 0) > (cur.packetsSent || 0)) out.local[k] = rec;
		}
		const lt = tiles.get('local');
		if (lt) {
			let loss = null;
			for (const r of pub.remoteInbound) if (r.kind === 'video' && r.fractionLost !== undefined) loss = r.fractionLost;
			renderQuality(lt, out.local.video || out.local.audio, pub.rtt, out.local.video ? { ...out.local.video, loss } : null, true);
		}
	}
	// active speaker: the loudest voice above a threshold, held for a moment
	const ll = localLevel();
	if (c.me) levels.set(c.me.id, ll > 0.02 ? Math.min(1, ll * 3) : 0);
	let best = null, bestLevel = 0.02;
	for (const [pid, lv] of levels) if (lv > bestLevel) { best = pid; bestLevel = lv; }
	const now = Date.now();
	if (best) { speakerHold.pid = best; speakerHold.until = now + 1500; }
	else if (now > speakerHold.until) speakerHold.pid = null;
	for (const t of tiles.values()) {
		const pid = t.self ? c.me && c.me.id : t.pid;
		t.li.classList.toggle('speaking', !t.screen && !!speakerHold.pid && pid === speakerHold.pid);
	}
	out.activeSpeaker = speakerHold.pid;
	for (const [pid, o] of Object.entries(out.participants)) o.speaking = speakerHold.pid === pid;
	window.__parleyStats = out;
	renderConn();
}

function renderQuality(t, main, rtt, video, self = false) {
	if (!main) { t.qualityEl.dataset.level = 'unknown'; t.qualityEl.textContent = ''; t.statsEl.textContent = ''; return; }
	const bitrate = (video && video.bitrate) ?? main.bitrate;
	const level = qualityLevel({ loss: (video || main).loss ?? null, rtt, bitrate: self ? null : bitrate });
	const label = { good: 'Good', fair: 'Fair', poor: 'Poor', unknown: '…' }[level];
	t.qualityEl.dataset.level = level;
	t.qualityEl.textContent = label;
	t.qualityEl.title = `Connection quality: ${label}`;
	const parts = [fmtRate(bitrate)];
	if (video && video.framesPerSecond !== null && video.framesPerSecond !== undefined) parts.push(`${Math.round(video.framesPerSecond)} fps`);
	const loss = (video || main).loss;
	if (loss !== null && loss !== undefined) parts.push(`${(loss * 100).toFixed(loss > 0 && loss < 0.01 ? 1 : 0)}% loss`);
	if (rtt !== null && rtt !== undefined) parts.push(`${Math.round(rtt * 1000)} ms`);
	t.statsEl.textContent = parts.join(' · ');
}
