// @ts-check
// The entry point: starts and stops the signed-in app, routes between the views, wires the shell.
//
// Messenger web client: native ES modules, no framework, no build step. It speaks only the public
// protocol (docs/protocol.md) through messenger-client.js; docs/web-client.md maps the modules.

import { $, clearToasts, finePointer, setIcon } from './dom.js';
import { interruptFeed, probeFeed, reconnectFeed, resyncChats, startFeed, stopFeed } from './feed.js';
import { loadReceipts } from './receipts.js';
import { client, clearSession, currentSession, listen, loadNames, notify, saveSession, state, updateMe } from './state.js';
import { loadTimeline } from './timeline.js';
import { hideAuth, showAuth } from './view-auth.js';
import { renderChatInfo } from './view-chat-info.js';
import { clearChatList, clearNotice, focusChat, focusList, renderChatList, renderMe, showNotice } from './view-chat-list.js';
import { clearComposer, focusComposer } from './view-composer.js';
import { closeConversation, openConversation } from './view-conversation.js';
import { enterPeople, leavePeople, resetPeople } from './view-people.js';
/** @import {AuthResult} from './messenger-client.js' */
/** @import {Route} from './state.js' */

const appEl = $('#app');
let started = false;

// ---------------------------------------------------------------------------------------------
// The session

/** @param {AuthResult} res */
function startSession(res) {
  saveSession(res);
  if (location.hash) history.replaceState(null, '', location.pathname);
  startApp();
}

/** The token was revoked or expired: back to sign-in. */
function sessionEnded() {
  if (!currentSession()) return;
  stopApp();
  clearSession();
  showAuth('signin', 'Your session has ended. Please sign in again.');
}

function signOut() {
  const token = currentSession()?.token;
  stopApp();
  clearSession();
  showAuth('signin');
  if (token) client.logout(token).catch(() => {});
}

function startApp() {
  started = true;
  loadNames();
  loadReceipts();
  loadTimeline();
  hideAuth();
  appEl.hidden = false;
  renderMe();
  state.chatsLoaded = false;
  renderChatList();
  startFeed();
  resyncChats().then(() => {
    // The next action is picking a chat (an address with a chat in it puts focus there itself).
    // Focus still in the sign-in form, now hidden, is nowhere too: the browser drops it there
    // only at its next rendering, which may come after this on a fast answer.
    const active = document.activeElement;
    const nowhere = active == null || active === document.body || !appEl.contains(active);
    if (started && state.route.name === 'list' && nowhere) focusList();
  });
  client
    .me()
    .then((user) => {
      updateMe(user);
      renderMe();
    })
    .catch(() => {});
  route();
}

function stopApp() {
  started = false;
  stopFeed();
  closeConversation();
  state.drafts.clear();
  clearComposer();
  state.chats.clear();
  clearChatList();
  clearNotice();
  resetPeople();
  clearToasts();
  if (location.hash) history.replaceState(null, '', location.pathname);
  state.route = { name: 'list', chatId: null };
}

// ---------------------------------------------------------------------------------------------
// Routing: #/ (the list), #/people, #/chat/{id}, #/chat/{id}/info

/** @returns {Route} */
function parseRoute() {
  const m = /^#\/chat\/(\d+)(\/info)?$/.exec(location.hash);
  if (m) return { name: m[2] ? 'info' : 'chat', chatId: Number(m[1]) };
  if (location.hash === '#/people') return { name: 'people', chatId: null };
  return { name: 'list', chatId: null };
}

function route() {
  if (!currentSession() || !started) return;
  const prev = state.route;
  const r = parseRoute();
  state.route = r;
  // On a phone, either the list or the main pane shows.
  appEl.dataset.pane = r.name === 'list' ? 'list' : 'main';
  const inChat = r.name === 'chat' || r.name === 'info';
  if (inChat && r.chatId != null) {
    if (state.conv?.chatId !== r.chatId) openConversation(r.chatId);
  } else {
    closeConversation();
  }
  $('#empty-view').hidden = inChat || r.name === 'people';
  $('#conversation').hidden = r.name !== 'chat';
  $('#settings').hidden = r.name !== 'info';
  $('#people').hidden = r.name !== 'people';
  if (r.name === 'info') renderChatInfo();
  if (r.name === 'people') enterPeople();
  else leavePeople();
  renderChatList();

  // Focus follows the view.
  if (prev.name === r.name && prev.chatId === r.chatId) return;
  if (r.name === 'chat') {
    clearNotice();
    state.conv?.markRead();
    if (prev.name === 'info' && prev.chatId === r.chatId) $('#conv-info').focus();
    else if (finePointer.matches) focusComposer();
    else $('#conv-title').focus();
  } else if (r.name === 'info') {
    $('#settings-title').focus();
  } else if (r.name === 'people') {
    $('#people-search').focus();
  } else if (prev.chatId != null && !focusChat(prev.chatId)) {
    focusList();
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

listen('signedIn', startSession);
listen('sessionEnded', sessionEnded);
listen('dropped', ({ chatId, how, chat }) => {
  const wasOpen = state.conv?.chatId === chatId;
  if (wasOpen) closeConversation();
  if (how !== 'quiet' && (wasOpen || chat)) {
    const name = chat ? `“${chat.name}”` : 'This chat';
    showNotice(how === 'removed' ? `${name} is no longer available to you.` : `${name} is no longer available.`);
  }
  if ((state.route.name === 'chat' || state.route.name === 'info') && state.route.chatId === chatId) {
    location.hash = '#/';
  }
});

window.addEventListener('hashchange', route);
$('#sign-out').addEventListener('click', () => signOut());
$('#new-chat').addEventListener('click', () => {
  if (state.route.name === 'people') $('#people-search').focus();
});
/**
 * Back in front (a tab shown again, a laptop woken up, a page restored from the back-forward
 * cache): the connections may have died without a word. Ask an open socket for a sign of life
 * (no answer counts as a drop, and the chat reconnects with `?since=`), and skip the wait of one
 * that is down.
 */
function wake() {
  if (!currentSession()) return;
  state.conv?.reconnectNow();
  state.conv?.probe();
  reconnectFeed();
  probeFeed();
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  state.conv?.markRead();
  wake();
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted) wake();
});
window.addEventListener('focus', () => state.conv?.markRead());
// The device's network: gone means the sockets are gone (the browser may keep them open for
// minutes), and back means trying at once rather than after the backoff.
window.addEventListener('offline', () => {
  notify('network', false);
  if (!currentSession()) return;
  state.conv?.interrupt();
  interruptFeed();
});
window.addEventListener('online', () => {
  notify('network', true);
  if (!currentSession()) return;
  state.conv?.reconnectNow();
  reconnectFeed();
});
for (const el of document.querySelectorAll('.back')) setIcon(el, 'back');

if (currentSession()) startApp();
else showAuth('signin');
