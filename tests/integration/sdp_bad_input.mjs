// sdp_bad_input.mjs: hostile SDP on the signaling side of the media path.
//
// issue 3, "Bad input": SDP with 1,000 m-lines or 100 KiB lines, malformed
// and unsupported descriptions, offer/answer out of order: each rejected with
// the error docs/protocol.md names, counted in /healthz, the server unharmed.
//
// Where the rejections are counted (signaling/media_sig.c, media/worker.c):
// - checks the signaling thread makes synchronously (`pc`, `rev`, the `sdp`
//   field's type and its size against media.max_sdp_bytes) are counted in
//   signaling.protocol_errors (bad_request) like any other malformed message;
// - everything the media worker refuses (parse errors, no BUNDLE, no usable
//   codec, an answer with no outstanding rev) is counted in
//   media.sdp_rejected, whatever its code (bad_request or conflict);
// - a message over server.max_frame_bytes is signaling.too_large + 1009.
//
// No media flows here: no datagram is ever answered, and the only candidate
// an offer carries is a 127.0.0.1 one (see tests/e2e/media_bad_input.py for
// the UDP side).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverTest, uniqueRoom, assertError, waitFor } from './lib/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM_OFFER = readFileSync(
	path.join(HERE, '..', 'fixtures', 'sdp', 'captured', 'chromium_offer.sdp'), 'latin1');

const FP = 'sha-256 ' + Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');

/* ------------------------------------------------------------------ */
/* SDP built line by line (an array of lines, joined with CRLF)        */

function sessionLines({ bundle = ['0', '1'] } = {}) {
	const l = [
		'v=0',
		'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
		's=-',
		't=0 0',
	];
	if (bundle) l.push(`a=group:BUNDLE ${bundle.join(' ')}`);
	l.push('a=msid-semantic: WMS stream0');
	return l;
}

const transport = (withCand) => [
	...(withCand ? ['a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host'] : []),
	'a=ice-ufrag:Ab12',
	'a=ice-pwd:0123456789abcdefghijklmn',
	'a=ice-options:trickle',
	`a=fingerprint:${FP}`,
	'a=setup:actpass',
];

