// join_presence.mjs: join/joined, participant events, leave, conflicts,
// name validation, room_full and JSON ping.
import assert from 'node:assert/strict';
import { serverTest, uniqueRoom, assertError, pent } from './lib/harness.mjs';

const isLeft = (pid) => (m) => m.type === 'participant' && m.event === 'left' && m.participant && m.participant.id === pid;
const isJoined = (pid) => (m) => m.type === 'participant' && m.event === 'joined' && m.participant && m.participant.id === pid;

serverTest('join answers joined with you, participants, ice_servers and chat', async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	const j = await a.request({ type: 'join', id: 1, room, display: 'Alice' });
	assert.equal(j.type, 'joined', JSON.stringify(j));
	assert.equal(j.id, 1);
	assert.equal(j.room, room);
	assert.equal(typeof j.you.id, 'string');
	assert.ok(j.you.id.length > 0);
	assert.equal(j.you.display, 'Alice');
	assert.equal(j.you.user, j.you.id, 'open mode: default user id is the participant id');
	assert.deepEqual(j.participants, []);
	assert.ok(Array.isArray(j.ice_servers), 'ice_servers must be an array');
	assert.deepEqual(j.chat, { last_seq: 0 });

	const b = await client();
	const jb = await b.request({ type: 'join', id: 'join-b', room, display: 'Bob', user: 'bob.user_1' });
	assert.equal(jb.type, 'joined', JSON.stringify(jb));
	assert.equal(jb.id, 'join-b', 'string ids are echoed');
	assert.notEqual(jb.you.id, j.you.id, 'participant ids are unique');
	assert.equal(jb.you.user, 'bob.user_1', 'the `user` field sets the user id');
	assert.deepEqual(jb.participants.map(pent), [{ id: j.you.id, display: 'Alice', tracks: [] }]);

	const ev = await a.next(isJoined(jb.you.id));
	assert.deepEqual({ ...ev, participant: pent(ev.participant) }, { type: 'participant', event: 'joined', participant: { id: jb.you.id, display: 'Bob', tracks: [] } });
	await b.expectNone((m) => m.type === 'participant', 'participant event about itself');

	const c = await client();
	const jc = await c.join(room, 'Carol');
	const others = jc.participants.map((p) => p.id).sort();
	assert.deepEqual(others, [j.you.id, jb.you.id].sort());
	await a.next(isJoined(jc.you.id));
	await b.next(isJoined(jc.you.id));
});

serverTest('rooms are separate: no events across rooms', async ({ client }) => {
	const a = await client();
	const b = await client();
	await a.join(uniqueRoom(), 'A');
	const jb = await b.join(uniqueRoom(), 'B');
	assert.deepEqual(jb.participants, []);
	await b.request({ type: 'chat', text: 'only in room 2' });
	b.close();
	await a.expectNone(() => true, 'anything from another room');
});

serverTest('leave and socket close both produce participant left', async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	await a.join(room, 'A');

	// explicit leave
	const b = await client();
	const jb = await b.join(room, 'B');
	await a.next(isJoined(jb.you.id));
	b.send({ type: 'leave' });
	const left = await a.next(isLeft(jb.you.id));
	assert.equal(left.participant.id, jb.you.id);
	await b.barrier(); // still connected after leave

	// a request that needs a room is refused after leave
	const e = await b.request({ type: 'chat', text: 'not in a room' });
	assertError(e, 'bad_request', e.id);

	// clean close
	const c = await client();
	const jc = await c.join(room, 'C');
	await a.next(isJoined(jc.you.id));
	c.close(1000);
	await a.next(isLeft(jc.you.id));

	// abrupt TCP close
	const d = await client();
	const jd = await d.join(room, 'D');
	await a.next(isJoined(jd.you.id));
	d.terminate();
	await a.next(isLeft(jd.you.id));

	// leave without a room is a bad_request
	const f = await client();
	const ef = await f.request({ type: 'leave' });
	assertError(ef, 'bad_request', ef.id);

	// the remaining participant list is just A
	const g = await client();
	const jg = await g.join(room, 'G');
	assert.deepEqual(jg.participants.map((p) => p.id), [a.pid]);
});

