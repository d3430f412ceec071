// Shared helpers of the end-to-end tests: a real messenger server on port 0, Chromium driven by
// playwright-core, a TCP proxy that can cut connections, and a few page-level steps.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(E2E_DIR, '..', '..');

/** Timeout of one wait on the page (selectors, conditions). */
export const WAIT = 15_000;
/** Timeout of one test. */
export const TEST_TIMEOUT = 90_000;

// ---------------------------------------------------------------------------------------------
// The server

export function serverBinary() {
  let bin = process.env.MESSENGER_SERVER_BIN;
  if (!bin) {
    const target = process.env.CARGO_TARGET_DIR || 'target';
    bin = path.join(path.resolve(REPO_ROOT, target), 'debug', 'messenger-server');
  }
  bin = path.resolve(REPO_ROOT, bin);
  if (!existsSync(bin)) {
    throw new Error(
      `messenger-server binary not found at ${bin}.\n` +
        'Build it with `cargo build -p messenger-server`, or point MESSENGER_SERVER_BIN at it.',
    );
  }
  return bin;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * Starts a server on 127.0.0.1:0 with the in-memory storage. The parent environment is passed
 * through (so MESSENGER_WEB_DIR can be set while developing the page); the harness itself sets
 * only the address and makes sure the "listening" line is logged.
 */
export async function startServer({ env = {} } = {}) {
  const bin = serverBinary();
  const rustLog = process.env.RUST_LOG ? `${process.env.RUST_LOG},messenger_server::app=info` : 'warn,messenger_server::app=info';
  const child = spawn(bin, [], {
    env: { ...process.env, MESSENGER_ADDR: '127.0.0.1:0', NO_COLOR: '1', RUST_LOG: rustLog, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let resolveUrl, rejectUrl;
  const urlPromise = new Promise((res, rej) => {
    resolveUrl = res;
    rejectUrl = rej;
  });
  const onData = (chunk) => {
    for (const raw of chunk.toString().split('\n')) {
      const line = raw.replace(ANSI, '');
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 400) lines.shift();
      const m = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (m) resolveUrl(m[1].replace(/\/$/, ''));
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => rejectUrl(new Error(`messenger-server exited early (${code ?? signal}):\n${lines.join('\n')}`)));
  child.on('error', rejectUrl);
  const timer = setTimeout(() => rejectUrl(new Error(`messenger-server did not report its address within 20 s:\n${lines.join('\n')}`)), 20_000);
  let url;
  try {
    url = await urlPromise;
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    logs: () => lines.join('\n'),
    async stop() {
      if (child.exitCode != null || child.signalCode != null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The browser

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('Chromium not found: install it or set CHROMIUM_PATH.');
  return found;
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
}

/**
 * A person using the app: their own browser context (fresh storage), one page, and a record of
 * console errors and page errors (a CSP violation is a console error) that tests assert empty.
 */
export async function openPerson(browser, baseUrl, { viewport = { width: 1280, height: 800 }, name = 'person', colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, colorScheme });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // A dropped connection is logged by the browser itself; those are expected in some tests.
    if (/WebSocket connection to .* failed|net::ERR_|Failed to load resource/.test(text)) return;
    problems.push(`[${name}] console error: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`[${name}] page error: ${err.message}`));
  return {
    context,
    page,
    problems,
    assertClean() {
      assert.deepEqual(problems, [], `no console or page errors expected:\n${problems.join('\n')}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Users

let counter = 0;
export function newIdentity(prefix) {
  counter += 1;
  const rand = Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, '0');
  const digits = `${rand}${counter % 10}`;
  return {
    username: `${prefix}_${rand}${counter}`.slice(0, 32),
    phone: `+1555${digits}`,
    password: 'correct horse battery',
  };
}

/** Signs up through the page; waits for the chat list. */
export async function signUp(page, who) {
  await page.goto('/');
  const form = page.getByTestId('signin-form');
  await form.waitFor();
  await page.getByTestId('to-signup').click();
  const signup = page.getByTestId('signup-form');
  await signup.getByLabel('Phone').fill(who.phone);
  await signup.getByLabel('Username').fill(who.username);
  await signup.getByLabel('Password').fill(who.password);
  await signup.getByTestId('signup-submit').click();
  await page.getByTestId('app').waitFor();
  await assertText(page.getByTestId('me-name'), who.username);
}

/** Signs in through the page; waits for the chat list. */
export async function signIn(page, who) {
  await page.goto('/');
  const form = page.getByTestId('signin-form');
  await form.getByLabel('Phone').fill(who.phone);
  await form.getByLabel('Password').fill(who.password);
  await form.getByTestId('signin-submit').click();
  await page.getByTestId('app').waitFor();
  await assertText(page.getByTestId('me-name'), who.username);
}

/**
 * People who each signed up through the page, in a browser context of their own, in order:
 * `[person, identity]` pairs. A spec is a name (`'ann'`), or `{ name, label, options }` to open
 * the person with `person(label, options)` (a viewport, a base URL through a proxy).
 */
export async function signedUpPeople(person, specs) {
  const people = [];
  for (const spec of specs) {
    const { name, label = name, options } = typeof spec === 'string' ? { name: spec } : spec;
    people.push([await person(label, options), newIdentity(name)]);
  }
  for (const [p, who] of people) await signUp(p.page, who);
  return people;
}

/** Registers over HTTP (for people who never open a browser in a test). */
export async function apiRegister(baseUrl, who) {
  const res = await fetch(`${baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  assert.equal(res.status, 201, `register ${who.username}: ${await res.clone().text()}`);
  const body = await res.json();
  return { ...who, token: body.token, user: body.user };
}

export async function apiPost(baseUrl, token, route, body) {
  const res = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `POST ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Waits until the element (the first match of `locator`) contains `expected`. */
export async function assertText(locator, expected) {
  await locator.filter({ hasText: expected }).first().waitFor();
}

/** Waits until `fn` (run in the page) returns a truthy value, and returns it. */
export async function until(page, fn, arg, timeout = WAIT) {
  const handle = await page.waitForFunction(fn, arg, { timeout, polling: 'raf' });
  return handle.jsonValue();
}

/** Opens the people page, searches for `username` and starts a direct chat with a first message. */
export async function messageFromPeople(page, username, text) {
  await page.getByTestId('new-chat').click();
  const people = page.getByTestId('people');
  await people.waitFor();
  await people.getByLabel('Search people', { exact: true }).fill(username);
  await people.getByRole('button', { name: `Message ${username}` }).click();
  const dm = page.getByTestId('dm-form');
  await dm.waitFor();
  await dm.getByRole('textbox', { name: 'First message' }).fill(text);
  await dm.getByRole('textbox', { name: 'First message' }).press('Enter');
  await page.getByTestId('conversation').waitFor();
  await messageLocator(page, text).waitFor();
}

/** The message bubble of the open conversation whose text is exactly `text`. */
export function messageLocator(page, text) {
  return page
    .getByTestId('conversation')
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

/** The same, once the server has acknowledged it (data-state="saved"). */
export function savedMessage(page, text) {
  return messageLocator(page, text).and(page.locator('[data-state="saved"]'));
}

/** Opens the chat named `name` from the chat list. */
export async function openChat(page, name) {
  await page.getByTestId('chat-list').getByTestId('chat-item').filter({ has: page.getByTestId('chat-name').getByText(name, { exact: true }) }).click();
  await assertText(page.getByTestId('chat-title'), name);
}

/** Types and sends a message in the open conversation (Enter). */
export async function send(page, text) {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/** The texts of the open conversation's messages, in page order. */
export async function messageTexts(page) {
  return page.getByTestId('conversation').getByTestId('message-text').allTextContents();
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy in front of the server, to cut the browser's connections on demand.

export async function startProxy(targetPort) {
  const sockets = new Set();
  let up = true;
  // Stalled: connections stay open but nothing gets through, in either direction (a network cut
  // that sends no close, as when a router loses its uplink).
  let stalled = false;
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.on('data', (d) => stalled || upstream.write(d));
    upstream.on('data', (d) => stalled || client.write(d));
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Cuts every proxied connection and refuses new ones until restore(). */
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    /** Lets nothing through, without closing anything, until restore(). */
    stall() {
      stalled = true;
    },
    /** Lets connections through again; stalled ones are closed (they would have timed out). */
    restore() {
      up = true;
      if (stalled) {
        stalled = false;
        for (const s of sockets) s.destroy();
        sockets.clear();
      }
    },
    async close() {
      up = false;
      for (const s of sockets) s.destroy();
      await new Promise((res) => server.close(res));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A test file: one server and one browser for the file, a fresh browser context per person.

/**
 * Declares the file's server and browser, and returns `scenario(name, fn)`, which declares a test.
 * `fn` gets `{server, person}`; `person(label, opts)` opens a new browser context. After the test,
 * every person's page must have logged no console or page error (CSP violations included). On a
 * failure, screenshots and the server log go to test-results/.
 */
export function e2eSuite() {
  const env = { server: null, browser: null };
  before(
    async () => {
      env.server = await startServer();
      env.browser = await launchBrowser();
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await env.browser?.close().catch(() => {});
    await env.server?.stop();
  });
  function scenario(name, fn) {
    test(name, { timeout: TEST_TIMEOUT }, async () => {
      const people = [];
      const person = async (label, opts = {}) => {
        const p = await openPerson(env.browser, opts.baseUrl || env.server.url, { ...opts, name: label });
        people.push(p);
        return p;
      };
      try {
        await fn({ server: env.server, person });
        for (const p of people) p.assertClean();
      } catch (e) {
        await saveArtifacts(name, people, env.server).catch(() => {});
        throw e;
      } finally {
        for (const p of people) await p.context.close().catch(() => {});
      }
    });
  }
  return { env, scenario };
}

async function saveArtifacts(name, people, server) {
  const dir = path.join(E2E_DIR, 'test-results', name.replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 80));
  mkdirSync(dir, { recursive: true });
  for (const [i, p] of people.entries()) {
    await p.page.screenshot({ path: path.join(dir, `person-${i + 1}.png`), fullPage: true }).catch(() => {});
  }
  writeFileSync(path.join(dir, 'server.log'), server?.logs() ?? '');
  process.stderr.write(`  artifacts of the failed test: ${path.relative(process.cwd(), dir)}/\n`);
}

/**
 * Records every data-state a message with this text takes in the open conversation (the
 * MutationObserver runs in a microtask, so the state at insertion is seen before any ack).
 */
export async function recordStates(page, text) {
  await page.evaluate((want) => {
    window.__states = [];
    const log = document.querySelector('[data-testid="messages"]');
    const record = (el) => {
      if (el.nodeType !== 1 || !el.matches('[data-testid="message"]')) return;
      if (el.querySelector('[data-testid="message-text"]')?.textContent !== want) return;
      window.__states.push(el.dataset.state);
    };
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        if (m.type === 'childList') m.addedNodes.forEach(record);
        else record(m.target);
      }
    }).observe(log, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
  }, text);
  return async () => page.evaluate(() => window.__states);
}

/** The signed-in user's token, as the page keeps it. */
export async function tokenOf(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('messenger.session')).token);
}
