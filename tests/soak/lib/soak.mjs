// tests/soak/lib/soak.mjs: what the soak tests share -- a parleyd process
// with its whole output kept, /proc sampling of its RSS, open file
// descriptors and threads, its HTTP counters, and running a tool to
// completion with a time limit.
//
// Node 20 built-ins only.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The build's sanitizers (meson's b_sanitize, passed as PARLEY_SANITIZE): '' when none. */
export const SANITIZE = (process.env.PARLEY_SANITIZE ?? '').replace(/^none$/, '');
export const ASAN = /address/.test(SANITIZE);

/**
 * The environment for a sanitized parleyd: LeakSanitizer on at exit
 * whatever the caller's ASAN_OPTIONS say (scripts/test sets it too), with
 * the project's suppressions; extra ASAN_OPTIONS appended.
 */
export function sanitizerEnv(extraAsan = '') {
	const env = { ...process.env };
	if (!ASAN) return env;
	const opts = (env.ASAN_OPTIONS ?? '').split(':').filter((o) => o && !/^detect_leaks=/.test(o));
	opts.push('detect_leaks=1');
	if (extraAsan) opts.push(extraAsan);
	env.ASAN_OPTIONS = opts.join(':');
	if (!env.LSAN_OPTIONS) {
		const supp = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'lsan.supp');
		env.LSAN_OPTIONS = `suppressions=${supp}:print_suppressions=0`;
	}
	return env;
}

const live = new Set();
function killAll() {
	for (const p of live) {
		try { p.kill('SIGKILL'); } catch { /* gone */ }
	}
	live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => { killAll(); process.exit(128 + (os.constants.signals[sig] || 1)); });
}

/**
 * Spawns $PARLEYD on 127.0.0.1:0 with a fresh data dir; resolves once it
 * logged its port: { proc, pid, port, url, http, log(), exited, stop() }.
 * stop() sends SIGTERM and resolves { code, signal, log }.  wrapper: a
 * command and its options to run parleyd under (valgrind ...).
 */
export async function startParleyd({ args = [], env = process.env, timeoutMs = 30000, wrapper = [] } = {}) {
	const exe = process.env.PARLEYD;
	if (!exe) throw new Error('PARLEYD is not set');
	const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-soak-'));
	const argv = [...wrapper, exe, '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args];
	const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
	live.add(proc);
	let log = '';
	const append = (d) => {
		log += d;
		if (log.length > 16 << 20) log = '[... earlier output dropped]\n' + log.slice(-(8 << 20));
	};
	proc.stdout.on('data', append);
	proc.stderr.on('data', append);
	const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
		live.delete(proc);
		resolve({ code, signal });
	}));
	const port = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`parleyd did not start:\n${log}`)), timeoutMs);
		const check = () => {
			const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
			if (m) { clearTimeout(timer); resolve(Number(m[1])); }
		};
		proc.stdout.on('data', check);
		proc.stderr.on('data', check);
		proc.on('error', (e) => { clearTimeout(timer); reject(e); });
		exited.then(({ code, signal }) => {
			clearTimeout(timer);
			reject(new Error(`parleyd exited early (code ${code}, signal ${signal}):\n${log}`));
		});
	});
	return {
		proc, pid: proc.pid, port, dataDir,
		url: `ws://127.0.0.1:${port}/ws`,
		http: `http://127.0.0.1:${port}`,
		log: () => log,
		exited,
		get alive() { return proc.exitCode === null && proc.signalCode === null; },
		async stop(timeoutMs2 = 60000) {
			if (this.alive) proc.kill('SIGTERM');
			const timer = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, timeoutMs2);
			const r = await exited;
			clearTimeout(timer);
			rmSync(dataDir, { recursive: true, force: true });
			return { ...r, log };
		},
	};
}

/** { rss_kb, fds, threads } of pid from /proc, or null if it is gone. */
export function procSample(pid) {
	try {
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		const num = (k) => Number(new RegExp(`^${k}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
		return { rss_kb: num('VmRSS'), fds: readdirSync(`/proc/${pid}/fd`).length, threads: num('Threads') };
	} catch {
		return null;
	}
}

/** GET url as JSON (5 s at most). */
export async function getJson(url) {
	const ac = new AbortController();
	const timer = setTimeout(() => ac.abort(), 5000);
	try {
		const r = await fetch(url, { signal: ac.signal });
		return await r.json();
	} finally {
		clearTimeout(timer);
	}
}

/**
 * What the server still holds: signaling connections and rooms, media
 * peers (/healthz) and rooms in the media workers (/stats).
 */
export async function serverHolds(srv) {
	const [h, rooms] = await Promise.all([getJson(`${srv.http}/healthz`), getJson(`${srv.http}/stats`)]);
	return { connections: h.connections, rooms: h.rooms, media_peers: h.media?.peers ?? 0, media_rooms: rooms.length, healthz: h };
}

/** Runs cmd to completion (SIGKILLed after timeoutMs): { code, signal, stdout, stderr }. */
export function runTool(cmd, args, { timeoutMs = 60000, env = process.env, onStderr } = {}) {
	return new Promise((resolve, reject) => {
		const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
		live.add(p);
		let stdout = '';
		let stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; if (onStderr) onStderr(d.toString()); });
		const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
		p.on('error', (e) => { clearTimeout(timer); live.delete(p); reject(e); });
		p.on('close', (code, signal) => { clearTimeout(timer); live.delete(p); resolve({ code, signal, stdout, stderr }); });
	});
}

/** Polls cond() every stepMs until it returns a truthy value (returned) or timeoutMs passes (null). */
export async function poll(cond, timeoutMs, stepMs = 250) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await cond();
		if (v) return v;
		if (Date.now() > end) return null;
		await sleep(stepMs);
	}
}
