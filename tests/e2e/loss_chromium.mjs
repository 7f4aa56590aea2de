// loss_chromium.mjs: a group call where one participant sits behind 5 %
// random packet loss in both directions (issue 4, "Proof": Loss).
//
// The network (lib/lossnet.mjs): two namespaces made by the test, A and B,
// joined by a veth pair on a private /30 and nothing else (no route out,
// IPv6 off). parleyd, this script and two Chromium participants (P1, P2,
// one browser, two pages) run in A and reach each other over A's loopback;
// the third participant (PL, a second browser) runs in B, whose only
// interface besides lo is the veth, so all its media and its WebSocket cross
// the veth (its page is served from A's veth address, which Chromium is
// told to treat as a secure origin). An nftables rule on the netdev ingress
// hook of each end of the veth drops LOSS % (default 5) of the UDP at
// random: A's end loses PL's upstream (PL -> parleyd), B's end loses PL's
// downstream (parleyd -> PL). TCP (page, WebSocket) is never dropped.
// parleyd listens on 0.0.0.0 in A and gathers ICE on 127.0.0.1 and A's veth
// address; PL signals only its veth candidates. The rules are removed at the
// end and the namespaces deleted, also on failure (a run that died is
// cleaned up by the next one).
//
// After every participant decodes the two others' video, the call runs for
// MEASURE s (a snapshot a second: a participant dropped meanwhile fails the
// test, with parleyd's reason, and the figures cover the time before it).
// From the getStats deltas over that window:
//  1. PL's outgoing video, repaired by parleyd's upstream NACKs and PL's RTX:
//     on P1 and P2, residual loss of PL's video = packetsLost / (packetsReceived
//     + packetsLost) < 1 % (parleyd forwards the packets it recovers on the
//     media SSRC, so packetsLost counts exactly what was never repaired);
//     PL's outbound video got NACKs and sent retransmissions; /healthz
//     media.nacks_sent and rtx_received grew;
//  2. PL's incoming video, repaired from parleyd's retransmission buffer, in
//     both of parleyd's ways: PL keeps RTX for P1's video and refuses it (in
//     its sub answer) for P2's, which parleyd must then resend as is. For
//     P2's video packetsLost is exact; for P1's, libwebrtc leaves packets
//     recovered from RTX out of packetsLost, so residual = packetsLost -
//     retransmittedPacketsReceived (an estimate: a duplicate RTX would hide
//     a loss). Both < 1 %; PL sent NACKs for both and received RTX for P1's;
//     /healthz media.nacks_received and retransmits grew;
//  3. the rules really dropped about LOSS % of the UDP each way (nft
//     counters: 3-7 % for 5 %), so the repair was needed, not luck;
//  4. PL's media crossed the veth (selected pairs are veth addresses) and
//     the unimpaired participants stayed on A's own addresses;
//  5. parleyd survived and exits cleanly.
// Figures (per stream: packets, lost, RTX, residual, NACKs, PLIs, fps,
// freezes; PL's sender side; raw drop rates; /healthz deltas) are printed
// as tables and as one `# figures {json}` line.
//
// Needs root, ip and nft (apt-get install nftables), $PARLEYD, npm
// playwright-core and /usr/lib/chromium/chromium; exits 77 (meson: skipped)
// without them. Environment: PARLEY_E2E_LOSS_PCT (5), PARLEY_E2E_LOSS_MEASURE_S
// (25), PARLEY_E2E_LOSS_VIDEO (WxH@FPS, 640x360@24), PARLEY_E2E_LOSS_LOG=FILE
// (parleyd's whole output is written there), PARLEY_E2E_VERBOSE=1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing } from './lib/chromium.mjs';
import { lossnetMissing, enterLossNet, setLoss, clearLoss, lossCounters, startParleydNet, launchChromiumNs, serveDirAll } from './lib/lossnet.mjs';
import { sleep, fmtTable } from './lib/util.mjs';

const missing = chromiumMissing() || (process.env.PARLEYD ? null : 'PARLEYD is not set') || lossnetMissing();
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}

const NET = await enterLossNet();          // the parent never returns from here

