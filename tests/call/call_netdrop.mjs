// tests/call/call_netdrop.mjs: parley-call notices a signaling connection
// that went silent (a network that drops everything, no FIN, no RST) and
// reconnects.
//
// Alice reaches parleyd through a TCP relay written here; Bob connects
// directly.  Once media flows, the relay stops forwarding on Alice's
// connection without closing it.  Alice runs with --idle-timeout 3, so
// libparley-client pings after 1 s of silence and gives the connection up
// after 3 s: she must report "reconnecting" within 10 s, then
// "reconnected" (the relay forwards new connections normally) and keep
// receiving Bob, whose pattern numbers in her recording go on increasing.
// Both exit 0 after SIGINT.
// Needs $PARLEYD and $PARLEY_CALL (meson sets them).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startParleyd } from '../e2e/lib/server.mjs';
import { waitFor, sleep } from '../e2e/lib/util.mjs';
import { PARLEY_CALL, callProc, analyze } from './lib.mjs';

if (!process.env.PARLEYD || !PARLEY_CALL) {
	console.log('SKIP: PARLEYD and PARLEY_CALL must be set (run through meson test)');
	process.exit(77);
}

const tmp = mkdtempSync(join(tmpdir(), 'parley-call-netdrop-'));
let srv, relay;
after(async () => {
	if (process.exitCode && srv) srv.dump('test failed');
	relay?.close();
	await srv?.stop();
	rmSync(tmp, { recursive: true, force: true });
});

/** A TCP relay to port; blackhole() makes every open connection silent. */
function startRelay(port) {
	const conns = [];
	const server = net.createServer((c) => {
		const up = net.connect(port, '127.0.0.1');
		const rec = { c, up, dead: false };
		conns.push(rec);
		c.on('data', (d) => { if (!rec.dead) up.write(d); });
		up.on('data', (d) => { if (!rec.dead) c.write(d); });
		const end = () => { if (!rec.dead) { c.destroy(); up.destroy(); } };
		c.on('error', end); up.on('error', end); c.on('close', end); up.on('close', end);
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
		port: server.address().port,
		connections: () => conns.length,
		blackhole: () => { for (const r of conns) r.dead = true; },
		close: () => { for (const r of conns) { r.c.destroy(); r.up.destroy(); } server.close(); },
	})));
}

test('a silent signaling connection is given up and the call resumes', { timeout: 90000 }, async () => {
	srv = await startParleyd();
	relay = await startRelay(srv.port);
	const room = `netdrop-${randomBytes(3).toString('hex')}`;
	const media = ['--video', 'pattern', '--video-size', '320x240', '--fps', '15', '--video-kbps', '300'];
	const alice = callProc(['--server', `ws://127.0.0.1:${relay.port}/ws`, '--room', room, '--name', 'Alice',
		'--audio', 'tone:440', ...media, '--idle-timeout', '3', '--record', join(tmp, 'alice')], { name: 'Alice' });
	const bob = callProc(['--server', srv.wsUrl, '--room', room, '--name', 'Bob', '--audio', 'tone:660', ...media],
		{ name: 'Bob' });
	await Promise.all([alice.joined, bob.joined]);
	await sleep(4000);
	assert.doesNotMatch(alice.stderr, /reconnecting/, 'an idle but healthy connection is kept (pings answered)');
	const t0 = Date.now();
	relay.blackhole();
	await waitFor(() => /reconnecting \(attempt 1/.test(alice.stderr), 10000, { what: 'Alice gives the silent connection up' });
	const detectMs = Date.now() - t0;
	await waitFor(() => /parley-call: reconnected/.test(alice.stderr), 15000, { what: 'Alice reconnects through the relay' });
	console.log(`# silent connection given up after ${detectMs} ms; relay connections: ${relay.connections()}`);
	assert.ok(detectMs >= 1500, `not before the idle timeout (${detectMs} ms)`);
	await sleep(4000);
	alice.proc.kill('SIGINT');
	bob.proc.kill('SIGINT');
	const [ra, rb] = await Promise.all([alice.done, bob.done]);
	assert.equal(ra.code, 0, ra.stderr);
	assert.equal(rb.code, 0, rb.stderr);
	assert.match(ra.stderr, /1 reconnection\(s\)/);
	// Bob kept his participant id: Alice's recording of him is one file that
	// spans the drop, with the numbers still increasing.
	const ivf = readdirSync(join(tmp, 'alice')).filter((f) => f.startsWith('Bob_') && f.endsWith('.ivf'));
	assert.equal(ivf.length, 1, String(ivf));
	const r = analyze(['--analyze-ivf', join(tmp, 'alice', ivf[0]), '--expect-pattern', '--min-frames', '60']);
	console.log(r.out.replace(/^/gm, '# '));
	assert.equal(r.code, 0, r.out);
});
