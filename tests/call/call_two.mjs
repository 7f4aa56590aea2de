// tests/call/call_two.mjs: two parley-call softphones in a call through the
// real parleyd (issue 6, "Proof": parley-call with two participants; chat
// relay).
//
// Alice sends a 440 Hz tone and Bob a 660 Hz tone, both with the numbered
// test pattern (320x240, 15 fps), each recording the other.  Bob runs for
// --duration 8; Alice has no duration and is stopped with SIGINT after Bob
// ended, so her recordings prove that SIGINT leaves cleanly and finishes
// the files.  While both are in, a line written to each one's stdin must
// come out of the other's stdout as "Name: text".  Then:
//  - both exit 0 and print "parley-call: OK";
//  - each WAV holds the other's tone (--analyze-wav: FFT, most seconds
//    within 5 Hz), and a negative control fails (Bob's recording of Alice
//    is not at 660 Hz);
//  - each IVF decodes to at least 40 frames whose embedded pattern numbers
//    strictly increase (--analyze-ivf --expect-pattern);
//  - parley-call against a port where nothing listens exits 3 with a
//    message, and bad usage exits 2.
// Needs $PARLEYD and $PARLEY_CALL (meson sets them).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startParleyd } from '../e2e/lib/server.mjs';
import { sleep, waitFor } from '../e2e/lib/util.mjs';
import { PARLEY_CALL, callProc, analyze, recordings } from './lib.mjs';

if (!process.env.PARLEYD || !PARLEY_CALL) {
	console.log('SKIP: PARLEYD and PARLEY_CALL must be set (run through meson test)');
	process.exit(77);
}

const tmp = mkdtempSync(join(tmpdir(), 'parley-call-two-'));
let srv;
let alice, bob, ra, rb;
const room = `call-${randomBytes(4).toString('hex')}`;
const media = ['--video', 'pattern', '--video-size', '320x240', '--fps', '15', '--video-kbps', '300'];
const figures = {};

before(async () => {
	srv = await startParleyd();
});
after(async () => {
	if (process.exitCode && srv) srv.dump('test failed');
	await srv?.stop();
	rmSync(tmp, { recursive: true, force: true });
});

