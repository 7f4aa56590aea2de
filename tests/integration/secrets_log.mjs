// secrets_log.mjs: no key, ICE password or token ever reaches parleyd's log
// (issue 7, "Security"; shared/STYLE.md, "Logging").
//
// parleyd runs at its most verbose (--log-level trace --log-tags all, and
// libnice's and GLib's own debug output asked for with NICE_DEBUG=all and
// G_MESSAGES_DEBUG=all: libnice's STUN traces print ICE passwords, which
// parleyd's GLib log handler drops) with an auth secret through everything
// that handles secrets:
// - Node clients join with tokens (good, expired, foreign, forged, and a
//   garbage one carrying a marker), chat, read history, a moderator kicks,
//   a 2-second token expires in a live session;
// - a pub offer from a Node client (Chromium's captured SDP) and its answer;
// - two real aiortc peers (tests/integration/lib/secrets_peer.py, when
//   /usr/bin/python3 has aiortc) join with tokens, publish, connect ICE
//   (STUN checks with the ICE passwords), DTLS and SRTP, and decode each
//   other's media;
// then parleyd is stopped (its shutdown lines included) and the whole log
// is searched for: every token (and each one's signature part), the JWT
// secret, every a=ice-pwd value of every SDP exchanged, and the body lines
// of the DTLS private key parleyd generated in its data dir.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverTest, uniqueRoom, assertError, makeJwt, nowS, sleep } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OFFER = readFileSync(path.join(here, '..', 'fixtures', 'sdp', 'captured', 'chromium_offer.sdp'), 'utf8');
const SECRET = `jwt-secret-${Math.random().toString(36).slice(2)}-never-logged`;
const PY = '/usr/bin/python3';

const icePwds = (sdp) => [...sdp.matchAll(/^a=ice-pwd:(\S+)/gm)].map((m) => m[1]);

function runPeers(url, room, tokens) {
	return new Promise((resolve) => {
		const args = [path.join(here, 'lib', 'secrets_peer.py'), '--url', url, '--room', room];
		for (const t of tokens) args.push('--token', t);
		const p = spawn(PY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '', stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		const timer = setTimeout(() => p.kill('SIGKILL'), 90000);
		p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
		p.on('error', () => { clearTimeout(timer); resolve({ code: -1, stdout, stderr }); });
	});
}

serverTest('at --log-level trace, no token, JWT secret, ICE password or DTLS key is logged', {
	// The secret goes in through the environment: the harness writes the
	// command line into srv.log, and a secret has no place on one (ps).
	env: { PARLEY_AUTH_SECRET: SECRET, G_MESSAGES_DEBUG: 'all', NICE_DEBUG: 'all' }, timeout: 150000, args: ['--log-level', 'trace', '--log-tags', 'all'],
}, async ({ srv, client }) => {
	const room = uniqueRoom('secrets');
	const secrets = new Map(); // value -> what it is
	const tok = (claims, exp = nowS() + 600) => {
		const t = makeJwt(SECRET, { exp, ...claims });
		secrets.set(t, `token for ${claims.sub}`);
		secrets.set(t.split('.')[2], `signature of the token for ${claims.sub}`);
		return t;
	};
	const sdps = [];

	// tokens in every outcome
	const mod = await client({ name: 'mod' });
	await mod.join(room, 'Mod', { token: tok({ room, sub: 'mod', moderator: true }) });
	const a = await client({ name: 'a' });
	await a.join(room, 'A', { token: tok({ room, sub: 'alice' }) });
	const x = await client({ name: 'refused' });
	const marker = 'MARKER' + Math.random().toString(36).slice(2);
	secrets.set(marker, 'a garbage token');
	assertError(await x.request({ type: 'join', room, display: 'x', token: `${marker}.${marker}.${marker}` }), 'unauthorized');
	assertError(await x.request({ type: 'join', room, display: 'x', token: tok({ room, sub: 'late' }, nowS() - 10) }), 'unauthorized');
	assertError(await x.request({ type: 'join', room, display: 'x', token: tok({ room: 'elsewhere', sub: 'far' }) }), 'unauthorized');
	const forged = makeJwt('not-the-secret', { room, sub: 'forger', exp: nowS() + 600 });
	secrets.set(forged, 'a forged token');
	assertError(await x.request({ type: 'join', room, display: 'x', token: forged }), 'unauthorized');

	// chat, history, typing
	assert.equal((await a.request({ type: 'chat', text: 'hello at trace level' })).type, 'ack');
	assert.equal((await mod.request({ type: 'history' })).type, 'history');
	a.send({ type: 'typing', active: true });

	// a pub offer and the server's answer
	sdps.push(OFFER);
	const ans = await a.request({ type: 'offer', pc: 'pub', sdp: OFFER }, 20000);
	assert.equal(ans.type, 'answer');
	sdps.push(ans.sdp);
	const sub = await mod.next((m) => m.type === 'offer' && m.pc === 'sub', 10000);
	sdps.push(sub.sdp);

	// a session whose token expires, and a kick
	const s = await client({ name: 'short' });
	await s.join(room, 'Short', { token: tok({ room, sub: 'short' }, nowS() + 2) });
	const k = await client({ name: 'kicked' });
	const jk = await k.join(room, 'Kicked', { token: tok({ room, sub: 'kicked' }) });
	assert.equal((await mod.request({ type: 'kick', participant: jk.you.id })).type, 'kicked');
	assert.equal((await s.waitClose(6000)).code, 4002);

	// real media: two aiortc peers
	let media = 'not run';
	if (existsSync(PY)) {
		const r = await runPeers(srv.url, uniqueRoom('secrets-media'),
			[tok({ room: '*', sub: 'peer1' }), tok({ room: '*', sub: 'peer2' })]);
		if (r.code === 77) {
			media = 'skipped (no aiortc)';
		} else {
			let out = null;
			try { out = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { /* below */ }
			assert.ok(out, `secrets_peer.py printed no JSON (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
			assert.equal(out.ok, true, `aiortc peers: ${out.failure}\n${r.stderr.slice(-3000)}`);
			sdps.push(...out.sdps);
			media = `aiortc peers decoded ${JSON.stringify(out.decoded)}`;
		}
	}
	console.log(`# media: ${media}`);
	await sleep(300);
	await srv.stop();

	secrets.set(SECRET, 'the JWT secret');
	for (const sdp of sdps) for (const pwd of icePwds(sdp)) secrets.set(pwd, 'an ICE password');
	const keyPem = path.join(srv.dataDir, 'dtls-key.pem');
	assert.ok(existsSync(keyPem), 'parleyd generated its DTLS key');
	for (const line of readFileSync(keyPem, 'utf8').split('\n')) {
		if (line && !line.startsWith('-----') && line.length >= 16) secrets.set(line, 'a line of the DTLS private key');
	}
	const pwdCount = [...secrets.values()].filter((v) => v === 'an ICE password').length;
	assert.ok(pwdCount >= (media.startsWith('aiortc') ? 6 : 3), `ICE passwords collected: ${pwdCount}`);

	const log = srv.log;
	assert.ok(log.length > 2000 && /\bdebug\b|\btrace\b/.test(log), 'the log is verbose');
	const leaks = [...secrets].filter(([v]) => log.includes(v)).map(([v, what]) => `${what}: ${v.slice(0, 24)}...`);
	console.log(`# searched ${log.length} bytes of log (${log.split('\n').length} lines) for ${secrets.size} secrets (${pwdCount} ICE passwords)`);
	assert.deepEqual(leaks, [], 'secrets found in the log');
});
