// bad_input.mjs: malformed and hostile input, limits, slow and dead peers.
import assert from 'node:assert/strict';
import {
	serverTest, uniqueRoom, assertError, sleep, waitFor, withTimeout, rawUpgrade,
} from './lib/harness.mjs';

const isLeft = (pid) => (m) => m.type === 'participant' && m.event === 'left' && m.participant && m.participant.id === pid;

serverTest('malformed and mistyped messages get bad_request, id echoed, connection stays open', async ({ client }) => {
	const c = await client();
	// [raw text, expected echoed id or undefined]
	const cases = [
		['not json at all', undefined],
		['{"type":"ping","id":3', undefined],
		['{"type":"ping"} trailing', undefined],
		['', undefined],
		['[1,2,3]', undefined],
		['42', undefined],
		['"a string"', undefined],
		['null', undefined],
		['true', undefined],
		['{}', undefined],
		['{"id":4}', 4],
		['{"id":"four"}', 'four'],
		['{"type":5,"id":5}', 5],
		['{"type":null,"id":6}', 6],
		['{"type":["ping"],"id":7}', 7],
		['{"type":"no_such_type","id":8}', 8],
		['{"type":"","id":"empty-type"}', 'empty-type'],
		['{"type":"PING","id":9}', 9],
		['{"type":"join","id":10,"room":5,"display":"x"}', 10],
		['{"type":"join","id":11,"room":"r","display":{}}', 11],
		['{"type":"join","id":12}', 12],
		['{"type":"chat","id":13,"text":"needs a room"}', 13],
		['{"type":"history","id":14}', 14],
		['{"type":"typing","id":15,"active":true}', 15],
	];
	for (const [raw, id] of cases) {
		c.send(raw);
		const e = await c.next('error', 5000, `error for ${JSON.stringify(raw)}`);
		assertError(e, 'bad_request', undefined, `for ${JSON.stringify(raw)}:`);
		if (id !== undefined) assert.deepEqual(e.id, id, `id echoed for ${raw}: ${JSON.stringify(e)}`);
		else assert.equal(e.id, undefined, `no id to echo for ${raw}: ${JSON.stringify(e)}`);
		await c.barrier(); // still open; resets the ten-in-a-row count
	}
	// mistyped id: still a bad_request (whatever is echoed)
	c.send('{"type":"ping","id":{"nested":1}}');
	const e = await c.next((m) => m.type === 'error' || m.type === 'pong');
	assertError(e, 'bad_request', undefined, 'object id');
	await c.barrier();

	// the same inside a room, with wrong field types on room requests
	await c.join(uniqueRoom(), 'Joined');
	const inRoom = [
		{ type: 'chat', id: 20, text: 5 },
		{ type: 'chat', id: 21, text: 'x', to: ['p'] },
		{ type: 'history', id: 22, limit: 'ten' },
		{ type: 'history', id: 23, before: '5' },
		{ type: 'typing', id: 24, active: 'yes' },
		{ type: 'update', id: 25, display: 7 },
	];
	for (const msg of inRoom) {
		const r = await c.request(msg);
		assertError(r, 'bad_request', msg.id, JSON.stringify(msg));
		await c.barrier();
	}
	assert.ok(c.isOpen);
});

serverTest('ten protocol errors in a row close with 1008; a valid message resets the count', async ({ client }) => {
	const room = uniqueRoom();
	const obs = await client({ name: 'obs' });
	await obs.join(room, 'Observer');

	// 9 bad, 1 valid, 9 bad: still open
	const c = await client({ name: 'resetter' });
	for (let i = 0; i < 9; i++) c.send(`{"type":"bogus","id":${i}}`);
	await c.nextN('error', 9);
	await c.barrier();
	for (let i = 0; i < 9; i++) c.send('garbage');
	await c.nextN('error', 9);
	await sleep(200);
	assert.ok(c.isOpen, 'count was reset by the valid ping');
	// the 10th in a row now closes it
	c.send('still garbage');
	const last = await c.next('error');
	assertError(last, 'bad_request');
	const cl = await c.waitClose(5000);
	assert.equal(cl.code, 1008);

	// a joined participant closed this way leaves the room
	const d = await client({ name: 'tenbad' });
	const jd = await d.join(room, 'Ten');
	await obs.next((m) => m.type === 'participant' && m.event === 'joined');
	for (let i = 0; i < 10; i++) d.send({ type: 'nonsense', id: `n${i}` });
	const cd = await d.waitClose(5000);
	assert.equal(cd.code, 1008);
	const errs = d.take('error');
	assert.equal(errs.length, 10, 'all ten are answered before the close');
	assert.deepEqual(errs.map((x) => x.id), Array.from({ length: 10 }, (_, i) => `n${i}`));
	await obs.next(isLeft(jd.you.id));

	// binary frames count too
	const b = await client({ name: 'binary' });
	b.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
	const be = await b.next('error');
	assertError(be, 'bad_request', undefined, 'binary frame');
	assert.match(be.message, /binary/i);
	await b.barrier();
	for (let i = 0; i < 10; i++) b.sendRaw(Buffer.from('{"type":"ping"}'), { binary: true });
	const cb = await b.waitClose(5000);
	assert.equal(cb.code, 1008);
	assert.equal(b.take('error').length, 10);
	assert.equal(b.take('pong').length, 0, 'binary frames are not processed');
	await obs.barrier();
});

