// crash_durability.mjs: every acked chat message survives SIGKILL, and the
// room log stays gap-free and duplicate-free.  From one room up to many
// rooms and clients at once (5 rooms x 4 pipelined senders, killed while
// every room is mid-burst, twice on the same store).
import assert from 'node:assert/strict';
import { serverTest, uniqueRoom, sleep, waitFor } from './lib/harness.mjs';

const CONFIG = { limits: { chat_per_s: 0, messages_per_s: 0 } };
const WINDOW = 50;

/** Starts pipelined chat senders; returns the per-room records and a stop(). */
async function hammer(client, rooms, perRoom, tag) {
	const rec = new Map(); // room -> { acked: Map(seq -> text), sent: Set(text), errors: [] }
	const senders = [];
	let stopped = false;
	for (const room of rooms) {
		const r = { acked: new Map(), sent: new Set(), errors: [], dupSeq: [] };
		rec.set(room, r);
		for (let k = 0; k < perRoom; k++) {
			const c = await client({ name: `${tag}-${room.slice(-6)}-${k}` });
			await c.join(room, `Sender ${k}`);
			c.dropTypes.add('chat');
			c.dropTypes.add('participant');
			const pending = new Map(); // id -> text
			let n = 0;
			const sendOne = () => {
				const id = ++n;
				const text = `${tag}|${room}|${k}|${id}|${'z'.repeat(id % 97)}`;
				pending.set(id, text);
				r.sent.add(text);
				c.send({ type: 'chat', id, text });
			};
			c.onMessage = (m) => {
				if (m.type === 'ack' && pending.has(m.id)) {
					const text = pending.get(m.id);
					pending.delete(m.id);
					if (r.acked.has(m.seq)) r.dupSeq.push([m.seq, r.acked.get(m.seq), text]);
					r.acked.set(m.seq, text);
					if (!stopped && c.isOpen) sendOne();
				} else if (m.type === 'error') {
					r.errors.push(m);
				}
			};
			senders.push({ c, start: () => { for (let i = 0; i < WINDOW; i++) sendOne(); } });
		}
	}
	for (const s of senders) s.start();
	const total = () => [...rec.values()].reduce((a, r) => a + r.acked.size, 0);
	return { rec, total, stop: () => { stopped = true; } };
}

async function readAll(c) {
	const out = [];
	let after = 0;
	for (let page = 0; page < 10000; page++) {
		const h = await c.request({ type: 'history', after, limit: 200 }, 15000);
		assert.equal(h.type, 'history', JSON.stringify(h).slice(0, 300));
		out.push(...h.messages);
		if (!h.more) break;
		assert.ok(h.messages.length > 0, 'more=true with an empty page');
		after = h.messages[h.messages.length - 1].seq;
	}
	return out;
}

// room -> texts of the verified log after an earlier round (index = seq - 1)
const verifiedLog = new Map();

