// web-demo/app.mjs: Parley's conference page, built on the SDK in parley.js.
//
// Lobby (room, name, token when the server asks for one, camera preview,
// device pickers) -> call (a tile per participant, mute / camera / screen
// share / chat / leave, connection quality per tile, active speaker) with a
// chat panel (history, live and direct messages, typing, unread badge).
// Text from other people is only ever inserted as text (textContent or
// text nodes): never as HTML.
//
// window.__parleyStats (refreshed every second) is a small summary for
// tests and for debugging: connection state, our participant, and per
// remote participant what is received (framesDecoded, packetsReceived...).

import { Parley, isValidRoom, isValidDisplay, extractStats, streamRates, qualityLevel } from './parley.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

/** Creates an element: el('li', { className: 'x', text: 'hi' }, child...). Text goes in as text. */
function el(tag, props = {}, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(props)) {
		if (v === undefined || v === null) continue;
		if (k === 'text') e.textContent = v;
		else if (k === 'className') e.className = v;
		else if (k === 'dataset') Object.assign(e.dataset, v);
		else if (k.startsWith('aria') || k === 'role' || k === 'for') e.setAttribute(k === 'for' ? 'for' : k.replace(/^aria([A-Z])/, (_, c) => `aria-${c.toLowerCase()}`), v);
		else e[k] = v;
	}
	for (const c of children) if (c !== null && c !== undefined) e.append(c);
	return e;
}

const VIDEO_PRESETS = {
	low: { width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15, max: 15 } },
	medium: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } },
	high: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } },
};
const VIDEO = VIDEO_PRESETS[params.get('video')] || VIDEO_PRESETS.medium;

/* ===================================================================== */
/* State                                                                 */
/* ===================================================================== */

const local = {
	mic: null,             // MediaStreamTrack
	cam: null,
	screen: null,
	micMuted: false,
	camOff: false,
	micDevice: localStorage.getItem('parley.mic') || '',
	camDevice: localStorage.getItem('parley.cam') || '',
};
let client = null;
let audioCtx = null;
let localAnalyser = null;

/* ===================================================================== */
/* Lobby: form, preview, devices                                         */
/* ===================================================================== */

if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');
if (params.get('token')) { $('token').value = params.get('token'); $('token-field').hidden = false; }

function setPreviewMsg(s) { $('preview-msg').textContent = s; }

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

