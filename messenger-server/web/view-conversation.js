// @ts-check
// The open conversation on screen: its header, the message list with its scrolling, the banner.

import { Conversation } from './conversation.js';
import { $, $as, confirmDialog, h, hashOf, icon, paintAvatar, setIcon, toast } from './dom.js';
import { dayLabel, fullFmt, startOfDay, timeFmt } from './format.js';
import { cancelEdit, closeComposer, editingId, focusComposer, openComposer, startEdit } from './view-composer.js';
import { listen, meId, nameOf, state } from './state.js';
/** @import {ConversationView, Item} from './conversation.js' */

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
 * One message's element and its parts.
 * @typedef {{el: HTMLElement, author: HTMLElement, text: HTMLElement, edited: HTMLElement,
 *   time: HTMLTimeElement, state: HTMLElement, failed: HTMLElement, version: number}} Row
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
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.countdown = undefined;
  }

  open() {
    const chatId = this.conv.chatId;
    clearMessages();
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
    /** @type {Item[]} */
    const ordered = [...conv.items.values()].sort((a, b) => (a.msg.message_id ?? 0) - (b.msg.message_id ?? 0));
    for (const op of conv.outbox.values()) if (op.kind === 'create') ordered.push(op.item);
    const seen = new Set();
    for (const it of ordered) {
      let row = this.rows.get(it.key);
      if (!row) {
        row = this.build(it);
        this.rows.set(it.key, row);
      }
      if (row.version !== it.version) this.fill(row, it);
      seen.add(it.key);
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.el.remove();
        this.rows.delete(key);
      }
    }
    this.layout(ordered);
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
    clearInterval(this.countdown);
    this.countdown = setInterval(() => this.renderBannerText(), 500);
  }

  live() {
    clearInterval(this.countdown);
    this.showBanner(false);
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
    if (!chat) {
      presence.textContent = '';
      return;
    }
    if (chat.kind === 'group') {
      const n = chat.participants.length;
      const on = conv.online.filter((id) => chat.participants.includes(id)).length;
      presence.textContent = `${n} member${n === 1 ? '' : 's'}${on ? `, ${on} online` : ''}`;
      presence.classList.remove('online');
    } else {
      const me = meId();
      const other = chat.participants.find((id) => id !== me);
      const on = other != null && conv.online.includes(other);
      presence.textContent = on ? 'online' : 'offline';
      presence.classList.toggle('online', on);
    }
  }

  // -- drawing messages --

  /** @param {Item} it */
  build(it) {
    const mine = it.msg.author_id === meId();
    const el = h('div', {
      class: `msg ${mine ? 'mine' : 'theirs'}`,
      'data-testid': 'message',
      'data-author-id': it.msg.author_id,
    });
    /** @type {Row} */
    const row = {
      el,
      author: h('div', { class: 'msg-author', 'data-testid': 'message-author' }),
      text: h('div', { class: 'msg-text', 'data-testid': 'message-text', dir: 'auto' }),
      edited: h('span', { class: 'msg-edited', 'data-testid': 'edited' }, 'edited'),
      time: h('time', { class: 'msg-time' }),
      state: h('span', { class: 'msg-state', 'data-testid': 'message-state', role: 'img' }),
      failed: h('div', { class: 'msg-failed', 'data-testid': 'message-failed' }),
      version: -1,
    };
    const meta = h('span', { class: 'msg-meta' }, row.edited, row.time, mine ? row.state : null);
    el.append(h('div', { class: 'bubble' }, row.author, row.text, meta));
    if (mine) {
      // The id is read when clicked: a pending message gets one later.
      const id = () => Number(el.dataset.messageId);
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
            onclick: () => startEdit(id()),
          }, icon('edit')),
          h('button', {
            type: 'button',
            class: 'icon-btn small',
            'aria-label': 'Delete message',
            title: 'Delete',
            'data-testid': 'delete-message',
            onclick: () => this.confirmDelete(id()),
          }, icon('trash')),
        ),
        row.failed,
      );
    }
    return row;
  }

  /**
   * @param {Row} row
   * @param {Item} it
   */
  fill(row, it) {
    const { el } = row;
    const msg = it.msg;
    row.version = it.version;
    if (el.dataset.state !== it.state) el.dataset.state = it.state;
    if (msg.message_id != null) el.dataset.messageId = String(msg.message_id);
    el.classList.toggle('updating', it.updating);
    el.classList.toggle('deleting', it.deleting);
    if (row.text.textContent !== msg.text) row.text.textContent = msg.text;
    el.classList.toggle('emoji-only', /^\p{Extended_Pictographic}{1,3}$/u.test(msg.text.replace(/\s|\u200d|\ufe0f/g, '')));
    row.edited.hidden = !msg.edited_at;
    if (msg.edited_at) row.edited.title = `Edited ${fullFmt.format(new Date(msg.edited_at))}`;
    const d = new Date(msg.created_at);
    row.time.textContent = timeFmt.format(d);
    row.time.setAttribute('datetime', msg.created_at);
    row.time.title = fullFmt.format(d);
    if (!el.classList.contains('mine')) return;
    const s = it.state;
    const label = s === 'pending' ? 'Sending' : s === 'failed' ? 'Not sent' : 'Sent';
    setIcon(row.state, s === 'pending' ? 'clock' : s === 'failed' ? 'alert' : 'check');
    row.state.setAttribute('aria-label', label);
    row.state.title = label;
    row.failed.hidden = s !== 'failed';
    if (s === 'failed') {
      row.failed.replaceChildren(
        h('span', {}, it.error || 'Not sent.'),
        h('button', { type: 'button', class: 'link', 'data-testid': 'retry-message', onclick: () => this.conv.retry(it.key) }, 'Retry'),
        h('button', {
          type: 'button',
          class: 'link',
          'data-testid': 'discard-message',
          onclick: () => {
            this.conv.discard(it.key);
            focusComposer();
          },
        }, 'Discard'),
      );
    }
  }

  /**
   * Puts elements in message-id order (pending ones last), with day separators and grouping.
   * @param {Item[]} ordered
   */
  layout(ordered) {
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
    /** @type {Item | null} */
    let prev = null;
    for (let i = 0; i < ordered.length; i++) {
      const it = ordered[i];
      const row = /** @type {Row} */ (this.rows.get(it.key));
      const at = Date.parse(it.msg.created_at);
      const d = new Date(at);
      const day = startOfDay(d);
      const newDay = !prev || startOfDay(new Date(prev.msg.created_at)) !== day;
      if (newDay) {
        let sep = this.seps.get(day);
        if (!sep) {
          sep = h('div', { class: 'day-sep', role: 'separator' }, h('span', {}));
          this.seps.set(day, sep);
        }
        /** @type {HTMLElement} */ (sep.firstChild).textContent = dayLabel(d);
        usedSeps.add(day);
        place(sep);
      }
      const cont = !newDay && prev != null && prev.msg.author_id === it.msg.author_id && at - Date.parse(prev.msg.created_at) < GROUP_MS;
      const next = ordered[i + 1];
      const nextAt = next ? Date.parse(next.msg.created_at) : 0;
      const lastOfGroup =
        !next || next.msg.author_id !== it.msg.author_id || startOfDay(new Date(nextAt)) !== day || nextAt - at >= GROUP_MS;
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
  }

  /** @param {boolean} on */
  showBanner(on) {
    $('#conv-banner').hidden = !on;
    section.classList.toggle('offline', on);
    if (on) this.renderBannerText();
  }

  renderBannerText() {
    const retryAt = this.conv.socket.retryAt;
    const left = retryAt ? Math.ceil((retryAt - Date.now()) / 1000) : 0;
    $('#conv-banner-text').textContent = left > 1 ? `Offline. Reconnecting in ${left} s…` : 'Offline. Reconnecting…';
  }
}

function clearMessages() {
  for (const el of [...messagesEl.children]) if (el !== top) el.remove();
}

/** @type {MessagesView | null} */
let view = null;

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

// The chat's name, kind or members changed, or a name became known: the header and the
// authors shown depend on them.
listen('chat', (chatId) => {
  if (!view || (chatId != null && chatId !== view.conv.chatId)) return;
  view.header();
  if (view.conv.loaded) view.render();
});
listen('names', () => {
  if (!view) return;
  view.header();
  if (view.conv.loaded) view.render();
});

messagesEl.addEventListener('scroll', () => {
  if (!view) return;
  if (messagesEl.scrollTop < 200) view.conv.loadMore();
  if (view.nearBottom()) jumpBtn.hidden = true;
});
loadOlderBtn.addEventListener('click', () => view?.conv.loadMore());
jumpBtn.addEventListener('click', () => {
  view?.scrollToBottom();
  focusComposer();
});
$('#conv-retry').addEventListener('click', () => state.conv?.reconnectNow());

setIcon($('#conv-info'), 'info');
setIcon(jumpBtn, 'down');
