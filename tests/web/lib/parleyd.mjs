// tests/web/lib/parleyd.mjs: parleyd for the web demo tests, restartable on
// the same port and data directory (tests/e2e/lib/server.mjs removes its
// data dir on stop, and a restart must keep the chat history).
//
//   const srv = await startServer();            // 127.0.0.1:0, fresh data dir
//   srv.port, srv.url (http://127.0.0.1:PORT/), srv.log, srv.dump(why)
//   await srv.stop();                           // SIGTERM (SIGKILL after 5 s); keeps the data dir
//   await srv.start();                          // again, same port and data dir
//   await srv.destroy();                        // stop and remove the data dir
//
// A started parleyd is killed when this process exits, whatever the reason.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LISTEN_RE = /listening on http:\/\/127\.0\.0\.1:(\d+)/;
const LOG_MAX = 4 * 1024 * 1024;
const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export function parleydPath() {
	const p = process.env.PARLEYD;
	if (!p) throw new Error('PARLEYD is not set (meson test sets it; by hand: PARLEYD=build/signaling/parleyd)');
	return p;
}

export async function startServer({ args = [], timeout = 30000 } = {}) {
	const srv = {
		port: 0, dataDir: mkdtempSync(join(tmpdir(), 'parley-web-data-')), log: '', proc: null, exit: null, starts: 0,
		get url() { return `http://127.0.0.1:${this.port}/`; },
		get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; },
		get alive() { return !!this.proc && this.exit === null; },
		dump(why = '') {
			process.stderr.write(`\n----- parleyd output (${why}) -----\n${this.log}\n----- end of parleyd output -----\n`);
		},
		append(d) {
			this.log += d.toString();
			if (this.log.length > LOG_MAX) this.log = '[... earlier output dropped]\n' + this.log.slice(-LOG_MAX / 2);
		},
		async start() {
			const argv = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir, ...args];
			this.starts++;
			this.append(`\n[test: starting parleyd #${this.starts}: ${argv.join(' ')}]\n`);
			const proc = spawn(parleydPath(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
			this.proc = proc;
			this.exit = null;
			live.add(proc);
			const logStart = this.log.length;
			proc.stdout.on('data', (d) => this.append(d));
			proc.stderr.on('data', (d) => this.append(d));
			this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
				live.delete(proc);
				this.exit = { code, signal };
				this.append(`\n[parleyd exited: code=${code} signal=${signal}]\n`);
				resolve(this.exit);
			}));
			const port = await new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`parleyd did not log its port within ${timeout} ms`)), timeout);
				const check = () => {
					const m = LISTEN_RE.exec(this.log.slice(logStart));
					if (m) { clearTimeout(timer); resolve(Number(m[1])); }
				};
				proc.stdout.on('data', check);
				proc.stderr.on('data', check);
				proc.on('error', (e) => { clearTimeout(timer); reject(e); });
				this.exited.then(() => { clearTimeout(timer); reject(new Error('parleyd exited before listening')); });
			});
			if (this.port && port !== this.port) throw new Error(`parleyd came back on port ${port}, not ${this.port}`);
			this.port = port;
			return this;
		},
		async stop() {
			if (!this.proc) return this.exit;
			if (this.exit === null) {
				this.proc.kill('SIGTERM');
				const t = setTimeout(() => { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
				await this.exited;
				clearTimeout(t);
			}
			return this.exit;
		},
		async destroy() {
			const exit = await this.stop();
			rmSync(this.dataDir, { recursive: true, force: true });
			return exit;
		},
	};
	try {
		await srv.start();
	} catch (e) {
		srv.dump(e.message);
		await srv.destroy();
		throw e;
	}
	return srv;
}
