// tests/integration/lib/harness.mjs: start the real parleyd and talk to it.
//
// - startServer() spawns $PARLEYD on 127.0.0.1:0 with a fresh data dir,
//   parses the port from its log, keeps its whole output (printed on
//   failure) and is always killed at the end (serverTest's finally, the
//   root after() hook, process exit and fatal signals).
// - Client wraps a `ws` WebSocket: an inbox of parsed messages, next() with
//   a matcher and a timeout, request() with an auto id, close tracking.
// - Every wait has a timeout so that nothing hangs.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

// require() honours NODE_PATH (meson sets it); a plain ESM import would not.
const require = createRequire(import.meta.url);
export const WebSocket = require('ws');

export const PARLEYD = process.env.PARLEYD;
if (!PARLEYD) {
	console.error('PARLEYD is not set: run through `meson test` or set PARLEYD=/path/to/parleyd');
	process.exit(77);
}

/** The given keys of o (protocol objects may grow additive fields). */
export const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o && k in o).map((k) => [k, o[k]]));
/** A participant entry reduced to the fields the contract defines. */
export const pent = (p) => pick(p, ['id', 'display', 'tracks']);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* ------------------------------------------------------------------ */
/* cleanup registry                                                    */

const liveServers = new Set();
const liveClients = new Set();
const tmpDirs = new Set();
let keepTmp = !!process.env.PARLEY_IT_KEEP;

function killAllNow() {
	for (const c of liveClients) {
		try { c.ws.terminate(); } catch { /* ignore */ }
	}
	liveClients.clear();
	for (const s of liveServers) {
		try { if (s.proc && s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL'); } catch { /* ignore */ }
	}
	liveServers.clear();
	if (!keepTmp) {
		for (const d of tmpDirs) {
			try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
		}
		tmpDirs.clear();
	}
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		killAllNow();
		process.exit(128 + (os.constants.signals[sig] || 1));
	});
}
after(async () => {
	const stops = [];
	for (const s of liveServers) stops.push(s.kill().catch(() => {}));
	await Promise.all(stops);
	killAllNow();
});

export function makeTmpDir(prefix = 'parley-it-') {
	const d = mkdtempSync(path.join(os.tmpdir(), prefix));
	tmpDirs.add(d);
	return d;
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

let uniq = 0;
export function uniqueRoom(prefix = 'room') {
	uniq++;
	return `${prefix}-${process.pid}-${uniq}-${randomBytes(3).toString('hex')}`;
}

export function withTimeout(promise, ms, what) {
	let timer;
	return Promise.race([
		promise,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
		}),
	]).finally(() => clearTimeout(timer));
}

/** Polls cond() until true or timeout. */
export async function waitFor(cond, ms, what, step = 20) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await cond();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
		await sleep(step);
	}
}

export function iniText(cfg) {
	if (typeof cfg === 'string') return cfg;
	let out = '';
	for (const [group, kv] of Object.entries(cfg)) {
		out += `[${group}]\n`;
		for (const [k, v] of Object.entries(kv)) out += `${k}=${v}\n`;
		out += '\n';
	}
	return out;
}