async function startPreview() {
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

function ensureAudioCtx() {
	if (!audioCtx && (window.AudioContext || window.webkitAudioContext)) {
		try { audioCtx = new (window.AudioContext || window.webkitAudioContext)(); } catch { audioCtx = null; }
	}
	if (audioCtx && audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
	return audioCtx;
}

function startLocalMeter() {
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

function localLevel() {
	if (!localAnalyser || !local.mic || local.micMuted) return 0;
	localAnalyser.an.getFloatTimeDomainData(localAnalyser.buf);
	let sum = 0;
	for (const x of localAnalyser.buf) sum += x * x;
	return Math.sqrt(sum / localAnalyser.buf.length);
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

function syncToggleLabels() {
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
/* Joining and leaving                                                   */
/* ===================================================================== */

function fieldError(input, msg) {
	input.setAttribute('aria-invalid', msg ? 'true' : 'false');
	if (msg) { $('join-error').textContent = msg; input.focus(); }
}

$('join-form').addEventListener('submit', async (e) => {
	e.preventDefault();
	$('join-error').textContent = '';
	const room = $('room').value.trim();
	const display = $('name').value.trim();
	const token = $('token').value.trim();
	fieldError($('room'), null);
	fieldError($('name'), null);
	if (!isValidRoom(room)) return fieldError($('room'), 'Room: 1 to 64 letters, digits, “_”, “.” or “-”.');
	if (!isValidDisplay(display)) return fieldError($('name'), 'Name: 1 to 64 characters.');
	ensureAudioCtx();
	const btn = $('join-btn');
	btn.disabled = true;
	btn.textContent = 'Joining…';
	const c = makeClient();
	try {
		if (local.mic) await c.setLocalTrack('microphone', local.mic, { muted: local.micMuted });
		if (local.cam) await c.setLocalTrack('camera', local.cam, { muted: local.camOff });
		await c.join({ room, display, token: token || null });
	} catch (err) {
		c.close();
		if (client === c) client = null;
		if (err.code === 'unauthorized') {
			$('token-field').hidden = false;
			fieldError($('token'), token ? `The token was refused: ${err.message}.` : 'This server needs an access token to join this room.');
		} else {
			$('join-error').textContent = `Could not join: ${err.message}`;
		}
		btn.disabled = false;
		btn.textContent = 'Join';
		setConn('idle');
		return;
	}
	btn.disabled = false;
	btn.textContent = 'Join';
	const q = new URLSearchParams(location.search);
	q.set('room', room);
	q.set('name', display);
	q.delete('token');
	history.replaceState(null, '', `${location.pathname}?${q}`);
	enterCall();
});

function makeClient() {
	const c = client = new Parley({ log: (s) => console.debug(`[parley] ${s}`) });
	c.addEventListener('statechange', (e) => { if (c === client) onState(e); });
	c.addEventListener('joined', (e) => { if (c === client) onJoined(e); });
	c.addEventListener('participantjoined', (e) => { if (c === client) onParticipant(e.participant, 'joined'); });
	c.addEventListener('participantupdated', (e) => { if (c === client) onParticipant(e.participant, 'updated'); });
	c.addEventListener('participantleft', (e) => { if (c === client) onParticipant(e.participant, 'left'); });
	c.addEventListener('trackadded', (e) => { if (c === client) refreshParticipantMedia(e.participantId); });
	c.addEventListener('trackremoved', (e) => { if (c === client) refreshParticipantMedia(e.participantId); });
	c.addEventListener('trackupdated', (e) => { if (c === client) refreshParticipantMedia(e.participant.id); });
	c.addEventListener('connectionstate', () => { if (c === client) renderConn(); });
	c.addEventListener('chat', (e) => { if (c === client) onChat(e.message, e.own); });
	c.addEventListener('history', (e) => { if (c === client) onHistory(e); });
	c.addEventListener('chatpending', () => { if (c === client) renderPending(); });
	c.addEventListener('typing', () => { if (c === client) renderTyping(); });
	c.addEventListener('error', (e) => { if (c === client && !e.fatal) console.warn(`[parley] ${e.code}: ${e.message}`); });
	window.__parley = { client: c };
	return c;
}

function enterCall() {
	$('lobby').hidden = true;
	$('call').hidden = false;
	$('room-label').textContent = client.room;
	document.title = `${client.room} · Parley`;
	setChatOpen(!narrow());
	rebuildTiles();
	refreshToOptions();
	syncToggleLabels();
	startStatsLoop();
	$('main').focus({ preventScroll: true });
	announce(`Joined ${client.room}`);
}

async function leaveCall() {
	const c = client;
	client = null;
	if (c) c.close();
	stopScreenShare(false);
	stopStatsLoop();
	tiles.forEach((t) => t.li.remove());
	tiles.clear();
	clearChat();
	$('call').hidden = true;
	$('lobby').hidden = false;
	$('room-label').textContent = '';
	document.title = 'Parley';
	setConn('idle');
	$('join-btn').focus();
}

$('btn-leave').addEventListener('click', leaveCall);
window.addEventListener('pagehide', () => { if (client) client.close(); });

/* ===================================================================== */
/* Connection state                                                      */
/* ===================================================================== */

let connInfo = { state: 'idle' };

function setConn(state, extra = {}) {
	connInfo = { state, ...extra };
	renderConn();
}

function onState(e) {
	setConn(e.state, e.detail);
	$('call').classList.toggle('offline', e.state !== 'joined');
	if (e.state === 'reconnecting') announce('Connection lost. Reconnecting…');
	if (e.state === 'closed' && !$('call').hidden) {
		// the server refused a re-join (an expired token, say): back to the lobby, saying why
		leaveCall();
		$('join-error').textContent = `Disconnected: ${e.detail.reason || e.detail.code || 'the server closed the connection'}.`;
	}
}

function renderConn() {
	const c = $('conn');
	const st = connInfo.state;
	let text = 'Not connected';
	let look = st;
	if (st === 'connecting') text = 'Connecting…';
	else if (st === 'joined') {
		const pcs = client ? client.connectionStates() : {};
		const states = [pcs.pub, pcs.sub].filter(Boolean);
		if (states.includes('failed') || states.includes('disconnected')) { text = 'Connected · media interrupted'; look = 'degraded'; }
		else if (states.some((s) => s === 'new' || s === 'connecting')) { text = 'Connected · media connecting…'; look = 'connecting'; }
		else text = 'Connected';
	} else if (st === 'reconnecting') {
		const a = connInfo.attempt ? ` (attempt ${connInfo.attempt})` : '';
		text = `Reconnecting…${a}`;
	} else if (st === 'closed') text = 'Disconnected';
	c.dataset.state = look;
	if (c.textContent !== text) c.textContent = text;
}

function onJoined(e) {
	if (e.rejoin) {
		announce('Reconnected');
		rebuildTiles();
		refreshToOptions();
	}
}

/* ===================================================================== */
/* Tiles                                                                 */
/* ===================================================================== */

/** key -> { key, pid, screen, li, video, audio, nameEl, micEl, qualityEl, statsEl, avatar } */
const tiles = new Map();
const narrow = () => window.matchMedia('(max-width: 800px)').matches;

function initials(name) {
	const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
	const s = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?').slice(0, 2);
	return [...s].slice(0, 2).join('').toUpperCase();
}

function makeTile(key, pid, { screen = false, self = false } = {}) {
	const video = el('video', { autoplay: true, playsInline: true, muted: true });
	if (self && !screen) video.classList.add('mirror');
	const avatar = el('div', { className: 'avatar', ariaHidden: 'true' });
	const nameEl = el('span', { className: 'name' });
	const micEl = el('span', { className: 'mic-off', hidden: true },
		svgIcon('M19 11h-1.7c0 .74-.16 1.43-.43 2.05l1.23 1.23c.56-.98.9-2.09.9-3.28zm-4.02.17L9 5.18V5a3 3 0 0 1 6 0v6c0 .06-.01.11-.02.17zM4.27 3 3 4.27l6.01 6.01V11a3 3 0 0 0 3 3c.22 0 .44-.03.65-.08l1.66 1.66c-.71.33-1.5.52-2.31.52-2.76 0-5.3-2.1-5.3-5.1H5c0 3.41 2.72 6.23 6 6.72V21h2v-3.28c.91-.13 1.77-.45 2.54-.9L19.73 21 21 19.73z'),
		el('span', { text: 'Muted' }));
	const qualityEl = el('span', { className: 'quality', dataset: { level: 'unknown' } });
	const statsEl = el('span', { className: 'stats' });
	const bar = el('div', { className: 'tile-bar' }, nameEl, micEl, qualityEl);
	const li = el('li', { className: 'tile', dataset: { pid: pid || '', key } }, video, avatar, bar, statsEl);
	if (screen) li.classList.add('screen');
	if (self) li.classList.add('self');
	const t = { key, pid, screen, self, li, video, audio: null, nameEl, micEl, qualityEl, statsEl, avatar, videoTrack: null, audioTracks: [] };
	tiles.set(key, t);
	return t;
}

function svgIcon(d) {
	const ns = 'http://www.w3.org/2000/svg';
	const svg = document.createElementNS(ns, 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('aria-hidden', 'true');
	const p = document.createElementNS(ns, 'path');
	p.setAttribute('d', d);
	svg.append(p);
	return svg;
}

function placeTile(t) {
	const list = $('tiles');
	if (t.li.parentNode !== list) list.append(t.li);
}

/** Sizes the grid so that every tile fits the stage at 16:9, as large as possible. */
function layoutTiles() {
	const ul = $('tiles');
	const n = ul.children.length;
	if (!n || ul.clientWidth === 0) return;
	const cs = getComputedStyle(ul);
	const gap = parseFloat(cs.columnGap) || 8;
	const W = ul.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
	const H = ul.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
	const maxCols = W < 600 ? Math.min(2, n) : n;
	let best = { cols: 1, w: 0 };
	for (let cols = 1; cols <= maxCols; cols++) {
		const rows = Math.ceil(n / cols);
		const w = Math.min((W - gap * (cols - 1)) / cols, ((H - gap * (rows - 1)) / rows) * 16 / 9);
		if (w > best.w) best = { cols, w };
	}
	// too many to fit: keep tiles readable and let the grid scroll
	const minW = Math.min(W, 160);
	if (best.w < minW) best = { cols: Math.max(1, Math.floor((W + gap) / (minW + gap))), w: minW };
	ul.style.setProperty('--cols', String(best.cols));
	ul.style.setProperty('--tile-w', `${Math.floor(best.w)}px`);
}
new ResizeObserver(() => layoutTiles()).observe($('tiles'));
new MutationObserver(() => layoutTiles()).observe($('tiles'), { childList: true });

function setVideo(t, track) {
	if (t.videoTrack === track) return;
	t.videoTrack = track;
	t.video.srcObject = track ? new MediaStream([track]) : null;
	if (track) t.video.play().catch(() => {});
}

function setAudio(t, tracks) {
	const same = tracks.length === t.audioTracks.length && tracks.every((x, i) => x === t.audioTracks[i]);
	if (same) return;
	t.audioTracks = tracks;
	if (!tracks.length) {
		if (t.audio) { t.audio.srcObject = null; t.audio.remove(); t.audio = null; }
		return;
	}
	if (!t.audio) { t.audio = el('audio', { autoplay: true }); t.li.append(t.audio); }
	t.audio.srcObject = new MediaStream(tracks);
	t.audio.play().catch(() => showSoundButton());
}

let soundBtn = null;
function showSoundButton() {
	if (soundBtn) return;
	soundBtn = el('button', { type: 'button', className: 'btn btn-primary sound-btn', text: 'Turn on sound' });
	soundBtn.addEventListener('click', () => {
		ensureAudioCtx();
		for (const t of tiles.values()) if (t.audio) t.audio.play().catch(() => {});
		soundBtn.remove();
		soundBtn = null;
	});
	$('call').querySelector('.stage').prepend(soundBtn);
}

function rebuildTiles() {
	for (const t of tiles.values()) t.li.remove();
	tiles.clear();
	refreshLocalTile();
	if (!client) return;
	for (const p of client.participants.values()) refreshParticipantMedia(p.id);
}

function refreshLocalTile() {
	if (!client || $('call').hidden && !client.me) return;
	let t = tiles.get('local');
	if (!t) t = makeTile('local', null, { self: true });
	const name = client && client.me ? client.me.display : $('name').value;
	t.nameEl.textContent = `${name} (you)`;
	setVideo(t, local.cam && !local.camOff ? local.cam : null);
	t.avatar.textContent = initials(name);
	t.li.classList.toggle('no-video', !local.cam || local.camOff);
	t.micEl.hidden = !(local.micMuted || !local.mic);
	t.li.setAttribute('aria-label', `${name} (you)${local.micMuted || !local.mic ? ', microphone muted' : ''}${local.camOff || !local.cam ? ', camera off' : ''}`);
	if (t.li.parentNode !== $('tiles')) $('tiles').prepend(t.li);
	let s = tiles.get('local:screen');
	if (local.screen) {
		if (!s) { s = makeTile('local:screen', null, { screen: true, self: true }); t.li.after(s.li); }
		s.nameEl.textContent = `${name} (you) · screen`;
		s.li.setAttribute('aria-label', `${name} (you), screen share`);
		setVideo(s, local.screen);
	} else if (s) {
		s.li.remove();
		tiles.delete('local:screen');
	}
}

/** What the server says about a participant's microphone and camera. */
function serverState(p) {
	const tr = p ? [...p.tracks.values()] : [];
	const audio = tr.filter((t) => t.kind === 'audio');
	const video = tr.filter((t) => t.kind === 'video');
	return {
		micMuted: !audio.some((t) => !t.muted),
		mutedTrackIds: new Set(tr.filter((t) => t.muted).map((t) => t.id)),
		cameraOff: !video.some((t) => !t.muted),
	};
}

function refreshParticipantMedia(pid) {
	if (!client || !pid || (client.me && pid === client.me.id)) return;
	const p = client.participants.get(pid);
	let t = tiles.get(pid);
	if (!p) {
		if (t) { t.li.remove(); tiles.delete(pid); }
		const s = tiles.get(`${pid}:screen`);
		if (s) { s.li.remove(); tiles.delete(`${pid}:screen`); }
		return;
	}
	if (!t) t = makeTile(pid, pid);
	placeTile(t);
	const st = serverState(p);
	const got = client.tracksOf(pid).sort((a, b) => Number(a.mid) - Number(b.mid));
	const videos = got.filter((x) => x.kind === 'video' && !st.mutedTrackIds.has(x.trackId));
	const audios = got.filter((x) => x.kind === 'audio');
	setVideo(t, videos[0] ? videos[0].track : null);
	setAudio(t, audios.map((x) => x.track));
	t.nameEl.textContent = p.display;
	t.avatar.textContent = initials(p.display);
	t.li.classList.toggle('no-video', !videos[0]);
	t.micEl.hidden = !st.micMuted;
	t.li.dataset.micMuted = String(st.micMuted);
	t.li.dataset.cameraOff = String(!videos[0]);
	t.li.setAttribute('aria-label', `${p.display}${st.micMuted ? ', microphone muted' : ''}${!videos[0] ? ', camera off' : ''}`);
	// A second video track: the server cannot say that it is a screen
	// share (every video is "camera" in the protocol), so it gets a tile
	// of its own labelled as one.
	const sk = `${pid}:screen`;
	let s = tiles.get(sk);
	if (videos[1]) {
		if (!s) { s = makeTile(sk, pid, { screen: true }); t.li.after(s.li); }
		s.nameEl.textContent = `${p.display} · screen`;
		s.avatar.textContent = initials(p.display);
		s.li.setAttribute('aria-label', `${p.display}, second video (screen share)`);
		setVideo(s, videos[1].track);
	} else if (s) {
		s.li.remove();
		tiles.delete(sk);
	}
}

function onParticipant(p, how) {
	if (how === 'left') {
		refreshParticipantMedia(p.id);
		announce(`${p.display} left`);
	} else {
		refreshParticipantMedia(p.id);
		if (how === 'joined') announce(`${p.display} joined`);
	}
	refreshToOptions();
	renderTyping();
}

let announceTimer = null;
function announce(s) {
	const a = $('announce');
	a.textContent = s;
	clearTimeout(announceTimer);
	announceTimer = setTimeout(() => { a.textContent = ''; }, 5000);
}

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

function stopScreenShare(tell = true) {
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

/* ===================================================================== */
/* Stats: quality per tile, active speaker, window.__parleyStats         */
/* ===================================================================== */

let statsTimer = null;
const prevSamples = new Map();   // stats id -> sample
const speakerHold = { pid: null, until: 0 };

function startStatsLoop() {
	stopStatsLoop();
	const tick = async () => {
		try { await statsTick(); } catch (e) { console.debug('stats', e); }
		if (statsTimer !== null) statsTimer = setTimeout(tick, 1000);
	};
	statsTimer = setTimeout(tick, 300);
}

function stopStatsLoop() {
	clearTimeout(statsTimer);
	statsTimer = null;
	prevSamples.clear();
}

function fmtRate(bps) {
	if (bps === null || bps === undefined) return '–';
	return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1000)} kb/s`;
}

async function statsTick() {
	const c = client;
	if (!c) return;
	if (c.state !== 'joined') {
		// nothing is measured while (re)connecting: no stale figures
		for (const t of tiles.values()) renderQuality(t, null);
		for (const t of tiles.values()) t.li.classList.remove('speaking');
		prevSamples.clear();
		window.__parleyStats = { ...(window.__parleyStats || {}), t: Date.now(), state: c.state, pc: c.connectionStates(),
			joins: c.stats.joins, reconnects: c.stats.reconnects, iceRestarts: c.stats.iceRestarts };
		renderConn();
		return;
	}
	const reports = await c.getStats();
	const sub = reports.sub ? extractStats(reports.sub) : null;
	const pub = reports.pub ? extractStats(reports.pub) : null;
	const out = {
		t: Date.now(), state: c.state, room: c.room, me: c.me, pc: c.connectionStates(),
		joins: c.stats.joins, reconnects: c.stats.reconnects, iceRestarts: c.stats.iceRestarts,
		subOffers: c.stats.subOffers, participants: {}, local: { audio: null, video: null },
		messages: c.messages.length, lastSeq: c.lastSeq,
	};
	const levels = new Map();
	// remote: inbound streams by mid -> participant
	if (sub) {
		for (const s of sub.inbound) {
			const rt = s.mid !== null ? c.remoteTracks.get(String(s.mid)) : [...c.remoteTracks.values()].find((x) => x.track && x.track.id === s.trackIdentifier);
			if (!rt) continue;
			const rates = streamRates(prevSamples.get(s.id), s);
			prevSamples.set(s.id, s);
			const p = c.participants.get(rt.participantId);
			const o = (out.participants[rt.participantId] ||= { display: p ? p.display : rt.participantId });
			if (s.kind === 'video') {
				(o.videos ||= []).push({
					mid: rt.mid, framesDecoded: s.framesDecoded || 0, framesPerSecond: rates.fps, bitrate: rates.bitrate,
					loss: rates.loss, packetsLost: s.packetsLost, bytesReceived: s.bytesReceived,
					frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0,
				});
			} else {
				let level = s.audioLevel || 0;
				if (!level && rt.transceiver && rt.transceiver.receiver.getSynchronizationSources) {
					const ss = rt.transceiver.receiver.getSynchronizationSources();
					if (ss.length && performance.timeOrigin + performance.now() - ss[0].timestamp < 1000) level = ss[0].audioLevel || 0;
				}
				levels.set(rt.participantId, Math.max(levels.get(rt.participantId) || 0, level));
				o.audio = { mid: rt.mid, packetsReceived: s.packetsReceived, bytesReceived: s.bytesReceived, bitrate: rates.bitrate, loss: rates.loss, audioLevel: level };
			}
		}
	}
	const rttSub = sub ? sub.rtt : null;
	for (const o of Object.values(out.participants)) {
		// the first (lowest mid) video is the camera tile, a second one the "screen" tile
		const vs = (o.videos || []).sort((a, b) => Number(a.mid) - Number(b.mid));
		delete o.videos;
		if (vs[0]) o.video = vs[0];
		if (vs[1]) o.screen = vs[1];
	}
	for (const [pid, o] of Object.entries(out.participants)) {
		const t = tiles.get(pid);
		const p = c.participants.get(pid);
		const st = serverState(p);
		o.micMuted = st.micMuted;
		o.cameraOff = t ? t.li.dataset.cameraOff === 'true' : true;
		const playing = (x) => !!(x && x.video.srcObject && x.video.readyState >= 2 && !x.video.paused && x.video.videoWidth > 0);
		o.videoPlaying = playing(t);
		if (o.screen) o.screen.playing = playing(tiles.get(`${pid}:screen`));
		o.rtt = rttSub;
		if (t) renderQuality(t, o.video || o.audio, rttSub, o.video);
	}
	// local
	if (pub) {
		for (const s of pub.outbound) {
			const rates = streamRates(prevSamples.get(s.id), s);
			prevSamples.set(s.id, s);
			const k = s.kind === 'video' ? 'video' : 'audio';
			const cur = out.local[k];
			const rec = { packetsSent: s.packetsSent, framesEncoded: s.framesEncoded, bitrate: rates.bitrate, framesPerSecond: rates.fps, frameWidth: s.frameWidth, qualityLimitationReason: s.qualityLimitationReason };
			if (!cur || (s.packetsSent || 0) > (cur.packetsSent || 0)) out.local[k] = rec;
		}
		const lt = tiles.get('local');
		if (lt) {
			let loss = null;
			for (const r of pub.remoteInbound) if (r.kind === 'video' && r.fractionLost !== undefined) loss = r.fractionLost;
			renderQuality(lt, out.local.video || out.local.audio, pub.rtt, out.local.video ? { ...out.local.video, loss } : null, true);
		}
	}
	// active speaker: the loudest voice above a threshold, held for a moment
	const ll = localLevel();
	if (c.me) levels.set(c.me.id, ll > 0.02 ? Math.min(1, ll * 3) : 0);
	let best = null, bestLevel = 0.02;
	for (const [pid, lv] of levels) if (lv > bestLevel) { best = pid; bestLevel = lv; }
	const now = Date.now();
	if (best) { speakerHold.pid = best; speakerHold.until = now + 1500; }
	else if (now > speakerHold.until) speakerHold.pid = null;
	for (const t of tiles.values()) {
		const pid = t.self ? c.me && c.me.id : t.pid;
		t.li.classList.toggle('speaking', !t.screen && !!speakerHold.pid && pid === speakerHold.pid);
	}
	out.activeSpeaker = speakerHold.pid;
	for (const [pid, o] of Object.entries(out.participants)) o.speaking = speakerHold.pid === pid;
	window.__parleyStats = out;
	renderConn();
}

function renderQuality(t, main, rtt, video, self = false) {
	if (!main) { t.qualityEl.dataset.level = 'unknown'; t.qualityEl.textContent = ''; t.statsEl.textContent = ''; return; }
	const bitrate = (video && video.bitrate) ?? main.bitrate;
	const level = qualityLevel({ loss: (video || main).loss ?? null, rtt, bitrate: self ? null : bitrate });
	const label = { good: 'Good', fair: 'Fair', poor: 'Poor', unknown: '…' }[level];
	t.qualityEl.dataset.level = level;
	t.qualityEl.textContent = label;
	t.qualityEl.title = `Connection quality: ${label}`;
	const parts = [fmtRate(bitrate)];
	if (video && video.framesPerSecond !== null && video.framesPerSecond !== undefined) parts.push(`${Math.round(video.framesPerSecond)} fps`);
	const loss = (video || main).loss;
	if (loss !== null && loss !== undefined) parts.push(`${(loss * 100).toFixed(loss > 0 && loss < 0.01 ? 1 : 0)}% loss`);
	if (rtt !== null && rtt !== undefined) parts.push(`${Math.round(rtt * 1000)} ms`);
	t.statsEl.textContent = parts.join(' · ');
}

/* ===================================================================== */
/* Chat                                                                  */
/* ===================================================================== */

const msgEls = new Map();       // seq -> li
const pendingEls = new Map();   // client_msg_id -> li
let unread = 0;
let loadingOlder = false;
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function fmtTs(ts) {
	const d = new Date(ts);
	return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : dayFmt.format(d);
}

/** Appends `text` to `parent` as text nodes, with http(s) links as <a> elements (built, never parsed). */
function appendLinkified(parent, text) {
	const re = /\bhttps?:\/\/[^\s<>"']+/gi;
	let last = 0, m;
	while ((m = re.exec(text))) {
		let url = m[0].replace(/[.,;:!?)\]]+$/, '');
		if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
		let ok = false;
		try { ok = ['http:', 'https:'].includes(new URL(url).protocol); } catch { ok = false; }
		if (ok) parent.append(el('a', { href: url, text: url, target: '_blank', rel: 'noopener noreferrer nofollow' }));
		else parent.append(document.createTextNode(url));
		last = m.index + url.length;
		re.lastIndex = last;
	}
	if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

function whoLine(m) {
	const me = client && client.me;
	const mine = me && m.from && (m.from.id === me.id || (me.user && m.from.user === me.user));
	let who = mine ? 'You' : (m.from && m.from.display) || 'Someone';
	let direct = null;
	if (m.to) {
		const toP = client && client.participants.get(m.to);
		if (mine) direct = `to ${toP ? toP.display : 'someone who left'}`;
		else direct = 'to you';
	}
	return { who, direct, mine };
}

function renderMessage(m, pending = false) {
	const { who, direct, mine } = whoLine(m);
	const head = el('div', { className: 'msg-head' },
		el('span', { className: 'msg-from', text: who }),
		direct ? el('span', { className: 'msg-direct', text: `Direct ${direct}` }) : null,
		el('time', { className: 'msg-time', text: pending ? 'sending…' : fmtTs(m.ts), dateTime: pending ? undefined : new Date(m.ts).toISOString() }));
	const body = el('p', { className: 'msg-text' });
	appendLinkified(body, m.text);
	const li = el('li', { className: 'msg' }, head, body);
	if (mine) li.classList.add('mine');
	if (m.to) li.classList.add('direct');
	if (pending) li.classList.add('pending');
	else li.dataset.seq = String(m.seq);
	return li;
}

function nearBottom() {
	const l = $('messages');
	return l.scrollHeight - l.scrollTop - l.clientHeight < 48;
}

function scrollToBottom() {
	const l = $('messages');
	l.scrollTop = l.scrollHeight;
}

/** Inserts message elements in seq order; returns whether anything was added. */
function insertMessages(list) {
	const ol = $('messages');
	let added = false;
	for (const m of list) {
		if (msgEls.has(m.seq)) continue;
		const li = renderMessage(m);
		msgEls.set(m.seq, li);
		// before the first element with a larger seq (pending ones stay last)
		let before = null;
		for (const x of ol.children) {
			if (x.classList.contains('pending') || Number(x.dataset.seq) > m.seq) { before = x; break; }
		}
		ol.insertBefore(li, before);
		added = true;
	}
	return added;
}

function onChat(m, own) {
	const wasBottom = nearBottom();
	insertMessages([m]);
	if (own || wasBottom) scrollToBottom();
	if (!own) {
		if (!chatOpen() || document.hidden || !wasBottom) setUnread(unread + 1);
		const { who, direct } = whoLine(m);
		if (!chatOpen()) announce(`${who}${direct ? ' (direct)' : ''}: ${m.text.slice(0, 140)}`);
	}
}

function onHistory(e) {
	const ol = $('messages');
	const older = e.before !== null || (e.after === null && msgEls.size > 0);
	const h0 = ol.scrollHeight, top0 = ol.scrollTop;
	const wasBottom = nearBottom();
	$('older').hidden = !client.hasMoreHistory;
	insertMessages(e.messages);
	if (older && e.before !== null) ol.scrollTop = top0 + (ol.scrollHeight - h0);   // keep the reader's place
	else if (wasBottom || e.after === null) scrollToBottom();
}

async function loadOlder() {
	if (!client || loadingOlder || !client.hasMoreHistory || client.state !== 'joined') return;
	loadingOlder = true;
	$('older').disabled = true;
	try { await client.loadOlder(50); } catch (e) { console.debug('history', e); } finally {
		loadingOlder = false;
		$('older').disabled = false;
	}
}

$('messages').addEventListener('scroll', () => {
	if ($('messages').scrollTop < 40) loadOlder();
	if (nearBottom()) setUnread(0);
});
$('older').addEventListener('click', loadOlder);

function renderPending() {
	if (!client) return;
	const want = new Map(client.pendingMessages().map((p) => [p.client_msg_id, p]));
	for (const [id, li] of pendingEls) if (!want.has(id)) { li.remove(); pendingEls.delete(id); }
	for (const [id, p] of want) {
		if (pendingEls.has(id)) continue;
		const li = renderMessage({ from: client.me, to: p.to, text: p.text, ts: p.t }, true);
		pendingEls.set(id, li);
		$('messages').append(li);
		scrollToBottom();
	}
}

function clearChat() {
	$('messages').replaceChildren();
	msgEls.clear();
	pendingEls.clear();
	setUnread(0);
	$('typing').textContent = '';
	$('older').hidden = true;
	$('message').value = '';
}

function renderTyping() {
	if (!client) return;
	const names = [...client.typing.keys()].map((id) => client.participants.get(id)).filter(Boolean).map((p) => p.display);
	let s = '';
	if (names.length === 1) s = `${names[0]} is typing…`;
	else if (names.length === 2) s = `${names[0]} and ${names[1]} are typing…`;
	else if (names.length > 2) s = 'Several people are typing…';
	if ($('typing').textContent !== s) $('typing').textContent = s;
}

function refreshToOptions() {
	const sel = $('to');
	const cur = sel.value;
	sel.replaceChildren(el('option', { value: '', text: 'Everyone' }));
	if (client) {
		for (const p of client.participants.values()) {
			if (client.me && p.id === client.me.id) continue;
			sel.append(el('option', { value: p.id, text: `${p.display} (direct)` }));
		}
	}
	sel.value = [...sel.options].some((o) => o.value === cur) ? cur : '';
}

$('chat-form').addEventListener('submit', (e) => {
	e.preventDefault();
	const input = $('message');
	const text = input.value;
	if (!client || !text.trim()) return;
	const to = $('to').value || null;
	input.value = '';
	autosize();
	client.setTyping(false);
	client.sendChat(text, { to }).catch((err) => {
		const li = el('li', { className: 'msg system', role: 'alert' }, el('p', { className: 'msg-text', text: `Not sent: ${err.message}` }));
		$('messages').append(li);
		scrollToBottom();
	});
	setUnread(0);
});

$('message').addEventListener('keydown', (e) => {
	if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
		e.preventDefault();
		$('chat-form').requestSubmit();
	}
});

function autosize() {
	const t = $('message');
	t.style.height = 'auto';
	t.style.height = `${Math.min(t.scrollHeight, 140)}px`;
}

$('message').addEventListener('input', () => {
	autosize();
	if (client && client.state === 'joined') client.setTyping($('message').value.length > 0);
});

function chatOpen() { return !$('chat').classList.contains('closed'); }

function setChatOpen(open) {
	$('chat').classList.toggle('closed', !open);
	$('call').classList.toggle('chat-closed', !open);
	$('btn-chat').setAttribute('aria-expanded', String(open));
	if (open) {
		setUnread(0);
		scrollToBottom();
	}
}

function setUnread(n) {
	unread = n;
	const b = $('unread');
	b.hidden = n === 0;
	b.textContent = n > 99 ? '99+' : String(n);
	$('btn-chat').setAttribute('aria-label', n ? `Chat, ${n} unread` : 'Chat');
}

$('btn-chat').addEventListener('click', () => {
	const open = !chatOpen();
	setChatOpen(open);
	if (open) $('message').focus();
});
$('chat-close').addEventListener('click', () => { setChatOpen(false); $('btn-chat').focus(); });
document.addEventListener('keydown', (e) => {
	if (e.key === 'Escape' && narrow() && chatOpen() && !$('call').hidden) { setChatOpen(false); $('btn-chat').focus(); }
});
// crossing to a phone-sized layout closes the chat overlay; back to wide opens the side panel
window.matchMedia('(max-width: 800px)').addEventListener('change', (e) => {
	if (!$('call').hidden) setChatOpen(!e.matches);
});
document.addEventListener('visibilitychange', () => { if (!document.hidden && chatOpen() && nearBottom()) setUnread(0); });

/* ===================================================================== */

syncToggleLabels();
startPreview().catch((e) => setPreviewMsg(`Camera and microphone unavailable: ${e.message}`));