const WWW = join(dirname(fileURLToPath(import.meta.url)), 'www');
const LOSS = Number(process.env.PARLEY_E2E_LOSS_PCT || 5);
const MEASURE_MS = Number(process.env.PARLEY_E2E_LOSS_MEASURE_S || 25) * 1000;
const [, VW, VH, VFPS] = /^(\d+)x(\d+)@(\d+)$/.exec(process.env.PARLEY_E2E_LOSS_VIDEO || '640x360@24').map(Number);
const MEDIA_TIMEOUT_MS = 90000;
const WARMUP_MS = 3000;                    // after everything decodes, before the window
const MAX_RESIDUAL = 0.01;
const DROP_RANGE = [LOSS * 0.6 / 100, LOSS * 1.4 / 100];   // 3-7 % for 5 %
const NORTX_FROM = 'P2';                  // PL receives this one's video without RTX (plain retransmissions)
const MIN_PACKETS = 300;                   // per stream in the window, or the figure means nothing
const verbose = !!process.env.PARLEY_E2E_VERBOSE;

let srv, web, brA, brB;
const parts = [];                          // { name, lossy, page, id, log[] }
const fig = { loss_pct: LOSS, measure_s: MEASURE_MS / 1000, video: `${VW}x${VH}@${VFPS}`, net: NET };
let failed = false, measured = null;

function check(name, fn) {
	test(name, async (t) => {
		try {
			await fn(t);
		} catch (e) {
			failed = true;
			throw e;
		}
	});
}

/** m-sections of an SDP: [{ kind, mid, msid (stream), rtx }]. */
function sections(sdp) {
	return sdp.split(/\r?\nm=/).slice(1).map((sec) => ({
		kind: sec.split(' ')[0],
		mid: /\na=mid:(\S+)/.exec(sec)?.[1],
		msid: /\na=msid:(\S+)/.exec(sec)?.[1],
		rtx: /\na=rtpmap:\d+ rtx\//i.test(sec),
	}));
}
const stats = (p) => p.page.evaluate(() => window.L.stats());
async function healthz() {
	const r = await fetch(`http://127.0.0.1:${srv.port}/healthz`);
	return (await r.json()).media;
}
const counters = () => ({ a_to_b: lossCounters(NET.nsB), b_to_a: lossCounters(NET.nsA) });
async function snapshot() {
	const [s, h] = await Promise.all([Promise.all(parts.map(stats)), healthz()]);
	return { t: Date.now(), pages: s, healthz: h, nft: counters() };
}

/** What is wrong with the call in snapshot `s`: page failures, server errors, connections not connected. */
function callProblems(s) {
	const out = [];
	parts.forEach((p, i) => {
		const x = s.pages[i];
		if (x.fatal) out.push(`${p.name}: ${x.fatal.split('\n')[0]}`);
		for (const e of x.errors || []) out.push(`${p.name} got server error ${e.code}: ${e.message}`);
		for (const k of ['pub', 'sub']) if (x[k]?.state !== 'connected') out.push(`${p.name} ${k} connection ${x[k]?.state}`);
	});
	return out;
}

/** The inbound video report of `s` (a page's stats) for participant `pid`, the active one that received most. */
function inVideo(s, pid) {
	const c = (s.sub?.inbound || []).filter((r) => r.kind === 'video' && r.participant === pid);
	c.sort((x, y) => (y.active - x.active) || ((y.packetsReceived || 0) - (x.packetsReceived || 0)));
	return c[0] || null;
}
function inAudio(s, pid) {
	return (s.sub?.inbound || []).find((r) => r.kind === 'audio' && r.participant === pid) || null;
}
const outVideo = (s) => (s.pub?.outbound || []).find((r) => r.kind === 'video') || null;
const d = (b, a, k) => (b?.[k] ?? 0) - (a?.[k] ?? 0);
const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : +(100 * x).toFixed(3));

