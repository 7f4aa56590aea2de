// group_chromium.mjs: three headless Chromium participants in one room of the
// real parleyd (issue 4, "Proof": the browser group call).
//
// One Chromium process, three pages (www/group.html + group.js + the small
// client library parley-client.js). Each page joins the room (a normal room,
// not echo-), publishes its fake camera + microphone on `pub`, answers every
// `sub` offer (the server re-offers with an increasing rev as the others
// join) and trickles its 127.0.0.1 candidates. The pages join one after the
// other, so renegotiation is exercised.
//
// Asserts:
//  1. each page's sub getStats shows, for each of the other two participants
//     (inbound reports mapped to participants through the msid stream id of
//     the sub SDP, cross-checked with the ontrack events), video
//     framesDecoded > 0 and audio packetsReceived > 0;
//  2. the middle participant leaves ({"type":"leave"}, then closes): the
//     other two get participant/left and track/removed (audio and video)
//     within 1 s, then a sub offer with a higher rev in which the leaver's
//     m-lines have port 0 (none of its tracks active), which they answer;
//  3. the two that stay keep receiving each other: framesDecoded and audio
//     packetsReceived still increase over a few seconds after the leave.
//  The middle participant is the one that leaves because its m-lines are
//  the first ones (the BUNDLE tag) in the first participant's sub and the
//  last ones in the third's. Rejecting the BUNDLE-tagged m-section makes
//  Chromium drop the bundle transport and start a new one (mediasoup-client
//  never closes its first m-section for that reason), so for that one
//  m-section `a=inactive` with its port kept is accepted as well as port 0;
//  what counts is that the two who stay keep receiving each other.
// Figures (time to first frame per pair, fps, leave latencies) are printed
// as `# ...` lines and as one JSON summary line (`# figures {...}`).
//
// Needs $PARLEYD, npm playwright-core, /usr/lib/chromium/chromium (or
// $CHROMIUM); exits 77 (meson: skipped) without them. Runs in a network
// namespace of its own with only 127.0.0.1 when root (lib/netns.mjs).
// PARLEY_E2E_VERBOSE=1 streams the pages' logs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium, serveDir } from './lib/chromium.mjs';
import { startParleyd } from './lib/server.mjs';
import { reexecInNetns } from './lib/netns.mjs';
import { serverSdpProblems } from './lib/sdp.mjs';
import { waitFor, sleep, fmtTable } from './lib/util.mjs';

const missing = chromiumMissing() || (process.env.PARLEYD ? null : 'PARLEYD is not set');
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}

const NS = await reexecInNetns();

const WWW = join(dirname(fileURLToPath(import.meta.url)), 'www');
const N = 3;
// index of the participant that leaves: the middle one by default (see the
// top); PARLEY_E2E_GROUP_LEAVER=1..3 picks another
const LEAVER = Number(process.env.PARLEY_E2E_GROUP_LEAVER || 2) - 1;
const MEDIA_TIMEOUT_MS = 90000;         // all pairs flowing (generous: 2 cores, 3 encoders, 6 decoders)
const LEAVE_EVENTS_MS = 1000;           // the requirement: left/removed within 1 s
const LEAVE_OFFER_TIMEOUT_MS = 15000;   // the re-offer without the leaver
const FPS_WINDOW_MS = 4000;             // fps measurement window (before and after the leave)
const VIDEO = { w: 320, h: 240, fps: 15 };
const verbose = !!process.env.PARLEY_E2E_VERBOSE;

let srv, web, br;
const pages = [];                       // { name, page, log: [], snap }
const fig = { chromium: '', pairs: {}, leave: {} };
let failed = false;
let stage1 = false, stage2 = false;

const names = Array.from({ length: N }, (_, i) => `P${i + 1}`);
const snap = (p) => p.page.evaluate(() => window.G.snapshot());
const snapAll = () => Promise.all(pages.map(snap));

