// tests/call/call_files.mjs: parley-call's file sources, each proven by
// what the other side records.
//
// Room 1: "Src" sends a 660 Hz tone and the numbered test pattern; "Rec"
// sends nothing and records Src as WAV, IVF and (--record-ogg) Ogg Opus.
// Room 2 replays those files through two more parley-calls:
//   "Wav"  --audio Src.wav (encoded again)   --video Src.ivf (pre-encoded,
//          sent as is, paced by its pts)
//   "Ogg"  --audio Src.opus (pre-encoded)    --video a Y4M written here
//          (160x120, encoded)
// and each records the other.  Asserts: all exit 0; Ogg's recording of
// Wav is a 660 Hz tone and carries the pattern numbers in increasing order
// (an IVF source starts over at its first frame when a keyframe is asked
// for, so up to 3 steps back are allowed); Wav's recording of Ogg is a
// 660 Hz tone (the Opus packets went through untouched) and at least 30
// decodable 160x120 frames.
// Needs $PARLEYD and $PARLEY_CALL (meson sets them).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startParleyd } from '../e2e/lib/server.mjs';
import { PARLEY_CALL, callProc, analyze, recordings } from './lib.mjs';

if (!process.env.PARLEYD || !PARLEY_CALL) {
	console.log('SKIP: PARLEYD and PARLEY_CALL must be set (run through meson test)');
	process.exit(77);
}

const tmp = mkdtempSync(join(tmpdir(), 'parley-call-files-'));
let srv;
before(async () => { srv = await startParleyd(); });
after(async () => {
	if (process.exitCode && srv) srv.dump('test failed');
	await srv?.stop();
	rmSync(tmp, { recursive: true, force: true });
});

const base = () => ['--server', srv.wsUrl, '--quiet'];
const small = ['--video-size', '320x240', '--fps', '15', '--video-kbps', '300'];

async function expectOk(c, who) {
	const r = await c.done;
	assert.equal(r.code, 0, `${who}: exit ${r.code}\n${r.stderr}`);
	return r;
}

/** A 4:2:0 Y4M of n frames: a moving luma gradient and a bright square. */
function writeY4m(path, w, h, n) {
	const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F15:1 Ip A1:1 C420jpeg\n`)];
	const cw = w / 2, ch = h / 2;
	for (let f = 0; f < n; f++) {
		const y = Buffer.alloc(w * h);
		for (let r = 0; r < h; r++) {
			for (let c = 0; c < w; c++) y[r * w + c] = (c + r + f * 4) & 0xff;
		}
		const x0 = (f * 3) % (w - 32);
		for (let r = 40; r < 72; r++) y.fill(235, r * w + x0, r * w + x0 + 32);
		parts.push(Buffer.from('FRAME\n'), y, Buffer.alloc(cw * ch, 100 + f % 50), Buffer.alloc(cw * ch, 150));
	}
	writeFileSync(path, Buffer.concat(parts));
}

let src;
test('room 1: record a tone and the pattern as WAV, IVF and Ogg Opus', { timeout: 60000 }, async () => {
	const room = `files1-${randomBytes(3).toString('hex')}`;
	const s = callProc([...base(), '--room', room, '--name', 'Src', '--audio', 'tone:660', '--video', 'pattern',
		...small, '--duration', '6']);
	const r = callProc([...base(), '--room', room, '--name', 'Rec', '--audio', 'none', '--video', 'none',
		'--record', join(tmp, 'rec'), '--record-ogg', '--duration', '6']);
	await expectOk(s, 'Src');
	await expectOk(r, 'Rec');
	const f = recordings(join(tmp, 'rec'), 'Src');
	const { readdirSync } = await import('node:fs');
	const opus = readdirSync(join(tmp, 'rec')).filter((x) => x.startsWith('Src_') && x.endsWith('.opus'));
	assert.equal(f.wav.length, 1);
	assert.equal(f.ivf.length, 1);
	assert.equal(opus.length, 1);
	src = { wav: f.wav[0], ivf: f.ivf[0], ogg: join(tmp, 'rec', opus[0]) };
	console.log(`# sources: ${JSON.stringify(src)}`);
});

test('room 2: WAV + IVF (as is) and Ogg Opus (as is) + Y4M sources arrive intact', { timeout: 60000 }, async () => {
	assert.ok(src, 'room 1 produced the files');
	const y4m = join(tmp, 'moving.y4m');
	writeY4m(y4m, 160, 120, 45);
	const room = `files2-${randomBytes(3).toString('hex')}`;
	const w = callProc([...base(), '--room', room, '--name', 'Wav', '--audio', src.wav, '--video', src.ivf,
		'--record', join(tmp, 'wav'), '--duration', '6']);
	const o = callProc([...base(), '--room', room, '--name', 'Ogg', '--audio', src.ogg, '--video', y4m,
		'--record', join(tmp, 'ogg'), '--duration', '6']);
	await expectOk(w, 'Wav');
	await expectOk(o, 'Ogg');

	const ofW = recordings(join(tmp, 'ogg'), 'Wav');
	const a1 = analyze(['--analyze-wav', ofW.wav[0], '--expect-hz', '660']);
	const v1 = analyze(['--analyze-ivf', ofW.ivf[0], '--expect-pattern', '--min-frames', '30', '--max-restarts', '3']);
	const ofO = recordings(join(tmp, 'wav'), 'Ogg');
	const a2 = analyze(['--analyze-wav', ofO.wav[0], '--expect-hz', '660']);
	const v2 = analyze(['--analyze-ivf', ofO.ivf[0], '--min-frames', '30']);
	for (const x of [a1, v1, a2, v2]) console.log(x.out.replace(/^/gm, '# '));
	assert.equal(a1.code, 0, `WAV source: ${a1.out}`);
	assert.equal(v1.code, 0, `IVF source: ${v1.out}`);
	assert.equal(a2.code, 0, `Ogg source: ${a2.out}`);
	assert.equal(v2.code, 0, `Y4M source: ${v2.out}`);
	assert.match(v2.out, /VP80 160x120/);
});