test('two parley-calls: chat both ways, SIGINT, exit 0', { timeout: 90000 }, async () => {
	alice = callProc(['--server', srv.wsUrl, '--room', room, '--name', 'Alice', '--audio', 'tone:440',
		...media, '--record', join(tmp, 'alice')], { name: 'Alice' });
	bob = callProc(['--server', srv.wsUrl, '--room', room, '--name', 'Bob', '--audio', 'tone:660',
		...media, '--record', join(tmp, 'bob'), '--duration', '8'], { name: 'Bob' });
	const [aid, bid] = await Promise.all([alice.joined, bob.joined]);
	console.log(`# Alice ${aid}, Bob ${bid} in room ${room}`);
	// both in the room: each one's line must reach the other
	await waitFor(() => /Bob \(p-[0-9a-f]+\) joined|joined \S+ as Alice .*, 1 other/.test(alice.stderr), 10000, { what: 'Alice sees Bob' });
	const ta = `hello from Alice ${randomBytes(3).toString('hex')}`;
	const tb = `hello from Bob, with UTF-8: h\u00e9 \u{1F44B} ${randomBytes(3).toString('hex')}`;
	alice.proc.stdin.write(`${ta}\n`);
	bob.proc.stdin.write(`${tb}\n`);
	await waitFor(() => bob.stdout.includes(`Alice: ${ta}\n`), 10000, { what: `Bob prints Alice's line (stdout: ${JSON.stringify(bob.stdout)})` });
	await waitFor(() => alice.stdout.includes(`Bob: ${tb}\n`), 10000, { what: `Alice prints Bob's line (stdout: ${JSON.stringify(alice.stdout)})` });
	assert.ok(!alice.stdout.includes(ta), 'Alice does not print her own line');

	rb = await bob.done;
	await sleep(500);
	alice.proc.kill('SIGINT');
	ra = await alice.done;
	for (const [n, r] of [['Alice', ra], ['Bob', rb]]) {
		const tail = r.stderr.split('\n').slice(-12).join('\n');
		console.log(`# ${n}: exit ${r.code}\n${tail.replace(/^/gm, '#   ')}`);
		assert.equal(r.code, 0, `${n} exit status (stderr:\n${r.stderr})`);
		assert.match(r.stderr, /parley-call: OK \(2 remote track/);
		assert.match(r.stderr, /\[\s*\d+\.\ds\] 2 in room \| send \d+ kbit\/s \| recv \d+ kbit\/s \| loss [\d.]+% \| rtt \d+ ms/);
		assert.match(r.stderr, /chat: 1 sent, 1 acknowledged, 1 received/);
	}
	assert.match(ra.stderr, /Interrupt, leaving/);
});

test('each WAV recording holds the other side\'s tone (FFT)', () => {
	assert.ok(ra && rb, 'the call ran');
	const a = recordings(join(tmp, 'alice'), 'Bob');
	const b = recordings(join(tmp, 'bob'), 'Alice');
	assert.equal(a.wav.length, 1, 'Alice recorded one audio track of Bob');
	assert.equal(b.wav.length, 1, 'Bob recorded one audio track of Alice');
	const ca = analyze(['--analyze-wav', a.wav[0], '--expect-hz', '660']);
	const cb = analyze(['--analyze-wav', b.wav[0], '--expect-hz', '440']);
	console.log(ca.out.replace(/^/gm, '# '));
	console.log(cb.out.replace(/^/gm, '# '));
	assert.equal(ca.code, 0, ca.out);
	assert.equal(cb.code, 0, cb.out);
	assert.match(ca.out, /PASS/);
	// the check can fail: Alice's tone is not at 660 Hz
	const neg = analyze(['--analyze-wav', b.wav[0], '--expect-hz', '660']);
	assert.equal(neg.code, 1, `negative control: ${neg.out}`);
	const secs = (out) => Number(/: (\d+) of (\d+) seconds/.exec(out)?.[2] || 0);
	assert.ok(secs(ca.out) >= 4 && secs(cb.out) >= 4, 'at least 4 s of audio analysed each');
});

test('each IVF recording decodes to test-pattern frames with increasing numbers', () => {
	assert.ok(ra && rb, 'the call ran');
	for (const [who, dir, other] of [['Alice', 'alice', 'Bob'], ['Bob', 'bob', 'Alice']]) {
		const r = recordings(join(tmp, dir), other);
		assert.equal(r.ivf.length, 1, `${who} recorded one video track of ${other}`);
		const c = analyze(['--analyze-ivf', r.ivf[0], '--expect-pattern', '--min-frames', '40']);
		console.log(c.out.replace(/^/gm, '# '));
		assert.equal(c.code, 0, c.out);
		const m = /(\d+) decoded, (\d+) numbered \((\d+)\.\.(\d+)\), (\d+) unreadable, 0 out of order/.exec(c.out);
		assert.ok(m, c.out);
		figures[`${who}_frames`] = Number(m[2]);
		assert.ok(Number(m[4]) > Number(m[3]));
	}
	console.log(`# figures ${JSON.stringify(figures)}`);
});

test('the checkers refuse bad files without crashing', () => {
	assert.ok(ra && rb, 'the call ran');
	const { ivf, wav } = recordings(join(tmp, 'alice'), 'Bob');
	const notIvf = analyze(['--analyze-ivf', wav[0]]);
	assert.equal(notIvf.code, 2, notIvf.out);
	const notWav = analyze(['--analyze-wav', ivf[0], '--expect-hz', '660']);
	assert.equal(notWav.code, 2, notWav.out);
	// cut inside a frame: the frames before it still decode
	const bytes = readFileSync(ivf[0]);
	const cut = join(tmp, 'cut.ivf');
	writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 7));
	const c = analyze(['--analyze-ivf', cut, '--expect-pattern', '--min-frames', '10']);
	assert.equal(c.code, 0, c.out);
	// garbage after a valid header: no crash, a verdict
	const junk = Buffer.concat([bytes.subarray(0, 32), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 131) & 0xff))]);
	writeFileSync(join(tmp, 'junk.ivf'), junk);
	const j = analyze(['--analyze-ivf', join(tmp, 'junk.ivf')]);
	assert.ok(j.code === 1 || j.code === 0, `junk: exit ${j.code}: ${j.out}`);
});

test('unreachable server: exit 3 with a message; bad usage: exit 2', async () => {
	const c = callProc(['--server', 'ws://127.0.0.1:1/ws', '--room', 'r', '--name', 'n', '--duration', '5']);
	const r = await c.done;
	assert.equal(r.code, 3, r.stderr);
	assert.match(r.stderr, /FAILED: cannot connect to ws:\/\/127\.0\.0\.1:1\/ws/);
	const u = await callProc(['--room', 'r']).done;
	assert.equal(u.code, 2);
	assert.match(u.stderr, /--server, --room and --name are required/);
	const v = await callProc(['--server', srv.wsUrl, '--room', 'r', '--name', 'n', '--audio', '/nonexistent.wav']).done;
	assert.equal(v.code, 2);
	assert.match(v.stderr, /not a readable 16-bit PCM WAV file/);
	const h = await callProc(['--help']).done;
	assert.equal(h.code, 0);
	assert.match(h.stdout, /--record DIR/);
});
