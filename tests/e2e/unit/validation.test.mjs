// Unit tests of the sign-up and sign-in checks (messenger-server/web/validation.js): the
// protocol's rules (docs/protocol.md §3), every problem at once.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  passwordProblem,
  phoneProblem,
  signInProblems,
  signUpProblems,
  usernameProblem,
} from '../../../messenger-server/web/validation.js';

describe('phone', () => {
  test('+ and 7-15 digits, once spaces, dashes and brackets are gone', () => {
    for (const ok of ['+1234567', '+123456789012345', '+1 (555) 123-4567', '+44 20 7946 0958', '+1-555-[123]-4567']) {
      assert.equal(phoneProblem(ok), '', ok);
    }
  });
  test('without + it asks for the country code; a wrong length or a letter is refused', () => {
    assert.match(phoneProblem('5551234567'), /country code/);
    for (const bad of ['+123456', '+1234567890123456', '+1555abc4567', '++15551234567']) assert.match(phoneProblem(bad), /7-15 digits/, bad);
    assert.match(phoneProblem('  '), /Enter your phone/);
  });
});

describe('username', () => {
  test('3-32 of letters, digits, _ and .', () => {
    for (const ok of ['abc', 'Ann_B.2', 'x'.repeat(32)]) assert.equal(usernameProblem(ok), '', ok);
    for (const bad of ['ab', 'x'.repeat(33), 'no spaces', 'émile', 'a-b']) assert.match(usernameProblem(bad), /3-32/, bad);
    assert.match(usernameProblem(''), /Choose a username/);
  });
});

describe('password', () => {
  test('8-128 characters, counted as characters, not UTF-16 units', () => {
    assert.equal(passwordProblem('12345678'), '');
    assert.equal(passwordProblem('😀'.repeat(128)), '', '128 emoji are 256 UTF-16 units but 128 characters');
    assert.match(passwordProblem('😀'.repeat(4)), /8-128/, '4 emoji are 8 UTF-16 units but 4 characters');
    assert.match(passwordProblem('x'.repeat(129)), /8-128/);
    assert.match(passwordProblem(''), /Choose a password/);
  });
});

describe('forms', () => {
  test('sign-up reports every field at once', () => {
    assert.deepEqual(Object.keys(signUpProblems({ phone: '123', username: 'a b', password: 'short' })), ['phone', 'username', 'password']);
    assert.deepEqual(signUpProblems({ phone: '+15551234567', username: 'ann', password: 'correct horse' }), {});
  });
  test('sign-in only needs both fields filled', () => {
    assert.deepEqual(Object.keys(signInProblems({ phone: '', password: '' })), ['phone', 'password']);
    assert.deepEqual(signInProblems({ phone: '123', password: 'x' }), {}, 'a malformed phone is just a wrong one');
  });
});
