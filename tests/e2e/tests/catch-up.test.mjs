// Complete catch-up after a dropped chat socket (`?since=`, docs/protocol.md §9.4): what changed
// while Ben was cut off — a deletion and an edit of messages he could see (older than the newest
// hundred, which no page of recent messages would bring back), a new message, and a read of his
// message — shows on his page as a fresh load of the chat in a new browser context shows it.

import assert from 'node:assert/strict';
import {
  WAIT,
  e2eSuite,
  messageFromPeople,
  messageLocator,
  openChat,
  savedMessage,
  send,
  signIn,
  signedUpPeople,
  startProxy,
  tokenOf,
  until,
} from '../lib/harness.mjs';

const { scenario } = e2eSuite();

/** One HTTP call of Ann's; a rate-limited one is retried (the fillers come in a burst). */
async function api(baseUrl, token, method, route, body) {
  for (;;) {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status === 429) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
}

/** Scrolls the open conversation up until its first message is shown. */
async function loadAll(page) {
  const log = page.getByTestId('messages');
  await until(page, () => document.querySelectorAll('[data-testid="message"]').length >= 20);
  while (!(await page.getByText('This is the beginning of the conversation.').isVisible())) {
    const n = await page.getByTestId('message').count();
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await until(
      page,
      (had) => document.querySelectorAll('[data-testid="message"]').length > had || !document.querySelector('#history-start').hidden,
      n,
    );
  }
}

/** The messages on screen: id, text and whether marked edited, in page order. */
function shown(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="conversation"] [data-testid="message"]')].map((el) => ({
      id: /** @type {HTMLElement} */ (el).dataset.messageId ?? null,
      text: el.querySelector('[data-testid="message-text"]')?.textContent ?? '',
      edited: !/** @type {HTMLElement} */ (el.querySelector('[data-testid="edited"]'))?.hidden,
    })),
  );
}

const FILLERS = 105;

scenario('after a drop the chat shows what a fresh load shows: edits, deletions, new messages, reads', async ({ server, person }) => {
  const proxy = await startProxy(server.port);
  try {
    const [[a, ia], [b, ib]] = await signedUpPeople(person, [
      'ann',
      { name: 'ben', label: 'ben (through the proxy)', options: { baseUrl: proxy.url } },
    ]);
    const sockets = [];
    b.page.on('websocket', (ws) => sockets.push(ws.url()));

    // Ann writes; the two she will change later are followed by more than a hundred others.
    await messageFromPeople(a.page, ib.username, 'Hello Ben');
    const chatId = Number(await a.page.getByTestId('conversation').getAttribute('data-chat-id'));
    const token = await tokenOf(a.page);
    await a.page.goto('/#/'); // Ann looks at her list: she reads Ben's messages only when told to
    const post = (text) => api(server.url, token, 'POST', `/chats/${chatId}/messages`, { text, client_id: `c-${text}` });
    const toEdit = await post('To be edited');
    const toDelete = await post('To be deleted');
    for (let i = 1; i <= FILLERS; i++) await post(`filler ${i}`);

    // Ben opens the chat and scrolls up to its beginning: he sees all of them.
    await openChat(b.page, ia.username);
    await messageLocator(b.page, `filler ${FILLERS}`).waitFor();
    await loadAll(b.page);
    await messageLocator(b.page, 'To be edited').waitFor();
    await send(b.page, 'Ben before the cut');
    await savedMessage(b.page, 'Ben before the cut').waitFor();
    const bensId = Number(await messageLocator(b.page, 'Ben before the cut').getAttribute('data-message-id'));

    // Ben is cut off. Meanwhile Ann deletes one, edits another, writes a new one, and reads his.
    proxy.cut();
    await b.page.getByTestId('offline-banner').waitFor();
    await api(server.url, token, 'DELETE', `/messages/${toDelete.message_id}`);
    await api(server.url, token, 'PATCH', `/messages/${toEdit.message_id}`, { text: 'Edited while away' });
    await post('New while away');
    await api(server.url, token, 'POST', `/chats/${chatId}/read`, { message_id: bensId });
    assert.equal(await messageLocator(b.page, 'New while away').count(), 0);

    // Back: the page reconnects by itself and catches up.
    proxy.restore();
    await b.page.getByTestId('offline-banner').waitFor({ state: 'hidden', timeout: 30_000 });
    await messageLocator(b.page, 'New while away').waitFor();

    // A fresh load of the chat, in a new context for Ben, scrolled to the beginning too.
    const fresh = await person('ben, fresh load');
    await signIn(fresh.page, ib);
    await openChat(fresh.page, ia.username);
    await messageLocator(fresh.page, 'New while away').waitFor();
    await loadAll(fresh.page);
    const want = await shown(fresh.page);
    assert.equal(want.length, FILLERS + 4);
    assert.ok(want.some((m) => m.text === 'Edited while away' && m.edited && m.id === String(toEdit.message_id)));
    assert.ok(!want.some((m) => m.id === String(toDelete.message_id)));

    // Ben's page, without a reload, shows the same (given a moment to apply the catch-up).
    const same = await b.page
      .waitForFunction(
        (w) => {
          const got = [...document.querySelectorAll('[data-testid="conversation"] [data-testid="message"]')].map((el) => ({
            id: /** @type {HTMLElement} */ (el).dataset.messageId ?? null,
            text: el.querySelector('[data-testid="message-text"]')?.textContent ?? '',
            edited: !/** @type {HTMLElement} */ (el.querySelector('[data-testid="edited"]'))?.hidden,
          }));
          return JSON.stringify(got) === JSON.stringify(w);
        },
        want,
        { timeout: WAIT / 3, polling: 250 },
      )
      .then(() => true)
      .catch(() => false);
    if (!same) assert.deepEqual(await shown(b.page), want, 'the caught-up page shows what a fresh load shows');

    // Ann's read while he was away: his message shows as seen.
    await messageLocator(b.page, 'Ben before the cut').locator('.msg-state.seen').waitFor({ timeout: 5000 });

    // It reconnected with ?since= (no ?after=), and it is live again.
    const chatSockets = sockets.filter((u) => /\/chat\/\d+\?/.test(u)).map((u) => new URL(u).searchParams);
    assert.ok(chatSockets.some((q) => q.has('since') && !q.has('after')), 'a /chat socket reopened with since=');
    await post('Live again');
    await messageLocator(b.page, 'Live again').waitFor();
    assert.equal(await messageLocator(b.page, 'Live again').count(), 1);
  } finally {
    await proxy.close();
  }
});
