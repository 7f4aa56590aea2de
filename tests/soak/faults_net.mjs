// tests/soak/faults_net.mjs: network faults on one participant of a group
// call (issue 7, "Faults and load"): 10 % random loss both ways, then a
// 5-second blackout.
//
// The network is tests/e2e/lib/lossnet.mjs's: two namespaces made by the
// test, A (parleyd, this script, the two unimpaired participants P-0 and
// P-1 on 127.0.0.1) and B (the faulted participant L-0), joined by a veth
// pair on a private /30 with no route out and IPv6 off; everything is
// deleted at the end, also on failure.  The participants are
// libparley-client clients (fault_peer, built next to this test), each
// publishing VP8 (320x240, 15 fps, ~300 kbit/s) + Opus and reporting
// every 100 ms the frames it received from each other participant, the
// longest gap between frames, and its loss after NACK/RTX repair.
//
// Phases, all in one call:
//  1. clean: everyone receives everyone's audio and video (WARM s);
//  2. loss: nftables on the netdev ingress of both veth ends drops LOSS %
//     (10) of the UDP at random, so L-0's upstream and downstream both
//     lose; LOSS_S s measured.  Asserted: the rules dropped 6-14 % each
//     way; L-0's video at P-0/P-1 and P-0/P-1's video at L-0 keep a
//     residual loss after repair below MAX_VIDEO_RESIDUAL % (NACKs and RTX
//     were used: L-0's toward parleyd, parleyd's toward L-0); audio stays below 16 % (without NACK for Opus it loses
//     about the raw rate, ~10 %; with it, ~0.1 %); P-0 <-> P-1 lose
//     nothing and never stall beyond NORMAL_GAP_MS;
//  3. blackout: a second table drops everything (every protocol, TCP of
//     the WebSocket included) both ways for 5 s, then is deleted.
//     Asserted: P-0 <-> P-1 never stall beyond NORMAL_GAP_MS during it (the
//     call goes on for everyone else at once); the blackout was real (L-0
//     heard nothing for >= 4 s); L-0's media reaches P-0 and P-1 again, and
//     theirs reaches L-0, within RESUME_MS of the end, far inside
//     parleyd's 30 s consent timeout; afterwards every flow runs at its
//     normal frame rate for RECOVER_S s, nobody's connection failed or was
//     dropped, and parleyd still has all three participants.
// Figures (per flow: frames, fps, residual loss, RTX, NACKs, max gap;
// raw drop rates; resume times) are printed as `# figures {json}`.
//
// Needs root, ip and nft; exits 77 (meson: skipped) without them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lossnetMissing, enterLossNet, setLoss, clearLoss, lossCounters, startParleydNet } from '../e2e/lib/lossnet.mjs';
import { Peers, flow, resumedAt } from './lib/peers.mjs';
import { sleep, poll } from './lib/soak.mjs';

const FAULT_PEER = process.env.FAULT_PEER;
const missing = (process.env.PARLEYD && FAULT_PEER ? null : 'PARLEYD and FAULT_PEER must be set') || lossnetMissing();
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}

const NET = await enterLossNet();          // the parent never returns from here

const LOSS = Number(process.env.PARLEY_FAULT_LOSS_PCT || 10);
const LOSS_S = Number(process.env.PARLEY_FAULT_LOSS_S || 20);
const WARM_S = 4;
const BLACKOUT_MS = 5000;
const RECOVER_S = 5;
// video at 15 fps is a frame per 67 ms; a stall is a gap beyond 500 ms plus
// however long the receiving process itself was held up in that window
// (m.stall_ms: on a shared 2-core VM a process can miss its turn for a
// few hundred ms, and that is not the network's doing)
const NORMAL_GAP_MS = 500;
const stalled = (m, limit = NORMAL_GAP_MS) => m.max_gap_ms >= limit + m.stall_ms;
const gapText = (m) => `${m.max_gap_ms} ms` + (m.stall_ms > 50 ? ` (the receiving process was held up ${m.stall_ms} ms)` : '');
const RESUME_MS = 5000;
const MAX_VIDEO_RESIDUAL = 2;              // %, after NACK/RTX, at 10 % loss both ways
const MAX_AUDIO_LOSS = 16;                 // %, the raw rate if Opus is not NACKed
const KINDS = ['audio', 'video'];

