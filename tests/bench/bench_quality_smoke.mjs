// tests/bench/bench_quality_smoke.mjs: `parley-bench quality` against the
// real parleyd.
//
// Starts $PARLEYD on 127.0.0.1:0 with a fresh data dir and runs the
// quality rig (two libparley-client participants encoding live speech-like
// Opus and the numbered VP8 test pattern, decoding and measuring what they
// receive):
//   - clean: every video stream has PSNR > 30 dB, every audio stream an
//     E-model MOS > 4.0, no loss, frames at about the sent rate; the JSON
//     report parses and has the documented fields; the HTML report is
//     well-formed (checked by a small XML tokenizer: balanced tags, one
//     <svg> per plot, no external resource);
//   - --impair loss=5%: the run completes and reports the loss.  What is
//     asserted: the impairment stage of the impaired participant dropped
//     datagrams both ways; audio shows RTP loss (NACKed, as Opus NACK is
//     negotiated, or residual) and concealed frames (repairs come too late
//     for their 20 ms slot) on the streams to and from
//     the impaired participant; video shows NACKed sequence numbers
//     (loss before repair) > 0 in both directions and, repaired, still
//     plays at >= 60 % of the sent frame rate;
//   - --impair delay=40ms,jitter=10ms: the stage's own delay figures and
//     every stream's measured delay show the 40 ms line;
//   - --impair-kernel loss=5% (root only; otherwise the bench must refuse
//     with a clear message and a non-zero exit): parleyd and the clients in
//     network namespaces with an nftables drop rule; the kernel counters
//     show drops and the impaired streams lose audio (NACKed or residual).
// With a sanitizer build (PL_SANITIZE set by meson) the runs are shorter
// and the picture smaller.  parleyd is always killed, whatever fails.
//
// Node 20 built-ins only (node:test, node:child_process).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

const PARLEYD = process.env.PARLEYD;
const PARLEY_BENCH = process.env.PARLEY_BENCH;
if (!PARLEYD || !PARLEY_BENCH) {
	console.error('PARLEYD and PARLEY_BENCH must be set: run through `meson test`');
	process.exit(77);
}
const SANITIZED = (process.env.PL_SANITIZE || 'none') !== 'none';
const DURATION = SANITIZED ? '4' : '6';
const SHAPE = SANITIZED ? ['--size', '320x240', '--fps', '15', '--video-kbps', '400'] : [];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-quality-'));
let server = null;

function killServer() {
	if (server && server.exitCode === null && server.signalCode === null) {
		try { server.kill('SIGKILL'); } catch { /* already gone */ }
	}
}
process.on('exit', () => {
	killServer();
	rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => { killServer(); process.exit(128 + (os.constants.signals[sig] || 1)); });
}
after(killServer);

/** Spawns parleyd; resolves with { proc, port, exited, log() } once it logs its port. */
function startServer() {
	const dataDir = path.join(tmp, `data-${Date.now()}`);
	const proc = spawn(PARLEYD, ['--listen', '127.0.0.1:0', '--data-dir', dataDir],
		{ stdio: ['ignore', 'pipe', 'pipe'] });
	server = proc;
	let log = '';
	const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
	const port = new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`parleyd did not start:\n${log}`)), 15000);
		const onData = (d) => {
			log += d;
			const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
			if (m) { clearTimeout(timer); resolve(Number(m[1])); }
		};
		proc.stdout.on('data', onData);
		proc.stderr.on('data', onData);
		proc.on('error', (e) => { clearTimeout(timer); reject(e); });
		exited.then(({ code, signal }) => {
			clearTimeout(timer);
			reject(new Error(`parleyd exited early (code ${code}, signal ${signal}):\n${log}`));
		});
	});
	return port.then((p) => ({ proc, port: p, exited, log: () => log }));
}

/** Runs the benchmark to completion (SIGKILLed after timeoutMs). */
function runBench(args, timeoutMs) {
	return new Promise((resolve, reject) => {
		const p = spawn(PARLEY_BENCH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
		p.on('error', (e) => { clearTimeout(timer); reject(e); });
		p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, pid: p.pid }); });
	});
}

