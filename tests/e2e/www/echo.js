// echo.js: Chromium side of the echo-room test (see echo.html).
//
// Protocol (shared/PROTOCOL.md): WebSocket subprotocol parley.v1; join; `pub`
// (we offer sendonly audio + video, the server answers); `sub` (the server
// offers with a `rev`, we answer naming it); trickle ICE both ways with
// `candidate: null` at the end of gathering.
//
// window.result = { finished, ok, error?, ...timings and stats }. Times are ms
// since the page started. The media budget (opts.mediaBudgetMs, default
// 10 s) counts from the first media we sent: the first time pub's
// outbound-rtp shows packetsSent > 0.
'use strict';

const T0 = performance.now();
const now = () => Math.round(performance.now() - T0);
const R = window.result = { finished: false, ok: false, events: [], errors: [], dropped_candidates: [] };
const ev = (s) => { R.events.push(`${now()}ms ${s}`); console.log(s); };

const q = new URLSearchParams(location.search);
const OPT = {
	ws: q.get('ws'),
	room: q.get('room'),
	display: q.get('display') || 'e2e-chromium',
	mediaBudgetMs: Number(q.get('budget') || 10000),
	setupTimeoutMs: Number(q.get('setup_timeout') || 60000),
};

function finish(ok, error) {
	if (R.finished) return;
	R.ok = ok;
	if (error) R.error = String(error && error.stack || error);
	R.t_finished = now();
	R.finished = true;
	ev(`finished ok=${ok}${error ? ' error=' + error : ''}`);
}

/* ---------------- signaling ---------------- */

let ws;
const waiters = [];          // { match, resolve, reject, what }
let nextId = 1;
const subAnswerIds = new Map();   // id of each sub answer we sent -> rev

function send(msg) {
	ws.send(JSON.stringify(msg));
}

function waitMsg(match, what, ms = OPT.setupTimeoutMs) {
	return new Promise((resolve, reject) => {
		const w = { match, resolve, reject, what };
		w.timer = setTimeout(() => {
			waiters.splice(waiters.indexOf(w), 1);
			reject(new Error(`timeout after ${ms} ms waiting for ${what}`));
		}, ms);
		waiters.push(w);
	});
}

/** Sends msg with a fresh id and resolves with the reply (an `error` reply rejects). */
async function request(msg, what) {
	const id = nextId++;
	send({ ...msg, id });
	const reply = await waitMsg((m) => m.id === id, `${what} (id ${id})`);
	if (reply.type === 'error') throw new Error(`${what}: server replied error ${reply.code}: ${reply.message}`);
	return reply;
}

/* ---------------- peer connections ---------------- */

const pcs = {};              // 'pub' | 'sub' -> { pc, chain, pending: [] }
const early = { pub: [], sub: [] };   // candidates that came before their pc existed

function isLoopback(cand) {
	// candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...
	const f = cand.split(' ');
	return f.length > 5 && f[4] === '127.0.0.1';
}

function makePc(name) {
	const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
	const e = { pc, chain: Promise.resolve(), pending: early[name].splice(0) };
	pcs[name] = e;
	pc.onicecandidate = (x) => {
		if (!x.candidate) {
			ev(`${name}: gathering complete`);
			send({ type: 'candidate', pc: name, candidate: null });
			return;
		}
		if (!x.candidate.candidate) return;            // per-generation end marker
		// keep all media on 127.0.0.1: the machine's other address is never signaled
		if (!isLoopback(x.candidate.candidate)) {
			R.dropped_candidates.push(x.candidate.candidate);
			return;
		}
		const c = { candidate: x.candidate.candidate, sdpMid: x.candidate.sdpMid, sdpMLineIndex: x.candidate.sdpMLineIndex };
		(R[`${name}_local_candidates`] ||= []).push(c.candidate);
		send({ type: 'candidate', pc: name, candidate: c });
	};
	pc.oniceconnectionstatechange = () => ev(`${name}: ice ${pc.iceConnectionState}`);
	pc.onconnectionstatechange = () => {
		ev(`${name}: connection ${pc.connectionState}`);
		if (pc.connectionState === 'connected' && R[`t_${name}_connected`] === undefined) R[`t_${name}_connected`] = now();
		if (pc.connectionState === 'failed') finish(false, `${name} connection failed`);
	};
	return e;
}