let srv, A, B;
const fig = { loss_pct: LOSS, loss_s: LOSS_S, blackout_ms: BLACKOUT_MS };
let failed = false;
const check = (name, fn, opts = {}) => test(name, opts, async (t) => {
	try { await fn(t); } catch (e) { failed = true; throw e; }
});

const BLACKOUT = 'parley_blackout';
function blackout(ns, dev, on) {
	if (!on) {
		const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'netdev', BLACKOUT], { encoding: 'utf8' });
		return r.status === 0;
	}
	const rules = `table netdev ${BLACKOUT} {
	chain ingress {
		type filter hook ingress device "${dev}" priority -10; policy accept;
		counter drop
	}
}
`;
	const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
	if (r.status !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
	return true;
}
function blackoutDropped(ns) {
	const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'netdev', BLACKOUT], { encoding: 'utf8' });
	if (r.status !== 0) return null;
	for (const o of JSON.parse(r.stdout).nftables) {
		const c = o.rule?.expr?.find((e) => e.counter)?.counter;
		if (c) return c.packets;
	}
	return null;
}

/** Every (rx, tx, kind) flow of the call: rx/tx are { peers, name, id }. */
function flows() {
	const parts = [
		{ peers: A, name: 'P-0' }, { peers: A, name: 'P-1' }, { peers: B, name: 'L-0' },
	].map((p) => ({ ...p, id: p.peers.ids.get(p.name) }));
	const out = [];
	for (const rx of parts) for (const tx of parts) if (rx !== tx) for (const kind of KINDS) out.push({ rx, tx, kind, faulted: rx.name === 'L-0' || tx.name === 'L-0' });
	return out;
}
const label = (f) => `${f.tx.name}->${f.rx.name} ${f.kind}`;
const measure = (f, t0, t1) => flow(f.rx.peers, f.rx.name, f.tx.id, f.kind, t0, t1);
function table(rows) {
	return rows.map(([k, m]) => `#   ${k.padEnd(18)} frames ${String(m.frames).padStart(5)} (${String(m.fps).padStart(5)}/s)  ` +
		`residual ${m.residual_pct === null ? '-' : m.residual_pct.toFixed(2).padStart(6) + ' %'} of ${m.expected}  rtx ${m.rtx}  nacks ${m.nacks}  max gap ${gapText(m)}`).join('\n');
}
const healthz = async () => (await fetch(`http://127.0.0.1:${srv.port}/healthz`)).json();
function problems() {
	return [...A.problems(), ...B.problems()].concat(srv.alive ? [] : [`parleyd exited: ${JSON.stringify(srv.exit)}`]);
}

before(async () => {
	clearLoss(NET.nsA);
	clearLoss(NET.nsB);
	srv = await startParleydNet({ args: ['--set', `media.ice_addresses=127.0.0.1,${NET.addrA}`] });
	const room = `faults-${randomBytes(5).toString('hex')}`;
	const common = ['--room', room, '--interval-ms', '100', '--size', '320x240', '--fps', '15', '--video-kbps', '300'];
	A = new Peers('A', [FAULT_PEER, '--server', `ws://127.0.0.1:${srv.port}/ws`, '--name', 'P', '--count', '2', ...common]);
	B = new Peers('B', ['ip', 'netns', 'exec', NET.nsB, FAULT_PEER, '--server', `ws://${NET.addrA}:${srv.port}/ws`,
		'--ice-address', NET.addrB, '--name', 'L', '--count', '1', ...common]);
	console.log(`# namespaces ${NET.nsA} (${NET.ifA} ${NET.addrA}) and ${NET.nsB} (${NET.ifB} ${NET.addrB}); parleyd port ${srv.port}, room ${room}`);
}, { timeout: 60000 });

after(async () => {
	if (failed) {
		for (const p of [A, B]) if (p) console.error(`----- ${p.tag} events ${JSON.stringify(p.events)}\n----- ${p.tag} stderr\n${p.stderr.slice(-4000)}\n----- ${p.tag} last report ${JSON.stringify(p.last)}`);
		srv?.dump('test failed');
	}
	await Promise.all([A?.stop(), B?.stop()]);
	await srv?.stop();
	clearLoss(NET.nsA);
	clearLoss(NET.nsB);
	blackout(NET.nsA, NET.ifA, false);
	blackout(NET.nsB, NET.ifB, false);
	console.log(`# figures ${JSON.stringify(fig)}`);
});

