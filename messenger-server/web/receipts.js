// @ts-check
// Other people's read markers, for the read receipts on our own messages.
//
// A chat socket's opening `history` carries every participant's marker, and a `read` frame
// follows each move (on the chat's sockets and on every participant's `/events`). The page also
// keeps the markers it has seen, per account in localStorage, so that the chat list's previews
// can show receipts for chats it has not opened since the page loaded.

import { currentSession, meId, notify, store } from './state.js';
/** @import {ReadFrame} from './messenger-client.js' */

/** Chats whose markers are kept, at most (the most recently moved). */
const MAX_CHATS = 200;

/** chat_id → user_id → the newest message id they have read. @type {Map<number, Map<number, number>>} */
const markers = new Map();
/** @type {ReturnType<typeof setTimeout> | undefined} */
let saveTimer;

function key() {
  return `messenger.receipts.${meId()}`;
}

/** Loads the markers this account has seen (starting a session). */
export function loadReceipts() {
  markers.clear();
  const saved = /** @type {Record<string, Record<string, number>> | null} */ (store.get(key()));
  if (!saved || typeof saved !== 'object') return;
  for (const [chatId, users] of Object.entries(saved)) {
    const m = new Map();
    for (const [userId, messageId] of Object.entries(users ?? {})) {
      if (typeof messageId === 'number') m.set(Number(userId), messageId);
    }
    markers.set(Number(chatId), m);
  }
}

function save() {
  clearTimeout(saveTimer);
  // Read frames come in bursts in a busy group: written a moment later, or as the page goes.
  saveTimer = setTimeout(flush, 300);
}

function flush() {
  if (saveTimer === undefined) return;
  clearTimeout(saveTimer);
  saveTimer = undefined;
  if (!currentSession()) return;
  while (markers.size > MAX_CHATS) markers.delete(/** @type {number} */ (markers.keys().next().value));
  /** @type {Record<number, Record<number, number>>} */
  const out = {};
  for (const [chatId, users] of markers) out[chatId] = Object.fromEntries(users);
  store.set(key(), out);
}

window.addEventListener('pagehide', flush);

/** Someone else's marker moved. @param {ReadFrame} f */
export function noteOthersRead(f) {
  if (f.user_id === meId()) return;
  const users = markers.get(f.chat_id) ?? new Map();
  if ((users.get(f.user_id) ?? 0) >= f.message_id) return;
  users.set(f.user_id, f.message_id);
  // Most recently moved last, so that the oldest are dropped first.
  markers.delete(f.chat_id);
  markers.set(f.chat_id, users);
  save();
  notify('receipts', f.chat_id);
}

/**
 * Who of `among` has read message `messageId` of a chat, as far as the page has seen.
 * @param {number} chatId
 * @param {number} messageId
 * @param {number[]} among the people to ask about (the chat's participants)
 */
export function readersOf(chatId, messageId, among) {
  const users = markers.get(chatId);
  if (!users) return [];
  return among.filter((id) => (users.get(id) ?? 0) >= messageId);
}

/** The chat is gone for us. @param {number} chatId */
export function forgetReceipts(chatId) {
  if (markers.delete(chatId)) save();
}
