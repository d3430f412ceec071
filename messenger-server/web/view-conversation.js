// @ts-check
// The open conversation on screen: its header, the message list (day separators, the "new
// messages" divider, lines for what happened to the chat, read receipts), scrolling, the banner.

import { Conversation } from './conversation.js';
import { $, $as, confirmDialog, h, hashOf, paintAvatar, setIcon, toast } from './dom.js';
import { dayLabel, startOfDay } from './format.js';
import { buildRow, fillRow, receiptOf, seenByText } from './message-row.js';
import { RovingList } from './roving.js';
import { listen, meId, nameOf, state } from './state.js';
import { eventText, eventsOf } from './timeline.js';
import { cancelEdit, closeComposer, editingId, focusComposer, openComposer, startEdit } from './view-composer.js';
/** @import {ConversationView, Item} from './conversation.js' */
/** @import {Row} from './message-row.js' */
/** @import {ChatEvent} from './timeline.js' */

/** Within this many pixels of the bottom, new messages keep the view scrolled down. */
const NEAR_BOTTOM_PX = 120;
/** Messages of one author closer than this in time are drawn as one group. */
const GROUP_MS = 5 * 60 * 1000;

const section = $('#conversation');
const messagesEl = $('#messages');
const top = $('#messages-top');
const loadOlderBtn = $as('#load-older', HTMLButtonElement);
const jumpBtn = $('#jump-bottom');

/**
 * What the list shows, in order.
 * @typedef {{kind: 'msg', it: Item, at: number}
 *   | {kind: 'line', key: string, ev: ChatEvent, at: number}
 *   | {kind: 'divider', at: number}} Entry
 */

/** @implements {ConversationView} */
class MessagesView {
  /** @param {number} chatId */
  constructor(chatId) {
    this.conv = new Conversation(chatId, this);
    /** Item key → its element. @type {Map<string, Row>} */
    this.rows = new Map();
    /** Start of a day → its separator. @type {Map<number, HTMLElement>} */
    this.seps = new Map();
    /** A chat line's key → its element. @type {Map<string, HTMLElement>} */
    this.lines = new Map();
    this.divider = h('div', { class: 'unread-sep', 'data-testid': 'unread-divider', role: 'separator', 'aria-label': 'New messages' }, h('span', {}, 'New messages'));
    /** The first unread message when the chat opened: the divider goes above it (null: none). @type {number | null | undefined} */
    this.firstUnread = undefined;
    /** Whether the newest message was in view at the last look: a resize keeps it there. */
    this.pinned = true;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.countdown = undefined;
  }

  open() {
    const chatId = this.conv.chatId;
    clearMessages();
    roving.reset();
    messagesEl.classList.add('loading');
    messagesEl.setAttribute('aria-busy', 'true');
    loadOlderBtn.hidden = true;
    $('#history-start').hidden = true;
    jumpBtn.hidden = true;
    this.showBanner(false);
    openComposer(chatId);
    section.dataset.chatId = String(chatId);
    $as('#conv-info', HTMLAnchorElement).href = `#/chat/${chatId}/info`;
    $as('#settings-back', HTMLAnchorElement).href = `#/chat/${chatId}`;
    this.header();
    this.conv.start();
  }

  close() {
    clearInterval(this.countdown);
    closeComposer(this.conv.chatId);
    this.conv.destroy();
    clearMessages();
    this.showBanner(false);
  }

  // -- what the conversation tells us --

