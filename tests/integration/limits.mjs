// limits.mjs: every configurable limit of docs/security.md, each exceeded
// once: the error PROTOCOL.md names, the counter in /healthz, and the
// server (and everyone within the limit) unharmed.
//
//   limits.messages_per_s / messages_burst  rate_limited      signaling.rate_limited
//   limits.chat_per_s / chat_burst          rate_limited      signaling.rate_limited
//   limits.ip_messages_per_s / _burst       rate_limited      signaling.rate_limited
//   limits.ip_chat_per_s / _burst           rate_limited      signaling.rate_limited
//   limits.max_connections                  upgrade refused   signaling.rejected_connections
//   limits.max_connections_per_ip           upgrade refused   signaling.rejected_connections_per_ip
//   limits.max_rooms                        room_full         signaling.rooms_full
//   limits.max_participants_per_room        room_full         signaling.room_full
//   media.max_sdp_bytes                     bad_request       signaling.sdp_too_large
//   limits.max_sdp_mlines                   bad_request       signaling.sdp_too_many_mlines
//   server.max_frame_bytes                  too_large + 1009  signaling.too_large
//
//   limits.send_queue_max                   cut off           signaling.slow_readers_cut
//
// bad_input.mjs has the longer slow-reader test (the others unharmed) and
// ws_timeout_s ("never answers pings").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverTest, uniqueRoom, assertError, Client, sleep, waitFor } from './lib/harness.mjs';
import { health, isLeft } from './lib/security.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OFFER = readFileSync(path.join(here, '..', 'fixtures', 'sdp', 'captured', 'chromium_offer.sdp'), 'utf8');

serverTest('messages_per_s and chat_per_s: rate_limited over the burst, counted; the rate comes back', {
	config: { limits: { messages_per_s: 5, messages_burst: 10, chat_per_s: 2, chat_burst: 3 } },
}, async ({ srv, client }) => {
	const a = await client({ name: 'pinger' });
	const h0 = await health(srv);
	// the bucket refills while the burst is processed: the upper bound
	// allows what the elapsed time refilled (a slow machine takes longer)
	const refill = (t0, perS) => Math.ceil(perS * (Date.now() - t0) / 1000) + 1;
	let t0 = Date.now();
	const replies = await Promise.all(Array.from({ length: 30 }, () => a.request({ type: 'ping' })));
	const pongMax = 10 + refill(t0, 5);
	const pongs = replies.filter((m) => m.type === 'pong').length;
	const limited = replies.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
	assert.equal(pongs + limited, 30);
	assert.ok(pongs >= 10 && pongs <= pongMax, `burst of 10 (+ refill, at most ${pongMax}): ${pongs} pongs`);
	assert.ok(limited > 0, 'the burst was limited');
	const h1 = await health(srv);
	assert.equal(h1.rate_limited - h0.rate_limited, limited, 'every rate_limited is counted');
	assert.ok(a.isOpen, 'rate_limited does not close');
	await sleep(1100); // 5 tokens back
	assert.equal((await a.request({ type: 'ping' })).type, 'pong');

	// chat: its own, lower bucket (the message bucket has room again)
	const room = uniqueRoom();
	const c = await client({ name: 'chatter' });
	await c.join(room, 'Chatter');
	t0 = Date.now();
	const acks = await Promise.all(Array.from({ length: 8 }, (_, i) => c.request({ type: 'chat', text: `m${i}` })));
	const chatMax = 3 + refill(t0, 2);
	const ok = acks.filter((m) => m.type === 'ack').length;
	const cl = acks.filter((m) => m.type === 'error' && m.code === 'rate_limited');
	assert.equal(ok + cl.length, 8, JSON.stringify(acks));
	assert.ok(ok >= 3 && ok <= chatMax, `chat burst of 3 (+ refill, at most ${chatMax}): ${ok} acked`);
	assert.ok(cl.length > 0, 'the chat burst was limited');
	for (const e of cl) assert.match(e.message, /chat rate/);
	const h2 = await health(srv);
	assert.equal(h2.rate_limited - h1.rate_limited, cl.length);
	// refused messages were not stored
	const h = await c.request({ type: 'history' });
	assert.equal(h.messages.length, ok);
});

