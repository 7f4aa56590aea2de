// tests/call/call_chromium.mjs: parley-call in a room with two headless
// Chromium participants (issue 6, "Proof": parley-call with Chromium).
//
// Two pages of tests/e2e/www/group.html (fake camera and microphone, the
// small parley-client.js) join a room and publish; then parley-call joins
// with a 440 Hz tone and the numbered test pattern, recording everything.
// Asserts:
//  1. each page's sub getStats shows parley-call's video framesDecoded > 0
//     and audio packetsReceived > 0 (and VP8/Opus codecs);
//  2. chat both ways: a page's chat message comes out of parley-call's
//     stdout as "P1: text", a line on parley-call's stdin reaches the other
//     page as a chat message from "Softphone";
//  3. after SIGINT parley-call exits 0 ("parley-call: OK (4 remote
//     tracks...)"), and its recordings of both pages are a WAV with at
//     least 3 s of audio (not silent) and an IVF whose frames decode
//     (--analyze-ivf --min-frames 20) for each page.
// Needs $PARLEYD, $PARLEY_CALL, npm playwright-core and Chromium; exits 77
// (meson: skipped) without them.  Runs in a network namespace of its own
// with only 127.0.0.1 when root (tests/e2e/lib/netns.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, launchChromium, serveDir } from '../e2e/lib/chromium.mjs';
import { startParleyd } from '../e2e/lib/server.mjs';
import { reexecInNetns } from '../e2e/lib/netns.mjs';
import { waitFor, sleep } from '../e2e/lib/util.mjs';
import { PARLEY_CALL, callProc, analyze, recordings } from './lib.mjs';

const missing = chromiumMissing() ||
	(process.env.PARLEYD && PARLEY_CALL ? null : 'PARLEYD and PARLEY_CALL must be set');
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}
const NS = await reexecInNetns();

const WWW = join(dirname(fileURLToPath(import.meta.url)), '..', 'e2e', 'www');
const MEDIA_TIMEOUT_MS = 60000;
const tmp = mkdtempSync(join(tmpdir(), 'parley-call-chromium-'));
const room = `callc-${randomBytes(4).toString('hex')}`;
let srv, web, br, call, res;
const pages = [];
let failed = false;

before(async () => {
	srv = await startParleyd();
	web = await serveDir(WWW);
	br = await launchChromium({ log: (s) => pages[0]?.log.push(s) });
	console.log(`# chromium ${br.version}, parleyd on port ${srv.port}, room ${room}, ` +
		(NS.netns ? `network namespace ${NS.netns}` : `host network namespace (${NS.why})`));
	for (const name of ['P1', 'P2']) {
		const page = pages.length === 0 ? br.page : await br.ctx.newPage();
		const p = { name, page, log: [] };
		page.on('console', (m) => p.log.push(`[${m.type()}] ${m.text()}`));
		pages.push(p);
		await page.goto(`${web.url}group.html?ws=${encodeURIComponent(srv.wsUrl)}&room=${room}&display=${name}&w=320&h=240&fps=15`);
		await page.waitForFunction(() => window.G && (window.G.ready || window.G.fatal), null, { timeout: 60000, polling: 100 });
		const s = await page.evaluate(() => ({ you: window.G.client.you, fatal: window.G.fatal }));
		if (s.fatal) throw new Error(`${name}: ${s.fatal}`);
		p.id = s.you.id;
		console.log(`# ${name} = ${p.id} joined and published`);
	}
}, { timeout: 120000 });

after(async () => {
	if (failed) {
		for (const p of pages) console.error(`----- ${p.name} console -----\n${p.log.slice(-60).join('\n')}`);
		if (call) console.error(`----- parley-call stderr -----\n${call.stderr}`);
		srv?.dump('test failed');
	}
	call?.proc.kill('SIGKILL');
	await br?.close();
	await web?.close();
	await srv?.stop();
	rmSync(tmp, { recursive: true, force: true });
});

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

check('both Chromium pages receive parley-call\'s audio and video', async () => {
	call = callProc(['--server', srv.wsUrl, '--room', room, '--name', 'Softphone', '--audio', 'tone:440',
		'--video', 'pattern', '--video-size', '320x240', '--fps', '15', '--video-kbps', '300',
		'--record', join(tmp, 'rec'), '--duration', '120'], { name: 'parley-call' });
	const t0 = Date.now();
	call.id = await Promise.race([call.joined, call.done.then((r) => { throw new Error(`parley-call exited ${r.code}:\n${r.stderr}`); })]);
	console.log(`# parley-call = ${call.id} joined`);
	const per = async (p) => p.page.evaluate((id) => window.G.per[id] || {}, call.id);
	for (const p of pages) {
		await waitFor(async () => {
			const s = await per(p);
			return s.video?.framesDecoded > 0 && s.audio?.packetsReceived > 0;
		}, MEDIA_TIMEOUT_MS, { what: `${p.name} decodes parley-call's media`, every: 250 });
		p.firstMs = Date.now() - t0;
	}
	await sleep(4000);
	for (const p of pages) {
		const s = await per(p);
		console.log(`# ${p.name} from parley-call: video ${s.video.framesDecoded} frames decoded (${s.video.codec}), ` +
			`audio ${s.audio.packetsReceived} packets (${s.audio.codec}); first media ${p.firstMs} ms after parley-call started`);
		assert.ok(s.video.framesDecoded >= 15, `${p.name}: ${s.video.framesDecoded} frames decoded in 4 s+`);
		assert.match(s.video.codec || '', /VP8/i);
		assert.match(s.audio.codec || '', /opus/i);
	}
}, { timeout: 150000 });

