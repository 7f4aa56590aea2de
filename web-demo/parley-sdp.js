// parley-sdp.js: the SDP and ICE candidate text handling of the Parley SDK:
// reading the m-sections of an SDP and what a server `sub` offer forwards,
// keeping the BUNDLE tag's m-line in the bundle, Opus NACK in our offers,
// and the protocol message for a local candidate. Pure string logic, tested
// in Node (tests/web/sdk_unit.mjs); re-exported by parley.js.

/**
 * The m-sections of an SDP, in order:
 * [{ index, kind, port, mid, direction, msid: { stream, track } | null, ssrcs: [n] }].
 * `msid` comes from a=msid, or from a=ssrc:N msid:... when there is none.
 */
export function parseSdpMedia(sdp) {
	const out = [];
	let cur = null, sessionDir = null;
	for (const raw of String(sdp || '').split(/\r?\n/)) {
		const l = raw.trim();
		if (l.startsWith('m=')) {
			const [kind, port] = l.slice(2).split(' ');
			cur = { index: out.length, kind, port: Number(port), mid: null, direction: null, msid: null, ssrcs: [] };
			out.push(cur);
			continue;
		}
		let m;
		if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l))) {
			if (cur) cur.direction = m[1]; else sessionDir = m[1];
		}
		if (!cur) continue;
		if ((m = /^a=mid:(\S+)/.exec(l))) cur.mid = m[1];
		else if ((m = /^a=msid:(\S+)(?: (\S+))?/.exec(l))) cur.msid = { stream: m[1], track: m[2] || null };
		else if ((m = /^a=ssrc:(\d+) (\S+?)(?::(.*))?$/.exec(l))) {
			const ssrc = Number(m[1]);
			if (!cur.ssrcs.includes(ssrc)) cur.ssrcs.push(ssrc);
			if (m[2] === 'msid' && !cur.msid && m[3]) {
				const [stream, track] = m[3].trim().split(' ');
				cur.msid = { stream, track: track || null };
			}
		}
	}
	for (const x of out) if (!x.direction) x.direction = sessionDir || 'sendrecv';
	return out;
}

/**
 * What a server `sub` offer forwards: one entry per m-section,
 * { mid, kind, participantId, trackId, active }. An m-line is active when
 * its port is not 0, it sends (sendonly/sendrecv) and names a stream;
 * the stream id of its msid is the publisher's participant id and its
 * track id the server's track id (the one in `track` events).
 */
export function remoteTracksFromSdp(sdp) {
	return parseSdpMedia(sdp).map((m) => {
		const sending = m.port !== 0 && (m.direction === 'sendonly' || m.direction === 'sendrecv');
		const named = !!m.msid && m.msid.stream !== '-';
		return {
			mid: m.mid,
			kind: m.kind,
			participantId: named ? m.msid.stream : null,
			trackId: m.msid ? m.msid.track : null,
			active: sending && named,
			sending,
		};
	});
}

const TRANSPORT_ATTR_RE = /^a=(ice-ufrag|ice-pwd|fingerprint|setup):/;

/**
 * Keeps the BUNDLE-tagged m-line of a server `sub` offer in the bundle.
 *
 * A server ends a forwarded track by rejecting its m-line (port 0, out of
 * a=group:BUNDLE). When that m-line is the BUNDLE tag (the first one,
 * typically the first participant's audio), Chromium moves the bundle to a
 * new transport, which needs a new DTLS handshake the server does not do:
 * the sub connection stays `connecting` and nothing is received any more.
 * parleyd keeps the tag as `a=inactive` with its port since fc8b566; for a
 * server that does not (older parleyd builds did not), the tag's m-line is
 * rewritten here before the offer is applied: port 9, the bundle's
 * transport attributes, `a=inactive`, still first in the group. The answer
 * keeps it inactive, which the server accepts, and the server may later
 * reuse the mid for a new track as usual. Other rejected m-lines are left
 * alone (their rejection does not move the bundle). An offer that rejects
 * nothing bundled is returned unchanged.
 *
 * `bundled`: the mids bundled in the previous (rewritten) offer, tag first;
 * `transport`: the transport attribute lines of the previous offer (used
 * when no m-line of this one has any).
 * Returns { sdp, bundled: [mids], transport: [lines], changed }.
 */
