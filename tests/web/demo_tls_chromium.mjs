// demo_tls_chromium.mjs: the web demo from a parleyd with a TLS certificate
// ([server] tls_cert / tls_key), in headless Chromium: the page loads over
// https://, the SDK picks wss:// for /ws by itself, and the participant
// joins; a Node `ws` client that trusts the certificate joins the same room
// over wss, sees the page's participant, and its chat reaches the page.
//
// The certificate is self-signed (openssl CLI), so Chromium runs with
// --ignore-certificate-errors. Needs $PARLEYD, npm playwright-core, Debian
// chromium and openssl; exits 77 (meson: skipped) without them. Runs in a
// loopback-only network namespace when root.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromiumMissing, launchChromium } from '../e2e/lib/chromium.mjs';
import { reexecInNetns } from '../e2e/lib/netns.mjs';
import { waitFor } from './lib/util.mjs';

const require = createRequire(import.meta.url);
let missing = chromiumMissing() || (process.env.PARLEYD ? null : 'PARLEYD is not set');
try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { missing ??= 'no openssl CLI'; }
if (missing) {
	console.log(`SKIP: ${missing}`);
	process.exit(77);
}
await reexecInNetns();

const WebSocket = require('ws');
const T = 30000;
const ROOM = `tls-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'parley-web-tls-'));
const log = [];
let proc = null, srvLog = '', br = null;

after(async () => {
	await br?.close();
	if (proc && proc.exitCode === null) proc.kill('SIGKILL');
	rmSync(dir, { recursive: true, force: true });
});

test('the demo over https joins over wss', { timeout: 120000 }, async () => {
	execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1',
		'-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
	proc = spawn(process.env.PARLEYD, ['--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
		'--set', `server.tls_cert=${join(dir, 'cert.pem')}`, '--set', `server.tls_key=${join(dir, 'key.pem')}`],
	{ stdio: ['ignore', 'pipe', 'pipe'] });
	const port = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`parleyd did not start:\n${srvLog}`)), 15000);
		const on = (d) => {
			srvLog += d;
			const m = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(srvLog);
			if (m) { clearTimeout(timer); resolve(Number(m[1])); }
		};
		proc.stdout.on('data', on);
		proc.stderr.on('data', on);
		proc.on('exit', () => reject(new Error(`parleyd exited:\n${srvLog}`)));
	});
	try {
		br = await launchChromium({ extraArgs: ['--ignore-certificate-errors'], log: (s) => log.push(s) });
		const { page } = br;
		const sockets = [];
		page.on('websocket', (ws) => sockets.push(ws.url()));
		await page.goto(`https://127.0.0.1:${port}/?room=${ROOM}&name=Tess&video=low`);
		assert.equal(await page.evaluate(() => location.protocol), 'https:');
		await page.getByRole('button', { name: 'Join' }).click();
		await page.locator('#call').waitFor({ state: 'visible', timeout: T });
		const me = await waitFor(async () => {
			const s = await page.evaluate(() => window.__parleyStats || null);
			return s && s.state === 'joined' && s.me ? s.me : null;
		}, T, { what: 'the page joined' });
		assert.ok(sockets.length > 0 && sockets.every((u) => u.startsWith(`wss://127.0.0.1:${port}/ws`)), `page sockets: ${sockets}`);

		// a Node client over wss, trusting the certificate
		const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, 'parley.v1', { ca: readFileSync(join(dir, 'cert.pem')) });
		const inbox = [];
		ws.on('message', (d) => inbox.push(JSON.parse(d.toString())));
		await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
		ws.send(JSON.stringify({ type: 'join', id: 1, room: ROOM, display: 'Node' }));
		const joined = await waitFor(() => inbox.find((m) => m.id === 1), T, { what: 'Node joined' });
		assert.equal(joined.type, 'joined', JSON.stringify(joined));
		assert.deepEqual(joined.participants.map((p) => [p.id, p.display]), [[me.id, 'Tess']]);
		ws.send(JSON.stringify({ type: 'chat', id: 2, text: 'hello over wss' }));
		await page.locator('#messages').getByText('hello over wss').waitFor({ timeout: T });
		ws.close();
	} catch (e) {
		console.error(`----- page log -----\n${log.slice(-100).join('\n')}\n----- parleyd -----\n${srvLog}`);
		throw e;
	}
	proc.kill('SIGTERM');
	const code = await new Promise((resolve) => proc.on('exit', (c) => resolve(c)));
	assert.equal(code, 0, srvLog);
});
