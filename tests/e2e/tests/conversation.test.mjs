// What a chat page shows besides messages: read receipts on our own messages, a "new messages"
// divider where the unread ones start, lines for renames and people added, removed or leaving,
// one notice when we leave, and the newest message never hidden under a banner.

import assert from 'node:assert/strict';
import {
  apiPost,
  assertText,
  e2eSuite,
  messageFromPeople,
  messageLocator,
  messageTexts,
  openChat,
  savedMessage,
  send,
  signIn,
  signedUpPeople,
  tokenOf,
  until,
} from '../lib/harness.mjs';

const { scenario } = e2eSuite();

const stateOf = (page, text) => messageLocator(page, text).getByTestId('message-state');
const labelled = (page, text, label) => stateOf(page, text).and(page.locator(`[aria-label="${label}"]`)).waitFor();

/** On the people page: tick each of `usernames`, name the group, create it. */
async function createGroup(page, name, usernames) {
  await page.getByTestId('new-chat').click();
  const people = page.getByTestId('people');
  const search = people.getByLabel('Search people', { exact: true });
  for (const u of usernames) {
    await search.fill(u);
    await people.getByRole('checkbox', { name: `Select ${u} for a group` }).check();
  }
  await page.getByTestId('group-form').getByLabel('Group name').fill(name);
  await page.getByRole('button', { name: 'Create group' }).click();
  await assertText(page.getByTestId('chat-title'), name);
}

/** The texts of the chat lines (renames, people added…) of the open conversation. */
function chatLines(page) {
  return page.getByTestId('conversation').getByTestId('chat-line').allTextContents();
}

scenario('read receipts show on a device that did not see them happen', async ({ person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);
  await messageFromPeople(a.page, ib.username, 'Read before you came');
  await b.page.getByTestId('chat-item').filter({ hasText: ia.username }).click();
  await labelled(a.page, 'Read before you came', 'Seen');
  // Ann on a new device: nothing in its storage; the opening history carries Ben's marker.
  const elsewhere = await person('ann elsewhere');
  await signIn(elsewhere.page, ia);
  await openChat(elsewhere.page, ib.username);
  await labelled(elsewhere.page, 'Read before you came', 'Seen');
});

scenario('read receipts: a second tick in a direct chat, who has read it in a group', async ({ person }) => {
  const [[a, ia], [b, ib], [c, ic]] = await signedUpPeople(person, ['ann', 'ben', 'cat']);

  // Direct: sent while Ben looks at his list; seen once he opens the chat.
  await messageFromPeople(a.page, ib.username, 'Are you there?');
  await labelled(a.page, 'Are you there?', 'Sent');
  await b.page.getByTestId('chat-item').filter({ hasText: ia.username }).click();
  await labelled(a.page, 'Are you there?', 'Seen');
  assert.equal(await stateOf(a.page, 'Are you there?').getAttribute('class'), 'msg-state seen');
  // What the page saw stays after a reload.
  await a.page.reload();
  await labelled(a.page, 'Are you there?', 'Seen');

  // A group: who has read it, by name, under the newest message read.
  await createGroup(a.page, 'Receipts', [ib.username, ic.username]);
  await send(a.page, 'Hi both');
  await labelled(a.page, 'Hi both', 'Sent');
  await openChat(b.page, 'Receipts');
  await labelled(a.page, 'Hi both', `Seen by ${ib.username}`);
  await assertText(messageLocator(a.page, 'Hi both').getByTestId('seen-by'), `Seen by ${ib.username}`);
  await openChat(c.page, 'Receipts');
  await labelled(a.page, 'Hi both', 'Seen by everyone');
  await send(a.page, 'Second one');
  await labelled(a.page, 'Second one', 'Seen by everyone');
  // Only the newest message read carries the line.
  await messageLocator(a.page, 'Hi both').getByTestId('seen-by').waitFor({ state: 'hidden' });
  assert.equal(await a.page.getByTestId('seen-by').filter({ visible: true }).count(), 1);
});

