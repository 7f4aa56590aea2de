// chat.mjs: room chat, direct messages, history, dedupe, typing, persistence.
import assert from 'node:assert/strict';
import { serverTest, uniqueRoom, assertError } from './lib/harness.mjs';

async function history(c, q) {
	const r = await c.request({ type: 'history', ...q });
	assert.equal(r.type, 'history', `history ${JSON.stringify(q)} answered ${JSON.stringify(r).slice(0, 300)}`);
	assert.ok(Array.isArray(r.messages), 'messages must be an array');
	assert.equal(typeof r.more, 'boolean', 'more must be a boolean');
	const seqs = r.messages.map((m) => m.seq);
	for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `history not ascending: ${seqs}`);
	return { ...r, seqs };
}

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function assertChatShape(m, what = '') {
	assert.equal(m.type, 'chat', what);
	assert.equal(typeof m.room, 'string', `${what} room`);
	assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `${what} seq ${m.seq}`);
	assert.ok(Number.isInteger(m.ts), `${what} ts ${m.ts}`);
	assert.ok(Math.abs(m.ts - Date.now()) < 120000, `${what} ts ${m.ts} is not wall-clock ms`);
	assert.equal(typeof m.from, 'object', `${what} from`);
	for (const k of ['id', 'user', 'display']) assert.equal(typeof m.from[k], 'string', `${what} from.${k}: ${JSON.stringify(m)}`);
	assert.ok(m.to === null || typeof m.to === 'string', `${what} to must be null or a participant id: ${JSON.stringify(m)}`);
	assert.equal(typeof m.text, 'string', `${what} text`);
}

async function trio(client, room, users = [undefined, undefined, undefined]) {
	const names = ['A', 'B', 'C'];
	const cs = [];
	for (let i = 0; i < 3; i++) {
		const c = await client({ name: names[i] });
		await c.join(room, names[i], users[i] ? { user: users[i] } : {});
		cs.push(c);
	}
	// drain the participant joined events
	await cs[0].nextN((m) => m.type === 'participant' && m.event === 'joined', 2);
	await cs[1].next((m) => m.type === 'participant' && m.event === 'joined');
	return cs;
}

serverTest('room chat: ack once durable, chat event to everyone including the sender', async ({ client }) => {
	const room = uniqueRoom();
	const [a, b, c] = await trio(client, room);
	const ack = await a.request({ type: 'chat', id: 5, text: 'hello' });
	assert.equal(ack.type, 'ack', JSON.stringify(ack));
	assert.equal(ack.id, 5);
	assert.equal(ack.seq, 1);
	assert.ok(Number.isInteger(ack.ts) && Math.abs(ack.ts - Date.now()) < 60000, `ack ts ${ack.ts}`);
	for (const x of [a, b, c]) {
		const m = await x.next('chat');
		assertChatShape(m, `[${x.name}]`);
		assert.equal(m.room, room);
		assert.equal(m.seq, 1);
		assert.equal(m.ts, ack.ts, 'chat ts equals ack ts');
		assert.deepEqual(m.from, { id: a.pid, user: a.joined.you.user, display: 'A' });
		assert.equal(m.to, null);
		assert.equal(m.text, 'hello');
	}
	// string id, unicode and multi-line text round-trip exactly
	const text = 'multi\nline\ttext — ünïcödé 😀 "quoted" \\ back';
	const ack2 = await b.request({ type: 'chat', id: 'b-1', text });
	assert.equal(ack2.id, 'b-1');
	assert.equal(ack2.seq, 2);
	for (const x of [a, b, c]) {
		const m = await x.next('chat');
		assert.equal(m.text, text);
		assert.equal(m.seq, 2);
		assert.equal(m.from.id, b.pid);
	}
	// a chat without id still gets its event (and an ack without id, or none)
	c.send({ type: 'chat', text: 'no id' });
	for (const x of [a, b, c]) assert.equal((await x.next('chat')).seq, 3);
});

serverTest('seq is gap-free and in order under concurrent senders', async ({ client }) => {
	const room = uniqueRoom();
	const cs = await trio(client, room);
	const N = 40;
	const pending = [];
	for (let i = 0; i < N; i++) {
		for (const x of cs) pending.push(x.request({ type: 'chat', text: `${x.name}-${i}` }, 15000).then((r) => ({ r, text: `${x.name}-${i}` })));
	}
	const acks = await Promise.all(pending);
	for (const { r } of acks) assert.equal(r.type, 'ack', JSON.stringify(r));
	const seqs = acks.map(({ r }) => r.seq).sort((x, y) => x - y);
	assert.deepEqual(seqs, range(1, 3 * N));
	const bySeq = new Map(acks.map(({ r, text }) => [r.seq, text]));
	for (const x of cs) {
		const evs = await x.nextN('chat', 3 * N, 15000);
		assert.deepEqual(evs.map((m) => m.seq), range(1, 3 * N), `[${x.name}] chat events must arrive in seq order`);
		for (const m of evs) assert.equal(m.text, bySeq.get(m.seq), 'acked seq and event text agree');
	}
	// the same messages from each sender keep their send order
	for (const x of cs) {
		const own = acks.filter(({ text }) => text.startsWith(`${x.name}-`)).map(({ r }) => r.seq);
		assert.deepEqual(own, [...own].sort((p, q) => p - q), `[${x.name}] own messages ordered`);
	}
	const h = await history(cs[0], { after: 0, limit: 200 });
	assert.deepEqual(h.seqs, range(1, 3 * N));
	assert.equal(h.more, false);
});

