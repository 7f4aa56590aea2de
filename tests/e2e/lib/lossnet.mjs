// tests/e2e/lib/lossnet.mjs: two network namespaces joined by a veth pair,
// with random packet loss on the link, for the loss test (issue 4).
//
//   namespace A (parleyd, the unimpaired peers, the test process itself)
//     lo 127.0.0.1      veth ADDR_A (10.77.0.1/30)
//                          |   netdev ingress: drop LOSS % of the UDP from B
//                          |
//                          |   netdev ingress: drop LOSS % of the UDP from A
//     lo 127.0.0.1      veth ADDR_B (10.77.0.2/30)
//   namespace B (the impaired peer)
//
// Nothing else is in either namespace: no default route, no other
// interface, IPv6 off, so no packet can leave them (../shared/TESTING.md,
// "Network faults"). The loss is an nftables rule on the netdev ingress hook
// of each end of the veth (the kernel has no netem; a drop in an output
// chain would make sendto() fail with EPERM instead of losing the packet).
// Only UDP is dropped, never the TCP of the WebSocket. Each rule counts the
// UDP it saw and what it dropped (named counters), so the test can report
// the loss it really got.
//
// enterLossNet() is called first thing by a test script. In the parent (the
// process meson started, host namespace) it removes stale namespaces of
// earlier runs that died (name prefix, dead pid), creates A, B and the veth,
// reruns the same script inside A with `ip netns exec`, and when the child
// ends kills whatever is still running in A or B (by pid), deletes both
// namespaces and exits with the child's status (it never returns there).
// In the child it returns the topology (see below).
//
// Helpers for the child: setLoss()/clearLoss()/lossCounters() (nft),
// startParleydNet() (parleyd listening on every address of A),
// launchChromiumNs() (Chromium inside namespace B, or A), serveDirAll()
// (the test pages on every address of A).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir, constants } from 'node:os';
import { join, normalize, extname } from 'node:path';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium.mjs';

const require = createRequire(import.meta.url);
const ENV = 'PARLEY_E2E_LOSSNET';
export const PREFIX = 'parley-loss-';
const NET = { subnet: '10.77.0.0/30', addrA: '10.77.0.1', addrB: '10.77.0.2', plen: 30 };

function sh(cmd, args, { ok = false } = {}) {
	const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
	if (r.error) throw r.error;
	if (r.status !== 0 && !ok) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || '').trim() || 'exit ' + r.status}`);
	return r;
}
const ip = (...a) => sh('ip', a).stdout;
const inNs = (ns, cmd, args, opts) => sh('ip', ['netns', 'exec', ns, cmd, ...args], opts);

/** Why the loss network cannot be made here (a string), or null. */
export function lossnetMissing() {
	if (process.env[ENV]) return null;
	if (process.getuid && process.getuid() !== 0) return 'not root (network namespaces and nftables need root)';
	for (const [cmd, arg, pkg] of [['ip', '-V', 'iproute2'], ['nft', '--version', 'nftables']]) {
		const r = spawnSync(cmd, [arg], { stdio: 'ignore' });
		if (r.error || r.status !== 0) return `${cmd} not found (apt-get install ${pkg})`;
	}
	return null;
}

function pidAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return e.code === 'EPERM';
	}
}

/** Kills every process still running in namespace `ns` (all started by this test) and deletes it. */
function destroyNs(ns) {
	const r = sh('ip', ['netns', 'pids', ns], { ok: true });
	for (const p of (r.stdout || '').split(/\s+/).filter(Boolean).map(Number)) {
		if (p !== process.pid) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
	}
	sh('ip', ['netns', 'del', ns], { ok: true });
}

/** Deletes namespaces left by earlier runs whose parent process is gone. */
function preclean() {
	const out = sh('ip', ['netns', 'list'], { ok: true }).stdout || '';
	for (const line of out.split('\n')) {
		const name = line.split(' ')[0];
		const m = new RegExp(`^${PREFIX}(\\d+)-[ab]$`).exec(name);
		if (!m || pidAlive(Number(m[1]))) continue;
		console.log(`# removing stale namespace ${name}`);
		destroyNs(name);
	}
}

/**
 * Parent: makes the namespaces, reruns this script in A, cleans up, exits.
 * Child: returns { nsA, nsB, ifA, ifB, addrA, addrB, subnet }.
 */
