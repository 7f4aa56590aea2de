// group.js: one participant of the group-call test (see group.html).
//
// window.G: { ready, fatal, you, ... }; G.snapshot() (JSON-able, see below),
// G.leave(). All times are Date.now() epoch ms.
//
// Receive stats are kept per remote participant and kind: every inbound-rtp
// report of `sub` is attributed to a participant through the msid of its
// m-section (matched by the report's `mid`, cross-checked against the
// `trackIdentifier` of the ontrack events, whose stream id is the msid's).
'use strict';

const q = new URLSearchParams(location.search);
const OPT = {
	ws: q.get('ws'),
	room: q.get('room'),
	display: q.get('display') || 'e2e-group',
	w: Number(q.get('w') || 320),
	h: Number(q.get('h') || 240),
	fps: Number(q.get('fps') || 15),
};

const logLines = [];
const log = (s) => { logLines.push(`${Date.now()} ${s}`); console.log(`[${OPT.display}] ${s}`); };

const G = window.G = {
	ready: false, fatal: null, t_start: Date.now(),
	per: {},              // pid -> kind -> stats
	mappingProblems: [],
	firstMediaSent: null,
};

const client = new ParleyClient({
	ws: OPT.ws, log,
	onFatal: (e) => { if (!G.fatal) G.fatal = String(e && e.stack || e); },
});
G.client = client;

/* Show every received video (not needed for decoding, but keeps the
   receivers as a real page would use them). */
client.listeners.push((m) => {
	if (m.type !== '_ontrack' || m.kind !== 'video') return;
	const v = document.createElement('video');
	v.autoplay = true; v.muted = true; v.playsInline = true;
	v.srcObject = new MediaStream([m.trackObj]);
	v.dataset.stream = m.streams.join(',');
	document.getElementById('remotes').appendChild(v);
});

async function pollStats() {
	const now = Date.now();
	const pub = client.pcs.pub;
	if (pub && G.firstMediaSent === null) {
		const st = await pub.pc.getStats();
		st.forEach((r) => {
			if (r.type === 'outbound-rtp' && r.kind === 'video' && r.packetsSent > 0 && G.firstMediaSent === null) G.firstMediaSent = now;
		});
	}
	const sub = client.pcs.sub;
	if (!sub) return;
	const media = client.subMedia();
	const byMid = new Map(media.map((x) => [x.mid, x]));
	const byTrack = new Map(client.ontrack.map((x) => [x.track, x]));
	const st = await sub.pc.getStats();
	const seen = {};
	st.forEach((r) => {
		if (r.type !== 'inbound-rtp') return;
		const m = byMid.get(r.mid);
		const ot = byTrack.get(r.trackIdentifier);
		const pid = (m && m.msid && m.msid.stream) || (ot && ot.streams[0]) || `?mid=${r.mid}`;
		if (ot && m && m.msid && ot.streams[0] !== m.msid.stream) {
			const p = `mid ${r.mid}: msid stream ${m.msid.stream} but ontrack streams ${ot.streams}`;
			if (!G.mappingProblems.includes(p)) G.mappingProblems.push(p);
		}
		const rec = {
			mid: r.mid, ssrc: r.ssrc, trackIdentifier: r.trackIdentifier, msidTrack: m && m.msid ? m.msid.track : null,
			active: !!(m && m.port !== 0),
			packetsReceived: r.packetsReceived || 0, bytesReceived: r.bytesReceived || 0, packetsLost: r.packetsLost || 0,
			framesDecoded: r.framesDecoded, framesPerSecond: r.framesPerSecond,
			frameWidth: r.frameWidth, frameHeight: r.frameHeight, nackCount: r.nackCount, pliCount: r.pliCount,
			codec: st.get(r.codecId)?.mimeType,
		};
		// One report per pid and kind; should there be more (an m-line
		// reused), keep the one that received most.
		const k = `${pid}/${r.kind}`;
		if (seen[k] && seen[k].packetsReceived >= rec.packetsReceived) return;
		seen[k] = rec;
		const per = (G.per[pid] ||= {});
		const old = per[r.kind];
		rec.t_first = old ? old.t_first : null;
		const got = r.kind === 'video' ? rec.framesDecoded > 0 : rec.packetsReceived > 0;
		if (got && rec.t_first === null) {
			rec.t_first = now;
			log(`first ${r.kind} from ${pid} (${r.kind === 'video' ? 'framesDecoded' : 'packetsReceived'} > 0)`);
		}
		rec.t = now;
		per[r.kind] = rec;
	});
}

