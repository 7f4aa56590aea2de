// demo_chromium.mjs: the web demo (web-demo/: index.html, app.mjs, parley.js)
// in headless Chromium against the real parleyd, which serves the page.
//
// Pages join through the UI as a person would (getByLabel('Room'),
// getByLabel('Name'), getByRole('button', { name: 'Join' })) and the test
// reads what the page shows plus window.__parleyStats (what each page
// receives, from getStats).
//
//  1. two participants, then a third: each page decodes the others' video
//     (framesDecoded increasing, the <video> playing) and receives their
//     audio (packetsReceived increasing);
//  2. muting the microphone / turning the camera off on one page shows on
//     the others, and undoing it brings the media back;
//  3. screen share: a second video track, its own tile on the others;
//  4. chat: Enter and the Send button, live on the other pages; a direct
//     message reaches only its recipient; the typing indicator and the
//     unread badge; `<img src=x onerror=alert(1)>` renders as text (no
//     <img> element, no dialog);
//  5. a reload shows the history (newest page), and scrolling up loads
//     older messages (seeded beforehand over a plain WebSocket);
//  6. an ICE restart (SDK restartIce) keeps media flowing;
//  7. parleyd restarts (SIGTERM, then again on the same port and data dir):
//     the pages show that they reconnect, re-join, and media flows again;
//     the history survived;
//  8. the network drops (loopback down in the test's namespace) and comes
//     back: the pages show it and recover by themselves;
//  9. at 375 px wide: no horizontal scrolling, the controls and the chat
//     are reachable;
//  10. leave removes the participant from the others' pages; parleyd exits 0.
// Screenshots go to $PARLEY_ARTIFACTS (meson: the build dir of tests/web):
// demo-call.png, demo-screenshare.png, demo-chat.png, demo-reconnected.png,
// demo-mobile.png, demo-mobile-chat.png (and failure-*.png on failure).
//
// Needs $PARLEYD, npm playwright-core + ws (NODE_PATH or the source root's
// node_modules), /usr/lib/chromium/chromium (or $CHROMIUM); exits 77 (meson:
// skipped) without them. Runs in a network namespace with only 127.0.0.1
// when root (tests/e2e/lib/netns.mjs). PARLEY_E2E_VERBOSE=1 streams the
// pages' logs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { chromiumMissing, launchChromium } from '../e2e/lib/chromium.mjs';
import { reexecInNetns } from '../e2e/lib/netns.mjs';
import { startServer } from './lib/parleyd.mjs';
import { waitFor, sleep } from './lib/util.mjs';

const require = createRequire(import.meta.url);
const missing = chromiumMissing() || (process.env.PARLEYD ? null : 'PARLEYD is not set');
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}

const NS = await reexecInNetns();

