// @ts-check
// Unread counts that equal the server's `unread_count`.
//
// A chat snapshot (GET /chats, GET /chats/{id}, ChatCreated, ChatUpdated) is read in two steps on
// the server: the last message first, then the count. A message stored in between is counted
// without being the snapshot's `last_message`, so adding one for its MessageCreated counts it
// twice (issue 18: a new direct chat's first message showed 2). So a snapshot's count is shown as
// it is, and the first message past the snapshot makes the count exact: from the chat's newest
// messages, by id. From then on the message ids themselves are counted, and a duplicate cannot
// count twice.

import { client, isViewing, meId } from './state.js';
/** @import {Chat, Message} from './messenger-client.js' */

/**
 * A chat's unread messages known one by one.
 * @typedef {object} Exact
 * @property {Set<number>} ids messages by others after our read marker, up to `upTo`
 * @property {number} upTo the newest message id taken into account
 * @property {number} from every unread message after `from` is in `ids` (a count that had to stop
 *   paging early knows only the newest ones)
 */

/** Pages fetched at most to count a chat's unread messages; beyond that the badge says 99+ anyway. */
const MAX_PAGES = 3;

/** chat_id → its exact count; absent: the last snapshot's count stands. @type {Map<number, Exact>} */
const exact = new Map();
/** chat_id → messages that arrived while their chat was being counted. @type {Map<number, Set<number>>} */
const counting = new Map();
/** chat_id → the newest message id seen on any socket. @type {Map<number, number>} */
const seen = new Map();
/** Bumped by a reload of every chat: counts started before it are dropped. */
let epoch = 0;

/**
 * Every chat is reloaded (GET /chats after a reconnect: events may have been missed), or the
 * session ends (`signedOut`).
 * @param {boolean} [signedOut]
 */
export function resetUnread(signedOut = false) {
  exact.clear();
  counting.clear();
  if (signedOut) seen.clear();
  epoch++;
}

/**
 * A snapshot of `chat` arrives; returns it with the unread count to show.
 * @param {Chat} chat
 * @returns {Chat}
 */
export function fromSnapshot(chat) {
  const id = chat.chat_id;
  const last = chat.last_message?.message_id ?? 0;
  const read = chat.last_read_message_id ?? 0;
  if (isViewing(id)) {
    exact.set(id, { ids: new Set(), upTo: Math.max(last, read), from: 0 });
    return { ...chat, unread_count: 0 };
  }
  const known = exact.get(id);
  if (known && last <= known.upTo && read <= known.upTo && read >= known.from) {
    // Our own count is at least as fresh: keep it (a rename must not bring back a double count).
    for (const m of known.ids) if (m <= read) known.ids.delete(m);
    return { ...chat, unread_count: known.ids.size };
  }
  exact.delete(id);
  counting.delete(id);
  // Nothing unread when counted: whatever comes after the snapshot is new.
  if (!chat.unread_count) exact.set(id, { ids: new Set(), upTo: Math.max(last, read), from: read });
  return chat;
}

/**
 * A message of `chat` seen on a socket, before `chat.last_message` takes it. Returns true when
 * the count changed now (a count that has to be made exact changes later, through `done`).
 * @param {Chat} chat
 * @param {Pick<Message, 'message_id' | 'author_id'>} msg
 * @param {(chat: Chat) => void} done called when a count made exact changed the chat's count
 */
export function unreadOnMessage(chat, msg, done) {
  const id = chat.chat_id;
  const m = msg.message_id;
  seen.set(id, Math.max(seen.get(id) ?? 0, m));
  if (msg.author_id === meId()) return false;
  if (isViewing(id)) {
    exact.set(id, { ids: new Set(), upTo: m, from: 0 });
    return false;
  }
  const known = exact.get(id);
  if (known) {
    if (m <= known.upTo) return false; // counted already
    known.upTo = m;
    if (m <= (chat.last_read_message_id ?? 0)) return false;
    known.ids.add(m);
    chat.unread_count = known.ids.size;
    return true;
  }
  if (chat.last_message && m <= chat.last_message.message_id) return false; // in the snapshot's count
  const pending = counting.get(id);
  if (pending) pending.add(m);
  else countExactly(chat, new Set([m]), done);
  return false;
}

/**
 * Counts a chat's unread messages from its newest pages (messages that arrive meanwhile are
 * added to `pending` and counted too).
 * @param {Chat} chat
 * @param {Set<number>} pending
 * @param {(chat: Chat) => void} done
 */
async function countExactly(chat, pending, done) {
  const id = chat.chat_id;
  const started = epoch;
  counting.set(id, pending);
  const me = meId();
  /** @type {Set<number>} */
  const ids = new Set();
  let upTo = 0;
  let from = Infinity;
  try {
    /** @type {number | undefined} */
    let before;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await client.messages(id, { before, limit: 100 });
      const read = chat.last_read_message_id ?? 0;
      for (const msg of res.messages) {
        upTo = Math.max(upTo, msg.message_id);
        if (msg.author_id !== me && msg.message_id > read) ids.add(msg.message_id);
      }
      const oldest = res.messages[0]?.message_id;
      from = res.has_more && oldest != null ? oldest : 0;
      if (from <= read || oldest == null) break;
      before = oldest;
    }
  } catch {
    if (counting.get(id) === pending) counting.delete(id);
    return; // the next message tries again
  }
  if (epoch !== started || counting.get(id) !== pending) return;
  counting.delete(id);
  const read = chat.last_read_message_id ?? 0;
  for (const m of pending) {
    upTo = Math.max(upTo, m);
    if (m > read) ids.add(m);
  }
  for (const m of ids) if (m <= read) ids.delete(m);
  exact.set(id, { ids, upTo, from });
  if (isViewing(id)) return;
  chat.unread_count = ids.size;
  done(chat);
}

/**
 * Our own read marker moved (this tab or another). Returns whether the count needs a fresh
 * snapshot (read up to a point the page does not know enough about).
 * @param {Chat} chat
 * @param {number} messageId
 */
export function unreadOnRead(chat, messageId) {
  const id = chat.chat_id;
  const read = Math.max(chat.last_read_message_id ?? 0, messageId);
  chat.last_read_message_id = read;
  const known = exact.get(id);
  if (known && read >= known.from) {
    for (const m of known.ids) if (m <= read) known.ids.delete(m);
    chat.unread_count = known.ids.size;
    return false;
  }
  // A chat's events come in one order, so every message before this read has been seen: read up
  // to the newest of them means nothing is unread.
  const newest = Math.max(chat.last_message?.message_id ?? 0, seen.get(id) ?? 0);
  if (read >= newest) {
    exact.set(id, { ids: new Set(), upTo: read, from: read });
    chat.unread_count = 0;
    return false;
  }
  return chat.unread_count > 0;
}

/**
 * A message was deleted. Returns whether the count needs a fresh snapshot.
 * @param {Chat} chat
 * @param {number} messageId
 */
export function unreadOnDelete(chat, messageId) {
  const known = exact.get(chat.chat_id);
  if (known) {
    known.ids.delete(messageId);
    chat.unread_count = known.ids.size;
    return false;
  }
  return chat.unread_count > 0;
}

/** The chat is on screen: everything in it counts as read. @param {Chat} chat */
export function unreadViewing(chat) {
  const upTo = Math.max(chat.last_message?.message_id ?? 0, seen.get(chat.chat_id) ?? 0);
  exact.set(chat.chat_id, { ids: new Set(), upTo, from: 0 });
  chat.unread_count = 0;
}
