// parley.js: Parley's browser SDK (an ES module; no framework, no build step).
//
//   import { Parley } from './parley.js';
//   const client = new Parley();                       // ws(s)://<this host>/ws
//   client.addEventListener('trackadded', (e) => ...);
//   await client.join({ room: 'standup', display: 'Alice' });
//   await client.setLocalTrack('microphone', micTrack);
//   await client.setLocalTrack('camera', camTrack);
//
// It speaks Parley's signaling protocol (docs/protocol.md) over one
// WebSocket and runs the two RTCPeerConnections the protocol asks for:
// `pub` (we offer our sendonly tracks, the server answers) and `sub` (the
// server offers what we receive, with an increasing `rev`, and we answer
// every rev). Remote tracks are mapped to participants through the msid
// stream id of the sub SDP, which is the publisher's participant id.
// The WebSocket is kept alive with pings; when it drops (network change,
// server restart) the client re-joins with exponential backoff and restores
// what it had: the same user id, its published tracks and mute states, its
// unacknowledged chat messages (same client_msg_id, so the server stores
// them once) and the chat messages it missed. When ICE fails on a
// connection while the socket is up it restarts ICE with a new pub offer.
//
// Everything above the `Parley` class is pure logic with no browser API, so
// that it can be tested in Node (tests/web/sdk_unit.mjs). See docs/sdk.md.

export const PROTOCOL = 'parley.v1';
export const SOURCES = ['microphone', 'camera', 'screen'];
const SOURCE_KIND = { microphone: 'audio', camera: 'video', screen: 'video' };

/* ===================================================================== */
/* Pure helpers                                                          */
/* ===================================================================== */

const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** A room (or user) name the server accepts: 1-64 of [A-Za-z0-9_.-]. */
export function isValidRoom(s) {
	return typeof s === 'string' && ROOM_RE.test(s);
}

/** Number of Unicode code points (the unit of the server's limits). */
export function codePointLength(s) {
	let n = 0;
	for (const _ of s) n++;   // eslint-disable-line no-unused-vars
	return n;
}

/** A display name the server accepts: 1-64 code points, no control characters. */
export function isValidDisplay(s) {
	if (typeof s !== 'string') return false;
	const n = codePointLength(s);
	return n >= 1 && n <= 64 && !/[\u0000-\u001f\u007f-\u009f]/.test(s);
}

/** Why a chat text would be refused (a string), or null when it is fine. */
export function chatTextProblem(text) {
	if (typeof text !== 'string' || text.length === 0) return 'the message is empty';
	if (codePointLength(text) > 4000) return 'the message is longer than 4000 characters';
	return null;
}

/** The WebSocket URL of the server that served `loc` (window.location). */
export function wsUrlFor(loc, path = '/ws') {
	const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${scheme}//${loc.host}${path}`;
}

/**
 * The m-sections of an SDP, in order:
 * [{ index, kind, port, mid, direction, msid: { stream, track } | null, ssrcs: [n] }].
 * `msid` comes from a=msid, or from a=ssrc:N msid:... when there is none.
 */
export function parseSdpMedia(sdp) {
	const out = [];
	let cur = null, sessionDir = null;
	for (const raw of String(sdp || '').split(/\r?\n/)) {
		const l = raw.trim();
		if (l.startsWith('m=')) {
			const [kind, port] = l.slice(2).split(' ');
			cur = { index: out.length, kind, port: Number(port), mid: null, direction: null, msid: null, ssrcs: [] };
			out.push(cur);
			continue;
		}
		let m;
		if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l))) {
			if (cur) cur.direction = m[1]; else sessionDir = m[1];
		}
		if (!cur) continue;
		if ((m = /^a=mid:(\S+)/.exec(l))) cur.mid = m[1];
		else if ((m = /^a=msid:(\S+)(?: (\S+))?/.exec(l))) cur.msid = { stream: m[1], track: m[2] || null };
		else if ((m = /^a=ssrc:(\d+) (\S+?)(?::(.*))?$/.exec(l))) {
			const ssrc = Number(m[1]);
			if (!cur.ssrcs.includes(ssrc)) cur.ssrcs.push(ssrc);
			if (m[2] === 'msid' && !cur.msid && m[3]) {
				const [stream, track] = m[3].trim().split(' ');
				cur.msid = { stream, track: track || null };
			}
		}
	}
	for (const x of out) if (!x.direction) x.direction = sessionDir || 'sendrecv';
	return out;
}

/**
 * What a server `sub` offer forwards: one entry per m-section,
 * { mid, kind, participantId, trackId, active }. An m-line is active when
 * its port is not 0, it sends (sendonly/sendrecv) and names a stream;
 * the stream id of its msid is the publisher's participant id and its
 * track id the server's track id (the one in `track` events).
 */
export function remoteTracksFromSdp(sdp) {
	return parseSdpMedia(sdp).map((m) => {
		const sending = m.port !== 0 && (m.direction === 'sendonly' || m.direction === 'sendrecv');
		const named = !!m.msid && m.msid.stream !== '-';
		return {
			mid: m.mid,
			kind: m.kind,
			participantId: named ? m.msid.stream : null,
			trackId: m.msid ? m.msid.track : null,
			active: sending && named,
			sending,
		};
	});
}

const TRANSPORT_ATTR_RE = /^a=(ice-ufrag|ice-pwd|fingerprint|setup):/;

/**
 * Keeps the BUNDLE-tagged m-line of a server `sub` offer in the bundle.
 *
 * A server ends a forwarded track by rejecting its m-line (port 0, out of
 * a=group:BUNDLE). When that m-line is the BUNDLE tag (the first one,
 * typically the first participant's audio), Chromium moves the bundle to a
 * new transport, which needs a new DTLS handshake the server does not do:
 * the sub connection stays `connecting` and nothing is received any more.
 * parleyd keeps the tag as `a=inactive` with its port since fc8b566; for a
 * server that does not (older parleyd builds did not), the tag's m-line is
 * rewritten here before the offer is applied: port 9, the bundle's
 * transport attributes, `a=inactive`, still first in the group. The answer
 * keeps it inactive, which the server accepts, and the server may later
 * reuse the mid for a new track as usual. Other rejected m-lines are left
 * alone (their rejection does not move the bundle). An offer that rejects
 * nothing bundled is returned unchanged.
 *
 * `bundled`: the mids bundled in the previous (rewritten) offer, tag first;
 * `transport`: the transport attribute lines of the previous offer (used
 * when no m-line of this one has any).
 * Returns { sdp, bundled: [mids], transport: [lines], changed }.
 */