  render() {
    const conv = this.conv;
    // A message drawn taller (an edit, a receipt line) must not push the newest one out of view.
    const stick = conv.loaded && this.nearBottom();
    /** @type {Item[]} */
    const ordered = [...conv.items.values()].sort((a, b) => (a.msg.message_id ?? 0) - (b.msg.message_id ?? 0));
    for (const op of conv.outbox.values()) if (op.kind === 'create') ordered.push(op.item);
    const me = meId();
    const seen = new Set();
    for (const it of ordered) {
      let row = this.rows.get(it.key);
      const mine = it.msg.author_id === me;
      if (!row) {
        row = buildRow(it, mine, rowActions(this));
        this.rows.set(it.key, row);
      }
      fillRow(row, it, mine ? receiptOf(it, conv.chat, conv.live) : null);
      seen.add(it.key);
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.el.remove();
        this.rows.delete(key);
      }
    }
    this.layout(this.entries(ordered));
    this.seenBy(ordered);
    roving.sync();
    if (stick) messagesEl.scrollTop = messagesEl.scrollHeight;
    const editing = editingId();
    if (editing != null && !conv.items.has(editing)) cancelEdit(true);
  }

  /** @param {boolean} reconnect */
  loaded(reconnect) {
    const stick = !reconnect || this.nearBottom();
    messagesEl.classList.remove('loading');
    messagesEl.removeAttribute('aria-busy');
    this.render();
    if (stick) this.scrollToBottom();
    if (!reconnect) this.showDivider();
  }

  older() {
    // Older messages go on top; the view stays where it was.
    const before = messagesEl.scrollHeight;
    const scrolled = messagesEl.scrollTop;
    this.render();
    messagesEl.scrollTop = scrolled + (messagesEl.scrollHeight - before);
    this.fillViewport();
  }

  /** @param {boolean} mine */
  added(mine) {
    const stick = this.nearBottom();
    this.render();
    if (stick || mine) this.scrollToBottom();
    else jumpBtn.hidden = false;
  }

  sent() {
    this.render();
    this.scrollToBottom();
  }

  offline() {
    this.showBanner(true);
    this.render(); // our pending messages now wait for the connection
    clearInterval(this.countdown);
    this.countdown = setInterval(() => this.renderBannerText(), 500);
  }

  live() {
    clearInterval(this.countdown);
    this.showBanner(false);
    this.render();
    this.header();
    this.fillViewport();
  }

  loadingMore() {
    this.renderLoadOlder();
  }

  /** @param {string} text */
  error(text) {
    toast(text, 'error');
  }

  header() {
    const conv = this.conv;
    if (conv.closed) return;
    const chat = conv.chat;
    $('#conv-title').textContent = chat ? chat.name : 'Loading…';
    paintAvatar($('#conv-avatar'), chat ? chat.name : '?', chat?.kind === 'group');
    const typing = $('#conv-typing');
    const presence = $('#conv-presence');
    const typers = [...conv.typers.keys()];
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
    presence.classList.remove('online');
    if (!chat) {
      presence.textContent = '';
      return;
    }
    if (!conv.live && conv.loaded) {
      // Who is here is unknown while we are not connected ourselves.
      presence.textContent = navigator.onLine ? 'connecting…' : 'waiting for network…';
    } else if (chat.kind === 'group') {
      const n = chat.participants.length;
      const on = conv.online.filter((id) => chat.participants.includes(id)).length;
      presence.textContent = `${n} member${n === 1 ? '' : 's'}${on ? `, ${on} online` : ''}`;
    } else {
      const me = meId();
      const other = chat.participants.find((id) => id !== me);
      const on = other != null && conv.online.includes(other);
      presence.textContent = on ? 'online' : 'offline';
      presence.classList.toggle('online', on);
    }
  }

  // -- what the list holds --

  /**
   * In a group, our newest message someone has read says who, under it.
   * @param {Item[]} ordered
   */
  seenBy(ordered) {
    const chat = this.conv.chat;
    const me = meId();
    let shown = false;
    for (let i = ordered.length - 1; i >= 0; i--) {
      const it = ordered[i];
      const row = this.rows.get(it.key);
      if (!row || it.msg.author_id !== me) continue;
      /** @type {string} */
      const text = chat?.kind === 'group' && !shown ? seenByText(it, chat) : '';
      row.seen.hidden = !text;
      row.seen.textContent = text;
      shown ||= !!text;
    }
  }

  /**
   * Messages, the chat's lines and the divider, in order: a line goes after the newest message
   * of its moment; lines from before the oldest message held wait until older ones are loaded.
   * @param {Item[]} ordered saved messages by id, then pending ones
   * @returns {Entry[]}
   */
  entries(ordered) {
    const conv = this.conv;
    const chatId = conv.chatId;
    const me = meId();
    if (this.firstUnread === undefined && conv.loaded && conv.readAtOpen !== undefined) {
      const read = conv.readAtOpen;
      const first = ordered.find((it) => it.state === 'saved' && it.msg.author_id !== me && (it.msg.message_id ?? 0) > read);
      this.firstUnread = first?.msg.message_id ?? null;
    }
    const oldest = ordered.find((it) => it.msg.message_id != null)?.msg.message_id ?? Infinity;
    const lines = eventsOf(chatId)
      .map((ev, i) => ({ kind: /** @type {const} */ ('line'), key: `${ev.at}:${i}`, ev, at: Date.parse(ev.at) }))
      .filter((l) => !conv.hasMore || l.ev.after >= oldest)
      .sort((a, b) => a.ev.after - b.ev.after || a.at - b.at);
    /** @type {Entry[]} */
    const out = [];
    let li = 0;
    for (const it of ordered) {
      const id = it.msg.message_id;
      while (id != null && li < lines.length && lines[li].ev.after < id) out.push(lines[li++]);
      if (id == null) while (li < lines.length) out.push(lines[li++]);
      const at = Date.parse(it.msg.created_at);
      if (id != null && id === this.firstUnread) out.push({ kind: 'divider', at });
      out.push({ kind: 'msg', it, at });
    }
    while (li < lines.length) out.push(lines[li++]);
    return out;
  }

  /**
   * Puts the elements in order, with day separators and messages grouped by author.
   * @param {Entry[]} entries
   */
  layout(entries) {
    const group = this.conv.chat?.kind === 'group';
    const me = meId();
    /** @type {Element} */
    let cursor = top;
    /** @param {Element} el */
    const place = (el) => {
      if (cursor.nextSibling !== el) messagesEl.insertBefore(el, cursor.nextSibling);
      cursor = el;
    };
    const usedSeps = new Set();
    const usedLines = new Set();
    let hasDivider = false;
    /** @type {Entry | null} */
    let prev = null;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const day = startOfDay(new Date(e.at));
      const newDay = !prev || startOfDay(new Date(prev.at)) !== day;
      if (newDay) {
        let sep = this.seps.get(day);
        if (!sep) {
          sep = h('div', { class: 'day-sep', role: 'separator' }, h('span', {}));
          this.seps.set(day, sep);
        }
        /** @type {HTMLElement} */ (sep.firstChild).textContent = dayLabel(new Date(e.at));
        usedSeps.add(day);
        place(sep);
      }
      if (e.kind === 'divider') {
        hasDivider = true;
        place(this.divider);
      } else if (e.kind === 'line') {
        let el = this.lines.get(e.key);
        if (!el) {
          el = h('div', { class: 'chat-line', 'data-testid': 'chat-line' }, h('span', {}));
          this.lines.set(e.key, el);
        }
        // Names may have become known since.
        /** @type {HTMLElement} */ (el.firstChild).textContent = eventText(e.ev);
        usedLines.add(e.key);
        place(el);
      } else {
        const it = e.it;
        const row = /** @type {Row} */ (this.rows.get(it.key));
        const before = prev?.kind === 'msg' && !newDay ? prev.it : null;
        const next = entries[i + 1];
        const after = next?.kind === 'msg' && startOfDay(new Date(next.at)) === day ? next.it : null;
        const cont = before != null && before.msg.author_id === it.msg.author_id && e.at - Date.parse(before.msg.created_at) < GROUP_MS;
        const lastOfGroup = !after || after.msg.author_id !== it.msg.author_id || Date.parse(after.msg.created_at) - e.at >= GROUP_MS;
        row.el.classList.toggle('cont', cont);
        row.el.classList.toggle('tail', lastOfGroup);
        const showAuthor = group && !cont && it.msg.author_id !== me;
        row.author.hidden = !showAuthor;
        if (showAuthor) {
          const name = nameOf(it.msg.author_id);
          row.author.textContent = name;
          row.author.className = `msg-author c${hashOf(name) % 8}`;
        }
        place(row.el);
      }
      prev = e;
    }
    if (!hasDivider) this.divider.remove();
    for (const [day, sep] of this.seps) {
      if (!usedSeps.has(day)) {
        sep.remove();
        this.seps.delete(day);
      }
    }
    for (const [key, el] of this.lines) {
      if (!usedLines.has(key)) {
        el.remove();
        this.lines.delete(key);
      }
    }
    this.renderLoadOlder();
  }

  renderLoadOlder() {
    const conv = this.conv;
    loadOlderBtn.hidden = !conv.loaded || !conv.hasMore;
    loadOlderBtn.disabled = conv.loadingMore || !conv.live;
    loadOlderBtn.textContent = conv.loadingMore ? 'Loading…' : 'Show older messages';
    const start = $('#history-start');
    start.hidden = !conv.loaded || conv.hasMore;
    start.textContent =
      conv.items.size || conv.outbox.size ? 'This is the beginning of the conversation.' : 'No messages here yet. Say hello!';
  }

  /** @param {number} id */
  async confirmDelete(id) {
    if (!this.conv.items.has(id)) return;
    const ok = await confirmDialog({ title: 'Delete message?', text: 'It will be deleted for everyone in this chat.' });
    if (!ok) return;
    if (this.conv.deleteMessage(id)) focusComposer();
  }

  // -- scrolling and the banner --

  /** Loads older pages until the view can scroll (so scrolling up can load more). */
  fillViewport() {
    if (this.conv.hasMore && messagesEl.scrollHeight <= messagesEl.clientHeight + NEAR_BOTTOM_PX) this.conv.loadMore();
  }

  nearBottom() {
    return messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    messagesEl.scrollTop = messagesEl.scrollHeight;
    jumpBtn.hidden = true;
    this.pinned = true;
  }

  /** Opening a chat with unread messages: the first of them shows at the top if they do not all fit. */
  showDivider() {
    if (!this.divider.isConnected) return;
    const gap = this.divider.getBoundingClientRect().top - messagesEl.getBoundingClientRect().top;
    if (gap >= 0) return;
    messagesEl.scrollTop += gap - 8;
    this.pinned = this.nearBottom();
    jumpBtn.hidden = this.pinned;
  }

  /** @param {boolean} on */
  showBanner(on) {
    $('#conv-banner').hidden = !on;
    section.classList.toggle('offline', on);
    if (on) this.renderBannerText();
  }

  renderBannerText() {
    const retry = $('#conv-retry');
    if (!navigator.onLine) {
      $('#conv-banner-text').textContent = 'No network. Messages will be sent when it is back.';
      retry.hidden = true;
      return;
    }
    retry.hidden = false;
    const retryAt = this.conv.socket.retryAt;
    const left = retryAt ? Math.ceil((retryAt - Date.now()) / 1000) : 0;
    $('#conv-banner-text').textContent = left > 1 ? `Offline. Reconnecting in ${left} s…` : 'Offline. Reconnecting…';
  }
}

