// parley-client.js: a small Parley client for e2e test pages (classic script,
// defines window.ParleyClient). Used by group.html; echo.js predates it and
// stays self-contained.
//
// Protocol (shared/PROTOCOL.md, docs/protocol.md): WebSocket subprotocol
// parley.v1; join; `pub` (we offer sendonly tracks, the server answers);
// `sub` (the server offers with an increasing `rev`, we answer every rev in
// order, naming it); trickle ICE both ways, `candidate: null` at the end of
// gathering. Only 127.0.0.1 candidates are ever signaled (the machine's
// other address must not carry media).
//
// Every time is Date.now() (epoch ms), so that the test runner can compare
// times taken in different pages of one browser.
'use strict';

(() => {

/** The m-sections of an SDP: [{ index, kind, port, mid, dir, msid: {stream, track} | null, ssrcs }]. */
function sdpMedia(sdp) {
	const out = [];
	let cur = null;
	for (const l of sdp.split(/\r?\n/)) {
		if (l.startsWith('m=')) {
			const [kind, port] = l.slice(2).split(' ');
			cur = { index: out.length, kind, port: Number(port), mid: null, dir: 'sendrecv', msid: null, ssrcs: [] };
			out.push(cur);
		} else if (cur) {
			let m;
			if ((m = /^a=mid:(\S+)/.exec(l))) cur.mid = m[1];
			else if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l))) cur.dir = m[1];
			else if ((m = /^a=msid:(\S+) (\S+)/.exec(l))) cur.msid = { stream: m[1], track: m[2] };
			else if ((m = /^a=ssrc:(\d+) /.exec(l)) && !cur.ssrcs.includes(Number(m[1]))) cur.ssrcs.push(Number(m[1]));
		}
	}
	return out;
}

function isLoopback(cand) {
	// candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...
	const f = cand.split(' ');
	return f.length > 5 && f[4] === '127.0.0.1';
}

class ParleyClient {
	/**
	 * opts: { ws, log(str), onFatal(err) }. Fields of interest to tests:
	 * you, events (every server message that is not a reply, with t),
	 * subOffers ([{ rev, t, t_answered, media }]), errors, ontrack (sub
	 * track events), pcs.
	 */
	constructor(opts) {
		this.opts = opts;
		this.log = opts.log || ((s) => console.log(s));
		this.nextId = 1;
		this.waiters = [];
		this.pcs = {};                       // 'pub' | 'sub' -> { pc, chain, pending }
		this.early = { pub: [], sub: [] };   // candidates before their pc existed
		this.events = [];
		this.subOffers = [];
		this.subAnswerIds = new Map();
		this.errors = [];
		this.ontrack = [];
		this.candidateErrors = [];
		this.dropped = [];
		this.localCandidates = { pub: [], sub: [] };
		this.listeners = [];
		this.closed = false;
	}

	fatal(err) {
		this.log(`FATAL ${err && err.stack || err}`);
		if (this.opts.onFatal) this.opts.onFatal(err);
	}

	send(msg) {
		this.ws.send(JSON.stringify(msg));
	}

