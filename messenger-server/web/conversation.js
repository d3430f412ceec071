// @ts-check
// One open chat's live state: its `/chat/{id}` socket, the messages held, the outbox, read
// markers, typing and presence. No DOM: what changes is told to a `ConversationView`.

import { ApiError, CHANGE_FRAMES, CloseCode, ErrorCode, PROBE_FRAME, RETRYABLE_CODES, newClientId } from './messenger-client.js';
import { errorText } from './format.js';
import { dropChat, fetchChat, noteDelete, noteEdit, noteMessage, noteRead, upsertChat } from './feed.js';
import { client, isViewing, meId, notify, state } from './state.js';
import { noteOthersRead } from './receipts.js';
import { unreadViewing } from './unread.js';
/**
 * @import {AckFrame, ChangeFrame, ChangesFrame, ClientFrame, CreatedFrame, DeletedFrame, ErrorFrame, HistoryFrame,
 *   Message, ReconnectingSocket, ServerFrame, UpdatedFrame} from './messenger-client.js'
 */

/** A message as shown: a pending one has no id yet. @typedef {Omit<Message, 'message_id'> & {message_id: number | null}} Shown */

/**
 * @typedef {object} Item a message on screen
 * @property {string} key stays the same from pending to saved, so its element does too
 * @property {Shown} msg
 * @property {'saved' | 'pending' | 'failed'} state
 * @property {boolean} updating our edit of it is on its way (and wins over older news)
 * @property {boolean} deleting our delete of it is on its way
 * @property {string} error why it was not sent
 * @property {number} version grows with every change, so a view redraws only what changed
 */

/**
 * A change sent and not yet acknowledged, by client_id; resent after a reconnect.
 * @typedef {{kind: 'create', frame: ClientFrame, item: Item}
 *   | {kind: 'edit', frame: ClientFrame & {message_id: number}, prev: Shown}
 *   | {kind: 'delete', frame: ClientFrame & {message_id: number}}} Op
 */

/**
 * What the conversation asks of whatever shows it (view-conversation.js). Each call comes after
 * the change, before anything is drawn, so the view can still measure the old layout.
 * @typedef {object} ConversationView
 * @property {() => void} render the messages or the outbox changed
 * @property {(reconnect: boolean) => void} loaded a first history arrived, or after a reconnect the
 *   changes since (or a fresh history, when the cursor was refused)
 * @property {() => void} older a page of older messages arrived
 * @property {(mine: boolean) => void} added a new message arrived at the bottom
 * @property {() => void} sent we sent a message
 * @property {() => void} header the chat, presence or typing changed
 * @property {() => void} offline the socket is down; a retry is scheduled (`socket.retryAt`)
 * @property {() => void} live the socket is up and caught up: sending works again
 * @property {() => void} loadingMore a load of older messages started or ended
 * @property {(text: string) => void} error
 */

/** Older messages asked for at a time. */
const PAGE = 30;
/** How long someone counts as typing after their last `typing` frame. */
const TYPING_MS = 3000;
/** How often we tell others we are typing, at most. */
const TYPING_EVERY_MS = 1000;
/** The wait before resending a frame the server refused as rate limited or unavailable. */
const RESEND_MS = 1500;

export class Conversation {
  /**
   * @param {number} chatId
   * @param {ConversationView} view
   */
  constructor(chatId, view) {
    this.chatId = chatId;
    this.view = view;
    /** message_id → the saved messages held. @type {Map<number, Item>} */
    this.items = new Map();
    /** @type {Map<string, Op>} */
    this.outbox = new Map();
    this.hasMore = false;
    this.loadingMore = false;
    /** The first history arrived. */
    this.loaded = false;
    /** The socket is open and its history has arrived: frames can be sent. */
    this.live = false;
    this.closed = false;
    /** The socket opened and its first frame (`history` or `changes`) has not arrived yet. */
    this.awaitingHistory = false;
    /** @type {number[]} */
    this.online = [];
    /** user_id → when they stop counting as typing. @type {Map<number, ReturnType<typeof setTimeout>>} */
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.readSent = state.chats.get(chatId)?.last_read_message_id ?? 0;
    /**
     * Our read marker when the chat opened (undefined until the chat is known): the "new
     * messages" divider goes after it.
     * @type {number | undefined}
     */
    this.readAtOpen = state.chats.has(chatId) ? this.readSent : undefined;
    /** @type {ReconnectingSocket} */
    this.socket = client.chatSocket(chatId, {
      probe: PROBE_FRAME,
      // Every reconnect resumes from the newest cursor processed (`?since=`): the first frame is
      // then `changes`, every creation, edit, deletion and read marker missed, applied as live.
      since: true,
      onOpen: () => {
        this.awaitingHistory = true;
      },
      onFrame: (f) => this.onFrame(f),
      onDown: (info) => {
        this.wentDown();
        // A first refusal is retried at once: not worth saying offline yet.
        if (!info.firstRefusal) this.view.offline();
      },
      onStop: (code) => {
        this.wentDown();
        if (code === CloseCode.TOKEN_REVOKED) notify('sessionEnded', undefined);
        else dropChat(this.chatId, 'removed');
      },
      check: () => this.stillThere(),
    });
  }

