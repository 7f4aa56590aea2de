// tests/call/lib.mjs: running parley-call from the tests.
//
// callProc() spawns parley-call with piped stdio and collects its output;
// `joined` resolves with the participant id it prints once in the room,
// `done` with { code, signal, stdout, stderr }.  analyze() runs one of its
// checker modes synchronously.  Every process started here is SIGKILLed
// when the test process exits, whatever failed.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PARLEY_CALL = process.env.PARLEY_CALL;
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export function callProc(args, { name = 'call', verbose = !!process.env.PARLEY_CALL_VERBOSE } = {}) {
	const proc = spawn(PARLEY_CALL, args, { stdio: ['pipe', 'pipe', 'pipe'] });
	live.add(proc);
	const c = { proc, name, stdout: '', stderr: '' };
	let onJoined;
	c.joined = new Promise((resolve) => { onJoined = resolve; });
	proc.stdout.on('data', (d) => { c.stdout += d; });
	proc.stderr.on('data', (d) => {
		c.stderr += d;
		if (verbose) process.stderr.write(`[${name}] ${d}`);
		const m = /parley-call: joined \S+ as .* \((p-[0-9a-f]+)\)/.exec(c.stderr);
		if (m) onJoined(m[1]);
	});
	proc.stdin.on('error', () => { /* it may exit before reading */ });
	c.done = new Promise((resolve) => proc.on('exit', (code, signal) => {
		live.delete(proc);
		resolve({ code, signal, stdout: c.stdout, stderr: c.stderr });
	}));
	return c;
}

/** Runs `parley-call --analyze-...`; returns { code, out }. */
export function analyze(args) {
	const r = spawnSync(PARLEY_CALL, args, { encoding: 'utf8', timeout: 60000 });
	return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The recordings in dir whose names start with prefix, by extension. */
export function recordings(dir, prefix) {
	const files = readdirSync(dir).filter((f) => f.startsWith(`${prefix}_`));
	return {
		wav: files.filter((f) => f.endsWith('.wav')).map((f) => join(dir, f)),
		ivf: files.filter((f) => f.endsWith('.ivf')).map((f) => join(dir, f)),
	};
}
