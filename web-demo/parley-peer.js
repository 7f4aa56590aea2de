// parley-peer.js: one of the Parley client's two RTCPeerConnections (`pub`
// or `sub`) with the bookkeeping that goes with it: the queue that keeps
// its SDP and candidate steps in order, the remote candidates that arrive
// before the remote description, and the ICE watchdog. The client
// (parley.js) creates one per connection, wires its events, and keeps the
// negotiation itself (offers, answers, what is published and received);
// it reaches the RTCPeerConnection as `.pc`.

export class PeerLink {
	/**
	 * name: 'pub' | 'sub'; pc: the RTCPeerConnection; gen: the client's
	 * connection generation it belongs to (stale work checks it);
	 * log: (msg) => void.
	 */
	constructor(name, pc, gen, log) {
		this.name = name;
		this.pc = pc;
		this.gen = gen;
		this.log = log;
		this.chain = Promise.resolve();  // the SDP and candidate steps, one at a time (run)
		this.pending = [];               // remote candidates waiting for the remote description
		this.iceTimer = null;            // how long ICE may stay `disconnected` (watchIce)
		this.restarts = 0;               // ICE restarts since ICE last connected
		// The client also keeps, on pub: busy, dirty, wantRestart (the offer
		// loop of _negotiatePub) and restarting (restartIce); on sub: bundled
		// and transport (keepEndedMlinesBundled's memory of the last offer).
		if (name === 'sub') {
			// the stream ids of ontrack are the msid stream ids: the fallback
			// when an m-line's msid is not in the SDP text
			this.streamsByMid = new Map();
		}
	}

	/** Runs fn after every step queued before it; returns the queue's promise. */
	run(fn) {
		this.chain = this.chain.then(fn);
		return this.chain;
	}

	/** A candidate (or null: end of candidates) from the server for this connection. */
	addRemoteCandidate(cand) {
		return this.run(async () => {
			if (!this.pc.remoteDescription) { this.pending.push(cand); return; }
			await this.addCandidate(cand);
		});
	}

	/** Applies the candidates that waited for the remote description. */
	async flushCandidates() {
		for (const c of this.pending.splice(0)) await this.addCandidate(c);
	}

	async addCandidate(cand) {
		try {
			if (cand === null || cand === undefined || !cand.candidate) await this.pc.addIceCandidate();
			else await this.pc.addIceCandidate({ candidate: cand.candidate, sdpMid: cand.sdpMid ?? null, sdpMLineIndex: cand.sdpMLineIndex ?? 0 });
		} catch (err) {
			// not fatal: the server's candidates are in its SDP too (and a
			// candidate of an older ICE generation is refused)
			this.log(`${this.name}: addIceCandidate: ${err && err.message || err}`);
		}
	}

	/**
	 * Called on every ICE state change: onTrouble('failed') at once when ICE
	 * fails, onTrouble('disconnected') when it stays disconnected for
	 * disconnectedMs; a connection that recovers clears the timer and the
	 * restart count.
	 */
	watchIce(disconnectedMs, onTrouble) {
		const st = this.pc.iceConnectionState;
		if (st === 'connected' || st === 'completed') {
			clearTimeout(this.iceTimer);
			this.iceTimer = null;
			this.restarts = 0;
			return;
		}
		if (st === 'failed') {
			clearTimeout(this.iceTimer);
			this.iceTimer = null;
			onTrouble('failed');
		} else if (st === 'disconnected' && !this.iceTimer) {
			this.iceTimer = setTimeout(() => {
				this.iceTimer = null;
				if (this.pc.iceConnectionState === 'disconnected') onTrouble('disconnected');
			}, disconnectedMs);
		}
	}

	close() {
		clearTimeout(this.iceTimer);
		try { this.pc.close(); } catch { /* closed */ }
	}
}