function check(name, fn, opts = {}) {
	test(name, opts, async (t) => {
		try {
			await fn(t);
		} catch (e) {
			failed = true;
			throw e;
		}
	});
}

before(async () => {
	try {
		srv = await startParleyd();
		web = await serveDir(WWW);
		const t0 = Date.now();
		br = await launchChromium({ log: (s) => { pages[0]?.log.push(s); if (verbose) console.error(s); } });
		fig.chromium = br.version;
		fig.launch_ms = Date.now() - t0;
		const room = `group-${randomBytes(6).toString('hex')}`;
		console.log(`# chromium ${br.version} (launched in ${fig.launch_ms} ms), parleyd on port ${srv.port}, room ${room}, ` +
			(NS.netns ? `network namespace ${NS.netns}` : `host network namespace (${NS.why})`));
		for (let i = 0; i < N; i++) {
			const page = i === 0 ? br.page : await br.ctx.newPage();
			const p = { name: names[i], page, log: [] };
			if (i > 0) {
				page.on('console', (m) => { p.log.push(`[${m.type()}] ${m.text()}`); if (verbose) console.error(m.text()); });
				page.on('pageerror', (e) => p.log.push(`[page error] ${e.message}`));
			}
			pages.push(p);
			const url = `${web.url}group.html?ws=${encodeURIComponent(srv.wsUrl)}&room=${room}&display=${names[i]}` +
				`&w=${VIDEO.w}&h=${VIDEO.h}&fps=${VIDEO.fps}`;
			await page.goto(url);
			// join one after the other: the earlier ones get re-offers (rev 2, 3...)
			await page.waitForFunction(() => window.G && (window.G.ready || window.G.fatal), null, { timeout: 60000, polling: 100 });
			const s = await snap(p);
			if (s.fatal) throw new Error(`${p.name}: ${s.fatal}`);
			p.id = s.you.id;
			console.log(`# ${p.name} = ${p.id} joined and published`);
			// and the earlier ones answered an offer carrying its tracks before
			// the next arrives (parleyd folds re-offers together while an
			// answer is outstanding: two close arrivals could share one)
			for (const q of pages.slice(0, i)) {
				const offered = (qs) => qs.sub_offers.some((o) => o.t_answered && o.media.some((m) => isActive(m) && m.msid?.stream === p.id));
				const until = Date.now() + 30000;
				let qs;
				while (!offered(qs = await snap(q))) {
					if (qs.fatal) throw new Error(`${q.name}: ${qs.fatal}`);
					if (Date.now() > until) throw new Error(`${q.name} was not offered ${p.name}'s tracks within 30 s`);
					await sleep(100);
				}
			}
		}
	} catch (e) {
		failed = true;
		throw e;
	}
}, { timeout: 120000 });

after(async () => {
	if (failed) {
		for (const p of pages) {
			try {
				const s = await p.page.evaluate(() => ({ log: window.G.log(), sdps: window.G.sdps() }));
				console.error(`----- ${p.name} (${p.id}) page log -----\n${s.log}`);
				console.error(`----- ${p.name} SDPs -----\n${JSON.stringify(s.sdps, null, 1)}`);
				if (p.snap) console.error(`----- ${p.name} last snapshot -----\n${JSON.stringify(p.snap, null, 1)}`);
			} catch (e) {
				console.error(`----- ${p.name}: no page state (${e.message}); console -----\n${p.log.join('\n')}`);
			}
		}
		srv?.dump('test failed');
	}
	await br?.close();
	await web?.close();
	await srv?.stop();
});

const others = (i) => pages.filter((_, j) => j !== i);
const pairKey = (rx, tx) => `${tx.name}->${rx.name}`;

const isActive = (m) => m.port !== 0 && m.dir !== 'inactive';

/** The time rx was first offered tx's track of `kind` (the first rev with an active m-line with tx's msid). */
function offeredAt(s, pid, kind = 'video') {
	const o = s.sub_offers.find((x) => x.media.some((m) => m.kind === kind && isActive(m) && m.msid?.stream === pid));
	return o ? o.t : null;
}