serverTest('ip_messages_per_s and ip_chat_per_s: the connections of one address share one bucket; other addresses have their own', {
	config: { limits: { messages_per_s: 0, chat_per_s: 0, ip_messages_per_s: 2, ip_messages_burst: 10, ip_chat_per_s: 1, ip_chat_burst: 4 } },
}, async ({ srv }) => {
	const from = (ip, name) => Client.connect(srv.url, { localAddress: ip, name });
	const a1 = await from('127.0.0.1', 'a1');
	const a2 = await from('127.0.0.1', 'a2');
	const b1 = await from('127.0.0.2', 'b1');
	const h0 = await health(srv);
	const pings = (c, n) => Promise.all(Array.from({ length: n }, () => c.request({ type: 'ping' })));
	const both = [...await pings(a1, 8), ...await pings(a2, 8)];
	const pongsA = both.filter((m) => m.type === 'pong').length;
	assert.ok(pongsA >= 10 && pongsA <= 11, `127.0.0.1 shares a burst of 10 over two connections: ${pongsA} pongs`);
	assert.equal(both.filter((m) => m.code === 'rate_limited').length, 16 - pongsA);
	const pongsB = (await pings(b1, 8)).filter((m) => m.type === 'pong').length;
	assert.equal(pongsB, 8, 'another address is not charged');
	assert.equal((await health(srv)).rate_limited - h0.rate_limited, 16 - pongsA);
	// chat from a fresh address: 4 shared by its connections (messages have room)
	const c1 = await from('127.0.0.3', 'c1');
	const c2 = await from('127.0.0.3', 'c2');
	const room = uniqueRoom();
	await c1.join(room, 'C1');
	await c2.join(room, 'C2');
	const chats = await Promise.all([c1, c2, c1, c2, c1, c2, c1, c2].map((c, i) => c.request({ type: 'chat', text: `x${i}` })));
	const acked = chats.filter((m) => m.type === 'ack').length;
	assert.ok(acked >= 4 && acked <= 5, `chat burst of 4 for the address: ${acked}`);
	for (const m of chats.filter((x) => x.type === 'error')) assert.equal(m.code, 'rate_limited');
	for (const c of [a1, a2, b1, c1, c2]) c.terminate();
});

serverTest('max_connections_per_ip and max_connections: the upgrade is refused, counted; other addresses and later connections work', {
	config: { limits: { max_connections: 3, max_connections_per_ip: 2 } },
}, async ({ srv }) => {
	const h0 = await health(srv);
	const from = (ip, name) => Client.connect(srv.url, { localAddress: ip, name, timeout: 3000 });
	const a1 = await from('127.0.0.1', 'a1');
	const a2 = await from('127.0.0.1', 'a2');
	await assert.rejects(from('127.0.0.1', 'a3'), 'a third connection from 127.0.0.1');
	let h = await health(srv);
	assert.equal(h.rejected_connections_per_ip - h0.rejected_connections_per_ip, 1);
	const b1 = await from('127.0.0.2', 'b1'); // another address: allowed, total 3
	await assert.rejects(from('127.0.0.3', 'c1'), 'a fourth connection to the server');
	h = await health(srv);
	assert.equal(h.rejected_connections - h0.rejected_connections, 2, 'both refusals counted');
	assert.equal(h.rejected_connections_per_ip - h0.rejected_connections_per_ip, 1, 'only one was per IP');
	// those within the limits are unharmed
	for (const c of [a1, a2, b1]) assert.equal((await c.request({ type: 'ping' })).type, 'pong');
	// a closed connection frees its slots
	a1.close();
	await a1.waitClose();
	await sleep(100);
	const a4 = await from('127.0.0.1', 'a4');
	assert.equal((await a4.request({ type: 'ping' })).type, 'pong');
	for (const c of [a2, b1, a4]) c.terminate();
});

serverTest('max_rooms and max_participants_per_room: room_full, counted', {
	config: { limits: { max_rooms: 2, max_participants_per_room: 2 } },
}, async ({ srv, client }) => {
	const [r1, r2, r3] = [uniqueRoom(), uniqueRoom(), uniqueRoom()];
	const h0 = await health(srv);
	const a = await client();
	const b = await client();
	const c = await client();
	const d = await client();
	await a.join(r1, 'A');
	await b.join(r2, 'B');
	const e = await c.request({ type: 'join', id: 'j3', room: r3, display: 'C' });
	assertError(e, 'room_full', 'j3', 'a third room');
	await c.join(r1, 'C'); // an existing room is fine
	assertError(await d.request({ type: 'join', room: r1, display: 'D' }), 'room_full', undefined, 'a third participant');
	let h = await health(srv);
	assert.equal(h.rooms_full - h0.rooms_full, 1);
	assert.equal(h.room_full - h0.room_full, 1);
	// a room that empties is gone, and frees its slot
	b.send({ type: 'leave', id: 'l' });
	await b.next('left');
	await d.join(r3, 'D');
	h = await health(srv);
	assert.equal(h.rooms_full - h0.rooms_full, 1);
});

