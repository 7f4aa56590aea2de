// ice_restart.js: Chromium side of the ICE-restart test (see ice_restart.html).
//
// Uses ParleyClient (parley-client.js) for signaling, `pub` (publish) and the
// `sub` offers (every rev answered in order). On top of it:
//   - a sampler: every SAMPLE_MS, both connections' getStats boiled down to
//     what the test judges (sub inbound video framesDecoded, audio
//     packetsReceived, pub packetsSent, iceConnectionState, the selected
//     pair with the ufrags of its candidates); window.T.samples;
//   - T.restart(method): restarts ICE on `pub` (pc.restartIce() or
//     createOffer({iceRestart: true})), sends the new offer, applies the
//     server's answer, then waits until the server's next `sub` offer (the
//     restart of `sub`) has been answered; resolves with a record of ufrags,
//     revs and times (Date.now() epoch ms, comparable with the runner's).
// window.T = { ready, fatal, you, samples, restart(), info(), sdps(), log(), hangUp() }.
'use strict';

const q = new URLSearchParams(location.search);
const OPT = {
	ws: q.get('ws'),
	room: q.get('room'),
	display: q.get('display') || 'e2e-ice-restart',
	setupTimeoutMs: Number(q.get('setup_timeout') || 60000),
	stepTimeoutMs: Number(q.get('step_timeout') || 20000),
};
const SAMPLE_MS = 100;

const logLines = [];
const log = (s) => { logLines.push(`${Date.now()} ${s}`); console.log(s); };

const T = window.T = {
	ready: false, fatal: null, t_start: Date.now(), samples: [], ice_states: [], sampling: false, restarts: [],
};

const client = new ParleyClient({
	ws: OPT.ws, log,
	onFatal: (e) => { if (!T.fatal) T.fatal = String(e && e.stack || e); },
});
T.client = client;

/** The first a=ice-ufrag of an SDP (session or media level), or null. */
const ufrag = (sdp) => (sdp && /^a=ice-ufrag:(\S+)/m.exec(sdp) || [])[1] || null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms, what) {
	const end = Date.now() + ms;
	for (;;) {
		if (T.fatal) throw new Error(`while waiting for ${what}: ${T.fatal}`);
		const v = cond();
		if (v) return v;
		if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
		await sleep(25);
	}
}

/* iceConnectionState transitions of both connections (ParleyClient only
   watches connectionState). */
const hooked = new Set();
function hook(name) {
	const e = client.pcs[name];
	if (!e || hooked.has(name)) return;
	hooked.add(name);
	const rec = () => {
		T.ice_states.push({ t: Date.now(), pc: name, ice: e.pc.iceConnectionState, conn: e.pc.connectionState });
		log(`${name}: ice ${e.pc.iceConnectionState}`);
	};
	e.pc.addEventListener('iceconnectionstatechange', rec);
	rec();
}
client.listeners.push((m) => {
	hook('pub');
	hook('sub');
	if (m.type === '_ontrack' && m.kind === 'video') {
		document.getElementById('remote').srcObject = m.streamObjs[0] || new MediaStream([m.trackObj]);
	}
});

/* ---------------- stats ---------------- */

async function statsOf(name) {
	const e = client.pcs[name];
	if (!e) return null;
	const st = await e.pc.getStats();
	const o = { ice: e.pc.iceConnectionState, conn: e.pc.connectionState, v: {}, a: {} };
	st.forEach((r) => {
		if (r.type === 'inbound-rtp') {
			const x = r.kind === 'video' ? o.v : o.a;
			x.pr = (x.pr || 0) + (r.packetsReceived || 0);
			x.lost = (x.lost || 0) + (r.packetsLost || 0);
			if (r.kind === 'video') {
				x.fd = (x.fd || 0) + (r.framesDecoded || 0);
				x.kf = (x.kf || 0) + (r.keyFramesDecoded || 0);
				x.nack = (x.nack || 0) + (r.nackCount || 0);
				x.pli = (x.pli || 0) + (r.pliCount || 0);
				x.fw = r.frameWidth; x.fh = r.frameHeight;
			}
			x.codec = st.get(r.codecId)?.mimeType;
		}
		if (r.type === 'outbound-rtp') {
			const x = r.kind === 'video' ? o.v : o.a;
			x.ps = (x.ps || 0) + (r.packetsSent || 0);
		}
		if (r.type === 'transport') {
			o.dtls = r.dtlsState;
			o.cipher = r.srtpCipher;
			o.tice = r.iceState;
			o.tlu = r.iceLocalUsernameFragment;
			o.changes = r.selectedCandidatePairChanges;
			const pair = r.selectedCandidatePairId && st.get(r.selectedCandidatePairId);
			if (pair) {
				const l = st.get(pair.localCandidateId), rm = st.get(pair.remoteCandidateId);
				o.pairId = pair.id;
				o.pairState = pair.state;
				o.pair = `${l.address}:${l.port}/${l.protocol} <-> ${rm.address}:${rm.port}/${rm.protocol}`;
				o.lu = l.usernameFragment ?? null;
				o.ru = rm.usernameFragment ?? null;
			}
		}
	});
	return o;
}