scenario('a "new messages" divider where the unread ones start', async ({ server, person }) => {
  const [[a, ia], [b, ib]] = await signedUpPeople(person, ['ann', 'ben']);
  await messageFromPeople(a.page, ib.username, 'Read already');
  await openChat(b.page, ia.username);
  await messageLocator(b.page, 'Read already').waitFor();
  await b.page.goto('/#/');

  for (const text of ['New one', 'New two', 'New three']) await send(a.page, text);
  const item = b.page.getByTestId('chat-item').filter({ hasText: ia.username });
  await assertText(item.getByTestId('unread-badge'), '3');
  await item.click();
  const divider = b.page.getByTestId('unread-divider');
  await divider.waitFor();
  // Right above the first unread message, and it stays there while more arrive.
  const next = () => divider.evaluate((el) => el.nextElementSibling?.querySelector('[data-testid="message-text"]')?.textContent);
  assert.equal(await next(), 'New one');
  await send(a.page, 'New four');
  await messageLocator(b.page, 'New four').waitFor();
  assert.equal(await next(), 'New one');

  // Opened again, everything is read: no divider. (The server answers no `read` frame, so wait
  // until it has stored Ben's marker rather than race it with the next opening.)
  const benToken = await tokenOf(b.page);
  const chatOfBen = Number(await item.getAttribute('data-chat-id'));
  await until(
    b.page,
    async ([url, token, id]) => {
      const res = await fetch(`${url}/chats/${id}`, { headers: { authorization: `Bearer ${token}` } });
      return res.ok && (await res.json()).unread_count === 0;
    },
    [server.url, benToken, chatOfBen],
  );
  await b.page.goto('/#/');
  await item.click();
  await messageLocator(b.page, 'New four').waitFor();
  assert.equal(await divider.count(), 0);

  // Many unread: the view opens at the divider, not at the bottom.
  await b.page.goto('/#/');
  const token = await tokenOf(a.page);
  const chatId = Number(await item.getAttribute('data-chat-id'));
  for (let i = 1; i <= 18; i++) await apiPost(server.url, token, `/chats/${chatId}/messages`, { text: `Line ${i}\nwith a second line`, client_id: `d-${i}` });
  await assertText(item.getByTestId('unread-badge'), '18');
  await item.click();
  await divider.waitFor();
  const inView = await divider.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const box = el.closest('[data-testid="messages"]').getBoundingClientRect();
    return r.top >= box.top && r.bottom <= box.bottom;
  });
  assert.ok(inView, 'the divider is in view');
  await b.page.getByTestId('jump-bottom').waitFor();
});

scenario('lines for renames and people added, removed and leaving; one notice on leaving', async ({ person }) => {
  const [[a, ia], [b, ib], [c, ic]] = await signedUpPeople(person, ['ann', 'ben', 'cat']);
  await createGroup(a.page, 'Trip', [ib.username]);
  await send(a.page, 'Welcome');
  await until(a.page, () => document.querySelectorAll('[data-testid="chat-line"]').length === 1);
  assert.deepEqual(await chatLines(a.page), ['You created the group “Trip”']);
  await openChat(b.page, 'Trip');
  assert.deepEqual(await chatLines(b.page), ['You were added to the group']);

  // Ann adds Cat, renames, removes Cat; Ben sees each as a line, in place among the messages.
  await a.page.getByTestId('chat-info').click();
  const settings = a.page.getByTestId('chat-settings');
  await settings.getByLabel('Search people to add').fill(ic.username);
  await settings.getByRole('button', { name: `Add ${ic.username}` }).click();
  await assertText(b.page.getByTestId('chat-line'), `${ic.username} was added`);
  await settings.getByLabel('Group name').fill('Trip 2');
  await settings.getByRole('button', { name: 'Save' }).click();
  await assertText(b.page.getByTestId('chat-line'), 'The group was renamed to “Trip 2”');
  await send(b.page, 'Nice name');
  await settings.getByRole('button', { name: `Remove ${ic.username}` }).click();
  await a.page.getByTestId('confirm-ok').click();
  // Ben cannot know whether Cat left or the owner removed her; Ann knows she did it.
  await assertText(b.page.getByTestId('chat-line'), `${ic.username} left or was removed`);
  assert.deepEqual(await chatLines(b.page), [
    'You were added to the group',
    `${ic.username} was added`,
    'The group was renamed to “Trip 2”',
    `${ic.username} left or was removed`,
  ]);
  assert.deepEqual(await messageTexts(b.page), ['Welcome', 'Nice name']);
  const order = await b.page.getByTestId('messages').evaluate((el) =>
    [...el.querySelectorAll('[data-testid="chat-line"], [data-testid="message-text"]')].map((x) => x.textContent),
  );
  assert.deepEqual(order.slice(-3), ['The group was renamed to “Trip 2”', 'Nice name', `${ic.username} left or was removed`]);

  await a.page.getByTestId('settings-back').click();
  await assertText(a.page.getByTestId('chat-line'), `You removed ${ic.username}`);
  assert.deepEqual(await chatLines(a.page), [
    'You created the group “Trip”',
    `You added ${ic.username}`,
    'You renamed the group to “Trip 2”',
    `You removed ${ic.username}`,
  ]);

  // Ben leaves: one notice for him (no toasts), the focus back on his list; a line for Ann.
  await b.page.getByTestId('chat-info').click();
  await b.page.getByTestId('leave-group').click();
  await b.page.getByTestId('confirm-ok').click();
  const notice = b.page.getByTestId('notice');
  await assertText(notice, 'You left “Trip 2”.');
  await b.page.getByTestId('chat-item').filter({ hasText: 'Trip' }).waitFor({ state: 'detached' });
  await until(b.page, () => document.activeElement?.closest('#chat-list-empty, [data-testid="chat-list"]') != null);
  assert.equal(await notice.count(), 1);
  assert.equal(await b.page.getByTestId('toast').count(), 0, 'no toast besides the notice');
  await assertText(a.page.getByTestId('chat-line'), `${ib.username} left`);

  // The lines are still there after a reload.
  await a.page.reload();
  await messageLocator(a.page, 'Nice name').waitFor();
  assert.equal((await chatLines(a.page)).length, 5);
});

