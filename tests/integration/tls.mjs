// tls.mjs: parleyd with [server] tls_cert / tls_key serves https and wss on
// its one port, and nothing in the clear.
//
// A throw-away CA and a server certificate for 127.0.0.1 are made with the
// openssl CLI; clients trust that CA (not rejectUnauthorized:false), so the
// test also proves the server presents the configured chain. Then:
// - wss join, chat and history with Node `ws`; GET /healthz and the demo
//   page over https;
// - a plain ws:// upgrade and a plain http:// GET on the TLS port fail,
//   and a wss client that does not trust the CA is refused;
// - libparley-client over wss:// (`parley-bench chat --insecure`), when
//   $PARLEY_BENCH is set;
// - a certificate without its key, or an unreadable one, stops parleyd at
//   start with a message.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import {
	serverTest, uniqueRoom, makeTmpDir, Client, runParleyd, withTimeout,
} from './lib/harness.mjs';

function haveOpenssl() {
	try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; }
}
if (!haveOpenssl()) {
	console.log('SKIP: no openssl CLI');
	process.exit(77);
}

/** A CA and a server certificate (SAN IP:127.0.0.1) signed by it. */
function makePki() {
	const dir = makeTmpDir('parley-tls-');
	const f = (n) => path.join(dir, n);
	const ossl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'pipe', 'pipe'] });
	ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Parley test CA');
	ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
	writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
	ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
		'-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'));
	return { dir, ca: readFileSync(f('ca.pem')), cert: f('server.pem'), key: f('server.key') };
}

/** One self-signed certificate (its own issuer), SAN IP:127.0.0.1. */
function makeSelfSigned() {
	const dir = makeTmpDir('parley-tls-ss-');
	const f = (n) => path.join(dir, n);
	execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', f('key.pem'), '-out', f('cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1',
		'-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
	return { ca: readFileSync(f('cert.pem')), cert: f('cert.pem'), key: f('key.pem') };
}

const pki = makePki();
const selfSigned = makeSelfSigned();
const tlsOpts = { tls: true, config: { server: { tls_cert: pki.cert, tls_key: pki.key } } };

function get(mod, url, opts = {}) {
	return withTimeout(new Promise((resolve, reject) => {
		const req = mod.get(url, opts, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
		});
		req.on('error', reject);
	}), 5000, `GET ${url}`);
}