serverTest('direct messages reach only the two users (all their connections), also in history', async ({ client }) => {
	const room = uniqueRoom();
	const [a, b, c] = await trio(client, room, ['alice', 'bob', 'carol']);
	const a2 = await client({ name: 'A2' });
	await a2.join(room, 'A two', { user: 'alice' });

	await a.request({ type: 'chat', text: 'room 1' });
	const dm = await a.request({ type: 'chat', id: 9, text: 'psst bob', to: b.pid });
	assert.equal(dm.type, 'ack', JSON.stringify(dm));
	assert.equal(dm.seq, 2);
	for (const x of [a, a2, b]) {
		const evs = await x.nextN('chat', 2);
		const m = evs[1];
		assertChatShape(m);
		assert.equal(m.seq, 2);
		assert.equal(m.to, b.pid);
		assert.equal(m.text, 'psst bob');
		assert.deepEqual(m.from, { id: a.pid, user: 'alice', display: 'A' });
	}
	assert.equal((await c.next('chat')).seq, 1);
	await c.expectNone('chat', 'a DM between others');

	// bob answers; alice's second connection gets it too
	await b.request({ type: 'chat', text: 'hi alice', to: a.pid });
	for (const x of [a, a2, b]) {
		const m = await x.next('chat');
		assert.equal(m.seq, 3);
		assert.equal(m.to, a.pid);
	}
	await c.expectNone('chat', 'the reply DM');

	// carol's next room message: seq skips the DMs for her
	await c.request({ type: 'chat', text: 'room 4' });
	for (const x of [a, a2, b, c]) assert.equal((await x.next('chat')).seq, 4);

	// history by user
	const hc = await history(c, { after: 0 });
	assert.deepEqual(hc.seqs, [1, 4]);
	const ha2 = await history(a2, { after: 0 });
	assert.deepEqual(ha2.seqs, [1, 2, 3, 4]);
	assert.equal(ha2.messages[1].to, b.pid);
	const hb = await history(b, { before: 100 });
	assert.deepEqual(hb.seqs, [1, 2, 3, 4]);
	// a later connection of bob's user sees the DMs, a newcomer does not
	const b2 = await client({ name: 'B2' });
	await b2.join(room, 'Bob later', { user: 'bob' });
	assert.deepEqual((await history(b2, {})).seqs, [1, 2, 3, 4]);
	const d = await client({ name: 'D' });
	const jd = await d.join(room, 'D', { user: 'dave' });
	assert.equal(jd.chat.last_seq, 4, 'last_seq counts every message of the room');
	assert.deepEqual((await history(d, {})).seqs, [1, 4]);

	// a DM to someone not in the room
	const e = await a.request({ type: 'chat', id: 'x', text: 'hello?', to: 'p-does-not-exist' });
	assertError(e, 'not_found', 'x');
	const other = await client({ name: 'other' });
	const jo = await other.join(uniqueRoom(), 'Elsewhere');
	const e2 = await a.request({ type: 'chat', text: 'wrong room', to: jo.you.id });
	assertError(e2, 'not_found', e2.id, 'DM to a participant of another room');
	const e3 = await a.request({ type: 'chat', text: 'bad to', to: 17 });
	assertError(e3, 'bad_request', e3.id, 'non-string to');
	await c.expectNone('chat', 'refused DMs');
	assert.deepEqual((await history(a, { after: 4 })).seqs, [], 'refused DMs are not stored');
});

