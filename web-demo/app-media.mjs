// web-demo/app-media.mjs: the local media of the demo page: camera and
// microphone (the lobby's preview, level meter and device pickers), the
// mute and camera toggles (lobby and call), and screen sharing.

import { $, el, params, local, client, announce } from './app-common.mjs';
import { startLocalMeter, localLevel } from './app-audio.mjs';
import { refreshLocalTile } from './app-tiles.mjs';

const VIDEO_PRESETS = {
	low: { width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15, max: 15 } },
	medium: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } },
	high: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } },
};
const VIDEO = VIDEO_PRESETS[params.get('video')] || VIDEO_PRESETS.medium;

/* ===================================================================== */
/* Lobby: preview, devices, level meter                                  */
/* ===================================================================== */

export function setPreviewMsg(s) { $('preview-msg').textContent = s; }

async function getMic(deviceId) {
	const s = await navigator.mediaDevices.getUserMedia({
		audio: { deviceId: deviceId ? { exact: deviceId } : undefined, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
	});
	return s.getAudioTracks()[0];
}

async function getCam(deviceId) {
	const s = await navigator.mediaDevices.getUserMedia({ video: { ...VIDEO, deviceId: deviceId ? { exact: deviceId } : undefined } });
	return s.getVideoTracks()[0];
}

export async function startPreview() {
	if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
		setPreviewMsg('This browser cannot use a camera or microphone here (a secure context is needed). You can still join to watch and chat.');
		return;
	}
	setPreviewMsg('Starting camera…');
	const [mic, cam] = await Promise.allSettled([getMic(local.micDevice).catch(() => getMic()), getCam(local.camDevice).catch(() => getCam())]);
	local.mic = mic.status === 'fulfilled' ? mic.value : null;
	local.cam = cam.status === 'fulfilled' ? cam.value : null;
	const problems = [];
	if (!local.mic) problems.push(`no microphone (${mic.reason && mic.reason.name || 'unavailable'})`);
	if (!local.cam) problems.push(`no camera (${cam.reason && cam.reason.name || 'unavailable'})`);
	setPreviewMsg(problems.length ? `Joining with ${problems.join(' and ')}.` : '');
	attachPreview();
	startLocalMeter();
	await refreshDevices();
}

function attachPreview() {
	const v = $('preview');
	v.srcObject = local.cam ? new MediaStream([local.cam]) : null;
	$('preview').closest('.preview-frame').classList.toggle('off', !local.cam || local.camOff);
	if (local.cam) local.cam.enabled = !local.camOff;
	if (local.mic) local.mic.enabled = !local.micMuted;
}

async function refreshDevices() {
	let devs = [];
	try { devs = await navigator.mediaDevices.enumerateDevices(); } catch { /* none */ }
	fillSelect($('camera-select'), devs.filter((d) => d.kind === 'videoinput'), local.cam, 'Camera');
	fillSelect($('mic-select'), devs.filter((d) => d.kind === 'audioinput'), local.mic, 'Microphone');
}

function fillSelect(sel, devs, track, what) {
	const current = track && track.getSettings ? track.getSettings().deviceId : '';
	sel.replaceChildren();
	if (!devs.length) sel.append(el('option', { value: '', text: `No ${what.toLowerCase()} found` }));
	devs.forEach((d, i) => sel.append(el('option', { value: d.deviceId, text: d.label || `${what} ${i + 1}` })));
	if (current) sel.value = current;
	sel.disabled = devs.length === 0;
}

$('camera-select').addEventListener('change', async (e) => {
	const id = e.target.value;
	try {
		const t = await getCam(id);
		const old = local.cam;
		local.cam = t;
		local.camDevice = id;
		localStorage.setItem('parley.cam', id);
		attachPreview();
		if (client) { await client.setLocalTrack('camera', t); refreshLocalTile(); }
		if (old) old.stop();
	} catch (err) {
		setPreviewMsg(`Cannot use that camera: ${err.message}`);
	}
});

