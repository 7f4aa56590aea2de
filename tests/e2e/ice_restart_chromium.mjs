// ice_restart_chromium.mjs: an ICE restart in the middle of a Chromium call
// against the real parleyd (docs/protocol.md, media: a second `pub` offer
// with new ICE credentials is an ICE restart; the server restarts ICE on
// `pub` and re-offers `sub` with new credentials in a new rev).
//
// One page (www/ice_restart.html + ice_restart.js, on parley-client.js) joins
// `echo-<random>`, publishes the fake camera + microphone and answers the
// server's `sub` offers; the echo room sends its own media back on `sub`.
// Once sub decodes video, the page calls pub.restartIce() (or
// createOffer({iceRestart: true}), see PARLEY_E2E_RESTART_METHODS), sends the
// new offer, applies the server's answer and answers the server's next sub
// offer. Asserts:
//  1. the server answers the restart offer, with an a=ice-ufrag different
//     from its first answer's; the first sub offer after it has a higher rev
//     and an a=ice-ufrag different from the previous sub offer's; both SDPs
//     have what PROTOCOL.md promises; no server errors;
//  2. media keeps flowing: after both connections selected a pair of the new
//     ICE generation (local candidate ufrag = the new local ufrag), sub's
//     video framesDecoded and audio packetsReceived increase in every 1 s
//     window for at least TAIL_MS, and up to >= 3 s after the restart (a
//     window holding no 2 samples >= 500 ms apart is "sampler late" and not
//     judged; more than one such window fails); the longest gap in decoded
//     frames across the restart is bounded (MAX_GAP_MS, the hard limit);
//  3. the selected pairs are still 127.0.0.1 <-> 127.0.0.1 and both
//     iceConnectionStates end connected/completed;
//  4. /healthz: status ok, 1 connection, 1 room, 2 media peers before and
//     after (a restart makes no new peer); rtp in/forwarded and rtcp grew
//     across the restart; no SRTP/DTLS/fingerprint/SDP/protocol errors;
//     counters never decrease; back to 0 connections and 0 peers after the
//     page hangs up; parleyd logs the restart of pub and sub;
//  5. parleyd exits 0 on SIGTERM.
// Timings (restart -> new pub answer, -> new sub offer, -> sub answered, ->
// new-generation pairs selected, -> media flowing again, the longest frame
// gap) are printed as a table and as `# figures {...}`.
//
// Env: PARLEYD (required), NODE_PATH, CHROMIUM, PARLEY_E2E_VERBOSE=1,
// PARLEY_E2E_NETNS (lib/netns.mjs), PARLEY_E2E_RESTART_METHODS: comma list of
// restarts done one after the other, each `restartIce` (pc.restartIce(); the
// default) or `iceRestart` (createOffer({iceRestart: true})).
// Exits 77 (meson: skipped) when Chromium or playwright-core is missing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
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
const METHODS = (process.env.PARLEY_E2E_RESTART_METHODS || 'restartIce').split(',').map((s) => s.trim()).filter(Boolean);
for (const m of METHODS) if (!['restartIce', 'iceRestart'].includes(m)) throw new Error(`PARLEY_E2E_RESTART_METHODS: unknown method ${m}`);
const SETUP_TIMEOUT_MS = 60000;       // join + publish + first echo (slow-machine margins; meson: 180 s)
const STEP_TIMEOUT_MS = 20000;        // each of: the restart answer, the new sub offer answered
const AGAIN_TIMEOUT_MS = 30000;       // restart -> media on the new ICE generation
const BASELINE_MS = 1500;             // samples before the restart (fps before)
const TAIL_MS = 4000;                 // media must keep flowing this long after it flows again (>= 3 s)
const MIN_AFTER_RESTART_MS = 3000;    // ... and at least this long after the restart itself
const BUCKET_MS = 1000;               // "keeps increasing": in every window of this length
const MAX_GAP_MS = 5000;              // longest pause in decoded frames across the restart
const BUCKET_MIN_SPAN_MS = 500;       // a bucket is judged on samples at least this far apart ...
const MAX_LATE_BUCKETS = 1;           // ... others are "sampler late"; more than this many fail
const verbose = !!process.env.PARLEY_E2E_VERBOSE;
const pairRe = NS.netns ? /^127\.0\.0\.1:\d+\/udp <-> 127\.0\.0\.1:\d+\/udp$/ : /<-> 127\.0\.0\.1:\d+\/udp$/;