check(`${N} participants: each one's sub decodes the others' video and receives their audio`, async () => {
	let snaps;
	const missingPairs = () => {
		const miss = [];
		pages.forEach((rx, i) => {
			const s = snaps[i];
			if (s.fatal) throw new Error(`${rx.name}: ${s.fatal}`);
			for (const tx of others(i)) {
				const per = s.per[tx.id] || {};
				if (!(per.video?.framesDecoded > 0)) miss.push(`${pairKey(rx, tx)} video (${JSON.stringify(per.video || null)})`);
				if (!(per.audio?.packetsReceived > 0)) miss.push(`${pairKey(rx, tx)} audio (${JSON.stringify(per.audio || null)})`);
			}
		});
		return miss;
	};
	const t0 = Date.now();
	let miss = [];
	while (true) {
		snaps = await snapAll();
		pages.forEach((p, i) => { p.snap = snaps[i]; });
		miss = missingPairs();
		if (!miss.length) break;
		if (Date.now() - t0 > MEDIA_TIMEOUT_MS) break;
		await sleep(250);
	}
	fig.all_flowing_ms_after_last_publish = Date.now() - Math.max(...snaps.map((s) => s.t_published));
	assert.deepEqual(miss, [], `not flowing within ${MEDIA_TIMEOUT_MS} ms`);

	// the mapping: msid stream ids of the active sub m-lines are exactly the others
	pages.forEach((rx, i) => {
		const s = snaps[i];
		assert.deepEqual(s.mapping_problems, [], `${rx.name}: msid vs ontrack streams`);
		const active = s.sub_media.filter(isActive);
		const streams = [...new Set(active.map((m) => m.msid?.stream))].sort();
		assert.deepEqual(streams, others(i).map((p) => p.id).sort(), `${rx.name}: msid stream ids of active sub m-lines`);
		for (const tx of others(i)) {
			const kinds = active.filter((m) => m.msid?.stream === tx.id).map((m) => `${m.kind}/${m.dir}`).sort();
			assert.deepEqual(kinds, ['audio/sendonly', 'video/sendonly'], `${rx.name}: m-lines for ${tx.name}`);
			// the server's `track` events (or the joined reply) name the same track ids as the msid
			const announced = new Set(s.events.filter((e) => e.type === 'track' && e.event === 'added' && e.participant === tx.id).map((e) => e.track.id));
			for (const m of active.filter((x) => x.msid?.stream === tx.id)) {
				assert.ok(announced.has(m.msid.track) || s.joined_participants.includes(tx.id),
					`${rx.name}: msid track ${m.msid.track} of ${tx.name} was announced by a track event (got ${[...announced]})`);
			}
			assert.match(s.per[tx.id].video.codec || '', /^video\/VP8$/i);
			assert.match(s.per[tx.id].audio.codec || '', /^audio\/opus$/i);
		}
		const revs = s.sub_offers.map((o) => o.rev);
		assert.ok(revs.every((r, k) => Number.isInteger(r) && (k === 0 || r > revs[k - 1])), `${rx.name}: sub revs increase: ${revs}`);
		assert.ok(s.sub_offers.every((o) => o.t_answered), `${rx.name}: every sub offer answered`);
		assert.deepEqual(s.errors, [], `${rx.name}: server errors`);
		for (const k of ['pub_transport', 'sub_transport']) {
			const pairRe = NS.netns ? /^127\.0\.0\.1:\d+\/udp <-> 127\.0\.0\.1:\d+\/udp$/ : /<-> 127\.0\.0\.1:\d+\/udp$/;
			assert.match(s[k]?.pair || '', pairRe, `${rx.name} ${k} selected pair`);
		}
	});
	// the first participant had to renegotiate as the others came
	assert.ok(snaps[0].sub_offers.length >= 2, `${pages[0].name} got ${snaps[0].sub_offers.length} sub offers (want >= 2: one per arrival)`);

	// figures: time to first frame per pair, from when both the sender's pub
	// connection was up and the receiver had been offered the track (the
	// later of the two; stats are polled every 100 ms), then fps over a window
	pages.forEach((rx, i) => {
		const s = snaps[i];
		for (const tx of others(i)) {
			const st = snaps[pages.indexOf(tx)];
			const per = s.per[tx.id];
			const offered = offeredAt(s, tx.id), offeredA = offeredAt(s, tx.id, 'audio');
			fig.pairs[pairKey(rx, tx)] = {
				ttff_ms: per.video.t_first - Math.max(offered, st.t_pub_connected),
				first_audio_ms: per.audio.t_first - Math.max(offeredA, st.t_pub_connected),
				ms_after_offer: per.video.t_first - offered,
				ms_after_sender_pub_up: per.video.t_first - st.t_pub_connected,
			};
		}
	});
	const a = await snapAll();
	await sleep(FPS_WINDOW_MS);
	const b = await snapAll();
	pages.forEach((rx, i) => {
		for (const tx of others(i)) {
			const va = a[i].per[tx.id].video, vb = b[i].per[tx.id].video;
			const aa = a[i].per[tx.id].audio, ab = b[i].per[tx.id].audio;
			const dt = (vb.t - va.t) / 1000;
			Object.assign(fig.pairs[pairKey(rx, tx)], {
				fps: +((vb.framesDecoded - va.framesDecoded) / dt).toFixed(1),
				audio_pps: +((ab.packetsReceived - aa.packetsReceived) / ((ab.t - aa.t) / 1000)).toFixed(1),
				kbps: Math.round((vb.bytesReceived - va.bytesReceived) * 8 / dt / 1000),
				size: `${vb.frameWidth}x${vb.frameHeight}`,
				lost: vb.packetsLost,
				sender_encode_fps: b[pages.indexOf(tx)].pub_video?.framesPerSecond,
				sender_limited_by: b[pages.indexOf(tx)].pub_video?.qualityLimitationReason,
			});
		}
	});
	console.log(fmtTable([['pair (sender->receiver)', 'first frame ms', 'first audio ms', 'frame after offer ms', 'frame after sender pub up ms', 'fps', 'audio pkt/s', 'video kbps', 'size'],
		...Object.entries(fig.pairs).map(([k, v]) =>
			[k, v.ttff_ms, v.first_audio_ms, v.ms_after_offer, v.ms_after_sender_pub_up, v.fps, v.audio_pps, v.kbps, v.size])]));
	for (const [k, v] of Object.entries(fig.pairs)) assert.ok(v.fps > 0, `${k}: video fps ${v.fps}`);
	stage1 = true;
});

