// Phone width (375×740): the chat list and the conversation are separate views, with a back button.

import assert from 'node:assert/strict';
import { assertText, e2eSuite, messageFromPeople, messageLocator, send, signedUpPeople } from '../lib/harness.mjs';

const { scenario } = e2eSuite();
const PHONE = { width: 375, height: 740 };

async function noHorizontalScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.scrollingElement.scrollWidth,
    width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `page is ${scroll}px wide in a ${width}px window`);
}

scenario('phone width: list and conversation are separate views with a back button', async ({ person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, [
    { name: 'ann', label: 'ann (phone)', options: { viewport: PHONE } },
    'ben',
  ]);
  await messageFromPeople(b.page, ia.username, 'Hello from a big screen');
  await send(b.page, 'A longer message, to see that it wraps nicely inside its bubble on a narrow phone screen without overflowing.');

  const { page } = a;
  const list = page.getByTestId('chat-list');
  const conversation = page.getByTestId('conversation');
  const item = page.getByTestId('chat-item').filter({ hasText: ib.username });
  await item.waitFor();
  assert.equal(await conversation.isVisible(), false);
  await noHorizontalScroll(page);

  // Open the chat: the list is gone, the conversation takes the screen.
  await item.click();
  await conversation.waitFor();
  await list.waitFor({ state: 'hidden' });
  await messageLocator(page, 'Hello from a big screen').waitFor();
  const box = await conversation.boundingBox();
  assert.equal(Math.round(box.width), PHONE.width);
  await noHorizontalScroll(page);
  const bubble = await messageLocator(page, 'Hello from a big screen').boundingBox();
  assert.ok(bubble.x >= 0 && bubble.x + bubble.width <= PHONE.width, 'the bubble fits the screen');

  // Answer from the phone.
  await send(page, 'Hi from my phone');
  await messageLocator(b.page, 'Hi from my phone').waitFor();

  // Back: the list again, with the chat on top.
  const back = page.getByRole('link', { name: 'Back to chats' }).first();
  await back.click();
  await list.waitFor();
  await conversation.waitFor({ state: 'hidden' });
  await assertText(item.getByTestId('chat-preview'), 'You: Hi from my phone');

  // The browser's back button works the same way (the views are in the address).
  await item.click();
  await conversation.waitFor();
  await page.goBack();
  await list.waitFor();

  // The people page is its own view too, with its own back button.
  await page.getByTestId('new-chat').click();
  await page.getByTestId('people').waitFor();
  await list.waitFor({ state: 'hidden' });
  await page.getByTestId('people').getByRole('link', { name: 'Back to chats' }).click();
  await list.waitFor();
});
