// capture_chromium.mjs: write the SDP offers of headless Chromium (one sendonly
// Opus audio + one sendonly VP8 video transceiver from the fake devices,
// max-bundle, no ICE servers) for the SDP fixtures in tests/fixtures/sdp/captured.
//
//   node tests/e2e/capture/capture_chromium.mjs OUTDIR
//
// The offer is taken from pc.localDescription after ICE gathering completed,
// so it holds Chromium's own a=candidate lines (byte for byte, CRLF). Run it in
// a network namespace that only has 127.0.0.1 (capture.sh does) so that only
// loopback is gathered. Writes chromium_offer.sdp, chromium_simulcast_offer.sdp
// (sendEncodings with rids h/m/l) and chromium_answer.sdp (Chromium answering
// server_style_offer.sdp from this folder, if present).
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, serveDir } from '../lib/chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, '..', '..', 'fixtures', 'sdp', 'captured');

const web = await serveDir(join(here, '..', 'www'));
const br = await launchChromium({ log: (s) => console.error(s) });
const info = { version: br.version };
try {
	await br.page.goto(web.url + 'blank.html');
	await br.page.evaluate(() => {
		window.gathered = (pc) => new Promise((resolve) => {
			if (pc.iceGatheringState === 'complete') return resolve();
			pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
		});
		window.makeOffer = async (simulcast) => {
			const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
			const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
			pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
			const init = { direction: 'sendonly', streams: [stream] };
			if (simulcast) {
				init.sendEncodings = [
					{ rid: 'h' },
					{ rid: 'm', scaleResolutionDownBy: 2 },
					{ rid: 'l', scaleResolutionDownBy: 4 },
				];
			}
			pc.addTransceiver(stream.getVideoTracks()[0], init);
			const cands = [];
			pc.onicecandidate = (e) => cands.push(e.candidate ? e.candidate.toJSON() : null);
			await pc.setLocalDescription(await pc.createOffer());
			await gathered(pc);
			const sdp = pc.localDescription.sdp;
			pc.close();
			stream.getTracks().forEach((t) => t.stop());
			return { sdp, cands };
		};
		window.makeAnswer = async (offer) => {
			const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
			await pc.setRemoteDescription({ type: 'offer', sdp: offer });
			await pc.setLocalDescription(await pc.createAnswer());
			await gathered(pc);
			const sdp = pc.localDescription.sdp;
			pc.close();
			return { sdp };
		};
	});
	const plain = await br.page.evaluate(() => makeOffer(false));
	writeFileSync(join(out, 'chromium_offer.sdp'), plain.sdp);
	const sim = await br.page.evaluate(() => makeOffer(true));
	writeFileSync(join(out, 'chromium_simulcast_offer.sdp'), sim.sdp);
	info.trickled = plain.cands;
	const serverOffer = join(out, 'server_style_offer.sdp');
	if (existsSync(serverOffer)) {
		const ans = await br.page.evaluate((o) => makeAnswer(o), readFileSync(serverOffer, 'utf8'));
		writeFileSync(join(out, 'chromium_answer.sdp'), ans.sdp);
	}
} finally {
	await br.close();
	await web.close();
}
console.log(JSON.stringify(info, null, 1));