function b64url(buf) {
	return Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** An HS256 JWT. opts.alg / opts.header override the header; opts.badSig corrupts the signature. */
export function makeJwt(secret, claims, opts = {}) {
	const header = opts.header ?? { alg: opts.alg ?? 'HS256', typ: 'JWT' };
	const h = b64url(JSON.stringify(header));
	const p = b64url(JSON.stringify(claims));
	let sig = b64url(createHmac('sha256', secret).update(`${h}.${p}`).digest());
	if (opts.noSig) sig = '';
	return `${h}.${p}.${sig}`;
}

export function decodeJwtPayload(token) {
	const parts = token.split('.');
	return JSON.parse(Buffer.from(parts[1].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
}

export const nowS = () => Math.floor(Date.now() / 1000);

/** Runs `$PARLEYD args...` to completion (killed after timeout ms). */
export function runParleyd(args, { env, timeout = 10000, input } = {}) {
	return new Promise((resolve, reject) => {
		const p = spawn(PARLEYD, args, { env: { ...process.env, ...(env || {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		const timer = setTimeout(() => { p.kill('SIGKILL'); }, timeout);
		p.on('error', (e) => { clearTimeout(timer); reject(e); });
		p.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout, stderr });
		});
		if (input !== undefined) p.stdin.end(input); else p.stdin.end();
	});
}

/* ------------------------------------------------------------------ */
/* parleyd process                                                     */

const LISTEN_RE = /listening on https?:\/\/127\.0\.0\.1:(\d+)/;
const LOG_MAX = 4 * 1024 * 1024;

export class Server {
	constructor(opts = {}) {
		this.opts = opts;
		this.base = makeTmpDir('parleyd-it-');
		this.dataDir = opts.dataDir ?? path.join(this.base, 'data');
		mkdirSync(this.dataDir, { recursive: true });
		this.configPath = null;
		if (opts.config !== undefined) {
			this.configPath = path.join(this.base, 'parleyd.ini');
			writeFileSync(this.configPath, iniText(opts.config));
		}
		this.log = '';
		this.logDropped = 0;
		this.proc = null;
		this.port = 0;
		this.generation = 0;
		this.exitInfo = null;
		this.expectExit = false;
	}

	args() {
		const a = ['--listen', '127.0.0.1:0', '--data-dir', this.dataDir];
		if (this.configPath) a.push('--config', this.configPath);
		if (this.opts.secret) a.push('--auth-secret', this.opts.secret);
		if (this.opts.args) a.push(...this.opts.args);
		return a;
	}

	_append(s) {
		this.log += s;
		if (this.log.length > LOG_MAX) {
			const cut = this.log.length - LOG_MAX / 2;
			this.logDropped += cut;
			this.log = this.log.slice(cut);
		}
	}

	/** Spawns parleyd and resolves once it logged its port. */
	start(timeout = 15000) {
		this.generation++;
		const gen = this.generation;
		this._append(`\n===== parleyd start #${gen}: ${PARLEYD} ${this.args().join(' ')}\n`);
		const env = { ...process.env, ...(this.opts.env || {}) };
		if (!this.opts.env || !('PARLEY_AUTH_SECRET' in this.opts.env)) delete env.PARLEY_AUTH_SECRET;
		const proc = spawn(PARLEYD, this.args(), { env, stdio: ['ignore', 'pipe', 'pipe'] });
		this.proc = proc;
		this.exitInfo = null;
		this.expectExit = false;
		liveServers.add(this);
		this.exited = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				this.exitInfo = { code, signal };
				this._append(`\n===== parleyd #${gen} exited: code=${code} signal=${signal}\n`);
				resolve({ code, signal });
			});
		});
		return withTimeout(new Promise((resolve, reject) => {
			let seen = '';
			const onData = (d) => {
				const s = d.toString();
				this._append(s);
				if (this.port === 0 || gen !== this._portGen) {
					seen += s;
					const m = LISTEN_RE.exec(seen);
					if (m) {
						this.port = Number(m[1]);
						this._portGen = gen;
						resolve(this);
					}
				}
			};
			this.port = 0;
			proc.stderr.on('data', onData);
			proc.stdout.on('data', onData);
			proc.on('error', (e) => reject(e));
			proc.on('exit', (code, signal) => reject(new Error(`parleyd exited before listening (code=${code} signal=${signal})\n${this.tail()}`)));
		}), timeout, 'parleyd to log "listening on http://127.0.0.1:PORT"').catch(async (e) => {
			await this.kill();
			throw e;
		});
	}

	// opts.tls: parleyd was given a certificate (tests/integration/tls.mjs).
	get url() { return `${this.opts.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ws`; }
	get httpUrl() { return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`; }
	get alive() { return this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }

	tail(lines = 150) {
		const all = this.log.split('\n');
		const t = all.slice(-lines).join('\n');
		return (all.length > lines || this.logDropped ? `[... ${all.length - lines} earlier lines omitted]\n` : '') + t;
	}

	dump(reason = '') {
		console.error(`\n----- parleyd output (${reason}) data dir ${this.dataDir} -----\n${this.tail(200)}\n----- end of parleyd output -----`);
	}

	/** Sends sig and waits for the exit; SIGKILL after timeout. */
	async signal(sig, timeout = 5000) {
		if (!this.alive) return this.exitInfo;
		this.expectExit = true;
		this.proc.kill(sig);
		try {
			return await withTimeout(this.exited, timeout, `parleyd to exit on ${sig}`);
		} catch (e) {
			this.proc.kill('SIGKILL');
			await withTimeout(this.exited, 5000, 'parleyd to exit on SIGKILL').catch(() => {});
			throw e;
		}
	}

	/** Clean stop: SIGTERM, must exit with code 0. */
	async stop(timeout = 5000) {
		if (!this.alive) return this.exitInfo;
		const r = await this.signal('SIGTERM', timeout);
		liveServers.delete(this);
		return r;
	}

	async kill() {
		if (this.alive) {
			this.expectExit = true;
			this.proc.kill('SIGKILL');
			await withTimeout(this.exited, 5000, 'parleyd to exit on SIGKILL').catch(() => {});
		}
		liveServers.delete(this);
		return this.exitInfo;
	}

	/** Stops (SIGTERM unless hard) and starts again on the same data dir and config. */
	async restart({ hard = false } = {}) {
		if (hard) await this.kill(); else await this.stop();
		return this.start();
	}

	/** Throws if parleyd died without being asked to. */
	assertAlive(what = '') {
		if (!this.alive) {
			throw new Error(`parleyd died ${what}: ${JSON.stringify(this.exitInfo)}`);
		}
	}

	async connect(opts = {}) {
		this.assertAlive('before connect');
		return Client.connect(this.url, opts);
	}

	async fetch(p, opts = {}) {
		return withTimeout(fetch(this.httpUrl + p, opts), opts.timeout ?? 5000, `GET ${p}`);
	}
}

export async function startServer(opts = {}) {
	const s = new Server(opts);
	await s.start();
	return s;
}

/**
 * A node:test test with its own parleyd. fn({srv, t, client}) where
 * client(opts) opens (and later closes) a connection. The server must not
 * die during the test and must exit with code 0 on SIGTERM afterwards.
 * On failure the server's output is printed.
 */
export function serverTest(name, opts, fn) {
	if (typeof opts === 'function') { fn = opts; opts = {}; }
	const { timeout = 60000, skip, ...srvOpts } = opts;
	test(name, { timeout, skip }, async (t) => {
		const srv = new Server(srvOpts);
		const clients = [];
		let failed = null;
		try {
			await srv.start();
			const client = async (copts) => {
				const c = await srv.connect(copts);
				clients.push(c);
				return c;
			};
			await fn({ srv, t, client });
			if (!srv.alive && !srv.expectExit) srv.assertAlive('during the test');
		} catch (e) {
			failed = e;
		}
		for (const c of clients) c.terminate();
		try {
			if (srv.alive) {
				const r = await srv.stop();
				if (!failed && r && (r.code !== 0 || r.signal)) {
					failed = new Error(`parleyd did not exit cleanly on SIGTERM: ${JSON.stringify(r)}`);
				}
			}
		} catch (e) {
			if (!failed) failed = e;
		}
		await srv.kill();
		if (failed) {
			srv.dump(`test "${name}" failed: ${failed.message.split('\n')[0]}`);
			throw failed;
		}
	});
}

/* ------------------------------------------------------------------ */
/* WebSocket client                                                    */

function toMatcher(m) {
	if (m === undefined || m === null) return () => true;
	if (typeof m === 'function') return m;
	if (typeof m === 'string') return (msg) => msg.type === m;
	if (typeof m === 'object') {
		return (msg) => Object.entries(m).every(([k, v]) => msg[k] === v);
	}
	throw new Error('bad matcher');
}

function describe(m) {
	if (typeof m === 'string') return `type "${m}"`;
	if (typeof m === 'function') return m.name || m.toString().slice(0, 80);
	return JSON.stringify(m);
}

let clientSeq = 0;

export class Client {
	constructor(ws, name) {
		this.ws = ws;
		this.name = name;
		this.inbox = [];
		this.waiters = [];
		this.counts = {};
		this.received = 0;
		this.nonJson = [];
		this.dropTypes = new Set();
		this.onMessage = null;
		this.nextId = 1;
		this.closeInfo = null;
		this.closed = new Promise((resolve) => {
			ws.on('close', (code, reason) => {
				this.closeInfo = { code, reason: reason.toString() };
				liveClients.delete(this);
				resolve(this.closeInfo);
				for (const w of this.waiters.splice(0)) {
					w.reject(new Error(`[${this.name}] connection closed (${code} ${reason}) while waiting for ${w.desc}; inbox: ${this.inboxSummary()}`));
				}
			});
		});
		ws.on('error', (e) => { this.lastError = e; });
		ws.on('message', (data, isBinary) => {
			this.received++;
			let msg;
			if (isBinary) {
				this.nonJson.push(data);
				return;
			}
			try {
				msg = JSON.parse(data.toString());
			} catch {
				this.nonJson.push(data.toString());
				return;
			}
			const type = msg && msg.type;
			this.counts[type] = (this.counts[type] || 0) + 1;
			if (this.onMessage) this.onMessage(msg);
			for (let i = 0; i < this.waiters.length; i++) {
				const w = this.waiters[i];
				if (w.match(msg)) {
					this.waiters.splice(i, 1);
					w.resolve(msg);
					return;
				}
			}
			if (!this.dropTypes.has(type)) this.inbox.push(msg);
		});
	}

	static connect(url, { protocol = 'parley.v1', timeout = 5000, name, headers, ...wsOpts } = {}) {
		clientSeq++;
		const cname = name ?? `c${clientSeq}`;
		const ws = protocol === null ? new WebSocket(url, { headers, ...wsOpts }) : new WebSocket(url, protocol, { headers, ...wsOpts });
		const c = new Client(ws, cname);
		liveClients.add(c);
		return withTimeout(new Promise((resolve, reject) => {
			ws.once('open', () => resolve(c));
			ws.once('error', (e) => reject(e));
			ws.once('unexpected-response', (req, res) => reject(new Error(`unexpected HTTP ${res.statusCode} on upgrade`)));
		}), timeout, `[${cname}] WebSocket open`).catch((e) => { ws.terminate(); throw e; });
	}

	get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

	inboxSummary() {
		const s = this.inbox.slice(-8).map((m) => JSON.stringify(m).slice(0, 200));
		return `${this.inbox.length} unread [${s.join(', ')}]`;
	}

	send(obj) {
		this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
	}

	sendRaw(data, opts = {}) {
		this.ws.send(data, opts);
	}

	/** Sends obj (with a fresh id unless it has one) and waits for the reply with that id. */
	request(obj, timeout = 5000) {
		if (obj.id === undefined) obj.id = this.nextId++;
		const id = obj.id;
		const p = this.next((m) => m.id === id, timeout, `reply to ${obj.type} id=${JSON.stringify(id)}`);
		this.send(obj);
		return p;
	}

	/** Removes and returns the first message matching m (type string, partial object, or predicate). */
	next(m, timeout = 5000, desc) {
		const match = toMatcher(m);
		desc = desc ?? describe(m);
		const i = this.inbox.findIndex(match);
		if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
		if (this.closeInfo) {
			return Promise.reject(new Error(`[${this.name}] connection closed (${this.closeInfo.code}) before ${desc}; inbox: ${this.inboxSummary()}`));
		}
		return new Promise((resolve, reject) => {
			const w = { match, desc, resolve, reject };
			this.waiters.push(w);
			w.timer = setTimeout(() => {
				const k = this.waiters.indexOf(w);
				if (k >= 0) this.waiters.splice(k, 1);
				reject(new Error(`[${this.name}] timeout after ${timeout} ms waiting for ${desc}; inbox: ${this.inboxSummary()}`));
			}, timeout);
			const res = w.resolve;
			const rej = w.reject;
			w.resolve = (v) => { clearTimeout(w.timer); res(v); };
			w.reject = (e) => { clearTimeout(w.timer); rej(e); };
		});
	}

	/** Collects n messages matching m. */
	async nextN(m, n, timeout = 5000) {
		const out = [];
		const end = Date.now() + timeout;
		for (let i = 0; i < n; i++) {
			out.push(await this.next(m, Math.max(1, end - Date.now()), `${describe(m)} (${i + 1} of ${n})`));
		}
		return out;
	}

	/** Removes and returns every message in the inbox matching m now. */
	take(m) {
		const match = toMatcher(m);
		const out = [];
		this.inbox = this.inbox.filter((msg) => {
			if (match(msg)) { out.push(msg); return false; }
			return true;
		});
		return out;
	}

	/** Waits ms and returns (removing) everything matching m that arrived. */
	async collect(m, ms) {
		await sleep(ms);
		return this.take(m);
	}

	/** A round trip (JSON ping/pong): every message the server sent before it has arrived. */
	async barrier(timeout = 5000) {
		const r = await this.request({ type: 'ping' }, timeout);
		assert.equal(r.type, 'pong', `[${this.name}] ping answered with ${JSON.stringify(r)}`);
		return r;
	}

	/** Asserts no message matching m is in the inbox after a round trip. */
	async expectNone(m, what) {
		await this.barrier();
		const got = this.take(m);
		assert.deepEqual(got, [], `[${this.name}] unexpected ${what ?? describe(m)}: ${JSON.stringify(got).slice(0, 500)}`);
	}

	async join(room, display = 'Tester', extra = {}, timeout = 5000) {
		const r = await this.request({ type: 'join', room, display, ...extra }, timeout);
		if (r.type !== 'joined') {
			throw new Error(`[${this.name}] join ${room} failed: ${JSON.stringify(r)}`);
		}
		this.joined = r;
		this.pid = r.you && r.you.id;
		return r;
	}

	waitClose(timeout = 5000) {
		return withTimeout(this.closed, timeout, `[${this.name}] connection close`);
	}

	close(code, reason) {
		try { this.ws.close(code, reason); } catch { /* ignore */ }
	}

	terminate() {
		try { this.ws.terminate(); } catch { /* ignore */ }
		liveClients.delete(this);
	}
}

/** Asserts msg is an error reply with the given code (and id when given). */
export function assertError(msg, code, id, what = '') {
	assert.equal(msg.type, 'error', `${what} expected error ${code}, got ${JSON.stringify(msg)}`);
	assert.equal(msg.code, code, `${what} expected error code ${code}, got ${JSON.stringify(msg)}`);
	if (id !== undefined) assert.deepEqual(msg.id, id, `${what} error must echo id: ${JSON.stringify(msg)}`);
	assert.equal(typeof msg.message, 'string', `${what} error needs a message string: ${JSON.stringify(msg)}`);
}

/* ------------------------------------------------------------------ */
/* raw WebSocket over TCP (for a peer that never answers pings)        */

/** Opens a TCP connection and performs the upgrade by hand. */
export function rawUpgrade(port, { path: p = '/ws', protocol = 'parley.v1', timeout = 5000 } = {}) {
	return withTimeout(new Promise((resolve, reject) => {
		const sock = net.connect(port, '127.0.0.1');
		const key = randomBytes(16).toString('base64');
		let buf = Buffer.alloc(0);
		sock.on('error', reject);
		sock.on('connect', () => {
			sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
				`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
		});
		const onData = (d) => {
			buf = Buffer.concat([buf, d]);
			const end = buf.indexOf('\r\n\r\n');
			if (end < 0) return;
			const head = buf.subarray(0, end).toString();
			const rest = buf.subarray(end + 4);
			sock.off('data', onData);
			sock.off('error', reject);
			if (!/^HTTP\/1\.1 101/.test(head)) {
				sock.destroy();
				reject(new Error(`upgrade refused: ${head}`));
				return;
			}
			resolve(new RawWs(sock, rest));
		};
		sock.on('data', onData);
	}), timeout, 'raw upgrade');
}

