// sdk_unit.mjs: node's built-in test runner on the pure logic of the web
// SDK (web-demo/parley.js), and on the Parley client itself driven by a
// fake WebSocket and fake RTCPeerConnections (no browser, no server):
// msid -> participant mapping, keeping ended m-lines in the BUNDLE, the
// backoff schedule, history merge/dedupe by seq, candidate message shaping,
// event dispatch, chat acks and resends, reconnect and re-join, mute, ICE
// restart.
//
//   node tests/web/sdk_unit.mjs

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
	Parley, ParleyEvent, ParleyError, parseSdpMedia, remoteTracksFromSdp, keepEndedMlinesBundled, backoffDelay,
	backoffSchedule, DEFAULT_BACKOFF, mergeMessages, candidateMessage, chatTextProblem, codePointLength,
	isValidRoom, isValidDisplay, wsUrlFor, extractStats, streamRates, qualityLevel, iceUfrag, withOpusNack,
} from '../../web-demo/parley.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms = 2000, what = 'condition') {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
		await sleep(2);
	}
}

/* A sub offer as parleyd writes it (captured from a run): one participant's
   audio (mid 0, the BUNDLE tag) and video (mid 1). */
const TRANSPORT = [
	'a=ice-ufrag:yBel',
	'a=ice-pwd:zSfy+gmxaBoivL3U/DaoCo',
	'a=fingerprint:sha-256 C9:7C:0E:19:ED:4C:9E:87:A1:28:5E:5F:02:3A:BC:9C:A0:8A:D4:39:AA:F8:8B:1B:C8:41:0C:88:D9:32:48:CC',
	'a=setup:actpass',
];
function audioM(mid, pid, track, active = true) {
	if (!active) {
		return ['m=audio 0 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', `a=mid:${mid}`, 'a=inactive', 'a=rtcp-mux', 'a=rtcp-rsize',
			'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1'];
	}
	return ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', ...TRANSPORT, `a=mid:${mid}`,
		'a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=sendonly', `a=msid:${pid} ${track}`, 'a=rtcp-mux', 'a=rtcp-rsize',
		'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', `a=ssrc:1111 cname:${pid}`, `a=ssrc:1111 msid:${pid} ${track}`];
}
function videoM(mid, pid, track, active = true) {
	if (!active) {
		return ['m=video 0 UDP/TLS/RTP/SAVPF 96 97', 'c=IN IP4 0.0.0.0', `a=mid:${mid}`, 'a=inactive', 'a=rtcp-mux',
			'a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96'];
	}
	return ['m=video 9 UDP/TLS/RTP/SAVPF 96 97', 'c=IN IP4 0.0.0.0', ...TRANSPORT, `a=mid:${mid}`, 'a=sendonly',
		`a=msid:${pid} ${track}`, 'a=rtcp-mux', 'a=rtcp-rsize', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack',
		'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=ssrc-group:FID 2952931035 3520516684',
		`a=ssrc:2952931035 cname:${pid}`, `a=ssrc:2952931035 msid:${pid} ${track}`,
		`a=ssrc:3520516684 cname:${pid}`, `a=ssrc:3520516684 msid:${pid} ${track}`,
		'a=candidate:1 1 UDP 2015363327 127.0.0.1 53419 typ host', 'a=end-of-candidates'];
}
function subOffer(...sections) {
	const mids = sections.filter((s) => !s[0].includes(' 0 UDP')).map((s) => s.find((l) => l.startsWith('a=mid:')).slice(6));
	const head = ['v=0', 'o=- 3151897521223873716 3 IN IP4 127.0.0.1', 's=-', 't=0 0'];
	if (mids.length) head.push(`a=group:BUNDLE ${mids.join(' ')}`);
	head.push('a=ice-options:trickle', 'a=msid-semantic:WMS *');
	return [...head, ...sections.flat()].join('\r\n') + '\r\n';
}

/* ===================================================================== */