  get chat() {
    return state.chats.get(this.chatId);
  }

  start() {
    if (!this.chat) fetchChat(this.chatId);
    this.socket.start();
  }

  destroy() {
    this.closed = true;
    this.live = false;
    this.socket.stop();
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
  }

  /** Skips the wait before the next attempt (the Retry button, the browser coming online). */
  reconnectNow() {
    if (this.closed || this.live) return;
    this.socket.reconnectNow();
  }

  /** The device went offline: the socket is as good as gone (sends wait in the outbox). */
  interrupt() {
    if (!this.closed) this.socket.interrupt();
  }

  /** The connection may have died unnoticed (back from sleep): ask for a sign of life. */
  probe() {
    if (this.live) this.socket.probe();
  }

  // -- the socket --

  wentDown() {
    this.live = false;
    // Who is here is unknown until the socket is back.
    this.online = [];
    notify('presence', undefined);
    this.loadingMore = false;
    this.view.loadingMore();
    this.clearTypers();
  }

  /** After a refused upgrade: a network problem, or is the chat gone (404) / the token dead (401)? */
  async stillThere() {
    try {
      const chat = await client.chat(this.chatId);
      if (!this.closed) upsertChat(chat);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        dropChat(this.chatId, 'gone');
        return false;
      }
      if (e instanceof ApiError && e.status === 401) return false;
    }
    return true;
  }

  /**
   * Sends a frame if the conversation is live; false otherwise (the outbox resends later).
   * @param {ClientFrame} frame
   */
  send(frame) {
    return this.live && this.socket.send(frame);
  }

  /** @param {ServerFrame} f */
  onFrame(f) {
    switch (f.type) {
      case 'history':
        this.onHistory(f);
        break;
      case 'changes':
        this.onChanges(f);
        break;
      case 'presence':
        this.online = Array.isArray(f.online) ? f.online : [];
        this.view.header();
        notify('presence', undefined);
        break;
      case 'MessageCreated':
        this.applyChange(f);
        this.view.added(f.message.author_id === meId());
        this.markRead();
        break;
      case 'MessageUpdated':
      case 'MessageDeleted':
        this.applyChange(f);
        this.view.render();
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
        this.applyChange(f);
        break;
      default:
        break;
    }
  }

  /**
   * One change of the chat, live or replayed by a `changes` frame, taken into the messages held
   * and the chat list; drawing is the caller's.
   * @param {ChangeFrame} f
   */
  applyChange(f) {
    switch (f.type) {
      case 'MessageCreated':
        this.upsert(f.message);
        noteMessage(f.message);
        this.stopTyper(f.message.author_id);
        break;
      case 'MessageUpdated':
        this.upsert(f.message, true);
        noteEdit(f.message);
        break;
      case 'MessageDeleted':
        this.items.delete(f.message_id);
        noteDelete(f.chat_id ?? this.chatId, f.message_id);
        break;
      case 'read':
        noteRead({ ...f, chat_id: f.chat_id ?? this.chatId });
        break;
      default:
        break;
    }
  }

  /**
   * The first frame after a reconnect with `?since=`: every change missed, applied as the live
   * frames would have been. With `has_more` the socket reopens at once from its cursor (the
   * next page); otherwise the conversation is caught up and live.
   * @param {ChangesFrame} f
   */
  onChanges(f) {
    if (!this.awaitingHistory) return;
    this.awaitingHistory = false;
    const events = Array.isArray(f.events) ? f.events : [];
    for (const e of events) if (e && CHANGE_FRAMES.includes(e.type)) this.applyChange(e);
    this.view.loaded(true);
    if (f.has_more) return;
    this.goLive();
  }

  /** @param {HistoryFrame} f */
  onHistory(f) {
    const messages = Array.isArray(f.messages) ? f.messages : [];
    if (!this.awaitingHistory) {
      // The answer to load_more: older messages go on top.
      this.loadingMore = false;
      for (const m of messages) this.upsert(m);
      this.hasMore = !!f.has_more;
      this.view.older();
      return;
    }
    this.awaitingHistory = false;
    const reconnect = this.loaded;
    // After a reconnect a history (not `changes`) means a fresh opening (the cursor was refused):
    // show what a fresh load shows, keeping the elements of messages still there.
    const held = this.items;
    if (reconnect) this.items = new Map();
    for (const m of messages) {
      const it = held.get(m.message_id);
      if (it) this.items.set(m.message_id, it);
      this.upsert(m);
    }
    this.hasMore = !!f.has_more;
    this.loaded = true;
    // The opening page carries every participant's marker: receipts are right from the start.
    for (const r of f.read_markers ?? []) {
      noteOthersRead({ type: 'read', chat_id: this.chatId, user_id: r.user_id, message_id: r.message_id });
    }
    this.view.loaded(reconnect);
    for (const m of messages) noteMessage(m);
    this.goLive();
  }

  /** Caught up: sends what waits in the outbox, and reads what is shown. */
  goLive() {
    this.live = true;
    for (const op of this.outbox.values()) if (!(op.kind === 'create' && op.item.state === 'failed')) this.send(op.frame);
    this.markRead();
    this.view.live();
  }

  /**
   * A frame of the `/events` feed about this chat. The chat socket is authoritative while it is
   * up; the feed fills in while it is down.
   * @param {CreatedFrame | UpdatedFrame | DeletedFrame} f
   */
  fromFeed(f) {
    if (this.live || !this.loaded) return;
    if (f.type === 'MessageCreated') {
      this.upsert(f.message);
      this.view.added(false);
    } else if (f.type === 'MessageUpdated') {
      this.upsert(f.message, true);
      this.view.render();
    } else {
      this.remove(f.message_id);
    }
  }

  /** @param {AckFrame} f */
  onAck(f) {
    const op = this.outbox.get(f.client_id);
    const m = f.message;
    if (!op) {
      // Another of our frames, answered again (a resend after a reconnect).
      if (m && this.items.has(m.message_id)) {
        this.upsert(m, true);
        this.view.render();
      }
      return;
    }
    this.outbox.delete(f.client_id);
    if (op.kind === 'create') {
      const existing = this.items.get(m.message_id);
      if (existing) {
        // It came back on the stream first (a reconnect's changes): that one stays.
        existing.msg = m;
        touch(existing);
      } else {
        Object.assign(op.item, { msg: m, state: 'saved' });
        touch(op.item);
        this.items.set(m.message_id, op.item);
      }
      this.view.render();
      noteMessage(m);
    } else if (op.kind === 'edit') {
      const it = this.items.get(m.message_id);
      if (it) {
        Object.assign(it, { msg: m, updating: false });
        touch(it);
        this.view.render();
      }
      noteEdit(m);
    } else {
      this.remove(op.frame.message_id);
      noteDelete(this.chatId, op.frame.message_id);
    }
  }

  /** @param {ErrorFrame} f */
  onError(f) {
    const op = f.client_id != null ? this.outbox.get(f.client_id) : undefined;
    if (!op) {
      if (f.code === ErrorCode.RATE_LIMITED || f.code === ErrorCode.TOO_LARGE || f.code === ErrorCode.UNAVAILABLE) {
        this.view.error(errorText(f));
      }
      return;
    }
    const clientId = /** @type {string} */ (f.client_id);
    if (RETRYABLE_CODES.includes(f.code)) {
      // Nothing was stored: retry the same client_id a little later.
      setTimeout(() => {
        if (this.outbox.get(clientId) === op) this.send(op.frame);
      }, RESEND_MS);
      return;
    }
    if (op.kind === 'create') {
      Object.assign(op.item, { state: 'failed', error: errorText(f) });
      touch(op.item);
      this.view.render();
      return;
    }
    this.outbox.delete(clientId);
    const id = op.frame.message_id;
    if (f.code === ErrorCode.NOT_FOUND) {
      this.remove(id);
      this.view.error('That message no longer exists.');
      return;
    }
    const it = this.items.get(id);
    if (it) {
      Object.assign(it, { updating: false, deleting: false });
      if (op.kind === 'edit') it.msg = op.prev;
      touch(it);
      this.view.render();
    }
    this.view.error(`${op.kind === 'edit' ? 'Could not edit' : 'Could not delete'}: ${errorText(f)}`);
  }

  // -- messages --

  /**
   * Takes a message from the server. An edit of ours still on its way wins over older news.
   * @param {Message} m
   * @param {boolean} [onlyIfHeld] only update a message we already show
   */
  upsert(m, onlyIfHeld = false) {
    if (m.chat_id !== this.chatId) return;
    const it = this.items.get(m.message_id);
    if (it) {
      if (it.updating && m.text !== it.msg.text) return;
      it.msg = m;
      touch(it);
      return;
    }
    if (onlyIfHeld) return;
    this.items.set(m.message_id, newItem(`m${m.message_id}`, m, 'saved'));
  }

  /** @param {number} id */
  remove(id) {
    if (!this.items.delete(id)) return;
    this.view.render();
  }

  /** Asks for the page before the oldest message held. */
  loadMore() {
    if (!this.live || this.loadingMore || !this.hasMore) return;
    let first = Infinity;
    for (const id of this.items.keys()) first = Math.min(first, id);
    if (first === Infinity) return;
    this.loadingMore = true;
    this.view.loadingMore();
    this.send({ type: 'load_more', before: first, limit: PAGE });
  }

  // -- sending, editing, deleting --

  /** @param {string} text */
  sendText(text) {
    const clientId = newClientId();
    /** @type {Shown} */
    const msg = {
      message_id: null,
      chat_id: this.chatId,
      author_id: meId() ?? 0,
      text,
      created_at: new Date().toISOString(),
      edited_at: null,
    };
    const frame = { type: 'MessageCreated', client_id: clientId, text };
    this.outbox.set(clientId, { kind: 'create', frame, item: newItem(clientId, msg, 'pending') });
    this.view.sent();
    this.send(frame);
  }

  /** The outbox entry of an unsaved message. @param {string} key */
  pendingOf(key) {
    for (const [clientId, op] of this.outbox) if (op.kind === 'create' && op.item.key === key) return { clientId, op };
    return null;
  }

  /** Sends a failed message again, with its first client_id (never a second copy). @param {string} key */
  retry(key) {
    const found = this.pendingOf(key);
    if (!found || found.op.kind !== 'create') return;
    Object.assign(found.op.item, { state: 'pending', error: '' });
    touch(found.op.item);
    this.view.render();
    this.send(found.op.frame);
  }

  /** @param {string} key */
  discard(key) {
    const found = this.pendingOf(key);
    if (!found) return;
    this.outbox.delete(found.clientId);
    this.view.render();
  }

  /**
   * @param {number} id
   * @param {string} text
   */
  edit(id, text) {
    const it = this.items.get(id);
    if (!it || text === it.msg.text) return;
    const clientId = newClientId();
    const frame = { type: 'MessageUpdated', client_id: clientId, message_id: id, text };
    this.outbox.set(clientId, { kind: 'edit', frame, prev: it.msg });
    Object.assign(it, { msg: { ...it.msg, text, edited_at: it.msg.edited_at || new Date().toISOString() }, updating: true });
    touch(it);
    this.view.render();
    this.send(frame);
  }

  /** Deletes one of our messages; false when it is no longer here. @param {number} id */
  deleteMessage(id) {
    const it = this.items.get(id);
    if (!it || this.closed) return false;
    const clientId = newClientId();
    const frame = { type: 'MessageDeleted', client_id: clientId, message_id: id };
    this.outbox.set(clientId, { kind: 'delete', frame });
    it.deleting = true;
    touch(it);
    this.view.render();
    this.send(frame);
    return true;
  }

  // -- read markers, typing, presence --

  /** Everything shown counts as read while the user looks at it. */
  markRead() {
    if (!this.live || !isViewing(this.chatId)) return;
    const chat = this.chat;
    // Not before the chat's own read marker is known: it places the "new messages" divider.
    if (!chat) return;
    if (this.readAtOpen === undefined) {
      this.readAtOpen = chat.last_read_message_id ?? 0;
      this.readSent = Math.max(this.readSent, this.readAtOpen);
    }
    const me = meId();
    let max = 0;
    for (const [id, it] of this.items) if (it.msg.author_id !== me && id > max) max = id;
    const had = chat.unread_count;
    unreadViewing(chat);
    if (had) notify('chats', undefined);
    if (max > this.readSent) {
      this.readSent = max;
      this.send({ type: 'read', message_id: max });
    }
  }

  /** The user is typing: tells the others, at most once a second. */
  typing() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS) return;
    if (this.send({ type: 'typing' })) this.lastTypingSent = now;
  }

  /** @param {number} userId */
  startTyper(userId) {
    clearTimeout(this.typers.get(userId));
    this.typers.set(
      userId,
      setTimeout(() => this.stopTyper(userId), TYPING_MS),
    );
    this.view.header();
  }

  /** @param {number} userId */
  stopTyper(userId) {
    if (!this.typers.has(userId)) return;
    clearTimeout(this.typers.get(userId));
    this.typers.delete(userId);
    this.view.header();
  }

  clearTypers() {
    for (const t of this.typers.values()) clearTimeout(t);
    this.typers.clear();
    this.view.header();
  }
}

/**
 * @param {string} key
 * @param {Shown} msg
 * @param {Item['state']} itemState
 * @returns {Item}
 */
function newItem(key, msg, itemState) {
  return { key, msg, state: itemState, updating: false, deleting: false, error: '', version: 0 };
}

/** @param {Item} it */
function touch(it) {
  it.version++;
}