export function keepEndedMlinesBundled(sdp, bundled = [], transport = []) {
	const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
	const lines = sdp.split(/\r?\n/);
	while (lines.length && lines[lines.length - 1] === '') lines.pop();
	const session = [];
	const sections = [];
	for (const l of lines) {
		if (l.startsWith('m=')) sections.push([l]);
		else if (sections.length) sections[sections.length - 1].push(l);
		else session.push(l);
	}
	const midOf = (sec) => { const l = sec.find((x) => x.startsWith('a=mid:')); return l ? l.slice(6).trim() : null; };
	const portOf = (sec) => Number(sec[0].split(' ')[1]);
	const sessionHas = session.some((l) => TRANSPORT_ATTR_RE.test(l));
	let tp = transport;
	const donor = sections.find((s) => portOf(s) !== 0 && s.some((l) => TRANSPORT_ATTR_RE.test(l)));
	if (donor) tp = donor.filter((l) => TRANSPORT_ATTR_RE.test(l));
	let changed = false;
	const tag = bundled.length ? bundled[0] : null;
	for (const sec of sections) {
		const mid = midOf(sec);
		if (portOf(sec) !== 0 || mid === null || mid !== tag) continue;
		if (!sessionHas && !tp.length) continue;
		const f = sec[0].split(' ');
		f[1] = '9';
		sec[0] = f.join(' ');
		for (let i = sec.length - 1; i > 0; i--) if (/^a=(sendrecv|sendonly|recvonly|inactive|bundle-only)$/.test(sec[i])) sec.splice(i, 1);
		const at = Math.max(1, sec.findIndex((l) => l.startsWith('c=')) + 1);
		sec.splice(at, 0, ...(sessionHas ? [] : tp.filter((l) => !sec.includes(l))), 'a=inactive');
		changed = true;
	}
	const mids = sections.filter((s) => portOf(s) !== 0 && midOf(s) !== null).map(midOf);
	const group = mids.length ? `a=group:BUNDLE ${mids.join(' ')}` : null;
	const gi = session.findIndex((l) => l.startsWith('a=group:BUNDLE'));
	if (changed) {
		if (gi >= 0) {
			if (group) session[gi] = group; else session.splice(gi, 1);
		} else if (group) {
			const ti = session.findIndex((l) => l.startsWith('t='));
			session.splice(ti >= 0 ? ti + 1 : session.length, 0, group);
		}
	}
	const out = [...session, ...sections.flat()].join(eol) + eol;
	// the group as the server wrote it (when nothing changed), tag first
	let order = mids;
	if (!changed && gi >= 0) order = session[gi].slice('a=group:BUNDLE'.length).trim().split(/\s+/).filter(Boolean);
	return { sdp: changed ? out : sdp, bundled: order, transport: tp, changed };
}

/**
 * The offer with NACK enabled for Opus: `a=rtcp-fb:<pt> nack` after each
 * opus rtpmap that has none.  Chromium does not offer audio NACK itself
 * but honours it once negotiated, so parleyd can repair the audio it
 * receives from us (docs/protocol.md, the server's answers).
 */
export function withOpusNack(sdp) {
	const lines = sdp.split('\r\n');
	const out = [];
	for (const line of lines) {
		out.push(line);
		const m = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
		if (m && !lines.includes(`a=rtcp-fb:${m[1]} nack`)) out.push(`a=rtcp-fb:${m[1]} nack`);
	}
	return out.join('\r\n');
}

/** The ICE ufrag of an SDP (the first one), or null. */
export function iceUfrag(sdp) {
	const m = /^a=ice-ufrag:(\S+)/m.exec(String(sdp || ''));
	return m ? m[1] : null;
}

/**
 * The protocol message for a local ICE candidate of connection `pc`
 * ('pub' | 'sub'), or null when it should not be sent. `cand` is an
 * RTCIceCandidate (or its JSON), or null at the end of gathering, which
 * becomes `candidate: null`. Chromium's per-generation end marker (an empty
 * candidate string) is skipped: the null that follows ends gathering. TCP
 * and mDNS (.local) candidates are skipped too: the server ignores them.
 */
export function candidateMessage(pc, cand) {
	if (cand === null || cand === undefined) return { type: 'candidate', pc, candidate: null };
	const line = typeof cand === 'string' ? cand : cand.candidate;
	if (!line) return null;
	const f = line.replace(/^a=/, '').split(' ');
	if (f.length > 4 && (f[2].toLowerCase() === 'tcp' || /\.local$/i.test(f[4]))) return null;
	return {
		type: 'candidate', pc,
		candidate: {
			candidate: line.replace(/^a=/, ''),
			sdpMid: cand.sdpMid ?? null,
			sdpMLineIndex: cand.sdpMLineIndex ?? null,
		},
	};
}