before(async () => {
	try {
		console.log(`# namespaces ${NET.nsA} (${NET.ifA} ${NET.addrA}) and ${NET.nsB} (${NET.ifB} ${NET.addrB}), ${NET.subnet}; ` +
			`${LOSS} % UDP loss on the netdev ingress of both veth ends`);
		setLoss(NET.nsB, NET.ifB, LOSS);          // parleyd -> PL
		setLoss(NET.nsA, NET.ifA, LOSS);          // PL -> parleyd
		srv = await startParleydNet({ args: ['--set', `media.ice_addresses=127.0.0.1,${NET.addrA}`] });
		web = await serveDirAll(WWW);
		// A's pages load from 127.0.0.1 (a secure context); PL's from A's veth
		// address, which Chromium must be told to treat as secure (getUserMedia)
		const originB = web.url(NET.addrA).replace(/\/$/, '');
		const logTo = (name) => (s) => { parts.find((p) => p.name === name)?.log.push(s); if (verbose) console.error(`${name} ${s}`); };
		const t0 = Date.now();
		[brA, brB] = await Promise.all([
			launchChromiumNs({ log: logTo('P1') }),
			launchChromiumNs({ ns: NET.nsB, log: logTo('PL'), extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${originB}`] }),
		]);
		fig.chromium = brA.version;
		fig.launch_ms = Date.now() - t0;
		const room = `loss-${randomBytes(6).toString('hex')}`;
		console.log(`# chromium ${brA.version} (two browsers launched in ${fig.launch_ms} ms), parleyd port ${srv.port}, room ${room}, video ${fig.video}`);
		const specs = [
			{ name: 'P1', origin: web.url('127.0.0.1'), br: brA, page: brA.page, ws: `ws://127.0.0.1:${srv.port}/ws`, cand: null },
			{ name: 'P2', origin: web.url('127.0.0.1'), br: brA, page: null, ws: `ws://127.0.0.1:${srv.port}/ws`, cand: null },
			{ name: 'PL', origin: web.url(NET.addrA), br: brB, page: brB.page, ws: `ws://${NET.addrA}:${srv.port}/ws`, cand: NET.addrB, lossy: true },
		];
		for (const sp of specs) {
			const p = { name: sp.name, lossy: !!sp.lossy, log: [] };
			parts.push(p);
			p.page = sp.page || await sp.br.ctx.newPage();
			if (!sp.page) {
				p.page.on('console', (m) => { p.log.push(`[${m.type()}] ${m.text()}`); if (verbose) console.error(`${p.name} ${m.text()}`); });
				p.page.on('pageerror', (e) => p.log.push(`[page error] ${e.message}`));
			}
			const url = `${sp.origin}loss.html?ws=${encodeURIComponent(sp.ws)}&room=${room}&display=${sp.name}` +
				`&w=${VW}&h=${VH}&fps=${VFPS}${sp.cand ? `&cand=${sp.cand}` : ''}` +
				(sp.lossy ? `&nortx=${parts.find((x) => x.name === NORTX_FROM).id}` : '');
			await p.page.goto(url);
			await p.page.waitForFunction(() => window.L && (window.L.ready || window.L.fatal), null, { timeout: 60000, polling: 100 });
			const s = await stats(p);
			if (s.fatal) throw new Error(`${p.name}: ${s.fatal}`);
			p.id = s.you.id;
			console.log(`# ${p.name} = ${p.id} joined and published${p.lossy ? ' (behind the lossy link)' : ''}`);
		}
	} catch (e) {
		failed = true;
		throw e;
	}
}, { timeout: 150000 });

after(async () => {
	if (failed) {
		for (const p of parts) {
			try {
				const s = await p.page.evaluate(async () => ({ log: window.L.log(), stats: await window.L.stats() }));
				console.error(`----- ${p.name} (${p.id}) page log -----\n${s.log}`);
				console.error(`----- ${p.name} stats -----\n${JSON.stringify(s.stats, null, 1)}`);
			} catch (e) {
				console.error(`----- ${p.name}: no page state (${e.message}); console -----\n${p.log.join('\n')}`);
			}
		}
		srv?.dump('test failed');
	}
	await brB?.close();
	await brA?.close();
	await web?.close();
	await srv?.stop();
	if (process.env.PARLEY_E2E_LOSS_LOG && srv) writeFileSync(process.env.PARLEY_E2E_LOSS_LOG, srv.log);
	clearLoss(NET.nsA);
	clearLoss(NET.nsB);
});

const PL = () => parts.find((p) => p.lossy);
const unimpaired = () => parts.filter((p) => !p.lossy);

check(`the call comes up across ${LOSS} % loss (each participant decodes the other two's video) and stays up for ${MEASURE_MS / 1000} s`, async () => {
	const t0 = Date.now();
	let snaps, miss;
	for (;;) {
		snaps = await Promise.all(parts.map(stats));
		miss = [];
		parts.forEach((rx, i) => {
			if (snaps[i].fatal) throw new Error(`${rx.name}: ${snaps[i].fatal}`);
			for (const tx of parts) {
				if (tx === rx) continue;
				if (!(inVideo(snaps[i], tx.id)?.framesDecoded > 0)) miss.push(`${tx.name}->${rx.name}`);
			}
		});
		if (!miss.length || Date.now() - t0 > MEDIA_TIMEOUT_MS) break;
		await sleep(250);
	}
	fig.all_video_ms = Date.now() - t0;
	assert.deepEqual(miss, [], `video not decoded within ${MEDIA_TIMEOUT_MS} ms`);
	console.log(`# every pair decodes video (${fig.all_video_ms} ms after the last join)`);

	// where the media flows: PL over the veth only, P1/P2 inside A
	fig.pairs = {};
	parts.forEach((p, i) => {
		for (const k of ['pub', 'sub']) {
			const pair = snaps[i][k]?.pair || '';
			fig.pairs[`${p.name}.${k}`] = pair;
			if (p.lossy) {
				assert.match(pair, new RegExp(`^${NET.addrB.replace(/\./g, '\\.')}:\\d+/udp <-> ${NET.addrA.replace(/\./g, '\\.')}:\\d+/udp$`),
					`${p.name} ${k}: the selected pair crosses the veth`);
			} else {
				const addrs = [...pair.matchAll(/([0-9.]+):\d+\/udp/g)].map((m) => m[1]);
				assert.equal(addrs.length, 2, `${p.name} ${k}: selected pair ${pair}`);
				for (const a of addrs) assert.ok(a === '127.0.0.1' || a === NET.addrA, `${p.name} ${k}: ${pair} uses only A's own addresses`);
			}
		}
	});
	console.log(`# selected pairs: ${JSON.stringify(fig.pairs)}`);

	// PL's sub answer keeps RTX for one sender's video and refuses it for NORTX_FROM's
	const sd = await PL().page.evaluate(() => window.L.sdps());
	const last = sd.sub[sd.sub.length - 1];
	fig.pl_sub_rtx = {};
	for (const tx of unimpaired()) {
		const offerSec = sections(last.offer).find((x) => x.kind === 'video' && x.msid === tx.id);
		assert.ok(offerSec, `PL's sub offer rev ${last.rev} has ${tx.name}'s video`);
		const ansSec = sections(last.answer).find((x) => x.mid === offerSec.mid);
		fig.pl_sub_rtx[tx.name] = ansSec.rtx;
		assert.equal(ansSec.rtx, tx.name !== NORTX_FROM, `PL's sub answer rev ${last.rev}, ${tx.name}'s video (mid ${offerSec.mid}): RTX ${ansSec.rtx ? 'kept' : 'refused'}`);
	}

	await sleep(WARMUP_MS);
	// the window: a snapshot every second, so that a participant dropped
	// meanwhile is noticed when it happens and the figures still cover the
	// time before it
	const s0 = await snapshot();
	let s1 = s0, broken = null;
	while (Date.now() - s0.t < MEASURE_MS) {
		await sleep(Math.min(1000, MEASURE_MS - (Date.now() - s0.t)));
		const s = await snapshot();
		broken = callProblems(s);
		if (broken.length) break;
		s1 = s;
	}
	measured = { s0, s1 };
	const dt = (s1.t - s0.t) / 1000;
	fig.window_s = +dt.toFixed(1);
	if (broken.length) {
		fig.call_broken = {
			after_s: +((Date.now() - s0.t) / 1000).toFixed(1), problems: broken,
			parleyd: srv.log.split('\n').filter((l) => /ICE failed|consent|expired|connection lost| left/.test(l)),
		};
		console.log(`# THE CALL BROKE ${fig.call_broken.after_s} s into the window: ${broken.join('; ')}`);
		for (const l of fig.call_broken.parleyd) console.log(`#   parleyd: ${l}`);
		console.log(`# figures below cover the ${fig.window_s} s before that`);
	}

	// per received video stream: sender -> receiver. How its residual loss
	// (packets the receiver never got, neither first nor resent) is read:
	//  - 'server' (PL -> P1/P2): parleyd repairs PL's upstream and forwards
	//    the recovered packets on the media SSRC, so the receiver's
	//    packetsLost counts exactly what was never repaired;
	//  - 'plain' (NORTX_FROM -> PL): PL refused RTX for it, parleyd resends
	//    on the media SSRC: packetsLost is exact again;
	//  - 'rtx' (the other -> PL): libwebrtc does not count packets recovered
	//    from RTX in packetsLost (RtxReceiveStream marks them recovered and
	//    the receive statistics skip those), so packetsLost is the loss
	//    before repair and the residual is packetsLost minus the RTX packets
	//    received (retransmittedPacketsReceived; a duplicate RTX would hide
	//    a loss, so this is an estimate, checked against the 'plain' stream
	//    and against the absence of keyframe requests);
	//  - 'none' (P1 <-> P2, inside A): no loss expected at all.
	fig.streams = {};
	const rows = [['video sender->receiver', 'repair', 'pkts recv', 'lost', 'RTX recv', 'residual %', 'lost before repair %', 'NACKs sent', 'PLIs', 'fps', 'freezes', 'freeze s', 'kbps', 'size']];
	parts.forEach((rx, i) => {
		for (const tx of parts) {
			if (tx === rx) continue;
			const a = inVideo(s0.pages[i], tx.id), b = inVideo(s1.pages[i], tx.id);
			const recv = d(b, a, 'packetsReceived'), lost = d(b, a, 'packetsLost');
			const rtx = b?.retransmittedPacketsReceived === undefined ? null : d(b, a, 'retransmittedPacketsReceived');
			const repair = tx.lossy ? 'server' : !rx.lossy ? 'none' : tx.name === NORTX_FROM ? 'plain' : 'rtx';
			const residual = repair === 'rtx' ? Math.max(0, lost - (rtx ?? 0)) : lost;
			const f = {
				repair,
				packets_received: recv, packets_lost: lost, rtx_received: rtx,
				residual_packets: residual,
				residual_pct: pct(residual / Math.max(1, recv + lost)),
				// what the receiver lost before any repair it did itself: for
				// 'rtx' packetsLost; for 'plain' and 'server' the retransmissions
				// are inside packetsReceived, see the NACK and server figures
				lost_before_repair_pct: repair === 'rtx' ? pct(lost / Math.max(1, recv + lost)) : null,
				nacks_sent: d(b, a, 'nackCount'),
				plis_sent: d(b, a, 'pliCount'),
				fps: +(d(b, a, 'framesDecoded') / dt).toFixed(1),
				frames_dropped: d(b, a, 'framesDropped'),
				freezes: d(b, a, 'freezeCount'),
				freeze_s: +d(b, a, 'totalFreezesDuration').toFixed(2),
				kbps: Math.round(d(b, a, 'bytesReceived') * 8 / dt / 1000),
				size: `${b?.frameWidth}x${b?.frameHeight}`,
				audio_lost_pct: (() => {
					const x = inAudio(s0.pages[i], tx.id), y = inAudio(s1.pages[i], tx.id);
					return pct(d(y, x, 'packetsLost') / Math.max(1, d(y, x, 'packetsReceived') + d(y, x, 'packetsLost')));
				})(),
				// Opus NACK: parleyd offers `nack` on audio m-lines and
				// resends from the track's buffer (no RTX for audio)
				audio_nacks_sent: d(inAudio(s1.pages[i], tx.id), inAudio(s0.pages[i], tx.id), 'nackCount'),
			};
			fig.streams[`${tx.name}->${rx.name}`] = f;
			rows.push([`${tx.name}->${rx.name}`, f.repair, f.packets_received, f.packets_lost, f.rtx_received, f.residual_pct, f.lost_before_repair_pct,
				f.nacks_sent, f.plis_sent, f.fps, f.freezes, f.freeze_s, f.kbps, f.size]);
		}
	});
	// PL's sender side
	const pi = parts.indexOf(PL());
	const oa = outVideo(s0.pages[pi]), ob = outVideo(s1.pages[pi]);
	fig.pl_outbound = {
		packets_sent: d(ob, oa, 'packetsSent'), nacks_received: d(ob, oa, 'nackCount'),
		retransmitted_packets_sent: d(ob, oa, 'retransmittedPacketsSent'),
		retransmitted_pct: pct(d(ob, oa, 'retransmittedPacketsSent') / Math.max(1, d(ob, oa, 'packetsSent'))),
		kbps: Math.round(d(ob, oa, 'bytesSent') * 8 / dt / 1000), target_kbps: Math.round((ob?.targetBitrate ?? 0) / 1000),
		fps: ob?.framesPerSecond, size: `${ob?.frameWidth}x${ob?.frameHeight}`, limited_by: ob?.qualityLimitationReason,
		plis_received: d(ob, oa, 'pliCount'),
		server_reported_fraction_lost: (s1.pages[pi].pub?.remote_inbound || []).find((r) => r.kind === 'video')?.fractionLost ?? null,
	};
	// PL's receiver side, summed over P1's and P2's video
	fig.pl_inbound = { nacks_sent: 0, rtx_received: 0 };
	for (const tx of unimpaired()) {
		const f = fig.streams[`${tx.name}->PL`];
		fig.pl_inbound.nacks_sent += f.nacks_sent;
		fig.pl_inbound.rtx_received += f.rtx_received ?? 0;
	}
	// server counters and the raw drop rates
	fig.healthz = {};
	for (const k of ['nacks_sent', 'nacks_received', 'retransmits', 'rtx_received', 'twcc_feedbacks', 'plis_sent', 'rtp_in', 'rtp_forwarded', 'rtcp_in', 'rtcp_out', 'drops', 'send_errors', 'srtp_errors'])
		fig.healthz[k] = d(s1.healthz, s0.healthz, k);
	fig.healthz_total = s1.healthz;
	fig.drop = {};
	for (const dir of ['a_to_b', 'b_to_a']) {
		const a = s0.nft[dir], b = s1.nft[dir];
		fig.drop[dir] = {
			udp_seen: d(b, a, 'seen'), udp_dropped: d(b, a, 'dropped'),
			drop_pct: pct(d(b, a, 'dropped') / Math.max(1, d(b, a, 'seen'))),
			call_udp_seen: b?.seen, call_drop_pct: pct((b?.dropped ?? 0) / Math.max(1, b?.seen ?? 0)),
		};
	}
	console.log(`# over ${fig.window_s} s (after ${WARMUP_MS / 1000} s of warm-up):`);
	console.log(fmtTable(rows));
	console.log(fmtTable([['raw UDP drop by nft', 'udp seen', 'dropped', 'drop %', 'drop % (call)'],
		['parleyd -> PL (B ingress)', fig.drop.a_to_b.udp_seen, fig.drop.a_to_b.udp_dropped, fig.drop.a_to_b.drop_pct, fig.drop.a_to_b.call_drop_pct],
		['PL -> parleyd (A ingress)', fig.drop.b_to_a.udp_seen, fig.drop.b_to_a.udp_dropped, fig.drop.b_to_a.drop_pct, fig.drop.b_to_a.call_drop_pct]]));
	console.log(`# PL outbound video: ${JSON.stringify(fig.pl_outbound)}`);
	console.log(`# PL inbound video: ${JSON.stringify(fig.pl_inbound)}`);
	console.log(`# /healthz media deltas: ${JSON.stringify(fig.healthz)}`);
	console.log(`# figures ${JSON.stringify(fig)}`);
	assert.ok(!fig.call_broken, `the call broke ${fig.call_broken?.after_s} s into the ${MEASURE_MS / 1000} s window: ` +
		`${fig.call_broken?.problems.join('; ')}; parleyd: ${fig.call_broken?.parleyd.join(' | ')}`);
});

check(`the lossy participant's outgoing video is repaired (NACK upstream, RTX): residual loss < ${MAX_RESIDUAL * 100} % at P1 and P2`, async (t) => {
	if (!measured) return t.skip('no measurement');
	for (const rx of unimpaired()) {
		const f = fig.streams[`PL->${rx.name}`];
		assert.ok(f.packets_received >= MIN_PACKETS, `PL->${rx.name}: only ${f.packets_received} packets in the window`);
		assert.ok(f.residual_pct < MAX_RESIDUAL * 100, `PL->${rx.name}: residual loss ${f.residual_pct} % (${f.packets_lost} of ${f.packets_received + f.packets_lost})`);
		assert.ok(f.fps > 0, `PL->${rx.name}: ${f.fps} fps`);
		// PL offers Opus NACK (as the web SDK does): parleyd NACKs its
		// audio upstream and forwards the repaired stream.
		assert.ok(f.audio_lost_pct < MAX_RESIDUAL * 100, `PL->${rx.name}: audio residual loss ${f.audio_lost_pct} %`);
	}
	assert.ok(fig.pl_outbound.nacks_received > 0, `PL's outbound video got no NACK (${JSON.stringify(fig.pl_outbound)})`);
	assert.ok(fig.pl_outbound.retransmitted_packets_sent > 0, `PL retransmitted nothing (${JSON.stringify(fig.pl_outbound)})`);
	assert.ok(fig.healthz.nacks_sent > 0, `/healthz media.nacks_sent did not grow (${JSON.stringify(fig.healthz)})`);
	assert.ok(fig.healthz.rtx_received > 0, `/healthz media.rtx_received did not grow (${JSON.stringify(fig.healthz)})`);
});

check(`the lossy participant's incoming video is repaired (its NACKs answered from the retransmission buffer, with RTX and without): residual loss < ${MAX_RESIDUAL * 100} %`, async (t) => {
	if (!measured) return t.skip('no measurement');
	for (const tx of unimpaired()) {
		const k = `${tx.name}->PL`, f = fig.streams[k];
		assert.ok(f.packets_received >= MIN_PACKETS, `${k}: only ${f.packets_received} packets in the window`);
		assert.ok(f.residual_pct < MAX_RESIDUAL * 100,
			`${k} (${f.repair}): residual loss ${f.residual_pct} % (${f.residual_packets} of ${f.packets_received + f.packets_lost}; packetsLost ${f.packets_lost}, RTX received ${f.rtx_received})`);
		assert.ok(f.nacks_sent > 0, `${k}: PL sent no NACK for it`);
		if (f.repair === 'rtx') assert.ok(f.rtx_received > 0, `${k}: PL received no RTX packet (retransmittedPacketsReceived ${f.rtx_received})`);
		if (f.repair === 'plain') assert.equal(f.rtx_received ?? 0, 0, `${k}: RTX received although PL refused RTX for it`);
		assert.ok(f.fps > 0, `${k}: ${f.fps} fps`);
		// Opus NACK (plain resends from the server's buffer)
		assert.ok(f.audio_nacks_sent > 0, `${k}: PL sent no NACK for audio`);
		assert.ok(f.audio_lost_pct < MAX_RESIDUAL * 100, `${k}: audio residual loss ${f.audio_lost_pct} %`);
	}
	assert.ok(fig.healthz.nacks_received > 0, `/healthz media.nacks_received did not grow (${JSON.stringify(fig.healthz)})`);
	assert.ok(fig.healthz.retransmits > 0, `/healthz media.retransmits did not grow (${JSON.stringify(fig.healthz)})`);
});

check(`the link really dropped about ${LOSS} % of the UDP each way (nft counters, ${DROP_RANGE.map((x) => +(x * 100).toFixed(1)).join("-")} %)`, async (t) => {
	if (!measured) return t.skip('no measurement');
	for (const [dir, f] of Object.entries(fig.drop)) {
		assert.ok(f.udp_seen >= 1000, `${dir}: only ${f.udp_seen} UDP packets crossed the veth`);
		const r = f.udp_dropped / f.udp_seen;
		assert.ok(r >= DROP_RANGE[0] && r <= DROP_RANGE[1], `${dir}: dropped ${f.udp_dropped} of ${f.udp_seen} (${f.drop_pct} %)`);
	}
});

check('parleyd survived and exits cleanly on SIGTERM; the loss rules are removed', async () => {
	assert.ok(srv && srv.alive, `parleyd died: ${JSON.stringify(srv?.exit)}`);
	for (const p of parts) await p.page.evaluate(() => window.L.leave()).catch(() => {});
	await sleep(300);
	const exit = await srv.stop();
	assert.deepEqual(exit, { code: 0, signal: null });
	for (const ns of [NET.nsA, NET.nsB]) assert.equal(clearLoss(ns), '', `nft tables left in ${ns}`);
});
