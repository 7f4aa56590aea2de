// web-demo/app-audio.mjs: the page's one AudioContext (created and resumed on
// a user gesture) and the level of the local microphone, for the lobby's
// meter and the active speaker.

import { local } from './app-common.mjs';

let audioCtx = null;
let localAnalyser = null;

export function ensureAudioCtx() {
	if (!audioCtx && (window.AudioContext || window.webkitAudioContext)) {
		try { audioCtx = new (window.AudioContext || window.webkitAudioContext)(); } catch { audioCtx = null; }
	}
	if (audioCtx && audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
	return audioCtx;
}

export function startLocalMeter() {
	const ctx = ensureAudioCtx();
	if (!ctx || !local.mic) return;
	try {
		const src = ctx.createMediaStreamSource(new MediaStream([local.mic]));
		const an = ctx.createAnalyser();
		an.fftSize = 512;
		src.connect(an);
		localAnalyser = { an, buf: new Float32Array(an.fftSize) };
	} catch { localAnalyser = null; }
}

export function localLevel() {
	if (!localAnalyser || !local.mic || local.micMuted) return 0;
	localAnalyser.an.getFloatTimeDomainData(localAnalyser.buf);
	let sum = 0;
	for (const x of localAnalyser.buf) sum += x * x;
	return Math.sqrt(sum / localAnalyser.buf.length);
}
