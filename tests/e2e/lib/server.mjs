// tests/e2e/lib/server.mjs: the real parleyd for end-to-end tests.
//
//   const srv = await startParleyd();   // $PARLEYD --listen 127.0.0.1:0 --data-dir <fresh tmp>
//   srv.port, srv.wsUrl, srv.log (everything it wrote), srv.dump(why)
//   await srv.stop();                   // SIGTERM, SIGKILL after 5 s; removes the data dir
//
// The port comes from the log line "listening on http://127.0.0.1:PORT".
// Every started server is also killed on process exit and on fatal signals,
// so a crashed or timed-out test never leaves a parleyd behind.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, constants } from 'node:os';
import { join } from 'node:path';

const LISTEN_RE = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const LOG_MAX = 8 * 1024 * 1024;
const live = new Set();

function killAll() {
	for (const s of live) {
		try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
		try { rmSync(s.dataDir, { recursive: true, force: true }); } catch { /* ignore */ }
	}
	live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => { killAll(); process.exit(128 + (constants.signals[sig] || 1)); });
}

export function parleydPath() {
	const p = process.env.PARLEYD;
	if (!p) throw new Error('PARLEYD is not set: run through `meson test` or set PARLEYD=/path/to/parleyd');
	return p;
}

export async function startParleyd({ args = [], env = {}, timeout = 30000 } = {}) {
	const exe = parleydPath();
	const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-data-'));
	const argv = ['--listen', '127.0.0.1:0', '--data-dir', dataDir, ...(process.env.PARLEYD_ARGS ? process.env.PARLEYD_ARGS.split(' ') : []), ...args];
	const proc = spawn(exe, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
	const srv = {
		proc, dataDir, port: 0, log: '', exit: null,
		get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; },
		get alive() { return this.exit === null; },
		dump(why = '') {
			process.stderr.write(`\n----- parleyd stderr (${why}) -----\n${this.log}\n----- end of parleyd stderr -----\n`);
		},
		async stop() {
			if (this.exit === null) {
				proc.kill('SIGTERM');
				const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(t);
			}
			live.delete(this);
			rmSync(dataDir, { recursive: true, force: true });
			return this.exit;
		},
	};
	live.add(srv);
	const append = (d) => {
		srv.log += d.toString();
		if (srv.log.length > LOG_MAX) srv.log = '[... earlier output dropped]\n' + srv.log.slice(-LOG_MAX / 2);
	};
	proc.stdout.on('data', append);
	proc.stderr.on('data', append);
	const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
		srv.exit = { code, signal };
		append(`\n[parleyd exited: code=${code} signal=${signal}]\n`);
		resolve(srv.exit);
	}));
	try {
		srv.port = await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`parleyd did not log its port within ${timeout} ms`)), timeout);
			const check = () => {
				const m = LISTEN_RE.exec(srv.log);
				if (m) { clearTimeout(timer); resolve(Number(m[1])); }
			};
			proc.stderr.on('data', check);
			proc.stdout.on('data', check);
			proc.on('error', (e) => { clearTimeout(timer); reject(e); });
			exited.then(() => { clearTimeout(timer); reject(new Error('parleyd exited before listening')); });
		});
	} catch (e) {
		srv.dump(e.message);
		await srv.stop();
		throw e;
	}
	return srv;
}