/** What a message's buttons and keys do in `view`. @param {MessagesView} view */
function rowActions(view) {
  return {
    edit: startEdit,
    remove: (/** @type {number} */ id) => view.confirmDelete(id),
    retry: (/** @type {string} */ key) => view.conv.retry(key),
    discard: (/** @type {string} */ key) => {
      view.conv.discard(key);
      focusComposer();
    },
  };
}

function clearMessages() {
  for (const el of [...messagesEl.children]) if (el !== top) el.remove();
}

/** @type {MessagesView | null} */
let view = null;

/** Our saved message behind a list element, if it is one. @param {HTMLElement} el */
function ownMessageId(el) {
  const id = Number(el.dataset.messageId);
  return el.classList.contains('mine') && el.dataset.state === 'saved' && view?.conv.items.has(id) ? id : null;
}

const roving = new RovingList(messagesEl, {
  activate: (el) => {
    const id = ownMessageId(el);
    if (id != null) startEdit(id);
  },
  remove: (el) => {
    const id = ownMessageId(el);
    if (id != null) view?.confirmDelete(id);
  },
  top: () => view?.conv.loadMore(),
  leave: focusComposer,
});

/** Shows a chat (the one open is closed first). @param {number} chatId */
export function openConversation(chatId) {
  closeConversation();
  view = new MessagesView(chatId);
  state.conv = view.conv;
  view.open();
}

