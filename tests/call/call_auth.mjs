// tests/call/call_auth.mjs: parley-call with join tokens, and the cases
// where reconnecting must stop.
//
// parleyd requires tokens (PARLEY_AUTH_SECRET) and listens on a fixed port.
//  1. Carol joins with a token that expires 5 s later; the server ends her
//     session (error unauthorized "token expired", close 4002): she must
//     not try to come back, and exits 1 naming the reason.  Alice, with a
//     long token, receives Carol's media meanwhile.
//  2. parleyd is restarted with another secret: Alice's rejoin is refused
//     (unauthorized); she reports it and exits 1 instead of retrying.
// Needs $PARLEYD and $PARLEY_CALL (meson sets them).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startParleyd } from '../e2e/lib/server.mjs';
import { waitFor } from '../e2e/lib/util.mjs';
import { PARLEY_CALL, callProc } from './lib.mjs';

if (!process.env.PARLEYD || !PARLEY_CALL) {
	console.log('SKIP: PARLEYD and PARLEY_CALL must be set (run through meson test)');
	process.exit(77);
}

const servers = [];
after(async () => {
	if (process.exitCode) for (const s of servers) s.dump('test failed');
	for (const s of servers) await s.stop();
});

const freePort = () => new Promise((resolve, reject) => {
	const s = net.createServer();
	s.on('error', reject);
	s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

function token(secret, room, user, name, ttl) {
	const r = spawnSync(process.env.PARLEYD, ['token', '--room', room, '--user', user, '--name', name,
		'--auth-secret', secret, '--ttl', String(ttl)], { encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	return r.stdout.trim();
}

test('an expired token ends the call without retries; a refused rejoin stops them', { timeout: 90000 }, async () => {
	const port = await freePort();
	const listen = ['--listen', `127.0.0.1:${port}`];
	const s1 = `s1-${randomBytes(8).toString('hex')}`;
	servers.push(await startParleyd({ args: listen, env: { PARLEY_AUTH_SECRET: s1 } }));
	const url = `ws://127.0.0.1:${port}/ws`;
	const room = `auth-${randomBytes(3).toString('hex')}`;
	const media = ['--video', 'pattern', '--video-size', '320x240', '--fps', '15', '--video-kbps', '300'];
	const alice = callProc(['--server', url, '--room', room, '--name', 'ignored', '--token', token(s1, room, 'alice', 'Alice', 3600),
		'--audio', 'tone:440', ...media], { name: 'Alice' });
	const carol = callProc(['--server', url, '--room', room, '--name', 'ignored', '--token', token(s1, room, 'carol', 'Carol', 5),
		'--audio', 'tone:660', ...media], { name: 'Carol' });
	await Promise.all([alice.joined, carol.joined]);
	assert.match(alice.stderr, /joined \S+ as Alice/, 'the token names her');

	const rc = await carol.done;
	console.log(rc.stderr.split('\n').filter((l) => /error|FAILED|reconnect/.test(l)).map((l) => `# Carol: ${l}`).join('\n'));
	assert.equal(rc.code, 1, rc.stderr);
	assert.match(rc.stderr, /FAILED: the server will not take us back \(unauthorized: .*expired/);
	assert.doesNotMatch(rc.stderr, /reconnecting \(attempt/);

	servers[0].proc.kill('SIGKILL');
	await waitFor(() => /reconnecting \(attempt 1/.test(alice.stderr), 10000, { what: 'Alice reconnecting' });
	servers.push(await startParleyd({ args: listen, env: { PARLEY_AUTH_SECRET: `s2-${randomBytes(8).toString('hex')}` } }));
	const ra = await alice.done;
	console.log(ra.stderr.split('\n').filter((l) => /error|FAILED|reconnect|Carol.*frames/.test(l)).map((l) => `# Alice: ${l}`).join('\n'));
	assert.equal(ra.code, 1, ra.stderr);
	assert.match(ra.stderr, /FAILED: the server will not take us back \(unauthorized/);
	assert.match(ra.stderr, /Carol \(p-[0-9a-f]+\) video \S+: [1-9]\d* frames, [1-9]\d* decoded/, 'Alice had received Carol');
});
