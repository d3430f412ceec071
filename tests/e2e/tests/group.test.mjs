// Groups: made from the people page, messages reach everyone live; settings (add, rename,
// remove, leave, delete) are seen live by the others.

import assert from 'node:assert/strict';
import { assertText, e2eSuite, messageLocator, messageTexts, openChat, send, signedUpPeople } from '../lib/harness.mjs';

const { scenario } = e2eSuite();

async function three(person) {
  const [[a, ia], [b, ib], [c, ic]] = await signedUpPeople(person, ['ann', 'ben', 'cat']);
  return { a, b, c, ia, ib, ic };
}

/** On the people page: tick each of `usernames`, name the group, create it. */
async function createGroup(page, name, usernames) {
  await page.getByTestId('new-chat').click();
  const people = page.getByTestId('people');
  await people.waitFor();
  const search = people.getByLabel('Search people', { exact: true });
  for (const u of usernames) {
    await search.fill(u);
    await people.getByRole('checkbox', { name: `Select ${u} for a group` }).check();
  }
  const form = page.getByTestId('group-form');
  await assertText(form.getByTestId('group-count'), `${usernames.length} selected`);
  await form.getByLabel('Group name').fill(name);
  await form.getByRole('button', { name: 'Create group' }).click();
  await assertText(page.getByTestId('chat-title'), name);
}

scenario('a group of three made from the people page; a message reaches both others live', async ({ person }) => {
  const { a, b, c, ib, ic } = await three(person);

  // A name is required.
  await a.page.getByTestId('new-chat').click();
  await a.page.getByTestId('people').getByLabel('Search people', { exact: true }).fill(ib.username);
  await a.page.getByRole('checkbox', { name: `Select ${ib.username} for a group` }).check();
  await a.page.getByRole('button', { name: 'Create group' }).click();
  await assertText(a.page.getByTestId('group-error'), 'name');
  await a.page.getByRole('checkbox', { name: `Select ${ib.username} for a group` }).uncheck();
  await a.page.getByTestId('group-form').waitFor({ state: 'hidden' });

  // People can be found by phone number too, typed the way people write them.
  const search = a.page.getByTestId('people').getByLabel('Search people', { exact: true });
  await search.fill(`${ic.phone.slice(0, 2)} ${ic.phone.slice(2, 5)} ${ic.phone.slice(5, 8)}-${ic.phone.slice(8)}`);
  await a.page.getByTestId('person').filter({ hasText: ic.username }).waitFor();
  assert.equal(await a.page.getByTestId('person').count(), 1);

  await createGroup(a.page, 'Weekend trip', [ib.username, ic.username]);
  await assertText(a.page.getByTestId('presence'), '3 members');

  // The group appears in both other lists live.
  for (const p of [b, c]) await p.page.getByTestId('chat-item').filter({ hasText: 'Weekend trip' }).waitFor();

  // Ben opens it; Cat keeps looking at her list.
  await openChat(b.page, 'Weekend trip');
  await send(a.page, 'Who brings the tent?');
  await messageLocator(b.page, 'Who brings the tent?').waitFor();
  const catItem = c.page.getByTestId('chat-item').filter({ hasText: 'Weekend trip' });
  await assertText(catItem.getByTestId('chat-preview'), 'Who brings the tent?');
  await assertText(catItem.getByTestId('unread-badge'), '1');

  // Cat opens it and answers; both others get it live.
  await openChat(c.page, 'Weekend trip');
  await messageLocator(c.page, 'Who brings the tent?').waitFor();
  await send(c.page, 'I do!');
  await messageLocator(a.page, 'I do!').waitFor();
  await messageLocator(b.page, 'I do!').waitFor();
  // Ann found Cat on the people page, so her name is shown over the message.
  await assertText(messageLocator(a.page, 'I do!').getByTestId('message-author'), ic.username);
  // Ben never searched for Cat: her name is looked up by id (GET /users/{id}).
  await assertText(messageLocator(b.page, 'I do!').getByTestId('message-author'), ic.username);
  for (const p of [a, b, c]) assert.deepEqual(await messageTexts(p.page), ['Who brings the tent?', 'I do!']);
});