/** Runs fn after everything queued on this pc (keeps SDP/candidate order). */
function onPc(name, fn) {
	const e = pcs[name];
	e.chain = e.chain.then(fn).catch((err) => finish(false, `${name}: ${err}`));
	return e.chain;
}

async function addRemoteCandidate(name, cand) {
	const e = pcs[name];
	if (!e) { early[name].push(cand); return; }
	onPc(name, async () => {
		if (!e.pc.remoteDescription) { e.pending.push(cand); return; }
		await applyCandidate(name, cand);
	});
}

async function applyCandidate(name, cand) {
	const pc = pcs[name].pc;
	(R[`${name}_remote_candidates`] ||= []).push(cand ? cand.candidate : null);
	if (cand === null) {
		try { await pc.addIceCandidate(); } catch (err) { ev(`${name}: end-of-candidates: ${err}`); }
		return;
	}
	await pc.addIceCandidate(cand);
}

async function flushPending(name) {
	const e = pcs[name];
	for (const c of e.pending.splice(0)) await applyCandidate(name, c);
}

async function onSubOffer(m) {
	ev(`sub: offer rev ${m.rev}`);
	if (R.t_sub_offer === undefined) R.t_sub_offer = now();
	R.sub_offer_revs = [...(R.sub_offer_revs || []), m.rev];
	R.sub_offer_sdp = m.sdp;
	if (!pcs.sub) {
		const e = makePc('sub');
		e.pc.ontrack = (x) => {
			const streams = x.streams.map((s) => s.id);
			ev(`sub: track ${x.track.kind} mid=${x.transceiver.mid} streams=${streams.join(',')}`);
			(R.sub_tracks ||= []).push({ kind: x.track.kind, mid: x.transceiver.mid, track: x.track.id, streams });
			if (x.track.kind === 'video') document.getElementById('remote').srcObject = x.streams[0] || new MediaStream([x.track]);
		};
	}
	onPc('sub', async () => {
		const pc = pcs.sub.pc;
		await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
		await flushPending('sub');
		const answer = await pc.createAnswer();
		await pc.setLocalDescription(answer);
		R.sub_answer_sdp = pc.localDescription.sdp;
		const id = nextId++;                    // errors about the answer echo it
		subAnswerIds.set(id, m.rev);
		send({ type: 'answer', pc: 'sub', id, rev: m.rev, sdp: pc.localDescription.sdp });
		ev(`sub: answered rev ${m.rev}`);
	});
}

function onMessage(m) {
	for (const w of waiters) {
		if (w.match(m)) {
			waiters.splice(waiters.indexOf(w), 1);
			clearTimeout(w.timer);
			w.resolve(m);
			return;
		}
	}
	switch (m.type) {
	case 'offer':
		if (m.pc === 'sub') onSubOffer(m);
		else ev(`unexpected offer for ${m.pc}`);
		break;
	case 'candidate':
		if (m.pc !== 'pub' && m.pc !== 'sub') { ev(`candidate for unknown pc ${m.pc}`); break; }
		addRemoteCandidate(m.pc, m.candidate);
		break;
	case 'error':
		R.errors.push(m);
		ev(`server error: ${JSON.stringify(m)}`);
		if (subAnswerIds.has(m.id)) finish(false, `sub answer (rev ${subAnswerIds.get(m.id)}): server replied error ${m.code}: ${m.message}`);
		break;
	default:
		(R.other_messages ||= []).push(m.type);
	}
}

/* ---------------- stats ---------------- */

async function statsOf(name) {
	const e = pcs[name];
	if (!e) return null;
	const st = await e.pc.getStats();
	const out = { inbound: {}, outbound: {} };
	st.forEach((r) => {
		if (r.type === 'inbound-rtp') {
			out.inbound[r.kind] = {
				packetsReceived: r.packetsReceived, bytesReceived: r.bytesReceived, packetsLost: r.packetsLost,
				framesDecoded: r.framesDecoded, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
				codec: st.get(r.codecId)?.mimeType,
			};
		}
		if (r.type === 'outbound-rtp') {
			const o = out.outbound[r.kind] ||= { packetsSent: 0, codec: st.get(r.codecId)?.mimeType };
			o.packetsSent += r.packetsSent || 0;         // summed over simulcast layers, if any
		}
		if (r.type === 'transport') {
			out.transport = { dtlsState: r.dtlsState, srtpCipher: r.srtpCipher, dtlsCipher: r.dtlsCipher, tlsVersion: r.tlsVersion };
			const pair = r.selectedCandidatePairId && st.get(r.selectedCandidatePairId);
			if (pair) {
				const l = st.get(pair.localCandidateId), rm = st.get(pair.remoteCandidateId);
				out.pair = `${l.address}:${l.port}/${l.protocol} <-> ${rm.address}:${rm.port}/${rm.protocol}`;
			}
		}
	});
	return out;
}

