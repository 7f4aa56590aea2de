// web-demo/app-chat.mjs: the chat panel of the call: messages in seq order
// (history, live, direct, pending ones), scroll-up for older history,
// typing, the recipient picker, the unread badge and opening/closing the
// panel. Text from other people only ever goes in as text nodes.

import { $, el, client, announce, narrow } from './app-common.mjs';

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

export function onChat(m, own) {
	const wasBottom = nearBottom();
	insertMessages([m]);
	if (own || wasBottom) scrollToBottom();
	if (!own) {
		if (!chatOpen() || document.hidden || !wasBottom) setUnread(unread + 1);
		const { who, direct } = whoLine(m);
		if (!chatOpen()) announce(`${who}${direct ? ' (direct)' : ''}: ${m.text.slice(0, 140)}`);
	}
}

export function onHistory(e) {
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

export function renderPending() {
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

export function clearChat() {
	$('messages').replaceChildren();
	msgEls.clear();
	pendingEls.clear();
	setUnread(0);
	$('typing').textContent = '';
	$('older').hidden = true;
	$('message').value = '';
}

export function renderTyping() {
	if (!client) return;
	const names = [...client.typing.keys()].map((id) => client.participants.get(id)).filter(Boolean).map((p) => p.display);
	let s = '';
	if (names.length === 1) s = `${names[0]} is typing…`;
	else if (names.length === 2) s = `${names[0]} and ${names[1]} are typing…`;
	else if (names.length > 2) s = 'Several people are typing…';
	if ($('typing').textContent !== s) $('typing').textContent = s;
}

export function refreshToOptions() {
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

export function setChatOpen(open) {
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
