// parley-stats.js: plain numbers out of RTCPeerConnection stats reports, and
// the rates and the quality level the demo page shows per tile. Pure logic,
// tested in Node (tests/web/sdk_unit.mjs); re-exported by parley.js.

/**
 * Plain numbers out of an RTCStatsReport (or any iterable of stats
 * objects): { inbound: [..], outbound: [..], remoteInbound: [..], rtt } where
 * rtt is the selected candidate pair's currentRoundTripTime in seconds.
 */
export function extractStats(report) {
	const out = { inbound: [], outbound: [], remoteInbound: [], rtt: null, timestamp: 0 };
	const all = [];
	if (report && typeof report.forEach === 'function') report.forEach((r) => all.push(r));
	else for (const r of report || []) all.push(r);
	const byId = new Map(all.map((r) => [r.id, r]));
	for (const r of all) {
		out.timestamp = Math.max(out.timestamp, r.timestamp || 0);
		if (r.type === 'inbound-rtp') {
			out.inbound.push({
				id: r.id, mid: r.mid ?? null, kind: r.kind, ssrc: r.ssrc, trackIdentifier: r.trackIdentifier,
				timestamp: r.timestamp, bytesReceived: r.bytesReceived || 0, packetsReceived: r.packetsReceived || 0,
				packetsLost: r.packetsLost || 0, framesDecoded: r.framesDecoded, framesPerSecond: r.framesPerSecond,
				frameWidth: r.frameWidth, frameHeight: r.frameHeight, audioLevel: r.audioLevel,
				totalAudioEnergy: r.totalAudioEnergy, jitter: r.jitter,
			});
		} else if (r.type === 'outbound-rtp') {
			out.outbound.push({
				id: r.id, mid: r.mid ?? null, kind: r.kind, ssrc: r.ssrc, timestamp: r.timestamp,
				bytesSent: r.bytesSent || 0, packetsSent: r.packetsSent || 0, framesEncoded: r.framesEncoded,
				framesPerSecond: r.framesPerSecond, frameWidth: r.frameWidth, frameHeight: r.frameHeight,
				qualityLimitationReason: r.qualityLimitationReason,
			});
		} else if (r.type === 'remote-inbound-rtp') {
			out.remoteInbound.push({ ssrc: r.ssrc, kind: r.kind, roundTripTime: r.roundTripTime, fractionLost: r.fractionLost, packetsLost: r.packetsLost });
		} else if (r.type === 'transport' && r.selectedCandidatePairId) {
			const pair = byId.get(r.selectedCandidatePairId);
			if (pair && pair.currentRoundTripTime !== undefined) out.rtt = pair.currentRoundTripTime;
		} else if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && out.rtt === null &&
			r.currentRoundTripTime !== undefined) {
			out.rtt = r.currentRoundTripTime;
		}
	}
	return out;
}

/**
 * Rates between two samples of one RTP stream (inbound or outbound, as
 * extractStats returns them): { bitrate (bit/s), fps, loss (0..1 over the
 * interval) }. `prev` may be null (first sample: rates are null).
 */
export function streamRates(prev, cur) {
	const res = { bitrate: null, fps: cur.framesPerSecond ?? null, loss: null };
	if (!prev || !(cur.timestamp > prev.timestamp)) return res;
	const dt = (cur.timestamp - prev.timestamp) / 1000;
	const bytes = (cur.bytesReceived ?? cur.bytesSent ?? 0) - (prev.bytesReceived ?? prev.bytesSent ?? 0);
	res.bitrate = Math.max(0, Math.round((bytes * 8) / dt));
	if (res.fps === null) {
		const f = (cur.framesDecoded ?? cur.framesEncoded);
		const pf = (prev.framesDecoded ?? prev.framesEncoded);
		if (f !== undefined && pf !== undefined) res.fps = Math.max(0, Math.round((f - pf) / dt));
	}
	if (cur.packetsReceived !== undefined) {
		const got = cur.packetsReceived - prev.packetsReceived;
		const lost = Math.max(0, cur.packetsLost - prev.packetsLost);
		res.loss = got + lost > 0 ? lost / (got + lost) : 0;
	}
	return res;
}

/** 'good' | 'fair' | 'poor' | 'unknown' from loss (0..1) and rtt (s). */
export function qualityLevel({ loss = null, rtt = null, bitrate = null } = {}) {
	if (loss === null && rtt === null) return 'unknown';
	if ((loss ?? 0) > 0.1 || (rtt ?? 0) > 0.5 || bitrate === 0) return 'poor';
	if ((loss ?? 0) > 0.02 || (rtt ?? 0) > 0.2) return 'fair';
	return 'good';
}
