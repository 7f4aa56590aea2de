// tests/soak/lib/peers.mjs: fault_peer processes (libparley-client
// participants that print what they receive as JSON lines) and the figures
// the fault tests compute from their reports.
//
// A Peers object is one fault_peer process running `count` participants;
// it keeps every report line ({t, clients:[...]}) with the wall time it
// arrived, and the events (joined, failed, error, disconnected).
// flow(rxPeers, rxName, txId, kind, t0, t1) sums what one participant
// received from another over a wall-time window: frames, packets, expected,
// lost (after repair), RTX, and the longest gap between frames.

import { spawn } from 'node:child_process';

const live = new Set();
process.on('exit', () => {
	for (const p of live) try { p.kill('SIGKILL'); } catch { /* gone */ }
});

export class Peers {
	/** argv: the command (fault_peer, or `ip netns exec NS fault_peer`) and its options. */
	constructor(tag, argv, { env = process.env } = {}) {
		this.tag = tag;
		this.reports = [];          // { at (ms), t, clients }
		this.events = [];
		this.stderr = '';
		this.ids = new Map();       // participant name -> id (the latest join)
		this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
		live.add(this.proc);
		let buf = '';
		this.proc.stdout.on('data', (d) => {
			buf += d;
			let nl;
			while ((nl = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, nl);
				buf = buf.slice(nl + 1);
				this._line(line);
			}
		});
		this.proc.stderr.on('data', (d) => {
			this.stderr += d;
			if (this.stderr.length > 1 << 20) this.stderr = this.stderr.slice(-(1 << 19));
		});
		this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
			live.delete(this.proc);
			this.exit = { code, signal };
			resolve(this.exit);
		}));
	}

	_line(line) {
		let j;
		try { j = JSON.parse(line); } catch { this.stderr += `[stdout] ${line}\n`; return; }
		if (j.event) {
			this.events.push({ at: Date.now(), ...j });
			if (j.event === 'joined') this.ids.set(j.name, j.id);
		} else {
			this.reports.push({ at: Date.now(), ...j });
			if (this.reports.length > 20000) this.reports.splice(0, 10000);
		}
	}

	get last() { return this.reports[this.reports.length - 1] ?? null; }

	/** Problems: failed media connections, server errors, lost sockets, an exit. */
	problems() {
		const bad = this.events.filter((e) => e.event !== 'joined' && e.event !== 'connected');
		const out = bad.map((e) => `${this.tag} ${e.name}: ${e.event} ${e.pc ?? e.code ?? e.why ?? ''} ${e.message ?? ''}`.trim());
		if (this.exit) out.push(`${this.tag} exited: ${JSON.stringify(this.exit)}\n${this.stderr.slice(-2000)}`);
		return out;
	}

	/** The client `name`'s entry in the report closest to (at or before) wall time `at`. */
	clientAt(name, at) {
		let r = null;
		for (let i = this.reports.length - 1; i >= 0; i--) {
			if (this.reports[i].at <= at) { r = this.reports[i]; break; }
		}
		return r?.clients.find((c) => c.name === name) ?? null;
	}

	async stop() {
		if (!this.exit) this.proc.kill('SIGTERM');
		const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
		await this.exited;
		clearTimeout(t);
		return this.exit;
	}
}

const ZERO = { frames: 0, packets: 0, expected: 0, lost: 0, rtx: 0, nacks: 0, jitter_ms: 0 };
const src = (c, txId, kind) => c?.from.find((f) => f.id === txId && f.kind === kind) ?? ZERO;

/**
 * What rxName (in peers) received from participant txId's `kind` between
 * wall times t0 and t1: deltas of the counters, residual loss, and the
 * longest gap between frames seen in the reports of the window.
 */
export function flow(peers, rxName, txId, kind, t0, t1) {
	const a = src(peers.clientAt(rxName, t0), txId, kind);
	const b = src(peers.clientAt(rxName, t1), txId, kind);
	let gap = 0, stall = 0;
	for (const r of peers.reports) {
		if (r.at <= t0 || r.at > t1) continue;
		stall = Math.max(stall, r.late_ms ?? 0);
		const f = src(r.clients.find((c) => c.name === rxName), txId, kind);
		if (f !== ZERO) gap = Math.max(gap, f.gap_ms);
		else gap = Math.max(gap, r.at - t0); // nothing at all yet
	}
	const d = (k) => b[k] - a[k];
	const expected = d('expected');
	const lost = Math.max(0, d('lost'));
	return {
		frames: d('frames'), packets: d('packets'), expected, lost, rtx: d('rtx'), nacks: d('nacks'),
		residual_pct: expected > 0 ? +(100 * lost / expected).toFixed(3) : null,
		max_gap_ms: Math.round(gap), stall_ms: Math.round(stall), jitter_ms: +(b.jitter_ms ?? 0).toFixed(2),
		frame_jitter_ms: +(b.frame_jitter_ms ?? 0).toFixed(2),
		fps: +(d('frames') / ((t1 - t0) / 1000)).toFixed(1),
	};
}

/** Wall time of the first report after `after` in which rxName has a frame from txId's kind newer than `after`. */
export function resumedAt(peers, rxName, txId, kind, after) {
	for (const r of peers.reports) {
		if (r.at <= after) continue;
		const f = src(r.clients.find((c) => c.name === rxName), txId, kind);
		if (f !== ZERO && f.silent_ms < r.at - after) return r.at - f.silent_ms;
	}
	return null;
}