const ARTIFACTS = process.env.PARLEY_ARTIFACTS || join(tmpdir(), 'parley-web-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
const verbose = !!process.env.PARLEY_E2E_VERBOSE;
const T = { media: 90000, ui: 30000, reconnect: 90000 };   // generous: 2 slow cores, 3 encoders, 6 decoders
const ROOM = `demo-${randomBytes(4).toString('hex')}`;
const INJECTION = '<img src=x onerror=alert(1)>';
const SEED = 60;   // history seeded before the pages join (more than one page of 50)

let srv, br;
const P = {};          // name -> { name, page, log: [], dialogs: [] }
let failed = false;

function check(name, fn, opts = {}) {
	test(name, { timeout: 240000, ...opts }, async (t) => {
		try {
			await fn(t);
		} catch (e) {
			failed = true;
			throw e;
		}
	});
}

const stats = (p) => p.page.evaluate(() => window.__parleyStats || null);
const myId = async (p) => (await stats(p))?.me?.id;
const describeAll = () => Promise.all(Object.values(P).map(async (p) => ({ [p.name]: await stats(p).catch((e) => String(e)) })));

async function openPage(name, query = '') {
	const first = Object.keys(P).length === 0;
	const page = first ? br.page : await br.ctx.newPage();
	const p = { name, page, log: [], dialogs: [] };
	P[name] = p;
	page.on('console', (m) => { const s = `[${name} ${m.type()}] ${m.text()}`; p.log.push(s); if (verbose) console.error(s); });
	page.on('pageerror', (e) => { const s = `[${name} page error] ${e.message}`; p.log.push(s); console.error(s); });
	page.on('dialog', (d) => { p.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
	await page.goto(`${srv.url}${query}`);
	return p;
}

/** Fills the lobby form through its labels and clicks Join; resolves with our participant id once joined. */
async function joinViaUi(p, { room = ROOM, name = p.name, fill = true } = {}) {
	const { page } = p;
	if (fill) {
		await page.getByLabel('Room').fill(room);
		await page.getByLabel('Name').fill(name);
	}
	await page.getByRole('button', { name: 'Join' }).click();
	await page.locator('#call').waitFor({ state: 'visible', timeout: T.ui });
	const s = await waitFor(async () => { const s = await stats(p); return s && s.state === 'joined' && s.me ? s : null; },
		T.ui, { what: `${p.name} joined` });
	return s.me.id;
}

/**
 * Waits until page `p` receives every participant in `pids`: video
 * framesDecoded up by `frames` and audio packetsReceived up by `packets`
 * since they were first seen above 0, with the tile's <video> playing.
 */
async function mediaFlowing(p, pids, { frames = 5, packets = 10, timeout = T.media, what = '' } = {}) {
	const base = {};
	return waitFor(async () => {
		const s = await stats(p);
		if (!s || s.state !== 'joined') return false;
		let ok = true;
		for (const pid of pids) {
			const o = s.participants[pid];
			const v = o?.video?.framesDecoded || 0, a = o?.audio?.packetsReceived || 0;
			if (!v || !a) { ok = false; continue; }
			base[pid] ||= { v, a };
			if (!(v >= base[pid].v + frames && a >= base[pid].a + packets && o.videoPlaying)) ok = false;
		}
		return ok ? s : false;
	}, timeout, { what: `${p.name} receiving video and audio from ${pids.join(', ')} ${what}`, describe: () => stats(p) });
}

async function audioFlowing(p, pid, packets = 10, timeout = T.media) {
	let base = null;
	await waitFor(async () => {
		const a = (await stats(p))?.participants?.[pid]?.audio?.packetsReceived || 0;
		if (!a) return false;
		if (base === null) base = a;
		return a >= base + packets;
	}, timeout, { what: `${p.name} receiving audio from ${pid}`, describe: () => stats(p) });
}

async function videoFlowing(p, pid, frames = 5, timeout = T.media) {
	let base = null;
	await waitFor(async () => {
		const o = (await stats(p))?.participants?.[pid];
		const v = o?.video?.framesDecoded || 0;
		if (!v || !o.videoPlaying) return false;
		if (base === null) base = v;
		return v >= base + frames;
	}, timeout, { what: `${p.name} decoding video from ${pid}`, describe: () => stats(p) });
}

/** Loopback up or down: only ever inside the test's own network namespace. */
let loDown = false;
function ip(state) {
	if (!NS.netns) throw new Error('not in a network namespace of our own');
	execFileSync('ip', ['link', 'set', 'lo', state]);
	loDown = state === 'down';
}

const tile = (p, pid) => p.page.locator(`#tiles .tile[data-key="${pid}"]`);
const messages = (p) => p.page.locator('#messages');

/** Seeds the room's history over a plain WebSocket (as another client would). */
async function seedHistory(n) {
	const WebSocket = require('ws');
	const ws = new WebSocket(srv.wsUrl, 'parley.v1');
	await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
	const waiting = new Map();
	ws.on('message', (d) => {
		const m = JSON.parse(d.toString());
		if (m.id !== undefined && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
	});
	const req = (msg) => new Promise((res) => { waiting.set(msg.id, res); ws.send(JSON.stringify(msg)); });
	const j = await req({ type: 'join', id: 0, room: ROOM, display: 'Seeder', user: 'seeder' });
	assert.equal(j.type, 'joined', `seeder join: ${JSON.stringify(j)}`);
	let id = 1;
	for (let i = 1; i <= n; i++) {
		// the default chat limit is 20/s with a burst of 40: back off when told
		let a;
		for (let tries = 0; tries < 50; tries++) {
			a = await req({ type: 'chat', id: id++, text: `seed message ${i}`, client_msg_id: `seed-${ROOM}-${i}` });
			if (a.code !== 'rate_limited') break;
			await sleep(100);
		}
		assert.equal(a.type, 'ack', `seed ${i}: ${JSON.stringify(a)}`);
	}
	ws.close();
}

before(async () => {
	srv = await startServer();
	br = await launchChromium({ log: () => {} });
	console.log(`# chromium ${br.version}, parleyd on port ${srv.port}, room ${ROOM}, artifacts in ${ARTIFACTS}, ` +
		(NS.netns ? `network namespace ${NS.netns}` : `host network namespace (${NS.why})`));
	await seedHistory(SEED);
}, { timeout: 120000 });

after(async () => {
	if (loDown) ip('up');
	if (failed) {
		for (const p of Object.values(P)) {
			console.error(`----- ${p.name} page log (last 300 lines) -----\n${p.log.slice(-300).join('\n')}`);
			if (p.page && !p.page.isClosed()) await p.page.screenshot({ path: join(ARTIFACTS, `failure-${p.name}.png`) }).catch(() => {});
		}
		srv?.dump('test failed');
	}
	await br?.close();
	await srv?.destroy();
});

/* ------------------------------------------------------------------ */

check('two participants join through the UI and see and hear each other', async () => {
	// A: prefilled from the URL
	const A = await openPage('A', `?room=${ROOM}&name=Alice&video=low`);
	assert.equal(await A.page.getByLabel('Room').inputValue(), ROOM, '?room= pre-fills "Room"');
	assert.equal(await A.page.getByLabel('Name').inputValue(), 'Alice', '?name= pre-fills "Name"');
	// the preview and the device pickers are there before joining
	await waitFor(() => A.page.evaluate(() => { const v = document.getElementById('preview'); return v.srcObject && v.readyState >= 2; }),
		T.ui, { what: 'camera preview playing' });
	const cams = await A.page.getByLabel('Camera').locator('option').count();
	const mics = await A.page.getByLabel('Microphone').locator('option').count();
	assert.ok(cams >= 1 && mics >= 1, `device pickers list devices (cameras ${cams}, microphones ${mics})`);
	A.id = await joinViaUi(A, { name: 'Alice' });

	const B = await openPage('B', '?video=low');
	B.id = await joinViaUi(B, { name: 'Bob' });
	await Promise.all([mediaFlowing(A, [B.id]), mediaFlowing(B, [A.id])]);
	await assert.doesNotReject(tile(A, B.id).getByText('Bob').waitFor({ timeout: T.ui }), 'A has a tile named Bob');
	await assert.doesNotReject(tile(B, A.id).getByText('Alice').waitFor({ timeout: T.ui }), 'B has a tile named Alice');
	await A.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T.ui });
});

check('a third participant: every page sees and hears the other two', async () => {
	const { A, B } = P;
	const C = await openPage('C', '?video=low');
	C.id = await joinViaUi(C, { name: 'Carol' });
	await Promise.all([
		mediaFlowing(A, [B.id, C.id]),
		mediaFlowing(B, [A.id, C.id]),
		mediaFlowing(C, [A.id, B.id]),
	]);
	const s = await stats(A);
	console.log(`# A receives: ${Object.entries(s.participants).map(([id, o]) => `${o.display} ${o.video?.frameWidth}x${o.video?.frameHeight} ${o.video?.framesPerSecond} fps`).join(', ')}`);
	await A.page.screenshot({ path: join(ARTIFACTS, 'demo-call.png') });
});

check('muting the microphone and turning the camera off show on the other pages', async () => {
	const { A, B, C } = P;
	await B.page.getByRole('button', { name: 'Mute microphone' }).click();
	for (const p of [A, C]) {
		await tile(p, B.id).locator('.mic-off').waitFor({ state: 'visible', timeout: T.ui });
		await waitFor(async () => (await stats(p))?.participants?.[B.id]?.micMuted === true || !(await stats(p))?.participants?.[B.id]?.audio, T.ui, { what: `${p.name} sees Bob muted` });
	}
	assert.match(await tile(A, B.id).getAttribute('aria-label'), /microphone muted/, 'the tile says so to screen readers');
	// B's own button now offers to unmute
	await B.page.getByRole('button', { name: 'Unmute microphone' }).click();
	for (const p of [A, C]) {
		await tile(p, B.id).locator('.mic-off').waitFor({ state: 'hidden', timeout: T.ui });
		await audioFlowing(p, B.id);
	}
	// camera
	await C.page.getByRole('button', { name: 'Turn camera off' }).click();
	for (const p of [A, B]) await waitFor(async () => (await tile(p, C.id).getAttribute('data-camera-off')) === 'true', T.ui, { what: `${p.name} sees Carol's camera off` });
	await C.page.getByRole('button', { name: 'Turn camera on' }).click();
	for (const p of [A, B]) await videoFlowing(p, C.id);
	// everyone still receives everyone (the renegotiations broke nothing)
	await Promise.all([mediaFlowing(A, [B.id, C.id]), mediaFlowing(B, [A.id, C.id]), mediaFlowing(C, [A.id, B.id])]);
});

check('screen share: a second video track, shown on the others in a tile of its own', async () => {
	const { A, B, C } = P;
	await A.page.getByRole('button', { name: 'Share screen' }).click();
	await A.page.getByRole('button', { name: 'Stop sharing' }).waitFor({ timeout: T.ui });
	for (const p of [B, C]) {
		await p.page.locator(`#tiles .tile[data-key="${A.id}:screen"]`).getByText('Alice · screen').waitFor({ timeout: T.ui });
		let base = null;
		await waitFor(async () => {
			const sc = (await stats(p))?.participants?.[A.id]?.screen;
			if (!sc || !sc.framesDecoded || !sc.playing) return false;
			if (base === null) base = sc.framesDecoded;
			return sc.framesDecoded >= base + 3;
		}, T.media, { what: `${p.name} decoding Alice's screen`, describe: () => stats(p) });
	}
	await B.page.screenshot({ path: join(ARTIFACTS, 'demo-screenshare.png') });
	await A.page.getByRole('button', { name: 'Stop sharing' }).click();
	for (const p of [B, C]) {
		await p.page.locator(`#tiles .tile[data-key="${A.id}:screen"]`).waitFor({ state: 'detached', timeout: T.ui });
		await videoFlowing(p, A.id);
	}
});

check('chat: live messages, Enter and Send, direct messages, typing, unread badge, no HTML injection', async () => {
	const { A, B, C } = P;
	// Enter sends
	await A.page.getByLabel('Message').fill('hello from Alice');
	await A.page.getByLabel('Message').press('Enter');
	for (const p of [B, C]) await messages(p).getByText('hello from Alice').waitFor({ timeout: T.ui });
	// the Send button sends
	await C.page.getByLabel('Message').fill('hi, Carol here');
	await C.page.getByRole('button', { name: 'Send' }).click();
	for (const p of [A, B]) await messages(p).getByText('hi, Carol here').waitFor({ timeout: T.ui });
	// the injection string is text
	await B.page.getByLabel('Message').fill(INJECTION);
	await B.page.getByLabel('Message').press('Enter');
	for (const p of [A, B, C]) {
		await messages(p).getByText(INJECTION, { exact: true }).waitFor({ timeout: T.ui });
		assert.equal(await p.page.locator('img').count(), 0, `${p.name}: no <img> element was created`);
		assert.equal(await p.page.evaluate(() => document.querySelectorAll('#messages img, #messages [onerror]').length), 0);
	}
	// typing indicator
	await C.page.getByLabel('Message').pressSequentially('typing…', { delay: 20 });
	await A.page.locator('#typing').getByText('Carol is typing…').waitFor({ timeout: T.ui });
	await C.page.getByLabel('Message').fill('');
	await C.page.getByLabel('Message').press('Backspace');
	// a direct message: only its recipient (and the sender) see it
	await A.page.getByLabel('Send to').selectOption({ label: 'Bob (direct)' });
	await A.page.getByLabel('Message').fill('psst, only for Bob');
	await A.page.getByRole('button', { name: 'Send' }).click();
	await messages(B).getByText('psst, only for Bob').waitFor({ timeout: T.ui });
	await messages(B).locator('.msg', { hasText: 'psst, only for Bob' }).getByText('Direct to you').waitFor({ timeout: T.ui });
	await messages(A).locator('.msg', { hasText: 'psst, only for Bob' }).getByText('Direct to Bob').waitFor({ timeout: T.ui });
	await A.page.getByLabel('Send to').selectOption({ label: 'Everyone' });
	await A.page.getByLabel('Message').fill('back to everyone');
	await A.page.getByLabel('Message').press('Enter');
	await messages(C).getByText('back to everyone').waitFor({ timeout: T.ui });
	assert.equal(await messages(C).getByText('psst, only for Bob').count(), 0, 'Carol does not get the direct message');
	// unread badge while the chat panel is closed
	await B.page.getByRole('button', { name: 'Close chat' }).click();
	await A.page.getByLabel('Message').fill('did you see this, Bob?');
	await A.page.getByLabel('Message').press('Enter');
	const badge = B.page.locator('#unread');
	await badge.waitFor({ state: 'visible', timeout: T.ui });
	assert.equal(await badge.textContent(), '1');
	await B.page.getByRole('button', { name: 'Chat, 1 unread' }).click();
	await badge.waitFor({ state: 'hidden', timeout: T.ui });
	await messages(B).getByText('did you see this, Bob?').waitFor({ timeout: T.ui });
	// the newest page of the seeded history was loaded on join
	await messages(A).getByText(`seed message ${SEED}`, { exact: true }).waitFor({ timeout: T.ui });
	await A.page.locator('#chat').screenshot({ path: join(ARTIFACTS, 'demo-chat.png') });
	for (const p of [A, B, C]) assert.deepEqual(p.dialogs, [], `${p.name}: no dialog was opened`);
});

check('reloading a page shows the history, and scrolling up loads older messages', async () => {
	const { A, B, C } = P;
	const oldId = C.id;
	await C.page.reload();
	assert.equal(await C.page.getByLabel('Room').inputValue(), ROOM, 'after joining, the URL keeps the room');
	assert.equal(await C.page.getByLabel('Name').inputValue(), 'Carol');
	C.id = await joinViaUi(C, { fill: false });
	assert.notEqual(C.id, oldId);
	for (const text of ['hello from Alice', 'hi, Carol here', 'back to everyone']) await messages(C).getByText(text).waitFor({ timeout: T.ui });
	await messages(C).getByText(INJECTION, { exact: true }).waitFor({ timeout: T.ui });
	assert.equal(await C.page.locator('img').count(), 0, 'history renders the injection string as text too');
	assert.equal(await messages(C).getByText('psst, only for Bob').count(), 0, 'the direct message is not in Carol\'s history');
	// the first seeded messages are older than the newest page of 50
	assert.equal(await messages(C).getByText('seed message 1', { exact: true }).count(), 0);
	await C.page.locator('#messages').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
	await waitFor(async () => {
		if (await messages(C).getByText('seed message 1', { exact: true }).count()) return true;
		await C.page.locator('#messages').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
		return false;
	}, T.ui, { what: 'older history loaded on scroll-up' });
	const seqs = await C.page.locator('#messages li[data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
	assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'messages in seq order');
	assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
	await C.page.getByRole('button', { name: 'Load earlier messages' }).waitFor({ state: 'hidden', timeout: T.ui });
	// and media flows to and from the reloaded page
	await Promise.all([mediaFlowing(A, [B.id, C.id]), mediaFlowing(B, [A.id, C.id]), mediaFlowing(C, [A.id, B.id])]);
	for (const p of [A, B]) assert.equal(await tile(p, oldId).count(), 0, `${p.name}: the old Carol tile is gone`);
});

check('an ICE restart on the pub connection keeps media flowing', async () => {
	const { A, B, C } = P;
	const ufrag = () => A.page.evaluate(() => {
		const e = window.__parley.client._pc.pub;
		return e && e.pc.localDescription && /a=ice-ufrag:(\S+)/.exec(e.pc.localDescription.sdp)[1];
	});
	const before = await ufrag();
	const restarts = (await stats(A)).iceRestarts; // the SDK may have restarted on its own before
	await A.page.evaluate(() => window.__parley.client.restartIce());
	assert.notEqual(await ufrag(), before, 'new ICE credentials');
	await waitFor(async () => { const s = await stats(A); return s.pc.pub === 'connected' && s.pc.sub === 'connected' && s.iceRestarts === restarts + 1; },
		T.ui, { what: 'A connected again after the ICE restart', describe: () => stats(A) });
	await Promise.all([mediaFlowing(A, [B.id, C.id]), videoFlowing(B, A.id), videoFlowing(C, A.id)]);
});

check('after parleyd restarts the pages reconnect and media flows again', async () => {
	const { A, B, C } = P;
	const old = { A: A.id, B: B.id, C: C.id };
	const exit = await srv.stop();
	assert.deepEqual(exit, { code: 0, signal: null }, 'parleyd exits cleanly on SIGTERM');
	for (const p of [A, B, C]) await p.page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ timeout: T.ui });
	await srv.start();   // same port, same data dir
	for (const p of [A, B, C]) {
		const s = await waitFor(async () => { const s = await stats(p); return s && s.state === 'joined' && s.reconnects >= 1 && s.me.id !== old[p.name] ? s : null; },
			T.reconnect, { what: `${p.name} re-joined`, describe: () => stats(p) });
		p.id = s.me.id;
		await p.page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: T.ui });
	}
	await Promise.all([mediaFlowing(A, [B.id, C.id]), mediaFlowing(B, [A.id, C.id]), mediaFlowing(C, [A.id, B.id])]);
	for (const p of [A, B, C]) {
		assert.equal(await p.page.locator('#tiles .tile').count(), 3, `${p.name}: three tiles (no stale ones)`);
	}
	// chat works and the history survived
	await B.page.getByLabel('Message').fill('back after the restart');
	await B.page.getByLabel('Message').press('Enter');
	for (const p of [A, C]) await messages(p).getByText('back after the restart').waitFor({ timeout: T.ui });
	const D = await openPage('D', '?video=low');
	await D.page.setViewportSize({ width: 1280, height: 720 });
	await joinViaUi(D, { name: 'Dave' });
	await messages(D).getByText('hello from Alice').waitFor({ timeout: T.ui });
	await messages(D).getByText('back after the restart').waitFor({ timeout: T.ui });
	await D.page.getByRole('button', { name: 'Leave' }).click();
	await D.page.close();
	delete P.D;
	await A.page.screenshot({ path: join(ARTIFACTS, 'demo-reconnected.png') });
});