async function verify(client, rec, tag) {
	let stats = [];
	for (const [room, r] of rec) {
		assert.deepEqual(r.errors, [], `${room}: error replies during the burst`);
		assert.deepEqual(r.dupSeq, [], `${room}: the same seq acked twice before the crash`);
		const c = await client({ name: `check-${room.slice(-6)}` });
		const j = await c.join(room, 'Checker');
		const msgs = await readAll(c);
		const N = j.chat.last_seq;
		const seqs = msgs.map((m) => m.seq);
		assert.equal(msgs.length, N, `${room}: history has ${msgs.length} messages, last_seq is ${N}`);
		for (let i = 0; i < seqs.length; i++) {
			if (seqs[i] !== i + 1) assert.fail(`${room}: seq gap or duplicate at index ${i}: got ${seqs[i]} (around ${seqs.slice(Math.max(0, i - 3), i + 3)})`);
		}
		const prev = verifiedLog.get(room) ?? [];
		const texts = new Set();
		for (const m of msgs) {
			assert.ok(!texts.has(m.text), `${room}: message stored twice: seq ${m.seq} ${m.text}`);
			texts.add(m.text);
			if (m.seq <= prev.length) {
				assert.equal(m.text, prev[m.seq - 1], `${room}: seq ${m.seq} from an earlier round changed`);
			} else {
				assert.ok(r.sent.has(m.text), `${room}: seq ${m.seq} holds text never sent: ${m.text}`);
			}
		}
		assert.ok(N >= prev.length, `${room}: the log shrank from ${prev.length} to ${N}`);
		const bySeq = new Map(msgs.map((m) => [m.seq, m.text]));
		let lost = 0;
		let moved = 0;
		const firstBad = [];
		for (const [seq, text] of r.acked) {
			const got = bySeq.get(seq);
			if (got === undefined) { lost++; if (firstBad.length < 5) firstBad.push(`seq ${seq} missing (${text})`); }
			else if (got !== text) { moved++; if (firstBad.length < 5) firstBad.push(`seq ${seq}: acked "${text}", stored "${got}"`); }
		}
		assert.equal(lost + moved, 0, `${room}: ${lost} acked messages lost, ${moved} at another seq: ${firstBad.join('; ')}`);
		const maxAcked = Math.max(0, ...r.acked.keys());
		assert.ok(N >= maxAcked, `${room}: last_seq ${N} < highest acked seq ${maxAcked}`);
		stats.push(`${room.slice(-6)}: ${r.acked.size} acked, ${N} stored`);
		// the log continues after the recovered end
		const text = `after recovery ${tag} ${room}`;
		const ack = await c.request({ type: 'chat', text });
		assert.equal(ack.type, 'ack');
		assert.equal(ack.seq, N + 1);
		verifiedLog.set(room, [...msgs.map((m) => m.text), text]);
		c.terminate();
	}
	return stats.join('; ');
}

/** minPerRoom: acks every room must have before the kill, so that all are mid-burst. */
async function crashRound(srv, client, rooms, perRoom, tag, { minPerRoom = 0 } = {}) {
	const h = await hammer(client, rooms, perRoom, tag);
	const t0 = Date.now();
	const perRoomAcks = () => [...h.rec.values()].map((r) => r.acked.size);
	try {
		await sleep(1500);
		await waitFor(() => h.total() >= 300 && Math.min(...perRoomAcks()) >= minPerRoom, 20000,
			`at least 300 acks and ${minPerRoom} in every room (have ${perRoomAcks()})`);
		srv.assertAlive('during the burst');
		const acksAtKill = h.total();
		await srv.kill(); // SIGKILL mid-burst, with WINDOW messages in flight per client
		h.stop();
		console.log(`# ${tag}: SIGKILL after ${Date.now() - t0} ms with ${acksAtKill} acks (per room ${perRoomAcks()}), ` +
			`${rooms.length * perRoom * WINDOW} messages in flight at most`);
	} finally {
		h.stop();
	}
	// replies that raced the kill are still valid acks: they were recorded
	await srv.start();
	const stats = await verify(client, h.rec, tag);
	console.log(`# ${tag}: ${stats}`);
}

serverTest('4 clients in one room: acked chat survives SIGKILL (twice)', { config: CONFIG, timeout: 120000 }, async ({ srv, client }) => {
	const room = uniqueRoom('crash');
	await crashRound(srv, client, [room], 4, 'r1');
	// the recovered store takes another crash
	await crashRound(srv, client, [room], 4, 'r2');
});

serverTest('2 clients in each of 3 rooms: acked chat survives SIGKILL', { config: CONFIG, timeout: 120000 }, async ({ srv, client }) => {
	const rooms = [uniqueRoom('crashA'), uniqueRoom('crashB'), uniqueRoom('crashC')];
	await crashRound(srv, client, rooms, 2, 'm1');
});

serverTest('4 clients in each of 5 rooms: acked chat survives SIGKILL mid-burst in every room (twice)', { config: CONFIG, timeout: 150000 }, async ({ srv, client }) => {
	const rooms = ['A', 'B', 'C', 'D', 'E'].map((x) => uniqueRoom(`crash5${x}`));
	await crashRound(srv, client, rooms, 4, 'many1', { minPerRoom: 100 });
	// the same rooms again: the recovered logs continue gap-free through a second crash
	await crashRound(srv, client, rooms, 4, 'many2', { minPerRoom: 100 });
});
