// cli.mjs: parleyd's command line, signals and HTTP endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import {
	runParleyd, startServer, serverTest, uniqueRoom, decodeJwtPayload, nowS, withTimeout,
} from './lib/harness.mjs';

/** One raw HTTP/1.1 request (no client-side path normalisation); resolves with the whole response text. */
function rawHttp(port, reqPath) {
	return withTimeout(new Promise((resolve, reject) => {
		const sock = net.connect(port, '127.0.0.1');
		let data = '';
		sock.on('connect', () => sock.write(`GET ${reqPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
		sock.on('data', (d) => { data += d.toString('latin1'); });
		sock.on('end', () => resolve(data));
		sock.on('close', () => resolve(data));
		sock.on('error', reject);
	}), 5000, `raw GET ${reqPath}`);
}

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function b64urlToBuf(s) {
	return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

test('--help exits 0 and prints usage', async () => {
	const r = await runParleyd(['--help']);
	assert.equal(r.signal, null, `killed by ${r.signal}`);
	assert.equal(r.code, 0, `--help exit code ${r.code}; stderr: ${r.stderr}`);
	assert.ok((r.stdout + r.stderr).trim().length > 0, '--help printed nothing');
});

test('--version exits 0 and prints a version', async () => {
	const r = await runParleyd(['--version']);
	assert.equal(r.code, 0, `--version exit code ${r.code}; stderr: ${r.stderr}`);
	assert.match(r.stdout + r.stderr, /\d+\.\d+\.\d+/);
});

test('token subcommand prints an HS256 JWT with the requested claims', async () => {
	const secret = 'cli-secret-1';
	const before = nowS();
	const r = await runParleyd(['token', '--room', 'standup', '--user', 'alice', '--name', 'Alice A', '--ttl', '600', '--auth-secret', secret]);
	assert.equal(r.code, 0, `token exit code ${r.code}; stderr: ${r.stderr}`);
	const tok = r.stdout.trim();
	assert.match(tok, JWT_RE, `not a compact JWT: ${JSON.stringify(r.stdout)}`);
	const [h, p, s] = tok.split('.');
	const header = JSON.parse(b64urlToBuf(h).toString());
	assert.equal(header.alg, 'HS256');
	const sig = createHmac('sha256', secret).update(`${h}.${p}`).digest();
	assert.ok(sig.equals(b64urlToBuf(s)), 'signature is not HMAC-SHA256 with the secret');
	const claims = decodeJwtPayload(tok);
	assert.equal(claims.room, 'standup');
	assert.equal(claims.sub, 'alice');
	assert.equal(claims.name, 'Alice A');
	assert.equal(typeof claims.exp, 'number');
	assert.ok(claims.exp >= before + 590 && claims.exp <= nowS() + 610, `exp ${claims.exp} is not now+600`);
	for (const k of ['publish', 'subscribe', 'chat']) {
		assert.ok(claims[k] === undefined || claims[k] === true, `${k} should default to true: ${JSON.stringify(claims)}`);
	}
});

test('token --no-publish --no-chat --no-subscribe set the booleans false', async () => {
	const r = await runParleyd(['token', '--room', '*', '--user', 'bob', '--no-publish', '--no-chat', '--no-subscribe', '--auth-secret', 's']);
	assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
	const claims = decodeJwtPayload(r.stdout.trim());
	assert.equal(claims.room, '*');
	assert.equal(claims.sub, 'bob');
	assert.equal(claims.publish, false);
	assert.equal(claims.chat, false);
	assert.equal(claims.subscribe, false);
	assert.equal(typeof claims.exp, 'number');
	assert.ok(claims.exp > nowS(), 'default ttl must give a future exp');
});

serverTest('a token from `parleyd token` is accepted by parleyd', { secret: 'shared-secret-xyz' }, async ({ client }) => {
	const room = uniqueRoom();
	const r = await runParleyd(['token', '--room', room, '--user', 'carol', '--name', 'Carol', '--auth-secret', 'shared-secret-xyz']);
	assert.equal(r.code, 0, r.stderr);
	const c = await client();
	const j = await c.join(room, 'ignored', { token: r.stdout.trim() });
	assert.equal(j.room, room);
	assert.equal(j.you.user, 'carol');
	assert.equal(j.you.display, 'Carol');
	// the same token signed with another secret is refused
	const r2 = await runParleyd(['token', '--room', room, '--user', 'carol', '--auth-secret', 'other-secret']);
	const c2 = await client();
	const e = await c2.request({ type: 'join', room, display: 'x', token: r2.stdout.trim() });
	assert.equal(e.type, 'error');
	assert.equal(e.code, 'unauthorized');
});

for (const sig of ['SIGTERM', 'SIGINT']) {
	test(`${sig} makes parleyd exit 0 (idle and with joined clients)`, async () => {
		const srv = await startServer();
		try {
			let r = await srv.signal(sig);
			assert.deepEqual(r, { code: 0, signal: null }, `idle parleyd on ${sig}`);

			await srv.start();
			const room = uniqueRoom();
			const a = await srv.connect();
			const b = await srv.connect();
			await a.join(room, 'A');
			await b.join(room, 'B');
			await a.request({ type: 'chat', text: 'before shutdown' });
			r = await srv.signal(sig);
			assert.deepEqual(r, { code: 0, signal: null }, `busy parleyd on ${sig}`);
			const ca = await a.waitClose(5000);
			const cb = await b.waitClose(5000);
			assert.ok(ca.code && cb.code, 'clients see their connections closed');
		} catch (e) {
			srv.dump(`${sig} test failed`);
			throw e;
		} finally {
			await srv.kill();
		}
	});
}

serverTest('GET /healthz answers 200 JSON {"status":"ok"}', async ({ srv }) => {
	const res = await srv.fetch('/healthz');
	assert.equal(res.status, 200);
	assert.match(res.headers.get('content-type') || '', /json/i);
	const body = await res.json();
	assert.equal(body.status, 'ok');
});

serverTest('GET /healthz carries the signaling and media counters', async ({ srv }) => {
	const body = await (await srv.fetch('/healthz')).json();
	for (const k of ['connections_total', 'messages_in', 'protocol_errors', 'rate_limited', 'chat_acked'])
		assert.equal(typeof body.signaling[k], 'number', `signaling.${k}`);
	for (const k of ['rtp_in', 'rtp_forwarded', 'srtp_errors', 'drops', 'nacks_sent', 'retransmits',
			 'fingerprint_mismatches', 'sdp_rejected', 'twcc_feedbacks'])
		assert.equal(typeof body.media[k], 'number', `media.${k}`);
});

serverTest('GET /stats lists media rooms as a JSON array (empty when idle)', async ({ srv }) => {
	const res = await srv.fetch('/stats');
	assert.equal(res.status, 200);
	assert.match(res.headers.get('content-type') || '', /json/i);
	assert.deepEqual(await res.json(), []);
});

serverTest('GET / serves the web demo as HTML', async ({ srv }) => {
	const res = await srv.fetch('/');
	assert.equal(res.status, 200);
	assert.match(res.headers.get('content-type') || '', /text\/html/i);
	const body = await res.text();
	assert.match(body, /<html|<!doctype html/i);
});

serverTest('an unknown HTTP path is 404, and parleyd keeps serving', async ({ srv, client }) => {
	for (const p of ['/no-such-file-here.txt', '/x/y.js']) {
		const res = await srv.fetch(p);
		const body = await res.text();
		assert.equal(res.status, 404, `GET ${p}: ${res.status} ${res.headers.get('content-type')} ${body.slice(0, 80)}`);
	}
	const c = await client();
	await c.barrier();
});

serverTest('path traversal does not escape the web root', async ({ srv }) => {
	for (const p of ['/../../../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/web-demo/../../../../etc/passwd']) {
		const resp = await rawHttp(srv.port, p);
		assert.match(resp, /^HTTP\/1\.[01] \d{3}/, `GET ${p}: no HTTP response: ${JSON.stringify(resp.slice(0, 100))}`);
		assert.doesNotMatch(resp, /root:[^:]*:0:0:/, `GET ${p} served /etc/passwd`);
	}
	const res = await srv.fetch('/healthz');
	assert.equal(res.status, 200);
	await res.text();
});