serverTest('history paging: before, after, more, limits', async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	const e0 = await a.request({ type: 'history', after: 0 });
	assertError(e0, 'bad_request', e0.id, 'history before join');
	await a.join(room, 'A');
	const empty = await history(a, {});
	assert.deepEqual(empty.messages, []);
	assert.equal(empty.more, false);

	const N = 25;
	const sent = [];
	for (let i = 1; i <= N; i++) sent.push(a.request({ type: 'chat', text: `m${i}` }, 10000));
	const acks = await Promise.all(sent);
	assert.deepEqual(acks.map((x) => x.seq), range(1, N));
	const live = await a.nextN('chat', N);

	const cases = [
		[{ after: 0, limit: 10 }, range(1, 10), true],
		[{ after: 10, limit: 10 }, range(11, 20), true],
		[{ after: 20, limit: 10 }, range(21, 25), false],
		[{ after: 15, limit: 10 }, range(16, 25), false],
		[{ after: 25 }, [], false],
		[{ after: 1000 }, [], false],
		[{ before: 26, limit: 10 }, range(16, 25), true],
		[{ before: 16, limit: 10 }, range(6, 15), true],
		[{ before: 6, limit: 10 }, range(1, 5), false],
		[{ before: 11, limit: 10 }, range(1, 10), false],
		[{ before: 1 }, [], false],
		[{ before: 1000, limit: 3 }, [23, 24, 25], true],
		[{}, range(1, 25), false],
		[{ limit: 3 }, [23, 24, 25], true],
		[{ after: 0, limit: 1 }, [1], true],
		[{ after: 0, limit: 200 }, range(1, 25), false],
		[{ after: 0, limit: 25 }, range(1, 25), false],
	];
	for (const [q, seqs, more] of cases) {
		const h = await history(a, q);
		assert.deepEqual(h.seqs, seqs, `history ${JSON.stringify(q)} seqs`);
		assert.equal(h.more, more, `history ${JSON.stringify(q)} more`);
	}
	// history messages are exactly the live chat events
	const all = await history(a, { after: 0 });
	assert.deepEqual(all.messages, live);
	// the id is echoed
	const hid = await a.request({ type: 'history', id: 'h-1', after: 24 });
	assert.equal(hid.id, 'h-1');

	const bad = [
		{ limit: 0 }, { limit: 201 }, { limit: -1 }, { limit: '5' }, { limit: 1.5 }, { after: 0, limit: 1000 },
		{ before: 10, after: 2 }, { before: 'x' }, { after: null }, { after: true },
	];
	for (const q of bad) {
		const e = await a.request({ type: 'history', ...q });
		assertError(e, 'bad_request', e.id, `history ${JSON.stringify(q)}`);
		await a.barrier();
	}
});

serverTest('client_msg_id dedupes resends from the same user', async ({ client }) => {
	const room = uniqueRoom();
	const [a, b, c] = await trio(client, room, ['alice', 'bob', 'carol']);
	const a2 = await client({ name: 'A2' });
	await a2.join(room, 'A2', { user: 'alice' });

	const first = await a.request({ type: 'chat', text: 'once', client_msg_id: 'cm-1' });
	assert.equal(first.seq, 1);
	for (const x of [a, a2, b, c]) assert.equal((await x.next('chat')).text, 'once');

	const again = await a.request({ type: 'chat', id: 'again', text: 'once', client_msg_id: 'cm-1' });
	assert.equal(again.type, 'ack');
	assert.equal(again.id, 'again');
	assert.equal(again.seq, 1, 'resend is acked with the original seq');
	assert.equal(again.ts, first.ts, 'resend is acked with the original ts');
	// from the same user's other connection, even with other text
	const again2 = await a2.request({ type: 'chat', text: 'different text', client_msg_id: 'cm-1' });
	assert.equal(again2.seq, 1);
	for (const x of [a, a2, b, c]) await x.expectNone('chat', 'a chat event for a duplicate');

	// another user with the same client_msg_id is a new message
	const bobs = await b.request({ type: 'chat', text: 'bob same key', client_msg_id: 'cm-1' });
	assert.equal(bobs.seq, 2);
	// another key from alice is new
	const other = await a.request({ type: 'chat', text: 'twice', client_msg_id: 'cm-2' });
	assert.equal(other.seq, 3);
	for (const x of [a, b, c]) assert.deepEqual((await x.nextN('chat', 2)).map((m) => m.seq), [2, 3]);

	const h = await history(c, { after: 0 });
	assert.deepEqual(h.seqs, [1, 2, 3]);
	assert.deepEqual(h.messages.map((m) => m.text), ['once', 'bob same key', 'twice']);
	const j = await (await client()).join(room, 'late');
	assert.equal(j.chat.last_seq, 3);

	// a DM resend is deduped too
	const dm1 = await a.request({ type: 'chat', text: 'dm', to: b.pid, client_msg_id: 'cm-dm' });
	const dm2 = await a.request({ type: 'chat', text: 'dm', to: b.pid, client_msg_id: 'cm-dm' });
	assert.equal(dm1.seq, 4);
	assert.equal(dm2.seq, 4);
	assert.equal((await b.next('chat')).seq, 4);
	await b.expectNone('chat', 'a second DM event');

	const e = await a.request({ type: 'chat', text: 'x', client_msg_id: 12 });
	assertError(e, 'bad_request', e.id, 'non-string client_msg_id');
});