check('the call comes up: each of the three receives the two others\' audio and video', async () => {
	const t0 = Date.now();
	const ok = await poll(() => {
		if (problems().length) return true;
		if (A.ids.size < 2 || B.ids.size < 1) return false;
		const now = Date.now();
		return flows().every((f) => measure(f, now - 1000, now).frames > 0);
	}, 60000, 100);
	assert.deepEqual(problems(), []);
	assert.ok(ok, 'every flow delivers frames within 60 s');
	fig.call_up_ms = Date.now() - t0;
	await sleep(WARM_S * 1000);
	const now = Date.now();
	const rows = flows().map((f) => [label(f), measure(f, now - WARM_S * 1000 + 500, now)]);
	console.log(`# call up in ${fig.call_up_ms} ms; clean for ${WARM_S} s:\n${table(rows)}`);
	fig.clean = Object.fromEntries(rows);
	for (const [k, m] of rows) assert.ok(!stalled(m), `${k}: a ${gapText(m)} stall on a clean network`);
}, { timeout: 90000 });

check(`${LOSS} % loss both ways on one participant: NACK/RTX repair its video, the others are untouched`, async () => {
	const h0 = (await healthz()).media;
	setLoss(NET.nsB, NET.ifB, LOSS);           // parleyd -> L-0
	setLoss(NET.nsA, NET.ifA, LOSS);           // L-0 -> parleyd
	const t0 = Date.now() + 1000;              // the first second settles the NACK pipelines
	await sleep(LOSS_S * 1000 + 1000);
	const t1 = Date.now();
	const h1 = (await healthz()).media;
	// parleyd's repair of what it lost from L-0: its NACKs up, L-0's RTX in
	fig.loss_server = { nacks_sent: h1.nacks_sent - h0.nacks_sent, rtx_received: h1.rtx_received - h0.rtx_received };
	const c = { down: lossCounters(NET.nsB), up: lossCounters(NET.nsA) };
	clearLoss(NET.nsA);
	clearLoss(NET.nsB);
	const rows = flows().map((f) => [label(f), measure(f, t0, t1)]);
	fig.loss = Object.fromEntries(rows);
	fig.loss_raw_pct = { down: +(100 * c.down.dropped / c.down.seen).toFixed(2), up: +(100 * c.up.dropped / c.up.seen).toFixed(2) };
	console.log(`# ${LOSS} % loss for ${LOSS_S} s: raw drops parleyd->L ${fig.loss_raw_pct.down} % of ${c.down.seen}, L->parleyd ${fig.loss_raw_pct.up} % of ${c.up.seen}; ` +
		`parleyd NACKed ${fig.loss_server.nacks_sent} packets upstream and got ${fig.loss_server.rtx_received} RTX\n${table(rows)}`);
	assert.deepEqual(problems(), []);
	for (const k of ['down', 'up']) {
		assert.ok(fig.loss_raw_pct[k] >= LOSS * 0.6 && fig.loss_raw_pct[k] <= LOSS * 1.4, `raw drop rate ${k} ${fig.loss_raw_pct[k]} %`);
	}
	for (const f of flows()) {
		const m = fig.loss[label(f)];
		assert.ok(m.expected > (f.kind === 'video' ? 100 : 500), `${label(f)}: only ${m.expected} packets in ${LOSS_S} s`);
		if (!f.faulted) {
			assert.equal(m.lost, 0, `${label(f)} (unimpaired) lost packets`);
			assert.ok(!stalled(m), `${label(f)} (unimpaired) stalled ${gapText(m)}`);
		} else if (f.kind === 'video') {
			assert.ok(m.residual_pct < MAX_VIDEO_RESIDUAL, `${label(f)}: residual loss ${m.residual_pct} % after repair`);
			// Lost on parleyd -> L-0: L-0 NACKs parleyd, which answers with
			// RTX.  Lost on L-0 -> parleyd: parleyd NACKs L-0 and forwards
			// the repair to P-0/P-1 as the packet itself, so their own NACKs
			// (sent before it came) rarely find it at parleyd: few or no RTX
			// at P-0/P-1 -- the repair shows in parleyd's counters.
			if (f.rx.name === 'L-0') assert.ok(m.rtx > 0 && m.nacks > 0, `${label(f)}: repair happened (rtx ${m.rtx}, nacks ${m.nacks})`);
			else assert.ok(fig.loss_server.nacks_sent > 0 && fig.loss_server.rtx_received > 0, `${label(f)}: parleyd repaired its upstream (${JSON.stringify(fig.loss_server)})`);
		} else {
			assert.ok(m.residual_pct < MAX_AUDIO_LOSS, `${label(f)}: audio loss ${m.residual_pct} %`);
		}
	}
}, { timeout: (LOSS_S + 30) * 1000 });

