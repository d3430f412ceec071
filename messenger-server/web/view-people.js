// @ts-check
// The people page: search by username or phone, then a first direct message or a new group.

import { newClientId } from './messenger-client.js';
import { $, $as, autosize, h, icon, paintAvatar, setIcon } from './dom.js';
import { errorText } from './format.js';
import { upsertChat, noteMessage } from './feed.js';
import { client, learnName, state } from './state.js';
/** @import {User} from './messenger-client.js' */

/** Wait after the last keystroke before searching. */
export const SEARCH_DELAY_MS = 250;
const HINT = 'Find people by username or by phone number.';

const search = $as('#people-search', HTMLInputElement);
const status = $('#people-status');
const dmForm = $as('#dm-form', HTMLFormElement);
const dmInput = $as('#dm-input', HTMLTextAreaElement);
const groupForm = $as('#group-form', HTMLFormElement);
const groupName = $as('#group-name', HTMLInputElement);

const people = {
  /** Numbers searches, so that a slow answer to an older one is dropped. */
  seq: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer: undefined,
  /** @type {User[]} */
  results: [],
  /** user_id → username of those picked for a group. @type {Map<number, string>} */
  selected: new Map(),
  /** Whom the first-message sheet is for. @type {User | null} */
  dmUser: null,
};

/** A phone query is sent as +digits (the server matches an exact phone); anything else as typed. @param {string} raw */
function searchQuery(raw) {
  const t = raw.trim();
  if (/^\+[\d\s\-().]+$/.test(t) || (/^[\d\s\-().]+$/.test(t) && /[\s\-()]/.test(t))) {
    return '+' + t.replace(/\D/g, '');
  }
  return t;
}

/**
 * Searches users (null for an empty query), learning their names.
 * @param {string} raw what was typed
 * @param {HTMLElement} statusEl says "Searching…" meanwhile
 */
export async function searchUsers(raw, statusEl) {
  const q = searchQuery(raw);
  if (!q || q === '+') return null;
  statusEl.textContent = 'Searching…';
  const users = await client.searchUsers(q, 20);
  for (const u of users) learnName(u.user_id, u.username);
  return users;
}

/**
 * One person in a list, with an optional checkbox before and a button after.
 * @param {User} u
 * @param {{selectable?: HTMLElement, action?: HTMLElement}} parts
 */
export function personRow(u, { selectable, action }) {
  const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
  paintAvatar(avatar, u.username);
  return h(
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
}

function renderPeople() {
  $('#people-results').replaceChildren(
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

/** Opens the existing direct chat with `u`, or the first-message sheet. @param {User} u */
function openDm(u) {
  const existing = [...state.chats.values()].find((c) => c.kind === 'direct' && c.participants.includes(u.user_id));
  if (existing) {
    location.hash = `#/chat/${existing.chat_id}`;
    return;
  }
  people.dmUser = u;
  $('#dm-title').textContent = `Message ${u.username}`;
  $('#dm-error').textContent = '';
  dmForm.hidden = false;
  groupForm.hidden = true;
  dmInput.focus();
}

function closeDm() {
  people.dmUser = null;
  dmForm.hidden = true;
  dmInput.value = '';
  renderGroupForm();
}

function renderGroupForm() {
  const n = people.selected.size;
  groupForm.hidden = n === 0 || people.dmUser != null;
  if (n === 0) {
    $('#group-name-error').textContent = '';
    groupName.removeAttribute('aria-invalid');
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

/** The page is shown. */
export function enterPeople() {
  renderGroupForm();
  if (!search.value) status.textContent = HINT;
}

/** The page is left: an unsent first message is dropped. */
export function leavePeople() {
  if (people.dmUser) closeDm();
}

/** Signing out: forgets searches and picks (the chat info's add search too). */
export function resetPeople() {
  people.results = [];
  people.selected.clear();
  people.dmUser = null;
  search.value = '';
  $('#people-results').replaceChildren();
  dmForm.hidden = true;
  groupForm.hidden = true;
  groupName.value = '';
  $as('#add-search', HTMLInputElement).value = '';
  $('#add-results').replaceChildren();
}

search.addEventListener('input', () => {
  clearTimeout(people.timer);
  people.timer = setTimeout(async () => {
    const seq = ++people.seq;
    const raw = search.value;
    try {
      const users = await searchUsers(raw, status);
      if (seq !== people.seq) return;
      people.results = users || [];
      renderPeople();
      status.textContent = !users ? HINT : users.length ? `${users.length} found` : `No one found for “${raw.trim()}”.`;
    } catch (e) {
      if (seq === people.seq) status.textContent = errorText(e);
    }
  }, SEARCH_DELAY_MS);
});
search.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') e.preventDefault();
});

dmForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const u = people.dmUser;
  const text = dmInput.value;
  if (!u || !text.trim()) return;
  const btn = $as('#dm-send', HTMLButtonElement);
  btn.disabled = true;
  $('#dm-error').textContent = '';
  try {
    const res = await client.sendDirect(u.user_id, text, newClientId());
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
dmInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    dmForm.requestSubmit();
  } else if (e.key === 'Escape') {
    closeDm();
    search.focus();
  }
});
dmInput.addEventListener('input', () => autosize(dmInput));
$('#dm-close').addEventListener('click', () => {
  closeDm();
  search.focus();
});

groupName.addEventListener('input', () => {
  $('#group-name-error').textContent = '';
  groupName.removeAttribute('aria-invalid');
});
groupForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('#group-name-error');
  const name = groupName.value.trim();
  err.textContent = '';
  groupName.removeAttribute('aria-invalid');
  if (!name) {
    err.textContent = 'Give the group a name.';
    groupName.setAttribute('aria-invalid', 'true');
    groupName.focus();
    return;
  }
  const btn = $as('button[type="submit"]', HTMLButtonElement, groupForm);
  btn.disabled = true;
  try {
    const chat = await client.createGroup(name, [...people.selected.keys()]);
    upsertChat(chat, true);
    people.selected.clear();
    groupName.value = '';
    renderGroupForm();
    renderPeople();
    location.hash = `#/chat/${chat.chat_id}`;
  } catch (ex) {
    err.textContent = errorText(ex);
    groupName.setAttribute('aria-invalid', 'true');
  } finally {
    btn.disabled = false;
  }
});

setIcon($('#dm-send'), 'send');
setIcon($('#dm-close'), 'close');
for (const el of document.querySelectorAll('.search-icon')) setIcon(el, 'search');