serverTest('typing is relayed to the others and never stored', async ({ client }) => {
	const room = uniqueRoom();
	const [a, b, c] = await trio(client, room);
	a.send({ type: 'typing', active: true });
	for (const x of [b, c]) assert.deepEqual(await x.next('typing'), { type: 'typing', from: a.pid, active: true });
	a.send({ type: 'typing', active: false });
	for (const x of [b, c]) assert.deepEqual(await x.next('typing'), { type: 'typing', from: a.pid, active: false });
	await a.expectNone('typing', 'its own typing');
	await b.expectNone('typing');

	assert.deepEqual((await history(b, {})).messages, []);
	const d = await client();
	const j = await d.join(room, 'D');
	assert.equal(j.chat.last_seq, 0, 'typing does not use a seq');
	assert.equal((await a.request({ type: 'chat', text: 'first' })).seq, 1);

	for (const bad of [{ type: 'typing' }, { type: 'typing', active: 'yes' }, { type: 'typing', active: 1 }]) {
		const e = await a.request(bad);
		assertError(e, 'bad_request', e.id, JSON.stringify(bad));
		await a.barrier();
	}
	const e = await (await client()).request({ type: 'typing', active: true });
	assertError(e, 'bad_request', e.id, 'typing before join');
});

serverTest('chat text validation and chat before join', async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	const e0 = await a.request({ type: 'chat', id: 1, text: 'hi' });
	assertError(e0, 'bad_request', 1, 'chat before join');
	await a.join(room, 'A');
	const b = await client();
	await b.join(room, 'B');

	for (const text of ['', 'a'.repeat(4001), 'é'.repeat(4001), '😀'.repeat(4001), 42, null, ['x']]) {
		const e = await a.request({ type: 'chat', text });
		assertError(e, 'bad_request', e.id, `text ${JSON.stringify(text).slice(0, 30)}`);
		await a.barrier();
	}
	const e = await a.request({ type: 'chat' });
	assertError(e, 'bad_request', e.id, 'chat without text');
	await b.expectNone('chat', 'refused chat');

	// 4000 code points are fine, whatever their byte length
	let seq = 0;
	for (const text of ['a'.repeat(4000), 'é'.repeat(4000), '😀'.repeat(4000), 'x']) {
		const ack = await a.request({ type: 'chat', text });
		assert.equal(ack.type, 'ack', `text of ${[...text].length} code points: ${JSON.stringify(ack).slice(0, 200)}`);
		assert.equal(ack.seq, ++seq);
		const m = await b.next('chat');
		assert.equal(m.text, text);
	}
});

serverTest('last_seq in joined and history survive a restart on the same data dir', async ({ srv, client }) => {
	const room = uniqueRoom();
	const room2 = uniqueRoom();
	const [a, b] = await trio(client, room, ['alice', 'bob', 'carol']);
	const acks = [];
	for (let i = 1; i <= 5; i++) acks.push(await a.request({ type: 'chat', text: `persist ${i}`, client_msg_id: `p-${i}` }));
	acks.push(await a.request({ type: 'chat', text: 'secret dm', to: b.pid }));
	acks.push(await b.request({ type: 'chat', text: 'room 7 😀' }));
	assert.deepEqual(acks.map((x) => x.seq), range(1, 7));
	const before = (await history(a, { after: 0 })).messages;
	assert.equal(before.length, 7);
	// another room with its own seq
	const o = await client();
	await o.join(room2, 'O');
	assert.equal((await o.request({ type: 'chat', text: 'other room' })).seq, 1);

	const j0 = await (await client()).join(room, 'probe');
	assert.equal(j0.chat.last_seq, 7);

	await srv.restart();

	const a1 = await client();
	const ja = await a1.join(room, 'Alice again', { user: 'alice' });
	assert.equal(ja.chat.last_seq, 7);
	assert.deepEqual(ja.participants, [], 'participants do not survive a restart');
	const after = (await history(a1, { after: 0 })).messages;
	assert.deepEqual(after, before, 'history identical after restart');
	const c1 = await client();
	await c1.join(room, 'Carol again', { user: 'carol' });
	assert.deepEqual((await history(c1, {})).seqs, [1, 2, 3, 4, 5, 7]);
	// dedupe keys survive too
	const dup = await a1.request({ type: 'chat', text: 'persist 3', client_msg_id: 'p-3' });
	assert.equal(dup.seq, 3);
	// numbering continues
	assert.equal((await a1.request({ type: 'chat', text: 'after restart' })).seq, 8);
	const o1 = await client();
	const jo = await o1.join(room2, 'O');
	assert.equal(jo.chat.last_seq, 1);
	assert.equal((await o1.request({ type: 'chat', text: 'other room 2' })).seq, 2);
});
