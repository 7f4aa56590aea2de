// tests/soak/churn.mjs: the churn soak (issue 7, "Faults and load").
//
// parleyd runs while `parley-bench churn` makes 50 libparley-client
// clients join a random one of 5 rooms, publish a small pre-encoded clip,
// chat and leave abruptly -- a leave message, a socket closed without
// one, or SIGKILL of a child process holding some of them -- over and
// over.  The question is whether the server gives everything back.
//
//  1. warm-up: 3 s of `parley-bench chat` (~20k messages of 400 bytes,
//     rate limits off) so that SQLite's page cache, a bounded 2 MiB, is
//     full -- measured: otherwise it fills during the soak, +2 MiB of a
//     ~25 MiB RSS, by design and not a leak; then a short churn run
//     (WARMUP s) so that the allocator's arenas, libnice/OpenSSL one-time
//     state and the media workers' pools exist before anything is
//     measured; then wait until the server holds nothing (below) and
//     QUIET s more (parleyd hands freed memory back to the system on a 5 s
//     tick once sessions have closed, twice: signaling/server.c
//     trim_tick), and take the baseline: RSS, open file descriptors and
//     threads from /proc/PID (the RSS at boot is printed too, not
//     compared: first-use growth is not a leak);
//  2. the soak: churn for SOAK s (PARLEY_SOAK_SECONDS, default 120; 40 in
//     the ASan build), sampling /proc every 5 s for the peak; the bench
//     must report no error, cycles ending in every way (leave, close,
//     kill), and media both ways in nearly every cycle;
//  3. settle: wait (30 s at most) until /healthz shows no connection, no
//     room and no media peer, and /stats no media room -- nobody and
//     nothing left behind -- then QUIET s more and sample again: RSS, FDs
//     and threads within 10 % of the baseline (FDs and threads are small numbers, so
//     10 % means "the same, give or take one");
//  4. parleyd exits 0 on SIGTERM; in an ASan build LeakSanitizer is on
//     (sanitizerEnv) and any leak report fails the test.  There the
//     allocator's quarantine is cut to 16 MiB so that it fills during the
//     warm-up and the RSS comparison stays about leaks, not quarantine;
//     still, ASan's allocator and shadow memory keep their high-water
//     marks (measured: +4-11 % after 40 s, growing with the machine's
//     speed), so there RSS is only reported: LeakSanitizer is the leak
//     check, and the optimized build holds RSS to 10 %.
//
// With PARLEY_SOAK_VALGRIND=/usr/bin/valgrind (the churn_valgrind test)
// parleyd runs under memcheck instead, with a lighter load (12 clients, 3
// rooms, 10 s + 40 s): valgrind must report no error and no definitely or
// indirectly lost block at exit (--error-exitcode), FDs and threads come
// back as above; RSS is not compared (valgrind's own memory dominates).
//
// Figures go to stdout as `# figures {json}` (and to PARLEY_SOAK_JSON if
// set).  Environment: PARLEY_SOAK_SECONDS, PARLEY_SOAK_WARMUP (20, ASan 15),
// PARLEY_SOAK_CLIENTS (50), PARLEY_SOAK_ROOMS (5), PARLEY_SOAK_SEED,
// PARLEY_SOAK_NICE=1 (run the load at nice 10).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ASAN, sanitizerEnv, startParleyd, procSample, serverHolds, runTool, poll, sleep } from './lib/soak.mjs';

const BENCH = process.env.PARLEY_BENCH;
if (!process.env.PARLEYD || !BENCH) {
	console.error('PARLEYD and PARLEY_BENCH must be set: run through `meson test`');
	process.exit(77);
}

const VALGRIND = process.env.PARLEY_SOAK_VALGRIND || '';
const SOAK_S = Number(process.env.PARLEY_SOAK_SECONDS || (VALGRIND ? 40 : ASAN ? 40 : 120));
const WARMUP_S = Number(process.env.PARLEY_SOAK_WARMUP || (VALGRIND ? 10 : ASAN ? 15 : 20));
const CLIENTS = Number(process.env.PARLEY_SOAK_CLIENTS || (VALGRIND ? 12 : 50));
const ROOMS = Number(process.env.PARLEY_SOAK_ROOMS || (VALGRIND ? 3 : 5));
const VALGRIND_ARGS = [VALGRIND, '--leak-check=full', '--show-leak-kinds=definite,indirect',
	'--errors-for-leak-kinds=definite,indirect', '--error-exitcode=99', '--num-callers=30'];
