// The keyboard: focus lands where the next action is, the message list is one tab stop with
// arrow keys inside it, a message's own buttons are reached from the message, and whatever has
// the focus shows a ring.

import assert from 'node:assert/strict';
import { apiPost, e2eSuite, messageFromPeople, messageLocator, savedMessage, signedUpPeople, tokenOf, until } from '../lib/harness.mjs';

const { scenario } = e2eSuite();

/** What has the focus, and whether it shows a ring (an outline at least 2 px wide). */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return {
      testid: el.getAttribute('data-testid'),
      label: el.getAttribute('aria-label'),
      text: el.querySelector?.('[data-testid="message-text"]')?.textContent ?? null,
      ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
    };
  });
}

/** Presses `key` and returns what has the focus then. */
async function press(page, key) {
  await page.keyboard.press(key);
  return focused(page);
}

scenario('keyboard: focus after sign-in, one tab stop for the messages, arrow keys, rings', async ({ server, person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);
  await messageFromPeople(a.page, ib.username, 'Hello Ben');
  const chatId = Number(await a.page.getByTestId('conversation').getAttribute('data-chat-id'));
  const token = await tokenOf(a.page);
  for (let i = 1; i <= 10; i++) await apiPost(server.url, token, `/chats/${chatId}/messages`, { text: `mine ${i}`, client_id: `k-${i}` });
  await savedMessage(a.page, 'mine 10').waitFor();
  await b.context.close();

  // Ann signs in again in a fresh browser, from the keyboard only.
  const { page } = await person('ann, keyboard');
  await page.goto('/');
  await page.getByTestId('signin-form').waitFor();
  await page.keyboard.type(ia.phone);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ia.password);
  await page.keyboard.press('Enter');

  // Signed in: the focus is on the first chat, with a ring.
  await until(page, () => document.activeElement?.getAttribute('data-testid') === 'chat-item');
  assert.equal((await focused(page)).ring, true, 'the chat item shows its focus');
  await page.keyboard.press('Enter');
  await messageLocator(page, 'mine 10').waitFor();
  await until(page, () => document.activeElement?.getAttribute('data-testid') === 'composer-input');
  assert.equal((await focused(page)).ring, true, 'the message box shows its focus');

  // Back from the composer: one stop for the whole list (the newest message), then the header.
  let at = await press(page, 'Shift+Tab');
  assert.equal(at.testid, 'message');
  assert.equal(at.text, 'mine 10');
  assert.equal(at.ring, true, 'the message shows its focus');
  at = await press(page, 'Shift+Tab');
  assert.equal(at.testid, 'chat-info', 'eleven messages of ours are one tab stop, not twenty-two');

  // Forward again: the message, then its own Edit and Delete, then the composer.
  assert.equal((await press(page, 'Tab')).text, 'mine 10');
  at = await press(page, 'Tab');
  assert.deepEqual([at.label, at.ring], ['Edit message', true]);
  at = await press(page, 'Tab');
  assert.deepEqual([at.label, at.ring], ['Delete message', true]);
  assert.equal((await press(page, 'Tab')).testid, 'composer-input');

  // Arrow keys move between messages; the list remembers where it was.
  await page.keyboard.press('Shift+Tab');
  assert.equal((await press(page, 'ArrowUp')).text, 'mine 9');
  assert.equal((await press(page, 'ArrowUp')).text, 'mine 8');
  assert.equal((await press(page, 'ArrowDown')).text, 'mine 9');
  assert.equal((await press(page, 'Home')).text, 'Hello Ben');
  assert.equal((await press(page, 'End')).text, 'mine 10');
  await page.keyboard.press('ArrowUp');
  assert.equal((await press(page, 'Escape')).testid, 'composer-input');
  assert.equal((await press(page, 'Shift+Tab')).text, 'mine 9', 'back to the message it left');

  // On our own message, Enter edits it in the composer; Escape gives the composer back.
  await page.keyboard.press('Enter');
  await page.getByTestId('edit-bar').waitFor();
  assert.equal((await focused(page)).testid, 'composer-input');
  assert.equal(await page.getByTestId('composer-input').inputValue(), 'mine 9');
  await page.keyboard.press('Escape');
  await page.getByTestId('edit-bar').waitFor({ state: 'hidden' });

  // Delete asks first; cancelling puts the focus back on the message.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Delete');
  await page.getByTestId('confirm-dialog').waitFor();
  at = await press(page, 'Escape');
  assert.equal(at.text, 'mine 9');
  assert.equal(await messageLocator(page, 'mine 9').count(), 1);

  // A whole round of Tab through the page: every stop shows its focus.
  await page.keyboard.press('Escape');
  const seen = [];
  for (let i = 0; i < 40; i++) {
    at = await press(page, 'Tab');
    if (at.testid === 'composer-input') break;
    if (await page.evaluate(() => document.activeElement === document.body)) continue; // past the last stop
    assert.equal(at.ring, true, `no focus ring on ${JSON.stringify(at)}`);
    seen.push(at.testid ?? at.label);
  }
  for (const want of ['send', 'sign-out', 'new-chat', 'chat-item', 'chat-info', 'message']) {
    assert.ok(seen.includes(want), `${want} is a tab stop: ${seen.join(', ')}`);
  }
});