serverTest('invalid UTF-8 in a text frame closes with 1007', async ({ client }) => {
	const room = uniqueRoom();
	const obs = await client({ name: 'obs' });
	await obs.join(room, 'Observer');
	const variants = {
		'0xff byte': [0xff],
		'overlong slash': [0xc0, 0xaf],
		'overlong NUL': [0xc0, 0x80],
		'UTF-16 surrogate': [0xed, 0xa0, 0x80],
		'above U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
		'lone continuation': [0x80],
		'truncated sequence': [0xe2, 0x82],
	};
	for (const [what, bytes] of Object.entries(variants)) {
		const c = await client({ name: what });
		const raw = Buffer.concat([Buffer.from('{"type":"ping","id":1,"x":"'), Buffer.from(bytes), Buffer.from('"}')]);
		c.sendRaw(raw, { binary: false });
		const cl = await c.waitClose(5000);
		assert.equal(cl.code, 1007, `${what}: close code`);
		assert.equal(c.take('pong').length, 0, `${what}: not processed`);
	}
	// truncated at the very end of the frame, from a joined participant
	const d = await client({ name: 'joined' });
	const jd = await d.join(room, 'Bad bytes');
	await obs.next((m) => m.type === 'participant' && m.event === 'joined');
	d.sendRaw(Buffer.concat([Buffer.from('{"type":"chat","text":"abc'), Buffer.from([0xf0, 0x9f, 0x98])]), { binary: false });
	assert.equal((await d.waitClose(5000)).code, 1007);
	await obs.next(isLeft(jd.you.id));
	await obs.expectNone('chat', 'a chat with invalid UTF-8');

	// a valid character split across two fragments is fine
	const f = await client({ name: 'fragments' });
	const msg = Buffer.from('{"type":"ping","id":"é😀"}');
	const cut = msg.indexOf(Buffer.from('😀')) + 2;
	f.sendRaw(msg.subarray(0, cut), { binary: false, fin: false });
	f.sendRaw(msg.subarray(cut), { binary: false, fin: true });
	const p = await f.next('pong');
	assert.equal(p.id, 'é😀');
});

serverTest('a frame over max_frame_bytes gets too_large and close 1009', async ({ client }) => {
	const room = uniqueRoom();
	const obs = await client({ name: 'obs' });
	await obs.join(room, 'Observer');

	// just under the default 64 KiB limit: fine
	const ok = await client({ name: 'under' });
	const pad = 'p'.repeat(60 * 1024);
	const pong = await ok.request({ type: 'ping', id: 'big', pad });
	assert.equal(pong.type, 'pong');

	// 70 KiB in one frame
	const c = await client({ name: 'over' });
	const jc = await c.join(room, 'Big');
	await obs.next((m) => m.type === 'participant' && m.event === 'joined');
	c.send(JSON.stringify({ type: 'chat', id: 1, text: 'a'.repeat(70 * 1024) }));
	const e = await c.next('error');
	assertError(e, 'too_large');
	assert.equal((await c.waitClose(5000)).code, 1009);
	await obs.next(isLeft(jc.you.id));
	await obs.expectNone('chat', 'the oversize chat');

	// 80 KiB reassembled from two 40 KiB fragments
	const f = await client({ name: 'fragmented' });
	const big = Buffer.from(JSON.stringify({ type: 'ping', id: 2, pad: 'q'.repeat(80 * 1024) }));
	f.sendRaw(big.subarray(0, 40 * 1024), { binary: false, fin: false });
	f.sendRaw(big.subarray(40 * 1024), { binary: false, fin: true });
	const fe = await f.next((m) => m.type === 'error' || m.type === 'pong');
	assertError(fe, 'too_large', undefined, 'fragmented message');
	assert.equal((await f.waitClose(5000)).code, 1009);
	await obs.barrier();
});

serverTest('max_frame_bytes from the config file is honoured', {
	config: { server: { max_frame_bytes: 4096 } },
}, async ({ client }) => {
	const ok = await client();
	assert.equal((await ok.request({ type: 'ping', pad: 'x'.repeat(3900) })).type, 'pong');
	const c = await client();
	c.send({ type: 'ping', id: 1, pad: 'x'.repeat(5000) });
	assertError(await c.next('error'), 'too_large');
	assert.equal((await c.waitClose(5000)).code, 1009);
	await ok.barrier();
});