export function keepEndedMlinesBundled(sdp, bundled = [], transport = []) {
	const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
	const lines = sdp.split(/\r?\n/);
	while (lines.length && lines[lines.length - 1] === '') lines.pop();
	const session = [];
	const sections = [];
	for (const l of lines) {
		if (l.startsWith('m=')) sections.push([l]);
		else if (sections.length) sections[sections.length - 1].push(l);
		else session.push(l);
	}
	const midOf = (sec) => { const l = sec.find((x) => x.startsWith('a=mid:')); return l ? l.slice(6).trim() : null; };
	const portOf = (sec) => Number(sec[0].split(' ')[1]);
	const sessionHas = session.some((l) => TRANSPORT_ATTR_RE.test(l));
	let tp = transport;
	const donor = sections.find((s) => portOf(s) !== 0 && s.some((l) => TRANSPORT_ATTR_RE.test(l)));
	if (donor) tp = donor.filter((l) => TRANSPORT_ATTR_RE.test(l));
	let changed = false;
	const tag = bundled.length ? bundled[0] : null;
	for (const sec of sections) {
		const mid = midOf(sec);
		if (portOf(sec) !== 0 || mid === null || mid !== tag) continue;
		if (!sessionHas && !tp.length) continue;
		const f = sec[0].split(' ');
		f[1] = '9';
		sec[0] = f.join(' ');
		for (let i = sec.length - 1; i > 0; i--) if (/^a=(sendrecv|sendonly|recvonly|inactive|bundle-only)$/.test(sec[i])) sec.splice(i, 1);
		const at = Math.max(1, sec.findIndex((l) => l.startsWith('c=')) + 1);
		sec.splice(at, 0, ...(sessionHas ? [] : tp.filter((l) => !sec.includes(l))), 'a=inactive');
		changed = true;
	}
	const mids = sections.filter((s) => portOf(s) !== 0 && midOf(s) !== null).map(midOf);
	const group = mids.length ? `a=group:BUNDLE ${mids.join(' ')}` : null;
	const gi = session.findIndex((l) => l.startsWith('a=group:BUNDLE'));
	if (changed) {
		if (gi >= 0) {
			if (group) session[gi] = group; else session.splice(gi, 1);
		} else if (group) {
			const ti = session.findIndex((l) => l.startsWith('t='));
			session.splice(ti >= 0 ? ti + 1 : session.length, 0, group);
		}
	}
	const out = [...session, ...sections.flat()].join(eol) + eol;
	// the group as the server wrote it (when nothing changed), tag first
	let order = mids;
	if (!changed && gi >= 0) order = session[gi].slice('a=group:BUNDLE'.length).trim().split(/\s+/).filter(Boolean);
	return { sdp: changed ? out : sdp, bundled: order, transport: tp, changed };
}

/** The ICE ufrag of an SDP (the first one), or null. */
/**
 * The offer with NACK enabled for Opus: `a=rtcp-fb:<pt> nack` after each
 * opus rtpmap that has none.  Chromium does not offer audio NACK itself
 * but honours it once negotiated, so parleyd can repair the audio it
 * receives from us (docs/protocol.md, the server's answers).
 */
export function withOpusNack(sdp) {
	const lines = sdp.split('\r\n');
	const out = [];
	for (const line of lines) {
		out.push(line);
		const m = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
		if (m && !lines.includes(`a=rtcp-fb:${m[1]} nack`)) out.push(`a=rtcp-fb:${m[1]} nack`);
	}
	return out.join('\r\n');
}

export function iceUfrag(sdp) {
	const m = /^a=ice-ufrag:(\S+)/m.exec(String(sdp || ''));
	return m ? m[1] : null;
}

export const DEFAULT_BACKOFF = Object.freeze({ base: 500, factor: 2, max: 10000, jitter: 0.25 });

/**
 * Delay in ms before reconnection attempt `attempt` (0 = the first retry):
 * base * factor^attempt, capped at max, then spread by +-jitter (a
 * fraction) so that the clients of a restarted server do not all come back
 * at the same instant. `random` is injectable for tests.
 */
export function backoffDelay(attempt, opts = {}, random = Math.random) {
	const o = { ...DEFAULT_BACKOFF, ...opts };
	const raw = Math.min(o.max, o.base * Math.pow(o.factor, Math.max(0, attempt)));
	const spread = raw * o.jitter * (2 * random() - 1);
	return Math.max(0, Math.round(Math.min(o.max, raw + spread)));
}

/** The first n delays without jitter (for documentation and tests). */
export function backoffSchedule(n, opts = {}) {
	return Array.from({ length: n }, (_, i) => backoffDelay(i, { ...opts, jitter: 0 }));
}

/**
 * Merges chat messages into a list sorted by seq, dropping duplicates
 * (same seq). `list` is not modified. Returns { messages, added } where
 * `added` are the incoming messages that were new, in seq order.
 */
export function mergeMessages(list, incoming) {
	const bySeq = new Map();
	for (const m of list) bySeq.set(m.seq, m);
	const added = [];
	for (const m of incoming || []) {
		if (!m || !Number.isInteger(m.seq) || bySeq.has(m.seq)) continue;
		bySeq.set(m.seq, m);
		added.push(m);
	}
	if (!added.length) return { messages: list.slice(), added };
	added.sort((a, b) => a.seq - b.seq);
	const messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
	return { messages, added };
}

/**
 * The protocol message for a local ICE candidate of connection `pc`
 * ('pub' | 'sub'), or null when it should not be sent. `cand` is an
 * RTCIceCandidate (or its JSON), or null at the end of gathering, which
 * becomes `candidate: null`. Chromium's per-generation end marker (an empty
 * candidate string) is skipped: the null that follows ends gathering. TCP
 * and mDNS (.local) candidates are skipped too: the server ignores them.
 */
export function candidateMessage(pc, cand) {
	if (cand === null || cand === undefined) return { type: 'candidate', pc, candidate: null };
	const line = typeof cand === 'string' ? cand : cand.candidate;
	if (!line) return null;
	const f = line.replace(/^a=/, '').split(' ');
	if (f.length > 4 && (f[2].toLowerCase() === 'tcp' || /\.local$/i.test(f[4]))) return null;
	return {
		type: 'candidate', pc,
		candidate: {
			candidate: line.replace(/^a=/, ''),
			sdpMid: cand.sdpMid ?? null,
			sdpMLineIndex: cand.sdpMLineIndex ?? null,
		},
	};
}

/**
 * Plain numbers out of an RTCStatsReport (or any iterable of stats
 * objects): { inbound: [..], outbound: [..], remoteInbound: [..], rtt } where
 * rtt is the selected candidate pair's currentRoundTripTime in seconds.
 */
export function extractStats(report) {
	const out = { inbound: [], outbound: [], remoteInbound: [], rtt: null, timestamp: 0 };
	const all = [];
	if (report && typeof report.forEach === 'function') report.forEach((r) => all.push(r));
	else for (const r of report || []) all.push(r);
	const byId = new Map(all.map((r) => [r.id, r]));
	for (const r of all) {
		out.timestamp = Math.max(out.timestamp, r.timestamp || 0);
		if (r.type === 'inbound-rtp') {
			out.inbound.push({
				id: r.id, mid: r.mid ?? null, kind: r.kind, ssrc: r.ssrc, trackIdentifier: r.trackIdentifier,
				timestamp: r.timestamp, bytesReceived: r.bytesReceived || 0, packetsReceived: r.packetsReceived || 0,
				packetsLost: r.packetsLost || 0, framesDecoded: r.framesDecoded, framesPerSecond: r.framesPerSecond,
				frameWidth: r.frameWidth, frameHeight: r.frameHeight, audioLevel: r.audioLevel,
				totalAudioEnergy: r.totalAudioEnergy, jitter: r.jitter,
			});
		} else if (r.type === 'outbound-rtp') {
			out.outbound.push({
				id: r.id, mid: r.mid ?? null, kind: r.kind, ssrc: r.ssrc, timestamp: r.timestamp,
				bytesSent: r.bytesSent || 0, packetsSent: r.packetsSent || 0, framesEncoded: r.framesEncoded,
				framesPerSecond: r.framesPerSecond, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
				qualityLimitationReason: r.qualityLimitationReason,
			});
		} else if (r.type === 'remote-inbound-rtp') {
			out.remoteInbound.push({ ssrc: r.ssrc, kind: r.kind, roundTripTime: r.roundTripTime, fractionLost: r.fractionLost, packetsLost: r.packetsLost });
		} else if (r.type === 'transport' && r.selectedCandidatePairId) {
			const pair = byId.get(r.selectedCandidatePairId);
			if (pair && pair.currentRoundTripTime !== undefined) out.rtt = pair.currentRoundTripTime;
		} else if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && out.rtt === null &&
			r.currentRoundTripTime !== undefined) {
			out.rtt = r.currentRoundTripTime;
		}
	}
	return out;
}

