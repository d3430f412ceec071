// @ts-check
// Chat info (group info for a group): rename, the members, add, remove, leave, delete.

import { $, $as, confirmDialog, h, paintAvatar, toast } from './dom.js';
import { errorText } from './format.js';
import { dropChat, upsertChat } from './feed.js';
import { client, listen, meId, nameOf, state } from './state.js';
import { expectOwnChange, takeOwn } from './timeline.js';
import { showNotice } from './view-chat-list.js';
import { SEARCH_DELAY_MS, personRow, searchUsers } from './view-people.js';
/** @import {Chat} from './messenger-client.js' */

const renameForm = $as('#rename-form', HTMLFormElement);
const renameInput = $as('#rename-input', HTMLInputElement);
const addSearch = $as('#add-search', HTMLInputElement);

/** The chat shown, when the info page is. */
function shownChat() {
  return state.route.name === 'info' && state.route.chatId != null ? state.chats.get(state.route.chatId) : undefined;
}

export function renderChatInfo() {
  const chat = shownChat();
  const group = chat?.kind === 'group';
  $('#settings-title').textContent = group ? 'Group info' : 'Chat info';
  $('#settings-name').textContent = chat ? chat.name : 'Loading…';
  paintAvatar($('#settings-avatar'), chat ? chat.name : '?', group);
  $('#settings-meta').textContent = !chat
    ? ''
    : group
      ? `Group · ${chat.participants.length} member${chat.participants.length === 1 ? '' : 's'}`
      : 'Direct chat';
  renameForm.hidden = !group;
  // Someone renaming it meanwhile must not overwrite what is being typed.
  if (chat && document.activeElement !== renameInput && !renameInput.dataset.dirty) renameInput.value = chat.name;
  $('#add-card').hidden = !group;
  $('#leave-chat').hidden = !group;
  const del = $('#delete-chat');
  del.textContent = group ? 'Delete group' : 'Delete chat';
  del.hidden = !chat || (group && chat.owner_id !== meId());
  renderMembers();
}

