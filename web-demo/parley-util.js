// parley-util.js: the pure logic of the Parley SDK that is neither SDP nor
// stats: protocol constants, what the server accepts (room, display name,
// chat text), the reconnection backoff, chat history merging, ids, and the
// SDK's error and event classes. No browser API beyond Event, so that
// tests/web/sdk_unit.mjs runs it in Node. Applications import all of this
// from parley.js, which re-exports it (docs/sdk.md).

export const PROTOCOL = 'parley.v1';
export const SOURCES = ['microphone', 'camera', 'screen'];
/** The media kind each source carries. */
export const SOURCE_KIND = { microphone: 'audio', camera: 'video', screen: 'video' };

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

/**
 * Copies the methods of `source` (a class written only to hold them, never
 * instantiated) onto `target.prototype`, with the same property attributes
 * class methods have (not enumerable). parley.js uses it to keep parts of
 * the Parley class (chat, local media) in their own modules while they
 * still run with `this` the client, exactly as if written in its body.
 */
export function mixInto(target, source) {
	for (const name of Object.getOwnPropertyNames(source.prototype)) {
		if (name === 'constructor') continue;
		if (Object.prototype.hasOwnProperty.call(target.prototype, name)) throw new Error(`mixInto: ${name} is defined twice`);
		Object.defineProperty(target.prototype, name, Object.getOwnPropertyDescriptor(source.prototype, name));
	}
}