serverTest('second join is conflict; rejoin after leave works', async ({ client }) => {
	const room = uniqueRoom();
	const room2 = uniqueRoom();
	const a = await client();
	const b = await client();
	const ja = await a.join(room, 'A');
	const jb = await b.join(room, 'B');
	await a.next(isJoined(jb.you.id));

	const e = await b.request({ type: 'join', id: 77, room: room2, display: 'B2' });
	assertError(e, 'conflict', 77);
	const e2 = await b.request({ type: 'join', id: 78, room, display: 'B' });
	assertError(e2, 'conflict', 78);
	// still in the room: chat works and A sees it
	await b.request({ type: 'chat', text: 'still here' });
	const ch = await a.next('chat');
	assert.equal(ch.text, 'still here');
	await a.expectNone((m) => m.type === 'participant', 'participant events after a refused join');

	// leave, then join the same room again
	b.send({ type: 'leave' });
	await a.next(isLeft(jb.you.id));
	const jb2 = await b.join(room, 'B again');
	assert.deepEqual(jb2.participants.map((p) => p.id), [ja.you.id]);
	const ev = await a.next(isJoined(jb2.you.id));
	assert.equal(ev.participant.display, 'B again');
	assert.ok(jb2.chat.last_seq >= 1);

	// leave, then join another room
	b.send({ type: 'leave' });
	await a.next(isLeft(jb2.you.id));
	const jb3 = await b.join(room2, 'B3');
	assert.deepEqual(jb3.participants, []);
	assert.equal(jb3.chat.last_seq, 0);
	await a.expectNone((m) => m.type === 'participant', 'events from the other room');
});

serverTest('update changes the display name', async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	const b = await client();
	await a.join(room, 'A');
	const jb = await b.join(room, 'B');
	await a.next(isJoined(jb.you.id));

	const r = await b.request({ type: 'update', id: 5, display: 'Bobby 😀' });
	assert.deepEqual(r, { type: 'updated', id: 5 });
	const ev = await a.next((m) => m.type === 'participant' && m.event === 'updated');
	assert.equal(ev.participant.id, jb.you.id);
	assert.equal(ev.participant.display, 'Bobby 😀');
	await b.expectNone((m) => m.type === 'participant', 'its own updated event');

	// without an id: no reply, others still told
	b.send({ type: 'update', display: 'Bob 3' });
	const ev2 = await a.next((m) => m.type === 'participant' && m.event === 'updated');
	assert.equal(ev2.participant.display, 'Bob 3');
	await b.expectNone('updated', 'updated reply without an id');

	// newcomers see the new name; chat carries it
	const c = await client();
	const jc = await c.join(room, 'C');
	assert.equal(jc.participants.find((p) => p.id === jb.you.id).display, 'Bob 3');
	await b.request({ type: 'chat', text: 'hi' });
	const ch = await c.next('chat');
	assert.equal(ch.from.display, 'Bob 3');

	// invalid names
	for (const display of ['', 'a\nb', 42, 'x'.repeat(65)]) {
		const e = await b.request({ type: 'update', display });
		assertError(e, 'bad_request', e.id, `update display ${JSON.stringify(display)}`);
		await b.barrier();
	}
	await a.expectNone((m) => m.type === 'participant' && m.event === 'updated', 'updated after invalid update');

	// update before join
	const d = await client();
	const e = await d.request({ type: 'update', display: 'Nobody' });
	assertError(e, 'bad_request', e.id, 'update before join');
});