async function statsLoop() {
	for (;;) {
		try {
			await pollStats();
		} catch (e) {
			log(`stats: ${e}`);
		}
		// fast until we saw media from everyone announced, then slower
		const pids = G.snapshotOthers ? G.snapshotOthers() : [];
		const allSeen = pids.length && pids.every((p) => G.per[p]?.video?.t_first && G.per[p]?.audio?.t_first);
		await new Promise((r) => setTimeout(r, allSeen ? 300 : 100));
		if (client.closed) return;
	}
}

/** Participant ids this page has been told about (joined reply + participant events), minus the ones that left. */
G.snapshotOthers = () => {
	const s = new Set((client.joined?.participants || []).map((p) => p.id));
	for (const e of client.events) {
		if (e.type !== 'participant') continue;
		if (e.event === 'joined') s.add(e.participant.id);
		if (e.event === 'left') s.delete(e.participant.id);
	}
	return [...s];
};

/** What pub is sending on its video: frame rate and size, and why it is limited, if it is. */
async function pubVideo() {
	const pub = client.pcs.pub;
	if (!pub) return null;
	const st = await pub.pc.getStats();
	let out = null;
	st.forEach((r) => {
		if (r.type === 'outbound-rtp' && r.kind === 'video') {
			out = { framesEncoded: r.framesEncoded, framesPerSecond: r.framesPerSecond, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
				qualityLimitationReason: r.qualityLimitationReason, targetBitrate: r.targetBitrate, pliCount: r.pliCount, nackCount: r.nackCount,
				keyFramesEncoded: r.keyFramesEncoded, encoder: r.encoderImplementation };
		}
	});
	return out;
}

G.snapshot = async () => {
	const strip = (o) => ({ rev: o.rev, t: o.t, t_answered: o.t_answered, media: o.media });
	return {
		display: OPT.display, you: client.you, ready: G.ready, fatal: G.fatal, t_start: G.t_start,
		t_joined: G.t_joined, t_published: G.t_published, t_first_media_sent: G.firstMediaSent,
		t_pub_connected: client.t_pub_connected ?? null, t_sub_connected: client.t_sub_connected ?? null,
		others: G.snapshotOthers(),
		joined_participants: (client.joined?.participants || []).map((p) => p.id),
		per: G.per, mapping_problems: G.mappingProblems,
		events: client.events, errors: client.errors, candidate_errors: client.candidateErrors,
		ontrack: client.ontrack, sub_offers: client.subOffers.map(strip),
		sub_media: client.subMedia(),
		pub_state: client.pcs.pub?.pc.connectionState ?? null, sub_state: client.pcs.sub?.pc.connectionState ?? null,
		sub_signaling: client.pcs.sub?.pc.signalingState ?? null,
		pub_video: await pubVideo().catch(() => null),
		pub_transport: await client.transportInfo('pub').catch(() => null),
		sub_transport: await client.transportInfo('sub').catch(() => null),
		now: Date.now(),
	};
};

G.sdps = () => ({
	pub_offer: client.pubOfferSdp, pub_answer: client.pubAnswerSdp,
	sub: client.subOffers.map((o) => ({ rev: o.rev, offer: o.sdp, answer: o.answerSdp })),
});

G.log = () => logLines.join('\n');

G.leave = () => {
	G.t_leave = client.leave();
	return G.t_leave;
};

async function main() {
	if (!OPT.ws || !OPT.room) throw new Error('group.html needs ?ws=...&room=...');
	G.ws_protocol = await client.connect();
	const j = await client.join(OPT.room, OPT.display);
	G.t_joined = Date.now();
	log(`joined ${OPT.room} as ${j.you.id}; others: ${(j.participants || []).map((p) => p.id).join(',') || '-'}`);
	const stream = await navigator.mediaDevices.getUserMedia({
		audio: true,
		video: { width: OPT.w, height: OPT.h, frameRate: OPT.fps },
	});
	await client.publish(stream);
	G.t_published = Date.now();
	G.ready = true;
	log('published');
	statsLoop();
}

main().catch((e) => { if (!G.fatal) G.fatal = String(e && e.stack || e); log(`main: ${e}`); });