$('mic-select').addEventListener('change', async (e) => {
	const id = e.target.value;
	try {
		const t = await getMic(id);
		const old = local.mic;
		local.mic = t;
		local.micDevice = id;
		localStorage.setItem('parley.mic', id);
		attachPreview();
		startLocalMeter();
		if (client) await client.setLocalTrack('microphone', t);
		if (old) old.stop();
	} catch (err) {
		setPreviewMsg(`Cannot use that microphone: ${err.message}`);
	}
});

if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
	navigator.mediaDevices.addEventListener('devicechange', () => refreshDevices());
}

// the lobby's level meter
(function meterLoop() {
	if (!$('lobby').hidden) {
		const lvl = Math.min(100, Math.round(localLevel() * 300));
		$('preview-level').style.width = `${lvl}%`;
		$('preview-level').parentElement.setAttribute('aria-valuenow', String(lvl));
	}
	requestAnimationFrame(meterLoop);
})();

export function syncToggleLabels() {
	const micLabel = local.micMuted ? 'Unmute microphone' : 'Mute microphone';
	const camLabel = local.camOff ? 'Turn camera on' : 'Turn camera off';
	$('pre-mic').textContent = micLabel;
	$('pre-cam').textContent = camLabel;
	$('btn-mic').querySelector('.tool-label').textContent = micLabel;
	$('btn-cam').querySelector('.tool-label').textContent = camLabel;
	$('btn-mic').classList.toggle('off', local.micMuted);
	$('btn-cam').classList.toggle('off', local.camOff);
	$('pre-mic').classList.toggle('off', local.micMuted);
	$('pre-cam').classList.toggle('off', local.camOff);
	$('btn-mic').disabled = !local.mic;
	$('btn-cam').disabled = !local.cam;
}

async function toggleMic() {
	local.micMuted = !local.micMuted;
	attachPreview();
	syncToggleLabels();
	refreshLocalTile();
	if (client) await client.setMuted('microphone', local.micMuted).catch((e) => announce(`Microphone: ${e.message}`));
	announce(local.micMuted ? 'Microphone muted' : 'Microphone on');
}

async function toggleCam() {
	local.camOff = !local.camOff;
	attachPreview();
	syncToggleLabels();
	refreshLocalTile();
	if (client) await client.setMuted('camera', local.camOff).catch((e) => announce(`Camera: ${e.message}`));
	announce(local.camOff ? 'Camera off' : 'Camera on');
}

$('pre-mic').addEventListener('click', toggleMic);
$('pre-cam').addEventListener('click', toggleCam);
$('btn-mic').addEventListener('click', toggleMic);
$('btn-cam').addEventListener('click', toggleCam);

/* ===================================================================== */
/* Screen share                                                          */
/* ===================================================================== */

async function startScreenShare() {
	if (!navigator.mediaDevices.getDisplayMedia) { announce('Screen sharing is not available in this browser'); return; }
	let s;
	try {
		s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
	} catch (e) {
		if (e.name !== 'NotAllowedError') announce(`Cannot share the screen: ${e.message}`);
		return;
	}
	const track = s.getVideoTracks()[0];
	track.contentHint = 'detail';
	track.addEventListener('ended', () => stopScreenShare());
	local.screen = track;
	$('btn-screen').querySelector('.tool-label').textContent = 'Stop sharing';
	$('btn-screen').classList.add('active');
	refreshLocalTile();
	if (client) await client.setLocalTrack('screen', track).catch((e) => announce(`Screen share: ${e.message}`));
	announce('You are sharing your screen');
}

export function stopScreenShare(tell = true) {
	const t = local.screen;
	if (!t) return;
	local.screen = null;
	t.stop();
	$('btn-screen').querySelector('.tool-label').textContent = 'Share screen';
	$('btn-screen').classList.remove('active');
	refreshLocalTile();
	if (client && tell) client.setLocalTrack('screen', null).catch(() => {});
	if (tell) announce('Screen sharing stopped');
}

$('btn-screen').addEventListener('click', () => (local.screen ? stopScreenShare() : startScreenShare()));