serverTest('room and display name validation', async ({ client }) => {
	const okRoom = uniqueRoom('v');
	const badRooms = ['', 'r'.repeat(65), 'a b', 'ä', 'a/b', 5, null, true, ['r'], { r: 1 }];
	const badDisplays = ['', 'é'.repeat(65), '😀'.repeat(65), 'a\nb', 'tab\there', 'bell\u0007', 'del\u007f', 'c1\u0085', 42, null, false];
	const c = await client();
	let n = 0;
	for (const room of badRooms) {
		const id = ++n;
		const e = await c.request({ type: 'join', id, room, display: 'ok' });
		assertError(e, 'bad_request', id, `room ${JSON.stringify(room)}`);
		await c.barrier(); // a valid message resets the ten-in-a-row count
	}
	for (const display of badDisplays) {
		const id = ++n;
		const e = await c.request({ type: 'join', id, room: okRoom, display });
		assertError(e, 'bad_request', id, `display ${JSON.stringify(display)}`);
		await c.barrier();
	}
	// missing fields
	for (const msg of [{ type: 'join', display: 'x' }, { type: 'join', room: okRoom }]) {
		const e = await c.request(msg);
		assertError(e, 'bad_request', msg.id, `join without a field: ${JSON.stringify(msg)}`);
		await c.barrier();
	}

	// boundary values that must be accepted
	const goodRooms = ['r'.repeat(64), 'A-z_0.9', 'x', '...', '-_-'];
	const goodDisplays = ['x', 'é'.repeat(64), '😀'.repeat(64), 'Zoë 李 ✓', ' spaced '];
	for (const room of goodRooms) {
		const j = await c.request({ type: 'join', room, display: 'ok' });
		assert.equal(j.type, 'joined', `room ${JSON.stringify(room)} refused: ${JSON.stringify(j)}`);
		assert.equal(j.room, room);
		c.send({ type: 'leave' });
		await c.barrier();
	}
	for (const display of goodDisplays) {
		const j = await c.request({ type: 'join', room: okRoom, display });
		assert.equal(j.type, 'joined', `display ${JSON.stringify(display)} refused: ${JSON.stringify(j)}`);
		assert.equal(j.you.display, display);
		c.send({ type: 'leave' });
		await c.barrier();
	}
	// a bad `user` in open mode
	for (const user of ['', 'a b', 'u'.repeat(65), 7]) {
		const e = await c.request({ type: 'join', room: okRoom, display: 'ok', user });
		assertError(e, 'bad_request', e.id, `user ${JSON.stringify(user)}`);
		await c.barrier();
	}
	assert.ok(c.isOpen, 'connection stays open through validation errors');
});

serverTest('max_participants_per_room gives room_full', {
	config: { limits: { max_participants_per_room: 2 } },
}, async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	const b = await client();
	const c = await client();
	await a.join(room, 'A');
	const jb = await b.join(room, 'B');
	const e = await c.request({ type: 'join', id: 3, room, display: 'C' });
	assertError(e, 'room_full', 3);
	// another room is fine
	const d = await client();
	await d.join(uniqueRoom(), 'D');
	// the full room's members saw nothing of C
	await a.next(isJoined(jb.you.id));
	await a.expectNone((m) => m.type === 'participant', 'events from a refused join');
	// after B leaves, C can join
	b.send({ type: 'leave' });
	await a.next(isLeft(jb.you.id));
	const jc = await c.join(room, 'C');
	assert.equal(jc.participants.length, 1);
	// and a closed socket frees the place too
	c.terminate();
	await a.next(isLeft(jc.you.id));
	const jb2 = await b.join(room, 'B again');
	assert.equal(jb2.participants.length, 1);
});

serverTest('JSON ping gets pong with the id echoed', async ({ client }) => {
	const c = await client();
	const p1 = await c.request({ type: 'ping', id: 12345 });
	assert.deepEqual(p1, { type: 'pong', id: 12345 });
	const p2 = await c.request({ type: 'ping', id: 'abc-1' });
	assert.deepEqual(p2, { type: 'pong', id: 'abc-1' });
	c.send({ type: 'ping' });
	const p3 = await c.next('pong');
	assert.equal(p3.id, undefined);
	// works in a room too
	await c.join(uniqueRoom(), 'P');
	const p4 = await c.request({ type: 'ping', id: 0 });
	assert.deepEqual(p4, { type: 'pong', id: 0 });
});