let srv, web, br;
let failed = false;
const pageLog = [];
const log = (s) => { pageLog.push(s); if (verbose) console.error(s); };
const S = { info0: null, rounds: [], samples: [], h: {}, info1: null, setupError: null };
const fig = { chromium: '', methods: METHODS, rounds: [] };

const T = (fn, arg) => br.page.evaluate(fn, arg);

function healthz() {
	return new Promise((resolve, reject) => {
		const req = httpGet({ host: '127.0.0.1', port: srv.port, path: '/healthz', timeout: 5000 }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => {
				try {
					resolve({ http: res.statusCode, t: Date.now(), ...JSON.parse(body) });
				} catch (e) {
					reject(new Error(`/healthz: ${res.statusCode} ${body.slice(0, 200)}: ${e.message}`));
				}
			});
		});
		req.on('timeout', () => req.destroy(new Error('/healthz timed out')));
		req.on('error', reject);
	});
}

// in before(): a /healthz failure is judged by the /healthz check, not fatal to the call
const healthzOrError = () => healthz().catch((e) => ({ error: e.message }));

const samplesSince = async (n) => T((k) => window.T.samples.slice(k), n);
async function pullSamples() {
	S.samples.push(...await samplesSince(S.samples.length));
	return S.samples;
}

const fd = (s) => s?.sub?.v?.fd ?? 0;
const apr = (s) => s?.sub?.a?.pr ?? 0;

/**
 * The moments of one restart from the samples: when both connections first
 * had a selected pair of the new generation (local candidate ufrag = the new
 * local ufrag), when sub's video and audio had grown after that, the longest
 * gap between growing samples since the restart.
 */
function analyse(r, samples, tEnd = Infinity) {
	const a = { t_new_gen: null, t_media_again: null };
	const win = samples.filter((s) => s.t >= r.t0 && s.t <= tEnd);
	const onNew = (s) => s.pub?.lu === r.pub_offer_ufrag && s.sub?.lu === r.sub_answer_ufrag;
	const ng = win.find(onNew);
	if (ng) {
		a.t_new_gen = ng.t;
		const ma = win.find((s) => s.t > ng.t && fd(s) > fd(ng) && apr(s) > apr(ng));
		if (ma) a.t_media_again = ma.t;
	}
	const pre = samples.filter((s) => s.t < r.t0);
	const last = pre[pre.length - 1];
	const gap = (val) => {
		let tLast = r.t0, vLast = val(last), max = 0;
		for (const s of win) {
			if (val(s) > vLast) { max = Math.max(max, s.t - tLast); tLast = s.t; vLast = val(s); }
		}
		if (win.length) max = Math.max(max, win[win.length - 1].t - tLast);
		return max;
	};
	a.max_frame_gap_ms = last ? gap(fd) : null;
	a.max_audio_gap_ms = last ? gap(apr) : null;
	// rates before and after
	const base = pre.filter((s) => s.t >= r.t0 - BASELINE_MS);
	if (base.length > 1) {
		const b0 = base[0], b1 = base[base.length - 1];
		a.fps_before = +((fd(b1) - fd(b0)) * 1000 / (b1.t - b0.t)).toFixed(1);
		a.audio_pps_before = +((apr(b1) - apr(b0)) * 1000 / (b1.t - b0.t)).toFixed(1);
	}
	if (a.t_media_again !== null) {
		const tail = win.filter((s) => s.t >= a.t_media_again);
		if (tail.length > 1) {
			const b0 = tail[0], b1 = tail[tail.length - 1];
			a.fps_after = +((fd(b1) - fd(b0)) * 1000 / (b1.t - b0.t)).toFixed(1);
			a.audio_pps_after = +((apr(b1) - apr(b0)) * 1000 / (b1.t - b0.t)).toFixed(1);
			a.tail_ms = b1.t - b0.t;
		}
	}
	// ICE states seen by the sampler after the restart
	for (const pc of ['pub', 'sub']) {
		const seq = [];
		for (const s of win) if (s[pc] && seq[seq.length - 1] !== s[pc].ice) seq.push(s[pc].ice);
		a[`${pc}_ice_seq`] = seq.join('>');
	}
	return a;
}

