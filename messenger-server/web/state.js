// @ts-check
// The page's state: the session, the chats, known names, drafts and the route, and change notices.
//
// Views do not call each other: what changes here is announced with `notify`, and each view
// `listen`s for what it shows.

import { MessengerClient } from './messenger-client.js';
/** @import {AuthResult, Chat, User} from './messenger-client.js' */
/** @import {Conversation} from './conversation.js' */

// ---------------------------------------------------------------------------------------------
// Change notices

/**
 * @typedef {'quiet' | 'gone' | 'removed'} DropHow how a chat went away: left on purpose
 *   (quiet), found missing (gone), or taken away by someone else (removed)
 */

/**
 * What can change, and what each notice carries.
 * @typedef {object} Topics
 * @property {void} chats the chat list: order, previews, unread counts
 * @property {number | null} chat one chat's details (name, members, owner); null: any of them
 * @property {void} names a user's name became known
 * @property {void} presence who has the open chat open
 * @property {boolean} feed whether the `/events` socket is up
 * @property {boolean} network whether the device has a network (the browser's online/offline)
 * @property {number} receipts someone's read marker moved in this chat
 * @property {number} timeline a line was added to this chat's conversation (a rename, someone added…)
 * @property {{chatId: number, how: DropHow, chat: Chat | undefined}} dropped a chat is gone for us
 * @property {AuthResult} signedIn
 * @property {void} sessionEnded the token was revoked or expired
 */

/** @type {Map<keyof Topics, Array<(detail: any) => void>>} */
const listeners = new Map();

/**
 * @template {keyof Topics} K
 * @param {K} topic
 * @param {(detail: Topics[K]) => void} fn
 */
export function listen(topic, fn) {
  const list = listeners.get(topic) ?? [];
  list.push(fn);
  listeners.set(topic, list);
}

/**
 * Tells the listeners of `topic`, at once and in the order they listened.
 * @template {keyof Topics} K
 * @param {K} topic
 * @param {Topics[K]} detail
 */
export function notify(topic, detail) {
  for (const fn of listeners.get(topic) ?? []) fn(detail);
}

// ---------------------------------------------------------------------------------------------
// Local storage (JSON); in private mode the session just won't survive a reload

export const store = {
  /** @param {string} key @returns {unknown} */
  get(key) {
    try {
      return JSON.parse(localStorage.getItem(key) ?? 'null');
    } catch {
      return null;
    }
  },
  /** @param {string} key @param {unknown} value */
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* private mode */
    }
  },
  /** @param {string} key */
  del(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* ignore */
    }
  },
};

// ---------------------------------------------------------------------------------------------
// The session

/** @typedef {{token: string, user: User}} Session */

const SESSION_KEY = 'messenger.session';

/** @returns {Session | null} */
function savedSession() {
  const s = /** @type {any} */ (store.get(SESSION_KEY));
  return s && typeof s.token === 'string' && s.user ? s : null;
}

/** @type {Session | null} */
let session = savedSession();

/** The protocol client, carrying the session's token. */
export const client = new MessengerClient({
  token: session?.token ?? null,
  onUnauthorized: (token) => {
    if (session?.token === token) notify('sessionEnded', undefined);
  },
});

export function currentSession() {
  return session;
}

/** The signed-in user's id (undefined when signed out). */
export function meId() {
  return session?.user.user_id;
}

/** @param {AuthResult} res */
export function saveSession(res) {
  session = { token: res.token, user: res.user };
  client.token = res.token;
  store.set(SESSION_KEY, session);
}

/** Keeps the fresher copy of the user's own record (`GET /me`). @param {User} user */
export function updateMe(user) {
  if (!session || user.user_id !== session.user.user_id) return;
  session.user = user;
  store.set(SESSION_KEY, session);
}

export function clearSession() {
  session = null;
  client.token = null;
  store.del(SESSION_KEY);
}

// ---------------------------------------------------------------------------------------------
// What the page shows

/** @typedef {'list' | 'chat' | 'info' | 'people'} RouteName */
/** @typedef {{name: RouteName, chatId: number | null}} Route */

export const state = {
  /** @type {Route} */
  route: { name: 'list', chatId: null },
  /** The open conversation, if any. @type {Conversation | null} */
  conv: null,
  /** chat_id → Chat, every chat we take part in. @type {Map<number, Chat>} */
  chats: new Map(),
  /** Whether `GET /chats` has answered once (until then the list shows a placeholder). */
  chatsLoaded: false,
  /** chat_id → unsent composer text. @type {Map<number, string>} */
  drafts: new Map(),
  /** Chats we are leaving or deleting ourselves: their going away is no news. @type {Set<number>} */
  leaving: new Set(),
};

/** Whether the user is looking at this chat right now (its messages count as read). @param {number} chatId */
export function isViewing(chatId) {
  return (
    state.conv != null &&
    state.conv.chatId === chatId &&
    state.route.name === 'chat' &&
    document.visibilityState === 'visible'
  );
}

// ---------------------------------------------------------------------------------------------
// Known users: names are learnt from search results, direct chats and our own account, kept
// per account in localStorage, and an unknown id is looked up once with GET /users/{id}.

/** @type {Map<number, string>} */
const names = new Map();
/** @type {Set<number>} */
const nameLookups = new Set();
/** @type {ReturnType<typeof setTimeout> | undefined} */
let namesSaveTimer;

function namesKey() {
  return `messenger.names.${session?.user.user_id}`;
}

/** Loads the names this account has learnt before (starting a session). */
export function loadNames() {
  names.clear();
  nameLookups.clear();
  const saved = store.get(namesKey());
  if (saved && typeof saved === 'object') {
    for (const [id, n] of Object.entries(saved)) if (typeof n === 'string') names.set(Number(id), n);
  }
  if (session) names.set(session.user.user_id, session.user.username);
}

/**
 * @param {number} userId
 * @param {string} username
 */
export function learnName(userId, username) {
  if (!username || names.get(userId) === username) return;
  names.set(userId, username);
  clearTimeout(namesSaveTimer);
  namesSaveTimer = setTimeout(() => session && store.set(namesKey(), Object.fromEntries(names)), 200);
}

/** A direct chat's name is the other person's username. @param {Chat} chat */
export function learnFromChat(chat) {
  if (chat.kind === 'direct' && session) {
    const me = session.user.user_id;
    const other = chat.participants.find((id) => id !== me);
    if (other != null) learnName(other, chat.name);
  }
}

/** A user's name, or a placeholder while it is looked up. @param {number} userId */
export function nameOf(userId) {
  const known = names.get(userId);
  if (known) return known;
  lookUpName(userId);
  return `User ${userId}`;
}

/** @param {number} userId */
function lookUpName(userId) {
  if (nameLookups.has(userId) || !session) return;
  nameLookups.add(userId);
  client
    .user(userId)
    .then((user) => {
      learnName(user.user_id, user.username);
      // Whatever showed the placeholder shows the name now.
      notify('names', undefined);
    })
    .catch(() => {
      // Unknown or unreachable: keep the placeholder; a later render may try again.
      setTimeout(() => nameLookups.delete(userId), 30000);
    });
}