/* ---------------- main ---------------- */

async function main() {
	if (!OPT.ws || !OPT.room) throw new Error('echo.html needs ?ws=...&room=...');
	ws = new WebSocket(OPT.ws, 'parley.v1');
	await new Promise((resolve, reject) => {
		ws.onopen = resolve;
		ws.onerror = () => reject(new Error(`WebSocket to ${OPT.ws} failed`));
	});
	R.ws_protocol = ws.protocol;
	ws.onmessage = (x) => {
		let m;
		try { m = JSON.parse(x.data); } catch { ev(`non-JSON frame: ${String(x.data).slice(0, 200)}`); return; }
		onMessage(m);
	};
	ws.onclose = (x) => { ev(`ws closed ${x.code} ${x.reason}`); finish(false, `WebSocket closed (${x.code} ${x.reason})`); };
	ev('ws open');

	const joined = await request({ type: 'join', room: OPT.room, display: OPT.display }, 'join');
	R.t_joined = now();
	R.you = joined.you;
	R.ice_servers = joined.ice_servers;
	ev(`joined ${OPT.room} as ${joined.you && joined.you.id}`);

	const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
	const { pc } = makePc('pub');
	pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
	pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', streams: [stream] });
	const offer = await pc.createOffer();
	await pc.setLocalDescription(offer);
	R.pub_offer_sdp = pc.localDescription.sdp;
	ev('pub: offer sent');
	// Candidates Chromium emits from here on are sent after the offer
	// (onicecandidate fires asynchronously after setLocalDescription).
	const answer = await request({ type: 'offer', pc: 'pub', sdp: pc.localDescription.sdp }, 'pub offer');
	if (answer.type !== 'answer' || answer.pc !== 'pub') throw new Error(`pub offer: unexpected reply ${JSON.stringify(answer).slice(0, 300)}`);
	R.pub_answer_sdp = answer.sdp;
	R.t_pub_answer = now();
	ev('pub: answer received');
	await onPc('pub', async () => {
		await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
		await flushPending('pub');
	});

	// Wait for media: first our own outbound packets on pub, then the echo on sub.
	const setupEnd = performance.now() + OPT.setupTimeoutMs;
	let mediaEnd = null;
	for (;;) {
		if (R.finished) return;
		const pub = await statsOf('pub');
		const sub = await statsOf('sub');
		R.pub_stats = pub;
		R.sub_stats = sub;
		const sent = pub && pub.outbound.video && pub.outbound.video.packetsSent > 0;
		if (sent && R.t_first_media_sent === undefined) {
			R.t_first_media_sent = now();
			mediaEnd = performance.now() + OPT.mediaBudgetMs;
			ev('pub: first media sent; echo budget starts');
		}
		const v = sub && sub.inbound.video, a = sub && sub.inbound.audio;
		if (v && v.framesDecoded > 0 && R.t_first_frame_decoded === undefined) R.t_first_frame_decoded = now();
		if (a && a.packetsReceived > 0 && R.t_first_audio_packet === undefined) R.t_first_audio_packet = now();
		if (v && v.framesDecoded > 0 && a && a.packetsReceived > 0) {
			R.echo_ms_after_first_media = now() - R.t_first_media_sent;
			finish(true);
			return;
		}
		if (mediaEnd !== null && performance.now() > mediaEnd) {
			throw new Error(`no echo within ${OPT.mediaBudgetMs} ms of the first media sent: ` +
				`sub video ${JSON.stringify(v || null)}, sub audio ${JSON.stringify(a || null)}`);
		}
		if (mediaEnd === null && performance.now() > setupEnd) {
			throw new Error(`pub sent no media within ${OPT.setupTimeoutMs} ms (pub connection ${pc.connectionState})`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
}

main().catch((err) => finish(false, err));

/** Called by the test runner after it read the result: hang up cleanly. */
window.hangUp = () => {
	for (const e of Object.values(pcs)) e.pc.close();
	try { send({ type: 'leave' }); } catch { /* closed */ }
	try { ws.close(1000); } catch { /* closed */ }
};
