// auth.mjs: joining with HS256 tokens when parleyd has a secret.
import assert from 'node:assert/strict';
import {
	serverTest, uniqueRoom, assertError, makeJwt, nowS, runParleyd, pent,
} from './lib/harness.mjs';

const SECRET = 'integration-secret-0123456789';
const tok = (claims, opts) => makeJwt(SECRET, { exp: nowS() + 600, ...claims }, opts);

async function expectUnauthorized(client, room, token, what) {
	const c = await client({ name: what });
	const msg = { type: 'join', id: 'j', room, display: 'Someone' };
	if (token !== undefined) msg.token = token;
	const r = await c.request(msg);
	assertError(r, 'unauthorized', 'j', `${what}:`);
	// still not in a room
	const e = await c.request({ type: 'chat', text: 'sneaky' });
	assert.equal(e.type, 'error', `${what}: chat after a refused join: ${JSON.stringify(e)}`);
	return c;
}

serverTest('bad, expired and foreign tokens are unauthorized', { secret: SECRET }, async ({ client }) => {
	const room = uniqueRoom();
	const other = uniqueRoom();
	const obs = await client({ name: 'obs' });
	await obs.join(room, 'x', { token: tok({ room, sub: 'observer' }) });

	await expectUnauthorized(client, room, undefined, 'no token');
	await expectUnauthorized(client, room, '', 'empty token');
	await expectUnauthorized(client, room, 'not.a.jwt', 'garbage token');
	await expectUnauthorized(client, room, 'abc', 'one-part token');
	await expectUnauthorized(client, room, makeJwt('wrong-secret', { room, sub: 'u', exp: nowS() + 600 }), 'wrong secret');
	const good = tok({ room, sub: 'u' });
	const [h, , s] = good.split('.');
	const forgedPayload = Buffer.from(JSON.stringify({ room, sub: 'admin', exp: nowS() + 600 })).toString('base64url');
	await expectUnauthorized(client, room, `${h}.${forgedPayload}.${s}`, 'tampered payload');
	await expectUnauthorized(client, room, good.slice(0, -3) + (good.endsWith('AAA') ? 'BBB' : 'AAA'), 'tampered signature');
	await expectUnauthorized(client, room, tok({ room, sub: 'u' }, { alg: 'none', noSig: true }), 'alg none');
	await expectUnauthorized(client, room, tok({ room, sub: 'u' }, { alg: 'HS512' }), 'alg HS512');
	await expectUnauthorized(client, room, makeJwt(SECRET, { room, sub: 'u', exp: nowS() - 5 }), 'expired');
	await expectUnauthorized(client, room, makeJwt(SECRET, { room, sub: 'u' }), 'no exp');
	await expectUnauthorized(client, room, tok({ room }), 'no sub');
	await expectUnauthorized(client, room, tok({ sub: 'u' }), 'no room claim');
	await expectUnauthorized(client, room, tok({ room: other, sub: 'u' }), 'token for another room');
	await expectUnauthorized(client, room, tok({ room: room.slice(0, -1), sub: 'u' }), 'token for a prefix of the room');
	await expectUnauthorized(client, room, tok({ room, sub: 'u', exp: String(nowS() + 600) }), 'exp as a string');

	await obs.expectNone((m) => m.type === 'participant', 'events for refused joins');
});

serverTest('a valid token joins; sub is the user; name overrides display', { secret: SECRET }, async ({ client }) => {
	const room = uniqueRoom();
	const a = await client();
	const ja = await a.join(room, 'Display From Join', { token: tok({ room, sub: 'alice', name: 'Alice Token' }), user: 'mallory' });
	assert.equal(ja.you.user, 'alice', 'user id is the token sub, not the join field');
	assert.equal(ja.you.display, 'Alice Token', 'the name claim overrides display');
	const b = await client();
	const jb = await b.join(room, 'Bob Display', { token: tok({ room, sub: 'bob' }) });
	assert.equal(jb.you.user, 'bob');
	assert.equal(jb.you.display, 'Bob Display', 'without a name claim the display is used');
	assert.deepEqual(jb.participants.map(pent), [{ id: ja.you.id, display: 'Alice Token', tracks: [] }]);
	const ev = await a.next((m) => m.type === 'participant' && m.event === 'joined');
	assert.equal(ev.participant.display, 'Bob Display');

	await a.request({ type: 'chat', text: 'signed in' });
	const m = await b.next('chat');
	assert.deepEqual(m.from, { id: ja.you.id, user: 'alice', display: 'Alice Token' });

	// a refused join does not spoil the connection: retry with a good token
	const c = await client();
	assertError(await c.request({ type: 'join', room, display: 'C', token: 'bad' }), 'unauthorized');
	const jc = await c.join(room, 'C', { token: tok({ room, sub: 'carol' }) });
	assert.equal(jc.you.user, 'carol');
});

