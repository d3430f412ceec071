// Accounts: the server's validation errors appear next to the right field; sign-in, sign-out,
// and a dead token all end on the sign-in screen.

import assert from 'node:assert/strict';
import { apiRegister, assertText, e2eSuite, newIdentity, signUp, tokenOf } from '../lib/harness.mjs';

const { scenario } = e2eSuite();

/** The error text under each field of a form ('' when none). */
async function fieldErrors(form) {
  const out = {};
  for (const f of ['phone', 'username', 'password']) {
    const el = form.getByTestId(`${f}-error`);
    if (await el.count()) out[f] = (await el.textContent()).trim();
  }
  out.form = (await form.getByTestId('form-error').textContent()).trim();
  return out;
}

scenario('validation errors appear next to the right field', async ({ server, person }) => {
  const taken = await apiRegister(server.url, newIdentity('taken'));
  const p = await person('visitor');
  const { page } = p;
  await page.goto('/');
  await page.getByTestId('to-signup').click();
  const form = page.getByTestId('signup-form');
  await form.waitFor();
  const me = newIdentity('new');
  const phone = form.getByLabel('Phone');
  const username = form.getByLabel('Username');
  const password = form.getByLabel('Password');
  const submit = form.getByTestId('signup-submit');

  // A short password: the error is under the password field, and only there.
  await phone.fill(me.phone);
  await username.fill(me.username);
  await password.fill('short');
  await submit.click();
  await assertText(form.getByTestId('password-error'), '8-128');
  let errors = await fieldErrors(form);
  assert.equal(errors.phone, '');
  assert.equal(errors.username, '');
  assert.equal(errors.form, '');
  assert.equal(await password.getAttribute('aria-invalid'), 'true');
  assert.ok(await password.evaluate((el) => el === document.activeElement), 'the invalid field gets the focus');

  // Typing in the field clears its error.
  await password.fill(me.password);
  assert.equal((await form.getByTestId('password-error').textContent()).trim(), '');

  // A phone without the country code.
  await phone.fill('12345');
  await submit.click();
  await assertText(form.getByTestId('phone-error'), 'country code');
  errors = await fieldErrors(form);
  assert.equal(errors.username, '');
  assert.equal(errors.password, '');

  // A bad username.
  await phone.fill(me.phone);
  await username.fill('no spaces allowed');
  await submit.click();
  await assertText(form.getByTestId('username-error'), '3-32');

  // A username already taken (ignoring case), then a phone already registered.
  await username.fill(taken.username.toUpperCase());
  await submit.click();
  await assertText(form.getByTestId('username-error'), 'already taken');
  assert.equal((await form.getByTestId('phone-error').textContent()).trim(), '');
  await username.fill(me.username);
  await phone.fill(taken.phone);
  await submit.click();
  await assertText(form.getByTestId('phone-error'), 'already registered');
  assert.equal((await form.getByTestId('username-error').textContent()).trim(), '');

  // Sign-in with a wrong password: one message for the form (the server does not say which).
  await page.getByTestId('to-signin').click();
  const signin = page.getByTestId('signin-form');
  await signin.getByLabel('Phone').fill(taken.phone);
  await signin.getByLabel('Password').fill('not the password');
  await signin.getByTestId('signin-submit').click();
  await assertText(signin.getByTestId('form-error'), 'Wrong phone number or password');

  // The right one signs in; a phone typed with spaces and brackets is fine.
  const spaced = `${taken.phone.slice(0, 2)} (${taken.phone.slice(2, 5)}) ${taken.phone.slice(5, 8)}-${taken.phone.slice(8)}`;
  await signin.getByLabel('Phone').fill(spaced);
  await signin.getByLabel('Password').fill(taken.password);
  await signin.getByTestId('signin-submit').click();
  await assertText(page.getByTestId('me-name'), taken.username);
});