export function closeConversation() {
  if (!view) return;
  view.close();
  view = null;
  state.conv = null;
}

// The chat's name, kind or members changed, or a name became known: the header, the authors
// and the receipts shown depend on them. A chat known only now also lets us mark it read.
listen('chat', (chatId) => {
  if (!view || (chatId != null && chatId !== view.conv.chatId)) return;
  view.header();
  if (view.conv.loaded) view.render();
  view.conv.markRead();
});
listen('names', () => {
  if (!view) return;
  view.header();
  if (view.conv.loaded) view.render();
});
/** @param {number} chatId */
const redraw = (chatId) => {
  if (view?.conv.loaded && view.conv.chatId === chatId) view.render();
};
listen('receipts', redraw);
listen('timeline', redraw);
listen('network', () => {
  if (!view) return;
  view.header();
  if (!$('#conv-banner').hidden) view.renderBannerText();
});

messagesEl.addEventListener('scroll', () => {
  if (!view) return;
  if (messagesEl.scrollTop < 200) view.conv.loadMore();
  view.pinned = view.nearBottom();
  if (view.pinned) jumpBtn.hidden = true;
});
// The list gets shorter when a banner or the edit bar appears, the composer grows, or the
// window shrinks: the newest message stays in view if it was.
new ResizeObserver(() => {
  if (view?.pinned) view.scrollToBottom();
}).observe(messagesEl);
loadOlderBtn.addEventListener('click', () => view?.conv.loadMore());
jumpBtn.addEventListener('click', () => {
  view?.scrollToBottom();
  focusComposer();
});
$('#conv-retry').addEventListener('click', () => state.conv?.reconnectNow());

setIcon($('#conv-info'), 'info');
setIcon(jumpBtn, 'down');
