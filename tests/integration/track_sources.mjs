// tests/integration/track_sources.mjs: published tracks are announced with
// their mid and with the source the client named in its offer (`sources`,
// docs/protocol.md), to the others and to the publisher itself (which needs
// the ids for `mute`); `mute` then reaches the others as `track`/`updated`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverTest, uniqueRoom } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM_OFFER = readFileSync(path.join(here, '..', 'fixtures', 'sdp', 'captured', 'chromium_offer.sdp'), 'utf8');

serverTest('track events carry mid and the named source, reach the publisher, and mute updates them', { timeout: 60000 }, async ({ client }) => {
	const room = uniqueRoom('sources');
	const pub = await client({ name: 'publisher' });
	const other = await client({ name: 'other' });
	await pub.join(room, 'Pub');
	await other.join(room, 'Other');
	// The captured offer has audio on mid 0 and video on mid 1: call the
	// video a screen share.
	const ans = await pub.request({ type: 'offer', pc: 'pub', sdp: CHROMIUM_OFFER, sources: { 1: 'screen' } }, 20000);
	assert.equal(ans.type, 'answer', JSON.stringify(ans).slice(0, 300));
	const isAdded = (m) => m.type === 'track' && m.event === 'added';
	const seen = await other.nextN(isAdded, 2, 10000);
	const own = await pub.nextN(isAdded, 2, 10000);
	const byKind = Object.fromEntries(seen.map((m) => [m.track.kind, m.track]));
	assert.equal(byKind.audio.source, 'microphone');
	assert.equal(byKind.audio.mid, '0');
	assert.equal(byKind.video.source, 'screen');
	assert.equal(byKind.video.mid, '1');
	assert.deepEqual(own.map((m) => m.track.id).sort(), seen.map((m) => m.track.id).sort(), 'the publisher learns the same ids');
	pub.send({ type: 'mute', track: byKind.video.id, muted: true });
	const upd = await other.next((m) => m.type === 'track' && m.event === 'updated', 10000);
	assert.equal(upd.track.id, byKind.video.id);
	assert.equal(upd.track.muted, true);
	assert.equal(upd.track.source, 'screen');
});
