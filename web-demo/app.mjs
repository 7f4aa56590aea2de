// web-demo/app.mjs: the demo page's chat and presence over parleyd's
// signaling protocol (docs/protocol.md).  Text from other people is always
// inserted with textContent, never as HTML.
const $ = (id) => document.getElementById(id);
const people = new Map();
let ws = null, me = null, nextId = 1, typingTimer = null;

const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');

function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }
function setStatus(s) { $('status').textContent = s; }

function renderPeople() {
  const ul = $('people');
  ul.replaceChildren();
  for (const p of [me, ...people.values()]) {
    if (!p) continue;
    const li = document.createElement('li');
    li.textContent = p.display + (p === me ? ' (you)' : '');
    ul.append(li);
  }
}

function addMessage(m) {
  const li = document.createElement('li');
  li.dataset.seq = m.seq;
  const from = document.createElement('span');
  from.className = 'from';
  from.textContent = m.from.display + (m.to ? ' (direct)' : '');
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = m.text;
  li.append(from, text);
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
}

function onMessage(ev) {
  const m = JSON.parse(ev.data);
  switch (m.type) {
    case 'joined':
      me = m.you;
      people.clear();
      for (const p of m.participants) people.set(p.id, p);
      $('join-form').hidden = true;
      $('call').hidden = false;
      setStatus(`in ${m.room}`);
      renderPeople();
      send({ type: 'history', id: nextId++, limit: 50 });
      break;
    case 'participant':
      if (m.event === 'left') people.delete(m.participant.id);
      else people.set(m.participant.id, m.participant);
      renderPeople();
      break;
    case 'history':
      $('messages').replaceChildren();
      for (const c of m.messages) addMessage(c);
      break;
    case 'chat': addMessage(m); break;
    case 'typing': {
      const p = people.get(m.from);
      $('typing').textContent = m.active && p ? `${p.display} is typing…` : '';
      break;
    }
    case 'error': setStatus(`error: ${m.code} — ${m.message}`); break;
  }
}

$('join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, 'parley.v1');
  ws.onopen = () => {
    const join = { type: 'join', id: nextId++, room: $('room').value, display: $('name').value };
    if ($('token').value) join.token = $('token').value;
    send(join);
  };
  ws.onmessage = onMessage;
  ws.onclose = () => { setStatus('disconnected'); $('join-form').hidden = false; $('call').hidden = true; };
  setStatus('connecting…');
});

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('message').value;
  if (!text) return;
  send({ type: 'chat', id: nextId++, text, client_msg_id: crypto.randomUUID() });
  send({ type: 'typing', active: false });
  $('message').value = '';
});

$('message').addEventListener('input', () => {
  if (!typingTimer) send({ type: 'typing', active: true });
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { typingTimer = null; send({ type: 'typing', active: false }); }, 3000);
});

$('leave').addEventListener('click', () => { send({ type: 'leave' }); ws.close(); });