describe('validation', () => {
	test('room, display and chat text limits are the server\'s', () => {
		assert.ok(isValidRoom('standup.team-1_a'));
		for (const bad of ['', 'a b', 'x'.repeat(65), 'é', null]) assert.ok(!isValidRoom(bad), JSON.stringify(bad));
		assert.ok(isValidDisplay('Zoë 🎉'));
		assert.ok(isValidDisplay('😀'.repeat(64)), '64 code points (128 UTF-16 units)');
		assert.ok(!isValidDisplay('😀'.repeat(65)));
		assert.ok(!isValidDisplay('a\nb'));
		assert.ok(!isValidDisplay(''));
		assert.equal(codePointLength('a😀b'), 3);
		assert.equal(chatTextProblem('😀'.repeat(4000)), null);
		assert.match(chatTextProblem('😀'.repeat(4001)), /4000/);
		assert.match(chatTextProblem(''), /empty/);
	});
	test('the WebSocket URL follows the page\'s scheme and host', () => {
		assert.equal(wsUrlFor({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/ws');
		assert.equal(wsUrlFor({ protocol: 'https:', host: 'parley.example' }), 'wss://parley.example/ws');
	});
});

describe('SDP: msid -> participant', () => {
	test('each m-line of a sub offer maps to the participant in its msid', () => {
		const sdp = subOffer(audioM('0', 'p-aaaa', 't-1'), videoM('1', 'p-aaaa', 't-2'), audioM('2', 'p-bbbb', 't-3'), videoM('3', 'p-cccc', 't-4', false));
		assert.deepEqual(remoteTracksFromSdp(sdp), [
			{ mid: '0', kind: 'audio', participantId: 'p-aaaa', trackId: 't-1', active: true, sending: true },
			{ mid: '1', kind: 'video', participantId: 'p-aaaa', trackId: 't-2', active: true, sending: true },
			{ mid: '2', kind: 'audio', participantId: 'p-bbbb', trackId: 't-3', active: true, sending: true },
			{ mid: '3', kind: 'video', participantId: null, trackId: null, active: false, sending: false },
		]);
		const media = parseSdpMedia(sdp);
		assert.deepEqual(media[1].ssrcs, [2952931035, 3520516684]);
		assert.equal(media[3].port, 0);
		assert.equal(media[3].direction, 'inactive');
		assert.equal(iceUfrag(sdp), 'yBel');
	});
	test('msid from a=ssrc lines when there is no a=msid; "-" streams are nobody', () => {
		const sdp = 'v=0\r\nm=audio 9 RTP/SAVPF 111\r\na=mid:a\r\na=sendonly\r\na=ssrc:5 msid:p-x t-y\r\n' +
			'm=video 9 RTP/SAVPF 96\r\na=mid:b\r\na=sendonly\r\na=msid:- t-z\r\n';
		const t = remoteTracksFromSdp(sdp);
		assert.equal(t[0].participantId, 'p-x');
		assert.equal(t[0].trackId, 't-y');
		assert.equal(t[0].active, true);
		assert.equal(t[1].active, false);
	});
	test('a recvonly or port-0 m-line is not an active remote track; LF-only SDP parses too', () => {
		const sdp = 'v=0\nm=audio 9 RTP/SAVPF 111\na=mid:0\na=recvonly\na=msid:p-1 t-1\nm=audio 0 RTP/SAVPF 111\na=mid:1\na=sendonly\na=msid:p-1 t-2\n';
		assert.deepEqual(remoteTracksFromSdp(sdp).map((x) => x.active), [false, false]);
	});
});

describe('SDP: the BUNDLE tag stays in the bundle', () => {
	const rev1 = subOffer(audioM('0', 'p-a', 't-1'), videoM('1', 'p-a', 't-2'), audioM('2', 'p-b', 't-3'));
	const rev2 = subOffer(audioM('0', 'p-a', 't-1', false), videoM('1', 'p-a', 't-2'), audioM('2', 'p-b', 't-3'));
	test('an offer with nothing ended is passed through untouched', () => {
		const r = keepEndedMlinesBundled(rev1);
		assert.equal(r.changed, false);
		assert.equal(r.sdp, rev1);
		assert.deepEqual(r.bundled, ['0', '1', '2']);
		assert.equal(r.transport.length, 4);
	});
	test('a rejected BUNDLE tag becomes inactive with the bundle transport and stays first in the group', () => {
		const r1 = keepEndedMlinesBundled(rev1);
		const r = keepEndedMlinesBundled(rev2, r1.bundled, r1.transport);
		assert.equal(r.changed, true);
		assert.match(r.sdp, /^a=group:BUNDLE 0 1 2\r$/m);
		const m = parseSdpMedia(r.sdp);
		assert.equal(m[0].port, 9);
		assert.equal(m[0].direction, 'inactive');
		const sec0 = r.sdp.split('m=video')[0].split('m=audio')[1];
		for (const l of TRANSPORT) assert.ok(sec0.includes(l), `mid 0 has ${l}`);
		assert.equal((sec0.match(/^a=inactive/mg) || []).length, 1, 'one direction attribute');
		assert.deepEqual(remoteTracksFromSdp(r.sdp).map((x) => x.active), [false, true, true]);
		assert.ok(r.sdp.endsWith('\r\n'));
		// the next offer, still with mid 0 ended: same treatment (it is still the tag)
		const again = keepEndedMlinesBundled(rev2, r.bundled, r.transport);
		assert.equal(again.sdp, r.sdp);
	});
	test('other rejected m-lines are left alone', () => {
		const r1 = keepEndedMlinesBundled(rev1);
		const r = keepEndedMlinesBundled(subOffer(audioM('0', 'p-a', 't-1'), videoM('1', 'p-a', 't-2', false), audioM('2', 'p-b', 't-3')), r1.bundled, r1.transport);
		assert.equal(r.changed, false);
		assert.equal(parseSdpMedia(r.sdp)[1].port, 0);
		assert.deepEqual(r.bundled, ['0', '2']);
	});
	test('a server that keeps the tag itself (a=inactive with its port) gets its offer unchanged', () => {
		const kept = rev1.replace(/a=sendonly\r\na=msid:p-a t-1\r\n/, 'a=inactive\r\n');
		const r = keepEndedMlinesBundled(kept, ['0', '1', '2'], TRANSPORT);
		assert.equal(r.changed, false);
		assert.equal(r.sdp, kept);
		assert.deepEqual(remoteTracksFromSdp(kept).map((x) => x.active), [false, true, true]);
	});
	test('when every m-line has ended, the last transport is used and a BUNDLE group is written', () => {
		const r1 = keepEndedMlinesBundled(rev1);
		const all = subOffer(audioM('0', 'p-a', 't-1', false), videoM('1', 'p-a', 't-2', false), audioM('2', 'p-b', 't-3', false));
		assert.ok(!all.includes('a=group:BUNDLE'));
		const r = keepEndedMlinesBundled(all, r1.bundled, r1.transport);
		assert.match(r.sdp, /^a=group:BUNDLE 0\r$/m);
		assert.deepEqual(parseSdpMedia(r.sdp).map((x) => [x.port, x.direction]), [[9, 'inactive'], [0, 'inactive'], [0, 'inactive']]);
	});
});

describe('backoff', () => {
	test('doubles from 500 ms up to a 10 s cap', () => {
		assert.deepEqual(backoffSchedule(8), [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
		assert.deepEqual(backoffSchedule(4, { base: 100, factor: 3, max: 1000 }), [100, 300, 900, 1000]);
	});
	test('jitter spreads each delay by at most +-25 % and never above the cap', () => {
		for (let a = 0; a < 10; a++) {
			const raw = backoffSchedule(a + 1)[a];
			const lo = backoffDelay(a, {}, () => 0), hi = backoffDelay(a, {}, () => 0.999999), mid = backoffDelay(a, {}, () => 0.5);
			assert.equal(mid, raw);
			assert.ok(lo >= raw * (1 - DEFAULT_BACKOFF.jitter) - 1 && lo <= raw, `attempt ${a}: ${lo} vs ${raw}`);
			assert.ok(hi <= Math.min(DEFAULT_BACKOFF.max, raw * (1 + DEFAULT_BACKOFF.jitter)) + 1 && hi >= raw, `attempt ${a}: ${hi}`);
		}
		assert.equal(backoffDelay(-3, { jitter: 0 }), 500, 'a negative attempt is the first one');
	});
});

describe('history merge', () => {
	const msg = (seq, text = `m${seq}`) => ({ type: 'chat', seq, ts: 1000 + seq, text, from: { id: 'p', user: 'u', display: 'U' }, to: null });
	test('merges pages and live messages in seq order, each seq once', () => {
		let list = [];
		let r = mergeMessages(list, [msg(5), msg(6), msg(8)]);
		assert.deepEqual(r.added.map((m) => m.seq), [5, 6, 8]);
		list = r.messages;
		r = mergeMessages(list, [msg(7), msg(8, 'dup'), msg(9)]);          // live + overlap
		assert.deepEqual(r.added.map((m) => m.seq), [7, 9]);
		assert.deepEqual(r.messages.map((m) => m.seq), [5, 6, 7, 8, 9]);
		assert.equal(r.messages.find((m) => m.seq === 8).text, 'm8', 'the first copy of a seq is kept');
		const before = r.messages;
		r = mergeMessages(before, [msg(3), msg(1), msg(2), msg(4)]);        // an older page, unordered
		assert.deepEqual(r.added.map((m) => m.seq), [1, 2, 3, 4]);
		assert.deepEqual(r.messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
		assert.deepEqual(before.map((m) => m.seq), [5, 6, 7, 8, 9], 'the input list is not modified');
	});
	test('ignores messages without an integer seq and empty input', () => {
		const r = mergeMessages([msg(1)], [null, { text: 'x' }, { seq: '2' }, msg(2)]);
		assert.deepEqual(r.messages.map((m) => m.seq), [1, 2]);
		assert.deepEqual(mergeMessages([msg(1)], undefined).added, []);
	});
});

describe('candidate messages', () => {
	const line = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0';
	test('a candidate becomes {type, pc, candidate: {candidate, sdpMid, sdpMLineIndex}}', () => {
		assert.deepEqual(candidateMessage('pub', { candidate: line, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'x' }),
			{ type: 'candidate', pc: 'pub', candidate: { candidate: line, sdpMid: '0', sdpMLineIndex: 0 } });
		assert.deepEqual(candidateMessage('sub', { candidate: `a=${line}` }).candidate,
			{ candidate: line, sdpMid: null, sdpMLineIndex: null }, 'a= prefix dropped, missing fields null');
	});
	test('the end of gathering is candidate: null; the per-generation empty marker is not sent', () => {
		assert.deepEqual(candidateMessage('sub', null), { type: 'candidate', pc: 'sub', candidate: null });
		assert.equal(candidateMessage('sub', { candidate: '', sdpMid: '0' }), null);
	});
	test('TCP and mDNS candidates are not sent (the server ignores them)', () => {
		assert.equal(candidateMessage('pub', { candidate: 'candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active' }), null);
		assert.equal(candidateMessage('pub', { candidate: 'candidate:3 1 udp 2122260223 4f1c2a.local 50000 typ host' }), null);
	});
});

describe('stats helpers', () => {
	test('extractStats, streamRates and qualityLevel', () => {
		const report = new Map([
			['IT1', { id: 'IT1', type: 'inbound-rtp', kind: 'video', mid: '1', timestamp: 2000, bytesReceived: 250000, packetsReceived: 300, packetsLost: 3, framesDecoded: 60 }],
			['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' }],
			['CP', { id: 'CP', type: 'candidate-pair', currentRoundTripTime: 0.004 }],
		]);
		const s = extractStats(report);
		assert.equal(s.rtt, 0.004);
		assert.equal(s.inbound.length, 1);
		const prev = { ...s.inbound[0], timestamp: 1000, bytesReceived: 125000, packetsReceived: 200, packetsLost: 1, framesDecoded: 45 };
		const r = streamRates(prev, s.inbound[0]);
		assert.equal(r.bitrate, 1000000);
		assert.equal(r.fps, 15);
		assert.ok(Math.abs(r.loss - 2 / 102) < 1e-9);
		assert.deepEqual(streamRates(null, s.inbound[0]).bitrate, null);
		assert.equal(qualityLevel({ loss: 0, rtt: 0.01 }), 'good');
		assert.equal(qualityLevel({ loss: 0.05, rtt: 0.01 }), 'fair');
		assert.equal(qualityLevel({ loss: 0.2 }), 'poor');
		assert.equal(qualityLevel({ rtt: 0.8 }), 'poor');
		assert.equal(qualityLevel({}), 'unknown');
	});
});

describe('events', () => {
	test('ParleyEvent carries its detail both on .detail and on the event', () => {
		const target = new EventTarget();
		const got = [];
		target.addEventListener('chat', (e) => got.push(e));
		target.dispatchEvent(new ParleyEvent('chat', { message: { seq: 1 }, own: false, type: 'shadowed' }));
		assert.equal(got.length, 1);
		assert.ok(got[0] instanceof Event);
		assert.deepEqual(got[0].message, { seq: 1 });
		assert.equal(got[0].own, false);
		assert.equal(got[0].detail.type, 'shadowed');
		assert.equal(got[0].type, 'chat', 'Event fields are not overwritten');
	});
});

/* ===================================================================== */
/* The client against a scripted server                                  */
/* ===================================================================== */

class FakeTrack {
	constructor(kind) { this.kind = kind; this.enabled = true; this.id = `${kind}-${Math.random()}`; }
}

class FakePC {
	static all = [];
	constructor(cfg) {
		this.cfg = cfg;
		this.transceivers = [];
		this.remoteDescription = null;
		this.localDescription = null;
		this.signalingState = 'stable';
		this.connectionState = 'new';
		this.iceConnectionState = 'new';
		this.candidates = [];
		this.offers = [];
		this.closed = false;
		FakePC.all.push(this);
	}
	addTransceiver(track, init) {
		const sender = { track, replaceTrack: async (t) => { sender.track = t; } };
		const t = { mid: String(this.transceivers.length), direction: init.direction, sender, receiver: { track: new FakeTrack(track.kind) } };
		this.transceivers.push(t);
		return t;
	}
	getTransceivers() { return this.transceivers; }
	async createOffer(opts = {}) {
		this.offers.push(opts);
		const ufrag = `u${this.offers.filter((o) => o.iceRestart).length}`;
		return { type: 'offer', sdp: `v=0\r\na=ice-ufrag:${ufrag}\r\n` + this.transceivers.map((t) => `m=${t.sender.track ? t.sender.track.kind : 'audio'} 9 X 0\r\na=mid:${t.mid}\r\na=${t.direction}\r\n`).join('') };
	}
	async createAnswer() { return { type: 'answer', sdp: `v=0\r\nanswer-to:${this.remoteDescription.sdp.length}\r\n` }; }
	async setLocalDescription(d) {
		if (d.type === 'rollback') { this.signalingState = 'stable'; return; }
		this.localDescription = d;
		this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
	}
	async setRemoteDescription(d) {
		this.remoteDescription = d;
		if (d.type === 'offer') {
			for (const m of parseSdpMedia(d.sdp)) {
				if (m.mid !== null && m.port !== 0 && !this.transceivers.some((t) => t.mid === m.mid)) {
					this.transceivers.push({ mid: m.mid, direction: 'recvonly', receiver: { track: new FakeTrack(m.kind) } });
				}
			}
			this.signalingState = 'have-remote-offer';
		} else {
			this.signalingState = 'stable';
		}
	}
	async addIceCandidate(c) { this.candidates.push(c === undefined ? null : c); }
	async getStats() { return new Map(); }
	close() { this.closed = true; }
	setIce(state) { this.iceConnectionState = state; this.connectionState = state === 'failed' ? 'failed' : state; this.oniceconnectionstatechange?.(); }
}

/** A scripted parleyd: answers join/chat/history/offer like the real one, keeps a chat log. */
function makeServer() {
	const srv = {
		sockets: [], log: [], nextPid: 1, room: null, down: false, refuse: null,
		messages: [],   // stored chat
		get ws() { return this.sockets[this.sockets.length - 1]; },
		sent(type) { return this.log.filter((m) => m.type === type); },
	};
	class FakeWS {
		constructor(url, proto) {
			this.url = url;
			this.protocol = proto;
			this.readyState = 0;
			srv.sockets.push(this);
			setTimeout(() => {
				if (srv.down) { this.readyState = 3; this.onclose?.({ code: 1006, reason: '' }); return; }
				this.readyState = 1;
				this.onopen?.({});
			}, 1);
		}
		send(s) {
			const m = JSON.parse(s);
			srv.log.push(m);
			srv.onSend?.(this, m);
			setTimeout(() => respond(this, m), 1);
		}
		close(code = 1000, reason = '') {
			if (this.readyState === 3) return;
			this.readyState = 3;
			setTimeout(() => this.onclose?.({ code, reason }), 1);
		}
		deliver(m) { if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(m) }); }
		drop(code = 1001, reason = 'going away') { this.readyState = 3; this.onclose?.({ code, reason }); }
	}
	function respond(ws, m) {
		if (ws.readyState !== 1 || srv.silent || ws.skip) return;
		const reply = (x) => ws.deliver({ ...x, id: m.id });
		switch (m.type) {
		case 'join':
			if (srv.refuse) { reply({ type: 'error', code: srv.refuse, message: 'no' }); return; }
			ws.pid = `p-${srv.nextPid++}`;
			srv.room = m.room;
			reply({ type: 'joined', room: m.room, you: { id: ws.pid, display: m.display, user: m.user, tracks: [] },
				participants: srv.others || [], ice_servers: [], chat: { last_seq: srv.messages.length } });
			break;
		case 'chat': {
			const dup = srv.messages.find((x) => x.client_msg_id && x.client_msg_id === m.client_msg_id);
			if (dup) { reply({ type: 'ack', seq: dup.seq, ts: dup.ts }); return; }
			const c = { type: 'chat', room: srv.room, seq: srv.messages.length + 1, ts: 1000 + srv.messages.length, from: { id: ws.pid, user: 'me', display: 'Me' }, to: m.to || null, text: m.text, client_msg_id: m.client_msg_id };
			srv.messages.push(c);
			reply({ type: 'ack', seq: c.seq, ts: c.ts });
			if (!srv.noEcho) { const { client_msg_id, ...pub } = c; ws.deliver(pub); }   // eslint-disable-line no-unused-vars
			break;
		}
		case 'history': {
			const all = srv.messages.map(({ client_msg_id, ...c }) => c);   // eslint-disable-line no-unused-vars
			let page;
			let more;
			const lim = m.limit || 50;
			if (m.after !== undefined) { const rest = all.filter((c) => c.seq > m.after); page = rest.slice(0, lim); more = rest.length > lim; }
			else { const rest = m.before !== undefined ? all.filter((c) => c.seq < m.before) : all; page = rest.slice(-lim); more = rest.length > lim; }
			reply({ type: 'history', messages: page, more });
			break;
		}
		case 'offer':
			if (srv.pubAnswer !== false) reply({ type: 'answer', pc: 'pub', sdp: 'v=0\r\npub-answer\r\n' });
			break;
		case 'ping': ws.deliver({ type: 'pong' }); break;
		case 'leave': if (m.id !== undefined) reply({ type: 'left' }); break;
		default: break;
		}
	}
	srv.WebSocket = FakeWS;
	return srv;
}

function client(srv, opts = {}) {
	const c = new Parley({
		url: 'ws://test/ws', user: 'u-test', WebSocket: srv.WebSocket, RTCPeerConnection: FakePC,
		backoff: { base: 5, factor: 2, max: 40, jitter: 0 }, pingIntervalMs: 0, ...opts,
	});
	c.events = [];
	for (const t of ['statechange', 'joined', 'participantjoined', 'participantleft', 'participantupdated', 'trackadded', 'trackremoved',
		'trackupdated', 'chat', 'history', 'typing', 'error', 'reconnecting', 'chatack', 'icerestart', 'published']) {
		c.addEventListener(t, (e) => c.events.push(e));
	}
	c.of = (type) => c.events.filter((e) => e.type === type);
	return c;
}

describe('Parley client', () => {
	test('joins with the stable user id, maps participants and dispatches presence, track and typing events', async () => {
		const srv = makeServer();
		srv.others = [{ id: 'p-bob', display: 'Bob', user: 'bob', tracks: [{ id: 't-9', kind: 'audio', source: 'microphone', muted: false }] }];
		const c = client(srv);
		const j = await c.join({ room: 'standup', display: 'Alice' });
		assert.equal(j.type, 'joined');
		const join = srv.sent('join')[0];
		assert.deepEqual({ ...join, id: undefined }, { type: 'join', room: 'standup', display: 'Alice', user: 'u-test', id: undefined });
		assert.deepEqual(c.of('statechange').map((e) => e.state), ['connecting', 'joined']);
		assert.equal(c.state, 'joined');
		assert.equal(c.me.id, 'p-1');
		assert.equal(c.participants.get('p-bob').tracks.get('t-9').muted, false);
		assert.equal(c.of('participantjoined')[0].participant.display, 'Bob');
		// presence
		srv.ws.deliver({ type: 'participant', event: 'joined', participant: { id: 'p-carol', display: 'Carol', user: 'carol', tracks: [] } });
		srv.ws.deliver({ type: 'participant', event: 'updated', participant: { id: 'p-carol', display: 'Caroline', user: 'carol', tracks: [] } });
		assert.equal(c.participants.get('p-carol').display, 'Caroline');
		assert.equal(c.of('participantupdated').at(-1).participant.display, 'Caroline');
		// track events update the participant's tracks (mute shown to others)
		srv.ws.deliver({ type: 'track', event: 'updated', participant: 'p-bob', track: { id: 't-9', kind: 'audio', source: 'microphone', muted: true } });
		assert.equal(c.participants.get('p-bob').tracks.get('t-9').muted, true);
		assert.equal(c.of('trackupdated').at(-1).event, 'updated');
		srv.ws.deliver({ type: 'track', event: 'removed', participant: 'p-bob', track: { id: 't-9' } });
		assert.equal(c.participants.get('p-bob').tracks.size, 0);
		// typing: on, then expires on its own
		srv.ws.deliver({ type: 'typing', from: 'p-carol', active: true });
		assert.deepEqual([...c.typing.keys()], ['p-carol']);
		assert.equal(c.of('typing').at(-1).active, true);
		srv.ws.deliver({ type: 'participant', event: 'left', participant: { id: 'p-carol', display: 'Caroline' } });
		assert.equal(c.typing.size, 0, 'a participant who leaves stops typing');
		assert.equal(c.of('participantleft').at(-1).participant.id, 'p-carol');
		// the newest history page was asked for on join
		await until(() => srv.sent('history').length === 1, 2000, 'history request');
		assert.deepEqual({ ...srv.sent('history')[0], id: undefined }, { type: 'history', limit: 50, id: undefined });
		c.close();
		assert.equal(c.state, 'closed');
		assert.equal(srv.sent('leave').length, 1);
	});

	test('typing is throttled and turned off', async () => {
		const srv = makeServer();
		const c = client(srv);
		await c.join({ room: 'r', display: 'A' });
		c.setTyping(true); c.setTyping(true); c.setTyping(true);
		c.setTyping(false); c.setTyping(false);
		assert.deepEqual(srv.sent('typing').map((m) => m.active), [true, false]);
		c.close();
	});

	test('chat: client_msg_id, ack -> seq, one chat event per seq, history pages merged', async () => {
		const srv = makeServer();
		const c = client(srv);
		await c.join({ room: 'r', display: 'A' });
		await until(() => c.of('history').length === 1);
		const ack = await c.sendChat('hello');
		assert.deepEqual(ack, { seq: 1, ts: 1000 });
		const sent = srv.sent('chat')[0];
		assert.match(sent.client_msg_id, /^c-[0-9a-f]{24}$/);
		await until(() => c.messages.length === 1);
		await sleep(10);
		assert.equal(c.of('chat').length, 1, 'the ack and the echoed chat are one message');
		assert.equal(c.of('chat')[0].own, true, JSON.stringify(c.of('chat')[0].detail) + JSON.stringify(c.me));
		// a direct message
		srv.others = [];
		c._onMessage({ type: 'participant', event: 'joined', participant: { id: 'p-b', display: 'B', user: 'b', tracks: [] } });
		await c.sendChat('psst', { to: 'p-b' });
		assert.equal(srv.sent('chat')[1].to, 'p-b');
		// a live message from someone else
		srv.ws.deliver({ type: 'chat', room: 'r', seq: 3, ts: 2000, from: { id: 'p-b', user: 'b', display: 'B' }, to: null, text: 'yo' });
		assert.equal(c.of('chat').at(-1).own, false);
		assert.deepEqual(c.messages.map((m) => m.seq), [1, 2, 3]);
		// errors reject
		await assert.rejects(c.sendChat(''), (e) => e instanceof ParleyError && e.code === 'bad_request');
		// history: older pages come before
		for (let i = 0; i < 5; i++) srv.messages.unshift({ type: 'chat', seq: 0, text: 'old' });
		srv.messages.forEach((m, i) => { m.seq = i + 1; });
		c.messages = c.messages.map((m) => ({ ...m, seq: m.seq + 5 }));
		const page = await c.loadHistory({ before: 6, limit: 3 });
		assert.deepEqual(page.messages.map((m) => m.seq), [3, 4, 5]);
		assert.equal(page.more, true);
		assert.equal(c.hasMoreHistory, true);
		const rest = await c.loadOlder(10);
		assert.deepEqual(rest.messages.map((m) => m.seq), [1, 2]);
		assert.equal(c.hasMoreHistory, false);
		assert.deepEqual(c.messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
		c.close();
	});

	test('reconnects with backoff after the socket drops: same user, missed messages fetched, unacked chat resent once', async () => {
		const srv = makeServer();
		const c = client(srv);
		await c.join({ room: 'r', display: 'A' });
		await c.sendChat('before');
		await until(() => c.messages.length === 1);
		// the server goes away; a message is written while it is down
		srv.down = true;
		srv.ws.drop(1001, 'going away');
		assert.equal(c.state, 'reconnecting');
		const pending = c.sendChat('written while away');
		assert.equal(c.pendingMessages().length, 1);
		await until(() => c.of('reconnecting').length >= 3, 2000, 'three attempts');
		assert.deepEqual(c.of('reconnecting').slice(0, 3).map((e) => e.delay), [5, 10, 20], 'exponential backoff');
		// someone else wrote meanwhile
		srv.messages.push({ type: 'chat', room: 'r', seq: 2, ts: 5, from: { id: 'p-x', user: 'x', display: 'X' }, to: null, text: 'missed' });
		srv.down = false;
		const ack = await pending;
		assert.equal(ack.seq, 3);
		assert.equal(c.state, 'joined');
		const joins = srv.sent('join');
		assert.ok(joins.length >= 2);
		assert.equal(joins.at(-1).user, 'u-test', 'the same user id, so client_msg_id dedupes across reconnects');
		assert.equal(c.of('joined').at(-1).rejoin, true);
		await until(() => c.messages.some((m) => m.text === 'missed'), 2000, 'missed message');
		const hist = srv.sent('history').at(-1);
		assert.equal(hist.after, 1, 'catch-up asks for what came after the last seq seen');
		assert.deepEqual(c.messages.map((m) => m.text), ['before', 'missed', 'written while away']);
		assert.equal(c.stats.reconnects, 1);
		c.close();
	});

	test('closed 4003 (kicked) or 4002 (token expired): no reconnect, a fatal error', async () => {
		for (const [code, ecode] of [[4003, 'forbidden'], [4002, 'unauthorized']]) {
			const srv = makeServer();
			const c = client(srv);
			await c.join({ room: 'r', display: 'A' });
			srv.ws.drop(code, '');
			assert.equal(c.state, 'closed', `after close ${code}`);
			await sleep(30);
			assert.equal(srv.sockets.length, 1, `no reconnect after ${code}`);
			const e = c.of('error').at(-1);
			assert.equal(e.fatal, true);
			assert.equal(e.code, ecode);
		}
	});

	test('a resent message is stored once (same client_msg_id) when the ack was lost', async () => {
		const srv = makeServer();
		const c = client(srv);
		await c.join({ room: 'r', display: 'A' });
		srv.swallowChat = 1;                      // stored, but the connection dies before the ack
		srv.onSend = (ws, m) => {
			if (m.type === 'chat' && srv.swallowChat) {
				srv.swallowChat--;
				srv.messages.push({ type: 'chat', seq: srv.messages.length + 1, ts: 1, text: m.text, client_msg_id: m.client_msg_id, from: { id: ws.pid } });
				ws.skip = true;
				setTimeout(() => ws.drop(1006, ''), 5);
			}
		};
		const p = c.sendChat('once');
		const ack = await p;
		assert.equal(ack.seq, 1);
		assert.equal(srv.messages.length, 1);
		const ids = srv.sent('chat').map((m) => m.client_msg_id);
		assert.equal(ids.length, 2);
		assert.equal(ids[0], ids[1]);
		c.close();
	});

	test('a refused join is final: no reconnect, join() rejects with the code', async () => {
		const srv = makeServer();
		srv.refuse = 'unauthorized';
		const c = client(srv);
		await assert.rejects(c.join({ room: 'r', display: 'A', token: 'bad' }), (e) => e.code === 'unauthorized');
		assert.equal(c.state, 'closed');
		assert.equal(srv.sent('join')[0].token, 'bad');
		assert.equal(srv.sent('join')[0].user, undefined, 'with a token the user id is the token\'s');
		await sleep(30);
		assert.equal(srv.sockets.length, 1, 'no retry');
		assert.equal(c.of('error').at(-1).fatal, true);
	});

	test('an unreachable server fails the first join instead of retrying behind the user\'s back', async () => {
		const srv = makeServer();
		srv.down = true;
		const c = client(srv);
		await assert.rejects(c.join({ room: 'r', display: 'A' }), (e) => e.code === 'network');
		assert.equal(c.state, 'closed');
	});

	test('a silent socket is declared dead by the keepalive and replaced', async () => {
		const srv = makeServer();
		const c = client(srv, { pingIntervalMs: 10 });
		await c.join({ room: 'r', display: 'A' });
		await until(() => srv.sent('ping').length >= 1, 2000, 'a ping');
		srv.silent = true;                        // the network dies: nothing comes back
		await until(() => c.state === 'reconnecting', 2000, 'keepalive timeout');
		srv.silent = false;
		await until(() => c.state === 'joined' && c.stats.reconnects === 1, 2000, 're-join');
		c.close();
	});

	test('sub offers: answered with their rev, tracks mapped to participants, ended m-lines kept in the bundle', async () => {
		const srv = makeServer();
		const c = client(srv);
		await c.join({ room: 'r', display: 'A' });
		// a candidate that arrives before the offer waits for it
		srv.ws.deliver({ type: 'candidate', pc: 'sub', candidate: { candidate: 'candidate:1 1 UDP 2015363327 127.0.0.1 53419 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
		srv.ws.deliver({ type: 'offer', pc: 'sub', rev: 1, sdp: subOffer(audioM('0', 'p-bob', 't-1'), videoM('1', 'p-bob', 't-2')) });
		await until(() => srv.sent('answer').length === 1, 2000, 'answer rev 1');
		const a1 = srv.sent('answer')[0];
		assert.equal(a1.pc, 'sub');
		assert.equal(a1.rev, 1);
		assert.match(a1.sdp, /^v=0/);
		const pc = FakePC.all.at(-1);
		assert.equal(pc.candidates.length, 1, 'the early candidate was applied after the offer');
		assert.deepEqual(c.of('trackadded').map((e) => [e.mid, e.kind, e.participantId, e.trackId]),
			[['0', 'audio', 'p-bob', 't-1'], ['1', 'video', 'p-bob', 't-2']]);
		assert.equal(c.tracksOf('p-bob').length, 2);
		assert.ok(c.participants.has('p-bob'), 'an unknown msid stream becomes a participant');
		srv.ws.deliver({ type: 'candidate', pc: 'sub', candidate: null });
		// Bob's audio ends: rev 2 rejects mid 0, which is the bundle tag
		srv.ws.deliver({ type: 'offer', pc: 'sub', rev: 2, sdp: subOffer(audioM('0', 'p-bob', 't-1', false), videoM('1', 'p-bob', 't-2')) });
		await until(() => srv.sent('answer').length === 2, 2000, 'answer rev 2');
		assert.equal(srv.sent('answer')[1].rev, 2);
		assert.deepEqual(c.of('trackremoved').map((e) => e.mid), ['0']);
		assert.equal(pc.candidates.at(-1), null, 'candidate: null became addIceCandidate() (end of candidates)');
		const applied = pc.remoteDescription.sdp;
		assert.match(applied, /^a=group:BUNDLE 0 1\r$/m, 'mid 0 (the tag) still bundled');
		assert.equal(parseSdpMedia(applied)[0].port, 9);
		// the server reuses mid 0 for Carol's audio
		srv.ws.deliver({ type: 'offer', pc: 'sub', rev: 3, sdp: subOffer(audioM('0', 'p-carol', 't-7'), videoM('1', 'p-bob', 't-2')) });
		await until(() => srv.sent('answer').length === 3, 2000, 'answer rev 3');
		assert.deepEqual(c.of('trackadded').at(-1).participantId, 'p-carol');
		// an error about an answer means we are out of step: start over
		srv.ws.deliver({ type: 'error', id: srv.sent('answer')[2].id, code: 'conflict', message: 'no offer with rev 3' });
		await until(() => c.stats.reconnects === 1 && c.state === 'joined', 2000, 'resync');
		assert.ok(pc.closed, 'the old connection was closed');
		c.close();
	});

	test('publishing, mute (unpublish without a server track id, `mute` with one) and ICE restart', async () => {
		const srv = makeServer();
		const c = client(srv);
		const mic = new FakeTrack('audio'), cam = new FakeTrack('video');
		await c.setLocalTrack('microphone', mic);
		await c.setLocalTrack('camera', cam, { muted: true });
		assert.equal(cam.enabled, false);
		await c.join({ room: 'r', display: 'A' });
		await until(() => c.of('published').length === 1, 2000, 'published');
		const pc = FakePC.all.at(-1);
		assert.equal(pc.remoteDescription.sdp, 'v=0\r\npub-answer\r\n');
		const o1 = srv.sent('offer')[0];
		assert.equal(o1.pc, 'pub');
		assert.match(o1.sdp, /a=mid:0\r\na=sendonly/);
		assert.match(o1.sdp, /a=mid:1\r\na=inactive/, 'a muted camera is not sent (no server track id to mute)');
		// mute the microphone: no id known -> the transceiver goes inactive
		await c.setMuted('microphone', true);
		assert.equal(mic.enabled, false);
		assert.match(srv.sent('offer')[1].sdp, /a=mid:0\r\na=inactive/);
		assert.equal(srv.sent('mute').length, 0);
		await c.setMuted('microphone', false);
		assert.match(srv.sent('offer')[2].sdp, /a=mid:0\r\na=sendonly/);
		// the server tells us our track ids (by mid): mute is then a `mute` message
		srv.ws.deliver({ type: 'track', event: 'added', participant: c.me.id, track: { id: 't-mine', kind: 'audio', mid: '0', muted: false } });
		const offers = srv.sent('offer').length;
		await c.setMuted('microphone', true);
		await until(() => srv.sent('mute').length === 1, 2000, 'mute message');
		assert.deepEqual({ ...srv.sent('mute')[0], id: undefined }, { type: 'mute', track: 't-mine', muted: true, id: undefined });
		assert.equal(srv.sent('offer').length, offers, 'no renegotiation');
		// switching devices: replaceTrack, no renegotiation
		const mic2 = new FakeTrack('audio');
		await c.setLocalTrack('microphone', mic2);
		assert.equal(pc.transceivers[0].sender.track, mic2);
		assert.equal(mic2.enabled, false, 'the new track keeps the mute state');
		assert.equal(srv.sent('offer').length, offers);
		// ICE fails while the socket is up: a pub offer with iceRestart
		pc.setIce('failed');
		await until(() => c.of('icerestart').length === 1 && srv.sent('offer').length === offers + 1, 2000, 'ICE restart offer');
		assert.deepEqual(pc.offers.at(-1), { iceRestart: true });
		assert.equal(c.stats.iceRestarts, 1);
		c.close();
	});
});

test('withOpusNack adds NACK to Opus once, and nothing else', () => {
	const offer = ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc',
		'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:63 red/48000/2', 'm=video 9 UDP/TLS/RTP/SAVPF 96',
		'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', ''].join('\r\n');
	const out = withOpusNack(offer);
	assert.equal(out.split('\r\n').filter((l) => l === 'a=rtcp-fb:111 nack').length, 1);
	assert.ok(out.includes('a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 nack\r\n'));
	assert.ok(!out.includes('a=rtcp-fb:63 nack'), 'RED is left alone');
	assert.equal(out.split('\r\n').filter((l) => l === 'a=rtcp-fb:96 nack').length, 1, 'video unchanged');
	assert.equal(withOpusNack(out), out, 'idempotent');
	assert.ok(out.endsWith('\r\n'));
});