/**
 * Rates between two samples of one RTP stream (inbound or outbound, as
 * extractStats returns them): { bitrate (bit/s), fps, loss (0..1 over the
 * interval) }. `prev` may be null (first sample: rates are null).
 */
export function streamRates(prev, cur) {
	const res = { bitrate: null, fps: cur.framesPerSecond ?? null, loss: null };
	if (!prev || !(cur.timestamp > prev.timestamp)) return res;
	const dt = (cur.timestamp - prev.timestamp) / 1000;
	const bytes = (cur.bytesReceived ?? cur.bytesSent ?? 0) - (prev.bytesReceived ?? prev.bytesSent ?? 0);
	res.bitrate = Math.max(0, Math.round((bytes * 8) / dt));
	if (res.fps === null) {
		const f = (cur.framesDecoded ?? cur.framesEncoded);
		const pf = (prev.framesDecoded ?? prev.framesEncoded);
		if (f !== undefined && pf !== undefined) res.fps = Math.max(0, Math.round((f - pf) / dt));
	}
	if (cur.packetsReceived !== undefined) {
		const got = cur.packetsReceived - prev.packetsReceived;
		const lost = Math.max(0, cur.packetsLost - prev.packetsLost);
		res.loss = got + lost > 0 ? lost / (got + lost) : 0;
	}
	return res;
}

/** 'good' | 'fair' | 'poor' | 'unknown' from loss (0..1) and rtt (s). */
export function qualityLevel({ loss = null, rtt = null, bitrate = null } = {}) {
	if (loss === null && rtt === null) return 'unknown';
	if ((loss ?? 0) > 0.1 || (rtt ?? 0) > 0.5 || bitrate === 0) return 'poor';
	if ((loss ?? 0) > 0.02 || (rtt ?? 0) > 0.2) return 'fair';
	return 'good';
}

