// tests/call/call_restart.mjs: two parley-calls survive a parleyd restart
// (issue 6, "Proof": a client survives a parleyd restart -- here through
// the CLI; client/call/test_reconnect.c does it on the library).
//
// parleyd listens on a fixed free port.  Alice (440 Hz) and Bob (660 Hz),
// both sending the numbered pattern and recording, get media; parleyd is
// SIGKILLed, both report "reconnecting"; a new parleyd starts on the same
// port and both report "reconnected".  After a few seconds both get SIGINT
// and must exit 0.  The server gave everyone new participant ids, so each
// recorded the other twice: the recording after the restart must again be
// the right tone, and its pattern numbers must be above every number of
// the recording before.
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

const tmp = mkdtempSync(join(tmpdir(), 'parley-call-restart-'));
const servers = [];
after(async () => {
	if (process.exitCode) for (const s of servers) s.dump('test failed');
	for (const s of servers) await s.stop();
	rmSync(tmp, { recursive: true, force: true });
});

const freePort = () => new Promise((resolve, reject) => {
	const s = net.createServer();
	s.on('error', reject);
	s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** min and max pattern number and the count of an IVF, via --analyze-ivf. */
function patternRange(file) {
	const r = analyze(['--analyze-ivf', file, '--expect-pattern', '--min-frames', '10']);
	const m = /(\d+) numbered \((\d+)\.\.(\d+)\), \d+ unreadable, (\d+) out of order/.exec(r.out);
	assert.ok(m, r.out);
	return { code: r.code, n: Number(m[1]), first: Number(m[2]), last: Number(m[3]), out: r.out };
}

test('parley-call reconnects after a parleyd restart and receives again', { timeout: 120000 }, async () => {
	const port = await freePort();
	const listen = ['--listen', `127.0.0.1:${port}`];
	servers.push(await startParleyd({ args: listen }));
	assert.equal(servers[0].port, port, 'parleyd took the fixed port');
	const url = `ws://127.0.0.1:${port}/ws`;
	const room = `restart-${randomBytes(3).toString('hex')}`;
	const media = ['--video', 'pattern', '--video-size', '320x240', '--fps', '15', '--video-kbps', '300'];
	const alice = callProc(['--server', url, '--room', room, '--name', 'Alice', '--audio', 'tone:440', ...media,
		'--record', join(tmp, 'alice')], { name: 'Alice' });
	const bob = callProc(['--server', url, '--room', room, '--name', 'Bob', '--audio', 'tone:660', ...media,
		'--record', join(tmp, 'bob')], { name: 'Bob' });
	await Promise.all([alice.joined, bob.joined]);
	await sleep(4000);

	servers[0].proc.kill('SIGKILL');
	await waitFor(() => /reconnecting \(attempt 1/.test(alice.stderr) && /reconnecting \(attempt 1/.test(bob.stderr), 10000,
		{ what: 'both report reconnecting' });
	await sleep(1500);
	servers.push(await startParleyd({ args: listen }));
	await waitFor(() => /parley-call: reconnected/.test(alice.stderr) && /parley-call: reconnected/.test(bob.stderr), 15000,
		{ what: 'both report reconnected' });
	// "reconnected" means rejoined, not that media flows again (ICE and DTLS
	// of the new sessions still to come).  The >= 30 frames check below is on
	// the 5 s window, so start it once each one's status line shows receive
	// > 0 after its reconnect; on a loaded host the media setup could
	// otherwise eat much of the window.
	const receiving = (c) => {
		const i = c.stderr.lastIndexOf('parley-call: reconnected');
		return i >= 0 && /recv [1-9]\d* kbit\/s/.test(c.stderr.slice(i));
	};
	const tR = Date.now();
	await waitFor(() => receiving(alice) && receiving(bob), 30000,
		{ what: 'both show recv > 0 kbit/s in a status line after reconnecting' });
	console.log(`# both receive again ${Date.now() - tR} ms after both reported reconnected`);
	await sleep(5000);
	alice.proc.kill('SIGINT');
	bob.proc.kill('SIGINT');
	const [ra, rb] = await Promise.all([alice.done, bob.done]);
	for (const [n, r] of [['Alice', ra], ['Bob', rb]]) {
		console.log(r.stderr.split('\n').filter((l) => /reconnect|summary|sent:|received:|\(p-.*frames|OK|FAILED/.test(l)).map((l) => `# ${n}: ${l}`).join('\n'));
		assert.equal(r.code, 0, `${n}: exit ${r.code}\n${r.stderr}`);
		assert.match(r.stderr, /1 reconnection\(s\)/);
	}

	for (const [who, dir, other, hz] of [['Alice', 'alice', 'Bob', '660'], ['Bob', 'bob', 'Alice', '440']]) {
		const files = readdirSync(join(tmp, dir)).filter((f) => f.startsWith(`${other}_`));
		const ids = [...new Set(files.map((f) => f.split('_')[1]))];
		assert.equal(ids.length, 2, `${who} recorded ${other} under two participant ids (before and after): ${files}`);
		// which id came first: the one whose pattern numbers are lower
		const ranges = ids.map((id) => ({ id, ...patternRange(join(tmp, dir, files.find((f) => f.includes(`_${id}_`) && f.endsWith('.ivf')))) }));
		ranges.sort((x, y) => x.first - y.first);
		const [before, afterR] = ranges;
		console.log(`# ${who} saw ${other}'s frames ${before.first}..${before.last} (${before.n}) before and ` +
			`${afterR.first}..${afterR.last} (${afterR.n}) after the restart`);
		assert.equal(before.code, 0, before.out);
		assert.equal(afterR.code, 0, afterR.out);
		assert.ok(afterR.first > before.last, 'numbers after the restart continue above those before');
		assert.ok(afterR.n >= 30, `${afterR.n} frames after the restart`);
		const wav = files.find((f) => f.includes(`_${afterR.id}_`) && f.endsWith('.wav'));
		const a = analyze(['--analyze-wav', join(tmp, dir, wav), '--expect-hz', hz]);
		assert.equal(a.code, 0, a.out);
	}
});