scenario('the newest message is never hidden under a banner, the edit bar or a taller composer', async ({ server, person }) => {
  const PHONE = { width: 375, height: 640 };
  const [[a, ia], [b, ib]] = await signedUpPeople(person, [{ name: 'ann', label: 'ann (phone)', options: { viewport: PHONE } }, 'ben']);
  await messageFromPeople(b.page, ia.username, 'Start');
  const chatId = Number(await b.page.getByTestId('conversation').getAttribute('data-chat-id'));
  const token = await tokenOf(b.page);
  for (let i = 1; i <= 25; i++) await apiPost(server.url, token, `/chats/${chatId}/messages`, { text: `Filler ${i}`, client_id: `f-${i}` });
  await apiPost(server.url, token, `/chats/${chatId}/messages`, { text: 'The newest one', client_id: 'f-last' });
  await openChat(a.page, ib.username);
  await messageLocator(a.page, 'The newest one').waitFor();
  await send(a.page, 'My reply');
  await savedMessage(a.page, 'My reply').waitFor();

  // The list re-pins on a resize observer's callback, a frame or so after the change: wait for
  // the newest message to be in view (polled every frame) rather than race that frame.
  const inView = () => {
    const list = document.querySelector('[data-testid="messages"]').getBoundingClientRect();
    const msgs = document.querySelectorAll('[data-testid="message"]');
    const r = msgs[msgs.length - 1].getBoundingClientRect();
    return r.top >= list.top - 1 && r.bottom <= list.bottom + 1;
  };
  const newestInView = async (when) => {
    try {
      await until(a.page, inView, undefined, 5000);
    } catch {
      assert.fail(`the newest message is hidden ${when}`);
    }
  };
  await newestInView('to begin with');

  // The offline banner appears above the list.
  await a.context.setOffline(true);
  await a.page.getByTestId('offline-banner').waitFor();
  await newestInView('under the offline banner');
  await a.context.setOffline(false);
  await a.page.getByTestId('offline-banner').waitFor({ state: 'hidden' });
  await newestInView('once the banner is gone');

  // The edit bar, and a composer grown by a long draft.
  await a.page.getByTestId('composer-input').press('ArrowUp');
  await a.page.getByTestId('edit-bar').waitFor();
  await newestInView('above the edit bar');
  await a.page.getByTestId('composer-input').press('Escape');
  await a.page.getByTestId('composer-input').fill('a\nlong\ndraft\nof\nsix\nlines');
  await until(a.page, () => document.querySelector('[data-testid="composer-input"]').offsetHeight > 100);
  await newestInView('above a taller composer');
});