check('after the network drops for a while (loopback down) the pages recover on their own', async (t) => {
	if (!NS.netns) return t.skip('needs the test\'s own network namespace');
	const pages = [P.A, P.B, P.C];
	ip('down');
	try {
		// media stops; the pages say so (ICE `disconnected`, or the socket gone)
		for (const p of pages) {
			await p.page.getByRole('status').filter({ hasText: /media interrupted|Reconnecting/ }).waitFor({ timeout: T.reconnect });
		}
	} finally {
		ip('up');
	}
	// They come back by themselves: ICE recovers or restarts, or, when the
	// server ended them meanwhile (ICE consent expired), they re-join once
	// the socket is found dead. Wait for a state that stays: everyone
	// connected to everyone, media flowing, and nobody's id changing.
	const { A, B, C } = P;
	const end = Date.now() + T.reconnect * 2;
	for (let round = 1; ; round++) {
		const left = Math.max(10000, end - Date.now());
		const settled = await waitFor(async () => {
			const all = await Promise.all(pages.map(stats));
			if (!all.every((s) => s && s.state === 'joined' && s.pc.pub === 'connected' && s.pc.sub === 'connected')) return null;
			const ids = all.map((s) => s.me.id);
			return all.every((s, i) => {
				const want = ids.filter((_, k) => k !== i).sort();
				return JSON.stringify(Object.keys(s.participants).sort()) === JSON.stringify(want);
			}) ? all : null;
		}, left, { what: 'all pages connected again with each other', describe: describeAll });
		settled.forEach((s, i) => { pages[i].id = s.me.id; });
		try {
			await Promise.all([
				mediaFlowing(A, [B.id, C.id], { timeout: 30000 }),
				mediaFlowing(B, [A.id, C.id], { timeout: 30000 }),
				mediaFlowing(C, [A.id, B.id], { timeout: 30000 }),
			]);
		} catch (e) {
			const now = await Promise.all(pages.map(stats));
			const moved = now.some((s, i) => !s || s.me?.id !== pages[i].id);
			if (!moved || Date.now() > end) throw e;
			console.log(`# round ${round}: a page re-joined meanwhile; waiting again`);
			continue;
		}
		const now = await Promise.all(pages.map(stats));
		if (now.every((s, i) => s.me.id === pages[i].id)) {
			console.log(`# after the drop: ${now.map((x, i) => `${pages[i].name} re-joins ${x.reconnects}, ICE restarts ${x.iceRestarts}`).join('; ')}`);
			break;
		}
	}
	for (const p of pages) await p.page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: T.ui });
});