serverTest('a 10,000-message chat burst is rate limited; the server stays responsive', { timeout: 90000 }, async ({ srv, client }) => {
	const room = uniqueRoom();
	const x = await client({ name: 'burst' });
	const y = await client({ name: 'other' });
	const z = await client({ name: 'elsewhere' });
	await x.join(room, 'Burst');
	await y.join(room, 'Other');
	await z.join(uniqueRoom(), 'Elsewhere');
	// keep the inbox small: count instead
	x.dropTypes.add('chat');
	y.dropTypes.add('chat');
	let xAcks = 0;
	let xLimited = 0;
	const otherReplies = [];
	const badLimited = [];
	x.onMessage = (m) => {
		if (m.type === 'ack') xAcks++;
		else if (m.type === 'error' && m.code === 'rate_limited') {
			xLimited++;
			if (typeof m.id !== 'number') badLimited.push(m);
		} else if (m.type === 'error') otherReplies.push(m);
	};
	x.dropTypes.add('ack');
	x.dropTypes.add('error');

	const N = 10000;
	const t0 = Date.now();
	for (let i = 0; i < N; i++) x.send({ type: 'chat', id: i, text: `burst ${i}` });

	// meanwhile the others keep working
	const lat = [];
	let yChats = 0;
	for (let k = 0; k < 5 || (k < 40 && xAcks + xLimited < N && x.isOpen); k++) {
		const s = Date.now();
		await y.request({ type: 'ping' }, 3000);
		await z.request({ type: 'ping' }, 3000);
		lat.push(Date.now() - s);
		const ack = await y.request({ type: 'chat', text: `y during ${k}` }, 3000);
		assert.equal(ack.type, 'ack', `other client's chat during the burst: ${JSON.stringify(ack)}`);
		yChats++;
		await sleep(50);
	}
	await waitFor(() => xAcks + xLimited >= N || !x.isOpen, 30000, `replies to all ${N} burst messages (have ${xAcks} acks, ${xLimited} rate_limited)`);
	const elapsed = (Date.now() - t0) / 1000;
	assert.ok(x.isOpen, `the burst client was disconnected: ${JSON.stringify(x.closeInfo)} after ${xAcks} acks, ${xLimited} rate_limited`);
	assert.deepEqual(otherReplies, [], 'only acks and rate_limited');
	assert.deepEqual(badLimited, [], 'rate_limited echoes the id');
	assert.equal(xAcks + xLimited, N);
	assert.ok(xLimited > N / 2, `rate_limited replies: ${xLimited}`);
	const maxAcks = 40 + 20 * (elapsed + 1) + 5;
	assert.ok(xAcks >= 1 && xAcks <= maxAcks, `acks ${xAcks} in ${elapsed}s exceed chat_burst 40 + 20/s`);
	// the other room member got exactly the accepted chats plus its own
	await y.barrier(5000);
	await waitFor(() => (y.counts.chat || 0) >= xAcks + yChats, 5000, 'chat events for every accepted burst message');
	assert.equal(y.counts.chat, xAcks + yChats, 'y sees only the accepted burst messages');
	const h = await y.request({ type: 'history', after: 0, limit: 200 });
	assert.equal(h.type, 'history');
	console.log(`# burst: ${xAcks} acked, ${xLimited} rate_limited in ${elapsed.toFixed(2)} s; ping latency max ${Math.max(...lat)} ms`);
	assert.ok(Math.max(...lat) < 3000);

	// after a rest the burst client works again
	await sleep(1100);
	x.onMessage = null;
	x.dropTypes.clear();
	const again = await x.request({ type: 'chat', text: 'after the burst' });
	assert.equal(again.type, 'ack', JSON.stringify(again));
	await x.barrier();
	assert.ok(x.isOpen, 'rate_limited never counts toward the ten-errors rule');
	srv.assertAlive('after the burst');
});

serverTest('JSON messages are rate limited too (messages_per_s), and rate_limited does not close', {
	config: { limits: { messages_per_s: 5, messages_burst: 10 } },
}, async ({ client }) => {
	const c = await client();
	for (let i = 0; i < 60; i++) c.send({ type: 'ping', id: i });
	const replies = await c.nextN((m) => typeof m.id === 'number', 60, 10000);
	const pongs = replies.filter((m) => m.type === 'pong').length;
	const limited = replies.filter((m) => m.type === 'error' && m.code === 'rate_limited').length;
	assert.equal(pongs + limited, 60, JSON.stringify(replies.filter((m) => m.type !== 'pong' && m.code !== 'rate_limited')));
	assert.ok(pongs >= 10 && pongs <= 20, `pongs ${pongs}`);
	assert.ok(limited >= 40, `rate_limited ${limited}`);
	await sleep(600);
	assert.ok(c.isOpen);
	assert.equal((await c.request({ type: 'ping' })).type, 'pong');
});

