// tests/bench/bench_load_smoke.mjs: `parley-bench load` against the real
// parleyd, briefly.
//
// Starts $PARLEYD on 127.0.0.1:0 with a fresh data dir, runs a three-second
// `parley-bench load --participants 3` (libparley-client peers publishing
// pre-encoded VP8 + Opus in full mesh, with --server-pid), and checks that
// the JSON report parses, that every participant received audio and video
// from both others (packets > 0 from each), that loss after repair is under
// 5 % and that the server figures were sampled.  A second run drops 3 % of
// the media on every client in both directions and checks that NACK/RTX
// repair happened (video; parleyd negotiates no NACK for Opus, so audio
// keeps its ~6 % and the total stays under 5 %).  Not a
// performance test: the figures are not compared with targets.  parleyd is
// always killed, whatever fails.
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

const tmp = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-load-'));
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
	const dataDir = path.join(tmp, 'data');
	const proc = spawn(PARLEYD, ['--listen', '127.0.0.1:0', '--data-dir', dataDir],
		{ stdio: ['ignore', 'pipe', 'pipe'] });
	server = proc;
	let log = '';
	const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
	const port = new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`parleyd did not start:\n${log}`)), 10000);
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
		p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
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

/**
 * Prints the figures asserted on as one `# figures {json}` line, before the
 * asserts, so margins (loss, repairs, per-client counts) show in the log.
 */
function printFigures(label, j, extra = {}) {
	console.log(`# figures ${JSON.stringify({
		run: label, joined: j.joined, complete: j.complete, srtp: j.srtp,
		expected: j.expected, lost: j.lost, loss_pct: j.loss_pct,
		forwarded_packets: j.forwarded_packets, forwarded_pps: j.forwarded_pps,
		server: j.server && { cpu_pct: j.server.cpu_pct, us_per_packet: j.server.us_per_packet, rss_mib: j.server.rss_mib },
		clients: (j.clients || []).map((c) => ({
			name: c.name, peers_with_media: c.peers_with_media, sent: c.packets_sent, received: c.packets_received,
			rtx_received: c.rtx_received, retransmits: c.retransmits,
		})),
		...extra,
	})}`);
}

/** Checks a report of n participants in one room: everyone got everyone. */
function assertMesh(j, n, why) {
	assert.equal(j.bench, 'load');
	assert.equal(j.participants, n);
	assert.equal(j.joined, n, `every participant joined\n${why}`);
	assert.equal(j.complete, n, `every participant receives every peer\n${why}`);
	assert.equal(j.clients.length, n);
	for (const c of j.clients) {
		assert.equal(typeof c.id, 'string', `${c.name} has a participant id`);
		assert.equal(c.peers_with_media, n - 1, `${c.name} receives audio and video from ${n - 1} peers\n${why}`);
		assert.ok(c.packets_received > 0, `${c.name} received packets`);
		assert.ok(c.packets_sent > 0, `${c.name} sent packets`);
		assert.match(c.pub_srtp, /^SRTP_/, `${c.name} pub SRTP profile`);
		assert.match(c.sub_srtp, /^SRTP_/, `${c.name} sub SRTP profile`);
	}
	assert.ok(j.forwarded_packets > 0 && j.forwarded_pps > 0, 'packets were forwarded');
	assert.ok(j.expected > 0 && j.lost >= 0, 'sequence numbers were accounted');
	assert.ok(j.loss_pct < 5, `loss ${j.loss_pct} % < 5 %\n${why}`);
	assert.equal(typeof j.server, 'object', 'server figures from /proc');
	assert.ok(j.server.cpu_pct >= 0 && j.server.us_per_packet > 0, 'server CPU per packet');
	assert.ok(j.server.rss_mib > 0, 'server RSS');
	assert.ok(j.server_counters.forwarded_pps > 0, 'the server\'s own forwarded count');
}

test('parley-bench load --help exits 0 and bad values are usage errors', async () => {
	const help = await runBench(['load', '--help'], 10000);
	assert.equal(help.code, 0, help.stderr);
	assert.match(help.stdout, /--participants/);
	const bad = await runBench(['load', '--server', 'ws://127.0.0.1:1/ws', '--srtp', 'rot13'], 10000);
	assert.equal(bad.code, 2, 'a bad option value is a usage error');
	const top = await runBench(['--help'], 10000);
	assert.match(top.stdout, /load/, 'the subcommand is listed');
});

test('parley-bench load: 3 participants, full mesh, 3 s', async () => {
	const srv = await startServer();
	try {
		const out = path.join(tmp, 'load.json');
		const r = await runBench(['load', '--server', `ws://127.0.0.1:${srv.port}/ws`,
			'--participants', '3', '--duration', '3', '--server-pid', String(srv.proc.pid),
			'--json', out], 90000);
		const why = `bench stdout:\n${r.stdout}\nbench stderr:\n${r.stderr}\nparleyd log:\n${srv.log()}`;
		assert.equal(r.code, 0, `parley-bench exit status\n${why}`);
		assert.match(r.stdout, /forwarded/, 'the human table is printed');
		const j = JSON.parse(readFileSync(out, 'utf8'));
		printFigures('3 participants, clean', j);
		const last = JSON.parse(r.stdout.trim().split('\n').pop());
		assert.deepEqual(last.forwarded_packets, j.forwarded_packets, 'stdout carries the same JSON');
		assert.equal(j.ok, true, why);
		assertMesh(j, 3, why);
		assert.match(j.srtp, /GCM/, 'GCM is negotiated when offered');
	} finally {
		await stopServer(srv);
	}
});

test('parley-bench load: 3 % loss both ways is repaired (AES-CM)', async () => {
	const srv = await startServer();
	try {
		const out = path.join(tmp, 'lossy.json');
		const r = await runBench(['load', '--server', `ws://127.0.0.1:${srv.port}/ws`,
			'--participants', '3', '--duration', '3', '--drop', '3', '--srtp', 'cm',
			'--server-pid', String(srv.proc.pid), '--json', out], 90000);
		const why = `bench stdout:\n${r.stdout}\nbench stderr:\n${r.stderr}\nparleyd log:\n${srv.log()}`;
		assert.equal(r.code, 0, `parley-bench exit status\n${why}`);
		const j = JSON.parse(readFileSync(out, 'utf8'));
		const rtx = j.clients.reduce((s, c) => s + c.rtx_received, 0);
		const resent = j.clients.reduce((s, c) => s + c.retransmits, 0);
		printFigures('3 participants, --drop 3', j, { rtx, resent });
		assertMesh(j, 3, why);
		assert.equal(j.srtp, 'SRTP_AES128_CM_SHA1_80', '--srtp cm is what gets negotiated');
		assert.ok(rtx > 0, `subscribers received repairs\n${why}`);
		assert.ok(resent > 0, `publishers answered the server's NACKs\n${why}`);
	} finally {
		await stopServer(srv);
	}
});
