// Messenger web client: plain JavaScript, no framework, no build step.
//
// It speaks only the public protocol (docs/protocol.md): HTTP for accounts, search and chat
// management, the `/events` WebSocket for the chat list, and one `/chat/{id}` WebSocket for the
// open conversation. User data only ever reaches the page through textContent.

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (sel, root = document) => root.querySelector(sel);

/** Builds an element. Text children become text nodes (never HTML). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
// 24×24 stroke icons: "M…" is a path, "c:x,y,r" a circle.
const ICONS = {
  back: ['M15 18l-6-6 6-6'],
  compose: ['M21 12a8.5 8.5 0 0 1-12.3 7.6L3 21l1.4-5.2A8.5 8.5 0 1 1 21 12z', 'M12 8.5v7', 'M8.5 12h7'],
  signout: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  info: ['c:12,12,9', 'M12 16v-4.5', 'M12 8h.01'],
  send: ['M4 12l16-8-6 16-2.5-6.5z', 'M11.5 13.5L20 4'],
  clock: ['c:12,12,8', 'M12 8v4l2.5 1.5'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  alert: ['c:12,12,9', 'M12 7.5v5.5', 'M12 16.5h.01'],
  edit: ['M12 20h8', 'M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z'],
  trash: ['M4 7h16', 'M9 7V4.5h6V7', 'M18 7l-.9 12.1a2 2 0 0 1-2 1.9H8.9a2 2 0 0 1-2-1.9L6 7', 'M10 11v6', 'M14 11v6'],
  close: ['M18 6L6 18', 'M6 6l12 12'],
  search: ['c:11,11,7', 'M20 20l-4-4'],
  down: ['M12 5v14', 'M18 13l-6 6-6-6'],
  users: ['M16 20v-1.5a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4V20', 'c:9.5,7.5,3.5', 'M21 20v-1.5a4 4 0 0 0-3-3.8', 'M15.5 4.2a3.5 3.5 0 0 1 0 6.6'],
  retry: ['M3 12a9 9 0 0 1 15.5-6.3L21 8', 'M21 3v5h-5', 'M21 12a9 9 0 0 1-15.5 6.3L3 16', 'M3 21v-5h5'],
};
function icon(name, cls = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ICONS[name]) {
    let shape;
    if (d.startsWith('c:')) {
      const [cx, cy, r] = d.slice(2).split(',');
      shape = document.createElementNS(SVG_NS, 'circle');
      shape.setAttribute('cx', cx);
      shape.setAttribute('cy', cy);
      shape.setAttribute('r', r);
    } else {
      shape = document.createElementNS(SVG_NS, 'path');
      shape.setAttribute('d', d);
    }
    svg.append(shape);
  }
  return svg;
}
function setIcon(el, name) {
  el.replaceChildren(icon(name));
}

/** A client_id: random, at most 64 characters. */
function uid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function initials(name) {
  const parts = String(name || '?').split(/[\s._]+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : String(name || '?').slice(0, 2);
  return s.toUpperCase();
}
function hashOf(s) {
  let x = 0;
  for (const ch of String(s)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x;
}
/** Fills an avatar element: initials on a colour picked from the name. */
function paintAvatar(el, name, group = false) {
  el.textContent = '';
  for (const c of [...el.classList]) if (/^c\d$/.test(c)) el.classList.remove(c);
  el.classList.add('avatar', `c${hashOf(name) % 8}`);
  el.classList.toggle('group', group);
  el.append(group ? icon('users', 'icon avatar-icon') : initials(name));
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}
function dayDiff(d) {
  return Math.round((startOfDay(new Date()) - startOfDay(d)) / 86400000);
}
function listTime(iso) {
  const d = new Date(iso);
  const diff = dayDiff(d);
  if (diff === 0) return timeFmt.format(d);
  if (diff > 0 && diff < 7) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}
function dayLabel(d) {
  const diff = dayDiff(d);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return longDateFmt.format(d);
}

const store = {
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* private mode: the session just won't survive a reload */
    }
  },
  del(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

function backoff(attempt) {
  const base = Math.min(8000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

const finePointer = matchMedia('(pointer: fine)');

// ---------------------------------------------------------------------------------------------
// Session and HTTP

const SESSION_KEY = 'messenger.session';
let session = store.get(SESSION_KEY); // {token, user}
if (!session || typeof session.token !== 'string' || !session.user) session = null;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One HTTP call of the protocol. Throws ApiError (status 0 = network). A 401 ends the session. */
async function api(method, path, body, { auth = true } = {}) {
  const headers = {};
  const token = session?.token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth && token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const code = data?.error?.code || `http_${res.status}`;
    const message = data?.error?.message || res.statusText || `HTTP ${res.status}`;
    if (res.status === 401 && auth && token && session?.token === token) sessionEnded();
    throw new ApiError(res.status, code, message);
  }
  return data;
}

function wsUrl(path, extra = '') {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}?token=${encodeURIComponent(session.token)}${extra}`;
}

/** Human text for an error, for toasts and form messages. */
function errorText(e) {
  switch (e.code) {
    case 'network':
      return 'Cannot reach the server. Check your connection.';
    case 'rate_limited':
      return 'Too many requests. Please wait a moment and try again.';
    case 'unavailable':
      return 'The service is temporarily unavailable. Please try again shortly.';
    case 'forbidden':
      return 'You are not allowed to do that.';
    case 'not_found':
      return 'That no longer exists.';
    case 'too_large':
      return 'That is too large.';
    default:
      return e.message ? capitalise(stripField(e.message)) : 'Something went wrong.';
  }
}
function stripField(message) {
  const m = /^[a-z_]+:\s*(.*)$/s.exec(message);
  return m ? m[1] : message;
}
function capitalise(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------
// Known users: names are learnt from search results, direct chats and our own account, kept
// per account in localStorage, and an unknown id is looked up once with GET /users/{id}.

const names = new Map();
function namesKey() {
  return `messenger.names.${session?.user?.user_id}`;
}
function loadNames() {
  names.clear();
  nameLookups.clear();
  const saved = store.get(namesKey());
  if (saved && typeof saved === 'object') for (const [id, n] of Object.entries(saved)) names.set(Number(id), n);
  if (session) names.set(session.user.user_id, session.user.username);
}
let namesSaveTimer = 0;
function learnName(userId, username) {
  if (!username || names.get(userId) === username) return;
  names.set(userId, username);
  clearTimeout(namesSaveTimer);
  namesSaveTimer = setTimeout(() => session && store.set(namesKey(), Object.fromEntries(names)), 200);
}
function learnFromChat(chat) {
  if (chat.kind === 'direct' && session) {
    const other = chat.participants.find((id) => id !== session.user.user_id);
    if (other != null) learnName(other, chat.name);
  }
}
const nameLookups = new Set();
function nameOf(userId) {
  const known = names.get(userId);
  if (known) return known;
  lookUpName(userId);
  return `User ${userId}`;
}
function lookUpName(userId) {
  if (nameLookups.has(userId) || !session) return;
  nameLookups.add(userId);
  api('GET', `/users/${userId}`)
    .then((user) => {
      learnName(user.user_id, user.username);
      // Whatever showed the placeholder shows the name now.
      renderChatList();
      if (conv) {
        conv.renderHeader();
        if (conv.loaded) conv.layout();
      }
      if (currentRoute.name === 'info') renderSettings();
    })
    .catch(() => {
      // Unknown or unreachable: keep the placeholder; a later render may try again.
      setTimeout(() => nameLookups.delete(userId), 30000);
    });
}
function meId() {
  return session?.user?.user_id;
}

// ---------------------------------------------------------------------------------------------
// Toasts and the confirmation dialog

function toast(text, kind = 'info') {
  const el = h('div', { class: `toast ${kind}`, 'data-testid': 'toast' }, text);
  $('#toasts').append(el);
  setTimeout(() => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 300);
  }, 4000);
}

function confirmDialog({ title, text, ok = 'Delete' }) {
  const dlg = $('#confirm-dialog');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text || '';
  $('#confirm-ok').textContent = ok;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (value) => {
      $('#confirm-ok').onclick = null;
      $('#confirm-cancel').onclick = null;
      dlg.oncancel = null;
      if (dlg.open) dlg.close();
      if (opener && opener.isConnected) opener.focus();
      resolve(value);
    };
    $('#confirm-ok').onclick = () => done(true);
    $('#confirm-cancel').onclick = () => done(false);
    dlg.oncancel = (e) => {
      e.preventDefault();
      done(false);
    };
    dlg.showModal();
  });
}

// ---------------------------------------------------------------------------------------------
// Sign in / sign up

const authEl = $('#auth');
const appEl = $('#app');
const signinForm = $('#signin-form');
const signupForm = $('#signup-form');

function showAuth(mode = 'signin', notice = '') {
  appEl.hidden = true;
  authEl.hidden = false;
  document.title = 'Messenger';
  const form = mode === 'signup' ? signupForm : signinForm;
  signinForm.hidden = mode !== 'signin';
  signupForm.hidden = mode !== 'signup';
  $('#auth-subtitle').textContent = mode === 'signup' ? 'Create your account' : 'Sign in to continue';
  clearFormErrors(form);
  if (notice) $('.form-error', form).textContent = notice;
  form.elements.phone.focus();
}

function clearFormErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) el.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function setFieldError(form, field, text) {
  const input = form.elements[field];
  if (!input) {
    $('.form-error', form).textContent = text;
    return;
  }
  $(`#${input.id}-error`).textContent = text;
  input.setAttribute('aria-invalid', 'true');
}

/** Puts a server error next to the field it is about. */
function showAuthError(form, e) {
  switch (e.code) {
    case 'invalid_input': {
      const m = /^([a-z_]+):\s*(.*)$/s.exec(e.message || '');
      if (m && form.elements[m[1]]) setFieldError(form, m[1], capitalise(m[2]) + '.');
      else $('.form-error', form).textContent = capitalise(e.message || 'Please check the form.');
      break;
    }
    case 'phone_taken':
      setFieldError(form, 'phone', 'This phone number is already registered. Sign in instead?');
      break;
    case 'username_taken':
      setFieldError(form, 'username', 'This username is already taken. Try another one.');
      break;
    case 'invalid_credentials':
      $('.form-error', form).textContent = 'Wrong phone number or password.';
      form.elements.password.setAttribute('aria-invalid', 'true');
      break;
    default:
      $('.form-error', form).textContent = errorText(e);
  }
  const invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
}

async function submitAuth(form, path, fields) {
  clearFormErrors(form);
  const body = {};
  for (const f of fields) body[f] = form.elements[f].value;
  body.phone = body.phone.trim();
  if ('username' in body) body.username = body.username.trim();
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const res = await api('POST', path, body, { auth: false });
    form.reset();
    startSession(res);
  } catch (e) {
    showAuthError(form, e);
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  submitAuth(signinForm, '/login', ['phone', 'password']);
});
signupForm.addEventListener('submit', (e) => {
  e.preventDefault();
  submitAuth(signupForm, '/register', ['phone', 'username', 'password']);
});
for (const form of [signinForm, signupForm]) {
  form.addEventListener('input', (e) => {
    const input = e.target;
    if (input.getAttribute('aria-invalid')) {
      input.removeAttribute('aria-invalid');
      const err = document.getElementById(`${input.id}-error`);
      if (err) err.textContent = '';
    }
  });
}
$('#to-signup').addEventListener('click', () => showAuth('signup'));
$('#to-signin').addEventListener('click', () => showAuth('signin'));

function startSession(res) {
  session = { token: res.token, user: res.user };
  store.set(SESSION_KEY, session);
  if (location.hash) history.replaceState(null, '', location.pathname);
  startApp();
}

/** The token was revoked or expired: back to sign-in. */
function sessionEnded() {
  if (!session) return;
  stopApp();
  session = null;
  store.del(SESSION_KEY);
  showAuth('signin', 'Your session has ended. Please sign in again.');
}

async function signOut() {
  const token = session?.token;
  stopApp();
  session = null;
  store.del(SESSION_KEY);
  showAuth('signin');
  if (token) {
    fetch('/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The app shell and routing

let started = false;
let currentRoute = { name: 'list' };

function parseRoute() {
  const m = /^#\/chat\/(\d+)(\/info)?$/.exec(location.hash);
  if (m) return { name: m[2] ? 'info' : 'chat', chatId: Number(m[1]) };
  if (location.hash === '#/people') return { name: 'people' };
  return { name: 'list' };
}

function startApp() {
  started = true;
  loadNames();
  authEl.hidden = true;
  appEl.hidden = false;
  renderMe();
  chatsLoaded = false;
  renderChatList();
  feedConnect();
  resyncChats();
  api('GET', '/me')
    .then((user) => {
      if (!session || user.user_id !== session.user.user_id) return;
      session.user = user;
      store.set(SESSION_KEY, session);
      renderMe();
    })
    .catch(() => {});
  route();
}

function stopApp() {
  started = false;
  feedStop();
  if (conv) conv.destroy();
  conv = null;
  drafts.clear();
  composerInput.value = '';
  chats.clear();
  for (const li of chatEls.values()) li.remove();
  chatEls.clear();
  resetPeople();
  $('#toasts').replaceChildren();
  if (location.hash) history.replaceState(null, '', location.pathname);
  currentRoute = { name: 'list' };
}

function renderMe() {
  const u = session.user;
  $('#me-name').textContent = u.username;
  $('#me-phone').textContent = u.phone || '';
  paintAvatar($('#me-avatar'), u.username);
}

function route() {
  if (!session || !started) return;
  const prev = currentRoute;
  const r = parseRoute();
  currentRoute = r;
  appEl.dataset.pane = r.name === 'list' ? 'list' : 'main';
  const inChat = r.name === 'chat' || r.name === 'info';
  if (inChat) {
    if (!conv || conv.chatId !== r.chatId) {
      if (conv) conv.destroy();
      conv = new Conversation(r.chatId);
      conv.start();
    }
  } else if (conv) {
    conv.destroy();
    conv = null;
  }
  $('#empty-view').hidden = inChat || r.name === 'people';
  $('#conversation').hidden = r.name !== 'chat';
  $('#settings').hidden = r.name !== 'info';
  $('#people').hidden = r.name !== 'people';
  if (r.name === 'info') renderSettings();
  if (r.name === 'people') enterPeople();
  else leavePeople();
  renderChatList();

  // Focus follows the view.
  const same = prev.name === r.name && prev.chatId === r.chatId;
  if (same) return;
  if (r.name === 'chat') {
    conv.markRead();
    if (prev.name === 'info' && prev.chatId === r.chatId) $('#conv-info').focus();
    else if (finePointer.matches) $('#composer-input').focus();
    else $('#conv-title').focus();
  } else if (r.name === 'info') {
    $('#settings-title').focus();
  } else if (r.name === 'people') {
    $('#people-search').focus();
  } else if (prev.chatId != null && chatEls.has(prev.chatId)) {
    $('a', chatEls.get(prev.chatId)).focus();
  }
}
window.addEventListener('hashchange', route);

$('#sign-out').addEventListener('click', () => signOut());
$('#new-chat').addEventListener('click', () => {
  if (currentRoute.name === 'people') $('#people-search').focus();
});
setIcon($('#sign-out'), 'signout');
setIcon($('#new-chat'), 'compose');
for (const el of document.querySelectorAll('.back')) setIcon(el, 'back');
setIcon($('#conv-info'), 'info');
setIcon($('#send-btn'), 'send');
setIcon($('#dm-send'), 'send');
setIcon($('#edit-cancel'), 'close');
setIcon($('#dm-close'), 'close');
setIcon($('#jump-bottom'), 'down');
for (const el of document.querySelectorAll('.search-icon')) setIcon(el, 'search');
$('.edit-icon').append(icon('edit'));

// ---------------------------------------------------------------------------------------------
// Chat list, kept live by the /events socket

const chats = new Map(); // chat_id -> Chat
const chatEls = new Map(); // chat_id -> <li>
let chatsLoaded = false;

function activity(chat) {
  return chat.last_message ? chat.last_message.created_at : chat.created_at;
}
function sortedChats() {
  return [...chats.values()].sort((a, b) => {
    const x = activity(b).localeCompare(activity(a));
    return x || b.chat_id - a.chat_id;
  });
}
function isViewing(chatId) {
  return (
    conv != null &&
    conv.chatId === chatId &&
    currentRoute.name === 'chat' &&
    document.visibilityState === 'visible'
  );
}
function previewText(chat) {
  const m = chat.last_message;
  if (!m) return chat.kind === 'group' ? 'Group created' : 'No messages yet';
  const text = m.text.replace(/\s+/g, ' ').trim();
  if (m.author_id === meId()) return `You: ${text}`;
  if (chat.kind === 'group') return `${nameOf(m.author_id)}: ${text}`;
  return text;
}

function buildChatItem(chatId) {
  const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
  const name = h('span', { class: 'chat-name', 'data-testid': 'chat-name' });
  const time = h('time', { class: 'chat-time' });
  const preview = h('span', { class: 'chat-preview', 'data-testid': 'chat-preview' });
  const badge = h('span', { class: 'badge', 'data-testid': 'unread-badge' });
  const a = h(
    'a',
    { class: 'chat-item', href: `#/chat/${chatId}`, 'data-testid': 'chat-item', 'data-chat-id': chatId },
    avatar,
    h('span', { class: 'chat-body' }, h('span', { class: 'chat-row' }, name, time), h('span', { class: 'chat-row' }, preview, badge)),
  );
  const li = h('li', {}, a);
  li.parts = { a, avatar, name, time, preview, badge };
  return li;
}

function fillChatItem(li, chat) {
  const p = li.parts;
  paintAvatar(p.avatar, chat.name, chat.kind === 'group');
  p.name.textContent = chat.name;
  const t = activity(chat);
  p.time.textContent = listTime(t);
  p.time.setAttribute('datetime', t);
  p.preview.textContent = previewText(chat);
  const unread = chat.unread_count || 0;
  p.badge.hidden = unread === 0;
  p.badge.replaceChildren(String(unread > 99 ? '99+' : unread), h('span', { class: 'visually-hidden' }, ' unread'));
  p.a.classList.toggle('unread', unread > 0);
  const selected = conv != null && conv.chatId === chat.chat_id && currentRoute.name !== 'list';
  if (selected) p.a.setAttribute('aria-current', 'page');
  else p.a.removeAttribute('aria-current');
}

function renderChatList() {
  const ul = $('#chat-list');
  const list = sortedChats();
  $('#chat-list-loading').hidden = chatsLoaded || list.length > 0;
  $('#chat-list-empty').hidden = !chatsLoaded || list.length > 0;
  const focused = document.activeElement;
  let prev = null;
  const seen = new Set();
  for (const chat of list) {
    let li = chatEls.get(chat.chat_id);
    if (!li) {
      li = buildChatItem(chat.chat_id);
      chatEls.set(chat.chat_id, li);
    }
    fillChatItem(li, chat);
    const want = prev ? prev.nextSibling : ul.firstChild;
    if (want !== li) ul.insertBefore(li, want);
    prev = li;
    seen.add(chat.chat_id);
  }
  for (const [id, li] of chatEls) {
    if (!seen.has(id)) {
      li.remove();
      chatEls.delete(id);
    }
  }
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
  const total = list.reduce((n, c) => n + (c.unread_count || 0), 0);
  document.title = total ? `(${total}) Messenger` : 'Messenger';
}

function upsertChat(chat) {
  learnFromChat(chat);
  if (isViewing(chat.chat_id)) chat = { ...chat, unread_count: 0 };
  chats.set(chat.chat_id, chat);
  renderChatList();
  if (conv?.chatId === chat.chat_id) {
    conv.renderHeader();
    if (conv.loaded) conv.layout(); // author names depend on the chat's kind
  }
  if (currentRoute.name === 'info' && currentRoute.chatId === chat.chat_id) renderSettings();
}

const chatFetches = new Map();
function fetchChat(chatId) {
  if (chatFetches.has(chatId)) return chatFetches.get(chatId);
  const p = api('GET', `/chats/${chatId}`)
    .then((chat) => {
      if (session) upsertChat(chat);
      return chat;
    })
    .catch((e) => {
      if (e.status === 404) dropChat(chatId, 'gone');
      return null;
    })
    .finally(() => chatFetches.delete(chatId));
  chatFetches.set(chatId, p);
  return p;
}

/** The chat is gone for us (deleted, left, removed). `how`: quiet | gone | removed. */
function dropChat(chatId, how = 'gone') {
  const chat = chats.get(chatId);
  chats.delete(chatId);
  renderChatList();
  const wasOpen = conv?.chatId === chatId;
  if (wasOpen) {
    conv.destroy();
    conv = null;
  }
  if (how !== 'quiet' && (wasOpen || chat)) {
    const name = chat ? `“${chat.name}”` : 'This chat';
    toast(how === 'removed' ? `${name} is no longer available to you.` : `${name} is no longer available.`);
  }
  if ((currentRoute.name === 'chat' || currentRoute.name === 'info') && currentRoute.chatId === chatId) {
    location.hash = '#/';
  }
}

/** A message seen on any socket: moves the chat up, updates the preview and the unread count. */
function noteMessage(msg) {
  const chat = chats.get(msg.chat_id);
  if (!chat) {
    fetchChat(msg.chat_id);
    return;
  }
  if (chat.last_message && msg.message_id <= chat.last_message.message_id) return; // seen already
  chat.last_message = msg;
  if (msg.author_id !== meId() && !isViewing(msg.chat_id)) chat.unread_count = (chat.unread_count || 0) + 1;
  renderChatList();
}
function noteEdit(msg) {
  const chat = chats.get(msg.chat_id);
  if (chat?.last_message?.message_id === msg.message_id) {
    chat.last_message = msg;
    renderChatList();
  }
}
function noteDelete(chatId, messageId) {
  const chat = chats.get(chatId);
  if (!chat) return;
  if (chat.last_message?.message_id === messageId || chat.unread_count > 0) fetchChat(chatId);
}

// Feed frames that arrive while GET /chats is in flight wait for it, then apply on top.
let resyncing = null;
let resyncAgain = false;
const feedQueue = [];

function resyncChats() {
  if (resyncing) {
    resyncAgain = true;
    return resyncing;
  }
  resyncing = (async () => {
    do {
      resyncAgain = false;
      try {
        const list = await api('GET', '/chats');
        if (!session) return;
        chats.clear();
        for (const chat of list) {
          learnFromChat(chat);
          chats.set(chat.chat_id, isViewing(chat.chat_id) ? { ...chat, unread_count: 0 } : chat);
        }
        chatsLoaded = true;
      } catch (e) {
        if (e.status === 401 || !session) return;
        if (!chatsLoaded) toast(errorText(e), 'error');
      }
    } while (resyncAgain);
  })().finally(() => {
    resyncing = null;
    if (!session) return;
    for (const f of feedQueue.splice(0)) applyFeedFrame(f);
    renderChatList();
    if (conv) conv.renderHeader();
    if (currentRoute.name === 'info') renderSettings();
  });
  return resyncing;
}

const feed = { ws: null, attempt: 0, timer: 0, stopped: true };

function feedConnect() {
  feed.stopped = false;
  clearTimeout(feed.timer);
  const ws = new WebSocket(wsUrl('/events'));
  feed.ws = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
  };
  ws.onmessage = (e) => {
    if (feed.ws !== ws) return;
    let f;
    try {
      f = JSON.parse(e.data);
    } catch {
      return;
    }
    if (f.type === 'ready') {
      // From now on nothing is missed: (re)load the list, applying later frames on top.
      feed.attempt = 0;
      $('#feed-banner').hidden = true;
      resyncChats();
      return;
    }
    if (resyncing) feedQueue.push(f);
    else applyFeedFrame(f);
  };
  ws.onclose = (e) => {
    if (feed.ws !== ws) return;
    feed.ws = null;
    if (feed.stopped) return;
    if (e.code === 4001) {
      sessionEnded();
      return;
    }
    const banner = $('#feed-banner');
    banner.textContent = 'Offline. Reconnecting…';
    banner.hidden = false;
    const delay = e.code === 4008 ? 100 : backoff(feed.attempt++);
    feed.timer = setTimeout(async () => {
      if (!opened && session) {
        // The upgrade itself failed: a revoked token shows up here as a 401.
        try {
          await api('GET', '/me');
        } catch {
          /* offline: just try again */
        }
      }
      if (!feed.stopped && session) feedConnect();
    }, delay);
  };
}

function feedStop() {
  feed.stopped = true;
  clearTimeout(feed.timer);
  feedQueue.length = 0;
  if (feed.ws) {
    const ws = feed.ws;
    feed.ws = null;
    ws.close(1000);
  }
  feed.attempt = 0;
  $('#feed-banner').hidden = true;
}

function applyFeedFrame(f) {
  switch (f.type) {
    case 'ChatCreated':
    case 'ChatUpdated':
      if (f.chat) upsertChat(f.chat);
      break;
    case 'ChatDeleted':
      if (chats.has(f.chat_id) || conv?.chatId === f.chat_id) dropChat(f.chat_id, 'removed');
      break;
    case 'MessageCreated':
      noteMessage(f.message);
      if (conv?.chatId === f.message.chat_id) conv.fromFeed(f);
      break;
    case 'MessageUpdated':
      noteEdit(f.message);
      if (conv?.chatId === f.message.chat_id) conv.fromFeed(f);
      break;
    case 'MessageDeleted':
      if (conv?.chatId === f.chat_id) conv.fromFeed(f);
      noteDelete(f.chat_id, f.message_id);
      break;
    case 'read':
      noteRead(f);
      break;
    default:
      break; // unknown frames are ignored (the protocol only grows)
  }
}

function noteRead(f) {
  if (f.user_id !== meId()) return;
  const chat = chats.get(f.chat_id);
  if (!chat) return;
  chat.last_read_message_id = Math.max(chat.last_read_message_id ?? 0, f.message_id);
  if (!chat.last_message || f.message_id >= chat.last_message.message_id) {
    if (chat.unread_count) {
      chat.unread_count = 0;
      renderChatList();
    }
  } else if (chat.unread_count) {
    fetchChat(chat.chat_id); // read up to the middle (another tab): ask the server for the count
  }
}

// ---------------------------------------------------------------------------------------------
// One conversation: its /chat/{id} socket and the message list

let conv = null;
const messagesEl = $('#messages');
const composerInput = $('#composer-input');
const drafts = new Map();

class Conversation {
  constructor(chatId) {
    this.chatId = chatId;
    this.items = new Map(); // message_id -> {msg, el}
    this.outbox = new Map(); // client_id -> {kind, frame, el?, prev?, failed?}
    this.streamId = null; // the highest message id received on this chat's stream
    this.hasMore = false;
    this.loadingMore = false;
    this.loaded = false; // the first history arrived
    this.ws = null;
    this.live = false;
    this.attempt = 0;
    this.timer = 0;
    this.countdown = 0;
    this.closed = false;
    this.online = [];
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.readSent = chats.get(chatId)?.last_read_message_id ?? 0;
    this.seps = new Map();
    this.editing = null;
  }

  get chat() {
    return chats.get(this.chatId);
  }

  start() {
    for (const el of [...messagesEl.children]) if (el.id !== 'messages-top') el.remove();
    messagesEl.classList.add('loading');
    messagesEl.setAttribute('aria-busy', 'true');
    $('#load-older').hidden = true;
    $('#history-start').hidden = true;
    $('#jump-bottom').hidden = true;
    this.showBanner(false);
    this.cancelEdit(false);
    composerInput.value = drafts.get(this.chatId) || '';
    autosize(composerInput);
    $('#conversation').dataset.chatId = this.chatId;
    $('#conv-info').href = `#/chat/${this.chatId}/info`;
    $('#settings-back').href = `#/chat/${this.chatId}`;
    this.renderHeader();
    if (!this.chat) fetchChat(this.chatId);
    this.connect();
  }

  destroy() {
    this.closed = true;
    this.live = false;
    clearTimeout(this.timer);
    clearInterval(this.countdown);
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
    drafts.set(this.chatId, this.editing == null ? composerInput.value : this.savedDraft || '');
    this.cancelEdit(false);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    for (const el of [...messagesEl.children]) if (el.id !== 'messages-top') el.remove();
    this.showBanner(false);
  }

  // -- the socket --

  connect() {
    clearTimeout(this.timer);
    if (this.closed) return;
    // After the first history, reconnect from the last id we hold so nothing is missed.
    const extra = this.loaded ? `&after=${this.streamId ?? 0}` : '';
    const ws = new WebSocket(wsUrl(`/chat/${this.chatId}`, extra));
    this.ws = ws;
    this.awaitingHistory = true;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let f;
      try {
        f = JSON.parse(e.data);
      } catch {
        return;
      }
      this.onFrame(f);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.live = false;
      this.loadingMore = false;
      this.renderLoadOlder();
      this.clearTypers();
      if (this.closed) return;
      if (e.code === 4001) {
        sessionEnded();
        return;
      }
      if (e.code === 4003) {
        dropChat(this.chatId, 'removed');
        return;
      }
      if (!opened && !this.loaded && this.attempt === 0) {
        // The very first upgrade was refused: find out why at once (a bad link is a 404).
        this.attempt++;
        this.scheduleReconnect(0, opened, false);
        return;
      }
      const delay = e.code === 4008 || (e.code === 1001 && this.attempt === 0) ? 200 : backoff(this.attempt++);
      this.scheduleReconnect(delay, opened);
    };
  }

  scheduleReconnect(delay, opened, banner = true) {
    this.retryAt = Date.now() + delay;
    if (banner) this.showBanner(true);
    clearInterval(this.countdown);
    this.countdown = setInterval(() => this.renderBannerText(), 500);
    this.timer = setTimeout(async () => {
      clearInterval(this.countdown);
      this.retryAt = 0;
      this.renderBannerText();
      if (!opened) {
        // The upgrade failed: a network problem, or is the chat gone (404) / the token dead (401)?
        try {
          const chat = await api('GET', `/chats/${this.chatId}`);
          if (!this.closed) upsertChat(chat);
        } catch (e) {
          if (e.status === 404) {
            dropChat(this.chatId, 'gone');
            return;
          }
          if (e.status === 401) return;
        }
      }
      this.connect();
    }, delay);
  }

  reconnectNow() {
    if (this.closed || this.live) return;
    if (this.ws) {
      // still connecting: let it be
      return;
    }
    clearTimeout(this.timer);
    clearInterval(this.countdown);
    this.connect();
  }

  showBanner(on) {
    $('#conv-banner').hidden = !on;
    $('#conversation').classList.toggle('offline', on);
    if (on) this.renderBannerText();
  }

  renderBannerText() {
    const left = this.retryAt ? Math.ceil((this.retryAt - Date.now()) / 1000) : 0;
    $('#conv-banner-text').textContent =
      left > 1 ? `Offline. Reconnecting in ${left} s…` : 'Offline. Reconnecting…';
  }

  send(frame) {
    if (this.live && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  onFrame(f) {
    switch (f.type) {
      case 'history':
        this.onHistory(f);
        break;
      case 'presence':
        this.online = Array.isArray(f.online) ? f.online : [];
        this.renderHeader();
        if (currentRoute.name === 'info') renderMembers();
        break;
      case 'MessageCreated': {
        const m = f.message;
        this.bump(m.message_id);
        const stick = this.nearBottom();
        this.upsert(m);
        this.layout();
        this.afterNew(stick, m.author_id === meId());
        noteMessage(m);
        this.stopTyper(m.author_id);
        this.markRead();
        break;
      }
      case 'MessageUpdated':
        this.upsert(f.message, true);
        noteEdit(f.message);
        break;
      case 'MessageDeleted':
        this.remove(f.message_id);
        noteDelete(f.chat_id ?? this.chatId, f.message_id);
        break;
      case 'ack':
        this.onAck(f);
        break;
      case 'error':
        this.onError(f);
        break;
      case 'typing':
        if (f.user_id !== meId()) this.startTyper(f.user_id);
        break;
      case 'read':
        noteRead({ chat_id: this.chatId, ...f });
        break;
      default:
        break;
    }
  }

  onHistory(f) {
    const messages = Array.isArray(f.messages) ? f.messages : [];
    if (this.awaitingHistory) {
      this.awaitingHistory = false;
      const reconnect = this.loaded;
      const stick = !reconnect || this.nearBottom();
      for (const m of messages) {
        this.bump(m.message_id);
        this.upsert(m);
      }
      if (!reconnect) this.hasMore = !!f.has_more;
      this.loaded = true;
      messagesEl.classList.remove('loading');
      messagesEl.removeAttribute('aria-busy');
      this.layout();
      if (stick) this.scrollToBottom();
      if (reconnect && f.has_more) {
        // More than one page was missed: continue from the last one received.
        const ws = this.ws;
        this.ws = null;
        ws.close(1000);
        this.connect();
        return;
      }
      this.live = true;
      this.attempt = 0;
      this.showBanner(false);
      for (const m of messages) noteMessage(m);
      for (const op of this.outbox.values()) if (!op.failed) this.send(op.frame);
      if (reconnect) this.refreshRecent();
      this.markRead();
      this.fillViewport();
      return;
    }
    // The answer to load_more: older messages go on top, the view stays where it was.
    this.loadingMore = false;
    const before = messagesEl.scrollHeight;
    const top = messagesEl.scrollTop;
    for (const m of messages) this.upsert(m);
    this.hasMore = !!f.has_more;
    this.layout();
    messagesEl.scrollTop = top + (messagesEl.scrollHeight - before);
    this.fillViewport();
  }

  /** After a reconnect: edits and deletions made while we were away are not replayed; fetch them. */
  async refreshRecent() {
    const upTo = this.streamId ?? 0;
    let page;
    try {
      page = await api('GET', `/chats/${this.chatId}/messages?limit=100`);
    } catch {
      return;
    }
    if (this.closed || !page) return;
    const got = new Map(page.messages.map((m) => [m.message_id, m]));
    const lo = page.has_more && page.messages.length ? page.messages[0].message_id : 0;
    const hi = page.messages.length ? page.messages[page.messages.length - 1].message_id : upTo;
    for (const [id, it] of [...this.items]) {
      if (id < lo || id > Math.max(hi, upTo)) continue;
      const m = got.get(id);
      if (!m) this.remove(id);
      else if (m.text !== it.msg.text || m.edited_at !== it.msg.edited_at) this.upsert(m, true);
    }
  }

  fromFeed(f) {
    // The chat socket is authoritative while it is up; the feed fills in while it is down.
    if (this.live || !this.loaded) return;
    if (f.type === 'MessageCreated') {
      const stick = this.nearBottom();
      this.upsert(f.message);
      this.layout();
      this.afterNew(stick, false);
    } else if (f.type === 'MessageUpdated') {
      this.upsert(f.message, true);
    } else if (f.type === 'MessageDeleted') {
      this.remove(f.message_id);
    }
  }

  bump(id) {
    if (this.streamId == null || id > this.streamId) this.streamId = id;
  }

  onAck(f) {
    const op = this.outbox.get(f.client_id);
    const m = f.message;
    if (!op) {
      if (m && this.items.has(m.message_id)) this.upsert(m, true);
      return;
    }
    this.outbox.delete(f.client_id);
    if (op.kind === 'create') {
      this.bump(m.message_id);
      const existing = this.items.get(m.message_id);
      if (existing) {
        op.el.remove();
        existing.msg = m;
        this.fill(existing);
      } else {
        const it = { msg: m, el: op.el };
        op.el.dataset.messageId = m.message_id;
        this.items.set(m.message_id, it);
        this.fill(it, 'saved');
      }
      this.layout();
      noteMessage(m);
    } else if (op.kind === 'edit') {
      const it = this.items.get(m.message_id);
      if (it) {
        it.el.classList.remove('updating');
        it.msg = m;
        this.fill(it);
      }
      noteEdit(m);
    } else if (op.kind === 'delete') {
      this.remove(op.frame.message_id);
      noteDelete(this.chatId, op.frame.message_id);
    }
  }

  onError(f) {
    const op = f.client_id != null ? this.outbox.get(f.client_id) : null;
    if (!op) {
      if (f.code === 'rate_limited' || f.code === 'too_large' || f.code === 'unavailable') toast(errorText(f), 'error');
      return;
    }
    if (f.code === 'rate_limited' || f.code === 'unavailable') {
      // Nothing was stored: retry the same client_id a little later.
      setTimeout(() => {
        if (this.outbox.get(f.client_id) === op) this.send(op.frame);
      }, 1500);
      return;
    }
    if (op.kind === 'create') {
      op.failed = true;
      op.error = errorText(f);
      this.fill({ msg: op.msg, el: op.el }, 'failed');
      return;
    }
    this.outbox.delete(f.client_id);
    const id = op.frame.message_id;
    const it = this.items.get(id);
    if (f.code === 'not_found') {
      this.remove(id);
      toast('That message no longer exists.', 'error');
      return;
    }
    if (it) {
      it.el.classList.remove('updating', 'deleting');
      if (op.kind === 'edit') {
        it.msg = op.prev;
        this.fill(it);
      }
    }
    toast(`${op.kind === 'edit' ? 'Could not edit' : 'Could not delete'}: ${errorText(f)}`, 'error');
  }

  // -- messages --

  upsert(m, onlyIfHeld = false) {
    if (m.chat_id !== this.chatId) return;
    const it = this.items.get(m.message_id);
    if (it) {
      if (it.el.classList.contains('updating') && m.text !== it.msg.text) return; // our own edit wins
      it.msg = m;
      this.fill(it);
      return;
    }
    if (onlyIfHeld) return;
    const item = { msg: m, el: this.build(m) };
    this.items.set(m.message_id, item);
    this.fill(item, 'saved');
  }

  remove(id) {
    const it = this.items.get(id);
    if (!it) return;
    it.el.remove();
    this.items.delete(id);
    if (this.editing === id) this.cancelEdit(true);
    this.layout();
  }

  build(m) {
    const mine = m.author_id === meId();
    const el = h('div', {
      class: `msg ${mine ? 'mine' : 'theirs'}`,
      'data-testid': 'message',
      'data-author-id': m.author_id,
    });
    const parts = {
      author: h('div', { class: 'msg-author', 'data-testid': 'message-author' }),
      text: h('div', { class: 'msg-text', 'data-testid': 'message-text', dir: 'auto' }),
      edited: h('span', { class: 'msg-edited', 'data-testid': 'edited' }, 'edited'),
      time: h('time', { class: 'msg-time' }),
      state: h('span', { class: 'msg-state', 'data-testid': 'message-state', role: 'img' }),
      failed: h('div', { class: 'msg-failed', 'data-testid': 'message-failed' }),
    };
    const meta = h('span', { class: 'msg-meta' }, parts.edited, parts.time, mine ? parts.state : null);
    el.append(h('div', { class: 'bubble' }, parts.author, parts.text, meta));
    if (mine) {
      el.append(
        h(
          'div',
          { class: 'msg-actions' },
          h('button', {
            type: 'button',
            class: 'icon-btn small',
            'aria-label': 'Edit message',
            title: 'Edit',
            'data-testid': 'edit-message',
            onclick: () => this.startEdit(Number(el.dataset.messageId)),
          }, icon('edit')),
          h('button', {
            type: 'button',
            class: 'icon-btn small',
            'aria-label': 'Delete message',
            title: 'Delete',
            'data-testid': 'delete-message',
            onclick: () => this.deleteMessage(Number(el.dataset.messageId)),
          }, icon('trash')),
        ),
        parts.failed,
      );
    }
    el.parts = parts;
    return el;
  }

  fill(it, state) {
    const { msg, el } = it;
    const p = el.parts;
    if (state) el.dataset.state = state;
    if (msg.message_id != null) el.dataset.messageId = msg.message_id;
    if (p.text.textContent !== msg.text) p.text.textContent = msg.text;
    el.classList.toggle('emoji-only', /^\p{Extended_Pictographic}{1,3}$/u.test(msg.text.replace(/\s|\u200d|\ufe0f/g, '')));
    p.edited.hidden = !msg.edited_at;
    if (msg.edited_at) p.edited.title = `Edited ${fullFmt.format(new Date(msg.edited_at))}`;
    const d = new Date(msg.created_at);
    p.time.textContent = timeFmt.format(d);
    p.time.setAttribute('datetime', msg.created_at);
    p.time.title = fullFmt.format(d);
    const s = el.dataset.state;
    if (el.classList.contains('mine')) {
      setIcon(p.state, s === 'pending' ? 'clock' : s === 'failed' ? 'alert' : 'check');
      p.state.setAttribute('aria-label', s === 'pending' ? 'Sending' : s === 'failed' ? 'Not sent' : 'Sent');
      p.state.title = p.state.getAttribute('aria-label');
      p.failed.hidden = s !== 'failed';
      if (s === 'failed') {
        const op = [...this.outbox.values()].find((o) => o.el === el);
        p.failed.replaceChildren(
          h('span', {}, op?.error || 'Not sent.'),
          h('button', { type: 'button', class: 'link', 'data-testid': 'retry-message', onclick: () => this.retry(el) }, 'Retry'),
          h('button', { type: 'button', class: 'link', 'data-testid': 'discard-message', onclick: () => this.discard(el) }, 'Discard'),
        );
      }
    }
  }

  /** Puts elements in message-id order (pending ones last), with day separators and grouping. */
  layout() {
    const ordered = [...this.items.values()].sort((a, b) => a.msg.message_id - b.msg.message_id);
    for (const op of this.outbox.values()) if (op.kind === 'create') ordered.push({ msg: op.msg, el: op.el });
    const group = this.chat?.kind === 'group';
    let cursor = $('#messages-top');
    const place = (el) => {
      if (cursor.nextSibling !== el) messagesEl.insertBefore(el, cursor.nextSibling);
      cursor = el;
    };
    const usedSeps = new Set();
    let prev = null;
    for (let i = 0; i < ordered.length; i++) {
      const it = ordered[i];
      const d = new Date(it.msg.created_at);
      const day = startOfDay(d);
      const newDay = !prev || startOfDay(new Date(prev.msg.created_at)) !== day;
      if (newDay) {
        let sep = this.seps.get(day);
        if (!sep) {
          sep = h('div', { class: 'day-sep', role: 'separator' }, h('span', {}));
          this.seps.set(day, sep);
        }
        sep.firstChild.textContent = dayLabel(d);
        usedSeps.add(day);
        place(sep);
      }
      const cont =
        !newDay &&
        prev.msg.author_id === it.msg.author_id &&
        new Date(it.msg.created_at) - new Date(prev.msg.created_at) < 5 * 60 * 1000;
      const next = ordered[i + 1];
      const lastOfGroup =
        !next ||
        next.msg.author_id !== it.msg.author_id ||
        startOfDay(new Date(next.msg.created_at)) !== day ||
        new Date(next.msg.created_at) - new Date(it.msg.created_at) >= 5 * 60 * 1000;
      it.el.classList.toggle('cont', cont);
      it.el.classList.toggle('tail', lastOfGroup);
      const showAuthor = group && !cont && it.msg.author_id !== meId();
      it.el.parts.author.hidden = !showAuthor;
      if (showAuthor) {
        it.el.parts.author.textContent = nameOf(it.msg.author_id);
        it.el.parts.author.className = `msg-author c${hashOf(nameOf(it.msg.author_id)) % 8}`;
      }
      place(it.el);
      prev = it;
    }
    for (const [day, sep] of this.seps) {
      if (!usedSeps.has(day)) {
        sep.remove();
        this.seps.delete(day);
      }
    }
    this.renderLoadOlder();
  }

  renderLoadOlder() {
    const btn = $('#load-older');
    btn.hidden = !this.loaded || !this.hasMore;
    btn.disabled = this.loadingMore || !this.live;
    btn.textContent = this.loadingMore ? 'Loading…' : 'Show older messages';
    const start = $('#history-start');
    start.hidden = !this.loaded || this.hasMore;
    start.textContent = this.items.size || this.outbox.size ? 'This is the beginning of the conversation.' : 'No messages here yet. Say hello!';
  }

  loadMore() {
    if (!this.live || this.loadingMore || !this.hasMore) return;
    let first = Infinity;
    for (const id of this.items.keys()) first = Math.min(first, id);
    if (first === Infinity) return;
    this.loadingMore = true;
    this.renderLoadOlder();
    this.send({ type: 'load_more', before: first, limit: 30 });
  }

  /** Loads older pages until the view can scroll (so scrolling up can load more). */
  fillViewport() {
    if (this.hasMore && messagesEl.scrollHeight <= messagesEl.clientHeight + 120) this.loadMore();
  }

  nearBottom() {
    return messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 120;
  }

  scrollToBottom() {
    messagesEl.scrollTop = messagesEl.scrollHeight;
    $('#jump-bottom').hidden = true;
  }

  afterNew(stick, mine) {
    if (stick || mine) this.scrollToBottom();
    else $('#jump-bottom').hidden = false;
  }

  // -- sending, editing, deleting --

  sendText(text) {
    const client_id = uid();
    const msg = {
      message_id: null,
      chat_id: this.chatId,
      author_id: meId(),
      text,
      created_at: new Date().toISOString(),
      edited_at: null,
    };
    const el = this.build(msg);
    const op = { kind: 'create', frame: { type: 'MessageCreated', client_id, text }, el, msg };
    this.outbox.set(client_id, op);
    this.fill({ msg, el }, 'pending');
    this.layout();
    this.scrollToBottom();
    this.send(op.frame);
  }

  retry(el) {
    const op = [...this.outbox.values()].find((o) => o.el === el);
    if (!op) return;
    op.failed = false;
    this.fill({ msg: op.msg, el }, 'pending');
    this.send(op.frame);
  }

  discard(el) {
    for (const [id, op] of this.outbox) if (op.el === el) this.outbox.delete(id);
    el.remove();
    this.layout();
    composerInput.focus();
  }

  startEdit(id) {
    const it = this.items.get(id);
    if (!it || it.msg.author_id !== meId()) return;
    if (this.editing == null) this.savedDraft = composerInput.value;
    this.editing = id;
    for (const el of messagesEl.querySelectorAll('.msg.editing')) el.classList.remove('editing');
    it.el.classList.add('editing');
    $('#edit-bar').hidden = false;
    $('#edit-preview').textContent = it.msg.text;
    composerInput.value = it.msg.text;
    composerInput.setAttribute('aria-label', 'Edit message');
    $('#send-btn').setAttribute('aria-label', 'Save edit');
    autosize(composerInput);
    composerInput.focus();
    composerInput.setSelectionRange(composerInput.value.length, composerInput.value.length);
  }

  cancelEdit(restore = true) {
    const wasEditing = this.editing != null;
    this.editing = null;
    for (const el of messagesEl.querySelectorAll('.msg.editing')) el.classList.remove('editing');
    $('#edit-bar').hidden = true;
    composerInput.setAttribute('aria-label', 'Message');
    $('#send-btn').setAttribute('aria-label', 'Send');
    if (wasEditing && restore) {
      composerInput.value = this.savedDraft || '';
      autosize(composerInput);
    }
    this.savedDraft = '';
  }

  submitEdit(text) {
    const id = this.editing;
    const it = this.items.get(id);
    this.cancelEdit(true);
    composerInput.focus();
    if (!it || text === it.msg.text) return;
    const client_id = uid();
    const op = { kind: 'edit', frame: { type: 'MessageUpdated', client_id, message_id: id, text }, prev: it.msg };
    this.outbox.set(client_id, op);
    it.msg = { ...it.msg, text, edited_at: it.msg.edited_at || new Date().toISOString() };
    it.el.classList.add('updating');
    this.fill(it);
    this.send(op.frame);
  }

  async deleteMessage(id) {
    const it = this.items.get(id);
    if (!it) return;
    const ok = await confirmDialog({ title: 'Delete message?', text: 'It will be deleted for everyone in this chat.' });
    if (!ok || !this.items.has(id) || this.closed) return;
    const client_id = uid();
    this.outbox.set(client_id, { kind: 'delete', frame: { type: 'MessageDeleted', client_id, message_id: id } });
    it.el.classList.add('deleting');
    this.send({ type: 'MessageDeleted', client_id, message_id: id });
    composerInput.focus();
  }

  editLast() {
    let last = null;
    for (const it of this.items.values()) {
      if (it.msg.author_id === meId() && (!last || it.msg.message_id > last.msg.message_id)) last = it;
    }
    if (last) this.startEdit(last.msg.message_id);
  }

  // -- read markers, typing, presence --

  markRead() {
    if (!this.live || !isViewing(this.chatId)) return;
    let max = 0;
    for (const [id, it] of this.items) if (it.msg.author_id !== meId() && id > max) max = id;
    const chat = this.chat;
    if (chat && chat.unread_count) {
      chat.unread_count = 0;
      renderChatList();
    }
    if (max > this.readSent) {
      this.readSent = max;
      this.send({ type: 'read', message_id: max });
    }
  }

  typed() {
    if (this.editing != null || !composerInput.value.trim()) return;
    const now = Date.now();
    if (now - this.lastTypingSent < 1000) return;
    if (this.send({ type: 'typing' })) this.lastTypingSent = now;
  }

  startTyper(userId) {
    clearTimeout(this.typers.get(userId));
    this.typers.set(
      userId,
      setTimeout(() => this.stopTyper(userId), 3000),
    );
    this.renderHeader();
  }

  stopTyper(userId) {
    if (!this.typers.has(userId)) return;
    clearTimeout(this.typers.get(userId));
    this.typers.delete(userId);
    this.renderHeader();
  }

  clearTypers() {
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
    this.renderHeader();
  }

  renderHeader() {
    if (this.closed) return;
    const chat = this.chat;
    const name = chat ? chat.name : 'Loading…';
    $('#conv-title').textContent = name;
    paintAvatar($('#conv-avatar'), chat ? chat.name : '?', chat?.kind === 'group');
    const typing = $('#conv-typing');
    const presence = $('#conv-presence');
    const typers = [...this.typers.keys()];
    if (typers.length) {
      const who = typers.map(nameOf);
      let text;
      if (chat?.kind !== 'group') text = 'typing…';
      else if (who.length === 1) text = `${who[0]} is typing…`;
      else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
      else text = `${who.length} people are typing…`;
      typing.textContent = text;
    }
    typing.hidden = typers.length === 0;
    presence.hidden = typers.length > 0;
    if (!chat) {
      presence.textContent = '';
      return;
    }
    if (chat.kind === 'group') {
      const n = chat.participants.length;
      const on = this.online.filter((id) => chat.participants.includes(id)).length;
      presence.textContent = `${n} member${n === 1 ? '' : 's'}${on ? `, ${on} online` : ''}`;
      presence.classList.remove('online');
    } else {
      const other = chat.participants.find((id) => id !== meId());
      const on = this.online.includes(other);
      presence.textContent = on ? 'online' : 'offline';
      presence.classList.toggle('online', on);
    }
  }
}

// Composer: Enter sends, Shift+Enter is a new line.
function autosize(ta) {
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 180)}px`;
}
$('#composer').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!conv) return;
  const text = composerInput.value;
  if (conv.editing != null) {
    if (!text.trim()) {
      toast('A message cannot be empty. Delete it instead.', 'error');
      return;
    }
    conv.submitEdit(text);
    return;
  }
  if (!text.trim()) return;
  if ([...text].length > 4096) {
    toast('A message can be at most 4096 characters.', 'error');
    return;
  }
  composerInput.value = '';
  drafts.delete(conv.chatId);
  autosize(composerInput);
  conv.sendText(text);
});
composerInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    $('#composer').requestSubmit();
  } else if (e.key === 'Escape' && conv?.editing != null) {
    e.preventDefault();
    conv.cancelEdit(true);
  } else if (e.key === 'ArrowUp' && !composerInput.value && conv && conv.editing == null) {
    e.preventDefault();
    conv.editLast();
  }
});
composerInput.addEventListener('input', () => {
  autosize(composerInput);
  conv?.typed();
});
$('#edit-cancel').addEventListener('click', () => {
  conv?.cancelEdit(true);
  composerInput.focus();
});
messagesEl.addEventListener('scroll', () => {
  if (!conv) return;
  if (messagesEl.scrollTop < 200) conv.loadMore();
  if (conv.nearBottom()) $('#jump-bottom').hidden = true;
});
$('#load-older').addEventListener('click', () => conv?.loadMore());
$('#jump-bottom').addEventListener('click', () => {
  conv?.scrollToBottom();
  composerInput.focus();
});
$('#conv-retry').addEventListener('click', () => conv?.reconnectNow());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') conv?.markRead();
});
window.addEventListener('focus', () => conv?.markRead());
window.addEventListener('online', () => {
  if (!session) return;
  conv?.reconnectNow();
  if (!feed.ws && !feed.stopped) feedConnect();
});

// ---------------------------------------------------------------------------------------------
// People: search, direct message, new group

const people = { seq: 0, timer: 0, results: [], selected: new Map(), dmUser: null };

/** A phone query is sent as +digits (the server matches an exact phone); anything else as typed. */
function searchQuery(raw) {
  const t = raw.trim();
  if (/^\+[\d\s\-().]+$/.test(t) || (/^[\d\s\-().]+$/.test(t) && /[\s\-()]/.test(t))) {
    return '+' + t.replace(/\D/g, '');
  }
  return t;
}

async function searchUsers(raw, statusEl) {
  const q = searchQuery(raw);
  if (!q || q === '+') return null;
  statusEl.textContent = 'Searching…';
  const users = await api('GET', `/users?q=${encodeURIComponent(q)}&limit=20`);
  for (const u of users) learnName(u.user_id, u.username);
  return users;
}

function personRow(u, { selectable, action }) {
  const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
  paintAvatar(avatar, u.username);
  const li = h(
    'li',
    { class: 'person', 'data-testid': 'person', 'data-user-id': u.user_id },
    selectable || null,
    h('span', { class: 'avatar-wrap' }, avatar, u.online ? h('span', { class: 'online-dot', 'aria-hidden': 'true' }) : null),
    h(
      'span',
      { class: 'person-text' },
      h('span', { class: 'person-name', 'data-testid': 'person-name' }, u.username),
      h('span', { class: `person-status${u.online ? ' online' : ''}` }, u.online ? 'online' : 'offline'),
    ),
    action || null,
  );
  return li;
}

function renderPeople() {
  const ul = $('#people-results');
  ul.replaceChildren(
    ...people.results.map((u) => {
      const box = h('input', {
        type: 'checkbox',
        class: 'check',
        'aria-label': `Select ${u.username} for a group`,
        'data-testid': 'select-person',
      });
      box.checked = people.selected.has(u.user_id);
      box.addEventListener('change', () => {
        if (box.checked) people.selected.set(u.user_id, u.username);
        else people.selected.delete(u.user_id);
        renderGroupForm();
      });
      const btn = h(
        'button',
        { type: 'button', class: 'btn btn-small btn-soft', 'aria-label': `Message ${u.username}`, 'data-testid': 'message-person' },
        'Message',
      );
      btn.addEventListener('click', () => openDm(u));
      return personRow(u, { selectable: box, action: btn });
    }),
  );
}

function openDm(u) {
  const existing = [...chats.values()].find((c) => c.kind === 'direct' && c.participants.includes(u.user_id));
  if (existing) {
    location.hash = `#/chat/${existing.chat_id}`;
    return;
  }
  people.dmUser = u;
  $('#dm-title').textContent = `Message ${u.username}`;
  $('#dm-error').textContent = '';
  $('#dm-form').hidden = false;
  $('#group-form').hidden = true;
  $('#dm-input').focus();
}

function closeDm() {
  people.dmUser = null;
  $('#dm-form').hidden = true;
  $('#dm-input').value = '';
  renderGroupForm();
}

function renderGroupForm() {
  const n = people.selected.size;
  $('#group-form').hidden = n === 0 || people.dmUser != null;
  if (n === 0) {
    $('#group-name-error').textContent = '';
    $('#group-name').removeAttribute('aria-invalid');
  }
  $('#group-count').textContent = `${n} selected`;
  $('#group-chips').replaceChildren(
    ...[...people.selected].map(([id, name]) =>
      h(
        'li',
        { class: 'chip' },
        name,
        h(
          'button',
          {
            type: 'button',
            class: 'chip-x',
            'aria-label': `Remove ${name} from the group`,
            onclick: () => {
              people.selected.delete(id);
              renderGroupForm();
              renderPeople();
            },
          },
          icon('close'),
        ),
      ),
    ),
  );
}

function enterPeople() {
  renderGroupForm();
  if (!$('#people-search').value) $('#people-status').textContent = 'Find people by username or by phone number.';
}
function leavePeople() {
  if (people.dmUser) closeDm();
}
function resetPeople() {
  people.results = [];
  people.selected.clear();
  people.dmUser = null;
  $('#people-search').value = '';
  $('#people-results').replaceChildren();
  $('#dm-form').hidden = true;
  $('#group-form').hidden = true;
  $('#group-name').value = '';
  $('#add-search').value = '';
  $('#add-results').replaceChildren();
}

$('#people-search').addEventListener('input', () => {
  clearTimeout(people.timer);
  people.timer = setTimeout(async () => {
    const seq = ++people.seq;
    const raw = $('#people-search').value;
    const status = $('#people-status');
    try {
      const users = await searchUsers(raw, status);
      if (seq !== people.seq) return;
      people.results = users || [];
      renderPeople();
      status.textContent = !users ? 'Find people by username or by phone number.' : users.length ? `${users.length} found` : `No one found for “${raw.trim()}”.`;
    } catch (e) {
      if (seq === people.seq) status.textContent = errorText(e);
    }
  }, 250);
});
$('#people-search').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') e.preventDefault();
});

