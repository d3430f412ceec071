// The network going away: the page says so at once (the browser's offline event, or a connection
// that stops answering), a message written meanwhile waits visibly, and the page reconnects as
// soon as the network is back instead of waiting out its backoff.

import assert from 'node:assert/strict';
import {
  assertText,
  e2eSuite,
  messageFromPeople,
  messageLocator,
  openChat,
  savedMessage,
  send,
  signedUpPeople,
  startProxy,
  until,
} from '../lib/harness.mjs';

const { scenario } = e2eSuite();

/** The label of a message's state icon (Sending, Waiting to send, Sent, Seen…). */
function stateOf(page, text) {
  return messageLocator(page, text).getByTestId('message-state').getAttribute('aria-label');
}

scenario('offline at once, and back at once when the network returns', async ({ person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);
  await messageFromPeople(a.page, ib.username, 'Hello');
  await openChat(b.page, ia.username);
  const presence = a.page.getByTestId('presence');
  await until(a.page, () => document.querySelector('[data-testid="presence"]').textContent === 'online');

  // The browser goes offline (its sockets stay open in Chromium's emulation, as they may for
  // minutes on a real network cut): the page says so within a second, everywhere.
  const attempts = [];
  a.page.on('websocket', (ws) => attempts.push(ws.url()));
  await a.context.setOffline(true);
  const banner = a.page.getByTestId('offline-banner');
  // (Bounds, not sleeps: generous for a loaded box, far below any reconnect wait.)
  await banner.waitFor({ timeout: 3000 });
  await assertText(banner, 'No network');
  await a.page.getByTestId('feed-offline').waitFor({ timeout: 3000 });
  assert.notEqual(await presence.textContent(), 'online', 'Ben is not shown online while we cannot know');

  // A message written now waits, and says so.
  await send(a.page, 'Written offline');
  assert.equal(await stateOf(a.page, 'Written offline'), 'Waiting to send');

  // It keeps trying with growing waits; after four failed attempts the next is at least 6.4 s
  // away (backoffDelay), so coming back within 4 s can only be the `online` event's doing.
  const chatAttempts = () => attempts.filter((u) => /\/chat\/\d+/.test(u)).length;
  while (chatAttempts() < 4) await a.page.waitForEvent('websocket');
  const back = Date.now();
  await a.context.setOffline(false);
  await banner.waitFor({ state: 'hidden', timeout: 4000 });
  const took = Date.now() - back;
  assert.ok(took < 4000, `reconnected ${took} ms after the network came back`);
  await a.page.getByTestId('feed-offline').waitFor({ state: 'hidden', timeout: 4000 });

  await savedMessage(a.page, 'Written offline').waitFor();
  await messageLocator(b.page, 'Written offline').waitFor();
  assert.equal(await messageLocator(b.page, 'Written offline').count(), 1);
  await until(a.page, () => document.querySelector('[data-testid="presence"]').textContent === 'online');
});

scenario('a connection that stops answering counts as lost: a message does not sit at "Sending"', async ({ server, person }) => {
  const proxy = await startProxy(server.port);
  try {
    const [[a, ia], [b, ib]] = await signedUpPeople(person, [
      { name: 'ann', label: 'ann (through the proxy)', options: { baseUrl: proxy.url } },
      'ben',
    ]);
    await messageFromPeople(a.page, ib.username, 'Before the stall');
    await openChat(b.page, ia.username);

    // Nothing gets through any more, and nothing is closed either.
    proxy.stall();
    await send(a.page, 'Into the void');
    assert.equal(await stateOf(a.page, 'Into the void'), 'Sending');
    // No answer within a few seconds: the page gives up on the connection and says so.
    await a.page.getByTestId('offline-banner').waitFor({ timeout: 10_000 });
    assert.equal(await stateOf(a.page, 'Into the void'), 'Waiting to send');

    // Back: the message goes out once.
    proxy.restore();
    await savedMessage(a.page, 'Into the void').waitFor({ timeout: 30_000 });
    await messageLocator(b.page, 'Into the void').waitFor();
    assert.equal(await messageLocator(b.page, 'Into the void').count(), 1);
    await a.page.getByTestId('offline-banner').waitFor({ state: 'hidden' });
  } finally {
    await proxy.close();
  }
});