export async function enterLossNet() {
	if (process.env[ENV]) return JSON.parse(process.env[ENV]);
	preclean();
	const id = process.pid;
	const topo = {
		nsA: `${PREFIX}${id}-a`, nsB: `${PREFIX}${id}-b`,
		ifA: `plv${id}a`, ifB: `plv${id}b`,
		addrA: NET.addrA, addrB: NET.addrB, subnet: NET.subnet,
	};
	let code = 1, child = null;
	const cleanup = () => {
		destroyNs(topo.nsB);
		destroyNs(topo.nsA);
	};
	const onSig = (sig) => () => {
		if (child) try { child.kill(sig); } catch { /* gone */ }
		// the child gets a few seconds to stop its browsers and parleyd
		setTimeout(() => { cleanup(); process.exit(128 + (constants.signals[sig] || 1)); }, 5000).unref();
	};
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onSig(sig));
	try {
		for (const ns of [topo.nsA, topo.nsB]) {
			ip('netns', 'add', ns);
			// IPv6 off before the veth exists, so it gets no link-local address
			inNs(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1',
				'net.ipv6.conf.lo.disable_ipv6=1'], { ok: true });
			ip('-n', ns, 'link', 'set', 'lo', 'up');
		}
		// both ends are created directly inside their namespaces: the veth never exists in the host namespace
		ip('link', 'add', topo.ifA, 'netns', topo.nsA, 'type', 'veth', 'peer', 'name', topo.ifB, 'netns', topo.nsB);
		ip('-n', topo.nsA, 'addr', 'add', `${topo.addrA}/${NET.plen}`, 'dev', topo.ifA);
		ip('-n', topo.nsB, 'addr', 'add', `${topo.addrB}/${NET.plen}`, 'dev', topo.ifB);
		ip('-n', topo.nsA, 'link', 'set', topo.ifA, 'up');
		ip('-n', topo.nsB, 'link', 'set', topo.ifB, 'up');
		child = spawn('ip', ['netns', 'exec', topo.nsA, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
			{ stdio: 'inherit', env: { ...process.env, [ENV]: JSON.stringify(topo) } });
		code = await new Promise((resolve) => {
			child.on('error', (e) => { console.error(`ip netns exec: ${e.message}`); resolve(1); });
			child.on('exit', (c, s) => resolve(c ?? (s ? 128 + (constants.signals[s] || 15) : 1)));
		});
	} catch (e) {
		console.error(`# loss network: ${e.message}`);
		code = 1;
	} finally {
		cleanup();
		const left = (sh('ip', ['netns', 'list'], { ok: true }).stdout || '').split('\n').filter((l) => l.startsWith(`${PREFIX}${id}-`));
		if (left.length) console.error(`# namespaces not removed: ${left.join(', ')}`);
	}
	process.exit(code);
}

/* ---------------- nftables ---------------- */

const TABLE = 'parley_loss';

/**
 * Drops `pct` % of the UDP arriving on `dev` in namespace `ns` (netdev
 * ingress hook), counting the UDP seen and dropped.
 */
export function setLoss(ns, dev, pct) {
	if (!(pct >= 0 && pct <= 100 && Number.isInteger(pct))) throw new Error(`loss percentage ${pct}: want an integer 0..100`);
	const rules = `table netdev ${TABLE} {
	counter udp_seen {}
	counter udp_dropped {}
	chain ingress {
		type filter hook ingress device "${dev}" priority 0; policy accept;
		ip protocol udp counter name "udp_seen"
		ip protocol udp numgen random mod 100 < ${pct} counter name "udp_dropped" drop
	}
}
`;
	const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
	if (r.error || r.status !== 0) throw new Error(`nft in ${ns}: ${r.error?.message || r.stderr.trim()}`);
}

/** { seen, dropped, seen_bytes, dropped_bytes } of the rule in `ns`, or null if there is none. */
export function lossCounters(ns) {
	const r = inNs(ns, 'nft', ['-j', 'list', 'counters', 'table', 'netdev', TABLE], { ok: true });
	if (r.status !== 0) return null;
	const out = {};
	for (const o of JSON.parse(r.stdout).nftables) {
		if (!o.counter) continue;
		const k = o.counter.name.replace(/^udp_/, '');
		out[k] = o.counter.packets;
		out[`${k}_bytes`] = o.counter.bytes;
	}
	return out;
}

/** Removes the loss rule from `ns`; returns the tables left in it (should be none). */
export function clearLoss(ns) {
	inNs(ns, 'nft', ['delete', 'table', 'netdev', TABLE], { ok: true });
	return (inNs(ns, 'nft', ['list', 'tables'], { ok: true }).stdout || '').trim();
}

/* ---------------- parleyd ---------------- */

const LISTEN_RE = /listening on http:\/\/([0-9.]+):(\d+)/;
const LOG_MAX = 8 * 1024 * 1024;
const liveSrv = new Set();
process.on('exit', () => {
	for (const s of liveSrv) {
		try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
		try { rmSync(s.dataDir, { recursive: true, force: true }); } catch { /* ignore */ }
	}
});