check('a 5-second blackout of one participant: the others never stall, it resumes within seconds', async () => {
	await sleep(2000);                         // the end of the loss phase drains
	const tOn = Date.now();
	blackout(NET.nsA, NET.ifA, true);
	blackout(NET.nsB, NET.ifB, true);
	await sleep(BLACKOUT_MS);
	fig.blackout_dropped = { at_parleyd: blackoutDropped(NET.nsA), at_L: blackoutDropped(NET.nsB) };
	blackout(NET.nsA, NET.ifA, false);
	blackout(NET.nsB, NET.ifB, false);
	const tOff = Date.now();
	const during = flows().map((f) => [label(f), measure(f, tOn, tOff)]);
	console.log(`# blackout ${tOff - tOn} ms (dropped ${JSON.stringify(fig.blackout_dropped)}):\n${table(during)}`);
	fig.blackout = Object.fromEntries(during);
	for (const f of flows()) {
		const m = fig.blackout[label(f)];
		if (!f.faulted) {
			assert.ok(!stalled(m), `${label(f)} stalled ${gapText(m)} while the other participant was blacked out`);
			assert.ok(m.fps > (f.kind === 'video' ? 8 : 30), `${label(f)}: ${m.fps} frames/s during the blackout`);
		} else {
			assert.ok(m.max_gap_ms >= BLACKOUT_MS - 1000, `${label(f)}: the blackout was not real (longest gap ${m.max_gap_ms} ms)`);
		}
	}
	// resumption, measured from the end of the blackout
	const ok = await poll(() => flows().filter((f) => f.faulted).every((f) => resumedAt(f.rx.peers, f.rx.name, f.tx.id, f.kind, tOff) !== null), RESUME_MS + 10000, 100);
	fig.resume_ms = Object.fromEntries(flows().filter((f) => f.faulted).map((f) => {
		const at = resumedAt(f.rx.peers, f.rx.name, f.tx.id, f.kind, tOff);
		return [label(f), at === null ? null : Math.max(0, at - tOff)];
	}));
	console.log(`# resumed after the blackout (ms): ${JSON.stringify(fig.resume_ms)}`);
	assert.ok(ok, `not every flow of the blacked-out participant resumed: ${JSON.stringify(fig.resume_ms)}`);
	for (const [k, ms] of Object.entries(fig.resume_ms)) assert.ok(ms <= RESUME_MS, `${k} resumed only after ${ms} ms`);
	// then it all runs normally
	const tR = Date.now();
	await sleep(RECOVER_S * 1000);
	const rows = flows().map((f) => [label(f), measure(f, tR, Date.now())]);
	fig.recovered = Object.fromEntries(rows);
	console.log(`# ${RECOVER_S} s after resuming:\n${table(rows)}`);
	for (const [k, m] of rows) {
		assert.ok(m.fps > (k.endsWith('video') ? 8 : 30), `${k}: ${m.fps} frames/s after the blackout`);
		assert.ok(!stalled(m, NORMAL_GAP_MS * 2), `${k}: still stalling (${gapText(m)}) after the blackout`);
	}
	assert.deepEqual(problems(), [], 'no connection failed or dropped');
	const h = await healthz();
	fig.healthz_after = { connections: h.connections, peers: h.media.peers, nacks_received: h.media.nacks_received, retransmits: h.media.retransmits };
	assert.equal(h.connections, 3, 'parleyd still has the three participants');
	assert.equal(h.media.peers, 6, 'and their six peer connections');
}, { timeout: 60000 });