/** A random id: 12 hex digits after `prefix`. */
export function randomId(prefix = '') {
	const b = new Uint8Array(6);
	globalThis.crypto.getRandomValues(b);
	return prefix + [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** An error the server (or the client) reported: .code is the protocol's code. */
export class ParleyError extends Error {
	constructor(code, message, reply = null) {
		super(message || code);
		this.name = 'ParleyError';
		this.code = code;
		this.reply = reply;
	}
}

/**
 * The events a Parley client dispatches are ParleyEvents: plain Events whose
 * payload is both on `detail` and spread on the event itself, so
 * `e.participant` and `e.detail.participant` are the same.
 */
export class ParleyEvent extends Event {
	constructor(type, detail = {}) {
		super(type);
		this.detail = detail;
		for (const [k, v] of Object.entries(detail)) {
			if (!(k in this)) Object.defineProperty(this, k, { value: v, enumerable: true });
		}
	}
}

/** The connection states of a client, in `client.state` and `statechange` events. */
export const STATES = Object.freeze(['idle', 'connecting', 'joined', 'reconnecting', 'closed']);

/* ===================================================================== */
/* The client                                                            */
/* ===================================================================== */

const FATAL_JOIN_CODES = new Set(['unauthorized', 'forbidden', 'bad_request']);
// Close codes with which the server ends a session for good (docs/protocol.md):
// 4002 the token expired, 4003 a moderator removed us. Reconnecting by
// itself would undo a kick, so the client stops there.
const FINAL_CLOSE_CODES = new Map([[4002, ['unauthorized', 'token expired']],
	[4003, ['forbidden', 'removed from the room by a moderator']]]);

/**
 * new Parley(options)
 *   url            WebSocket URL (default: wsUrlFor(location))
 *   user           stable user id in open mode (default: random, kept in
 *                  sessionStorage so a reload keeps it)
 *   backoff        { base, factor, max, jitter } (DEFAULT_BACKOFF)
 *   pingIntervalMs keepalive ping period (5000); a socket silent for
 *                  2.5 periods is treated as dropped
 *   joinTimeoutMs  (15000)
 *   iceDisconnectedMs  how long ICE may stay `disconnected` before an ICE
 *                  restart (3000); `failed` restarts at once
 *   muteMode       'auto' | 'signal' | 'unpublish' (see setMuted)
 *   rtcConfig      extra RTCPeerConnection configuration
 *   candidateFilter(line) -> boolean: which local candidates to signal
 *   log            (msg) => void, for debugging
 *   WebSocket, RTCPeerConnection: injectable implementations (tests)
 */
export class Parley extends EventTarget {
	constructor(opts = {}) {
		super();
		this.opts = {
			backoff: { ...DEFAULT_BACKOFF, ...(opts.backoff || {}) },
			pingIntervalMs: 5000,
			joinTimeoutMs: 15000,
			requestTimeoutMs: 20000,
			iceDisconnectedMs: 3000,
			muteMode: 'auto',
			rtcConfig: {},
			...opts,
		};
		this._WS = opts.WebSocket || globalThis.WebSocket;
		this._PC = opts.RTCPeerConnection || globalThis.RTCPeerConnection;
		this.url = opts.url || (globalThis.location ? wsUrlFor(globalThis.location) : null);
		this.user = opts.user || Parley.storedUserId();
		this.log = opts.log || (() => {});

		this.state = 'idle';
		this.room = null;
		this.me = null;
		/** id -> participant: { id, display, user, tracks: Map(trackId -> {id, kind, source, muted}) } */
		this.participants = new Map();
		/** mid -> { mid, kind, participantId, trackId, track, transceiver } (what `sub` receives) */
		this.remoteTracks = new Map();
		/** chat messages seen, sorted by seq (room and direct ones) */
		this.messages = [];
		/** older history exists before messages[0] */
		this.hasMoreHistory = true;
		this.lastSeq = 0;
		/** participant id -> expiry time of their typing indicator */
		this.typing = new Map();
		this.iceServers = [];
		this.stats = { joins: 0, reconnects: 0, iceRestarts: 0, subOffers: 0, pubOffers: 0 };

		this._ws = null;
		this._gen = 0;                    // bumps on every (re)connection: stale async work checks it
		this._nextId = 1;
		this._pending = new Map();        // request id -> { resolve, reject, timer }
		this._joinOpts = null;
		this._wantJoined = false;
		this._attempt = 0;
		this._retryTimer = null;
		this._pingTimer = null;
		this._lastRx = 0;
		this._slots = {};                 // source -> { source, kind, track, muted, transceiver, serverTrackId }
		for (const s of SOURCES) this._slots[s] = { source: s, kind: SOURCE_KIND[s], track: null, muted: false, transceiver: null, serverTrackId: null };
		this._pc = { pub: null, sub: null };
		this._outbox = [];                // unacknowledged chat messages
		this._typingSent = { active: false, at: 0 };
		this._typingTimer = null;
		this._typingExpiryTimer = null;
		this._onOnline = () => { if (this.state === 'reconnecting') this._retryNow(); };
		if (globalThis.addEventListener) globalThis.addEventListener('online', this._onOnline);
	}

	/** The user id this tab uses in open mode: kept in sessionStorage across reloads. */
	static storedUserId() {
		try {
			const s = globalThis.sessionStorage;
			let u = s && s.getItem('parley.user');
			if (!u || !isValidRoom(u)) {
				u = randomId('u-');
				if (s) s.setItem('parley.user', u);
			}
			return u;
		} catch {
			return randomId('u-');
		}
	}

	/* ------------------------------------------------------------ events */

	_emit(type, detail = {}) {
		try {
			this.dispatchEvent(new ParleyEvent(type, detail));
		} catch (e) {
			this.log(`listener for ${type} threw: ${e && e.stack || e}`);
		}
	}

	_setState(state, extra = {}) {
		if (this.state === state) return;
		const previous = this.state;
		this.state = state;
		this._emit('statechange', { state, previous, ...extra });
	}

	/* -------------------------------------------------------- connection */

	/**
	 * Connects and joins `room`. Resolves with the `joined` reply; rejects
	 * with a ParleyError (code `unauthorized`, `room_full`, ...) when the
	 * server refuses, or `network` when it cannot be reached at all. After a
	 * successful join the client stays in the room, reconnecting as needed,
	 * until leave().
	 */
	join({ room, display, token = null } = {}) {
		if (!isValidRoom(room)) return Promise.reject(new ParleyError('bad_request', 'The room name must be 1-64 characters of A-Z a-z 0-9 _ . -'));
		if (!isValidDisplay(display)) return Promise.reject(new ParleyError('bad_request', 'The name must be 1-64 characters'));
		if (this._wantJoined) return Promise.reject(new ParleyError('conflict', 'already joined or joining'));
		if (!this.url) return Promise.reject(new ParleyError('bad_request', 'no server URL'));
		this._joinOpts = { room, display, token: token || null };
		this._wantJoined = true;
		this._attempt = 0;
		return new Promise((resolve, reject) => {
			this._firstJoin = { resolve, reject };
			this._connect();
		});
	}

	_connect() {
		clearTimeout(this._retryTimer);
		this._retryTimer = null;
		const gen = ++this._gen;
		this._setState(this.stats.joins > 0 ? 'reconnecting' : 'connecting');
		let ws;
		try {
			ws = new this._WS(this.url, PROTOCOL);
		} catch (e) {
			this._socketLost(gen, { code: 0, reason: String(e && e.message || e) });
			return;
		}
		this._ws = ws;
		ws.onopen = () => {
			if (gen !== this._gen) return;
			this._lastRx = Date.now();
			this._startPing(gen);
			const j = { type: 'join', room: this._joinOpts.room, display: this._joinOpts.display };
			if (this._joinOpts.token) j.token = this._joinOpts.token;
			else if (this.user) j.user = this.user;
			this._request(j, this.opts.joinTimeoutMs).then(
				(reply) => this._onJoined(gen, reply),
				(err) => this._onJoinFailed(gen, err));
		};
		ws.onmessage = (ev) => {
			if (gen !== this._gen) return;
			this._lastRx = Date.now();
			let m;
			try { m = JSON.parse(ev.data); } catch { this.log(`non-JSON message: ${String(ev.data).slice(0, 200)}`); return; }
			if (!m || typeof m !== 'object') return;
			this._onMessage(m);
		};
		ws.onclose = (ev) => this._socketLost(gen, { code: ev.code, reason: ev.reason, fromServer: true });
		ws.onerror = () => { /* onclose follows */ };
	}

	_onJoinFailed(gen, err) {
		if (gen !== this._gen) return;
		const code = err && err.code;
		this.log(`join failed: ${code} ${err && err.message}`);
		const first = this._firstJoin;
		if (FATAL_JOIN_CODES.has(code) || (first && code === 'room_full')) {
			this._wantJoined = false;
			this._teardown(gen, 'join refused');
			this._setState('closed', { code, reason: err.message });
			this._emit('error', { code, message: err.message, fatal: true });
			if (first) { this._firstJoin = null; first.reject(err); }
			return;
		}
		// transient (timeout, internal, rate_limited, room_full on a rejoin): retry
		try { this._ws && this._ws.close(4000, 'join failed'); } catch { /* closed */ }
		this._socketLost(gen, { code: 4000, reason: `join failed: ${code}` });
	}

	_onJoined(gen, j) {
		if (gen !== this._gen) return;
		if (j.type !== 'joined') { this._onJoinFailed(gen, new ParleyError('internal', `unexpected reply ${j.type}`)); return; }
		const rejoin = this.stats.joins > 0;
		this.stats.joins++;
		if (rejoin) this.stats.reconnects++;
		// the backoff starts over only once the connection has held for a while
		// (a server that accepts and then drops us is not retried at full speed)
		clearTimeout(this._stableTimer);
		this._stableTimer = setTimeout(() => { if (gen === this._gen) this._attempt = 0; }, 10000);
		this.room = j.room;
		this.me = { id: j.you.id, display: j.you.display, user: j.you.user };
		this.iceServers = Array.isArray(j.ice_servers) ? j.ice_servers : [];
		// participants: drop the ones that are gone, add the new ones
		const fresh = new Map();
		for (const p of j.participants || []) fresh.set(p.id, p);
		for (const [id, p] of [...this.participants]) {
			if (!fresh.has(id)) {
				this.participants.delete(id);
				this.typing.delete(id);
				this._emit('participantleft', { participant: p });
			}
		}
		for (const p of fresh.values()) this._upsertParticipant(p, true);
		this._setState('joined');
		this._emit('joined', { room: this.room, me: this.me, participants: [...this.participants.values()], rejoin, chat: j.chat });
		if (this._firstJoin) { const f = this._firstJoin; this._firstJoin = null; f.resolve(j); }
		// media: publish what we have (the server makes the sub connection when there is something to receive)
		if (this._hasLocalTracks()) this._negotiatePub(gen).catch((e) => this._mediaFailed(gen, 'pub', e));
		// chat: what we missed, then what we still have to send
		this._catchUpHistory(gen, j.chat && j.chat.last_seq).catch((e) => this.log(`history: ${e.message}`));
		for (const m of this._outbox) this._sendChatNow(gen, m);
	}

	_socketLost(gen, { code, reason, fromServer = false }) {
		if (gen !== this._gen) return;
		this.log(`socket closed ${code} ${reason || ''}`);
		this._teardown(gen, 'socket closed');
		if (!this._wantJoined) {
			this._setState('closed', { code, reason });
			return;
		}
		// (the SDK's own pseudo-codes 4000-4002 for a lost connection never come from a close frame)
		if (fromServer && FINAL_CLOSE_CODES.has(code)) {
			const [ecode, message] = FINAL_CLOSE_CODES.get(code);
			this._wantJoined = false;
			this._setState('closed', { code, reason });
			this._emit('error', { code: ecode, message, fatal: true });
			return;
		}
		if (this._firstJoin && this.stats.joins === 0) {
			// never got in: report it rather than retry forever behind the user's back
			const f = this._firstJoin;
			this._firstJoin = null;
			this._wantJoined = false;
			this._setState('closed', { code, reason });
			f.reject(new ParleyError('network', `cannot reach the server (${code}${reason ? ' ' + reason : ''})`));
			return;
		}
		const delay = backoffDelay(this._attempt, this.opts.backoff);
		const attempt = ++this._attempt;
		this._setState('reconnecting', { code, reason, attempt, delay });
		this._emit('reconnecting', { attempt, delay, code, reason });
		this._retryTimer = setTimeout(() => this._connect(), delay);
	}

	_retryNow() {
		if (this._retryTimer) { clearTimeout(this._retryTimer); this._connect(); }
	}

	/** Drops everything tied to the current connection (socket, requests, peer connections). */
	_teardown(gen, why) {
		this._gen++;                      // stale callbacks of this connection now do nothing
		this._stopPing();
		const ws = this._ws;
		this._ws = null;
		if (ws) {
			ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
			try { if (ws.readyState === 0 || ws.readyState === 1) ws.close(1000, why); } catch { /* closed */ }
		}
		for (const [, r] of this._pending) { clearTimeout(r.timer); r.reject(new ParleyError('network', `connection lost (${why})`)); }
		this._pending.clear();
		this._early = null;
		clearTimeout(this._stableTimer);
		this._closePcs();
	}

	_closePcs() {
		for (const name of ['pub', 'sub']) {
			const e = this._pc[name];
			if (!e) continue;
			this._pc[name] = null;
			clearTimeout(e.iceTimer);
			try { e.pc.close(); } catch { /* closed */ }
			this._emit('connectionstate', { pc: name, state: 'closed' });
		}
		for (const s of Object.values(this._slots)) { s.transceiver = null; s.serverTrackId = null; }
		for (const [mid, t] of [...this.remoteTracks]) {
			this.remoteTracks.delete(mid);
			this._emit('trackremoved', { ...t, participant: this.participants.get(t.participantId) || null });
		}
	}

	_startPing(gen) {
		this._stopPing();
		const every = this.opts.pingIntervalMs;
		if (!every) return;
		this._pingTimer = setInterval(() => {
			if (gen !== this._gen || !this._ws) return;
			if (Date.now() - this._lastRx > every * 2.5) {
				this.log('no traffic from the server: the connection is dead');
				const ws = this._ws;
				this._socketLost(gen, { code: 4001, reason: 'keepalive timeout' });
				try { ws.close(); } catch { /* closed */ }
				return;
			}
			this._send({ type: 'ping' });
		}, every);
	}

	_stopPing() {
		clearInterval(this._pingTimer);
		this._pingTimer = null;
	}

	/** Leaves the room and closes everything; the client can join() again afterwards. */
	leave() {
		this._wantJoined = false;
		clearTimeout(this._retryTimer);
		this._retryTimer = null;
		if (this._firstJoin) { const f = this._firstJoin; this._firstJoin = null; f.reject(new ParleyError('closed', 'left')); }
		if (this._ws && this._ws.readyState === 1) this._send({ type: 'leave' });
		this._teardown(this._gen, 'leave');
		for (const [, p] of [...this.participants]) { this.participants.delete(p.id); this._emit('participantleft', { participant: p }); }
		this.typing.clear();
		clearTimeout(this._typingTimer);
		clearTimeout(this._typingExpiryTimer);
		this._typingSent = { active: false, at: 0 };
		// what was not sent is not sent to a later room
		const outbox = this._outbox;
		this._outbox = [];
		for (const m of outbox) m.reject(new ParleyError('closed', 'left the room before the message was sent'));
		// a later join starts afresh (maybe in another room)
		this.stats.joins = 0;
		this.messages = [];
		this.lastSeq = 0;
		this.hasMoreHistory = true;
		this.me = null;
		this.room = null;
		this._setState('closed', { code: 1000, reason: 'left' });
	}

	/** Stops everything for good (leave() and remove global listeners). */
	close() {
		this.leave();
		if (globalThis.removeEventListener) globalThis.removeEventListener('online', this._onOnline);
	}

	/* ----------------------------------------------------------- sending */

	_send(msg) {
		const ws = this._ws;
		if (!ws || ws.readyState !== 1) return false;
		ws.send(JSON.stringify(msg));
		return true;
	}

	/** Sends msg with a fresh id; resolves with the reply, rejects with a ParleyError on an error reply. */
	_request(msg, timeoutMs = this.opts.requestTimeoutMs) {
		const id = this._nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this._pending.delete(id);
				reject(new ParleyError('timeout', `no reply to ${msg.type} within ${timeoutMs} ms`));
			}, timeoutMs);
			this._pending.set(id, { resolve, reject, timer, type: msg.type });
			if (!this._send({ ...msg, id })) {
				clearTimeout(timer);
				this._pending.delete(id);
				reject(new ParleyError('network', 'not connected'));
			}
		});
	}

	/**
	 * Sends a request the server only answers when it fails (`answer`,
	 * `mute`): an error reply with its id goes to onError; the id is
	 * forgotten after a while.
	 */
	_fire(msg, onError) {
		const id = this._nextId++;
		this._pending.set(id, { resolve: () => {}, reject: (err) => { if (err.code !== 'network') onError(err); }, timer: null, type: msg.type });
		const t = setTimeout(() => this._pending.delete(id), 30000);
		if (t && t.unref) t.unref();    // (Node: do not keep a test process alive)
		if (!this._send({ ...msg, id })) this._pending.delete(id);
		return id;
	}

	/* ---------------------------------------------------------- messages */

	_onMessage(m) {
		if (m.id !== undefined && m.id !== null && this._pending.has(m.id) && m.type !== 'candidate') {
			const r = this._pending.get(m.id);
			this._pending.delete(m.id);
			clearTimeout(r.timer);
			if (m.type === 'error') r.reject(new ParleyError(m.code, m.message, m));
			else r.resolve(m);
			return;
		}
		switch (m.type) {
		case 'participant': this._onParticipant(m); break;
		case 'track': this._onTrackEvent(m); break;
		case 'offer': if (m.pc === 'sub') this._onSubOffer(this._gen, m); break;
		case 'candidate': this._onRemoteCandidate(m.pc, m.candidate); break;
		case 'chat': this._onChat(m); break;
		case 'typing': this._onTyping(m); break;
		case 'speaking': this._emit('speaking', { participants: m.participants || [] }); break;
		case 'pong': break;
		case 'error':
			this.log(`server error ${m.code}: ${m.message}`);
			this._emit('error', { code: m.code, message: m.message, fatal: false });
			break;
		default:
			this._emit('message', { message: m });
		}
	}

	_upsertParticipant(p, quiet = false) {
		const old = this.participants.get(p.id);
		const tracks = new Map();
		for (const t of p.tracks || []) tracks.set(t.id, { ...t });
		const np = old || { id: p.id };
		np.display = p.display;
		np.user = p.user;
		np.tracks = tracks;
		this.participants.set(p.id, np);
		if (p.id === (this.me && this.me.id)) return np;
		this._emit(old ? 'participantupdated' : 'participantjoined', { participant: np, rejoin: quiet });
		return np;
	}

	_onParticipant(m) {
		const p = m.participant;
		if (!p || !p.id) return;
		if (this.me && p.id === this.me.id) { this._learnOwnTracks(p.tracks); return; }
		if (m.event === 'left') {
			const old = this.participants.get(p.id);
			this.participants.delete(p.id);
			if (this.typing.delete(p.id)) this._emit('typing', { participant: old || p, active: false });
			this._emit('participantleft', { participant: old || p });
		} else {
			this._upsertParticipant(p);
		}
	}

	_onTrackEvent(m) {
		if (this.me && m.participant === this.me.id) { this._learnOwnTracks([m.track], m.event); return; }
		let p = this.participants.get(m.participant);
		if (!p) p = this._upsertParticipant({ id: m.participant, display: m.participant, tracks: [] });
		const t = m.track;
		if (!t || !t.id) return;
		if (m.event === 'removed') p.tracks.delete(t.id);
		else p.tracks.set(t.id, { ...(p.tracks.get(t.id) || {}), ...t });
		this._emit('trackupdated', { participant: p, event: m.event, track: t });
	}

	/* ------------------------------------------------------------ chat */

	/**
	 * Sends a chat message (to everyone, or to participant `to` directly).
	 * Resolves with { seq, ts } once the server has stored it. While the
	 * client is reconnecting the message waits and is sent again after the
	 * re-join with the same client_msg_id (the server stores it once).
	 */
	sendChat(text, { to = null } = {}) {
		const problem = chatTextProblem(text);
		if (problem) return Promise.reject(new ParleyError('bad_request', problem));
		const toP = to ? this.participants.get(to) : null;
		const entry = {
			client_msg_id: randomId('c-') + randomId(),
			text, to, toUser: toP ? toP.user : null, t: Date.now(),
		};
		const p = new Promise((resolve, reject) => { entry.resolve = resolve; entry.reject = reject; });
		this._outbox.push(entry);
		this._emit('chatpending', { pending: this.pendingMessages() });
		if (this.state === 'joined') this._sendChatNow(this._gen, entry);
		return p;
	}

	/** Messages sent but not acknowledged yet: [{ client_msg_id, text, to, t }]. */
	pendingMessages() {
		return this._outbox.map(({ client_msg_id, text, to, t }) => ({ client_msg_id, text, to, t }));
	}

	_sendChatNow(gen, entry) {
		if (entry.inflight === gen) return;
		entry.inflight = gen;
		// a direct message's recipient may have come back under a new id
		if (entry.to && !this.participants.has(entry.to) && entry.toUser) {
			for (const p of this.participants.values()) if (p.user === entry.toUser) { entry.to = p.id; break; }
		}
		const msg = { type: 'chat', text: entry.text, client_msg_id: entry.client_msg_id };
		if (entry.to) msg.to = entry.to;
		this._request(msg).then((ack) => {
			this._outbox = this._outbox.filter((x) => x !== entry);
			const sent = {
				type: 'chat', room: this.room, seq: ack.seq, ts: ack.ts,
				from: { ...this.me }, to: entry.to || null, text: entry.text, client_msg_id: entry.client_msg_id,
			};
			this._addMessages([sent], 'live');
			this._emit('chatack', { client_msg_id: entry.client_msg_id, seq: ack.seq, ts: ack.ts });
			this._emit('chatpending', { pending: this.pendingMessages() });
			entry.resolve({ seq: ack.seq, ts: ack.ts });
		}, (err) => {
			entry.inflight = null;
			if (gen !== this._gen || err.code === 'network') return;   // resent after the re-join
			// retried with the same client_msg_id: the server stores it once
			if (err.code === 'rate_limited' || err.code === 'internal' || err.code === 'timeout') {
				setTimeout(() => { if (this.state === 'joined' && this._outbox.includes(entry)) this._sendChatNow(this._gen, entry); }, 1000);
				return;
			}
			this._outbox = this._outbox.filter((x) => x !== entry);
			this._emit('chatpending', { pending: this.pendingMessages() });
			entry.reject(err);
		});
	}

	_onChat(m) {
		this._addMessages([m], 'live');
	}

	_addMessages(list, how) {
		const { messages, added } = mergeMessages(this.messages, list);
		this.messages = messages;
		for (const m of added) {
			if (m.seq > this.lastSeq) this.lastSeq = m.seq;
			if (how === 'live') this._emit('chat', { message: m, own: !!(this.me && m.from && (m.from.id === this.me.id || (this.me.user && m.from.user === this.me.user))) });
		}
		return added;
	}

	/**
	 * One page of history: { before } (older than seq), { after } (newer
	 * than seq), or neither (the newest). Merged into client.messages;
	 * resolves with { messages (the new ones), more }.
	 */
	async loadHistory({ before, after, limit = 50 } = {}) {
		const q = { type: 'history', limit };
		if (before !== undefined && before !== null) q.before = before;
		if (after !== undefined && after !== null) q.after = after;
		const r = await this._request(q);
		const added = this._addMessages(r.messages || [], 'history');
		// a page going back in time says whether there is more before it
		if (q.after === undefined && (q.before === undefined || !this.messages.length || q.before <= this.messages[0].seq || added.length)) {
			this.hasMoreHistory = !!r.more;
		}
		const res = { messages: added, more: !!r.more, before: q.before ?? null, after: q.after ?? null };
		this._emit('history', res);
		return res;
	}

	/** Older messages than the oldest one loaded (for scroll-up). */
	loadOlder(limit = 50) {
		if (!this.messages.length) return this.loadHistory({ limit });
		return this.loadHistory({ before: this.messages[0].seq, limit });
	}

	async _catchUpHistory(gen, lastSeqOnServer) {
		if (!this.messages.length) {
			await this.loadHistory({ limit: 50 });
			return;
		}
		// after a reconnect: everything after what we have, page by page
		let after = this.lastSeq;
		for (let i = 0; i < 50 && gen === this._gen; i++) {
			if (lastSeqOnServer !== undefined && after >= lastSeqOnServer) return;
			const r = await this.loadHistory({ after, limit: 200 });
			if (!r.more) return;
			after = this.lastSeq;
		}
	}

	/* ---------------------------------------------------------- typing */

	/**
	 * Call with true on every keystroke and false when the message is sent
	 * or cleared: sends {"type":"typing"} on changes, refreshes `active`
	 * every 3 s while typing and ends it after 5 s without a call.
	 */
	setTyping(active) {
		const now = Date.now();
		clearTimeout(this._typingTimer);
		if (active) {
			this._typingTimer = setTimeout(() => this.setTyping(false), 5000);
			if (!this._typingSent.active || now - this._typingSent.at > 3000) {
				if (this._send({ type: 'typing', active: true })) this._typingSent = { active: true, at: now };
			}
		} else if (this._typingSent.active) {
			this._send({ type: 'typing', active: false });
			this._typingSent = { active: false, at: now };
		}
	}

	_onTyping(m) {
		const p = this.participants.get(m.from) || { id: m.from, display: m.from };
		if (m.active) this.typing.set(m.from, Date.now() + 6000);
		else if (!this.typing.delete(m.from)) return;
		this._emit('typing', { participant: p, active: !!m.active });
		this._scheduleTypingExpiry();
	}

	_scheduleTypingExpiry() {
		clearTimeout(this._typingExpiryTimer);
		if (!this.typing.size) return;
		const next = Math.min(...this.typing.values());
		this._typingExpiryTimer = setTimeout(() => {
			const now = Date.now();
			for (const [id, exp] of [...this.typing]) {
				if (exp <= now) {
					this.typing.delete(id);
					this._emit('typing', { participant: this.participants.get(id) || { id, display: id }, active: false });
				}
			}
			this._scheduleTypingExpiry();
		}, Math.max(50, next - Date.now()));
	}

	/** Changes the display name (others get participantupdated). */
	async setDisplayName(display) {
		if (!isValidDisplay(display)) throw new ParleyError('bad_request', 'The name must be 1-64 characters');
		this._joinOpts.display = display;
		await this._request({ type: 'update', display });
		if (this.me) this.me.display = display;
	}

	/* ------------------------------------------------------- local media */

	_hasLocalTracks() {
		return Object.values(this._slots).some((s) => s.track);
	}

	/** The local track published as `source` ('microphone' | 'camera' | 'screen'), or null. */
	localTrack(source) {
		return this._slots[source] ? this._slots[source].track : null;
	}

	/**
	 * Publishes `track` as `source` ('microphone', 'camera' or 'screen'), or
	 * stops publishing it (null). Replacing a track of a source already
	 * published (a device change) needs no renegotiation. Can be called
	 * before join(): the tracks are published once joined, and again after
	 * every reconnection.
	 */
	async setLocalTrack(source, track, { muted } = {}) {
		const slot = this._slots[source];
		if (!slot) throw new ParleyError('bad_request', `unknown source ${source}`);
		if (track && track.kind !== slot.kind) throw new ParleyError('bad_request', `${source} needs a ${slot.kind} track`);
		if (muted !== undefined) slot.muted = !!muted;
		const hadTrack = !!slot.track;
		slot.track = track || null;
		if (track) track.enabled = !slot.muted;
		const e = this._pc.pub;
		if (this.state !== 'joined') return;
		if (e && slot.transceiver && hadTrack && track && this._wantedDirection(slot) === slot.transceiver.direction) {
			await slot.transceiver.sender.replaceTrack(track);
			return;
		}
		await this._negotiatePub(this._gen);
	}

	/** Whether `source` is muted. */
	isMuted(source) {
		return !!(this._slots[source] && this._slots[source].muted);
	}

	/**
	 * Mutes or unmutes a published source. The local track is disabled at
	 * once (track.enabled). Then, with muteMode 'signal' (or 'auto' when the
	 * server told us the id of our track), {"type":"mute"} makes the server
	 * stop forwarding it and tell the others (track `updated`, muted: true).
	 * With 'unpublish' (or 'auto' without a server track id: parleyd does
	 * not tell a publisher its own track ids yet) the track's transceiver is
	 * set inactive and pub renegotiated: the server drops the track and the
	 * others see it `removed`; unmuting publishes it again.
	 */
	async setMuted(source, muted) {
		const slot = this._slots[source];
		if (!slot) throw new ParleyError('bad_request', `unknown source ${source}`);
		slot.muted = !!muted;
		if (slot.track) slot.track.enabled = !slot.muted;
		this._emit('localmute', { source, muted: slot.muted });
		if (this.state !== 'joined' || !slot.transceiver) return;
		if (this._muteBySignal(slot)) {
			if (slot.serverTrackId) this._sendMute(slot);
			return;
		}
		await this._negotiatePub(this._gen);
	}

	/** {"type":"mute"} for a source whose server track id we know (the server replies only on errors). */
	_sendMute(slot) {
		const source = slot.source;
		this._fire({ type: 'mute', track: slot.serverTrackId, muted: slot.muted }, (err) => {
			this.log(`mute ${source}: ${err.code} ${err.message}`);
			this._emit('error', { code: err.code, message: `mute ${source}: ${err.message}`, fatal: false });
		});
	}

	_muteBySignal(slot) {
		const mode = this.opts.muteMode;
		return mode === 'signal' || (mode === 'auto' && !!slot.serverTrackId);
	}

	_wantedDirection(slot) {
		if (!slot.track) return 'inactive';
		if (slot.muted && !this._muteBySignal(slot)) return 'inactive';
		return 'sendonly';
	}

	/**
	 * Our own track ids, should the server tell us (a `track` event or a
	 * participant object about ourselves; parleyd does not send them to the
	 * publisher yet). Matched to sources by `mid` when given, else by kind
	 * when only one source of that kind is published.
	 */
	_learnOwnTracks(tracks, event = 'added') {
		for (const t of tracks || []) {
			if (!t || !t.id) continue;
			let slot = null;
			if (t.mid) slot = Object.values(this._slots).find((s) => s.transceiver && s.transceiver.mid === t.mid);
			if (!slot) {
				const cands = Object.values(this._slots).filter((s) => s.kind === t.kind && s.transceiver && s.track);
				if (cands.length === 1) slot = cands[0];
			}
			if (!slot) continue;
			if (event === 'removed') { if (slot.serverTrackId === t.id) slot.serverTrackId = null; continue; }
			const first = !slot.serverTrackId;
			slot.serverTrackId = t.id;
			// a mute that happened before we knew the id
			if (first && this.opts.muteMode !== 'unpublish' && slot.muted !== !!t.muted) this._sendMute(slot);
		}
	}

	/* ------------------------------------------------- peer connections */

	_makePc(name, gen) {
		const cfg = { iceServers: this.iceServers, ...this.opts.rtcConfig, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
		const pc = new this._PC(cfg);
		const e = { name, pc, gen, chain: Promise.resolve(), pending: [], iceTimer: null, restarts: 0 };
		this._pc[name] = e;
		const early = (this._early && this._early[name]) || [];
		if (this._early) this._early[name] = [];
		e.pending.push(...early);
		pc.onicecandidate = (ev) => {
			if (gen !== this._gen) return;
			const c = ev.candidate;
			if (c && c.candidate && this.opts.candidateFilter && !this.opts.candidateFilter(c.candidate)) return;
			const msg = candidateMessage(name, c);
			if (msg) this._send(msg);
		};
		const onState = () => {
			if (gen !== this._gen) return;
			this._emit('connectionstate', { pc: name, state: pc.connectionState, ice: pc.iceConnectionState });
			this._watchIce(e);
		};
		pc.onconnectionstatechange = onState;
		pc.oniceconnectionstatechange = onState;
		if (name === 'sub') {
			// the stream ids of ontrack are the msid stream ids: the fallback
			// when an m-line's msid is not in the SDP text
			e.streamsByMid = new Map();
			pc.ontrack = (ev) => {
				if (gen !== this._gen) return;
				const mid = ev.transceiver && ev.transceiver.mid;
				const streamId = ev.streams && ev.streams[0] ? ev.streams[0].id : null;
				if (mid !== null && mid !== undefined && streamId) e.streamsByMid.set(mid, streamId);
				this.log(`sub ontrack mid=${mid} kind=${ev.track.kind} stream=${streamId}`);
			};
		}
		return e;
	}

	/** ICE failed (or stayed disconnected) while the socket is up: restart ICE through a new pub offer. */
	_watchIce(e) {
		const st = e.pc.iceConnectionState;
		if (st === 'connected' || st === 'completed') {
			clearTimeout(e.iceTimer);
			e.iceTimer = null;
			e.restarts = 0;
			return;
		}
		if (st === 'failed') {
			clearTimeout(e.iceTimer);
			e.iceTimer = null;
			this._iceTrouble(e, 'failed');
		} else if (st === 'disconnected' && !e.iceTimer) {
			e.iceTimer = setTimeout(() => {
				e.iceTimer = null;
				if (e.pc.iceConnectionState === 'disconnected') this._iceTrouble(e, 'disconnected');
			}, this.opts.iceDisconnectedMs);
		}
	}

	_iceTrouble(e, why) {
		const gen = e.gen;
		if (gen !== this._gen || this.state !== 'joined') return;
		const pub = this._pc.pub;
		// The server restarts the sub connection's ICE along with pub's, so
		// either connection's trouble is fixed by an ICE restart on pub.
		if (!pub || (pub.restarts >= 3)) {
			this._resync(`${e.name} ICE ${why}${pub ? ' after 3 ICE restarts' : ''}`);
			return;
		}
		pub.restarts++;
		this.log(`${e.name} ICE ${why}: restarting ICE`);
		this.restartIce().catch((err) => this._mediaFailed(gen, 'pub', err));
	}

	/** Restarts ICE: a pub offer with new credentials (the server then re-offers sub with new ones too). */
	async restartIce() {
		const e = this._pc.pub;
		if (!e || this.state !== 'joined') throw new ParleyError('conflict', 'nothing published: no connection to restart');
		if (e.restarting) return e.restarting;     // both connections may ask at once: one restart does
		this.stats.iceRestarts++;
		this._emit('icerestart', { count: this.stats.iceRestarts });
		e.restarting = this._negotiatePub(this._gen, { iceRestart: true }).finally(() => { e.restarting = null; });
		return e.restarting;
	}

	/** Something is out of step with the server: start over with a fresh connection (same as a reconnect). */
	_resync(why) {
		if (!this._wantJoined || !this._ws) return;
		this.log(`resync: ${why}`);
		this._emit('error', { code: 'resync', message: why, fatal: false });
		const gen = this._gen;
		this._socketLost(gen, { code: 4002, reason: `resync: ${why}` });
	}

	_mediaFailed(gen, name, err) {
		if (gen !== this._gen) return;
		if (err && (err.code === 'network' || err.code === 'closed')) return;
		this.log(`${name} negotiation failed: ${err && err.stack || err}`);
		this._emit('error', { code: err && err.code || 'media', message: `${name}: ${err && err.message || err}`, fatal: false });
		this._resync(`${name} negotiation failed`);
	}

	_onPc(e, fn) {
		e.chain = e.chain.then(fn);
		return e.chain;
	}

	/**
	 * Brings the pub connection in line with the local sources (one offer
	 * at a time; changes made meanwhile are folded into the next offer).
	 */
	async _negotiatePub(gen, { iceRestart = false } = {}) {
		if (gen !== this._gen || this.state !== 'joined') return;
		let e = this._pc.pub;
		if (!e) {
			if (!this._hasLocalTracks()) return;
			e = this._makePc('pub', gen);
		}
		if (iceRestart) e.wantRestart = true;
		if (e.busy) { e.dirty = true; return e.busy; }
		e.busy = (async () => {
			try {
				do {
					e.dirty = false;
					const restart = !!e.wantRestart;
					e.wantRestart = false;
					await this._offerPub(e, gen, restart);
				} while ((e.dirty || e.wantRestart) && gen === this._gen);
			} finally {
				e.busy = null;
			}
		})();
		return e.busy;
	}

	async _offerPub(e, gen, iceRestart) {
		const pc = e.pc;
		let changed = iceRestart;
		for (const slot of Object.values(this._slots)) {
			const dir = this._wantedDirection(slot);
			if (!slot.transceiver) {
				if (!slot.track) continue;
				slot.transceiver = pc.addTransceiver(slot.track, { direction: dir, streams: [] });
				changed = true;
			} else {
				if (slot.transceiver.sender.track !== slot.track) await slot.transceiver.sender.replaceTrack(slot.track);
				if (slot.transceiver.direction !== dir) { slot.transceiver.direction = dir; changed = true; }
			}
			if (slot.track) slot.track.enabled = !slot.muted;
		}
		if (!changed && pc.remoteDescription && pc.signalingState === 'stable') return;
		if (!pc.getTransceivers().length) return;
		for (let tries = 0; ; tries++) {
			const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : {});
			await pc.setLocalDescription({ type: 'offer', sdp: withOpusNack(offer.sdp) });
			this.stats.pubOffers++;
			let ans;
			try {
				// Extension (docs/protocol.md): which source each m-line carries.
				const sources = {};
				for (const sl of Object.values(this._slots))
					if (sl.transceiver && sl.transceiver.mid != null && sl.track) sources[sl.transceiver.mid] = sl.source;
				ans = await this._request({ type: 'offer', pc: 'pub', sdp: pc.localDescription.sdp, sources });
			} catch (err) {
				if (gen !== this._gen) return;
				if ((err.code === 'conflict' || err.code === 'rate_limited') && tries < 5) {
					await pc.setLocalDescription({ type: 'rollback' });
					await new Promise((r) => setTimeout(r, 300 * (tries + 1)));
					continue;
				}
				throw err;
			}
			if (gen !== this._gen) return;
			if (ans.type !== 'answer' || ans.pc !== 'pub') throw new ParleyError('internal', `unexpected reply ${ans.type} to the pub offer`);
			await this._onPc(e, async () => {
				await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
				await this._flushCandidates(e);
			});
			this._emit('published', { sources: Object.values(this._slots).filter((s) => s.transceiver && this._wantedDirection(s) === 'sendonly').map((s) => s.source), iceRestart });
			return;
		}
	}

	_onSubOffer(gen, m) {
		if (!Number.isInteger(m.rev) || typeof m.sdp !== 'string') return;
		this.stats.subOffers++;
		let e = this._pc.sub;
		if (!e) e = this._makePc('sub', gen);
		this._onPc(e, async () => {
			if (gen !== this._gen) return;
			const pc = e.pc;
			// see keepEndedMlinesBundled: never let the bundle's transport change under us
			const fixed = this.opts.keepBundle === false ? { sdp: m.sdp, bundled: [], transport: [] }
				: keepEndedMlinesBundled(m.sdp, e.bundled, e.transport);
			if (fixed.changed) this.log(`sub rev ${m.rev}: ended m-lines kept in the bundle as inactive`);
			this.lastSubOffer = fixed.sdp;
			await pc.setRemoteDescription({ type: 'offer', sdp: fixed.sdp });
			e.bundled = fixed.bundled;
			e.transport = fixed.transport;
			await this._flushCandidates(e);
			const answer = await pc.createAnswer();
			await pc.setLocalDescription(answer);
			if (gen !== this._gen) return;
			// an error about this answer comes back with its id: start over then
			this._fire({ type: 'answer', pc: 'sub', rev: m.rev, sdp: pc.localDescription.sdp }, (err) => this._mediaFailed(gen, 'sub', err));
			this._syncRemoteTracks(e, fixed.sdp);
			this._emit('subscribed', { rev: m.rev });
		}).catch((err) => this._mediaFailed(gen, 'sub', err));
	}

	/** Reconciles remoteTracks with the m-lines of the sub offer just applied. */
	_syncRemoteTracks(e, sdp) {
		const want = new Map();
		for (const t of remoteTracksFromSdp(sdp)) {
			if (t.mid === null) continue;
			const fromTrack = e.streamsByMid && e.streamsByMid.get(t.mid);
			if (t.active) {
				if (fromTrack && fromTrack !== t.participantId) this.log(`mid ${t.mid}: msid stream ${t.participantId} but ontrack stream ${fromTrack}`);
				want.set(t.mid, t);
			} else if (t.sending && fromTrack && fromTrack !== '-') {
				want.set(t.mid, { ...t, participantId: fromTrack, active: true });
			}
		}
		const byMid = new Map(e.pc.getTransceivers().filter((x) => x.mid !== null).map((x) => [x.mid, x]));
		for (const [mid, old] of [...this.remoteTracks]) {
			const w = want.get(mid);
			if (!w || w.trackId !== old.trackId || w.participantId !== old.participantId) {
				this.remoteTracks.delete(mid);
				this._emit('trackremoved', { ...old, participant: this.participants.get(old.participantId) || null });
			}
		}
		for (const [mid, w] of want) {
			if (this.remoteTracks.has(mid)) continue;
			const tr = byMid.get(mid);
			if (!tr || !tr.receiver || !tr.receiver.track) continue;
			const rec = { mid, kind: w.kind, participantId: w.participantId, trackId: w.trackId, track: tr.receiver.track, transceiver: tr };
			this.remoteTracks.set(mid, rec);
			let p = this.participants.get(w.participantId);
			if (!p && !(this.me && w.participantId === this.me.id)) p = this._upsertParticipant({ id: w.participantId, display: w.participantId, tracks: [] });
			this._emit('trackadded', { ...rec, participant: p || null, own: !!(this.me && w.participantId === this.me.id) });
		}
	}

	/** The tracks received from a participant: [{ mid, kind, trackId, track }]. */
	tracksOf(participantId) {
		return [...this.remoteTracks.values()].filter((t) => t.participantId === participantId);
	}

	_onRemoteCandidate(name, cand) {
		if (name !== 'pub' && name !== 'sub') return;
		const e = this._pc[name];
		if (!e) {
			(this._early ||= { pub: [], sub: [] })[name].push(cand);
			return;
		}
		this._onPc(e, async () => {
			if (!e.pc.remoteDescription) { e.pending.push(cand); return; }
			await this._addCandidate(e, cand);
		}).catch(() => {});
	}

	async _flushCandidates(e) {
		for (const c of e.pending.splice(0)) await this._addCandidate(e, c);
	}

	async _addCandidate(e, cand) {
		try {
			if (cand === null || cand === undefined || !cand.candidate) await e.pc.addIceCandidate();
			else await e.pc.addIceCandidate({ candidate: cand.candidate, sdpMid: cand.sdpMid ?? null, sdpMLineIndex: cand.sdpMLineIndex ?? 0 });
		} catch (err) {
			// not fatal: the server's candidates are in its SDP too (and a
			// candidate of an older ICE generation is refused)
			this.log(`${e.name}: addIceCandidate: ${err && err.message || err}`);
		}
	}

	/** The peer connections' stats reports: { pub, sub } (null when absent). */
	async getStats() {
		const out = { pub: null, sub: null };
		for (const name of ['pub', 'sub']) {
			const e = this._pc[name];
			if (e) out[name] = await e.pc.getStats().catch(() => null);
		}
		return out;
	}

	/** Connection states: { pub, sub } as RTCPeerConnection.connectionState (or null). */
	connectionStates() {
		return {
			pub: this._pc.pub ? this._pc.pub.pc.connectionState : null,
			sub: this._pc.sub ? this._pc.sub.pc.connectionState : null,
		};
	}
}

export default Parley;