/**
 * Starts $PARLEYD with --listen `listen` (default 0.0.0.0:0, so that both
 * namespaces reach it) and extra `args`. Like server.mjs's startParleyd
 * (which only knows 127.0.0.1): { port, log, alive, exit, dump(why), stop() }.
 */
export async function startParleydNet({ listen = '0.0.0.0:0', args = [], timeout = 30000 } = {}) {
	const exe = process.env.PARLEYD;
	if (!exe) throw new Error('PARLEYD is not set');
	const dataDir = mkdtempSync(join(tmpdir(), 'parley-e2e-data-'));
	const proc = spawn(exe, ['--listen', listen, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let exited;
	const srv = {
		proc, dataDir, port: 0, log: '', exit: null,
		get alive() { return this.exit === null; },
		dump(why = '') { process.stderr.write(`\n----- parleyd output (${why}) -----\n${this.log}\n----- end of parleyd output -----\n`); },
		async stop() {
			if (this.exit === null) {
				proc.kill('SIGTERM');
				const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(t);
			}
			liveSrv.delete(this);
			rmSync(dataDir, { recursive: true, force: true });
			return this.exit;
		},
	};
	liveSrv.add(srv);
	const append = (d) => {
		srv.log += d.toString();
		if (srv.log.length > LOG_MAX) srv.log = '[... earlier output dropped]\n' + srv.log.slice(-LOG_MAX / 2);
	};
	proc.stdout.on('data', append);
	proc.stderr.on('data', append);
	exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
		srv.exit = { code, signal };
		append(`\n[parleyd exited: code=${code} signal=${signal}]\n`);
		resolve(srv.exit);
	}));
	try {
		srv.port = await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`parleyd did not log its port within ${timeout} ms`)), timeout);
			const check = () => {
				const m = LISTEN_RE.exec(srv.log);
				if (m) { clearTimeout(timer); resolve(Number(m[2])); }
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

/* ---------------- Chromium ---------------- */

/**
 * Launches Chromium (playwright-core, fresh profile) in namespace `ns`
 * (through a wrapper script that runs `ip netns exec ns chromium`; the
 * DevTools pipe is inherited), or in the current one if `ns` is null.
 * Returns { ctx, page, version, close() }.
 */
export async function launchChromiumNs({ ns = null, extraArgs = [], log = () => {} } = {}) {
	const { chromium } = require('playwright-core');
	const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-chr-'));
	const profile = join(dir, 'profile');
	let exe = CHROMIUM;
	if (ns) {
		exe = join(dir, 'chromium-in-netns');
		writeFileSync(exe, `#!/bin/sh\nexec ip netns exec '${ns}' '${CHROMIUM}' "$@"\n`);
		chmodSync(exe, 0o755);
	}
	let ctx;
	try {
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: exe, headless: true, args: [...CHROMIUM_FLAGS, ...extraArgs], timeout: 60000,
		});
	} catch (e) {
		rmSync(dir, { recursive: true, force: true });
		throw e;
	}
	const page = ctx.pages()[0] || await ctx.newPage();
	page.on('console', (m) => log(`[page ${m.type()}] ${m.text()}`));
	page.on('pageerror', (e) => log(`[page error] ${e.message}`));
	let closed = false;
	return {
		ctx, page, version: ctx.browser()?.version?.() ?? '',
		async close() {
			if (closed) return;
			closed = true;
			try { await ctx.close(); } catch { /* gone */ }
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

const MIME = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
};

/**
 * Serves the files of `dir` on http://HOST:<random>/ for every host in
 * `hosts` (one server on 0.0.0.0; GET only, no listing, no path escapes).
 * Returns { port, url(host), close() }. (chromium.mjs's serveDir binds
 * 127.0.0.1 only, which the namespace B cannot reach. Pages answered by
 * Playwright's request interception instead would have no IP address
 * space, and Chromium's local-network-access checks then refuse their
 * WebSocket to a loopback or private address.)
 */
export async function serveDirAll(dir) {
	const srv = createServer((req, res) => {
		const p = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^\/+/, '');
		const file = join(dir, p || 'index.html');
		if (req.method !== 'GET' || p.startsWith('..') || !file.startsWith(dir) || !existsSync(file)) {
			res.writeHead(404, { 'content-type': 'text/plain' });
			res.end('not found');
			return;
		}
		res.writeHead(200, { 'content-type': MIME[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
		res.end(readFileSync(file));
	});
	await new Promise((resolve, reject) => {
		srv.once('error', reject);
		srv.listen(0, '0.0.0.0', resolve);
	});
	const port = srv.address().port;
	return {
		port,
		url: (host) => `http://${host}:${port}/`,
		close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
	};
}
