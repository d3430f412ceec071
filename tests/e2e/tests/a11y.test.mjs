// Accessibility: axe-core (pinned in package.json) finds no critical, serious or moderate
// violation on any view: sign-in and sign-up (with errors), the chat list, a direct and a group
// conversation (receipts, the unread divider, chat lines, the offline banner, the confirmation
// dialog), group info, people search, the notice after leaving; at phone width, and in the dark
// theme too.

import { assertAccessible } from '../lib/axe.mjs';
import { assertText, e2eSuite, messageFromPeople, messageLocator, openChat, savedMessage, send, signIn, signedUpPeople } from '../lib/harness.mjs';

const { scenario } = e2eSuite();
const PHONE = { width: 375, height: 740 };

/** Checks every view in turn and fails once at the end, listing every view that failed. */
function checker() {
  const failures = [];
  const passed = [];
  return {
    async check(page, view) {
      try {
        passed.push(await assertAccessible(page, view));
      } catch (e) {
        failures.push(e.message);
      }
    },
    done() {
      if (failures.length) throw new Error(failures.join('\n\n'));
      console.log(`axe, ${passed.length} views:\n${passed.join('\n')}`);
    },
  };
}

/** On the people page: tick each of `usernames`, name the group, create it. */
async function createGroup(page, name, usernames, beforeCreate = async () => {}) {
  await page.getByTestId('new-chat').click();
  const people = page.getByTestId('people');
  const search = people.getByLabel('Search people', { exact: true });
  for (const u of usernames) {
    await search.fill(u);
    await people.getByRole('checkbox', { name: `Select ${u} for a group` }).check();
  }
  await beforeCreate();
  await page.getByTestId('group-form').getByLabel('Group name').fill(name);
  await page.getByRole('button', { name: 'Create group' }).click();
  await assertText(page.getByTestId('chat-title'), name);
}

/** The views of someone already in a direct chat and the group "Lunch club 2". */
async function checkViews(axe, page, theme, directWith) {
  await page.getByTestId('chat-item').first().waitFor();
  await axe.check(page, `${theme}: chat list`);
  await openChat(page, directWith);
  await page.getByTestId('message').first().waitFor();
  await axe.check(page, `${theme}: direct conversation`);
  await page.goto('/#/'); // on a phone the list is a view of its own
  await openChat(page, 'Lunch club 2');
  await messageLocator(page, 'Thanks for adding me').waitFor();
  await axe.check(page, `${theme}: group conversation`);
  await page.getByTestId('chat-info').click();
  await page.getByTestId('chat-settings').getByTestId('member').first().waitFor();
  await axe.check(page, `${theme}: group info`);
  await page.goto('/#/people');
  await page.getByTestId('people').getByLabel('Search people', { exact: true }).fill(directWith.slice(0, 4));
  await page.getByTestId('person').first().waitFor();
  await axe.check(page, `${theme}: people search`);
}

