// Renders docs/screenshot.png: a conversation in the web client at desktop width.
//
//   node tests/e2e/screenshot.mjs [output.png]
//
// Same server binary and Chromium as the tests (MESSENGER_SERVER_BIN, CHROMIUM_PATH; set
// MESSENGER_WEB_DIR to render the page from disk). The people and messages are made up.

import path from 'node:path';
import { apiPost, apiRegister, launchBrowser, messageLocator, openChat, openPerson, REPO_ROOT, savedMessage, startServer } from './lib/harness.mjs';

const out = path.resolve(process.argv[2] || path.join(REPO_ROOT, 'docs', 'screenshot.png'));
const server = await startServer();
const browser = await launchBrowser();
try {
  const pw = 'correct horse battery';
  const [maya, leo, sam, nora] = await Promise.all(
    [
      ['maya', '+14155550101'],
      ['leo', '+14155550102'],
      ['sam', '+14155550103'],
      ['nora', '+14155550104'],
    ].map(([username, phone]) => apiRegister(server.url, { username, phone, password: pw })),
  );
  const post = (who, route, body) => apiPost(server.url, who.token, route, body);
  let n = 0;
  const say = (who, chatId, text) => post(who, `/chats/${chatId}/messages`, { text, client_id: `s-${++n}` });

  // Other chats, for the list.
  const team = await post(nora, '/chats', { name: 'Design team', participants: [maya.user.user_id, leo.user.user_id] });
  await say(nora, team.chat_id, 'Pushed the new mockups for the onboarding flow.');
  const { chat: samChat } = await post(sam, `/users/${maya.user.user_id}/messages`, { text: 'Are we still on for Friday?', client_id: 's-sam' });
  await post(maya, `/chats/${samChat.chat_id}/read`, { message_id: samChat.last_message.message_id });
  await say(maya, samChat.chat_id, 'Yes! 7 pm at the usual place.');
  await say(leo, team.chat_id, "Looks great, I'll review them after lunch.");
  const { chat: nChat } = await post(nora, `/users/${maya.user.user_id}/messages`, { text: 'Can you send me the slides from today?', client_id: 's-n1' });
  await say(nora, nChat.chat_id, 'No rush, tomorrow is fine.');

  // The conversation itself.
  const { chat } = await post(leo, `/users/${maya.user.user_id}/messages`, { text: 'Morning! How was the concert yesterday?', client_id: 's-l1' });
  const lines = [
    [maya, 'So good. They played the whole first album\nand then three encores.'],
    [leo, 'Jealous. Next time I am coming with you.'],
    [leo, 'Did you get a chance to look at the trip plan?'],
    [maya, 'Just did. The route along the coast looks amazing.'],
    [maya, 'Should we leave Saturday morning to beat the traffic?'],
    [leo, 'Good idea. I can pick you up at 8.'],
    [leo, 'I booked the cabin by the lake for two nights, it has a fireplace and a canoe we can borrow.'],
    [maya, "Perfect. I'll bring snacks and the camera."],
  ];
  for (const [who, text] of lines) await say(who, chat.chat_id, text);

  // Leo has the chat open and is typing; Maya looks at it.
  const l = await openPerson(browser, server.url, { name: 'leo' });
  const m = await openPerson(browser, server.url, { name: 'maya', viewport: { width: 1280, height: 800 } });
  for (const [p, who] of [
    [l, leo],
    [m, maya],
  ]) {
    await p.page.goto('/');
    const form = p.page.getByTestId('signin-form');
    await form.getByLabel('Phone').fill(who.phone);
    await form.getByLabel('Password').fill(pw);
    await form.getByTestId('signin-submit').click();
    await p.page.getByTestId('app').waitFor();
  }
  await openChat(l.page, 'maya');
  await openChat(m.page, 'leo');
  await messageLocator(m.page, "Perfect. I'll bring snacks and the camera.").waitFor();

  // One edit, and one message sent from the page.
  const input = m.page.getByTestId('composer-input');
  await input.fill('See you Saturday!');
  await input.press('Enter');
  await savedMessage(m.page, 'See you Saturday!').waitFor();
  const edit = messageLocator(m.page, 'Should we leave Saturday morning to beat the traffic?');
  await edit.hover();
  await edit.getByRole('button', { name: 'Edit message' }).click();
  await input.fill('Should we leave early on Saturday to beat the traffic?');
  await input.press('Enter');
  await messageLocator(m.page, 'Should we leave early on Saturday to beat the traffic?').getByTestId('edited').waitFor();
  await messageLocator(l.page, 'See you Saturday!').waitFor();
  await l.page.getByTestId('composer-input').fill('Can');
  await m.page.getByTestId('typing').waitFor();
  await m.page.getByTestId('presence').waitFor({ state: 'hidden' });
  await m.page.mouse.move(0, 0);
  await m.page.getByTestId('composer-input').blur();

  await m.page.screenshot({ path: out, animations: 'disabled' });
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
  m.assertClean();
  l.assertClean();
} finally {
  await browser.close();
  await server.stop();
}
