// Unread badges equal the server's `unread_count` at every moment: every value a badge shows is
// recorded, not just the last one.

import assert from 'node:assert/strict';
import { apiPost, assertText, e2eSuite, messageFromPeople, openChat, send, signedUpPeople, tokenOf, until } from '../lib/harness.mjs';

const { scenario } = e2eSuite();

/** Records every text the unread badge of the chat named `name` shows from now on. */
async function recordBadge(page, name) {
  await page.evaluate((want) => {
    window.__badges = [];
    const list = document.querySelector('[data-testid="chat-list"]');
    const look = () => {
      for (const item of list.querySelectorAll('[data-testid="chat-item"]')) {
        if (item.querySelector('[data-testid="chat-name"]')?.textContent !== want) continue;
        const badge = item.querySelector('[data-testid="unread-badge"]');
        const text = badge.hidden ? '0' : badge.firstChild?.textContent ?? '0';
        if (window.__badges.at(-1) !== text) window.__badges.push(text);
      }
    };
    new MutationObserver(look).observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
    look();
  }, name);
  return () => page.evaluate(() => window.__badges);
}

/** The receiver's unread count as the server has it. */
async function serverUnread(url, token, chatName) {
  const res = await fetch(`${url}/chats`, { headers: { authorization: `Bearer ${token}` } });
  const chat = (await res.json()).find((c) => c.name === chatName);
  return chat?.unread_count ?? null;
}

scenario("a new direct chat's first message counts once, even when the snapshot already counted it", async ({ server, person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);
  // The server reads a chat's last message before counting its unread ones; a message stored in
  // between is counted without being `last_message`. Ben's ChatCreated is made to look like that
  // (the race is real on Postgres + Redis, and too narrow to hit reliably in memory).
  await b.page.routeWebSocket(/\/events/, (ws) => {
    const upstream = ws.connectToServer();
    upstream.onMessage((message) => {
      const f = JSON.parse(String(message));
      if (f.type === 'ChatCreated' && f.chat.kind === 'direct') {
        ws.send(JSON.stringify({ ...f, chat: { ...f.chat, last_message: null, unread_count: 1 } }));
      } else {
        ws.send(message);
      }
    });
  });
  await b.page.reload();
  await b.page.getByTestId('chat-list-empty').waitFor();
  await b.page.evaluate(() => {
    window.__badges = [];
  });

  await messageFromPeople(a.page, ib.username, 'First message');
  const item = b.page.getByTestId('chat-item').filter({ hasText: ia.username });
  await item.waitFor();
  const badges = await recordBadge(b.page, ia.username);
  await assertText(item.getByTestId('chat-preview'), 'First message');
  await assertText(item.getByTestId('unread-badge'), '1');

  // Two more: the count follows one by one, and never showed anything else.
  await send(a.page, 'Second');
  await assertText(item.getByTestId('chat-preview'), 'Second');
  await send(a.page, 'Third');
  await assertText(item.getByTestId('chat-preview'), 'Third');
  await until(b.page, () => window.__badges.at(-1) === '3');
  assert.deepEqual(await badges(), ['1', '2', '3']);
  assert.equal(await serverUnread(server.url, await tokenOf(b.page), ia.username), 3);
});

scenario('badges follow messages, reads in another tab and deletes, always as the server counts', async ({ server, person }) => {
  const [[a, ia], [b, ib], [c, ic]] = await signedUpPeople(person, ['ann', 'ben', 'cat']);
  await messageFromPeople(a.page, ib.username, 'one');
  const item = b.page.getByTestId('chat-item').filter({ hasText: ia.username });
  await item.waitFor();
  const badges = await recordBadge(b.page, ia.username);
  const benToken = await tokenOf(b.page);
  const check = async (want) => {
    await until(b.page, (w) => window.__badges.at(-1) === w, String(want));
    assert.equal(await serverUnread(server.url, benToken, ia.username), want);
  };
  await check(1);
  for (const text of ['two', 'three', 'four']) await send(a.page, text);
  await check(4);

  // Cat writes to Ben meanwhile: a chat of its own, counted on its own.
  await messageFromPeople(c.page, ib.username, 'hi from cat');
  await assertText(b.page.getByTestId('chat-item').filter({ hasText: ic.username }).getByTestId('unread-badge'), '1');

  // Ann deletes an unread message: one fewer.
  const four = a.page.getByTestId('message').filter({ hasText: 'four' });
  await four.hover();
  await four.getByRole('button', { name: 'Delete message' }).click();
  await a.page.getByTestId('confirm-ok').click();
  await check(3);

  // Ben reads up to "two" from another client: the badge drops to what is left after it.
  const chatId = Number(await item.getAttribute('data-chat-id'));
  const page = await apiMessages(server.url, benToken, chatId);
  const two = page.messages.find((m) => m.text === 'two');
  await apiPost(server.url, benToken, `/chats/${chatId}/read`, { message_id: two.message_id });
  await check(1);

  // A second tab of Ben's opens the chat: everything is read, in both tabs.
  const tab = await b.context.newPage();
  await tab.goto(`/#/chat/${chatId}`);
  await tab.getByTestId('message').filter({ hasText: 'three' }).waitFor();
  await check(0);
  await tab.close();
  assert.deepEqual(await badges(), ['1', '2', '3', '4', '3', '1', '0']);

  // And a message after that counts from zero again.
  await openChat(a.page, ib.username);
  await send(a.page, 'five');
  await check(1);
});

async function apiMessages(url, token, chatId) {
  const res = await fetch(`${url}/chats/${chatId}/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  return res.json();
}