scenario('group settings: add, rename, remove, leave and delete, seen live', async ({ person }) => {
  const { a, b, c, ib, ic } = await three(person);
  await createGroup(a.page, 'Book club', [ib.username]);
  await b.page.getByTestId('chat-item').filter({ hasText: 'Book club' }).waitFor();

  // Add Cat from the group's info page: the chat appears in her list.
  await a.page.getByTestId('chat-info').click();
  const settings = a.page.getByTestId('chat-settings');
  await settings.waitFor();
  await settings.getByLabel('Search people to add').fill(ic.username);
  await settings.getByRole('button', { name: `Add ${ic.username}` }).click();
  await settings.getByTestId('member').filter({ hasText: ic.username }).waitFor();
  await c.page.getByTestId('chat-item').filter({ hasText: 'Book club' }).waitFor();

  // Rename: everyone sees the new name live (Ben with the chat open, Cat in her list).
  await openChat(b.page, 'Book club');
  await settings.getByLabel('Group name').fill('Book club 2.0');
  await settings.getByRole('button', { name: 'Save' }).click();
  await assertText(b.page.getByTestId('chat-title'), 'Book club 2.0');
  await c.page.getByTestId('chat-item').filter({ hasText: 'Book club 2.0' }).waitFor();

  // Only the owner may delete or remove: Ben sees neither.
  await b.page.getByTestId('chat-info').click();
  await b.page.getByTestId('chat-settings').waitFor();
  await b.page.getByTestId('member').first().waitFor();
  assert.equal(await b.page.getByTestId('delete-chat').isVisible(), false);
  assert.equal(await b.page.getByTestId('remove-member').count(), 0);
  await b.page.getByTestId('settings-back').click();
  await b.page.getByTestId('conversation').waitFor();

  // Remove Cat while she has the chat open: it disappears for her.
  await openChat(c.page, 'Book club 2.0');
  await settings.getByRole('button', { name: `Remove ${ic.username}` }).click();
  await a.page.getByTestId('confirm-ok').click();
  await c.page.getByTestId('conversation').waitFor({ state: 'hidden' });
  await c.page.getByTestId('chat-item').filter({ hasText: 'Book club' }).waitFor({ state: 'detached' });
  await settings.getByTestId('member').filter({ hasText: ic.username }).waitFor({ state: 'detached' });

  // Ben leaves: the group goes from his list, and Ann's member list shrinks.
  await b.page.getByTestId('chat-info').click();
  await b.page.getByTestId('leave-group').click();
  await b.page.getByTestId('confirm-ok').click();
  await b.page.getByTestId('chat-item').filter({ hasText: 'Book club' }).waitFor({ state: 'detached' });
  await settings.getByTestId('member').filter({ hasText: ib.username }).waitFor({ state: 'detached' });
  assert.equal(await settings.getByTestId('member').count(), 1);

  // Ann deletes it.
  await settings.getByTestId('delete-chat').click();
  await a.page.getByTestId('confirm-ok').click();
  await a.page.getByTestId('chat-item').filter({ hasText: 'Book club' }).waitFor({ state: 'detached' });
  await a.page.getByTestId('chat-list-empty').waitFor();
});

scenario('a group deleted by its owner disappears for the others', async ({ person }) => {
  const { a, b, ib } = await three(person);
  await createGroup(a.page, 'Short-lived', [ib.username]);
  await openChat(b.page, 'Short-lived');
  await a.page.getByTestId('chat-info').click();
  await a.page.getByTestId('delete-chat').click();
  await a.page.getByTestId('confirm-ok').click();
  await b.page.getByTestId('conversation').waitFor({ state: 'hidden' });
  await b.page.getByTestId('chat-item').filter({ hasText: 'Short-lived' }).waitFor({ state: 'detached' });
  await assertText(b.page.getByTestId('notice'), 'no longer available');
});