/**
 * Windows of BUCKET_MS from `from` to the last sample (<= tEnd) in which
 * sub's video or audio did not grow.  The samples come from the page's own
 * loop (www/ice_restart.js, every SAMPLE_MS), so a renderer or sampler stall
 * of about a bucket leaves it with one sample, or samples too close together
 * to judge: such a bucket says nothing about media and is "sampler late", not
 * a stall.  A bucket is judged only on >= 2 samples >= BUCKET_MIN_SPAN_MS
 * apart; more than MAX_LATE_BUCKETS late buckets fail too (the page was too
 * starved to watch), and the caller keeps MAX_GAP_MS on decoded frames as the
 * hard limit whatever the sampler did.  Returns { bad, late }.
 */
function stalls(samples, from, tEnd) {
	const win = samples.filter((s) => s.t >= from && s.t <= tEnd);
	const bad = [], late = [];
	if (!win.length) return { bad: ['no samples'], late };
	for (let t = from; t + BUCKET_MS <= win[win.length - 1].t; t += BUCKET_MS) {
		const inB = win.filter((s) => s.t >= t && s.t <= t + BUCKET_MS);
		const s0 = inB[0], s1 = inB[inB.length - 1];
		const where = `${t - from}..${t - from + BUCKET_MS} ms`;
		if (inB.length < 2 || s1.t - s0.t < BUCKET_MIN_SPAN_MS) {
			late.push(`${where}: ${inB.length} sample(s) spanning ${inB.length ? s1.t - s0.t : 0} ms`);
			continue;
		}
		if (!(fd(s1) > fd(s0))) bad.push(`video ${where}: framesDecoded ${fd(s0)} -> ${fd(s1)} over ${s1.t - s0.t} ms`);
		if (!(apr(s1) > apr(s0))) bad.push(`audio ${where}: packetsReceived ${apr(s0)} -> ${apr(s1)} over ${s1.t - s0.t} ms`);
	}
	if (late.length > MAX_LATE_BUCKETS) bad.push(`sampler late in ${late.length} buckets (> ${MAX_LATE_BUCKETS}): ${late.join('; ')}`);
	return { bad, late };
}

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

before(async () => {
	try {
		srv = await startParleyd();
		web = await serveDir(WWW);
		const tl = Date.now();
		br = await launchChromium({ log });
		fig.chromium = br.version;
		fig.launch_ms = Date.now() - tl;
		const room = `echo-${randomBytes(6).toString('hex')}`;
		console.log(`# chromium ${br.version} (launched in ${fig.launch_ms} ms), parleyd on port ${srv.port}, room ${room}, ` +
			(NS.netns ? `network namespace ${NS.netns}` : `host network namespace (${NS.why})`) + `; restarts: ${METHODS.join(', ')}`);
		await br.page.goto(`${web.url}ice_restart.html?ws=${encodeURIComponent(srv.wsUrl)}&room=${room}` +
			`&setup_timeout=${SETUP_TIMEOUT_MS}&step_timeout=${STEP_TIMEOUT_MS}`);
		await br.page.waitForFunction(() => window.T && (window.T.ready || window.T.fatal), null,
			{ timeout: SETUP_TIMEOUT_MS + 10000, polling: 100 });
		S.info0 = await T(() => window.T.info());
		if (S.info0.fatal) throw new Error(`page: ${S.info0.fatal}`);
		fig.first_echo_ms_after_publish = (await T(() => window.T.t_ready)) - S.info0.t_published;
		console.log(`# ${S.info0.you.id}: echo flowing ${fig.first_echo_ms_after_publish} ms after publishing; ` +
			`sub revs ${S.info0.sub_offers.map((o) => o.rev)}`);

		for (const method of METHODS) {
			// a quiet start: every sub offer answered, a baseline of samples
			await waitFor(() => T(() => window.T.client.subOffers.every((o) => o.t_answered)), STEP_TIMEOUT_MS,
				{ what: 'every sub offer answered before the restart' });
			const tb = Date.now();
			await waitFor(async () => (await pullSamples()).at(-1).t >= tb + BASELINE_MS, BASELINE_MS + 10000,
				{ what: 'baseline samples' });
			const round = { method, h0: await healthzOrError() };
			S.rounds.push(round);
			round.r = await T((m) => window.T.restart(m), method);
			console.log(`# restart (${method}): pub answer ufrag ${round.r.pub_answer_ufrag_before} -> ${round.r.pub_answer_ufrag}, ` +
				`sub rev ${round.r.sub_rev_before} -> ${round.r.sub_rev ?? '?'} ufrag ${round.r.sub_offer_ufrag_before} -> ${round.r.sub_offer_ufrag ?? '?'}` +
				(round.r.sub_error ? ` (${round.r.sub_error})` : ''));
			// media on the new generation, then TAIL_MS more
			let a = null;
			try {
				await waitFor(async () => {
					await pullSamples();
					a = analyse(round.r, S.samples);
					return a.t_media_again !== null;
				}, AGAIN_TIMEOUT_MS, { what: 'media on the new ICE generation' });
				const until = Math.max(a.t_media_again + TAIL_MS, round.r.t0 + MIN_AFTER_RESTART_MS);
				await waitFor(async () => (await pullSamples()).at(-1).t >= until, TAIL_MS + 10000, { what: 'the tail of samples' });
			} catch (e) {
				round.error = e.message;
			}
			round.t_end = S.samples.at(-1).t;
			round.a = analyse(round.r, S.samples, round.t_end);
			round.h1 = await healthzOrError();
			if (round.error) break;
		}
		S.info1 = await T(() => window.T.info());
		S.final = S.samples.at(-1);
	} catch (e) {
		S.setupError = e;
		failed = true;
		throw e;
	}
}, { timeout: 170000 });