async function sampler() {
	T.sampling = true;
	while (!client.closed) {
		const t = Date.now();
		try {
			const [pub, sub] = await Promise.all([statsOf('pub'), statsOf('sub')]);
			T.samples.push({ t, pub, sub });
		} catch (e) {
			log(`stats: ${e}`);
		}
		await sleep(Math.max(0, SAMPLE_MS - (Date.now() - t)));
	}
	T.sampling = false;
}

/* ---------------- the restart ---------------- */

T.restart = async (method = 'restartIce') => {
	const pc = client.pcs.pub.pc;
	const r = T.restartRec = { method };
	const lastSub = client.subOffers[client.subOffers.length - 1];
	// the previous negotiation of pub: the first one, or the previous restart
	const prev = T.restarts.length ? T.restarts[T.restarts.length - 1] : { pub_offer_sdp: client.pubOfferSdp, pub_answer_sdp: client.pubAnswerSdp };
	r.pub_offer_ufrag_before = ufrag(prev.pub_offer_sdp);
	r.pub_answer_ufrag_before = ufrag(prev.pub_answer_sdp);
	r.pub_answer_ufrag_first = ufrag(client.pubAnswerSdp);
	T.restarts.push(r);
	r.sub_rev_before = lastSub.rev;
	r.sub_offer_ufrag_before = ufrag(lastSub.sdp);
	r.sub_answer_ufrag_before = ufrag(lastSub.answerSdp);
	r.n_sub_offers_before = client.subOffers.length;
	r.t0 = Date.now();
	log(`restart: ${method}`);
	let offer;
	if (method === 'restartIce') {
		pc.restartIce();
		offer = await pc.createOffer();
	} else {
		offer = await pc.createOffer({ iceRestart: true });
	}
	await pc.setLocalDescription(offer);
	r.pub_offer_sdp = pc.localDescription.sdp;
	r.pub_offer_ufrag = ufrag(r.pub_offer_sdp);
	// Sent in the same microtask run as setLocalDescription's completion:
	// Chromium's new candidates (onicecandidate tasks) follow the offer.
	const reply = client.request({ type: 'offer', pc: 'pub', sdp: r.pub_offer_sdp }, 'pub offer (ICE restart)', OPT.stepTimeoutMs);
	r.t_offer_sent = Date.now();
	let ans;
	try {
		ans = await reply;
	} catch (e) {
		r.error = String(e.message || e);
		throw e;
	}
	r.t_answer = Date.now();
	r.pub_answer_reply = { type: ans.type, pc: ans.pc, id: ans.id };
	r.pub_answer_sdp = ans.sdp;
	r.pub_answer_ufrag = ufrag(ans.sdp);
	log(`restart: pub answer (ufrag ${r.pub_answer_ufrag_before} -> ${r.pub_answer_ufrag})`);
	if (ans.type !== 'answer' || ans.pc !== 'pub') throw new Error(`pub restart offer: unexpected reply ${JSON.stringify(ans).slice(0, 300)}`);
	// queued on the pc's chain right away: later trickled candidates come after it
	await client.onPc('pub', async () => {
		await pc.setRemoteDescription({ type: 'answer', sdp: ans.sdp });
		r.t_answer_applied = Date.now();
		await client.flushPending('pub');
	});
	if (T.fatal) throw new Error(T.fatal);

	// The server restarts `sub` too: a new offer (higher rev, new ufrag), which
	// ParleyClient answers; wait for the first such offer to be answered.
	const restarted = () => client.subOffers.slice(r.n_sub_offers_before)
		.find((o) => ufrag(o.sdp) !== r.sub_offer_ufrag_before);
	let so = null;
	try {
		so = await until(() => { const o = restarted(); return o && o.t_answered ? o : null; }, OPT.stepTimeoutMs,
			`a sub offer with new ICE credentials after the restart (have revs ${client.subOffers.map((o) => o.rev)})`);
	} catch (e) {
		r.sub_error = String(e.message || e);
	}
	r.new_sub_offers = client.subOffers.slice(r.n_sub_offers_before).map((o) => ({
		rev: o.rev, t: o.t, t_answered: o.t_answered, ufrag: ufrag(o.sdp), answer_ufrag: ufrag(o.answerSdp),
	}));
	if (so) {
		r.sub_rev = so.rev;
		r.t_sub_offer = so.t;
		r.t_sub_answered = so.t_answered;
		r.sub_offer_ufrag = ufrag(so.sdp);
		r.sub_answer_ufrag = ufrag(so.answerSdp);
		r.sub_offer_sdp = so.sdp;
		r.sub_answer_sdp = so.answerSdp;
		log(`restart: sub rev ${r.sub_rev_before} -> ${so.rev} (ufrag ${r.sub_offer_ufrag_before} -> ${r.sub_offer_ufrag}), answered`);
	}
	return Object.fromEntries(Object.entries(r).filter(([k]) => !k.endsWith('_sdp')));
};

