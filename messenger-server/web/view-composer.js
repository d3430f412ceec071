// @ts-check
// The composer under a conversation: writing and sending, editing a message, drafts, typing.

import { $, $as, autosize, icon, setIcon, toast } from './dom.js';
import { meId, state } from './state.js';

/** The protocol's limit on a message's length, in characters (not UTF-16 units). */
const MAX_CHARS = 4096;

const form = $as('#composer', HTMLFormElement);
const input = $as('#composer-input', HTMLTextAreaElement);
const messagesEl = $('#messages');

/** The id of the message being edited, if any. @type {number | null} */
let editing = null;
/** What was in the composer before an edit took it over. */
let savedDraft = '';

export function editingId() {
  return editing;
}

export function focusComposer() {
  input.focus();
}

/** A conversation opens: its draft, and no edit. @param {number} chatId */
export function openComposer(chatId) {
  cancelEdit(false);
  input.value = state.drafts.get(chatId) || '';
  autosize(input);
}

/** The conversation closes: keep what was written for next time. @param {number} chatId */
export function closeComposer(chatId) {
  state.drafts.set(chatId, editing == null ? input.value : savedDraft || '');
  cancelEdit(false);
}

/** Signing out: nothing written survives. */
export function clearComposer() {
  input.value = '';
}

/** Starts editing one of our messages in the composer. @param {number} id */
export function startEdit(id) {
  const it = state.conv?.items.get(id);
  if (!it || it.msg.author_id !== meId()) return;
  if (editing == null) savedDraft = input.value;
  editing = id;
  for (const el of messagesEl.querySelectorAll('.msg.editing')) el.classList.remove('editing');
  messagesEl.querySelector(`.msg[data-message-id="${id}"]`)?.classList.add('editing');
  $('#edit-bar').hidden = false;
  $('#edit-preview').textContent = it.msg.text;
  input.value = it.msg.text;
  input.setAttribute('aria-label', 'Edit message');
  $('#send-btn').setAttribute('aria-label', 'Save edit');
  autosize(input);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

/** @param {boolean} [restore] put back what was being written before the edit */
export function cancelEdit(restore = true) {
  const wasEditing = editing != null;
  editing = null;
  for (const el of messagesEl.querySelectorAll('.msg.editing')) el.classList.remove('editing');
  $('#edit-bar').hidden = true;
  input.setAttribute('aria-label', 'Message');
  $('#send-btn').setAttribute('aria-label', 'Send');
  if (wasEditing && restore) {
    input.value = savedDraft || '';
    autosize(input);
  }
  savedDraft = '';
}

/** Arrow-up in an empty composer edits our last message. */
function editLast() {
  const conv = state.conv;
  if (!conv) return;
  const me = meId();
  /** @type {number | null} */
  let last = null;
  for (const [id, it] of conv.items) if (it.msg.author_id === me && (last == null || id > last)) last = id;
  if (last != null) startEdit(last);
}

// Enter sends, Shift+Enter is a new line.
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const conv = state.conv;
  if (!conv) return;
  const text = input.value;
  if (editing != null) {
    if (!text.trim()) {
      toast('A message cannot be empty. Delete it instead.', 'error');
      return;
    }
    const id = editing;
    cancelEdit(true);
    input.focus();
    conv.edit(id, text);
    return;
  }
  if (!text.trim()) return;
  if ([...text].length > MAX_CHARS) {
    toast(`A message can be at most ${MAX_CHARS} characters.`, 'error');
    return;
  }
  input.value = '';
  state.drafts.delete(conv.chatId);
  autosize(input);
  conv.sendText(text);
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
    e.preventDefault();
    form.requestSubmit();
  } else if (e.key === 'Escape' && editing != null) {
    e.preventDefault();
    cancelEdit(true);
  } else if (e.key === 'ArrowUp' && !input.value && state.conv && editing == null) {
    e.preventDefault();
    editLast();
  }
});
input.addEventListener('input', () => {
  autosize(input);
  if (editing == null && input.value.trim()) state.conv?.typing();
});
$('#edit-cancel').addEventListener('click', () => {
  cancelEdit(true);
  input.focus();
});

setIcon($('#send-btn'), 'send');
setIcon($('#edit-cancel'), 'close');
$('.edit-icon').append(icon('edit'));
