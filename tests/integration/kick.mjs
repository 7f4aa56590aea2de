// kick.mjs: the `kick` extension (docs/protocol.md; issue 4, "Leave, kick
// and disconnect remove the participant's tracks from everyone within 1 s").
//
// A token with `moderator: true` (`parleyd token --moderator`) may remove
// another participant of its own room: the moderator gets `kicked`; the
// target gets `forbidden` and close 4003; everyone else gets `track`
// `removed` for each of its tracks and `participant` `left` within 1 s, and
// the media workers drop it (/stats). Without the claim: forbidden, and
// nobody is touched. A participant of another room is not_found. In open
// mode (no secret) nobody is a moderator.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverTest, uniqueRoom, assertError, makeJwt, nowS, runParleyd } from './lib/harness.mjs';
import { health, isTrack, isLeft, mediaForgot } from './lib/security.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OFFER = readFileSync(path.join(here, '..', 'fixtures', 'sdp', 'captured', 'chromium_offer.sdp'), 'utf8');
const SECRET = 'kick-secret-0987';
const tok = (claims) => makeJwt(SECRET, { exp: nowS() + 600, ...claims });

serverTest('a moderator kicks: the target is closed 4003, the others see its tracks removed and left within 1 s', { secret: SECRET }, async ({ srv, client }) => {
	const room = uniqueRoom('kick');
	const cli = await runParleyd(['token', '--room', room, '--user', 'mod', '--moderator', '--auth-secret', SECRET]);
	assert.equal(cli.code, 0, cli.stderr);
	const claims = JSON.parse(Buffer.from(cli.stdout.trim().split('.')[1], 'base64url').toString());
	assert.equal(claims.moderator, true, '--moderator sets the claim');
	const plain = await runParleyd(['token', '--room', room, '--user', 'x', '--auth-secret', SECRET]);
	assert.ok(!('moderator' in JSON.parse(Buffer.from(plain.stdout.trim().split('.')[1], 'base64url').toString())),
		'tokens without --moderator do not carry the claim');

	const mod = await client({ name: 'moderator' });
	await mod.join(room, 'Mod', { token: cli.stdout.trim() });
	const o = await client({ name: 'observer' });
	await o.join(room, 'Obs', { token: tok({ room, sub: 'obs' }) });
	const t = await client({ name: 'target' });
	const jt = await t.join(room, 'Target', { token: tok({ room, sub: 'target' }) });
	const ans = await t.request({ type: 'offer', pc: 'pub', sdp: OFFER }, 20000);
	assert.equal(ans.type, 'answer');
	const added = await o.nextN(isTrack('added', jt.you.id), 2, 10000);
	await mod.nextN(isTrack('added', jt.you.id), 2, 10000);
	const h0 = await health(srv);

	const t0 = Date.now();
	const r = await mod.request({ type: 'kick', id: 'k1', participant: jt.you.id });
	assert.deepEqual(r, { type: 'kicked', id: 'k1', participant: jt.you.id });
	for (const x of [o, mod]) {
		const removed = await x.nextN(isTrack('removed', jt.you.id), 2, 1000);
		assert.deepEqual(removed.map((m) => m.track.id).sort(), added.map((m) => m.track.id).sort());
		await x.next(isLeft(jt.you.id), 1000);
	}
	const dt = Date.now() - t0;
	assert.ok(dt < 1000, `the others were told in ${dt} ms`);
	console.log(`# kick: tracks removed and left at the others in ${dt} ms`);
	const err = await t.next('error', 2000);
	assertError(err, 'forbidden');
	assert.match(err.message, /removed from the room/);
	assert.equal((await t.waitClose(2000)).code, 4003);
	await mediaForgot(srv, room, jt.you.id);

	const h1 = await health(srv);
	assert.equal(h1.kicked - h0.kicked, 1);
	// the room goes on without it
	const n = await client({ name: 'newcomer' });
	const jn = await n.join(room, 'New', { token: tok({ room, sub: 'new' }) });
	assert.deepEqual(jn.participants.map((p) => p.id).sort(), [mod.pid, o.pid].sort());
	// the kicked user may come back with its token (a kick is not a ban)
	const back = await client({ name: 'back' });
	await back.join(room, 'Back', { token: tok({ room, sub: 'target' }) });
});

