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
//
// The page is split by concern into sibling modules: app-common.mjs (DOM
// helpers, the client, the local tracks, the connection indicator),
// app-audio.mjs (AudioContext, microphone level), app-media.mjs (preview,
// devices, mute toggles, screen share), app-tiles.mjs (the video grid),
// app-stats.mjs (quality, active speaker, __parleyStats) and app-chat.mjs
// (the chat panel). This file joins and leaves the call and routes the
// client's events to them.

import { Parley, isValidRoom, isValidDisplay } from './parley.js';
import { $, params, local, client, setClient, announce, narrow, setConn, renderConn } from './app-common.mjs';
import { ensureAudioCtx } from './app-audio.mjs';
import { startPreview, setPreviewMsg, syncToggleLabels, stopScreenShare } from './app-media.mjs';
import { tiles, rebuildTiles, refreshParticipantMedia } from './app-tiles.mjs';
import { startStatsLoop, stopStatsLoop } from './app-stats.mjs';
import {
	onChat, onHistory, renderPending, renderTyping, refreshToOptions, clearChat, setChatOpen,
} from './app-chat.mjs';

/* ===================================================================== */
/* Lobby: the form (the preview and devices are in app-media.mjs)        */
/* ===================================================================== */

if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');
if (params.get('token')) { $('token').value = params.get('token'); $('token-field').hidden = false; }

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
		if (client === c) setClient(null);
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
	const c = new Parley({ log: (s) => console.debug(`[parley] ${s}`) });
	setClient(c);
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
	setClient(null);
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
/* The client's events                                                   */
/* ===================================================================== */

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

function onJoined(e) {
	if (e.rejoin) {
		announce('Reconnected');
		rebuildTiles();
		refreshToOptions();
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

/* ===================================================================== */

syncToggleLabels();
startPreview().catch((e) => setPreviewMsg(`Camera and microphone unavailable: ${e.message}`));