serverTest('https and wss on the TLS port: join, chat, history, /healthz, the demo', tlsOpts, async ({ srv }) => {
	assert.match(srv.log, /listening on https:\/\/127\.0\.0\.1:\d+ \(wss at \/ws/);
	assert.ok(srv.url.startsWith('wss://'));
	const room = uniqueRoom();
	const a = await Client.connect(srv.url, { ca: pki.ca, name: 'a' });
	const b = await Client.connect(srv.url, { ca: pki.ca, name: 'b' });
	try {
		// the connection really is TLS 1.2+ with our certificate
		const sock = a.ws._socket;
		assert.ok(sock.encrypted, 'the WebSocket runs over TLS');
		assert.match(sock.getProtocol(), /^TLSv1\.[23]$/);
		assert.equal(sock.getPeerCertificate().subject.CN, '127.0.0.1');

		const ja = await a.join(room, 'Alice');
		await b.join(room, 'Bob');
		assert.equal((await a.next((m) => m.type === 'participant' && m.event === 'joined')).participant.display, 'Bob');
		assert.equal((await a.request({ type: 'chat', text: 'over wss' })).type, 'ack');
		const m = await b.next('chat');
		assert.equal(m.text, 'over wss');
		assert.equal(m.from.id, ja.you.id);
		const h = await b.request({ type: 'history' });
		assert.deepEqual(h.messages.map((x) => x.text), ['over wss']);

		const hz = await get(https, `${srv.httpUrl}/healthz`, { ca: pki.ca });
		assert.equal(hz.status, 200);
		const body = JSON.parse(hz.body);
		assert.equal(body.status, 'ok');
		assert.equal(body.connections, 2);
		const page = await get(https, `${srv.httpUrl}/`, { ca: pki.ca });
		assert.equal(page.status, 200);
		assert.match(page.body, /<html/i);
		// a client offering h2 (as browsers do) gets HTTP/1.1: one code path
		const alpn = await withTimeout(new Promise((resolve, reject) => {
			const s = tls.connect({ host: '127.0.0.1', port: srv.port, ca: pki.ca, ALPNProtocols: ['h2', 'http/1.1'] },
				() => { resolve(s.alpnProtocol); s.destroy(); });
			s.on('error', reject);
		}), 5000, 'TLS handshake');
		assert.equal(alpn, 'http/1.1');
	} finally {
		a.terminate();
		b.terminate();
	}
});

serverTest('nothing in the clear on the TLS port; an untrusted certificate is refused by clients', tlsOpts, async ({ srv }) => {
	const before = JSON.parse((await get(https, `${srv.httpUrl}/healthz`, { ca: pki.ca })).body);
	// plain WebSocket upgrade
	await assert.rejects(Client.connect(`ws://127.0.0.1:${srv.port}/ws`, { name: 'plain-ws', timeout: 3000 }),
		'a plain ws:// upgrade on the TLS port must fail');
	// plain HTTP
	await assert.rejects(get(http, `http://127.0.0.1:${srv.port}/healthz`), 'a plain http GET must fail');
	// wss without trusting the CA: the client refuses the certificate
	await assert.rejects(Client.connect(srv.url, { name: 'no-ca', timeout: 3000 }),
		/self[- ]signed|unable to (get|verify)|certificate/i);
	// the server is fine and served none of it as a session
	const after = JSON.parse((await get(https, `${srv.httpUrl}/healthz`, { ca: pki.ca })).body);
	assert.equal(after.signaling.connections_total, before.signaling.connections_total);
	const c = await Client.connect(srv.url, { ca: pki.ca });
	await c.join(uniqueRoom(), 'Still Works');
	c.terminate();
});

// libparley-client's tls_insecure (lws LCCSCF_ALLOW_SELFSIGNED) accepts a
// self-signed certificate, not one from an unknown CA, so this run uses one.
function bench(args, ms = 60000) {
	return new Promise((resolve, reject) => {
		const p = spawn(process.env.PARLEY_BENCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '', stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		const timer = setTimeout(() => p.kill('SIGKILL'), ms);
		p.on('error', reject);
		p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
	});
}

serverTest('libparley-client over wss:// (parley-bench chat and load --insecure, self-signed certificate)', {
	tls: true, config: { server: { tls_cert: selfSigned.cert, tls_key: selfSigned.key } }, skip: process.env.PARLEY_BENCH ? false : 'PARLEY_BENCH not set',
	args: ['--set', 'limits.chat_per_s=0', '--set', 'limits.messages_per_s=0'], timeout: 120000,
}, async ({ srv }) => {
	const out = await bench(['chat', '--server', srv.url, '--insecure',
		'--senders', '2', '--listeners', '2', '--rate', '100', '--duration', '2', '--warmup', '0.5']);
	assert.equal(out.code, 0, `parley-bench chat over wss:\n${out.stdout}\n${out.stderr}`);
	const j = JSON.parse(out.stdout.trim().split('\n').pop());
	assert.equal(j.bench, 'chat');
	console.log(`# parley-bench chat over wss: sent ${j.sent}, acked ${j.acked}, delivered ${j.delivered}`);
	assert.equal(j.ok, true, j.failure);
	assert.ok(j.acked >= 100 && j.delivered >= 2 * j.acked, `acked ${j.acked}, delivered ${j.delivered}`);
	const hz = JSON.parse((await get(https, `${srv.httpUrl}/healthz`, { ca: selfSigned.ca })).body);
	assert.ok(hz.signaling.chat_acked >= 100, `chat acked over wss: ${hz.signaling.chat_acked}`);

	// media participants whose signaling runs over wss: a full mesh of 2
	const ld = await bench(['load', '--server', srv.url, '--insecure', '--participants', '2', '--duration', '2']);
	assert.equal(ld.code, 0, `parley-bench load over wss:\n${ld.stdout}\n${ld.stderr}`);
	const lj = JSON.parse(ld.stdout.trim().split('\n').pop());
	assert.equal(lj.ok, true, ld.stdout);
	assert.ok(lj.forwarded_packets > 0, `forwarded ${lj.forwarded_packets}`);
	console.log(`# parley-bench load over wss: ${lj.forwarded_packets} packets forwarded`);

	// the TLS private key never reaches the log
	for (const line of readFileSync(selfSigned.key, 'utf8').split('\n')) {
		if (line && !line.startsWith('-----')) assert.ok(!srv.log.includes(line), 'a line of the TLS key is in the log');
	}
});

test('a certificate without its key, or an unreadable one, is a start-up error', async () => {
	const dir = makeTmpDir('parley-tls-bad-');
	const r1 = await runParleyd(['--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'd1'),
		'--set', `server.tls_cert=${pki.cert}`], { timeout: 10000 });
	assert.equal(r1.code, 2, `cert without key: ${JSON.stringify(r1)}`);
	assert.match(r1.stderr, /tls_cert and tls_key must be set together/);
	const r2 = await runParleyd(['--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'd2'),
		'--set', `server.tls_cert=${path.join(dir, 'missing.pem')}`, '--set', `server.tls_key=${pki.key}`], { timeout: 10000 });
	assert.notEqual(r2.code, 0, 'a missing certificate must not start');
	assert.match(r2.stdout + r2.stderr, /not readable/);
	// a key that does not match the certificate
	const other = makePki();
	const r3 = await runParleyd(['--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'd3'),
		'--set', `server.tls_cert=${pki.cert}`, '--set', `server.tls_key=${other.key}`], { timeout: 10000 });
	assert.notEqual(r3.code, 0, `a mismatched key must not start: ${r3.stdout}${r3.stderr}`);
});