after(async () => {
	console.log(`# figures ${JSON.stringify(fig)}`);
	if (failed) {
		try {
			const x = await T(() => ({ log: window.T.log(), sdps: window.T.sdps(), info: window.T.info() }));
			console.error(`----- page log -----\n${x.log}`);
			console.error(`----- page info -----\n${JSON.stringify(x.info, null, 1)}`);
			console.error(`----- SDPs -----\n${JSON.stringify(x.sdps, null, 1)}`);
		} catch (e) {
			console.error(`----- no page state (${e.message}) -----`);
		}
		console.error(`----- console -----\n${pageLog.join('\n')}`);
		const r0 = S.rounds[0]?.r?.t0 ?? 0;
		console.error(`----- samples (t relative to the first restart) -----\n` + S.samples.map((s) =>
			`${s.t - r0} pub ${s.pub?.ice}/${s.pub?.lu}->${s.pub?.ru} ${s.pub?.pair} sent v${s.pub?.v?.ps} a${s.pub?.a?.ps} | ` +
			`sub ${s.sub?.ice}/${s.sub?.lu}->${s.sub?.ru} ${s.sub?.pair} fd ${fd(s)} apr ${apr(s)}`).join('\n'));
		for (const r of S.rounds) console.error(`----- round ${r.method} -----\n${JSON.stringify({ ...r, h0: undefined, h1: undefined }, null, 1)}`);
		srv?.dump('test failed');
	}
	if (br) {
		await T(() => window.T && window.T.hangUp()).catch(() => {});
		await br.close();
	}
	await web?.close();
	await srv?.stop();
});

const mustHaveRun = (t) => {
	if (S.setupError || !S.rounds.length) { t.skip(`no restart happened (${S.setupError?.message})`); return false; }
	return true;
};