/** A recvonly answer to a sub offer, as a browser would make it (no media flows). */
function answerFor(offer) {
	const FP = 'sha-256 ' + Array.from({ length: 32 }, (_, i) => ((i * 29 + 7) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');
	return offer.split('\r\n').filter((l) => l && !/^a=(ssrc|ssrc-group|msid:|candidate|end-of-candidates)/.test(l)).map((l) => {
		if (l.startsWith('a=ice-ufrag:')) return 'a=ice-ufrag:kick';
		if (l.startsWith('a=ice-pwd:')) return 'a=ice-pwd:kickkickkickkickkickkick';
		if (l.startsWith('a=fingerprint:')) return `a=fingerprint:${FP}`;
		if (l.startsWith('a=setup:')) return 'a=setup:active';
		if (l === 'a=sendonly') return 'a=recvonly';
		return l;
	}).join('\r\n') + '\r\n';
}

/** mid -> { port, dir, msid } of each m-line. */
function sections(sdp) {
	const out = {};
	let cur = null;
	for (const l of sdp.split('\r\n')) {
		if (l.startsWith('m=')) cur = { port: Number(l.split(' ')[1]), dir: 'sendrecv', msid: null };
		else if (cur && l.startsWith('a=mid:')) out[l.slice(6)] = cur;
		else if (cur && /^a=(sendonly|recvonly|inactive|sendrecv)$/.test(l)) cur.dir = l.slice(2);
		else if (cur && l.startsWith('a=msid:')) cur.msid = l.slice(7).split(' ')[0];
	}
	return out;
}

serverTest('kick at the media level: the others\' next sub offer ends the target\'s m-lines within 1 s', { secret: SECRET }, async ({ client }) => {
	const room = uniqueRoom('kick');
	const mod = await client({ name: 'moderator' });
	await mod.join(room, 'Mod', { token: tok({ room, sub: 'mod', moderator: true }) });
	const o = await client({ name: 'observer' });
	await o.join(room, 'Obs', { token: tok({ room, sub: 'obs' }) });
	const t = await client({ name: 'target' });
	const jt = await t.join(room, 'Target', { token: tok({ room, sub: 'target' }) });
	assert.equal((await t.request({ type: 'offer', pc: 'pub', sdp: OFFER }, 20000)).type, 'answer');
	const off1 = await o.next((m) => m.type === 'offer' && m.pc === 'sub', 10000);
	const before = sections(off1.sdp);
	const mids = Object.keys(before).filter((mid) => before[mid].msid === jt.you.id);
	assert.equal(mids.length, 2, `the target's audio and video in rev ${off1.rev}: ${JSON.stringify(before)}`);
	o.send({ type: 'answer', pc: 'sub', rev: off1.rev, sdp: answerFor(off1.sdp) });
	await o.expectNone('error', 'an error for the sub answer');

	const t0 = Date.now();
	assert.equal((await mod.request({ type: 'kick', participant: jt.you.id })).type, 'kicked');
	const off2 = await o.next((m) => m.type === 'offer' && m.pc === 'sub', 1000);
	const dt = Date.now() - t0;
	assert.ok(off2.rev > off1.rev);
	const after = sections(off2.sdp);
	for (const mid of mids) {
		const m = after[mid];
		assert.ok(m && (m.port === 0 || m.dir === 'inactive') && m.msid === null,
			`mid ${mid} of the kicked participant in rev ${off2.rev}: ${JSON.stringify(m)}`);
	}
	console.log(`# kick: sub re-offer (rev ${off2.rev}) without the target's m-lines after ${dt} ms`);
});

serverTest('without the moderator claim kick is forbidden; other rooms and bad requests are refused', { secret: SECRET }, async ({ srv, client }) => {
	const room = uniqueRoom('kick');
	const other = uniqueRoom('other');
	const a = await client({ name: 'a' });
	await a.join(room, 'A', { token: tok({ room, sub: 'a' }) });
	const b = await client({ name: 'b' });
	await b.join(room, 'B', { token: tok({ room, sub: 'b', moderator: false }) });
	const x = await client({ name: 'elsewhere' });
	await x.join(other, 'X', { token: tok({ room: other, sub: 'x' }) });
	const mod = await client({ name: 'mod' });
	await mod.join(room, 'Mod', { token: tok({ room, sub: 'mod', moderator: true }) });
	const h0 = await health(srv);

	assertError(await a.request({ type: 'kick', id: 1, participant: b.pid }), 'forbidden', 1, 'no claim');
	assertError(await b.request({ type: 'kick', id: 2, participant: a.pid }), 'forbidden', 2, 'moderator:false');
	// without rights the error is the same for a stranger (no membership oracle)
	assertError(await a.request({ type: 'kick', participant: x.pid }), 'forbidden', undefined, 'no claim, other room');
	// a moderator of this room cannot reach another room
	assertError(await mod.request({ type: 'kick', participant: x.pid }), 'not_found', undefined, 'other room');
	assertError(await mod.request({ type: 'kick', participant: 'p-000000000000' }), 'not_found');
	assertError(await mod.request({ type: 'kick', participant: mod.pid }), 'bad_request', undefined, 'self');
	assertError(await mod.request({ type: 'kick' }), 'bad_request', undefined, 'no participant');
	assertError(await mod.request({ type: 'kick', participant: 7 }), 'bad_request', undefined, 'participant not a string');
	// a mistyped claim is not a moderator: the token is refused outright
	const bad = await client({ name: 'bad-claim' });
	assertError(await bad.request({ type: 'join', room, display: 'x', token: tok({ room, sub: 'z', moderator: 'yes' }) }), 'unauthorized');
	for (const c of [a, b, x, mod]) {
		assert.ok(c.isOpen);
		await c.expectNone((m) => m.type === 'participant' && m.event === 'left', 'a left event');
	}
	const h1 = await health(srv);
	assert.equal(h1.forbidden - h0.forbidden, 3);
	assert.equal(h1.kicked - h0.kicked, 0);
	// outside a room
	const idle = await client({ name: 'idle' });
	assertError(await idle.request({ type: 'kick', participant: a.pid }), 'bad_request');
});

serverTest('open rooms (no secret): nobody may kick', async ({ client }) => {
	const room = uniqueRoom('open');
	const a = await client();
	const b = await client();
	await a.join(room, 'A');
	await b.join(room, 'B');
	assertError(await a.request({ type: 'kick', participant: b.pid }), 'forbidden');
	assert.ok(b.isOpen);
});