check(`one leaves: the other two get participant left + track removed within ${LEAVE_EVENTS_MS} ms and a re-offer with its m-lines at port 0`, async (t) => {
	if (!stage1) return t.skip('the call did not come up');
	const lv = pages[LEAVER];
	const stay = pages.filter((p) => p !== lv);
	const before = await Promise.all(stay.map(snap));
	const lastRev = before.map((s) => Math.max(...s.sub_offers.map((o) => o.rev)));
	const leaverMids = before.map((s) => s.sub_media.filter((m) => isActive(m) && m.msid?.stream === lv.id).map((m) => m.mid));
	const leaverTracks = before.map((s) => s.sub_media.filter((m) => isActive(m) && m.msid?.stream === lv.id).map((m) => m.msid.track).sort());
	const bundleTag = before.map((s) => s.sub_media.find(isActive)?.mid);
	stay.forEach((p, k) => assert.equal(leaverMids[k].length, 2, `${p.name}: ${lv.name}'s two m-lines before the leave`));
	const tLeave = await lv.page.evaluate(() => window.G.leave());
	console.log(`# ${lv.name} (${lv.id}) left`);

	const done = (s, k) => {
		const leftEv = s.events.find((e) => e.type === 'participant' && e.event === 'left' && e.participant?.id === lv.id);
		const removed = s.events.filter((e) => e.type === 'track' && e.event === 'removed' && e.participant === lv.id);
		const offer = s.sub_offers.find((o) => o.rev > lastRev[k]);
		return { leftEv, removed, offer, ok: leftEv && removed.length >= 2 && offer && offer.t_answered };
	};
	let snaps, st;
	await waitFor(async () => {
		snaps = await Promise.all(stay.map(snap));
		st = snaps.map(done);
		return st.every((x) => x.ok);
	}, LEAVE_OFFER_TIMEOUT_MS).catch(() => {});
	stay.forEach((p, k) => { p.snap = snaps[k]; });

	stay.forEach((p, k) => {
		const x = st[k], s = snaps[k];
		const lat = fig.leave[p.name] = {
			participant_left_ms: x.leftEv ? x.leftEv.t - tLeave : null,
			track_removed_ms: x.removed.map((e) => `${e.track.kind}:${e.t - tLeave}`),
			sub_offer_ms: x.offer ? x.offer.t - tLeave : null,
			sub_offer_rev: x.offer ? `${lastRev[k]}->${x.offer.rev}` : null,
			answered_ms: x.offer?.t_answered ? x.offer.t_answered - tLeave : null,
		};
		console.log(`# ${p.name} after ${lv.name} left: ${JSON.stringify(lat)}`);
		assert.ok(x.leftEv, `${p.name}: participant/left for ${lv.id} (events: ${JSON.stringify(s.events.slice(-6))})`);
		assert.ok(lat.participant_left_ms <= LEAVE_EVENTS_MS, `${p.name}: participant/left after ${lat.participant_left_ms} ms`);
		assert.deepEqual(x.removed.map((e) => e.track.id).sort(), leaverTracks[k],
			`${p.name}: track/removed for ${lv.name}'s two tracks (msid track ids)`);
		for (const e of x.removed) assert.ok(e.t - tLeave <= LEAVE_EVENTS_MS, `${p.name}: track/removed ${e.track.kind} after ${e.t - tLeave} ms`);
		assert.ok(x.offer, `${p.name}: a sub offer with rev > ${lastRev[k]} within ${LEAVE_OFFER_TIMEOUT_MS} ms of the leave`);
		const media = x.offer.media;
		for (const mid of leaverMids[k]) {
			const m = media.find((y) => y.mid === mid);
			assert.ok(m, `${p.name}: rev ${x.offer.rev} still has mid ${mid} (m-lines are not removed, only made inactive)`);
			const ok = m.port === 0 || (mid === bundleTag[k] && m.dir === 'inactive');
			assert.ok(ok, `${p.name}: rev ${x.offer.rev} mid ${mid} (${lv.name}'s ${m.kind}${mid === bundleTag[k] ? ', the BUNDLE tag' : ''}) ` +
				`has port ${m.port} (${m.dir}), want 0${mid === bundleTag[k] ? ' or a=inactive' : ''}`);
			lat[`mid_${mid}`] = `${m.port === 0 ? 'port 0' : 'port ' + m.port}, ${m.dir}${mid === bundleTag[k] ? ' (was the BUNDLE tag)' : ''}`;
		}
		assert.ok(!media.some((m) => isActive(m) && m.msid?.stream === lv.id), `${p.name}: rev ${x.offer.rev} has an active m-line of ${lv.name}`);
		const rest = stay.filter((o) => o !== p)[0];
		assert.deepEqual(media.filter(isActive).map((m) => m.msid?.stream), [rest.id, rest.id],
			`${p.name}: rev ${x.offer.rev} keeps ${rest.name}'s two m-lines active`);
		assert.ok(x.offer.t_answered, `${p.name}: answered rev ${x.offer.rev}`);
		assert.deepEqual(s.errors, [], `${p.name}: server errors`);
		assert.equal(s.fatal, null, `${p.name}: page failure`);
	});
	stage2 = true;
});

