// @ts-check
// Lines in a conversation for what happened to the chat itself: a rename, people added, removed
// or leaving, a new owner.
//
// A chat's history holds messages only, and the `/events` feed says just that a chat changed
// (`ChatUpdated` with the chat as it is now, and no word of who did it). So each new version of
// a chat is compared with the one the page had, and the lines are kept per account in
// localStorage: they tell what this browser saw happen, placed after the newest message of the
// moment. Who did it is known only for what we did ourselves, and a member gone is "left" only
// when it cannot have been the owner's doing.

import { currentSession, meId, nameOf, notify, store } from './state.js';
/** @import {Chat} from './messenger-client.js' */

/**
 * One line.
 * @typedef {object} ChatEvent
 * @property {'created' | 'joined' | 'renamed' | 'added' | 'removed' | 'left' | 'gone' | 'owner'} kind
 * @property {string} at when the page saw it (ISO time)
 * @property {number} after the newest message id then: the line goes after that message
 * @property {number} [user] who was added, removed, left, or became the owner
 * @property {boolean} [byMe] we did it
 * @property {string} [name] the new name
 */

/** Lines kept per chat, the newest. */
const KEEP = 50;

/** chat_id → its lines, oldest first. @type {Map<number, ChatEvent[]>} */
const lines = new Map();
/** What we are doing ourselves, so that the change it brings reads "You …": `chatId:kind:detail`. */
const mine = new Set();

function key() {
  return `messenger.timeline.${meId()}`;
}

/** Loads this account's lines (starting a session). */
export function loadTimeline() {
  lines.clear();
  mine.clear();
  const saved = /** @type {Record<string, ChatEvent[]> | null} */ (store.get(key()));
  if (!saved || typeof saved !== 'object') return;
  for (const [chatId, list] of Object.entries(saved)) if (Array.isArray(list)) lines.set(Number(chatId), list);
}

/** At once: lines are rare, and one seen just before a reload must survive it. */
function save() {
  if (currentSession()) store.set(key(), Object.fromEntries(lines));
}

/** The lines of one chat, oldest first. @param {number} chatId */
export function eventsOf(chatId) {
  return lines.get(chatId) ?? [];
}

/**
 * We are about to change a chat ourselves (rename, add, remove): its change will say "You".
 * @param {number} chatId
 * @param {'renamed' | 'added' | 'removed'} kind
 * @param {string | number} detail the new name, or the user added or removed
 */
export function expectOwnChange(chatId, kind, detail) {
  mine.add(`${chatId}:${kind}:${detail}`);
}

/**
 * Our change was refused, or it arrived (then it says "You"): forgets it, and tells whether it
 * was expected.
 * @param {number} chatId
 * @param {'renamed' | 'added' | 'removed'} kind
 * @param {string | number} detail
 */
export function takeOwn(chatId, kind, detail) {
  return mine.delete(`${chatId}:${kind}:${detail}`);
}

/**
 * @param {Chat} chat
 * @param {Omit<ChatEvent, 'at' | 'after'>[]} events
 */
function add(chat, events) {
  if (!events.length) return;
  const after = chat.last_message?.message_id ?? 0;
  const at = new Date().toISOString();
  const list = [...eventsOf(chat.chat_id), ...events.map((e) => ({ ...e, at, after }))].slice(-KEEP);
  lines.set(chat.chat_id, list);
  save();
  notify('timeline', chat.chat_id);
}

/** A group was created with us in it, or we were added to one. @param {Chat} chat */
export function chatCreated(chat) {
  if (chat.kind !== 'group' || lines.has(chat.chat_id)) return;
  add(chat, [chat.owner_id === meId() ? { kind: 'created', byMe: true, name: chat.name } : { kind: 'joined' }]);
}

/**
 * A new version of a chat the page knew: a line for each difference.
 * @param {Chat} prev
 * @param {Chat} next
 */
export function chatChanged(prev, next) {
  if (next.kind !== 'group') return;
  const id = next.chat_id;
  const me = meId();
  /** @type {Omit<ChatEvent, 'at' | 'after'>[]} */
  const events = [];
  if (prev.name !== next.name) events.push({ kind: 'renamed', name: next.name, byMe: takeOwn(id, 'renamed', next.name) });
  for (const user of next.participants) {
    if (!prev.participants.includes(user)) events.push({ kind: 'added', user, byMe: takeOwn(id, 'added', user) });
  }
  for (const user of prev.participants) {
    if (next.participants.includes(user) || user === me) continue;
    if (takeOwn(id, 'removed', user)) events.push({ kind: 'removed', user, byMe: true });
    // Only the owner removes others: the owner gone, or anyone gone while we own it, left.
    else if (user === prev.owner_id || prev.owner_id === me) events.push({ kind: 'left', user });
    else events.push({ kind: 'gone', user });
  }
  if (prev.owner_id !== next.owner_id) events.push({ kind: 'owner', user: next.owner_id });
  add(next, events);
}

/** The chat is gone for us. @param {number} chatId */
export function forgetTimeline(chatId) {
  if (lines.delete(chatId)) save();
}

/** A line's text. @param {ChatEvent} e */
export function eventText(e) {
  const who = e.user === meId() ? 'You' : e.user != null ? nameOf(e.user) : '';
  switch (e.kind) {
    case 'created':
      return `You created the group “${e.name ?? ''}”`;
    case 'joined':
      return 'You were added to the group';
    case 'renamed':
      return `${e.byMe ? 'You renamed the group' : 'The group was renamed'} to “${e.name ?? ''}”`;
    case 'added':
      return e.byMe ? `You added ${who}` : `${who} ${e.user === meId() ? 'were' : 'was'} added`;
    case 'removed':
      return `You removed ${who}`;
    case 'left':
      return `${who} left`;
    case 'gone':
      return `${who} left or was removed`;
    case 'owner':
      return `${who} ${e.user === meId() ? 'are' : 'is'} now the owner`;
    default:
      return '';
  }
}
