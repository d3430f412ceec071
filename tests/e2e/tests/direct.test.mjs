// Direct chats: finding someone, live delivery both ways, pending → saved, typing and presence,
// edit and delete seen by the other side, a reload, and older messages loaded on scroll.

import assert from 'node:assert/strict';
import {
  apiPost,
  assertText,
  e2eSuite,
  messageFromPeople,
  messageLocator,
  messageTexts,
  openChat,
  recordStates,
  savedMessage,
  send,
  signedUpPeople,
  tokenOf,
  until,
} from '../lib/harness.mjs';

const { scenario } = e2eSuite();

/** Two signed-up people; `a` has written to `b` from the people page and `b` has opened the chat. */
async function twoInAChat(person, first = 'Hello there') {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);
  await messageFromPeople(a.page, ib.username, first);
  await openChat(b.page, ia.username);
  await messageLocator(b.page, first).waitFor();
  return { a, b, ia, ib };
}

scenario('two people: the chat appears live, messages arrive both ways, pending then saved', async ({ person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);

  // Ben has no chats yet.
  await b.page.getByTestId('chat-list-empty').waitFor();

  // Ann finds Ben on the people page and writes.
  await messageFromPeople(a.page, ib.username, 'Hi Ben, it is Ann');
  await assertText(a.page.getByTestId('chat-title'), ib.username);

  // Ben's list gets the chat live, with the preview and an unread badge.
  const item = b.page.getByTestId('chat-item').filter({ hasText: ia.username });
  await item.waitFor();
  await assertText(item.getByTestId('chat-preview'), 'Hi Ben, it is Ann');
  await assertText(item.getByTestId('unread-badge'), '1');

  // He opens it: the message is there and the badge goes away.
  await item.click();
  await messageLocator(b.page, 'Hi Ben, it is Ann').waitFor();
  await item.getByTestId('unread-badge').waitFor({ state: 'hidden' });

  // Both are in the chat now: presence says so.
  await assertText(a.page.getByTestId('presence'), 'online');

  // Ben types: Ann sees "typing…".
  await b.page.getByTestId('composer-input').fill('Hi Ann');
  await a.page.getByTestId('typing').waitFor();
  await assertText(a.page.getByTestId('typing'), 'typing');

  // He answers; a two-line message (Shift+Enter) keeps its line break.
  await b.page.getByTestId('composer-input').press('Shift+Enter');
  await b.page.getByTestId('composer-input').pressSequentially('how are you?');
  await b.page.getByTestId('composer-input').press('Enter');
  await messageLocator(a.page, 'Hi Ann\nhow are you?').waitFor();
  await a.page.getByTestId('typing').waitFor({ state: 'hidden' });

  // Ann answers; her message is pending until the server's ack, then saved.
  const states = await recordStates(a.page, 'Fine, thanks!');
  await send(a.page, 'Fine, thanks!');
  const mine = messageLocator(a.page, 'Fine, thanks!');
  await savedMessage(a.page, 'Fine, thanks!').waitFor();
  const seen = await states();
  assert.equal(seen[0], 'pending', `first state ${JSON.stringify(seen)}`);
  assert.equal(seen.at(-1), 'saved', `last state ${JSON.stringify(seen)}`);
  // Ben has the chat open, so it is read at once: sent, then seen.
  assert.match(await mine.getByTestId('message-state').getAttribute('aria-label'), /^(Sent|Seen)$/);
  await mine.getByTestId('message-state').and(a.page.locator('[aria-label="Seen"]')).waitFor();
  assert.match(await mine.getAttribute('data-message-id'), /^\d+$/);
  await messageLocator(b.page, 'Fine, thanks!').waitFor();

  // Each side holds the three messages, once each, in order; the lists show the last one.
  const want = ['Hi Ben, it is Ann', 'Hi Ann\nhow are you?', 'Fine, thanks!'];
  assert.deepEqual(await messageTexts(a.page), want);
  assert.deepEqual(await messageTexts(b.page), want);
  await assertText(a.page.getByTestId('chat-item').first().getByTestId('chat-preview'), 'You: Fine, thanks!');
  await assertText(b.page.getByTestId('chat-item').first().getByTestId('chat-preview'), 'Fine, thanks!');
});

scenario('an edit and a delete show on the other side', async ({ person }) => {
  const { a, b } = await twoInAChat(person);
  await send(a.page, 'See you at 5');
  await send(a.page, 'This one was a mistake');
  await messageLocator(b.page, 'This one was a mistake').waitFor();

  // Edit: the message's Edit button fills the composer; Enter saves.
  const original = messageLocator(a.page, 'See you at 5');
  await savedMessage(a.page, 'See you at 5').waitFor();
  await original.hover();
  await original.getByRole('button', { name: 'Edit message' }).click();
  await a.page.getByTestId('edit-bar').waitFor();
  const input = a.page.getByTestId('composer-input');
  assert.equal(await input.inputValue(), 'See you at 5');
  await input.fill('See you at 6');
  await input.press('Enter');
  await a.page.getByTestId('edit-bar').waitFor({ state: 'hidden' });

  const edited = messageLocator(b.page, 'See you at 6');
  await edited.waitFor();
  await edited.getByTestId('edited').waitFor();
  assert.equal(await messageLocator(b.page, 'See you at 5').count(), 0);
  await messageLocator(a.page, 'See you at 6').getByTestId('edited').waitFor();

  // Delete: confirm in the dialog; the message disappears on both sides.
  const wrong = messageLocator(a.page, 'This one was a mistake');
  await wrong.hover();
  await wrong.getByRole('button', { name: 'Delete message' }).click();
  await a.page.getByTestId('confirm-dialog').waitFor();
  await a.page.getByTestId('confirm-ok').click();
  await messageLocator(a.page, 'This one was a mistake').waitFor({ state: 'detached' });
  await messageLocator(b.page, 'This one was a mistake').waitFor({ state: 'detached' });
  assert.deepEqual(await messageTexts(b.page), ['Hello there', 'See you at 6']);

  // Only the author gets the buttons.
  assert.equal(await messageLocator(b.page, 'See you at 6').getByRole('button', { name: 'Edit message' }).count(), 0);
});