serverTest('max_sdp_bytes and max_sdp_mlines: bad_request, counted; an offer within them is answered', {
	config: { media: { max_sdp_bytes: 4096 }, limits: { max_sdp_mlines: 1 } },
}, async ({ srv, client }) => {
	const room = uniqueRoom();
	const a = await client();
	await a.join(room, 'A');
	const h0 = await health(srv);
	assert.ok(OFFER.length > 4096);
	const e1 = await a.request({ type: 'offer', pc: 'pub', id: 'big', sdp: OFFER }, 10000);
	assertError(e1, 'bad_request', 'big');
	assert.match(e1.message, /larger than 4096/);
	const e2 = await a.request({ type: 'answer', pc: 'sub', rev: 1, sdp: OFFER }, 10000);
	assertError(e2, 'bad_request');
	// an audio-only offer under 4 KiB: one m-line passes; two do not
	const lines = OFFER.split('\r\n');
	const firstM = lines.findIndex((l) => l.startsWith('m='));
	const secondM = lines.findIndex((l, i) => i > firstM && l.startsWith('m='));
	const keep = (l) => !/^a=(extmap|rtcp-fb|rtpmap|fmtp):(?!111 )/.test(l) && !/^a=ssrc/.test(l);
	const audioOnly = [...lines.slice(0, secondM), ''].filter(keep)
		.map((l) => (l.startsWith('a=group:BUNDLE') ? 'a=group:BUNDLE 0' : l))
		.map((l) => (l.startsWith('m=audio') ? l.replace(/(UDP\/TLS\/RTP\/SAVPF).*/, '$1 111') : l)).join('\r\n');
	assert.ok(audioOnly.length < 4096, `audio-only offer ${audioOnly.length} bytes`);
	// the same audio section twice (mid 1): two m-lines, still under 4 KiB
	const al = audioOnly.split('\r\n');
	const section = al.slice(al.findIndex((l) => l.startsWith('m='))).join('\r\n').replace('a=mid:0', 'a=mid:1');
	const twoM = audioOnly.replace(/\r\n$/, '') + '\r\n' + section;
	assert.ok(twoM.length < 4096, `two-m-line offer ${twoM.length} bytes`);
	const e3 = await a.request({ type: 'offer', pc: 'pub', id: 'two', sdp: twoM }, 10000);
	assertError(e3, 'bad_request', 'two');
	assert.match(e3.message, /2 m-lines, at most 1/);
	const ok = await a.request({ type: 'offer', pc: 'pub', sdp: audioOnly }, 20000);
	assert.equal(ok.type, 'answer', JSON.stringify(ok).slice(0, 300));
	const h = await health(srv);
	assert.equal(h.sdp_too_large - h0.sdp_too_large, 2);
	assert.equal(h.sdp_too_many_mlines - h0.sdp_too_many_mlines, 1);
});

serverTest('max_frame_bytes: too_large and close 1009, counted', {
	config: { server: { max_frame_bytes: 1024 } },
}, async ({ srv, client }) => {
	const h0 = await health(srv);
	const a = await client();
	const ok = await a.request({ type: 'ping', pad: 'x'.repeat(900) });
	assert.equal(ok.type, 'pong');
	a.send({ type: 'ping', pad: 'x'.repeat(1100) });
	assertError(await a.next('error'), 'too_large');
	assert.equal((await a.waitClose()).code, 1009);
	assert.equal((await health(srv)).too_large - h0.too_large, 1);
	const b = await client();
	assert.equal((await b.request({ type: 'ping' })).type, 'pong');
});

serverTest('send_queue_max: a client that stops reading is cut off, counted', {
	timeout: 120000, config: { limits: { send_queue_max: 16, messages_per_s: 0, chat_per_s: 0 } },
}, async ({ srv, client }) => {
	const room = uniqueRoom();
	const f = await client({ name: 'flooder' });
	const s = await client({ name: 'stalled' });
	await f.join(room, 'F');
	const js = await s.join(room, 'S');
	f.dropTypes.add('chat');
	let gone = false;
	f.onMessage = (m) => { if (isLeft(js.you.id)(m)) gone = true; };
	const h0 = await health(srv);
	s.ws.pause(); // kernel buffers fill, then parleyd's queue of 16
	const text = 'y'.repeat(4000);
	const t0 = Date.now();
	let sent = 0;
	while (!gone && Date.now() - t0 < 60000) {
		// 4 in flight: their acks and echoes (8 messages) fit the flooder's own queue
		const acks = await Promise.all(Array.from({ length: 4 }, () => f.request({ type: 'chat', text }, 15000)));
		sent += acks.length;
		for (const a of acks) assert.equal(a.type, 'ack');
	}
	await waitFor(() => gone, 5000, 'the stalled client to be cut off');
	assert.equal((await health(srv)).slow_readers_cut - h0.slow_readers_cut, 1);
	console.log(`# send_queue_max 16: cut off after ${sent} chat messages of 4000 bytes, ${Date.now() - t0} ms`);
	assert.ok(f.isOpen, 'the reading client stays');
});
