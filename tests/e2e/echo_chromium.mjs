// echo_chromium.mjs: headless Chromium against the real parleyd in an echo room.
//
// The page (www/echo.html + echo.js) joins `echo-<random>`, publishes the fake
// camera and microphone on its `pub` connection and answers the server's
// `sub` offers; the server returns the participant's own audio and video on
// `sub`. Passes when sub's getStats shows inbound video framesDecoded > 0 and
// inbound audio packetsReceived > 0 within 10 s of the first media sent, with
// AES-GCM SRTP on both connections and the echoed tracks' msid naming us.
//
// Needs: $PARLEYD, npm playwright-core (NODE_PATH or the source root's
// node_modules), /usr/lib/chromium/chromium (or $CHROMIUM). Exits 77 (meson:
// skipped) when Chromium or playwright-core is missing.
// PARLEY_E2E_VERBOSE=1 streams the page's log to stderr as it happens.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium, serveDir } from './lib/chromium.mjs';
import { startParleyd } from './lib/server.mjs';
import { reexecInNetns } from './lib/netns.mjs';
import { serverSdpProblems } from './lib/sdp.mjs';

const missing = chromiumMissing() || (process.env.PARLEYD ? null : 'PARLEYD is not set');
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}

// Everything below runs in a network namespace with only 127.0.0.1 when we
// can make one (root): see lib/netns.mjs for why Chromium needs it.
const NS = await reexecInNetns();

const WWW = join(dirname(fileURLToPath(import.meta.url)), 'www');
const MEDIA_BUDGET_MS = 10000;      // the requirement: echo within 10 s of the first media
const PAGE_TIMEOUT_MS = 100000;     // everything else gets slow-machine margins (meson: 180 s)
const verbose = !!process.env.PARLEY_E2E_VERBOSE;
// PARLEY_E2E_FAKE=1: the server is tools/fake_parleyd.py (aiortc), which
// checks the harness itself: AES-CM only, and aiortc's SDP is not parleyd's.
const FAKE = !!process.env.PARLEY_E2E_FAKE;
// The SRTP profile both connections must use: Chromium offers AES-GCM first
// and parleyd prefers it.
const SRTP_RE = FAKE ? /AES128_CM/ : /GCM/;

let srv, web, br, R = null;
let failed = false;
const pageLog = [];
const log = (s) => { pageLog.push(s); if (verbose) console.error(s); };

function check(name, fn) {   // a test that marks the run failed (for the dumps in after())
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
		br = await launchChromium({ log });
		const room = `echo-${randomBytes(6).toString('hex')}`;
		const url = `${web.url}echo.html?ws=${encodeURIComponent(srv.wsUrl)}&room=${room}&budget=${MEDIA_BUDGET_MS}`;
		console.log(`# chromium ${br.version}, parleyd on port ${srv.port}, room ${room}, ` +
			(NS.netns ? `network namespace ${NS.netns}` : `host network namespace (${NS.why})`));
		await br.page.goto(url);
		try {
			await br.page.waitForFunction(() => window.result && window.result.finished, null,
				{ timeout: PAGE_TIMEOUT_MS, polling: 250 });
		} finally {
			R = await br.page.evaluate(() => window.result).catch(() => null);
		}
	} catch (e) {
		failed = true;
		throw e;
	}
}, { timeout: PAGE_TIMEOUT_MS + 50000 });

after(async () => {
	const summary = R && Object.fromEntries(Object.entries(R).filter(([k]) => !k.endsWith('_sdp')));
	console.log(`# result ${JSON.stringify(summary, null, 1)}`);
	if (failed) {
		if (R) for (const k of ['pub_offer_sdp', 'pub_answer_sdp', 'sub_offer_sdp', 'sub_answer_sdp']) {
			if (R[k]) console.error(`----- ${k} -----\n${R[k]}`);
		}
		console.error(`----- page log -----\n${pageLog.join('\n')}`);
		srv?.dump('test failed');
	}
	if (br) {
		await br.page.evaluate(() => window.hangUp && window.hangUp()).catch(() => {});
		await br.close();
	}
	await web?.close();
	await srv?.stop();
});

check('echo: sub decodes its own video and receives its own audio within 10 s of the first media', () => {
	assert.ok(R, 'the page produced no result');
	assert.equal(R.ws_protocol, 'parley.v1', 'WebSocket subprotocol');
	assert.ok(R.ok, `echo failed: ${R.error}`);
	const v = R.sub_stats.inbound.video, a = R.sub_stats.inbound.audio;
	assert.ok(v.framesDecoded > 0, 'sub video framesDecoded > 0');
	assert.ok(a.packetsReceived > 0, 'sub audio packetsReceived > 0');
	assert.match(v.codec || '', /^video\/VP8$/i);
	assert.match(a.codec || '', /^audio\/opus$/i);
	assert.ok(R.echo_ms_after_first_media <= MEDIA_BUDGET_MS, `echo after ${R.echo_ms_after_first_media} ms`);
});

check(`SRTP cipher of both connections matches /${SRTP_RE.source}/ (parleyd with Chromium: AES-GCM)`, () => {
	assert.ok(R && R.ok, 'no call to look at');
	for (const k of ['pub_stats', 'sub_stats']) {
		const c = R[k].transport?.srtpCipher;
		assert.match(c || 'none', SRTP_RE, `${k.slice(0, 3)} srtpCipher ${c}`);
	}
});

check('media stays on 127.0.0.1 and the echoed tracks name us in their msid', () => {
	assert.ok(R && R.ok, 'no call to look at');
	// Without a namespace of its own Chromium may pick a pair from its other
	// host address to our 127.0.0.1 (see lib/netns.mjs); only the server's
	// side is then ours to check.
	const pairRe = NS.netns ? /^127\.0\.0\.1:\d+\/udp <-> 127\.0\.0\.1:\d+\/udp$/ : /<-> 127\.0\.0\.1:\d+\/udp$/;
	for (const k of ['pub_stats', 'sub_stats']) {
		assert.match(R[k].pair || '', pairRe, `${k.slice(0, 3)} selected pair ${R[k].pair}`);
	}
	const me = R.you?.id;
	const tracks = R.sub_tracks || [];
	assert.deepEqual(tracks.map((t) => t.kind).sort(), ['audio', 'video'], 'one echoed audio and one echoed video track');
	for (const t of tracks) assert.deepEqual(t.streams, [me], `${t.kind} track's msid stream id is our participant id ${me}`);
	assert.ok(R.sub_offer_revs.every((r, i, a) => Number.isInteger(r) && (i === 0 || r > a[i - 1])), `sub revs increase: ${R.sub_offer_revs}`);
});

check('server SDP (pub answer, sub offer) has what PROTOCOL.md promises', (t) => {
	if (FAKE) return t.skip('fake server');
	assert.ok(R && R.pub_answer_sdp, 'no pub answer to look at');
	assert.deepEqual(serverSdpProblems(R.pub_answer_sdp), [], 'pub answer');
	assert.ok(R.sub_offer_sdp, 'no sub offer to look at');
	assert.deepEqual(serverSdpProblems(R.sub_offer_sdp), [], 'sub offer');
});

check('parleyd survived and exits cleanly on SIGTERM', async () => {
	assert.ok(srv && srv.alive, `parleyd died: ${JSON.stringify(srv?.exit)}`);
	await br?.page.evaluate(() => window.hangUp && window.hangUp()).catch(() => {});
	const exit = await srv.stop();
	assert.deepEqual(exit, { code: 0, signal: null });
});
