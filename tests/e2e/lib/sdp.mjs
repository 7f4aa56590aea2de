// tests/e2e/lib/sdp.mjs: just enough SDP reading for the e2e assertions
// (the real parser is codecs/sdp; this one only splits lines).

/** { session: [lines], media: [{ kind, port, proto, fmts, lines, rtpmap: {pt: 'name/rate[/ch]'}, fmtp: {pt: str}, fb: {pt: [str]} }] } */
export function splitSdp(sdp) {
	const lines = sdp.split(/\r?\n/).filter((l) => l.length);
	const out = { session: [], media: [] };
	let cur = null;
	for (const l of lines) {
		if (l.startsWith('m=')) {
			const [kind, port, proto, ...fmts] = l.slice(2).split(' ');
			cur = { kind, port: Number(port), proto, fmts, lines: [], rtpmap: {}, fmtp: {}, fb: {} };
			out.media.push(cur);
			continue;
		}
		(cur ? cur.lines : out.session).push(l);
		if (!cur) continue;
		let m;
		if ((m = /^a=rtpmap:(\d+) (.+)$/.exec(l))) cur.rtpmap[m[1]] = m[2];
		else if ((m = /^a=fmtp:(\d+) (.+)$/.exec(l))) cur.fmtp[m[1]] = m[2];
		else if ((m = /^a=rtcp-fb:(\d+|\*) (.+)$/.exec(l))) (cur.fb[m[1]] ||= []).push(m[2]);
	}
	return out;
}

export const attr = (sec, name) => sec.lines.filter((l) => l.startsWith(`a=${name}`));

/**
 * Problems (strings) with a server SDP against shared/PROTOCOL.md: BUNDLE,
 * rtcp-mux, sha-256 fingerprint, Opus/48000/2 with useinbandfec=1, VP8/90000
 * with nack, nack pli, ccm fir, transport-cc and an RTX format, and nothing
 * but Opus / VP8 (+ its RTX) in active m-sections.
 */
export function serverSdpProblems(sdp) {
	const p = [];
	const s = splitSdp(sdp);
	const all = [...s.session, ...s.media.flatMap((m) => m.lines)];
	if (!s.session.some((l) => l.startsWith('a=group:BUNDLE '))) p.push('no a=group:BUNDLE');
	if (!all.some((l) => /^a=fingerprint:sha-256 /i.test(l))) p.push('no sha-256 fingerprint');
	for (const m of s.media) {
		if (m.port === 0) continue;
		const tag = `m=${m.kind} (mid ${(attr(m, 'mid:')[0] || '').slice(6)})`;
		if (!attr(m, 'rtcp-mux').length) p.push(`${tag}: no a=rtcp-mux`);
		const names = Object.fromEntries(m.fmts.map((pt) => [pt, (m.rtpmap[pt] || '').toLowerCase()]));
		if (m.kind === 'audio') {
			const opus = m.fmts.filter((pt) => names[pt] === 'opus/48000/2');
			if (!opus.length) p.push(`${tag}: no opus/48000/2`);
			for (const pt of opus) if (!/(^|;)\s*useinbandfec=1/.test(m.fmtp[pt] || '')) p.push(`${tag}: opus ${pt} without useinbandfec=1`);
			const other = m.fmts.filter((pt) => names[pt] !== 'opus/48000/2');
			if (other.length) p.push(`${tag}: formats besides Opus: ${other.map((pt) => `${pt} ${names[pt]}`).join(', ')}`);
		} else if (m.kind === 'video') {
			const vp8 = m.fmts.filter((pt) => names[pt] === 'vp8/90000');
			if (!vp8.length) p.push(`${tag}: no VP8/90000`);
			for (const pt of vp8) {
				const fb = m.fb[pt] || [];
				for (const want of ['nack', 'nack pli', 'ccm fir', 'transport-cc']) {
					if (!fb.includes(want)) p.push(`${tag}: VP8 ${pt} lacks rtcp-fb ${want}`);
				}
			}
			const rtx = m.fmts.filter((pt) => names[pt] === 'rtx/90000' && vp8.some((v) => new RegExp(`(^|;)\\s*apt=${v}(;|$)`).test(m.fmtp[pt] || '')));
			if (vp8.length && !rtx.length) p.push(`${tag}: no RTX format for VP8`);
			const other = m.fmts.filter((pt) => !vp8.includes(pt) && !rtx.includes(pt));
			if (other.length) p.push(`${tag}: formats besides VP8 + RTX: ${other.map((pt) => `${pt} ${names[pt]}`).join(', ')}`);
		}
	}
	return p;
}
