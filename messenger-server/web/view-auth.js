// @ts-check
// Sign in and sign up: the two forms. Every field's problem shows at once, under its field: the
// protocol's rules are checked here first, and whatever the server still refuses goes under the
// field it names.

import { ApiError, ErrorCode } from './messenger-client.js';
import { $, $as } from './dom.js';
import { capitalise, errorText } from './format.js';
import { client, notify } from './state.js';
import { signInProblems, signUpProblems } from './validation.js';
/** @import {FieldErrors} from './validation.js' */

const authEl = $('#auth');
const signinForm = $as('#signin-form', HTMLFormElement);
const signupForm = $as('#signup-form', HTMLFormElement);

/**
 * Shows the sign-in (or sign-up) page, with a notice above the button if given.
 * @param {'signin' | 'signup'} [mode]
 * @param {string} [notice]
 */
export function showAuth(mode = 'signin', notice = '') {
  $('#app').hidden = true;
  authEl.hidden = false;
  document.title = 'Messenger';
  const form = mode === 'signup' ? signupForm : signinForm;
  signinForm.hidden = mode !== 'signin';
  signupForm.hidden = mode !== 'signup';
  $('#auth-subtitle').textContent = mode === 'signup' ? 'Create your account' : 'Sign in to continue';
  clearFormErrors(form);
  if (notice) $('.form-error', form).textContent = notice;
  field(form, 'phone')?.focus();
}

export function hideAuth() {
  authEl.hidden = true;
}

/**
 * A form's input by name.
 * @param {HTMLFormElement} form
 * @param {string} name
 */
function field(form, name) {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement ? el : null;
}

/** @param {HTMLFormElement} form */
function clearFormErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) el.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/**
 * @param {HTMLFormElement} form
 * @param {string} name
 * @param {string} text
 */
function setFieldError(form, name, text) {
  const input = field(form, name);
  if (!input) {
    $('.form-error', form).textContent = text;
    return;
  }
  $(`#${input.id}-error`).textContent = text;
  input.setAttribute('aria-invalid', 'true');
}

/** Focuses the first field marked invalid (in the form's order). @param {HTMLFormElement} form */
function focusFirstInvalid(form) {
  const invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid instanceof HTMLElement) invalid.focus();
}

/**
 * Puts a server error next to the field it is about.
 * @param {HTMLFormElement} form
 * @param {ApiError} e
 */
function showAuthError(form, e) {
  switch (e.code) {
    case ErrorCode.INVALID_INPUT: {
      const name = e.field;
      if (name && field(form, name)) setFieldError(form, name, capitalise(e.detail) + '.');
      else $('.form-error', form).textContent = capitalise(e.message || 'Please check the form.');
      break;
    }
    case ErrorCode.PHONE_TAKEN:
      setFieldError(form, 'phone', 'This phone number is already registered. Sign in instead?');
      break;
    case ErrorCode.USERNAME_TAKEN:
      setFieldError(form, 'username', 'This username is already taken. Try another one.');
      break;
    case ErrorCode.INVALID_CREDENTIALS:
      $('.form-error', form).textContent = 'Wrong phone number or password.';
      field(form, 'password')?.setAttribute('aria-invalid', 'true');
      break;
    case ErrorCode.ACCOUNT_DISABLED:
      $('.form-error', form).textContent = 'This account has been disabled.';
      break;
    case ErrorCode.RATE_LIMITED:
      $('.form-error', form).textContent = 'Too many attempts. Please wait a little and try again.';
      break;
    default:
      $('.form-error', form).textContent = errorText(e);
  }
  focusFirstInvalid(form);
}

/**
 * @param {HTMLFormElement} form
 * @param {'signin' | 'signup'} mode
 */
async function submitAuth(form, mode) {
  clearFormErrors(form);
  const value = (/** @type {string} */ name) => field(form, name)?.value ?? '';
  const phone = value('phone').trim();
  const username = value('username').trim();
  const password = value('password');
  /** @type {FieldErrors} */
  const problems = mode === 'signup' ? signUpProblems({ phone, username, password }) : signInProblems({ phone, password });
  const names = /** @type {(keyof FieldErrors)[]} */ (Object.keys(problems));
  if (names.length) {
    for (const name of names) setFieldError(form, name, problems[name] ?? '');
    focusFirstInvalid(form);
    return;
  }
  const button = $as('button[type="submit"]', HTMLButtonElement, form);
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const res = mode === 'signup' ? await client.register({ phone, username, password }) : await client.login({ phone, password });
    form.reset();
    notify('signedIn', res);
  } catch (e) {
    showAuthError(form, e instanceof ApiError ? e : new ApiError(0, 'client', String(e)));
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  submitAuth(signinForm, 'signin');
});
signupForm.addEventListener('submit', (e) => {
  e.preventDefault();
  submitAuth(signupForm, 'signup');
});
for (const form of [signinForm, signupForm]) {
  form.addEventListener('input', (e) => {
    const input = e.target;
    if (input instanceof HTMLElement && input.getAttribute('aria-invalid')) {
      input.removeAttribute('aria-invalid');
      const err = document.getElementById(`${input.id}-error`);
      if (err) err.textContent = '';
    }
  });
}
$('#to-signup').addEventListener('click', () => showAuth('signup'));
$('#to-signin').addEventListener('click', () => showAuth('signin'));
