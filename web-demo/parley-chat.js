// parley-chat.js: the chat, history and typing part of the Parley client.
//
// ParleyChat is not a class of its own: it holds methods of Parley, written
// as a class body so that they read like the rest of the class, and
// parley.js copies them onto Parley.prototype (mixInto). They run with
// `this` the client and use its state (messages, lastSeq, hasMoreHistory,
// typing, _outbox, _typingSent, the typing timers, set up in the Parley
// constructor) and its plumbing (_request, _send, _emit, _gen). The
// connection part of parley.js calls _catchUpHistory and _sendChatNow after
// every (re)join, and _onChat and _onTyping for the server's messages.

import { ParleyError, chatTextProblem, mergeMessages, randomId } from './parley-util.js';

export class ParleyChat {
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
}
