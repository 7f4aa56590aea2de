// permissions.mjs: token rights enforced on every request (issue 7,
// "Security"); auth.mjs covers the token's form (bad, expired, foreign,
// alg none, ...) and chat:false.
//
// - a token for room A: joining B is unauthorized, and nothing a joined
//   client sends reaches B, even when it names B (chat, history, offer);
// - publish:false: the pub offer is forbidden and no track is announced;
//   subscribe:false: the server never makes a sub offer;
// - a live session is ended at its token's exp: unauthorized, close 4002,
//   the others see its tracks removed and `left` at once; a session with a
//   longer token is untouched;
// - every refusal is counted in /healthz (signaling.unauthorized,
//   forbidden, tokens_expired).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverTest, uniqueRoom, assertError, makeJwt, nowS, sleep, runParleyd } from './lib/harness.mjs';
import { health, isTrack, isLeft, mediaForgot } from './lib/security.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OFFER = readFileSync(path.join(here, '..', 'fixtures', 'sdp', 'captured', 'chromium_offer.sdp'), 'utf8');
const SECRET = 'permissions-secret-4242';
const tok = (claims) => makeJwt(SECRET, { exp: nowS() + 600, ...claims });

serverTest('a token for room A reaches nothing of room B', { secret: SECRET }, async ({ srv, client }) => {
	const A = uniqueRoom('a');
	const B = uniqueRoom('b');
	const b = await client({ name: 'b-member' });
	await b.join(B, 'In B', { token: tok({ room: B, sub: 'bee' }) });
	await b.request({ type: 'chat', text: 'secret of B' });
	await b.next('chat');
	const h0 = await health(srv);

	const a = await client({ name: 'a-member' });
	const tokA = tok({ room: A, sub: 'ay' });
	// join B with A's token: unauthorized, on a fresh and on a joined connection
	assertError(await a.request({ type: 'join', room: B, display: 'x', token: tokA }), 'unauthorized');
	await a.join(A, 'In A', { token: tokA });
	assertError(await a.request({ type: 'join', room: B, display: 'x', token: tokA }), 'conflict');
	a.send({ type: 'leave' });
	assertError(await a.request({ type: 'join', room: B, display: 'x', token: tokA }), 'unauthorized', undefined, 'after leave');
	await a.join(A, 'In A', { token: tokA });

	// requests naming B act on A (the connection's room) or nowhere
	const ack = await a.request({ type: 'chat', room: B, text: 'aimed at B' });
	assert.equal(ack.type, 'ack');
	assert.equal(ack.seq, 1, 'stored as the first message of A, not the second of B');
	const h = await a.request({ type: 'history', room: B, after: 0 });
	assert.deepEqual(h.messages.map((m) => [m.room, m.text]), [[A, 'aimed at B']], 'history is A\'s, never B\'s');
	const ans = await a.request({ type: 'offer', pc: 'pub', room: B, sdp: OFFER }, 20000);
	assert.equal(ans.type, 'answer');
	await b.expectNone((m) => m.type === 'chat' || m.type === 'track' || m.type === 'participant', 'anything from A');
	const hb = await b.request({ type: 'history', after: 0 });
	assert.deepEqual(hb.messages.map((m) => m.text), ['secret of B']);
	// direct message to a participant of B: not in A's room
	assertError(await a.request({ type: 'chat', text: 'dm', to: b.pid }), 'not_found');
	const h1 = await health(srv);
	assert.equal(h1.unauthorized - h0.unauthorized, 2, 'refused joins are counted');
});

