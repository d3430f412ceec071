// Renders the web client's screenshots, light theme: a conversation with read receipts and a
// "new messages" divider, at desktop width (docs/screenshot.png) and phone width
// (docs/screenshot-phone.png).
//
//   node tests/e2e/screenshot.mjs [output-dir]
//
// Same server binary and Chromium as the tests (MESSENGER_SERVER_BIN, CHROMIUM_PATH; set
// MESSENGER_WEB_DIR to render the page from disk). The people and messages are made up.

import path from 'node:path';
import { apiPost, apiRegister, launchBrowser, messageLocator, openChat, openPerson, REPO_ROOT, signIn, startServer } from './lib/harness.mjs';

const outDir = path.resolve(process.argv[2] || path.join(REPO_ROOT, 'docs'));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const server = await startServer();
const browser = await launchBrowser();
try {
  const password = 'correct horse battery';
  const [maya, leo, sam, nora] = await Promise.all(
    [
      ['maya', '+14155550101'],
      ['leo', '+14155550102'],
      ['sam', '+14155550103'],
      ['nora', '+14155550104'],
    ].map(([username, phone]) => apiRegister(server.url, { username, phone, password })),
  );
  const post = (who, route, body) => apiPost(server.url, who.token, route, body);
  let n = 0;
  const say = (who, chatId, text) => post(who, `/chats/${chatId}/messages`, { text, client_id: `s-${++n}` });
  const read = (who, chatId, message) => post(who, `/chats/${chatId}/read`, { message_id: message.message_id });

  // Other chats, for the list.
  const team = await post(nora, '/chats', { name: 'Design team', participants: [maya.user.user_id, leo.user.user_id] });
  await say(nora, team.chat_id, 'Pushed the new mockups for the onboarding flow.');
  const { chat: samChat } = await post(sam, `/users/${maya.user.user_id}/messages`, { text: 'Are we still on for Friday?', client_id: 's-sam' });
  await read(maya, samChat.chat_id, samChat.last_message);
  await say(maya, samChat.chat_id, 'Yes! 7 pm at the usual place.');
  await say(leo, team.chat_id, "Looks great, I'll review them after lunch.");
  const { chat: nChat } = await post(nora, `/users/${maya.user.user_id}/messages`, { text: 'Can you send me the slides from today?', client_id: 's-n1' });
  await say(nora, nChat.chat_id, 'No rush, tomorrow is fine.');

  // Maya's page is open (on her list) while the conversation happens, so it sees Leo's reads.
  const m = await openPerson(browser, server.url, { name: 'maya', viewport: DESKTOP });
  await signIn(m.page, maya);

  const { chat } = await post(leo, `/users/${maya.user.user_id}/messages`, { text: 'Morning! How was the concert yesterday?', client_id: 's-l1' });
  await read(maya, chat.chat_id, chat.last_message);
  await say(maya, chat.chat_id, 'So good. They played the whole first album\nand then three encores.');
  await read(maya, chat.chat_id, await say(leo, chat.chat_id, 'Jealous. Next time I am coming with you.'));
  await say(maya, chat.chat_id, 'Deal! Did you get a chance to look at the trip plan?');
  const last = await say(maya, chat.chat_id, 'The route along the coast looks amazing.');
  await read(leo, chat.chat_id, last);
  // Her page has seen Leo's read marker move (it keeps what it saw in localStorage).
  await m.page.waitForFunction(
    ([me, chatId, leoId, upTo]) => JSON.parse(localStorage.getItem(`messenger.receipts.${me}`) ?? '{}')[chatId]?.[leoId] >= upTo,
    [maya.user.user_id, chat.chat_id, leo.user.user_id, last.message_id],
    { polling: 100 },
  );
  // Three from Leo that Maya has not read yet: the divider goes above them.
  await say(leo, chat.chat_id, 'Just looked. Should we leave Saturday morning to beat the traffic?');
  await say(leo, chat.chat_id, 'I can pick you up at 8.');
  await say(leo, chat.chat_id, 'I booked the cabin by the lake for two nights, it has a fireplace and a canoe we can borrow.');

  // Leo has the chat open and is typing; Maya opens it.
  const l = await openPerson(browser, server.url, { name: 'leo' });
  await signIn(l.page, leo);
  await openChat(l.page, 'maya');
  await openChat(m.page, 'leo');
  await messageLocator(m.page, 'I booked the cabin by the lake for two nights, it has a fireplace and a canoe we can borrow.').waitFor();
  await m.page.getByTestId('unread-divider').waitFor();
  await messageLocator(m.page, 'The route along the coast looks amazing.').getByTestId('message-state').and(m.page.locator('[aria-label="Seen"]')).waitFor();
  await l.page.getByTestId('composer-input').fill('Can');
  await m.page.getByTestId('typing').waitFor();
  await m.page.mouse.move(0, 0);
  await m.page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());

  const desktop = path.join(outDir, 'screenshot.png');
  await m.page.screenshot({ path: desktop, animations: 'disabled' });
  await m.page.setViewportSize(PHONE);
  await m.page.getByTestId('chat-list').waitFor({ state: 'hidden' });
  await m.page.getByTestId('messages').evaluate((el) => {
    el.scrollTop = el.scrollHeight;
  });
  const phone = path.join(outDir, 'screenshot-phone.png');
  await m.page.screenshot({ path: phone, animations: 'disabled' });
  console.log(`wrote ${path.relative(process.cwd(), desktop)} and ${path.relative(process.cwd(), phone)}`);
  m.assertClean();
  l.assertClean();
} finally {
  await browser.close();
  await server.stop();
}
