// @ts-check
// Keeps `state.chats` in step with the server: `GET /chats`, then the `/events` feed on top.

import { ApiError, CloseCode, PROBE_FRAME } from './messenger-client.js';
import { toast } from './dom.js';
import { errorText } from './format.js';
import { client, currentSession, learnFromChat, meId, notify, state } from './state.js';
import { forgetReceipts, noteOthersRead } from './receipts.js';
import { chatChanged, chatCreated, forgetTimeline } from './timeline.js';
import { fromSnapshot, resetUnread, unreadOnDelete, unreadOnMessage, unreadOnRead } from './unread.js';
/** @import {Chat, Message, ReadFrame, ReconnectingSocket, ServerFrame} from './messenger-client.js' */
/** @import {DropHow} from './state.js' */

/** @type {ReconnectingSocket | null} */
let socket = null;
// Feed frames that arrive while GET /chats is in flight wait for it, then apply on top.
/** @type {Promise<void> | null} */
let resyncing = null;
let resyncAgain = false;
/** @type {ServerFrame[]} */
const queue = [];

/** Opens the `/events` socket; each `ready` reloads the list, so a reconnect misses nothing. */
export function startFeed() {
  socket = client.events({
    probe: PROBE_FRAME,
    onFrame: onFeedFrame,
    onDown: () => notify('feed', false),
    onStop: (code) => {
      if (code === CloseCode.TOKEN_REVOKED) notify('sessionEnded', undefined);
    },
    // The upgrade itself failed: a revoked token shows up here as a 401, which ends the session.
    check: async () => {
      await client.me().catch(() => {});
      return currentSession() != null;
    },
  });
  socket.start();
}

export function stopFeed() {
  socket?.stop();
  socket = null;
  queue.length = 0;
  resetUnread(true);
  notify('feed', true);
}

/** The browser says it is online again: skip the wait. */
export function reconnectFeed() {
  socket?.reconnectNow();
}

/** The device went offline: the socket is as good as gone. */
export function interruptFeed() {
  socket?.interrupt();
}

/** The connection may have died unnoticed (back from sleep): ask the server for a sign of life. */
export function probeFeed() {
  socket?.probe();
}

/** @param {ServerFrame} f */
function onFeedFrame(f) {
  if (f.type === 'ready') {
    // From now on nothing is missed: (re)load the list, applying later frames on top.
    notify('feed', true);
    resyncChats();
    return;
  }
  if (resyncing) queue.push(f);
  else applyFeedFrame(f);
}

/** Reloads every chat (GET /chats); a call while one is in flight makes it run once more. */
export function resyncChats() {
  if (resyncing) {
    resyncAgain = true;
    return resyncing;
  }
  resyncing = (async () => {
    do {
      resyncAgain = false;
      try {
        const list = await client.chats();
        if (!currentSession()) return;
        const before = new Map(state.chats);
        state.chats.clear();
        resetUnread();
        for (const chat of list) {
          learnFromChat(chat);
          state.chats.set(chat.chat_id, fromSnapshot(chat));
          // Changes made while the feed was down get their lines too.
          const prev = before.get(chat.chat_id);
          if (prev) chatChanged(prev, chat);
        }
        state.chatsLoaded = true;
      } catch (e) {
        if ((e instanceof ApiError && e.status === 401) || !currentSession()) return;
        if (!state.chatsLoaded) toast(errorText(e), 'error');
      }
    } while (resyncAgain);
  })().finally(() => {
    resyncing = null;
    if (!currentSession()) return;
    for (const f of queue.splice(0)) applyFeedFrame(f);
    notify('chat', null);
  });
  return resyncing;
}

/** @param {ServerFrame} f */
function applyFeedFrame(f) {
  const conv = state.conv;
  switch (f.type) {
    case 'ChatCreated':
    case 'ChatUpdated':
      if (f.chat) upsertChat(f.chat, f.type === 'ChatCreated');
      break;
    case 'ChatDeleted':
      if (state.chats.has(f.chat_id) || conv?.chatId === f.chat_id) dropChat(f.chat_id, 'removed');
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

/**
 * A chat as the server sent it.
 * @param {Chat} chat
 * @param {boolean} [created] it was just created, or we were just added to it
 */
export function upsertChat(chat, created = false) {
  learnFromChat(chat);
  const prev = state.chats.get(chat.chat_id);
  state.chats.set(chat.chat_id, fromSnapshot(chat));
  if (prev) chatChanged(prev, chat);
  else if (created) chatCreated(chat);
  notify('chat', chat.chat_id);
}

/** @type {Map<number, Promise<Chat | null>>} */
const chatFetches = new Map();

/** Fetches one chat (once at a time); a 404 means it is gone for us. @param {number} chatId */
export function fetchChat(chatId) {
  const pending = chatFetches.get(chatId);
  if (pending) return pending;
  const p = client
    .chat(chatId)
    .then((chat) => {
      if (currentSession()) upsertChat(chat);
      return chat;
    })
    .catch((e) => {
      if (e instanceof ApiError && e.status === 404) dropChat(chatId, 'gone');
      return null;
    })
    .finally(() => chatFetches.delete(chatId));
  chatFetches.set(chatId, p);
  return p;
}

/**
 * The chat is gone for us (deleted, left, removed).
 * @param {number} chatId
 * @param {DropHow} [how]
 */
export function dropChat(chatId, how = 'gone') {
  if (state.leaving.has(chatId)) how = 'quiet';
  const chat = state.chats.get(chatId);
  state.chats.delete(chatId);
  forgetReceipts(chatId);
  forgetTimeline(chatId);
  notify('chats', undefined);
  notify('dropped', { chatId, how, chat });
}

/** A message seen on any socket: moves the chat up, updates the preview and the unread count. @param {Message} msg */
export function noteMessage(msg) {
  const chat = state.chats.get(msg.chat_id);
  if (!chat) {
    fetchChat(msg.chat_id);
    return;
  }
  const counted = unreadOnMessage(chat, msg, () => notify('chats', undefined));
  if (chat.last_message && msg.message_id <= chat.last_message.message_id) {
    if (counted) notify('chats', undefined);
    return; // seen already
  }
  chat.last_message = msg;
  notify('chats', undefined);
}

/** @param {Message} msg */
export function noteEdit(msg) {
  const chat = state.chats.get(msg.chat_id);
  if (chat?.last_message?.message_id === msg.message_id) {
    chat.last_message = msg;
    notify('chats', undefined);
  }
}

/**
 * @param {number} chatId
 * @param {number} messageId
 */
export function noteDelete(chatId, messageId) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const refetch = unreadOnDelete(chat, messageId);
  if (chat.last_message?.message_id === messageId || refetch) fetchChat(chatId);
  else notify('chats', undefined);
}

/** Our own read marker moved (here or in another tab). @param {ReadFrame} f */
export function noteRead(f) {
  if (f.user_id !== meId()) {
    noteOthersRead(f);
    return;
  }
  const chat = state.chats.get(f.chat_id);
  if (!chat) return;
  if (unreadOnRead(chat, f.message_id)) fetchChat(chat.chat_id);
  notify('chats', undefined);
}