check('the restart offer is answered with new ICE credentials, and sub is re-offered with new ones in a higher rev', async (t) => {
	if (!mustHaveRun(t)) return;
	assert.equal(S.info0.ws_protocol, 'parley.v1');
	for (const { method, r } of S.rounds) {
		const tag = `restart ${method}`;
		assert.ok(!r.error, `${tag}: ${r.error}`);
		assert.notEqual(r.pub_offer_ufrag, r.pub_offer_ufrag_before, `${tag}: our offer has a new ufrag (Chromium restarted)`);
		assert.deepEqual(r.pub_answer_reply, { type: 'answer', pc: 'pub', id: r.pub_answer_reply.id }, `${tag}: reply to the offer`);
		assert.ok(r.pub_answer_ufrag, `${tag}: the answer has an a=ice-ufrag`);
		assert.notEqual(r.pub_answer_ufrag, r.pub_answer_ufrag_before,
			`${tag}: the server's answer to the restart offer has a new a=ice-ufrag (was ${r.pub_answer_ufrag_before})`);
		assert.notEqual(r.pub_answer_ufrag, r.pub_answer_ufrag_first, `${tag}: the answer's a=ice-ufrag differs from the first answer's`);
		assert.ok(r.t_answer_applied, `${tag}: the answer applied`);
		assert.ok(!r.sub_error, `${tag}: ${r.sub_error}; sub offers after the restart: ${JSON.stringify(r.new_sub_offers)}`);
		assert.ok(r.sub_rev > r.sub_rev_before, `${tag}: sub rev ${r.sub_rev_before} -> ${r.sub_rev}`);
		assert.notEqual(r.sub_offer_ufrag, r.sub_offer_ufrag_before, `${tag}: the new sub offer's a=ice-ufrag differs from the previous one's`);
		assert.equal(r.new_sub_offers[0].rev, r.sub_rev,
			`${tag}: the first sub offer after the restart carries the new credentials (${JSON.stringify(r.new_sub_offers)})`);
		assert.notEqual(r.sub_answer_ufrag, r.sub_answer_ufrag_before, `${tag}: Chromium answered the sub restart with a new ufrag`);
	}
	const revs = S.info1.sub_offers.map((o) => o.rev);
	assert.ok(revs.every((x, i) => Number.isInteger(x) && (i === 0 || x > revs[i - 1])), `sub revs increase: ${revs}`);
	assert.ok(S.info1.sub_offers.every((o) => o.t_answered), 'every sub offer answered');
	assert.deepEqual(S.info1.errors, [], 'server errors');
	assert.equal(S.info1.fatal, null, 'page failure');

	const sd = await T(() => window.T.sdps());
	for (const x of sd.restarts) assert.deepEqual(serverSdpProblems(x.pub_answer || ''), [], `the pub answer to the ${x.method} offer`);
	const ufrags = S.rounds.map(({ r }) => r.pub_answer_ufrag);
	assert.equal(new Set([S.info0.pub_answer_ufrag, ...ufrags]).size, ufrags.length + 1, `every pub answer has its own ufrag: ${ufrags}`);
	const lastSub = sd.sub[sd.sub.length - 1];
	assert.deepEqual(serverSdpProblems(lastSub.offer || ''), [], `sub offer rev ${lastSub.rev}`);
	const fp = (s) => (/^a=fingerprint:(.+)$/m.exec(s || '') || [])[1];
	fig.dtls_fingerprint_kept = { pub: sd.restarts.every((x) => fp(x.pub_answer) === fp(sd.pub_answer)), sub: sd.sub.every((x) => fp(x.offer) === fp(sd.sub[0].offer)) };
});