scenario('axe: every view, at desktop and phone width, light and dark', async ({ person }) => {
  const axe = checker();
  const visitor = await person('visitor');
  await visitor.page.goto('/');
  await visitor.page.getByTestId('signin-form').waitFor();
  await axe.check(visitor.page, 'sign-in');
  await visitor.page.getByTestId('signin-submit').click();
  await visitor.page.getByTestId('signin-form').getByTestId('phone-error').waitFor();
  await axe.check(visitor.page, 'sign-in with errors');
  await visitor.page.getByTestId('to-signup').click();
  await visitor.page.getByTestId('signup-form').getByLabel('Phone').fill('12345');
  await visitor.page.getByTestId('signup-submit').click();
  await visitor.page.getByTestId('signup-form').getByTestId('username-error').waitFor();
  await axe.check(visitor.page, 'sign-up with errors');

  const [[a, ia], [b, ib], [c, ic]] = await signedUpPeople(person, ['ann', 'ben', 'cat']);
  await b.page.getByTestId('chat-list-empty').waitFor();
  await axe.check(b.page, 'empty chat list');

  // A direct chat: Ann writes twice, Ben opens it (the unread divider), answers; Ann's are seen.
  await messageFromPeople(a.page, ib.username, 'Hi Ben, lunch today?');
  await send(a.page, 'The new place on the corner');
  await assertText(b.page.getByTestId('chat-item').filter({ hasText: ia.username }).getByTestId('unread-badge'), '2');
  await axe.check(b.page, 'chat list with an unread chat');
  await openChat(b.page, ia.username);
  await b.page.getByTestId('unread-divider').waitFor();
  await send(b.page, 'Sure, at 12:30');
  await savedMessage(b.page, 'Sure, at 12:30').waitFor();
  await messageLocator(a.page, 'Sure, at 12:30').waitFor();
  await a.page.locator('[data-testid="message-state"][aria-label="Seen"]').first().waitFor();
  await axe.check(a.page, 'direct conversation with receipts');
  await axe.check(b.page, 'direct conversation with the unread divider');

  // The offline banner, the edit bar, the confirmation dialog.
  await a.context.setOffline(true);
  await a.page.getByTestId('offline-banner').waitFor();
  await axe.check(a.page, 'direct conversation, offline');
  await a.context.setOffline(false);
  await a.page.getByTestId('offline-banner').waitFor({ state: 'hidden' });
  await a.page.getByTestId('composer-input').press('ArrowUp');
  await a.page.getByTestId('edit-bar').waitFor();
  await axe.check(a.page, 'editing a message');
  await a.page.getByTestId('composer-input').press('Escape');
  const mine = messageLocator(a.page, 'The new place on the corner');
  await mine.hover();
  await mine.getByRole('button', { name: 'Delete message' }).click();
  await a.page.getByTestId('confirm-dialog').waitFor();
  await axe.check(a.page, 'confirmation dialog');
  await a.page.getByTestId('confirm-cancel').click();

  // A group with chat lines and "Seen by".
  await createGroup(a.page, 'Lunch club', [ib.username, ic.username], () => axe.check(a.page, 'people search, a group being made'));
  await send(a.page, 'Welcome!');
  await openChat(c.page, 'Lunch club');
  await send(c.page, 'Thanks for adding me');
  await messageLocator(a.page, 'Thanks for adding me').waitFor();
  await a.page.getByTestId('chat-info').click();
  const settings = a.page.getByTestId('chat-settings');
  await settings.getByTestId('member').first().waitFor();
  await axe.check(a.page, 'group info (owner)');
  await settings.getByLabel('Group name').fill('Lunch club 2');
  await settings.getByRole('button', { name: 'Save' }).click();
  await assertText(c.page.getByTestId('chat-line'), 'renamed');
  await axe.check(c.page, 'group conversation with chat lines');
  await a.page.getByTestId('settings-back').click();
  await messageLocator(a.page, 'Welcome!').getByTestId('seen-by').waitFor();
  await axe.check(a.page, 'group conversation with "Seen by"');
  await c.page.getByTestId('chat-info').click();
  await c.page.getByTestId('chat-settings').getByTestId('member').first().waitFor();
  await axe.check(c.page, 'group info (member)');

  // Ben at phone width, and in the dark theme.
  const phone = await person('ben (phone)', { viewport: PHONE });
  await signIn(phone.page, ib);
  await checkViews(axe, phone.page, 'phone', ia.username);
  const dark = await person('ben (dark)', { colorScheme: 'dark' });
  await signIn(dark.page, ib);
  await checkViews(axe, dark.page, 'dark', ia.username);
  const darkPhone = await person('ben (dark phone)', { colorScheme: 'dark', viewport: PHONE });
  await signIn(darkPhone.page, ib);
  await checkViews(axe, darkPhone.page, 'dark phone', ia.username);

  // Cat leaves: the notice on her list.
  await c.page.getByTestId('leave-group').click();
  await c.page.getByTestId('confirm-ok').click();
  await c.page.getByTestId('notice').waitFor();
  await axe.check(c.page, 'chat list with a notice');

  axe.done();
});
