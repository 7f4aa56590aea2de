// parley-local-media.js: the local media part of the Parley client: the
// tracks we publish per source (microphone, camera, screen) and their mute
// state.
//
// ParleyLocalMedia is not a class of its own: it holds methods of Parley,
// written as a class body so that they read like the rest of the class, and
// parley.js copies them onto Parley.prototype (mixInto). They run with
// `this` the client and use its _slots (one per source, set up in the
// Parley constructor); the pub connection is negotiated by _negotiatePub in
// parley.js, which asks _wantedDirection what each slot should send.

import { ParleyError } from './parley-util.js';

export class ParleyLocalMedia {
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
}