serverTest("room '*' in the token allows any room", { secret: SECRET }, async ({ client }) => {
	const t = tok({ room: '*', sub: 'roamer' });
	for (const room of [uniqueRoom(), uniqueRoom(), 'x']) {
		const c = await client();
		const j = await c.join(room, 'Roamer', { token: t });
		assert.equal(j.room, room);
		assert.equal(j.you.user, 'roamer');
	}
	// '*' is not a pattern: a token for room "a*" is just a (foreign) room
	const c = await client();
	assertError(await c.request({ type: 'join', room: 'ab', display: 'x', token: tok({ room: 'a*', sub: 'u' }) }), 'unauthorized');
});

serverTest('chat:false gives forbidden on chat, the rest still works', { secret: SECRET }, async ({ client }) => {
	const room = uniqueRoom();
	const w = await client({ name: 'writer' });
	await w.join(room, 'Writer', { token: tok({ room, sub: 'writer' }) });
	await w.request({ type: 'chat', text: 'readable' });
	await w.next('chat');
	const r = await client({ name: 'reader' });
	const jr = await r.join(room, 'Reader', { token: tok({ room, sub: 'reader', chat: false }) });
	assert.equal(jr.chat.last_seq, 1);

	const e = await r.request({ type: 'chat', id: 44, text: 'may I?' });
	assertError(e, 'forbidden', 44);
	const e2 = await r.request({ type: 'chat', text: 'dm?', to: w.pid });
	assertError(e2, 'forbidden', e2.id, 'a DM');
	await w.expectNone('chat', 'a forbidden chat');
	await r.barrier();
	assert.ok(r.isOpen, 'forbidden does not close the connection');

	// reading history and receiving chat are still allowed
	const h = await r.request({ type: 'history', after: 0 });
	assert.equal(h.type, 'history');
	assert.deepEqual(h.messages.map((m) => m.text), ['readable']);
	await w.request({ type: 'chat', text: 'second' });
	assert.equal((await r.next('chat')).text, 'second');
	// the writer's next seq shows nothing was stored
	const j = await (await client()).join(room, 'x', { token: tok({ room, sub: 'probe' }) });
	assert.equal(j.chat.last_seq, 2);

	// chat:false from `parleyd token --no-chat` too
	const cli = await runParleyd(['token', '--room', room, '--user', 'quiet', '--no-chat', '--auth-secret', SECRET]);
	assert.equal(cli.code, 0, cli.stderr);
	const q = await client({ name: 'quiet' });
	await q.join(room, 'Quiet', { token: cli.stdout.trim() });
	assertError(await q.request({ type: 'chat', text: 'no' }), 'forbidden');
});

serverTest('a token from `parleyd token` works', { secret: SECRET }, async ({ client }) => {
	const room = uniqueRoom();
	const r = await runParleyd(['token', '--room', room, '--user', 'dave', '--name', 'Dave D', '--ttl', '120', '--auth-secret', SECRET]);
	assert.equal(r.code, 0, r.stderr);
	const c = await client();
	const j = await c.join(room, 'whatever', { token: r.stdout.trim() });
	assert.equal(j.you.user, 'dave');
	assert.equal(j.you.display, 'Dave D');
	assert.equal((await c.request({ type: 'chat', text: 'cli token chat' })).type, 'ack');
	// expired CLI token (ttl 1)
	const r2 = await runParleyd(['token', '--room', room, '--user', 'eve', '--ttl', '1', '--auth-secret', SECRET]);
	assert.equal(r2.code, 0, r2.stderr);
	await new Promise((res) => setTimeout(res, 2100));
	const c2 = await client();
	assertError(await c2.request({ type: 'join', room, display: 'Eve', token: r2.stdout.trim() }), 'unauthorized');
});

serverTest('PARLEY_AUTH_SECRET in the environment sets the secret', { env: { PARLEY_AUTH_SECRET: 'from-the-env' } }, async ({ client }) => {
	const room = uniqueRoom();
	const c = await client();
	assertError(await c.request({ type: 'join', room, display: 'x' }), 'unauthorized', undefined, 'no token with env secret');
	assertError(await c.request({ type: 'join', room, display: 'x', token: tok({ room, sub: 'u' }) }), 'unauthorized', undefined, 'token with another secret');
	const t = makeJwt('from-the-env', { room, sub: 'envuser', exp: nowS() + 60 });
	const j = await c.join(room, 'Env', { token: t });
	assert.equal(j.you.user, 'envuser');
	// and `parleyd token` reads it too
	const r = await runParleyd(['token', '--room', room, '--user', 'envcli'], { env: { PARLEY_AUTH_SECRET: 'from-the-env' } });
	assert.equal(r.code, 0, r.stderr);
	const c2 = await client();
	assert.equal((await c2.join(room, 'x', { token: r.stdout.trim() })).you.user, 'envcli');
});

serverTest('[auth] secret in the config file sets the secret', { config: { auth: { secret: 'from-the-config' } } }, async ({ client }) => {
	const room = uniqueRoom();
	const c = await client();
	assertError(await c.request({ type: 'join', room, display: 'x' }), 'unauthorized');
	const j = await c.join(room, 'Cfg', { token: makeJwt('from-the-config', { room, sub: 'cfg', exp: nowS() + 60 }) });
	assert.equal(j.you.user, 'cfg');
});