serverTest('publish:false cannot publish, subscribe:false gets no sub offer', { secret: SECRET }, async ({ srv, client }) => {
	const room = uniqueRoom();
	const w = await client({ name: 'watcher' });
	await w.join(room, 'Watcher', { token: tok({ room, sub: 'watcher' }) });
	const v = await client({ name: 'viewer' });
	const jv = await v.join(room, 'Viewer', { token: tok({ room, sub: 'viewer', publish: false }) });
	const h0 = await health(srv);
	assertError(await v.request({ type: 'offer', pc: 'pub', id: 'o1', sdp: OFFER }, 20000), 'forbidden', 'o1');
	// the same from `parleyd token --no-publish`
	const cli = await runParleyd(['token', '--room', room, '--user', 'v2', '--no-publish', '--auth-secret', SECRET]);
	assert.equal(cli.code, 0, cli.stderr);
	const v2 = await client({ name: 'viewer2' });
	await v2.join(room, 'Viewer 2', { token: cli.stdout.trim() });
	assertError(await v2.request({ type: 'offer', pc: 'pub', sdp: OFFER }, 20000), 'forbidden');
	await w.expectNone((m) => m.type === 'track', 'tracks from publish:false');
	assert.equal((await health(srv)).forbidden - h0.forbidden, 2, 'forbidden offers are counted');
	// the viewer still receives: a publisher's tracks make it a sub offer
	const p = await client({ name: 'publisher' });
	await p.join(room, 'Pub', { token: tok({ room, sub: 'pub' }) });
	assert.equal((await p.request({ type: 'offer', pc: 'pub', sdp: OFFER }, 20000)).type, 'answer');
	await v.next((m) => m.type === 'offer' && m.pc === 'sub', 10000);
	// subscribe:false: tracks are announced, but no sub offer ever comes
	const ns = await client({ name: 'no-sub' });
	await ns.join(room, 'NoSub', { token: tok({ room, sub: 'nosub', subscribe: false }) });
	await ns.next(isTrack('added', p.pid), 5000).catch(() => {}); // announced or already listed in joined
	await sleep(1500);
	await ns.expectNone((m) => m.type === 'offer', 'a sub offer for subscribe:false');
	assert.ok(jv.you.id);
});

serverTest('a live session ends at its token\'s exp (unauthorized, close 4002); the others see it leave', { secret: SECRET, timeout: 30000 }, async ({ srv, client }) => {
	const room = uniqueRoom();
	const o = await client({ name: 'observer' });
	await o.join(room, 'Observer', { token: tok({ room, sub: 'obs' }) });
	const h0 = await health(srv);
	// exp 4 s after issue (NumericDate has whole seconds: 3-4 s from now),
	// room enough for the join, the offer and the track events on a slow
	// machine before the token runs out
	const exp = nowS() + 4;
	const s = await client({ name: 'short' });
	const js = await s.join(room, 'Short', { token: makeJwt(SECRET, { room, sub: 'short', exp }) });
	const ans = await s.request({ type: 'offer', pc: 'pub', sdp: OFFER }, 20000);
	assert.equal(ans.type, 'answer');
	const added = await o.nextN(isTrack('added', js.you.id), 2, 10000);
	// keep the session busy until then: activity does not extend it
	const pinger = setInterval(() => { if (s.isOpen) s.send({ type: 'ping' }); }, 200);
	try {
		const err = await s.next((m) => m.type === 'error', 8000);
		const tErr = Date.now();
		assertError(err, 'unauthorized');
		assert.match(err.message, /expired/);
		assert.ok(tErr >= exp * 1000 - 50, `ended ${exp * 1000 - tErr} ms before exp`);
		assert.ok(tErr <= exp * 1000 + 1000, `ended ${tErr - exp * 1000} ms after exp`);
		const close = await s.waitClose(3000);
		assert.equal(close.code, 4002);
		// the others: its tracks removed and `left`, within 1 s of exp
		const removed = await o.nextN(isTrack('removed', js.you.id), 2, 2000);
		assert.deepEqual(removed.map((m) => m.track.id).sort(), added.map((m) => m.track.id).sort());
		await o.next(isLeft(js.you.id), 2000);
		assert.ok(Date.now() <= exp * 1000 + 1000, `others told ${Date.now() - exp * 1000} ms after exp`);
	} finally {
		clearInterval(pinger);
	}
	assert.ok(o.isOpen, 'the observer (longer token) stays');
	assert.equal((await o.request({ type: 'chat', text: 'still here' })).type, 'ack');
	assert.equal((await health(srv)).tokens_expired - h0.tokens_expired, 1);
	// the media plane forgot it too (/stats is a snapshot refreshed each
	// second): no participant, and the m-lines that carried its tracks to
	// the observer are inactive (kept for reuse, as docs/protocol.md says)
	await mediaForgot(srv, room, js.you.id);
	// the expired token cannot come back
	const again = await client({ name: 'again' });
	assertError(await again.request({ type: 'join', room, display: 'x', token: makeJwt(SECRET, { room, sub: 'short', exp }) }), 'unauthorized');
});