check(`media keeps flowing: sub decodes video and receives audio in every ${BUCKET_MS} ms for >= ${TAIL_MS} ms on the new ICE generation`, async (t) => {
	if (!mustHaveRun(t)) return;
	const rows = [['restart', 'pub answer ms', 'sub offer ms', 'sub answered ms', 'new pairs ms', 'media again ms', 'max frame gap ms', 'max audio gap ms', 'fps before', 'fps after', 'audio pkt/s after']];
	for (const round of S.rounds) {
		const { method, r, a } = round;
		const tag = `restart ${method}`;
		const rel = (x) => (x === null || x === undefined ? null : x - r.t0);
		const f = {
			method,
			pub_answer_ms: rel(r.t_answer), pub_answer_applied_ms: rel(r.t_answer_applied),
			sub_offer_ms: rel(r.t_sub_offer), sub_answered_ms: rel(r.t_sub_answered),
			new_gen_pairs_ms: rel(a.t_new_gen), media_again_ms: rel(a.t_media_again),
			max_frame_gap_ms: a.max_frame_gap_ms, max_audio_gap_ms: a.max_audio_gap_ms,
			fps_before: a.fps_before, fps_after: a.fps_after, audio_pps_before: a.audio_pps_before, audio_pps_after: a.audio_pps_after,
			tail_ms: a.tail_ms, pub_ice: a.pub_ice_seq, sub_ice: a.sub_ice_seq,
		};
		if (a.t_media_again !== null) {
			round.st = stalls(S.samples, a.t_media_again, round.t_end);
			f.sampler_late_buckets = round.st.late;
			for (const l of round.st.late) console.log(`# ${tag}: sampler late (not judged as a media stall): ${l}`);
		}
		fig.rounds.push(f);
		rows.push([method, f.pub_answer_ms, f.sub_offer_ms, f.sub_answered_ms, f.new_gen_pairs_ms, f.media_again_ms,
			f.max_frame_gap_ms, f.max_audio_gap_ms, f.fps_before, f.fps_after, f.audio_pps_after]);
	}
	console.log(fmtTable(rows));
	for (const round of S.rounds) {
		const { method, r, a } = round;
		const tag = `restart ${method}`;
		assert.ok(!round.error, `${tag}: ${round.error} (analysis ${JSON.stringify(a)})`);
		assert.ok(a.t_new_gen !== null, `${tag}: both connections selected a pair of the new ICE generation`);
		assert.ok(a.t_media_again !== null, `${tag}: video and audio grew on the new generation`);
		assert.ok(round.t_end - a.t_media_again >= TAIL_MS - 200, `${tag}: watched ${round.t_end - a.t_media_again} ms after media flowed again`);
		assert.ok(round.t_end - r.t0 >= MIN_AFTER_RESTART_MS, `${tag}: watched ${round.t_end - r.t0} ms after the restart`);
		assert.deepEqual(round.st.bad, [], `${tag}: windows without media after it flowed again`);
		assert.ok(a.max_frame_gap_ms <= MAX_GAP_MS, `${tag}: longest gap between decoded frames since the restart ${a.max_frame_gap_ms} ms`);
	}
	const v = S.final.sub.v, au = S.final.sub.a;
	assert.match(v.codec || '', /^video\/VP8$/i);
	assert.match(au.codec || '', /^audio\/opus$/i);
});

check('afterwards: selected pairs on 127.0.0.1 of the new generation, iceConnectionState connected/completed, DTLS kept', async (t) => {
	if (!mustHaveRun(t)) return;
	const s = S.final;
	const { r } = S.rounds[S.rounds.length - 1];
	for (const pc of ['pub', 'sub']) {
		assert.match(s[pc].pair || '', pairRe, `${pc} selected pair ${s[pc].pair}`);
		assert.ok(['connected', 'completed'].includes(s[pc].ice), `${pc} iceConnectionState ${s[pc].ice}`);
		assert.equal(s[pc].conn, 'connected', `${pc} connectionState`);
		assert.equal(s[pc].dtls, 'connected', `${pc} dtlsState`);
		assert.match(s[pc].cipher || '', /GCM/, `${pc} srtpCipher`);
	}
	assert.equal(s.pub.lu, r.pub_offer_ufrag, 'pub: the selected pair\'s local candidate is of the new generation');
	assert.equal(s.sub.lu, r.sub_answer_ufrag, 'sub: the selected pair\'s local candidate is of the new generation');
	// remote candidate ufrags, when Chromium reports them
	if (s.pub.ru) assert.equal(s.pub.ru, r.pub_answer_ufrag, 'pub: the selected pair\'s remote (server) candidate has the new server ufrag');
	if (s.sub.ru) assert.equal(s.sub.ru, r.sub_offer_ufrag, 'sub: the selected pair\'s remote (server) candidate has the new server ufrag');
	const ice = S.info1.ice_states.filter((x) => x.t >= S.rounds[0].r.t0);
	fig.ice_state_changes_after_restart = ice.map((x) => `${x.pc}:${x.ice}@${x.t - S.rounds[0].r.t0}`);
	assert.ok(!ice.some((x) => x.ice === 'failed' || x.ice === 'closed'), `ICE states after the restart: ${fig.ice_state_changes_after_restart}`);
	fig.selected_pair_changes = { pub: s.pub.changes, sub: s.sub.changes };
	fig.pairs = { pub: `${s.pub.pair} (ufrag ${s.pub.lu} -> ${s.pub.ru})`, sub: `${s.sub.pair} (ufrag ${s.sub.lu} -> ${s.sub.ru})` };
});