async function stopServer(srv) {
	if (srv.proc.exitCode !== null || srv.proc.signalCode !== null)
		return;
	srv.proc.kill('SIGTERM');
	const timer = setTimeout(killServer, 10000);
	const { code, signal } = await srv.exited;
	clearTimeout(timer);
	assert.equal(signal, null, `parleyd ended by ${signal}:\n${srv.log()}`);
	assert.equal(code, 0, `parleyd exit status after SIGTERM:\n${srv.log()}`);
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input']);

/**
 * A small well-formedness check of the HTML report, which is written as
 * XML: every tag closes in order, attributes are quoted, entities are
 * known.  Returns the element names seen (with counts).
 */
function checkXmlish(html) {
	let s = html.replace(/^<!DOCTYPE html>\s*/i, '');
	assert.ok(!/<!DOCTYPE/i.test(s), 'one doctype, first');
	const stack = [];
	const seen = new Map();
	const tagRe = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
	let i = 0;
	while (i < s.length) {
		const lt = s.indexOf('<', i);
		const text = s.slice(i, lt < 0 ? s.length : lt);
		for (const m of text.matchAll(/&([^;\s]*);?/g))
			assert.ok(/^(amp|lt|gt|quot|apos|#\d+)$/.test(m[1]) && m[0].endsWith(';'), `bad entity ${m[0]}`);
		assert.ok(!text.includes('>'), `stray '>' in text near ${JSON.stringify(text.slice(0, 40))}`);
		if (lt < 0) break;
		tagRe.lastIndex = lt;
		const m = tagRe.exec(s);
		assert.ok(m, `malformed tag at ${lt}: ${JSON.stringify(s.slice(lt, lt + 60))}`);
		const [, close, name, , selfClose] = m;
		if (close) {
			assert.equal(stack.pop(), name, `</${name}> closes the open element`);
		} else {
			seen.set(name, (seen.get(name) || 0) + 1);
			if (!selfClose) {
				assert.ok(!VOID.has(name), `<${name}> must be self-closed`);
				stack.push(name);
			}
		}
		i = m.index + m[0].length;
	}
	assert.deepEqual(stack, [], 'every element is closed');
	return seen;
}

function checkHtml(file, why) {
	const html = readFileSync(file, 'utf8');
	const seen = checkXmlish(html);
	assert.equal(seen.get('html'), 1, 'one <html>');
	assert.ok((seen.get('svg') || 0) >= 4, `the report has its SVG plots\n${why}`);
	assert.ok((seen.get('polyline') || 0) >= 4, 'the plots have lines');
	assert.ok((seen.get('table') || 0) >= 2, 'video and audio tables');
	assert.ok(!/\s(src|href)=/i.test(html), 'no external resource');
	assert.ok(!/<script/i.test(html), 'no script');
}

/** The JSON fields every report has. */
function checkFields(j, why) {
	assert.equal(j.bench, 'quality');
	assert.equal(typeof j.ok, 'boolean');
	assert.ok(j.duration_s > 0);
	assert.equal(j.config.clients, 2);
	assert.equal(j.clients.length, 2);
	for (const c of j.clients) {
		assert.match(c.id, /./, `${c.name} joined`);
		assert.ok(c.frames_sent > 0 && c.audio_frames_sent > 0, `${c.name} sent media\n${why}`);
		assert.match(c.sub_srtp, /^SRTP_/);
		assert.equal(typeof c.rtt_ms, 'number');
	}
	assert.equal(j.streams.length, 4, 'audio and video each way');
	for (const s of j.streams) {
		assert.ok(['audio', 'video'].includes(s.kind));
		for (const k of ['packets', 'expected', 'lost', 'loss_pct', 'nacked', 'rtx', 'jitter_ms', 'kbps', 'rtt_ms'])
			assert.equal(typeof s.rtp[k], 'number', `rtp.${k}`);
		assert.ok(s.rtp.packets > 0, `${s.from}>${s.to} ${s.kind} received packets\n${why}`);
		if (s.kind === 'video') {
			for (const k of ['frames', 'fps', 'ssim', 'freezes', 'freeze_ms', 'ttff_ms'])
				assert.equal(typeof s[k], 'number', `video ${k}`);
			for (const k of ['mean', 'min', 'p5']) assert.equal(typeof s.psnr_db[k], 'number');
			for (const k of ['p50', 'p95', 'max']) assert.equal(typeof s.delay_ms[k], 'number');
		} else {
			for (const k of ['delay_ms', 'corr', 'level_dbfs', 'concealed_pct', 'mouth_to_ear_ms', 'r', 'mos'])
				assert.equal(typeof s[k], 'number', `audio ${k}`);
		}
	}
	assert.equal(j.series.t.length, j.series.streams.length ? j.series.streams[0].kbps.length : 0);
	assert.equal(j.series.streams.length, 4);
}

/**
 * Prints the figures the subtests assert on as one `# figures {json}` line
 * (per stream: fps/PSNR/MOS/delay/loss; per impaired client: the stage's own
 * counters and delays), before asserting, so a failure or a shrinking margin
 * can be read from the log.
 */
function printFigures(label, j) {
	const r1 = (x) => (typeof x === 'number' ? Math.round(x * 100) / 100 : x);
	const f = {
		run: label,
		streams: (j.streams || []).map((s) => ({
			s: `${s.from}>${s.to} ${s.kind}`,
			...(s.kind === 'video'
				? { fps: r1(s.fps), frames: s.frames, psnr: r1(s.psnr_db?.mean), ssim: r1(s.ssim), delay_p50: r1(s.delay_ms?.p50) }
				: { mos: r1(s.mos), corr: r1(s.corr), delay: r1(s.delay_ms), concealed_pct: r1(s.concealed_pct) }),
			lost: s.rtp?.lost, loss_pct: r1(s.rtp?.loss_pct), nacked: s.rtp?.nacked,
		})),
		stages: (j.clients || []).filter((c) => c.impair).map((c) => ({ client: c.name, ...c.impair })),
	};
	if (j.kernel) f.kernel = j.kernel;
	console.log(`# figures ${JSON.stringify(f)}`);
}

test('parley-bench quality --help, bad values, dispatch', async () => {
	const help = await runBench(['quality', '--help'], 10000);
	assert.equal(help.code, 0, help.stderr);
	assert.match(help.stdout, /--impair-kernel/);
	const bad = await runBench(['quality', '--server', 'ws://127.0.0.1:1/ws', '--impair', 'loss=5%,burst=0.5'], 10000);
	assert.equal(bad.code, 2, 'a bad impairment spec is a usage error');
	assert.match(bad.stderr, /burst/);
	const bad2 = await runBench(['quality', '--server', 'ws://127.0.0.1:1/ws', '--impair-kernel', 'delay=5ms'], 10000);
	assert.equal(bad2.code, 2, '--impair-kernel takes loss only');
	const top = await runBench(['--help'], 10000);
	assert.match(top.stdout, /quality/, 'the subcommand is listed');
});

test('parley-bench quality: clean call, PSNR > 30 dB and MOS > 4.0 on every stream', async () => {
	const srv = await startServer();
	try {
		const json = path.join(tmp, 'clean.json');
		const html = path.join(tmp, 'clean.html');
		const r = await runBench(['quality', '--server', `ws://127.0.0.1:${srv.port}/ws`, '--duration', DURATION,
			'--quiet', '--json', json, '--html', html, ...SHAPE], 120000);
		const why = `bench stdout:\n${r.stdout}\nbench stderr:\n${r.stderr}\nparleyd log:\n${srv.log()}`;
		assert.equal(r.code, 0, `parley-bench exit status\n${why}`);
		assert.match(r.stdout, /PSNR/, 'the human table is printed');
		const j = JSON.parse(readFileSync(json, 'utf8'));
		printFigures('clean', j);
		assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()).streams, j.streams, 'stdout carries the same JSON');
		assert.equal(j.ok, true, why);
		checkFields(j, why);
		for (const s of j.streams) {
			const name = `${s.from}>${s.to} ${s.kind}`;
			if (s.kind === 'video') {
				assert.ok(s.psnr_db.mean > 30, `${name}: PSNR ${s.psnr_db.mean} dB > 30\n${why}`);
				assert.ok(s.ssim > 0.9, `${name}: SSIM ${s.ssim}`);
				assert.ok(s.frames > 0 && s.fps > 0.5 * (SANITIZED ? 15 : 30), `${name}: ${s.fps} fps\n${why}`);
				assert.ok(s.ttff_ms >= 0, `${name}: a first frame`);
				assert.ok(s.delay_ms.p50 > 0 && s.delay_ms.p50 < 500, `${name}: delay ${s.delay_ms.p50} ms`);
			} else {
				assert.ok(s.mos > 4.0, `${name}: MOS ${s.mos} > 4.0\n${why}`);
				assert.ok(s.corr > 0.8, `${name}: the received audio is the source (xcorr ${s.corr})`);
				assert.ok(s.delay_ms > 0 && s.delay_ms < 500, `${name}: audio delay ${s.delay_ms} ms`);
				assert.ok(Math.abs(s.level_dbfs - s.source_level_dbfs) < 3, `${name}: level kept`);
			}
			assert.equal(s.rtp.lost, 0, `${name}: no loss on loopback`);
		}
		for (const c of j.clients) assert.equal(c.impair, null, 'no impairment stage');
		checkHtml(html, why);
	} finally {
		await stopServer(srv);
	}
});

test('parley-bench quality --impair loss=5%: completes and reports the loss', async () => {
	const srv = await startServer();
	try {
		const json = path.join(tmp, 'lossy.json');
		const html = path.join(tmp, 'lossy.html');
		const r = await runBench(['quality', '--server', `ws://127.0.0.1:${srv.port}/ws`, '--duration', DURATION,
			'--quiet', '--impair', 'loss=5%,seed=7', '--json', json, '--html', html, ...SHAPE], 120000);
		const why = `bench stdout:\n${r.stdout}\nbench stderr:\n${r.stderr}\nparleyd log:\n${srv.log()}`;
		assert.equal(r.code, 0, `parley-bench exit status\n${why}`);
		const j = JSON.parse(readFileSync(json, 'utf8'));
		printFigures('loss=5%', j);
		checkFields(j, why);
		assert.equal(j.config.impair, 'loss=5%,seed=7');
		const bad = j.clients.find((c) => c.impaired);
		assert.ok(bad, 'one participant is impaired');
		assert.equal(j.clients.filter((c) => c.impaired).length, 1);
		assert.ok(bad.impair.out.lost > 0 && bad.impair.in.lost > 0, `the stage dropped both ways\n${why}`);
		const outPct = 100 * bad.impair.out.lost / bad.impair.out.packets;
		assert.ok(outPct > 2 && outPct < 9, `about 5 % dropped on the way out (${outPct.toFixed(2)} %)`);
		for (const s of j.streams) {
			const name = `${s.from}>${s.to} ${s.kind}`;
			assert.ok(s.from === bad.name || s.to === bad.name);
			if (s.kind === 'audio') {
				assert.ok(s.rtp.nacked > 0 || s.rtp.loss_pct > 0, `${name}: audio loss reported\n${why}`);
				assert.ok(s.concealed_pct > 0, `${name}: concealed audio frames`);
				assert.ok(s.mos > 1 && s.mos < 4.4, `${name}: MOS ${s.mos} lowered by the loss`);
			} else {
				assert.ok(s.rtp.nacked > 0, `${name}: loss before repair (NACKed) reported\n${why}`);
				assert.ok(s.frames > 0, `${name}: video still decodes`);
				// Repairs arrive late and out of order; the client's
				// reorder buffer still makes frames of them (without it:
				// ~40 % of the frames, each loss costing a keyframe).
				const rate = SANITIZED ? 15 : 30;
				assert.ok(s.fps >= 0.6 * rate, `${name}: ${s.fps} fps of ${rate} despite the loss\n${why}`);
			}
		}
		checkHtml(html, why);
	} finally {
		await stopServer(srv);
	}
});

test('parley-bench quality --impair delay=40ms,jitter=10ms: the delay line adds its delay', async () => {
	const srv = await startServer();
	try {
		const json = path.join(tmp, 'delay.json');
		const r = await runBench(['quality', '--server', `ws://127.0.0.1:${srv.port}/ws`, '--duration', DURATION,
			'--quiet', '--impair', 'delay=40ms,jitter=10ms,seed=3', '--json', json, ...SHAPE], 120000);
		const why = `bench stdout:\n${r.stdout}\nbench stderr:\n${r.stderr}\nparleyd log:\n${srv.log()}`;
		assert.equal(r.code, 0, `parley-bench exit status\n${why}`);
		const j = JSON.parse(readFileSync(json, 'utf8'));
		printFigures('delay=40ms,jitter=10ms', j);
		checkFields(j, why);
		const bad = j.clients.find((c) => c.impaired);
		for (const dir of ['out', 'in']) {
			const d = bad.impair[dir];
			assert.equal(d.lost, 0);
			assert.ok(d.delivered > 100, `${dir}: datagrams went through the stage`);
			// The lower bound proves the delay line.  The upper one only catches a
			// runaway: order keeping pushes the mean above 40 (about 44-46 ms
			// expected) and the mean includes the release lateness of the
			// client's loop, which grows on a loaded host, so 60 ms in both builds.
			assert.ok(d.delay_mean_ms >= 38 && d.delay_mean_ms <= 60, `${dir}: mean stage delay ${d.delay_mean_ms} ms (38..60)`);
			// The stage schedules at most delay + jitter (the unit test proves it
			// exactly); the release also waits for the client's loop (busy
			// decoding at times, DTLS at the start), so only the mean is bounded.
			assert.ok(d.delay_max_ms >= d.delay_mean_ms, `${dir}: max ${d.delay_max_ms} ms`);
		}
		// Every stream crosses one stage of the impaired participant.
		const clean = { audio: 27, video: 3 };
		for (const s of j.streams) {
			const d = s.kind === 'audio' ? s.delay_ms : s.delay_ms.p50;
			assert.ok(d > clean[s.kind] + 30, `${s.from}>${s.to} ${s.kind}: delay ${d} ms includes the 40 ms line\n${why}`);
			if (s.kind === 'audio') assert.ok(s.mos > 4.0, `${s.from}>${s.to}: MOS ${s.mos} barely touched by 40 ms`);
		}
	} finally {
		await stopServer(srv);
	}
});

test('parley-bench quality --impair-kernel loss=5%: nftables in namespaces (root)', async (t) => {
	const isRoot = process.getuid && process.getuid() === 0;
	const json = path.join(tmp, 'kernel.json');
	const r = await runBench(['quality', '--impair-kernel', 'loss=5%', '--parleyd', PARLEYD,
		'--duration', DURATION, '--quiet', '--json', json, ...SHAPE], 150000);
	const why = `bench stdout:\n${r.stdout}\nbench stderr:\n${r.stderr}`;
	if (!isRoot) {
		assert.notEqual(r.code, 0, 'refused without root');
		assert.match(r.stderr, /needs root/, why);
		return;
	}
	if (/not found \(apt-get/.test(r.stderr)) {
		t.skip('ip or nft missing');
		return;
	}
	assert.equal(r.code, 0, `parley-bench exit status\n${why}`);
	const j = JSON.parse(readFileSync(json, 'utf8'));
	printFigures('kernel loss=5%', j);
	checkFields(j, why);
	const m = /: (\d+) of (\d+) UDP datagrams dropped/.exec(j.kernel);
	assert.ok(m, `kernel counters reported: ${j.kernel}`);
	const [dropped, seen] = [Number(m[1]), Number(m[2])];
	assert.ok(seen > 100 && dropped > 0, `nftables dropped ${dropped} of ${seen}`);
	assert.ok(dropped / seen > 0.02 && dropped / seen < 0.09, 'about 5 %');
	assert.ok(j.clients.some((c) => c.kernel_impaired), 'one participant in namespace B');
	for (const s of j.streams.filter((x) => x.kind === 'audio'))
		assert.ok(s.rtp.nacked > 0 || s.rtp.loss_pct > 0, `${s.from}>${s.to} audio: loss reported\n${why}`);
	// nothing left behind
	const left = await new Promise((resolve) => {
		const p = spawn('ip', ['netns', 'list'], { stdio: ['ignore', 'pipe', 'ignore'] });
		let out = '';
		p.stdout.on('data', (d) => { out += d; });
		p.on('close', () => resolve(out));
	});
	assert.ok(!left.includes(`pq-${r.pid}-`), `namespaces removed:\n${left}`);
});
