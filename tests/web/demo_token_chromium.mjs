// demo_token_chromium.mjs: the demo's join form against a parleyd that has
// an auth secret (rooms need a token), in headless Chromium, used with the
// keyboard only.
//
//  - the Token field is hidden until the server asks for one; joining
//    without a token shows why and reveals and focuses the field;
//  - a wrong token is refused with a message; a token made with
//    `parleyd token` joins, and its `name` claim is the name shown;
//  - the lobby and the call pass small accessibility checks: labels,
//    button names, text contrast (tests/web/lib/a11y.mjs).
//
// Needs $PARLEYD, npm playwright-core, /usr/lib/chromium/chromium; exits 77
// (meson: skipped) without them. Runs in a loopback-only network namespace
// when root.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { chromiumMissing, launchChromium } from '../e2e/lib/chromium.mjs';
import { reexecInNetns } from '../e2e/lib/netns.mjs';
import { startServer, parleydPath } from './lib/parleyd.mjs';
import { waitFor } from './lib/util.mjs';
import { a11yProblems } from './lib/a11y.mjs';

const missing = chromiumMissing() || (process.env.PARLEYD ? null : 'PARLEYD is not set');
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}
await reexecInNetns();

const ARTIFACTS = process.env.PARLEY_ARTIFACTS || join(tmpdir(), 'parley-web-artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
const SECRET = randomBytes(16).toString('hex');
const ROOM = `tok-${randomBytes(3).toString('hex')}`;
const T = 30000;
let srv, br, page;
const log = [];
let failed = false;

function check(name, fn) {
	test(name, { timeout: 120000 }, async () => {
		try { await fn(); } catch (e) { failed = true; throw e; }
	});
}

before(async () => {
	srv = await startServer({ args: ['--auth-secret', SECRET] });
	br = await launchChromium({ log: (s) => log.push(s) });
	page = br.page;
	page.on('dialog', (d) => { log.push(`DIALOG ${d.message()}`); d.dismiss().catch(() => {}); });
	await page.goto(`${srv.url}?room=${ROOM}&name=Zed&video=low`);
}, { timeout: 90000 });

after(async () => {
	if (failed) {
		console.error(`----- page log -----\n${log.slice(-200).join('\n')}`);
		await page?.screenshot({ path: join(ARTIFACTS, 'failure-token.png') }).catch(() => {});
		srv?.dump('test failed');
	}
	await br?.close();
	await srv?.destroy();
});

check('the lobby: labelled fields, named buttons, readable contrast; no token field yet', async () => {
	await page.getByLabel('Room').waitFor({ timeout: T });
	assert.equal(await page.getByLabel('Token').isVisible(), false, 'no token field before the server asks');
	await waitFor(() => page.evaluate(() => document.getElementById('preview').readyState >= 2), T, { what: 'camera preview' });
	assert.deepEqual(await a11yProblems(page), []);
});

check('joining without a token reveals the Token field, focused, with the reason', async () => {
	// keyboard only: the form submits with Enter
	await page.getByLabel('Name').focus();
	await page.keyboard.press('Enter');
	await page.getByRole('alert').filter({ hasText: 'needs an access token' }).waitFor({ timeout: T });
	await page.getByLabel('Token').waitFor({ state: 'visible', timeout: T });
	await waitFor(() => page.evaluate(() => document.activeElement && document.activeElement.id === 'token'), T, { what: 'focus on the Token field' });
	assert.equal(await page.getByLabel('Token').getAttribute('aria-invalid'), 'true');
	assert.equal(await page.locator('#call').isVisible(), false);
});

check('a wrong token is refused; a token from `parleyd token` joins with its name', async () => {
	await page.keyboard.type('not-a-token');
	await page.keyboard.press('Enter');
	await page.getByRole('alert').filter({ hasText: 'The token was refused' }).waitFor({ timeout: T });
	const token = execFileSync(parleydPath(), ['token', '--room', ROOM, '--user', 'zed', '--name', 'Zed Token', '--auth-secret', SECRET],
		{ encoding: 'utf8' }).trim();
	assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
	await page.getByLabel('Token').fill(token);
	await page.getByRole('button', { name: 'Join' }).click();
	await page.locator('#call').waitFor({ state: 'visible', timeout: T });
	await page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: T });
	await page.locator('#tiles .tile.self').getByText('Zed Token (you)').waitFor({ timeout: T });
	assert.ok(!new URL(page.url()).searchParams.has('token'), 'the token is not left in the address bar');
	// the call screen passes the same checks
	await page.getByLabel('Message').fill('hello');
	await page.getByLabel('Message').press('Enter');
	await page.locator('#messages').getByText('hello').waitFor({ timeout: T });
	assert.deepEqual(await a11yProblems(page), []);
	await page.screenshot({ path: join(ARTIFACTS, 'demo-token-joined.png') });
	assert.ok(!log.some((l) => l.startsWith('DIALOG')), 'no dialogs');
});
