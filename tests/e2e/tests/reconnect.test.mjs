// A dropped connection: the page shows it is offline, reconnects by itself with `?since=`, and
// shows what was sent meanwhile, in order, once each. The browser reaches the server through a
// TCP proxy that the test can cut.

import assert from 'node:assert/strict';
import {
  assertText,
  e2eSuite,
  messageFromPeople,
  messageLocator,
  messageTexts,
  openChat,
  savedMessage,
  send,
  signedUpPeople,
  startProxy,
} from '../lib/harness.mjs';

const { scenario } = e2eSuite();

scenario('a dropped socket catches up on what was sent meanwhile', async ({ server, person }) => {
  const proxy = await startProxy(server.port);
  try {
    const [[a, ia], [b, ib]] = await signedUpPeople(person, [
      { name: 'ann', label: 'ann (through the proxy)', options: { baseUrl: proxy.url } },
      'ben',
    ]);
    const sockets = [];
    a.page.on('websocket', (ws) => sockets.push(ws.url()));

    await messageFromPeople(a.page, ib.username, 'Before the cut');
    await openChat(b.page, ia.username);
    await send(b.page, 'Still before');
    await messageLocator(a.page, 'Still before').waitFor();

    // Cut: every proxied connection closes, new ones are refused. The page says it is offline.
    proxy.cut();
    await a.page.getByTestId('offline-banner').waitFor();
    await assertText(a.page.getByTestId('offline-banner'), 'Offline');

    // Meanwhile Ben (straight to the server) sends three messages, and Ann writes one offline.
    const missed = ['Missed one', 'Missed two', 'Missed three'];
    for (const text of missed) {
      await send(b.page, text);
      await savedMessage(b.page, text).waitFor();
    }
    await send(a.page, 'Written offline');
    const offline = messageLocator(a.page, 'Written offline');
    assert.equal(await offline.getAttribute('data-state'), 'pending');
    for (const text of missed) assert.equal(await messageLocator(a.page, text).count(), 0);

    // Restore: the page reconnects by itself, from the newest cursor it processed.
    proxy.restore();
    await a.page.getByTestId('offline-banner').waitFor({ state: 'hidden', timeout: 30_000 });
    for (const text of missed) await messageLocator(a.page, text).waitFor();
    await savedMessage(a.page, 'Written offline').waitFor();
    await messageLocator(b.page, 'Written offline').waitFor();

    const want = ['Before the cut', 'Still before', ...missed, 'Written offline'];
    assert.deepEqual(await messageTexts(a.page), want);
    assert.deepEqual(await messageTexts(b.page), want);
    const chatSockets = sockets.filter((u) => /\/chat\/\d+\?/.test(u));
    assert.ok(
      chatSockets.some((u) => new URL(u).searchParams.get('since') && !new URL(u).searchParams.has('after')),
      `a /chat socket reopened with since=: ${chatSockets.map((u) => u.replace(/token=[^&]+/, 'token=…')).join(', ')}`,
    );

    // The chat list caught up too (the /events socket reconnected and the list was reloaded).
    await assertText(a.page.getByTestId('chat-item').first().getByTestId('chat-preview'), 'You: Written offline');
    // And it is live again.
    await send(b.page, 'Back to normal');
    await messageLocator(a.page, 'Back to normal').waitFor();
    assert.equal(await messageLocator(a.page, 'Back to normal').count(), 1);
  } finally {
    await proxy.close();
  }
});

scenario('the chat list catches up after a drop (new chat created while offline)', async ({ server, person }) => {
  const proxy = await startProxy(server.port);
  try {
    const [[a, ia], [b, ib]] = await signedUpPeople(person, [
      { name: 'ann', label: 'ann (through the proxy)', options: { baseUrl: proxy.url } },
      'ben',
    ]);
    await a.page.getByTestId('chat-list-empty').waitFor();

    proxy.cut();
    await a.page.getByTestId('feed-offline').waitFor();
    await messageFromPeople(b.page, ia.username, 'You were offline');
    proxy.restore();

    const item = a.page.getByTestId('chat-item').filter({ hasText: ib.username });
    await item.waitFor({ timeout: 30_000 });
    await assertText(item.getByTestId('chat-preview'), 'You were offline');
    await assertText(item.getByTestId('unread-badge'), '1');
    await a.page.getByTestId('feed-offline').waitFor({ state: 'hidden' });
  } finally {
    await proxy.close();
  }
});