check('usable at 375 px wide: no horizontal scrolling, controls and chat reachable', async () => {
	const { B } = P;
	await B.page.setViewportSize({ width: 375, height: 740 });
	await waitFor(() => B.page.evaluate(() => document.documentElement.scrollWidth <= 375), T.ui, { what: 'no horizontal overflow' });
	for (const name of ['Mute microphone', 'Turn camera off', 'Share screen', 'Leave']) {
		const box = await B.page.getByRole('button', { name }).boundingBox();
		assert.ok(box && box.x >= 0 && box.x + box.width <= 375 && box.y + box.height <= 740, `${name} button inside the viewport: ${JSON.stringify(box)}`);
		assert.ok(box.width >= 44 && box.height >= 44, `${name} is a 44 px touch target`);
	}
	// the tiles are laid out again for the width (one column) and fit it
	await waitFor(() => B.page.locator('#tiles .tile').evaluateAll((els) => els.length === 3 && els.every((e) => {
		const r = e.getBoundingClientRect();
		return r.left >= 0 && r.right <= 375 && r.width >= 300;
	})), T.ui, { what: 'tiles laid out for 375 px', describe: () => B.page.locator('#tiles .tile').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON())) });
	await B.page.screenshot({ path: join(ARTIFACTS, 'demo-mobile.png') });
	// the chat opens over the call, and works
	await B.page.getByRole('button', { name: /^Chat/ }).click();
	await B.page.getByLabel('Message').fill('from a phone');
	await B.page.getByRole('button', { name: 'Send' }).click();
	await messages(P.A).getByText('from a phone').waitFor({ timeout: T.ui });
	assert.ok(await B.page.evaluate(() => document.documentElement.scrollWidth <= 375), 'no horizontal overflow with the chat open');
	await B.page.screenshot({ path: join(ARTIFACTS, 'demo-mobile-chat.png') });
	await B.page.keyboard.press('Escape');
	await B.page.locator('#chat').waitFor({ state: 'hidden', timeout: T.ui });
	await B.page.setViewportSize({ width: 1280, height: 720 });
});

check('leaving removes the participant from the other pages; parleyd stays healthy', async () => {
	const { A, B, C } = P;
	await C.page.getByRole('button', { name: 'Leave' }).click();
	await C.page.getByRole('button', { name: 'Join' }).waitFor({ timeout: T.ui });
	for (const p of [A, B]) await tile(p, C.id).waitFor({ state: 'detached', timeout: T.ui });
	await Promise.all([mediaFlowing(A, [B.id]), mediaFlowing(B, [A.id])]);
	for (const p of Object.values(P)) assert.deepEqual(p.dialogs, [], `${p.name}: no dialog was opened`);
	assert.ok(srv.alive, 'parleyd is running');
	const exit = await srv.stop();
	assert.deepEqual(exit, { code: 0, signal: null }, 'parleyd exits cleanly on SIGTERM');
});
