// web-demo/app-common.mjs: what every part of the demo page shares: DOM
// helpers, the Parley client of the call (or null), the local tracks, the
// screen-reader announcer and the connection indicator of the top bar.

export const $ = (id) => document.getElementById(id);
export const params = new URLSearchParams(location.search);

/** Creates an element: el('li', { className: 'x', text: 'hi' }, child...). Text goes in as text. */
export function el(tag, props = {}, ...children) {
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

export const narrow = () => window.matchMedia('(max-width: 800px)').matches;

/* ===================================================================== */
/* State                                                                 */
/* ===================================================================== */

export const local = {
	mic: null,             // MediaStreamTrack
	cam: null,
	screen: null,
	micMuted: false,
	camOff: false,
	micDevice: localStorage.getItem('parley.mic') || '',
	camDevice: localStorage.getItem('parley.cam') || '',
};

/**
 * The Parley client of the call, or null. Other modules read it through
 * this live binding (they always see the current one); only app.mjs
 * changes it, with setClient.
 */
export let client = null;
export function setClient(c) { client = c; }

let announceTimer = null;
/** Says `s` to screen readers (the polite live region of the call). */
export function announce(s) {
	const a = $('announce');
	a.textContent = s;
	clearTimeout(announceTimer);
	announceTimer = setTimeout(() => { a.textContent = ''; }, 5000);
}

/* ===================================================================== */
/* Connection indicator                                                  */
/* ===================================================================== */

let connInfo = { state: 'idle' };

export function setConn(state, extra = {}) {
	connInfo = { state, ...extra };
	renderConn();
}

export function renderConn() {
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
