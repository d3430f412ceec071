// @ts-check
// The sidebar: who is signed in, the chat list with previews and unread counts, the feed's banner.

import { $, h, icon, paintAvatar, setIcon } from './dom.js';
import { listTime } from './format.js';
import { currentSession, listen, meId, nameOf, state } from './state.js';
/** @import {Chat} from './messenger-client.js' */

/**
 * One chat's list item and its parts.
 * @typedef {{li: HTMLLIElement, a: HTMLAnchorElement, avatar: HTMLElement, name: HTMLElement,
 *   time: HTMLTimeElement, preview: HTMLElement, badge: HTMLElement}} ChatRow
 */

const ul = $('#chat-list');
/** chat_id → its list item. @type {Map<number, ChatRow>} */
const rows = new Map();

/** @param {Chat} chat */
function activity(chat) {
  return chat.last_message ? chat.last_message.created_at : chat.created_at;
}

/** The most recently active first. */
function sortedChats() {
  return [...state.chats.values()].sort((a, b) => {
    const x = activity(b).localeCompare(activity(a));
    return x || b.chat_id - a.chat_id;
  });
}

/** @param {Chat} chat */
function previewText(chat) {
  const m = chat.last_message;
  if (!m) return chat.kind === 'group' ? 'Group created' : 'No messages yet';
  const text = m.text.replace(/\s+/g, ' ').trim();
  if (m.author_id === meId()) return `You: ${text}`;
  if (chat.kind === 'group') return `${nameOf(m.author_id)}: ${text}`;
  return text;
}

/** @param {number} chatId @returns {ChatRow} */
function buildRow(chatId) {
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
  return { li: h('li', {}, a), a, avatar, name, time, preview, badge };
}

/**
 * @param {ChatRow} row
 * @param {Chat} chat
 */
function fillRow(row, chat) {
  paintAvatar(row.avatar, chat.name, chat.kind === 'group');
  row.name.textContent = chat.name;
  const t = activity(chat);
  row.time.textContent = listTime(t);
  row.time.setAttribute('datetime', t);
  row.preview.textContent = previewText(chat);
  const unread = chat.unread_count || 0;
  row.badge.hidden = unread === 0;
  row.badge.replaceChildren(String(unread > 99 ? '99+' : unread), h('span', { class: 'visually-hidden' }, ' unread'));
  row.a.classList.toggle('unread', unread > 0);
  const selected = state.conv != null && state.conv.chatId === chat.chat_id && state.route.name !== 'list';
  if (selected) row.a.setAttribute('aria-current', 'page');
  else row.a.removeAttribute('aria-current');
}

/** Redraws the list in place (moving items, not rebuilding them, so focus stays). */
export function renderChatList() {
  const list = sortedChats();
  $('#chat-list-loading').hidden = state.chatsLoaded || list.length > 0;
  $('#chat-list-empty').hidden = !state.chatsLoaded || list.length > 0;
  const focused = document.activeElement;
  /** @type {HTMLLIElement | null} */
  let prev = null;
  const seen = new Set();
  for (const chat of list) {
    let row = rows.get(chat.chat_id);
    if (!row) {
      row = buildRow(chat.chat_id);
      rows.set(chat.chat_id, row);
    }
    fillRow(row, chat);
    /** @type {ChildNode | null} */
    const want = prev ? prev.nextSibling : ul.firstChild;
    if (want !== row.li) ul.insertBefore(row.li, want);
    prev = row.li;
    seen.add(chat.chat_id);
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.li.remove();
      rows.delete(id);
    }
  }
  if (focused instanceof HTMLElement && focused !== document.activeElement && focused.isConnected) focused.focus();
  const total = list.reduce((n, c) => n + (c.unread_count || 0), 0);
  document.title = total ? `(${total}) Messenger` : 'Messenger';
}

/** Focuses a chat's item; false when it is not in the list. @param {number} chatId */
export function focusChat(chatId) {
  const row = rows.get(chatId);
  if (!row) return false;
  row.a.focus();
  return true;
}

/** Focuses where the list's next action is: its first chat, else the way to find people. */
export function focusList() {
  const first = ul.querySelector('a');
  if (first) first.focus();
  else if (state.chatsLoaded) $('#chat-list-empty a').focus();
  else $('#app-title').focus();
}

/**
 * One notice above the list (a chat we left, or that went away): it stays until dismissed or a
 * chat is opened. Its region is always there, so that screen readers announce what appears in it.
 * @param {string} text
 */
export function showNotice(text) {
  const close = h('button', { type: 'button', class: 'icon-btn small', 'aria-label': 'Dismiss', onclick: () => clearNotice(true) }, icon('close'));
  $('#list-notice').replaceChildren(h('div', { class: 'list-notice', 'data-testid': 'notice' }, h('span', {}, text), close));
}

/** @param {boolean} [focus] put focus back on the list (the notice had it) */
export function clearNotice(focus = false) {
  $('#list-notice').replaceChildren();
  if (focus) focusList();
}

/** Signing out: empties the list. */
export function clearChatList() {
  for (const row of rows.values()) row.li.remove();
  rows.clear();
  feedUp = true;
  renderFeedBanner();
}

/** The signed-in user, top left. */
export function renderMe() {
  const u = currentSession()?.user;
  if (!u) return;
  $('#me-name').textContent = u.username;
  $('#me-phone').textContent = u.phone || '';
  paintAvatar($('#me-avatar'), u.username);
}

listen('chats', renderChatList);
listen('chat', renderChatList);
listen('names', renderChatList);
let feedUp = true;
/** The list may be out of date while the feed is down, or the device has no network. */
function renderFeedBanner() {
  const banner = $('#feed-banner');
  banner.hidden = feedUp && navigator.onLine;
  banner.textContent = navigator.onLine ? 'Offline. Reconnecting…' : 'No network. Waiting for it to come back…';
}
listen('feed', (up) => {
  feedUp = up;
  renderFeedBanner();
});
listen('network', renderFeedBanner);

setIcon($('#sign-out'), 'signout');
setIcon($('#new-chat'), 'compose');