const COUNTERS_ZERO = ['srtp_errors', 'dtls_failures', 'fingerprint_mismatches', 'sdp_rejected'];
const SIG_ZERO = ['protocol_errors', 'rate_limited', 'too_large', 'bad_utf8', 'slow_readers_cut', 'rejected_connections'];

check('/healthz counters are sane across the restart and after the hang-up; parleyd logged both restarts', async (t) => {
	if (!mustHaveRun(t)) return;
	// the page hangs up: connections and peers go back to 0
	await T(() => window.T.hangUp());
	let h2;
	await waitFor(async () => {
		h2 = await healthzOrError();
		return h2.connections === 0 && h2.media?.peers === 0;
	}, 10000, { what: '/healthz back to 0 connections and 0 peers' }).catch(() => {});
	S.h2 = h2;
	const hs = [...S.rounds.flatMap((r) => [r.h0, r.h1]), h2];
	for (const h of hs) assert.ok(h && !h.error, `/healthz: ${h?.error}`);
	fig.healthz = {
		before: S.rounds[0].h0.media, after: S.rounds[S.rounds.length - 1].h1.media, end: h2.media,
		signaling_end: h2.signaling,
	};
	for (const { method, h0, h1 } of S.rounds) {
		const tag = `restart ${method}`;
		for (const [k, h] of [['before', h0], ['after', h1]]) {
			assert.equal(h.http, 200, `${tag} ${k}: /healthz HTTP status`);
			assert.equal(h.status, 'ok', `${tag} ${k}: /healthz status`);
			assert.equal(h.connections, 1, `${tag} ${k}: connections`);
			assert.equal(h.rooms, 1, `${tag} ${k}: rooms`);
			assert.equal(h.media.peers, 2, `${tag} ${k}: media peers (pub + sub; a restart makes no new one)`);
		}
		for (const k of ['rtp_in', 'rtp_forwarded', 'rtcp_in', 'rtcp_out']) {
			assert.ok(h1.media[k] > h0.media[k], `${tag}: media.${k} grew across the restart (${h0.media[k]} -> ${h1.media[k]})`);
		}
		fig[`dtls_in_delta_${method}`] = h1.media.dtls_in - h0.media.dtls_in;
		fig[`send_errors_delta_${method}`] = h1.media.send_errors - h0.media.send_errors;
		fig[`drops_delta_${method}`] = h1.media.drops - h0.media.drops;
	}
	for (const k of COUNTERS_ZERO) assert.equal(h2.media[k], 0, `media.${k}`);
	for (const k of SIG_ZERO) assert.equal(h2.signaling[k], 0, `signaling.${k}`);
	for (let i = 1; i < hs.length; i++) {
		for (const grp of ['media', 'signaling']) {
			for (const [k, v] of Object.entries(hs[i][grp])) {
				if (k === 'peers') continue;
				assert.ok(v >= hs[i - 1][grp][k], `${grp}.${k} decreased: ${hs[i - 1][grp][k]} -> ${v}`);
			}
		}
	}
	assert.equal(h2.connections, 0, 'connections after the hang-up');
	assert.equal(h2.media.peers, 0, 'media peers after the hang-up');
	assert.equal(h2.rooms, 0, 'rooms after the hang-up');
	// parleyd's log names both restarts (INFO "ICE restart", pc=pub and pc=sub)
	const n = (pc) => (srv.log.match(new RegExp(`pc=${pc}\\] ICE restart`, 'g')) || []).length;
	fig.log_restarts = { pub: n('pub'), sub: n('sub') };
	assert.equal(n('pub'), S.rounds.length, `parleyd logged ${n('pub')} pub ICE restarts`);
	assert.equal(n('sub'), S.rounds.length, `parleyd logged ${n('sub')} sub ICE restarts`);
});

check('parleyd survived and exits cleanly on SIGTERM', async () => {
	assert.ok(srv && srv.alive, `parleyd died: ${JSON.stringify(srv?.exit)}`);
	await T(() => window.T && window.T.hangUp()).catch(() => {});
	const exit = await srv.stop();
	assert.deepEqual(exit, { code: 0, signal: null });
});