scenario('a reload keeps the session and the history', async ({ person }) => {
  const { a, b, ib } = await twoInAChat(person, 'Before the reload');
  await send(b.page, 'An answer');
  await messageLocator(a.page, 'An answer').waitFor();
  await send(a.page, 'And one more');
  await messageLocator(b.page, 'And one more').waitFor();

  await a.page.reload();
  await a.page.getByTestId('app').waitFor();
  assert.equal(await a.page.getByTestId('auth').isVisible(), false);
  await assertText(a.page.getByTestId('me-name'), (await a.page.evaluate(() => JSON.parse(localStorage.getItem('messenger.session')).user.username)));
  // The open chat is in the address, so it is open again, with its history.
  await assertText(a.page.getByTestId('chat-title'), ib.username);
  await messageLocator(a.page, 'And one more').waitFor();
  assert.deepEqual(await messageTexts(a.page), ['Before the reload', 'An answer', 'And one more']);
  await assertText(a.page.getByTestId('chat-item').first().getByTestId('chat-preview'), 'You: And one more');

  // A fresh tab of the same session at / shows the list; the chat opens from it.
  const again = await a.context.newPage();
  await again.goto('/');
  await again.getByTestId('chat-item').first().waitFor();
  await openChat(again, ib.username);
  await messageLocator(again, 'An answer').waitFor();
  await again.close();

  // The reloaded page is live again.
  await send(b.page, 'After the reload');
  await messageLocator(a.page, 'After the reload').waitFor();
});

scenario('older messages are loaded when scrolling up', async ({ person, server }) => {
  const { a, b } = await twoInAChat(person, 'First of many');
  const chatId = Number(await b.page.getByTestId('conversation').getAttribute('data-chat-id'));
  const token = await tokenOf(b.page);
  for (let i = 1; i <= 44; i++) await apiPost(server.url, token, `/chats/${chatId}/messages`, { text: `numbered ${i}`, client_id: `n-${i}` });
  await messageLocator(a.page, 'numbered 44').waitFor();

  // A fresh load holds the last 20; scrolling up brings the rest, in order, without duplicates.
  await a.page.reload();
  await messageLocator(a.page, 'numbered 44').waitFor();
  const log = a.page.getByTestId('messages');
  await until(a.page, () => document.querySelectorAll('[data-testid="message"]').length >= 20);
  for (;;) {
    const done = await a.page.getByText('This is the beginning of the conversation.').isVisible();
    if (done) break;
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await until(
      a.page,
      (n) => document.querySelectorAll('[data-testid="message"]').length > n || !document.querySelector('#history-start').hidden,
      await a.page.getByTestId('message').count(),
    );
  }
  const texts = await messageTexts(a.page);
  assert.deepEqual(texts, ['First of many', ...Array.from({ length: 44 }, (_, i) => `numbered ${i + 1}`)]);
});

scenario('the keyboard is enough: sign in, open a chat, send, edit the last message', async ({ person }) => {
  const { a, ia, ib } = await twoInAChat(person, 'Ping');
  const b = await person('ben, second browser');
  const { page } = b;
  await page.goto('/');
  const form = page.getByTestId('signin-form');
  await form.waitFor();
  // The phone field has the focus; Tab moves on, Enter submits.
  await page.keyboard.type(ib.phone);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ib.password);
  await page.keyboard.press('Enter');
  await page.getByTestId('app').waitFor();

  // Signed in, the focus is on the first chat (keyboard.test.mjs has more); Enter opens it and
  // the composer gets the focus.
  const item = page.getByTestId('chat-item').filter({ hasText: ia.username });
  await item.waitFor();
  await until(page, () => document.activeElement?.getAttribute('data-testid') === 'chat-item');
  await page.keyboard.press('Enter');
  await messageLocator(page, 'Ping').waitFor();
  await until(page, () => document.activeElement?.getAttribute('data-testid') === 'composer-input');
  await page.keyboard.type('Pong');
  await page.keyboard.press('Enter');
  await messageLocator(a.page, 'Pong').waitFor();

  // Arrow Up in the empty composer edits the last own message; Escape cancels, Enter saves.
  await savedMessage(page, 'Pong').waitFor();
  await page.keyboard.press('ArrowUp');
  await page.getByTestId('edit-bar').waitFor();
  await page.keyboard.press('Escape');
  await page.getByTestId('edit-bar').waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('composer-input').inputValue(), '');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.type('!');
  await page.keyboard.press('Enter');
  await messageLocator(a.page, 'Pong!').getByTestId('edited').waitFor();
});