T.info = () => ({
	you: client.you, ready: T.ready, fatal: T.fatal, ws_protocol: T.ws_protocol,
	t_start: T.t_start, t_joined: T.t_joined, t_published: T.t_published,
	t_pub_connected: client.t_pub_connected ?? null, t_sub_connected: client.t_sub_connected ?? null,
	pub_offer_ufrag: ufrag(client.pubOfferSdp), pub_answer_ufrag: ufrag(client.pubAnswerSdp),
	sub_offers: client.subOffers.map((o) => ({ rev: o.rev, t: o.t, t_answered: o.t_answered, ufrag: ufrag(o.sdp), answer_ufrag: ufrag(o.answerSdp) })),
	sub_media: client.subMedia(),
	ontrack: client.ontrack,
	ice_states: T.ice_states,
	errors: client.errors, candidate_errors: client.candidateErrors,
	dropped_candidates: client.dropped.length,
	local_candidates: client.localCandidates,
	events: client.events.map((e) => e.type + (e.event ? '/' + e.event : '')),
	n_samples: T.samples.length,
	now: Date.now(),
});

T.sdps = () => ({
	pub_offer: client.pubOfferSdp, pub_answer: client.pubAnswerSdp,
	restarts: T.restarts.map((r) => ({ method: r.method, pub_offer: r.pub_offer_sdp, pub_answer: r.pub_answer_sdp })),
	sub: client.subOffers.map((o) => ({ rev: o.rev, offer: o.sdp, answer: o.answerSdp })),
});

T.log = () => logLines.join('\n');

T.hangUp = () => { if (!client.closed) T.t_leave = client.leave(); return T.t_leave; };

/* ---------------- main ---------------- */

async function main() {
	if (!OPT.ws || !OPT.room) throw new Error('ice_restart.html needs ?ws=...&room=...');
	T.ws_protocol = await client.connect();
	const j = await client.join(OPT.room, OPT.display);
	T.t_joined = Date.now();
	T.you = j.you;
	log(`joined ${OPT.room} as ${j.you.id}`);
	const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
	await client.publish(stream);
	T.t_published = Date.now();
	hook('pub');
	log('published');
	sampler();
	// ready: the echo decodes (video) and arrives (audio) on sub
	await until(() => {
		const s = T.samples[T.samples.length - 1];
		return s && s.sub && s.sub.v.fd > 0 && s.sub.a.pr > 0;
	}, OPT.setupTimeoutMs, 'the echo on sub (video framesDecoded > 0 and audio packetsReceived > 0)');
	T.t_ready = Date.now();
	T.ready = true;
	log('echo flowing');
}

main().catch((e) => { if (!T.fatal) T.fatal = String(e && e.stack || e); log(`main: ${e}`); });
