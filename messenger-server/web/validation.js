// @ts-check
// The protocol's validation rules for the sign-up and sign-in forms (docs/protocol.md §3), so that
// every field's problem shows at once instead of one per round trip. The server stays the judge:
// these only catch what it would refuse anyway. No DOM, no imports.

/** @typedef {{phone?: string, username?: string, password?: string}} FieldErrors field → what is wrong */

/** What the server strips from a phone before checking it. */
const PHONE_NOISE = /[\s\-()[\]]/g;

/** `+` and 7-15 digits once spaces, dashes and brackets are gone; '' when fine. @param {string} raw */
export function phoneProblem(raw) {
  const compact = raw.replace(PHONE_NOISE, '');
  if (!compact) return 'Enter your phone number.';
  if (!compact.startsWith('+')) return 'Start with + and the country code, e.g. +44 20 7946 0958.';
  if (!/^\+\d{7,15}$/.test(compact)) return 'Use + and 7-15 digits.';
  return '';
}

/** 3-32 of letters, digits, `_` and `.`; '' when fine. @param {string} name */
export function usernameProblem(name) {
  if (!name) return 'Choose a username.';
  if (!/^[A-Za-z0-9_.]*$/.test(name)) return 'Use only letters, digits, _ and . (3-32 of them, no spaces).';
  if (name.length < 3 || name.length > 32) return 'Use 3-32 letters, digits, _ or .';
  return '';
}

/** 8-128 characters (Unicode characters, not UTF-16 units); '' when fine. @param {string} password */
export function passwordProblem(password) {
  const n = [...password].length;
  if (n === 0) return 'Choose a password.';
  if (n < 8 || n > 128) return 'Use 8-128 characters.';
  return '';
}

/**
 * Every problem of a sign-up, at once.
 * @param {{phone: string, username: string, password: string}} form username already trimmed
 * @returns {FieldErrors}
 */
export function signUpProblems({ phone, username, password }) {
  /** @type {FieldErrors} */
  const out = {};
  const p = phoneProblem(phone);
  const u = usernameProblem(username);
  const w = passwordProblem(password);
  if (p) out.phone = p;
  if (u) out.username = u;
  if (w) out.password = w;
  return out;
}

/**
 * A sign-in only needs both fields filled: a malformed phone is just a wrong one there, and the
 * server does not say which of the two is wrong.
 * @param {{phone: string, password: string}} form
 * @returns {FieldErrors}
 */
export function signInProblems({ phone, password }) {
  /** @type {FieldErrors} */
  const out = {};
  if (!phone.replace(PHONE_NOISE, '')) out.phone = 'Enter your phone number.';
  if (!password) out.password = 'Enter your password.';
  return out;
}