export class RawWs {
	constructor(sock, initial) {
		this.sock = sock;
		this.buf = Buffer.alloc(0);
		this.frames = [];
		this.endedAt = null;
		this.ended = new Promise((resolve) => {
			const done = () => { if (!this.endedAt) this.endedAt = Date.now(); resolve(this.endedAt); };
			sock.on('end', done);
			sock.on('close', done);
			sock.on('error', done);
		});
		sock.on('data', (d) => this._feed(d));
		if (initial.length) this._feed(initial);
	}

	_feed(d) {
		this.buf = Buffer.concat([this.buf, d]);
		for (;;) {
			if (this.buf.length < 2) return;
			const b0 = this.buf[0];
			const b1 = this.buf[1];
			let len = b1 & 0x7f;
			let off = 2;
			if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
			else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
			if (b1 & 0x80) off += 4; // server frames are not masked; tolerate anyway
			if (this.buf.length < off + len) return;
			const payload = this.buf.subarray(off, off + len);
			this.frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, payload: Buffer.from(payload), at: Date.now() });
			this.buf = this.buf.subarray(off + len);
		}
	}

	/** Sends one masked frame. */
	sendFrame(opcode, payload) {
		payload = Buffer.from(payload);
		const mask = randomBytes(4);
		let head;
		if (payload.length < 126) {
			head = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
		} else if (payload.length < 65536) {
			head = Buffer.alloc(4);
			head[0] = 0x80 | opcode; head[1] = 0x80 | 126; head.writeUInt16BE(payload.length, 2);
		} else {
			head = Buffer.alloc(10);
			head[0] = 0x80 | opcode; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(payload.length), 2);
		}
		const masked = Buffer.alloc(payload.length);
		for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ mask[i & 3];
		this.sock.write(Buffer.concat([head, mask, masked]));
	}

	sendText(obj) { this.sendFrame(0x1, typeof obj === 'string' ? obj : JSON.stringify(obj)); }

	/** When the server ended the connection: its Close frame or the end of the stream. */
	closedAt() {
		const cf = this.frames.find((f) => f.opcode === 0x8);
		return Math.min(cf ? cf.at : Infinity, this.endedAt ?? Infinity);
	}

	textMessages() {
		return this.frames.filter((f) => f.opcode === 0x1).map((f) => JSON.parse(f.payload.toString()));
	}

	destroy() { this.sock.destroy(); }
}