function audioSection(mid, { extra = [], codecs = 'opus' } = {}) {
	const pts = codecs === 'opus' ? '111' : '0';
	return [
		`m=audio 9 UDP/TLS/RTP/SAVPF ${pts}`,
		'c=IN IP4 0.0.0.0',
		'a=rtcp:9 IN IP4 0.0.0.0',
		...transport(mid === '0'),
		`a=mid:${mid}`,
		...extra,
		'a=sendonly',
		'a=msid:stream0 audio0',
		'a=rtcp-mux',
		...(codecs === 'opus' ? ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1'] : []),
		'a=ssrc:1001 cname:hostile',
	];
}

function videoSection(mid, { h264Only = false } = {}) {
	const l = [
		`m=video 9 UDP/TLS/RTP/SAVPF ${h264Only ? '102 103' : '96 97'}`,
		'c=IN IP4 0.0.0.0',
		'a=rtcp:9 IN IP4 0.0.0.0',
		...transport(mid === '0'),
		`a=mid:${mid}`,
		'a=sendonly',
		'a=msid:stream0 video0',
		'a=rtcp-mux',
		'a=rtcp-rsize',
	];
	if (h264Only) {
		l.push('a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli',
			'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
			'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102');
	} else {
		l.push('a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
			'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96');
	}
	l.push('a=ssrc-group:FID 2001 2002', 'a=ssrc:2001 cname:hostile', 'a=ssrc:2002 cname:hostile');
	return l;
}

const sdpText = (lines) => lines.join('\r\n') + '\r\n';
/** 1-based number of the first line for which pred is true. */
const lineOf = (lines, pred) => lines.findIndex(pred) + 1;

/** A plausible audio+video offer (what the negative cases mutate). */
function goodLines(opts = {}) {
	return [...sessionLines(opts), ...audioSection('0', opts), ...videoSection('1', opts)];
}

/**
 * 1,000 m-lines: two full sections, then 998 compact ones (m=, mid,
 * rtcp-mux, PCMU by static payload type) so that the whole text stays under
 * the 64 KiB max_sdp_bytes and reaches the parser's m-line limit.
 * bundleAll: the BUNDLE group names all 1,000 mids (else only 0 and 1).
 */
function thousandMLines({ bundleAll }) {
	const mids = Array.from({ length: 1000 }, (_, i) => String(i));
	const lines = [...sessionLines({ bundle: bundleAll ? mids : ['0', '1'] }), ...audioSection('0'), ...videoSection('1')];
	for (let i = 2; i < 1000; i++) lines.push(`m=audio 9 UDP/TLS/RTP/SAVPF 0`, `a=mid:${i}`, 'a=rtcp-mux');
	return lines;
}

/* ------------------------------------------------------------------ */

async function healthz(srv) {
	const res = await srv.fetch('/healthz');
	assert.equal(res.status, 200, '/healthz status');
	const j = await res.json();
	assert.equal(j.status, 'ok', `/healthz: ${JSON.stringify(j)}`);
	assert.ok(j.media && j.signaling, `/healthz lacks media or signaling counters: ${JSON.stringify(j)}`);
	return j;
}

/** Sends a pub offer and returns the reply (answer or error) with its id. */
async function offer(c, sdp, what, timeout = 15000) {
	const r = await c.request({ type: 'offer', pc: 'pub', sdp }, timeout);
	assert.ok(r.type === 'error' || r.type === 'answer', `${what}: unexpected reply ${JSON.stringify(r).slice(0, 300)}`);
	return r;
}

async function expectRejected(c, sdp, what, { code = 'bad_request', message } = {}) {
	const r = await offer(c, sdp, what);
	assertError(r, code, r.id, `${what}:`);
	if (message) assert.match(r.message, message, `${what}: error message ${JSON.stringify(r.message)}`);
	await c.barrier();
	assert.ok(c.isOpen, `${what}: the connection must stay open`);
	return r;
}

/** A second client joins the room, and both chat: the server still serves. */
async function stillServes(srv, client, c, room, what) {
	srv.assertAlive(what);
	const other = await client({ name: 'witness' });
	const j = await other.join(room, 'Witness');
	assert.ok(j.participants.some((p) => p.id === c.pid), `${what}: witness sees the hostile participant`);
	const ack = await other.request({ type: 'chat', text: `after ${what}` }, 10000);
	assert.equal(ack.type, 'ack', `${what}: chat ack: ${JSON.stringify(ack)}`);
	const seen = await c.next((m) => m.type === 'chat' && m.text === `after ${what}`, 10000);
	assert.equal(seen.from.id, other.pid);
	const ack2 = await c.request({ type: 'chat', text: 'and back' }, 10000);
	assert.equal(ack2.type, 'ack');
	await other.next((m) => m.type === 'chat' && m.text === 'and back', 10000);
	await healthz(srv);
	return other;
}

/* ------------------------------------------------------------------ */

serverTest('hostile pub offers: 1,000 m-lines, long lines, malformed, no BUNDLE, H264 only → bad_request, counted', { timeout: 120000 }, async ({ srv, client }) => {
	const room = uniqueRoom('sdp-bad');
	const c = await client({ name: 'hostile' });
	await c.join(room, 'Hostile');
	const h0 = await healthz(srv);
	let workerRejects = 0;   // expected media.sdp_rejected increase
	let sigRejects = 0;      // expected signaling.protocol_errors increase

	// (a) 1,000 m-lines, BUNDLE naming only the first two: the parser stops at
	// the 65th m-line (PL_SDP_MAX_MEDIA 64) and names it.
	{
		const lines = thousandMLines({ bundleAll: false });
		const text = sdpText(lines);
		assert.ok(text.length < 65536, `1,000 m-line SDP is ${text.length} bytes: must stay under max_sdp_bytes`);
		const mLines = lines.map((l, i) => [l, i + 1]).filter(([l]) => l.startsWith('m='));
		assert.equal(mLines.length, 1000);
		const n65 = mLines[64][1];
		await expectRejected(c, text, '1,000 m-lines', { message: new RegExp(`^SDP line ${n65}: too many m= lines`) });
		workerRejects++;
	}
	// (a') the same with a BUNDLE group naming all 1,000 mids: its line goes first.
	{
		const lines = thousandMLines({ bundleAll: true });
		const text = sdpText(lines);
		assert.ok(text.length < 65536, `${text.length} bytes`);
		const g = lineOf(lines, (l) => l.startsWith('a=group:BUNDLE'));
		await expectRejected(c, text, '1,000 m-lines all bundled', { message: new RegExp(`^SDP line ${g}: too many mids in group`) });
		workerRejects++;
	}
	// (b) one 60 KiB attribute line (the description still under 64 KiB): named.
	{
		const lines = goodLines();
		const at = lineOf(lines, (l) => l === 'a=mid:0') + 1;
		lines.splice(at - 1, 0, 'a=x-hostile:' + 'A'.repeat(60 * 1024));
		const text = sdpText(lines);
		assert.ok(text.length < 65000, `${text.length} bytes`);
		await expectRejected(c, text, '60 KiB line', { message: new RegExp(`^SDP line ${at}: line longer than 4 KiB`) });
		workerRejects++;
	}
	// (b') 4,097 bytes: one over the 4 KiB line limit
	{
		const lines = goodLines();
		const at = lineOf(lines, (l) => l === 'a=mid:0') + 1;
		lines.splice(at - 1, 0, 'a=x-hostile:' + 'B'.repeat(4097 - 'a=x-hostile:'.length));
		await expectRejected(c, sdpText(lines), '4,097-byte line', { message: new RegExp(`^SDP line ${at}: line longer than 4 KiB`) });
		workerRejects++;
	}
	// (c) a bad rtpmap on line 9 of a small offer
	{
		const lines = goodLines();
		const n = lineOf(lines, (l) => l.startsWith('a=rtpmap:111'));
		// move it up to line 9: six session lines, m=audio (7), c= (8)
		const rtpmap = lines.splice(n - 1, 1)[0];
		lines.splice(8, 0, rtpmap);
		assert.equal(lines[8], 'a=rtpmap:111 opus/48000/2');
		lines[8] = 'a=rtpmap:111 opus';             // no clock rate
		await expectRejected(c, sdpText(lines), 'bad rtpmap on line 9', { message: /^SDP line 9: bad rtpmap$/ });
		workerRejects++;
	}
	// (c') the captured Chromium offer with one rtpmap broken where it is
	{
		const lines = CHROMIUM_OFFER.split('\r\n');
		if (lines[lines.length - 1] === '') lines.pop();
		const n = lineOf(lines, (l) => l.startsWith('a=rtpmap:96 '));
		lines[n - 1] = 'a=rtpmap:96 VP8/ninety-thousand';
		await expectRejected(c, sdpText(lines), 'Chromium offer, bad rtpmap', { message: new RegExp(`^SDP line ${n}: bad rtpmap`) });
		workerRejects++;
	}
	// (c'') more malformed descriptions, each naming its line
	const malformed = [
		['missing v=', (l) => l.slice(1), /^SDP line 1: /],
		['unknown type letter', (l) => { l.splice(4, 0, 'y=what'); return l; }, /^SDP line 5: /],
		['control byte', (l) => { l[2] = 's=\u0001'; return l; }, /^SDP line 3: /],
		['bad m= port', (l) => { const i = lineOf(l, (x) => x.startsWith('m=video')); l[i - 1] = 'm=video 99999 UDP/TLS/RTP/SAVPF 96 97'; return l; }, /^SDP line \d+: bad m= port/],
		['rtpmap for an unlisted payload type', (l) => { const i = lineOf(l, (x) => x.startsWith('a=rtpmap:96')); l[i - 1] = 'a=rtpmap:98 VP8/90000'; return l; }, /^SDP line \d+: rtpmap for a payload type not in the m= line/],
		['duplicate mid', (l) => { const i = lineOf(l, (x) => x === 'a=mid:1'); l[i - 1] = 'a=mid:0'; return l; }, /^SDP line \d+: .*mid/],
		['BUNDLE names an unknown mid', (l) => { l[4] = 'a=group:BUNDLE 0 7'; return l; }, /^SDP line 5: group names an unknown mid/],
		['empty line', (l) => { l.splice(6, 0, ''); return l; }, /^SDP line 7: empty line/],
	];
	for (const [what, mutate, re] of malformed) {
		const r = await offer(c, sdpText(mutate(goodLines())), what);
		assertError(r, 'bad_request', r.id, `${what}:`);
		assert.match(r.message, re, `${what}: ${JSON.stringify(r.message)}`);
		await c.barrier();
		workerRejects++;
	}
	// (c''') a NUL inside the SDP string: jansson refuses \u0000 in JSON text,
	// so this never reaches the SDP parser (bad_request, no id: the message
	// was not read)
	{
		const lines = goodLines();
		lines[2] = 's=a\u0000b';
		c.send({ type: 'offer', pc: 'pub', id: 'nul', sdp: sdpText(lines) });
		const r = await c.next((m) => m.type === 'error' || m.id === 'nul', 10000);
		assertError(r, 'bad_request', undefined, 'NUL in the SDP:');
		sigRejects++;
		await c.barrier();
	}
	// (d) no BUNDLE group
	await expectRejected(c, sdpText(goodLines({ bundle: null })), 'no BUNDLE', { message: /BUNDLE/ });
	workerRejects++;
	// (d') BUNDLE but no rtcp-mux anywhere
	{
		const r = await offer(c, sdpText(goodLines().filter((l) => l !== 'a=rtcp-mux')), 'no rtcp-mux');
		// docs/protocol.md: "Offers need BUNDLE (max-bundle) with rtcp-mux"
		assertError(r, 'bad_request', r.id, 'no rtcp-mux:');
		workerRejects++;
		await c.barrier();
	}
	// (e) only unsupported codecs: H264 video, PCMU audio
	await expectRejected(c, sdpText(goodLines({ h264Only: true, codecs: 'pcmu' })), 'H264 + PCMU only',
		{ message: /codec/i });
	workerRejects++;
	// (e') H264 only, no audio at all
	{
		const lines = [...sessionLines({ bundle: ['0'] }), ...videoSection('0', { h264Only: true })];
		await expectRejected(c, sdpText(lines), 'H264 only', { message: /codec/i });
		workerRejects++;
	}

	// (f) offer/answer out of order; the signaling-side checks first
	{
		let r = await c.request({ type: 'offer', pc: 'sub', sdp: sdpText(goodLines()) });
		assertError(r, 'bad_request', r.id, 'offer pc:"sub":');
		assert.match(r.message, /pc/);
		sigRejects++;
		r = await c.request({ type: 'offer', sdp: sdpText(goodLines()) });
		assertError(r, 'bad_request', r.id, 'offer without pc:');
		sigRejects++;
		r = await c.request({ type: 'offer', pc: 'pub', sdp: '' });
		assertError(r, 'bad_request', r.id, 'empty sdp:');
		sigRejects++;
		r = await c.request({ type: 'offer', pc: 'pub', sdp: 42 });
		assertError(r, 'bad_request', r.id, 'numeric sdp:');
		sigRejects++;
		r = await c.request({ type: 'answer', pc: 'pub', rev: 1, sdp: sdpText(goodLines()) });
		assertError(r, 'bad_request', r.id, 'answer pc:"pub":');
		sigRejects++;
		for (const rev of [0, -1, 1.5, '1', null, 2 ** 32]) {
			r = await c.request({ type: 'answer', pc: 'sub', rev, sdp: sdpText(goodLines()) });
			assertError(r, 'bad_request', r.id, `answer rev ${JSON.stringify(rev)}:`);
			sigRejects++;
			await c.barrier();   // a valid message: the ten-bad_requests-in-a-row count starts over
		}
		r = await c.request({ type: 'answer', pc: 'sub', sdp: sdpText(goodLines()) });
		assertError(r, 'bad_request', r.id, 'answer without rev:');
		sigRejects++;
		await c.barrier();
		// an answer before any offer was made: no outstanding rev → conflict
		r = await c.request({ type: 'answer', pc: 'sub', rev: 1, sdp: sdpText(goodLines()) }, 10000);
		assertError(r, 'conflict', r.id, 'answer before any offer:');
		workerRejects++;
		r = await c.request({ type: 'answer', pc: 'sub', rev: 7, sdp: 'garbage' }, 10000);
		assertError(r, 'conflict', r.id, 'answer (garbage) before any offer:');
		workerRejects++;
		await c.barrier();
	}

	// every rejection counted where docs/protocol.md's split puts it
	const h1 = await waitFor(async () => {
		const h = await healthz(srv);
		return h.media.sdp_rejected - h0.media.sdp_rejected >= workerRejects ? h : null;
	}, 5000, `media.sdp_rejected to grow by ${workerRejects}`).catch(async (e) => {
		const h = await healthz(srv);
		throw new Error(`${e.message}: before ${h0.media.sdp_rejected}, now ${h.media.sdp_rejected}`);
	});
	assert.equal(h1.media.sdp_rejected - h0.media.sdp_rejected, workerRejects, 'media.sdp_rejected: one per worker rejection');
	assert.ok(h1.signaling.protocol_errors - h0.signaling.protocol_errors >= sigRejects,
		`signaling.protocol_errors grew by ${h1.signaling.protocol_errors - h0.signaling.protocol_errors}, want >= ${sigRejects}`);
	assert.equal(h1.media.rtp_in, 0, 'no media flowed');

	// the server is unharmed: a second client joins and chats with the first
	await stillServes(srv, client, c, room, 'hostile offers');

	// and a valid-looking Chromium offer (captured) still gets an answer on
	// the very connection that sent all of the above
	const ans = await offer(c, CHROMIUM_OFFER, 'captured Chromium offer', 20000);
	assert.equal(ans.type, 'answer', `Chromium offer: ${JSON.stringify(ans).slice(0, 300)}`);
	assert.equal(ans.pc, 'pub');
	assert.match(ans.sdp, /^v=0\r\n/);
	assert.match(ans.sdp, /a=group:BUNDLE 0 1\r\n/);
	assert.match(ans.sdp, /a=setup:passive\r\n/);
	assert.match(ans.sdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/i);
	assert.doesNotMatch(ans.sdp, /a=candidate:(?!.* 127\.0\.0\.1 )/, 'every server candidate is on 127.0.0.1');
	const h2 = await healthz(srv);
	assert.equal(h2.media.sdp_rejected, h1.media.sdp_rejected, 'the valid offer is not counted as rejected');
});

serverTest('a 100 KiB SDP line over max_frame_bytes: too_large, closed 1009, counted; others unharmed', { timeout: 60000 }, async ({ srv, client }) => {
	const room = uniqueRoom('sdp-big');
	const bystander = await client({ name: 'bystander' });
	await bystander.join(room, 'Bystander');
	const c = await client({ name: 'hostile' });
	await c.join(room, 'Hostile');
	const h0 = await healthz(srv);

	const lines = goodLines();
	lines.splice(lineOf(lines, (l) => l === 'a=mid:0'), 0, 'a=x-hostile:' + 'A'.repeat(100 * 1024));
	const text = sdpText(lines);
	assert.ok(text.length > 100 * 1024);
	c.send({ type: 'offer', pc: 'pub', id: 1, sdp: text });
	const e = await c.next('error', 10000);
	assertError(e, 'too_large', undefined, '100 KiB line:');
	const closed = await c.waitClose(10000);
	assert.equal(closed.code, 1009, `close code ${JSON.stringify(closed)}`);

	const left = await bystander.next((m) => m.type === 'participant' && m.event === 'left' && m.participant.id === c.pid, 10000);
	assert.ok(left);
	const h1 = await healthz(srv);
	assert.equal(h1.signaling.too_large - h0.signaling.too_large, 1, 'signaling.too_large');
	assert.equal(h1.media.sdp_rejected, h0.media.sdp_rejected, 'never reached the media worker');
	await stillServes(srv, client, bystander, room, 'too_large');
});

serverTest('raised frame limit (max_frame_bytes 262144): a 100 KiB line and 1,000 full m-lines are refused by size, counted', {
	timeout: 60000,
	config: { server: { max_frame_bytes: 262144 } },
}, async ({ srv, client }) => {
	const room = uniqueRoom('sdp-raised');
	const c = await client({ name: 'hostile' });
	await c.join(room, 'Hostile');
	const h0 = await healthz(srv);

	// one 100 KiB attribute line: no longer too_large as a frame, but over
	// media.max_sdp_bytes (64 KiB, also the SDP parser's own cap), so the
	// signaling thread refuses it before any parsing
	const lines = goodLines();
	const at = lineOf(lines, (l) => l === 'a=mid:0') + 1;
	lines.splice(at - 1, 0, 'a=x-hostile:' + 'A'.repeat(100 * 1024));
	const r1 = await offer(c, sdpText(lines), '100 KiB line, raised frame limit');
	assertError(r1, 'bad_request', r1.id, '100 KiB line, raised frame limit:');
	assert.match(r1.message, /SDP larger than 65536 bytes/);
	await c.barrier();

	// 1,000 m-lines, each with its codec (about 115 KB), one BUNDLE group
	// naming them all: refused the same way
	const big = [...sessionLines({ bundle: Array.from({ length: 1000 }, (_, i) => String(i)) }), ...audioSection('0')];
	for (let i = 1; i < 1000; i++) {
		big.push('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', `a=mid:${i}`, 'a=sendonly', 'a=rtcp-mux',
			'a=rtpmap:111 opus/48000/2');
	}
	const bigText = sdpText(big);
	assert.ok(bigText.length > 65536 && bigText.length < 262144, `${bigText.length} bytes`);
	const r2 = await offer(c, bigText, '1,000 full m-lines, raised frame limit');
	assertError(r2, 'bad_request', r2.id, '1,000 full m-lines:');
	assert.match(r2.message, /SDP larger than 65536 bytes/);
	await c.barrier();

	const h1 = await healthz(srv);
	assert.ok(h1.signaling.protocol_errors - h0.signaling.protocol_errors >= 2, 'signaling.protocol_errors');
	assert.equal(h1.signaling.too_large, h0.signaling.too_large, 'nothing was too_large');
	assert.equal(h1.media.sdp_rejected, h0.media.sdp_rejected, 'never reached the media worker');
	await stillServes(srv, client, c, room, 'raised frame limit');
});

serverTest('sub answers: wrong rev → conflict, malformed answer → bad_request naming the line; counted', { timeout: 60000 }, async ({ srv, client }) => {
	// In an echo room the server offers `sub` (rev 1) as soon as the pub
	// offer's tracks are known; no ICE ever completes (the candidate in the
	// captured offer is a closed 127.0.0.1 port), which is fine for signaling.
	const room = uniqueRoom('echo-sdp');
	const c = await client({ name: 'echoer' });
	await c.join(room, 'Echoer');
	const h0 = await healthz(srv);
	const ans = await offer(c, CHROMIUM_OFFER, 'captured Chromium offer', 20000);
	assert.equal(ans.type, 'answer', JSON.stringify(ans).slice(0, 300));
	const sub = await c.next((m) => m.type === 'offer' && m.pc === 'sub', 20000);
	assert.equal(sub.rev, 1);

	// a rev that is not the outstanding one
	let r = await c.request({ type: 'answer', pc: 'sub', rev: 2, sdp: sdpText(goodLines()) }, 10000);
	assertError(r, 'conflict', r.id, 'answer rev 2 for offer rev 1:');
	assert.match(r.message, /rev 2/);
	r = await c.request({ type: 'answer', pc: 'sub', rev: 4294967295, sdp: sdpText(goodLines()) }, 10000);
	assertError(r, 'conflict', r.id, 'answer rev 2^32-1:');
	// the outstanding rev with a malformed answer: named line, rev stays open
	const bad = sdpText(goodLines()).replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96');
	const badLine = lineOf(goodLines(), (l) => l === 'a=rtpmap:96 VP8/90000');
	r = await c.request({ type: 'answer', pc: 'sub', rev: 1, sdp: bad }, 10000);
	assertError(r, 'bad_request', r.id, 'malformed answer:');
	assert.match(r.message, new RegExp(`^SDP line ${badLine}: bad rtpmap`));
	// an answer without BUNDLE
	r = await c.request({ type: 'answer', pc: 'sub', rev: 1, sdp: sdpText(goodLines({ bundle: null })) }, 10000);
	assertError(r, 'bad_request', r.id, 'answer without BUNDLE:');
	assert.match(r.message, /BUNDLE/);
	await c.barrier();

	const h1 = await waitFor(async () => {
		const h = await healthz(srv);
		return h.media.sdp_rejected - h0.media.sdp_rejected >= 4 ? h : null;
	}, 5000, 'media.sdp_rejected to grow by 4');
	assert.equal(h1.media.sdp_rejected - h0.media.sdp_rejected, 4);
	srv.assertAlive('after the sub answers');
	const other = await client({ name: 'after' });
	await other.join(uniqueRoom('after'), 'After');
	const ack = await other.request({ type: 'chat', text: 'still here' }, 10000);
	assert.equal(ack.type, 'ack');
});