check('the two that stay keep receiving each other after the leave', async (t) => {
	if (!stage2) return t.skip('the leave did not complete');
	const lv = pages[LEAVER];
	const stay = pages.filter((p) => p !== lv);
	await sleep(500);                          // let the renegotiation settle
	const a = await Promise.all(stay.map(snap));
	await sleep(FPS_WINDOW_MS);
	const b = await Promise.all(stay.map(snap));
	stay.forEach((p, k) => { p.snap = b[k]; });
	const problems = [];
	stay.forEach((rx, k) => {
		const tx = stay[1 - k];
		const va = a[k].per[tx.id]?.video, vb = b[k].per[tx.id]?.video;
		const aa = a[k].per[tx.id]?.audio, ab = b[k].per[tx.id]?.audio;
		if (!(va && vb && aa && ab)) { problems.push(`${rx.name}: no stats for ${tx.name}`); return; }
		const dt = (vb.t - va.t) / 1000;
		const fps = +((vb.framesDecoded - va.framesDecoded) / dt).toFixed(1);
		const pps = +((ab.packetsReceived - aa.packetsReceived) / ((ab.t - aa.t) / 1000)).toFixed(1);
		fig.pairs[pairKey(rx, tx)].fps_after_leave = fps;
		fig.pairs[pairKey(rx, tx)].audio_pps_after_leave = pps;
		const sv = b[1 - k].pub_video || {};
		console.log(`# after the leave ${pairKey(rx, tx)}: ${fps} fps, ${pps} audio pkt/s ` +
			`(framesDecoded ${va.framesDecoded} -> ${vb.framesDecoded} over ${dt} s, ${vb.frameWidth}x${vb.frameHeight}; ${rx.name} sub ${b[k].sub_state}, pub ${b[k].pub_state}; ` +
			`${tx.name} encodes ${sv.framesPerSecond} fps ${sv.frameWidth}x${sv.frameHeight}, limited by ${sv.qualityLimitationReason}, ${sv.keyFramesEncoded} keyframes, ${sv.pliCount} PLIs)`);
		if (!(vb.framesDecoded > va.framesDecoded)) problems.push(`${pairKey(rx, tx)}: framesDecoded ${va.framesDecoded} -> ${vb.framesDecoded} over ${dt} s`);
		if (!(ab.packetsReceived > aa.packetsReceived)) problems.push(`${pairKey(rx, tx)}: audio packetsReceived ${aa.packetsReceived} -> ${ab.packetsReceived}`);
		if (b[k].sub_state !== 'connected') problems.push(`${rx.name}: sub connection ${b[k].sub_state}`);
		if (b[k].pub_state !== 'connected') problems.push(`${rx.name}: pub connection ${b[k].pub_state}`);
		if (b[k].sub_signaling !== 'stable') problems.push(`${rx.name}: sub signaling state ${b[k].sub_signaling}`);
	});
	assert.deepEqual(problems, []);
});

check('server SDP (pub answers, every sub offer) has what PROTOCOL.md promises', async (t) => {
	if (!stage1) return t.skip('the call did not come up');
	for (const p of pages) {
		const s = await p.page.evaluate(() => window.G.sdps());
		assert.deepEqual(serverSdpProblems(s.pub_answer), [], `${p.name} pub answer`);
		for (const o of s.sub) assert.deepEqual(serverSdpProblems(o.offer), [], `${p.name} sub offer rev ${o.rev}`);
	}
});

check('parleyd survived and exits cleanly on SIGTERM', async () => {
	console.log(`# figures ${JSON.stringify(fig)}`);
	assert.ok(srv && srv.alive, `parleyd died: ${JSON.stringify(srv?.exit)}`);
	for (const p of pages) await p.page.evaluate(() => window.G.leave()).catch(() => {});
	const exit = await srv.stop();
	assert.deepEqual(exit, { code: 0, signal: null });
});