check('chat both ways between parley-call and the pages', async () => {
	assert.ok(call?.id, 'parley-call is in the room');
	const fromPage = `hi from P1 ${randomBytes(3).toString('hex')}`;
	await pages[0].page.evaluate((text) => window.G.client.send({ type: 'chat', id: 90001, text }), fromPage);
	await waitFor(() => call.stdout.includes(`P1: ${fromPage}\n`), 10000, { what: `parley-call prints P1's message (stdout ${JSON.stringify(call.stdout)})` });
	const fromCall = `hi from the softphone ${randomBytes(3).toString('hex')}`;
	// waitMsg only sees messages that arrive after it is registered, so the
	// waiter is registered in an evaluate that has returned before the line
	// is written (a fixed sleep lost the race when the CDP round trip of a
	// loaded host took longer).  The promise settles to a value either way,
	// so the page sees no unhandled rejection while nobody awaits it.
	await pages[1].page.evaluate((text) => {
		window.__callChat = window.G.client.waitMsg((m) => m.type === 'chat' && m.text === text, 'chat', 10000)
			.then((m) => ({ display: m.from && m.from.display }), (e) => ({ error: String(e) }));
	}, fromCall);
	call.proc.stdin.write(`${fromCall}\n`);
	const got = await pages[1].page.evaluate(() => window.__callChat);
	assert.equal(got.error, undefined, `P2 gets parley-call's chat line: ${got.error}`);
	assert.equal(got.display, 'Softphone');
});

check('parley-call ends on SIGINT with exit 0 and has recorded both pages', async () => {
	assert.ok(call?.id, 'parley-call is in the room');
	// The WAVs must hold >= 3 s: wait until parley-call has written that much
	// of each page (48 kHz mono 16-bit; the size on disk lags the data by at
	// most one stdio buffer, and SIGINT flushes the rest) rather than trusting
	// the fixed sleeps above to have lasted long enough on a loaded host.
	const WAV_MIN_BYTES = 44 + 3 * 48000 * 2;
	const wavBytes = (p) => {
		try {
			const r = recordings(join(tmp, 'rec'), p.name);
			return r.wav.length ? statSync(r.wav[0]).size : 0;
		} catch { return 0; }
	};
	const t0 = Date.now();
	const sizes = () => pages.map((p) => `${p.name} ${wavBytes(p)} B`).join(', ');
	await waitFor(() => pages.every((p) => wavBytes(p) >= WAV_MIN_BYTES), 30000,
		{ what: "3 s of each page's audio in parley-call's WAVs", every: 200 })
		.catch((e) => { throw new Error(`${e.message} (${sizes()})`); });
	console.log(`# WAVs at SIGINT: ${sizes()} (>= ${WAV_MIN_BYTES} B needed; waited ${Date.now() - t0} ms)`);
	call.proc.kill('SIGINT');
	res = await call.done;
	console.log(res.stderr.split('\n').filter((l) => /summary|sent:|received:|chat:|\(p-|parley-call: (OK|FAILED)/.test(l)).map((l) => `# ${l}`).join('\n'));
	assert.equal(res.code, 0, res.stderr);
	assert.match(res.stderr, /parley-call: OK \(4 remote track/);
	for (const p of pages) {
		const r = recordings(join(tmp, 'rec'), p.name);
		assert.equal(r.wav.length, 1, `one WAV of ${p.name}`);
		assert.equal(r.ivf.length, 1, `one IVF of ${p.name}`);
		const v = analyze(['--analyze-ivf', r.ivf[0], '--min-frames', '20']);
		console.log(v.out.replace(/^/gm, '# '));
		assert.equal(v.code, 0, v.out);
		const a = analyze(['--analyze-wav', r.wav[0]]);
		const secs = (a.out.match(/second \d+: dominant/g) || []).length;
		console.log(`# ${p.name} audio: ${a.out.split('\n')[0]}; ${secs} non-silent second(s)`);
		assert.ok(secs >= 1, `${p.name}: the WAV has sound:\n${a.out}`);
		assert.ok(/\((\d+\.\d+) s\)/.test(a.out) && Number(/\((\d+\.\d+) s\)/.exec(a.out)[1]) >= 3, a.out);
	}
}, { timeout: 60000 });
