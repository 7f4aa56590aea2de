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
// The SDK is this file and its siblings, all plain ES modules with no build
// step: parley-util.js (constants, validation, backoff, history merge,
// errors and events), parley-sdp.js (SDP and candidate text),
// parley-stats.js (stats reports to numbers), parley-peer.js (one peer
// connection's bookkeeping), and parley-chat.js and parley-local-media.js
// (the chat and the local media methods of Parley, kept in their own
// files). Everything public is exported from here: import from
// './parley.js' only. The helpers have no browser API, so that they can be
// tested in Node (tests/web/sdk_unit.mjs). See docs/sdk.md.

import {
	PROTOCOL, SOURCES, SOURCE_KIND, isValidRoom, codePointLength, isValidDisplay, chatTextProblem, wsUrlFor,
	DEFAULT_BACKOFF, backoffDelay, backoffSchedule, mergeMessages, randomId, ParleyError, ParleyEvent, STATES, mixInto,
} from './parley-util.js';
import {
	parseSdpMedia, remoteTracksFromSdp, keepEndedMlinesBundled, withOpusNack, iceUfrag, candidateMessage,
} from './parley-sdp.js';
import { extractStats, streamRates, qualityLevel } from './parley-stats.js';
import { PeerLink } from './parley-peer.js';
import { ParleyChat } from './parley-chat.js';
import { ParleyLocalMedia } from './parley-local-media.js';

// the public API, as when it was all in this file
export {
	PROTOCOL, SOURCES, isValidRoom, codePointLength, isValidDisplay, chatTextProblem, wsUrlFor,
	DEFAULT_BACKOFF, backoffDelay, backoffSchedule, mergeMessages, randomId, ParleyError, ParleyEvent, STATES,
	parseSdpMedia, remoteTracksFromSdp, keepEndedMlinesBundled, withOpusNack, iceUfrag, candidateMessage,
	extractStats, streamRates, qualityLevel,
};

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
			e.close();
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

	// sendChat, pendingMessages, loadHistory, loadOlder, setTyping and their
	// internals are in parley-chat.js (mixed in below).

	/** Changes the display name (others get participantupdated). */
	async setDisplayName(display) {
		if (!isValidDisplay(display)) throw new ParleyError('bad_request', 'The name must be 1-64 characters');
		this._joinOpts.display = display;
		await this._request({ type: 'update', display });
		if (this.me) this.me.display = display;
	}

	/* ------------------------------------------------------- local media */

	// localTrack, setLocalTrack, isMuted, setMuted and their internals are
	// in parley-local-media.js (mixed in below).

	/* ------------------------------------------------- peer connections */

	/** A new pub or sub connection (a PeerLink), wired to this client's current connection gen. */
	_makePc(name, gen) {
		const cfg = { iceServers: this.iceServers, ...this.opts.rtcConfig, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
		const pc = new this._PC(cfg);
		const e = new PeerLink(name, pc, gen, (msg) => this.log(msg));
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
		// ICE failed (or stayed disconnected) while the socket is up: _iceTrouble restarts it
		const onState = () => {
			if (gen !== this._gen) return;
			this._emit('connectionstate', { pc: name, state: pc.connectionState, ice: pc.iceConnectionState });
			e.watchIce(this.opts.iceDisconnectedMs, (why) => this._iceTrouble(e, why));
		};
		pc.onconnectionstatechange = onState;
		pc.oniceconnectionstatechange = onState;
		if (name === 'sub') {
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
			await e.run(async () => {
				await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
				await e.flushCandidates();
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
		e.run(async () => {
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
			await e.flushCandidates();
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
		e.addRemoteCandidate(cand).catch(() => {});
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

// the parts of the class kept in their own modules (see their headers)
mixInto(Parley, ParleyChat);
mixInto(Parley, ParleyLocalMedia);

export default Parley;
