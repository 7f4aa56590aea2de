// loss.js: one participant of the packet-loss test (see loss.html).
'use strict';

const q = new URLSearchParams(location.search);
const OPT = {
	ws: q.get('ws'),
	room: q.get('room'),
	display: q.get('display') || 'e2e-loss',
	w: Number(q.get('w') || 320),
	h: Number(q.get('h') || 240),
	fps: Number(q.get('fps') || 15),
	cand: q.get('cand') ? q.get('cand').split(',') : null,
	nortx: q.get('nortx') ? q.get('nortx').split(',') : [],
};

const logLines = [];
const log = (s) => { logLines.push(`${Date.now()} ${s}`); console.log(`[${OPT.display}] ${s}`); };

/* ParleyClient signals only 127.0.0.1 candidates; the participant behind the
   lossy link has no loopback path to the server, so with cand= exactly the
   candidates on those addresses are signaled instead (and no other).
   nortx= lists participants whose video this page receives without RTX:
   before each sub answer, their video transceivers get codec preferences
   without rtx, so the answer refuses RTX there and the server must resend
   lost packets as they were, on the media SSRC. */
class LossClient extends ParleyClient {
	makePc(name) {
		const e = super.makePc(name);
		if (name === 'sub' && OPT.nortx.length) {
			const pc = e.pc;
			const createAnswer = pc.createAnswer.bind(pc);
			pc.createAnswer = async (...a) => {
				const media = sdpMedia(pc.remoteDescription.sdp);
				for (const t of pc.getTransceivers()) {
					const m = media.find((x) => x.mid === t.mid);
					if (!m || m.kind !== 'video' || !m.msid || !OPT.nortx.includes(m.msid.stream)) continue;
					const codecs = RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => !/\/rtx$/i.test(c.mimeType));
					t.setCodecPreferences(codecs);
				}
				return createAnswer(...a);
			};
		}
		if (!OPT.cand) return e;
		const orig = e.pc.onicecandidate;
		e.pc.onicecandidate = (x) => {
			if (this.closed || !x.candidate || !x.candidate.candidate) return orig(x);
			const c = x.candidate.candidate;
			const f = c.split(' ');
			if (f.length > 5 && OPT.cand.includes(f[4]) && f[2].toLowerCase() === 'udp') {
				this.localCandidates[name].push(c);
				this.send({ type: 'candidate', pc: name,
					candidate: { candidate: c, sdpMid: x.candidate.sdpMid, sdpMLineIndex: x.candidate.sdpMLineIndex } });
			} else {
				this.dropped.push(c);
			}
		};
		return e;
	}
}

const L = window.L = { ready: false, fatal: null, t_start: Date.now() };

const client = new LossClient({
	ws: OPT.ws, log,
	onFatal: (e) => { if (!L.fatal) L.fatal = String(e && e.stack || e); },
});
L.client = client;

client.listeners.push((m) => {
	if (m.type !== '_ontrack' || m.kind !== 'video') return;
	const v = document.createElement('video');
	v.autoplay = true; v.muted = true; v.playsInline = true;
	v.srcObject = new MediaStream([m.trackObj]);
	document.getElementById('remotes').appendChild(v);
});

function plain(r) {
	const o = {};
	for (const k of Object.keys(r)) o[k] = r[k];
	return o;
}

async function pcStats(name) {
	const e = client.pcs[name];
	if (!e) return null;
	const st = await e.pc.getStats();
	const out = { inbound: [], outbound: [], remote_inbound: [], pair: null, state: e.pc.connectionState };
	const media = name === 'sub' ? client.subMedia() : [];
	const byMid = new Map(media.map((x) => [x.mid, x]));
	st.forEach((r) => {
		if (r.type === 'inbound-rtp') {
			const m = byMid.get(r.mid);
			out.inbound.push({ ...plain(r), participant: m && m.msid ? m.msid.stream : null,
				active: !!(m && m.port !== 0 && m.dir !== 'inactive'), codec: st.get(r.codecId)?.mimeType });
		} else if (r.type === 'outbound-rtp') {
			out.outbound.push({ ...plain(r), codec: st.get(r.codecId)?.mimeType });
		} else if (r.type === 'remote-inbound-rtp') {
			out.remote_inbound.push(plain(r));
		} else if (r.type === 'transport') {
			const pair = r.selectedCandidatePairId && st.get(r.selectedCandidatePairId);
			if (pair) {
				const l = st.get(pair.localCandidateId), rm = st.get(pair.remoteCandidateId);
				out.pair = `${l.address}:${l.port}/${l.protocol} <-> ${rm.address}:${rm.port}/${rm.protocol}`;
				out.rtt = pair.currentRoundTripTime;
			}
		}
	});
	return out;
}

L.stats = async () => ({
	t: Date.now(), you: client.you, fatal: L.fatal, ready: L.ready,
	pub: await pcStats('pub'), sub: await pcStats('sub'),
	errors: client.errors, dropped_candidates: client.dropped, local_candidates: client.localCandidates,
	sub_revs: client.subOffers.map((o) => ({ rev: o.rev, answered: !!o.t_answered })),
});

L.log = () => logLines.join('\n');
L.sdps = () => ({
	pub_offer: client.pubOfferSdp, pub_answer: client.pubAnswerSdp,
	sub: client.subOffers.map((o) => ({ rev: o.rev, offer: o.sdp, answer: o.answerSdp })),
});
L.leave = () => client.leave();

async function main() {
	if (!OPT.ws || !OPT.room) throw new Error('loss.html needs ?ws=...&room=...');
	await client.connect();
	const j = await client.join(OPT.room, OPT.display);
	log(`joined ${OPT.room} as ${j.you.id}; others: ${(j.participants || []).map((p) => p.id).join(',') || '-'}`);
	const stream = await navigator.mediaDevices.getUserMedia({
		audio: true,
		video: { width: OPT.w, height: OPT.h, frameRate: OPT.fps },
	});
	await client.publish(stream, { opusNack: true });
	L.ready = true;
	log('published');
}

main().catch((e) => { if (!L.fatal) L.fatal = String(e && e.stack || e); log(`main: ${e}`); });
