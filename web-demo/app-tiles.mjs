// web-demo/app-tiles.mjs: the call's video grid: a tile per participant
// (and one per second video, shown as a screen share), our own tile, the
// grid layout, and the "Turn on sound" button when autoplay is refused.

import { $, el, local, client } from './app-common.mjs';
import { ensureAudioCtx } from './app-audio.mjs';

/** key -> { key, pid, screen, li, video, audio, nameEl, micEl, qualityEl, statsEl, avatar } */
export const tiles = new Map();

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

export function rebuildTiles() {
	for (const t of tiles.values()) t.li.remove();
	tiles.clear();
	refreshLocalTile();
	if (!client) return;
	for (const p of client.participants.values()) refreshParticipantMedia(p.id);
}

export function refreshLocalTile() {
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
export function serverState(p) {
	const tr = p ? [...p.tracks.values()] : [];
	const audio = tr.filter((t) => t.kind === 'audio');
	const video = tr.filter((t) => t.kind === 'video');
	return {
		micMuted: !audio.some((t) => !t.muted),
		mutedTrackIds: new Set(tr.filter((t) => t.muted).map((t) => t.id)),
		cameraOff: !video.some((t) => !t.muted),
	};
}

export function refreshParticipantMedia(pid) {
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
