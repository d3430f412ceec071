// @ts-check
// One message on screen: its element, built once per message and filled again when the message
// (or its receipt) changes. Our own messages carry their state: sending, not sent, sent, seen.

import { h, icon, setIcon } from './dom.js';
import { fullFmt, timeFmt } from './format.js';
import { readersOf } from './receipts.js';
import { meId, nameOf } from './state.js';
/** @import {Item} from './conversation.js' */
/** @import {Chat} from './messenger-client.js' */

/**
 * One message's element and its parts.
 * @typedef {object} Row
 * @property {HTMLElement} el
 * @property {HTMLElement} author
 * @property {HTMLElement} text
 * @property {HTMLElement} edited
 * @property {HTMLTimeElement} time
 * @property {HTMLElement} state
 * @property {HTMLElement} failed
 * @property {HTMLElement} seen the "Seen by …" line under our newest message someone has read
 * @property {string} drawn what it was last drawn from, so that an unchanged message is left alone
 */

/**
 * What a message's own buttons do.
 * @typedef {object} RowActions
 * @property {(id: number) => void} edit
 * @property {(id: number) => void} remove
 * @property {(key: string) => void} retry
 * @property {(key: string) => void} discard
 */

/**
 * How one of our messages stands: its tick and what it says.
 * @typedef {{label: string, icon: 'clock' | 'alert' | 'check' | 'checks'}} Receipt
 */

/**
 * @param {Item} it
 * @param {boolean} mine
 * @param {RowActions} actions
 * @returns {Row}
 */
export function buildRow(it, mine, actions) {
  const el = h('div', {
    class: `msg ${mine ? 'mine' : 'theirs'}`,
    role: 'article',
    tabindex: '-1',
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
    seen: h('div', { class: 'msg-seen', 'data-testid': 'seen-by', hidden: true }),
    drawn: '',
  };
  const meta = h('span', { class: 'msg-meta' }, row.edited, row.time, mine ? row.state : null);
  el.append(h('div', { class: 'bubble' }, row.author, row.text, meta));
  if (!mine) return row;
  // The id is read when clicked: a pending message gets one later.
  const id = () => Number(el.dataset.messageId);
  /** @param {string} label @param {string} testid @param {'edit' | 'trash'} name @param {() => void} onclick */
  const button = (label, testid, name, onclick) =>
    h('button', { type: 'button', class: 'icon-btn small', 'aria-label': label, title: label.split(' ')[0], 'data-testid': testid, onclick }, icon(name));
  el.append(
    h(
      'div',
      { class: 'msg-actions' },
      button('Edit message', 'edit-message', 'edit', () => actions.edit(id())),
      button('Delete message', 'delete-message', 'trash', () => actions.remove(id())),
    ),
    row.failed,
    row.seen,
  );
  row.failed.append(
    h('span', { class: 'msg-failed-text' }),
    h('button', { type: 'button', class: 'link', 'data-testid': 'retry-message', onclick: () => actions.retry(it.key) }, 'Retry'),
    h('button', { type: 'button', class: 'link', 'data-testid': 'discard-message', onclick: () => actions.discard(it.key) }, 'Discard'),
  );
  return row;
}

/**
 * Draws a message as it is now.
 * @param {Row} row
 * @param {Item} it
 * @param {Receipt | null} receipt for our own messages
 */
export function fillRow(row, it, receipt) {
  const drawn = `${it.version}|${receipt?.label}`;
  if (row.drawn === drawn) return;
  row.drawn = drawn;
  const { el } = row;
  const msg = it.msg;
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
  if (!receipt) return;
  setIcon(row.state, receipt.icon);
  row.state.setAttribute('aria-label', receipt.label);
  row.state.title = receipt.label;
  row.state.classList.toggle('seen', receipt.icon === 'checks');
  row.failed.hidden = it.state !== 'failed';
  const why = row.failed.firstChild;
  if (why) why.textContent = it.error || 'Not sent.';
}

/**
 * How one of our messages stands.
 * @param {Item} it
 * @param {Chat | undefined} chat
 * @param {boolean} live whether the conversation's socket is up (else a pending message waits)
 * @returns {Receipt}
 */
export function receiptOf(it, chat, live) {
  if (it.state === 'pending') return { label: live ? 'Sending' : 'Waiting to send', icon: 'clock' };
  if (it.state === 'failed') return { label: 'Not sent', icon: 'alert' };
  const readers = readersOfMessage(it, chat);
  if (!readers.length || !chat) return { label: 'Sent', icon: 'check' };
  return { label: chat.kind === 'group' ? `Seen by ${whoRead(readers, chat)}` : 'Seen', icon: 'checks' };
}

/** "Seen by …" for one of our messages, '' when no one has read it yet. @param {Item} it @param {Chat} chat */
export function seenByText(it, chat) {
  const readers = it.state === 'saved' ? readersOfMessage(it, chat) : [];
  return readers.length ? `Seen by ${whoRead(readers, chat)}` : '';
}

/** Who else has read a message of ours. @param {Item} it @param {Chat | undefined} chat */
function readersOfMessage(it, chat) {
  const id = it.msg.message_id;
  if (!chat || id == null) return [];
  const me = meId();
  return readersOf(chat.chat_id, id, chat.participants.filter((p) => p !== me));
}

/** @param {number[]} readers @param {Chat} chat */
function whoRead(readers, chat) {
  const others = chat.participants.length - 1;
  if (readers.length === others && others > 1) return 'everyone';
  const names = readers.map(nameOf);
  if (names.length > 3) return `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
  return names.join(', ').replace(/, ([^,]*)$/, ' and $1');
}