function renderMembers() {
  const chat = shownChat();
  const ul = $('#member-list');
  if (!chat) {
    ul.replaceChildren();
    return;
  }
  const me = meId();
  const online = state.conv?.chatId === chat.chat_id ? state.conv.online : [];
  const owner = chat.owner_id === me;
  $('#members-title').textContent = `Members (${chat.participants.length})`;
  ul.replaceChildren(
    ...chat.participants.map((id) => {
      const name = nameOf(id);
      const bits = [];
      if (id === me) bits.push('you');
      if (chat.kind === 'group' && id === chat.owner_id) bits.push('owner');
      if (online.includes(id)) bits.push('here now');
      const tags = h('span', { class: 'person-status' }, bits.join(' · '));
      let action = null;
      if (chat.kind === 'group' && owner && id !== me) {
        action = h(
          'button',
          { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Remove ${name}`, 'data-testid': 'remove-member' },
          'Remove',
        );
        action.addEventListener('click', () => removeMember(chat, id));
      }
      const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
      paintAvatar(avatar, name);
      return h(
        'li',
        { class: 'person', 'data-testid': 'member', 'data-user-id': id },
        h('span', { class: 'avatar-wrap' }, avatar, online.includes(id) ? h('span', { class: 'online-dot', 'aria-hidden': 'true' }) : null),
        h('span', { class: 'person-text' }, h('span', { class: 'person-name' }, name), tags),
        action,
      );
    }),
  );
}

/**
 * @param {Chat} chat
 * @param {number} userId
 */
async function removeMember(chat, userId) {
  const ok = await confirmDialog({ title: `Remove ${nameOf(userId)}?`, text: `They will leave “${chat.name}”.`, ok: 'Remove' });
  if (!ok) return;
  // Where focus goes once the row is gone: the next member's Remove button, else the list's title.
  const rows = [...$('#member-list').querySelectorAll('[data-testid="member"]')];
  const at = rows.findIndex((li) => li instanceof HTMLElement && li.dataset.userId === String(userId));
  const nextId = [...rows.slice(at + 1), ...rows.slice(0, Math.max(at, 0)).reverse()]
    .map((li) => (li instanceof HTMLElement ? li.dataset.userId : ''))
    .find((id) => id && id !== String(meId()));
  expectOwnChange(chat.chat_id, 'removed', userId);
  try {
    await client.removeParticipant(chat.chat_id, userId);
    const c = state.chats.get(chat.chat_id);
    if (c) upsertChat({ ...c, participants: c.participants.filter((id) => id !== userId) });
    toast(`${nameOf(userId)} was removed.`);
    const next = nextId && $('#member-list').querySelector(`[data-user-id="${nextId}"] [data-testid="remove-member"]`);
    if (next instanceof HTMLElement) next.focus();
    else $('#members-title').focus();
  } catch (e) {
    takeOwn(chat.chat_id, 'removed', userId);
    toast(errorText(e), 'error');
  }
}

renameInput.addEventListener('input', () => {
  renameInput.dataset.dirty = '1';
  $('#rename-error').textContent = '';
  renameInput.removeAttribute('aria-invalid');
});
renameForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = shownChat();
  const name = renameInput.value.trim();
  if (!chat) return;
  if (!name) {
    $('#rename-error').textContent = 'The name cannot be empty.';
    renameInput.setAttribute('aria-invalid', 'true');
    return;
  }
  expectOwnChange(chat.chat_id, 'renamed', name);
  try {
    const updated = await client.renameChat(chat.chat_id, name);
    delete renameInput.dataset.dirty;
    upsertChat(updated);
    toast('Group renamed.');
  } catch (ex) {
    takeOwn(chat.chat_id, 'renamed', name);
    $('#rename-error').textContent = errorText(ex);
    renameInput.setAttribute('aria-invalid', 'true');
  }
});

let addSeq = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let addTimer;
addSearch.addEventListener('input', () => {
  clearTimeout(addTimer);
  addTimer = setTimeout(renderAddResults, SEARCH_DELAY_MS);
});

async function renderAddResults() {
  const seq = ++addSeq;
  const raw = addSearch.value;
  const status = $('#add-status');
  const ul = $('#add-results');
  try {
    const users = await searchUsers(raw, status);
    if (seq !== addSeq) return;
    const chat = shownChat();
    if (!users || !chat) {
      ul.replaceChildren();
      status.textContent = '';
      return;
    }
    status.textContent = users.length ? '' : `No one found for “${raw.trim()}”.`;
    ul.replaceChildren(
      ...users.map((u) => {
        const member = chat.participants.includes(u.user_id);
        const btn = h(
          'button',
          { type: 'button', class: 'btn btn-small btn-soft', 'aria-label': `Add ${u.username}`, 'data-testid': 'add-member', disabled: member },
          member ? 'Member' : 'Add',
        );
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          expectOwnChange(chat.chat_id, 'added', u.user_id);
          try {
            const updated = await client.addParticipant(chat.chat_id, u.user_id);
            upsertChat(updated);
            btn.textContent = 'Member';
            toast(`${u.username} was added.`);
          } catch (e) {
            takeOwn(chat.chat_id, 'added', u.user_id);
            btn.disabled = false;
            toast(errorText(e), 'error');
          }
        });
        return personRow(u, { action: btn });
      }),
    );
  } catch (e) {
    if (seq === addSeq) status.textContent = errorText(e);
  }
}

$('#leave-chat').addEventListener('click', async () => {
  const chat = shownChat();
  const me = meId();
  if (!chat || me == null) return;
  const ok = await confirmDialog({ title: `Leave “${chat.name}”?`, text: 'You will no longer receive its messages.', ok: 'Leave' });
  if (!ok) return;
  await goAway(chat, () => client.removeParticipant(chat.chat_id, me), `You left “${chat.name}”.`);
});

/**
 * Leaves or deletes a chat: the chat socket's close and the feed's ChatDeleted that follow are
 * our own doing, so the one notice is ours.
 * @param {Chat} chat
 * @param {() => Promise<unknown>} request
 * @param {string} notice
 */
async function goAway(chat, request, notice) {
  state.leaving.add(chat.chat_id);
  try {
    await request();
    dropChat(chat.chat_id, 'quiet');
    location.hash = '#/';
    showNotice(notice);
  } catch (e) {
    toast(errorText(e), 'error');
  } finally {
    state.leaving.delete(chat.chat_id);
  }
}
$('#delete-chat').addEventListener('click', async () => {
  const chat = shownChat();
  if (!chat) return;
  const ok = await confirmDialog({
    title: chat.kind === 'group' ? `Delete “${chat.name}”?` : 'Delete this chat?',
    text: 'All its messages will be deleted for everyone. This cannot be undone.',
  });
  if (!ok) return;
  const what = chat.kind === 'group' ? `The group “${chat.name}” was deleted.` : `Your chat with ${chat.name} was deleted.`;
  await goAway(chat, () => client.deleteChat(chat.chat_id), what);
});

listen('chat', (chatId) => {
  if (state.route.name === 'info' && (chatId == null || chatId === state.route.chatId)) renderChatInfo();
});
listen('names', () => {
  if (state.route.name === 'info') renderChatInfo();
});
listen('presence', () => {
  if (state.route.name === 'info') renderMembers();
});