const SEED = Number(process.env.PARLEY_SOAK_SEED || Date.now() % 1000000);
const TOLERANCE = 0.10;
const SETTLE_MS = VALGRIND ? 60000 : 30000;
const QUIET_MS = 12000;                   // two of parleyd's 5 s memory trim ticks, and some
const MIN_MEDIA_SHARE = ASAN ? 0.8 : 0.9;  // of the cycles with media both ways (ASan clients are slow)
const tmp = mkdtempSync(path.join(os.tmpdir(), 'parley-churn-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const within = (now, base, tol = TOLERANCE) => Math.abs(now - base) <= Math.max(1, tol * base);

/** Fills the chat store's page cache (see the header). */
async function chatWarmup(srv) {
	const r = await runTool(BENCH, ['chat', '--server', srv.url, '--room', 'soak-warmup', '--senders', '4',
		'--listeners', '0', '--duration', '3', '--warmup', '0', '--size', '400', '--drain', '30'],
	{ timeoutMs: 120000, env: sanitizerEnv() });
	const acked = /acked\s+(\d+) msgs/.exec(r.stdout)?.[1];
	console.log(`# chat warm-up: ${acked ?? '?'} messages acknowledged`);
	return { r, why: `parley-bench chat (exit ${r.code}):\n${r.stdout}\n${r.stderr.slice(-2000)}` };
}

async function churn(srv, seconds, seed, tag) {
	const json = path.join(tmp, `${tag}.json`);
	const args = ['churn', '--server', srv.url, '--clients', String(CLIENTS), '--rooms', String(ROOMS),
		'--kill-clients', String(Math.max(1, Math.round(CLIENTS / 10))),
		'--duration', String(seconds), '--seed', String(seed), '--json', json];
	const cmd = process.env.PARLEY_SOAK_NICE === '1' ? 'nice' : BENCH;
	const full = cmd === 'nice' ? ['-n', '10', BENCH, ...args] : args;
	const t0 = Date.now();
	const r = await runTool(cmd, full, { timeoutMs: (seconds + 120) * 1000, env: sanitizerEnv() });
	const why = `churn ${tag} (exit ${r.code}, signal ${r.signal}) stdout:\n${r.stdout}\nstderr (tail):\n${r.stderr.slice(-4000)}`;
	let j = null;
	try { j = JSON.parse(readFileSync(json, 'utf8')); } catch { /* asserted below */ }
	console.log(`# ${tag}: ${((Date.now() - t0) / 1000).toFixed(1)} s: ${r.stdout.split('\n').filter((l) => l.startsWith('  ')).join(' |')}`);
	return { r, j, why };
}

/** Waits until the server holds nothing; returns what it held last and how long it took. */
async function settle(srv) {
	const t0 = Date.now();
	let last = null;
	const ok = await poll(async () => {
		last = await serverHolds(srv);
		return last.connections === 0 && last.rooms === 0 && last.media_peers === 0 && last.media_rooms === 0;
	}, SETTLE_MS, 250);
	return { ok: !!ok, last, ms: Date.now() - t0 };
}

test('parley-bench churn: --help, and bad options are usage errors (exit 2)', async () => {
	const help = await runTool(BENCH, ['churn', '--help'], { env: sanitizerEnv() });
	assert.equal(help.code, 0, help.stderr);
	assert.match(help.stdout, /--kill-clients/);
	const top = await runTool(BENCH, ['--help'], { env: sanitizerEnv() });
	assert.match(top.stdout, /churn/, 'the subcommand is listed');
	for (const bad of [['--clients', '0'], ['--dwell', '5,2'], ['--seed', '-1'], ['--kill-clients', '50'],
		['--size', '321x180'], ['--server', 'wss://127.0.0.1:1/ws'], ['stray']]) {
		const args = ['churn', '--server', 'ws://127.0.0.1:1/ws', ...bad];
		const r = await runTool(BENCH, args, { env: sanitizerEnv() });
		assert.equal(r.code, 2, `parley-bench ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
	}
});

test(`churn soak: ${CLIENTS} clients, ${ROOMS} rooms, ${SOAK_S} s${VALGRIND ? ', parleyd under valgrind' : ''}: everything is given back`, { timeout: (SOAK_S + WARMUP_S + 300) * 1000 }, async () => {
	// A 16 MiB quarantine fills during the warm-up (see the header).
	// rate limits off for the chat warm-up; the churn stays far below them
	const args = ['--set', 'limits.chat_per_s=0', '--set', 'limits.messages_per_s=0'];
	const srv = VALGRIND
		? await startParleyd({ args, wrapper: VALGRIND_ARGS, timeoutMs: 120000 })
		: await startParleyd({ args, env: sanitizerEnv('quarantine_size_mb=16') });
	const fig = { clients: CLIENTS, rooms: ROOMS, soak_s: SOAK_S, warmup_s: WARMUP_S, seed: SEED, asan: ASAN, valgrind: !!VALGRIND };
	let stopped = null;
	try {
		fig.boot = procSample(srv.pid);
		const c = await chatWarmup(srv);
		assert.equal(c.r.code, 0, `chat warm-up failed\n${c.why}`);
		const w = await churn(srv, WARMUP_S, SEED, 'warmup');
		assert.equal(w.r.code, 0, `warm-up churn failed\n${w.why}`);
		let s = await settle(srv);
		assert.ok(s.ok, `after the warm-up the server still holds ${JSON.stringify(s.last)}`);
		await sleep(QUIET_MS);
		fig.base = procSample(srv.pid);
		console.log(`# baseline after warm-up: ${JSON.stringify(fig.base)} (at boot ${JSON.stringify(fig.boot)})`);

		const samples = [];
		const timer = setInterval(() => { const x = procSample(srv.pid); if (x) samples.push(x); }, 5000);
		let m;
		try {
			m = await churn(srv, SOAK_S, SEED + 1, 'soak');
		} finally {
			clearInterval(timer);
		}
		// RSS during the churn, a sample a minute (the trend of a long run)
		fig.rss_kb_per_minute = samples.filter((_, i) => i % 12 === 11).map((x) => x.rss_kb);
		fig.peak = {
			rss_kb: Math.max(0, ...samples.map((x) => x.rss_kb)),
			fds: Math.max(0, ...samples.map((x) => x.fds)),
			threads: Math.max(0, ...samples.map((x) => x.threads)),
		};
		fig.bench = m.j && { ...m.j, url: undefined };
		assert.ok(srv.alive, `parleyd died during the soak\n${srv.log().slice(-4000)}`);
		assert.ok(m.j, `no JSON report\n${m.why}`);
		assert.equal(m.j.errors, 0, `the churn saw errors: ${JSON.stringify(m.j.error_kinds)}\n${m.why}`);
		assert.equal(m.r.code, 0, m.why);
		assert.ok(m.j.cycles >= CLIENTS, `only ${m.j.cycles} cycles\n${m.why}`);
		for (const k of ['leave', 'close', 'kill']) assert.ok(m.j.exits[k] > 0, `no "${k}" exits\n${m.why}`);
		assert.ok(m.j.media_cycles >= MIN_MEDIA_SHARE * m.j.cycles, `media both ways in only ${m.j.media_cycles} of ${m.j.cycles} cycles\n${m.why}`);
		assert.ok(m.j.chats_acked > 0, 'chat was acknowledged');

		s = await settle(srv);
		fig.settle_ms = s.ms;
		fig.left_behind = s.last;
		assert.ok(s.ok, `${SETTLE_MS / 1000} s after the churn the server still holds ${JSON.stringify({ ...s.last, healthz: undefined })}`);
		await sleep(QUIET_MS);
		fig.end = procSample(srv.pid);
		fig.signaling = s.last.healthz.signaling;
		console.log(`# end: ${JSON.stringify(fig.end)} (baseline ${JSON.stringify(fig.base)}, peak ${JSON.stringify(fig.peak)})`);
		stopped = await srv.stop();
		fig.exit = { code: stopped.code, signal: stopped.signal };
		console.log(`# figures ${JSON.stringify(fig)}`);
		if (process.env.PARLEY_SOAK_JSON) writeFileSync(process.env.PARLEY_SOAK_JSON, JSON.stringify(fig, null, 1));

		const leak = /ERROR: LeakSanitizer[\s\S]{0,6000}/.exec(stopped.log);
		assert.equal(leak, null, `LeakSanitizer report:\n${leak?.[0]}`);
		assert.ok(!/ERROR: AddressSanitizer|runtime error:/.test(stopped.log), `sanitizer report:\n${stopped.log.slice(-6000)}`);
		if (VALGRIND) {
			const summary = /==\d+== (ERROR SUMMARY: .*)/.exec(stopped.log)?.[1];
			const lost = /==\d+==\s+definitely lost: .*\n==\d+==\s+indirectly lost: .*/.exec(stopped.log)?.[0] ?? 'All heap blocks were freed';
			fig.valgrind_summary = `${summary}; ${lost.replace(/==\d+==\s+/g, '')}`;
			console.log(`# valgrind: ${fig.valgrind_summary}`);
			assert.match(summary ?? '', /^ERROR SUMMARY: 0 errors/, `valgrind:\n${stopped.log.slice(-12000)}`);
		}
		assert.equal(stopped.signal, null, `parleyd ended by ${stopped.signal}`);
		assert.equal(stopped.code, 0, `parleyd exit status after SIGTERM\n${stopped.log.slice(-4000)}`);
		for (const k of VALGRIND || ASAN ? ['fds', 'threads'] : ['fds', 'threads', 'rss_kb']) {
			assert.ok(within(fig.end[k], fig.base[k], TOLERANCE), `${k}: ${fig.end[k]} after the soak vs ${fig.base[k]} at the start (peak ${fig.peak[k]}): more than ${TOLERANCE * 100} % apart`);
		}
	} finally {
		if (!stopped) {
			const r = await srv.stop(10000);
			if (process.env.PARLEY_SOAK_VERBOSE) console.error(r.log.slice(-8000));
		}
	}
});