scenario('sign-up shows every field’s problem at once, before asking the server', async ({ server, person }) => {
  const taken = await apiRegister(server.url, newIdentity('taken'));
  const { page } = await person('visitor');
  const registers = [];
  page.on('request', (r) => r.url().endsWith('/register') && registers.push(r.url()));
  await page.goto('/');
  await page.getByTestId('to-signup').click();
  const form = page.getByTestId('signup-form');
  const phone = form.getByLabel('Phone');
  const username = form.getByLabel('Username');
  const password = form.getByLabel('Password');
  const submit = form.getByTestId('signup-submit');

  // Three bad fields, one submit: three errors, the first bad field focused, nothing sent.
  await phone.fill('12345');
  await username.fill('no spaces allowed');
  await password.fill('short');
  await submit.click();
  await assertText(form.getByTestId('phone-error'), 'country code');
  let errors = await fieldErrors(form);
  assert.match(errors.username, /3-32/);
  assert.match(errors.password, /8-128/);
  assert.equal(errors.form, '');
  for (const input of [phone, username, password]) assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.ok(await phone.evaluate((el) => el === document.activeElement), 'the first invalid field gets the focus');
  assert.deepEqual(registers, []);

  // Fixing one leaves the other two said; an empty form says what each field needs.
  await phone.fill(taken.phone);
  await submit.click();
  errors = await fieldErrors(form);
  assert.equal(errors.phone, '');
  assert.match(errors.username, /3-32/);
  assert.match(errors.password, /8-128/);
  assert.ok(await username.evaluate((el) => el === document.activeElement));
  for (const input of [phone, username, password]) await input.fill('');
  await submit.click();
  errors = await fieldErrors(form);
  assert.ok(errors.phone && errors.username && errors.password, JSON.stringify(errors));
  assert.deepEqual(registers, []);

  // What only the server knows goes under its field too: a phone already registered.
  await phone.fill(taken.phone);
  await username.fill(newIdentity('new').username);
  await password.fill('correct horse battery');
  await submit.click();
  await assertText(form.getByTestId('phone-error'), 'already registered');
  assert.equal(registers.length, 1);
  assert.ok(await phone.evaluate((el) => el === document.activeElement));

  // Sign-in: both empty fields said at once.
  await page.getByTestId('to-signin').click();
  const signin = page.getByTestId('signin-form');
  await signin.getByTestId('signin-submit').click();
  await assertText(signin.getByTestId('phone-error'), 'phone');
  await assertText(signin.getByTestId('password-error'), 'password');
});

scenario('sign-out returns to the sign-in screen and revokes the token', async ({ server, person }) => {
  const p = await person('ann');
  const { page } = p;
  const me = newIdentity('ann');
  await signUp(page, me);
  const token = await tokenOf(page);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByTestId('signin-form').waitFor();
  assert.equal(await page.getByTestId('app').isVisible(), false);
  assert.ok(await page.getByTestId('signin-form').getByLabel('Phone').evaluate((el) => el === document.activeElement));

  // The token is revoked on the server, and a reload stays signed out.
  await page.waitForFunction(
    async ([url, t]) => (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${t}` } })).status === 401,
    [server.url, token],
    { polling: 100 },
  );
  await page.reload();
  await page.getByTestId('signin-form').waitFor();

  // Signing in again works.
  await page.getByTestId('signin-form').getByLabel('Phone').fill(me.phone);
  await page.getByTestId('signin-form').getByLabel('Password').fill(me.password);
  await page.getByTestId('signin-submit').click();
  await assertText(page.getByTestId('me-name'), me.username);
});

scenario('a dead token in storage leads back to sign-in', async ({ person }) => {
  const { page } = await person('ann');
  await signUp(page, newIdentity('ann'));
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('messenger.session'));
    s.token = 'not-a-valid-token';
    localStorage.setItem('messenger.session', JSON.stringify(s));
  });
  await page.reload();
  await page.getByTestId('signin-form').waitFor();
  await assertText(page.getByTestId('signin-form').getByTestId('form-error'), 'session has ended');
});