$('#dm-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const u = people.dmUser;
  const text = $('#dm-input').value;
  if (!u || !text.trim()) return;
  const btn = $('#dm-send');
  btn.disabled = true;
  $('#dm-error').textContent = '';
  try {
    const res = await api('POST', `/users/${u.user_id}/messages`, { text, client_id: uid() });
    upsertChat(res.chat);
    noteMessage(res.message);
    closeDm();
    location.hash = `#/chat/${res.chat.chat_id}`;
  } catch (err) {
    $('#dm-error').textContent = errorText(err);
  } finally {
    btn.disabled = false;
  }
});
$('#dm-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('#dm-form').requestSubmit();
  } else if (e.key === 'Escape') {
    closeDm();
    $('#people-search').focus();
  }
});
$('#dm-input').addEventListener('input', () => autosize($('#dm-input')));
$('#dm-close').addEventListener('click', () => {
  closeDm();
  $('#people-search').focus();
});

$('#group-name').addEventListener('input', () => {
  $('#group-name-error').textContent = '';
  $('#group-name').removeAttribute('aria-invalid');
});
$('#group-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('#group-name');
  const err = $('#group-name-error');
  const name = input.value.trim();
  err.textContent = '';
  input.removeAttribute('aria-invalid');
  if (!name) {
    err.textContent = 'Give the group a name.';
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  const btn = $('#group-form button[type="submit"]');
  btn.disabled = true;
  try {
    const chat = await api('POST', '/chats', { name, participants: [...people.selected.keys()] });
    upsertChat(chat);
    people.selected.clear();
    input.value = '';
    renderGroupForm();
    renderPeople();
    location.hash = `#/chat/${chat.chat_id}`;
  } catch (ex) {
    err.textContent = errorText(ex);
    input.setAttribute('aria-invalid', 'true');
  } finally {
    btn.disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// Chat info: rename, members, add, remove, leave, delete

function settingsChat() {
  return currentRoute.name === 'info' ? chats.get(currentRoute.chatId) : null;
}

function renderSettings() {
  const chat = settingsChat();
  const group = chat?.kind === 'group';
  $('#settings-title').textContent = group ? 'Group info' : 'Chat info';
  $('#settings-name').textContent = chat ? chat.name : 'Loading…';
  paintAvatar($('#settings-avatar'), chat ? chat.name : '?', group);
  $('#settings-meta').textContent = !chat
    ? ''
    : group
      ? `Group · ${chat.participants.length} member${chat.participants.length === 1 ? '' : 's'}`
      : 'Direct chat';
  $('#rename-form').hidden = !group;
  const rename = $('#rename-input');
  if (chat && document.activeElement !== rename && !rename.dataset.dirty) rename.value = chat.name;
  $('#add-card').hidden = !group;
  $('#leave-chat').hidden = !group;
  const del = $('#delete-chat');
  del.textContent = group ? 'Delete group' : 'Delete chat';
  del.hidden = !chat || (group && chat.owner_id !== meId());
  renderMembers();
}

function renderMembers() {
  const chat = settingsChat();
  const ul = $('#member-list');
  if (!chat) {
    ul.replaceChildren();
    return;
  }
  const online = conv?.chatId === chat.chat_id ? conv.online : [];
  const owner = chat.owner_id === meId();
  $('#members-title').textContent = `Members (${chat.participants.length})`;
  ul.replaceChildren(
    ...chat.participants.map((id) => {
      const name = nameOf(id);
      const tags = h('span', { class: 'person-status' });
      const bits = [];
      if (id === meId()) bits.push('you');
      if (chat.kind === 'group' && id === chat.owner_id) bits.push('owner');
      if (online.includes(id)) bits.push('here now');
      tags.textContent = bits.join(' · ');
      let action = null;
      if (chat.kind === 'group' && owner && id !== meId()) {
        action = h(
          'button',
          { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Remove ${name}`, 'data-testid': 'remove-member' },
          'Remove',
        );
        action.addEventListener('click', () => removeMember(chat, id));
      }
      const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
      paintAvatar(avatar, name);
      return h(
        'li',
        { class: 'person', 'data-testid': 'member', 'data-user-id': id },
        h('span', { class: 'avatar-wrap' }, avatar, online.includes(id) ? h('span', { class: 'online-dot', 'aria-hidden': 'true' }) : null),
        h('span', { class: 'person-text' }, h('span', { class: 'person-name' }, name), tags),
        action,
      );
    }),
  );
}

async function removeMember(chat, userId) {
  const ok = await confirmDialog({ title: `Remove ${nameOf(userId)}?`, text: `They will leave “${chat.name}”.`, ok: 'Remove' });
  if (!ok) return;
  try {
    await api('DELETE', `/chats/${chat.chat_id}/participants/${userId}`);
    const c = chats.get(chat.chat_id);
    if (c) upsertChat({ ...c, participants: c.participants.filter((id) => id !== userId) });
    toast(`${nameOf(userId)} was removed.`);
  } catch (e) {
    toast(errorText(e), 'error');
  }
}

$('#rename-input').addEventListener('input', (e) => {
  e.target.dataset.dirty = '1';
  $('#rename-error').textContent = '';
  e.target.removeAttribute('aria-invalid');
});
$('#rename-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = settingsChat();
  const input = $('#rename-input');
  const name = input.value.trim();
  if (!chat) return;
  if (!name) {
    $('#rename-error').textContent = 'The name cannot be empty.';
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  try {
    const updated = await api('PATCH', `/chats/${chat.chat_id}`, { name });
    delete input.dataset.dirty;
    upsertChat(updated);
    toast('Group renamed.');
  } catch (ex) {
    $('#rename-error').textContent = errorText(ex);
    input.setAttribute('aria-invalid', 'true');
  }
});

let addSeq = 0;
let addTimer = 0;
$('#add-search').addEventListener('input', () => {
  clearTimeout(addTimer);
  addTimer = setTimeout(renderAddResults, 250);
});
async function renderAddResults() {
  const seq = ++addSeq;
  const raw = $('#add-search').value;
  const status = $('#add-status');
  const ul = $('#add-results');
  try {
    const users = await searchUsers(raw, status);
    if (seq !== addSeq) return;
    const chat = settingsChat();
    if (!users || !chat) {
      ul.replaceChildren();
      status.textContent = '';
      return;
    }
    status.textContent = users.length ? '' : `No one found for “${raw.trim()}”.`;
    ul.replaceChildren(
      ...users.map((u) => {
        const member = chat.participants.includes(u.user_id);
        const btn = h(
          'button',
          { type: 'button', class: 'btn btn-small btn-soft', 'aria-label': `Add ${u.username}`, 'data-testid': 'add-member', disabled: member },
          member ? 'Member' : 'Add',
        );
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          try {
            const updated = await api('POST', `/chats/${chat.chat_id}/participants`, { user_id: u.user_id });
            upsertChat(updated);
            btn.textContent = 'Member';
            toast(`${u.username} was added.`);
          } catch (e) {
            btn.disabled = false;
            toast(errorText(e), 'error');
          }
        });
        return personRow(u, { action: btn });
      }),
    );
  } catch (e) {
    if (seq === addSeq) status.textContent = errorText(e);
  }
}

$('#leave-chat').addEventListener('click', async () => {
  const chat = settingsChat();
  if (!chat) return;
  const ok = await confirmDialog({ title: `Leave “${chat.name}”?`, text: 'You will no longer receive its messages.', ok: 'Leave' });
  if (!ok) return;
  try {
    await api('DELETE', `/chats/${chat.chat_id}/participants/${meId()}`);
    dropChat(chat.chat_id, 'quiet');
    toast(`You left “${chat.name}”.`);
    location.hash = '#/';
  } catch (e) {
    toast(errorText(e), 'error');
  }
});
$('#delete-chat').addEventListener('click', async () => {
  const chat = settingsChat();
  if (!chat) return;
  const ok = await confirmDialog({
    title: chat.kind === 'group' ? `Delete “${chat.name}”?` : 'Delete this chat?',
    text: 'All its messages will be deleted for everyone. This cannot be undone.',
  });
  if (!ok) return;
  try {
    await api('DELETE', `/chats/${chat.chat_id}`);
    dropChat(chat.chat_id, 'quiet');
    toast('Chat deleted.');
    location.hash = '#/';
  } catch (e) {
    toast(errorText(e), 'error');
  }
});

// ---------------------------------------------------------------------------------------------
// Start

if (session) startApp();
else showAuth('signin');