	waitMsg(match, what, ms = 60000) {
		return new Promise((resolve, reject) => {
			const w = { match, resolve, reject };
			w.timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				reject(new Error(`timeout after ${ms} ms waiting for ${what}`));
			}, ms);
			this.waiters.push(w);
		});
	}

	async request(msg, what, ms) {
		const id = this.nextId++;
		this.send({ ...msg, id });
		const reply = await this.waitMsg((m) => m.id === id && m.type !== 'candidate', `${what} (id ${id})`, ms);
		if (reply.type === 'error') throw new Error(`${what}: server replied error ${reply.code}: ${reply.message}`);
		return reply;
	}

	async connect() {
		const ws = this.ws = new WebSocket(this.opts.ws, 'parley.v1');
		await new Promise((resolve, reject) => {
			ws.onopen = resolve;
			ws.onerror = () => reject(new Error(`WebSocket to ${this.opts.ws} failed`));
		});
		ws.onmessage = (x) => {
			let m;
			try { m = JSON.parse(x.data); } catch { this.log(`non-JSON frame: ${String(x.data).slice(0, 200)}`); return; }
			this.onMessage(m);
		};
		ws.onclose = (x) => {
			this.log(`ws closed ${x.code} ${x.reason}`);
			if (!this.closed) this.fatal(new Error(`WebSocket closed (${x.code} ${x.reason})`));
		};
		return ws.protocol;
	}

	async join(room, display) {
		const j = await this.request({ type: 'join', room, display }, 'join');
		if (j.type !== 'joined') throw new Error(`join: unexpected reply ${JSON.stringify(j).slice(0, 300)}`);
		this.you = j.you;
		this.joined = j;
		return j;
	}

	/* ---------------- peer connections ---------------- */

	makePc(name) {
		const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
		const e = { pc, chain: Promise.resolve(), pending: this.early[name].splice(0) };
		this.pcs[name] = e;
		pc.onicecandidate = (x) => {
			if (this.closed) return;
			if (!x.candidate) {
				this.log(`${name}: gathering complete`);
				this.send({ type: 'candidate', pc: name, candidate: null });
				return;
			}
			if (!x.candidate.candidate) return;
			if (!isLoopback(x.candidate.candidate)) { this.dropped.push(x.candidate.candidate); return; }
			this.localCandidates[name].push(x.candidate.candidate);
			this.send({ type: 'candidate', pc: name,
				candidate: { candidate: x.candidate.candidate, sdpMid: x.candidate.sdpMid, sdpMLineIndex: x.candidate.sdpMLineIndex } });
		};
		pc.onconnectionstatechange = () => {
			this.log(`${name}: connection ${pc.connectionState}`);
			if (pc.connectionState === 'connected' && this[`t_${name}_connected`] === undefined) this[`t_${name}_connected`] = Date.now();
			if (pc.connectionState === 'failed' && !this.closed) this.fatal(new Error(`${name} connection failed`));
		};
		return e;
	}

	/** Runs fn after everything queued on this pc (keeps SDP/candidate order). */
	onPc(name, fn) {
		const e = this.pcs[name];
		e.chain = e.chain.then(fn).catch((err) => this.fatal(new Error(`${name}: ${err && err.message || err}`)));
		return e.chain;
	}

	addRemoteCandidate(name, cand) {
		const e = this.pcs[name];
		if (!e) { this.early[name].push(cand); return; }
		this.onPc(name, async () => {
			if (!e.pc.remoteDescription) { e.pending.push(cand); return; }
			await this.applyCandidate(name, cand);
		});
	}

	async applyCandidate(name, cand) {
		const pc = this.pcs[name].pc;
		try {
			if (cand === null) await pc.addIceCandidate();
			else await pc.addIceCandidate(cand);
		} catch (err) {
			// not fatal: the server puts its candidates in its SDP too
			this.candidateErrors.push(`${name}: ${JSON.stringify(cand)}: ${err}`);
			this.log(`${name}: addIceCandidate: ${err}`);
		}
	}

	async flushPending(name) {
		for (const c of this.pcs[name].pending.splice(0)) await this.applyCandidate(name, c);
	}

	/** Publishes the tracks of `stream` (sendonly) on `pub`; resolves once the answer is applied.
	 *  opts.opusNack: offer NACK for Opus (as the web SDK does; Chromium does not by itself). */
	async publish(stream, opts = {}) {
		const { pc } = this.makePc('pub');
		for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
		const offer = await pc.createOffer();
		if (opts.opusNack) {
			offer.sdp = offer.sdp.replace(/^(a=rtpmap:(\d+) opus\/48000\/2\r\n)/m, '$1a=rtcp-fb:$2 nack\r\n');
		}
		await pc.setLocalDescription(offer);
		this.pubOfferSdp = pc.localDescription.sdp;
		const ans = await this.request({ type: 'offer', pc: 'pub', sdp: pc.localDescription.sdp }, 'pub offer');
		if (ans.type !== 'answer' || ans.pc !== 'pub') throw new Error(`pub offer: unexpected reply ${JSON.stringify(ans).slice(0, 300)}`);
		this.pubAnswerSdp = ans.sdp;
		await this.onPc('pub', async () => {
			await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
			await this.flushPending('pub');
		});
	}

	onSubOffer(m) {
		const rec = { rev: m.rev, t: Date.now(), t_answered: null, media: sdpMedia(m.sdp), sdp: m.sdp };
		this.subOffers.push(rec);
		this.log(`sub: offer rev ${m.rev} (${rec.media.map((x) => `${x.kind}:${x.port ? x.dir : 'port0'}:${x.msid ? x.msid.stream : '-'}`).join(' ')})`);
		if (!this.pcs.sub) {
			const e = this.makePc('sub');
			e.pc.ontrack = (x) => {
				const rec2 = { t: Date.now(), kind: x.track.kind, mid: x.transceiver.mid, track: x.track.id, streams: x.streams.map((s) => s.id) };
				this.ontrack.push(rec2);
				this.log(`sub: track ${rec2.kind} mid=${rec2.mid} streams=${rec2.streams}`);
				for (const f of this.listeners) f({ type: '_ontrack', ...rec2, streamObjs: x.streams, trackObj: x.track });
			};
		}
		this.onPc('sub', async () => {
			const pc = this.pcs.sub.pc;
			await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
			await this.flushPending('sub');
			await pc.setLocalDescription(await pc.createAnswer());
			rec.answerSdp = pc.localDescription.sdp;
			const id = this.nextId++;
			this.subAnswerIds.set(id, m.rev);
			this.send({ type: 'answer', pc: 'sub', id, rev: m.rev, sdp: pc.localDescription.sdp });
			rec.t_answered = Date.now();
			this.log(`sub: answered rev ${m.rev}`);
		});
	}

	onMessage(m) {
		for (const w of this.waiters) {
			if (w.match(m)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				clearTimeout(w.timer);
				w.resolve(m);
				return;
			}
		}
		const t = Date.now();
		switch (m.type) {
		case 'offer':
			if (m.pc === 'sub') this.onSubOffer(m);
			else this.log(`unexpected offer for ${m.pc}`);
			break;
		case 'candidate':
			if (m.pc === 'pub' || m.pc === 'sub') this.addRemoteCandidate(m.pc, m.candidate);
			break;
		case 'error':
			this.errors.push({ t, ...m });
			this.log(`server error: ${JSON.stringify(m)}`);
			if (this.subAnswerIds.has(m.id)) this.fatal(new Error(`sub answer (rev ${this.subAnswerIds.get(m.id)}): server replied error ${m.code}: ${m.message}`));
			break;
		default: {
			const e = { t, type: m.type };
			for (const k of ['event', 'participant', 'track', 'participants']) if (m[k] !== undefined) e[k] = m[k];
			this.events.push(e);
			this.log(`event ${JSON.stringify(e)}`);
		}
		}
		for (const f of this.listeners) f(m);
	}

	/** Sends {"type":"leave"}, then closes both connections and the socket. Returns the send time. */
	leave() {
		const t = Date.now();
		this.closed = true;
		try { this.send({ type: 'leave' }); } catch { /* closed */ }
		for (const e of Object.values(this.pcs)) e.pc.close();
		try { this.ws.close(1000); } catch { /* closed */ }
		return t;
	}

	/** The m-sections of the current sub remote description (see sdpMedia). */
	subMedia() {
		const d = this.pcs.sub && this.pcs.sub.pc.remoteDescription;
		return d ? sdpMedia(d.sdp) : [];
	}

	async transportInfo(name) {
		const e = this.pcs[name];
		if (!e) return null;
		const st = await e.pc.getStats();
		let out = null;
		st.forEach((r) => {
			if (r.type !== 'transport') return;
			out = { dtlsState: r.dtlsState, srtpCipher: r.srtpCipher };
			const pair = r.selectedCandidatePairId && st.get(r.selectedCandidatePairId);
			if (pair) {
				const l = st.get(pair.localCandidateId), rm = st.get(pair.remoteCandidateId);
				out.pair = `${l.address}:${l.port}/${l.protocol} <-> ${rm.address}:${rm.port}/${rm.protocol}`;
			}
		});
		return out;
	}
}

window.ParleyClient = ParleyClient;
window.sdpMedia = sdpMedia;
})();