serverTest('a client that stops reading is cut off when its send queue fills; others keep working', {
	timeout: 120000,
	config: { limits: { send_queue_max: 32, messages_per_s: 0, chat_per_s: 0 } },
}, async ({ srv, client }) => {
	const room = uniqueRoom();
	const f = await client({ name: 'flooder' });
	const o = await client({ name: 'observer' });
	const s = await client({ name: 'slow' });
	await f.join(room, 'Flooder');
	await o.join(room, 'Observer');
	const js = await s.join(room, 'Slow');
	for (const x of [f, o]) x.dropTypes.add('chat');
	let slowLeft = false;
	o.onMessage = (m) => { if (isLeft(js.you.id)(m)) slowLeft = true; };
	s.ws.pause(); // stop reading: the kernel buffers fill, then parleyd's queue

	const text = 'x'.repeat(4000);
	const WINDOW = 8;
	const MAX_BYTES = 200 * 1024 * 1024;
	const t0 = Date.now();
	let sent = 0;
	let inflight = [];
	while (!slowLeft && sent * text.length < MAX_BYTES && Date.now() - t0 < 60000) {
		inflight.push(f.request({ type: 'chat', text }, 15000));
		sent++;
		if (inflight.length >= WINDOW) {
			const acks = await Promise.all(inflight);
			for (const a of acks) assert.equal(a.type, 'ack', JSON.stringify(a));
			inflight = [];
		}
	}
	await Promise.all(inflight);
	console.log(`# slow reader: flooded ${sent} messages (${(sent * 4 / 1024).toFixed(1)} MiB) in ${Date.now() - t0} ms; slow client left: ${slowLeft}`);
	await waitFor(() => slowLeft, 10000, 'participant left for the client that stopped reading');

	// the slow client finds its connection gone once it reads again
	s.ws.resume();
	await s.waitClose(20000);
	assert.ok((s.counts.chat || 0) < sent, 'the slow client did not get everything');

	// the others were never cut off and keep working
	assert.ok(f.isOpen && o.isOpen, 'reading clients stay connected');
	f.dropTypes.clear();
	o.dropTypes.clear();
	const ack = await f.request({ type: 'chat', text: 'still here' });
	assert.equal(ack.type, 'ack');
	await o.next((m) => m.type === 'chat' && m.seq === ack.seq, 10000);
	const n = await client({ name: 'newcomer' });
	const jn = await n.join(room, 'New');
	assert.equal(jn.participants.length, 2, 'the slow participant is gone from the room');
	srv.assertAlive('after the slow reader');
});

serverTest('a peer that never answers WebSocket pings is closed after ws_timeout_s', {
	config: { server: { ws_ping_interval_s: 1, ws_timeout_s: 3 } },
}, async ({ srv, client }) => {
	const room = uniqueRoom();
	const o = await client({ name: 'observer' }); // ws answers pings itself
	await o.join(room, 'Observer');

	const r1 = await rawUpgrade(srv.port);
	const r2 = await rawUpgrade(srv.port); // never sends anything
	const tUp = Date.now();
	r1.sendText({ type: 'join', id: 1, room, display: 'Mute' });
	const joined = await waitFor(() => r1.textMessages().find((m) => m.id === 1), 5000, 'raw join reply');
	assert.equal(joined.type, 'joined', JSON.stringify(joined));
	const tLast = Date.now();
	await withTimeout(Promise.all([r1.ended, r2.ended]), 12000, 'server to close the silent peers');
	const e1 = r1.closedAt();
	const e2 = r2.closedAt();
	const d1 = (e1 - tLast) / 1000;
	const d2 = (e2 - tUp) / 1000;
	console.log(`# silent peers closed after ${d1.toFixed(2)} s and ${d2.toFixed(2)} s`);
	assert.ok(d1 >= 2.0 && d1 <= 8, `joined silent peer closed after ${d1} s (ws_timeout_s=3)`);
	assert.ok(d2 >= 2.0 && d2 <= 8, `idle silent peer closed after ${d2} s (ws_timeout_s=3)`);
	assert.ok(r1.frames.some((f) => f.opcode === 0x9), 'the server sent WebSocket pings');
	await o.next(isLeft(joined.you.id), 3000);

	// the well-behaved client outlived the timeout and still works
	assert.ok(o.isOpen);
	const since = Date.now() - tUp;
	if (since < 4000) await sleep(4000 - since);
	await o.barrier();
	assert.ok(o.isOpen);
});
