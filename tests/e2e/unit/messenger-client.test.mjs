// Unit tests of the web client's protocol module (messenger-server/web/messenger-client.js) under
// Node's own test runner, with a fake fetch and a fake WebSocket injected and mocked timers.

import assert from 'node:assert/strict';
import { beforeEach, afterEach, describe, mock, test } from 'node:test';
import {
  ANSWER_WITHIN_MS,
  ApiError,
  CHANGES_FRAME,
  CURSOR_FRAMES,
  CloseCode,
  ErrorCode,
  MAX_BACKOFF_MS,
  MessengerClient,
  PROBE_AFTER_MS,
  PROBE_FRAME,
  QUICK_RETRY_MS,
  ReconnectingSocket,
  SINCE_PARAM,
  backoffDelay,
  expectsAnswer,
  parseError,
  shouldReconnect,
} from '../../../messenger-server/web/messenger-client.js';

// ---------------------------------------------------------------------------------------------
// Fakes

/** A WebSocket that the test drives: the "server" side opens, sends and closes it. */
class FakeSocket {
  /** @type {FakeSocket[]} */
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    FakeSocket.all.push(this);
  }
  send(data) {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }
  close(code) {
    this.closedWith = code;
    this.readyState = 3;
    // A real socket reports its close later, whoever closed it.
    queueMicrotask(() => this.onclose?.({ code }));
  }
  serverOpen() {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverSend(frame) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  serverClose(code) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

const last = () => FakeSocket.all.at(-1);
/** Lets pending promise callbacks run (setImmediate is not mocked). */
const flush = () => new Promise((res) => setImmediate(res));
/** Jitter-free backoff: random() = 0.5 gives exactly the base delay. */
const half = () => 0.5;

/** A fetch that records its calls and answers from `answer(url, init)`. */
function fakeFetch(answer) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, init });
    return answer(url, init);
  };
  fn.calls = calls;
  return fn;
}
function respond(status, body, statusText = '') {
  return new Response(body == null ? null : typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    statusText,
  });
}

/** A socket on a fake server with every callback recorded. */
function recordedSocket(extra = {}) {
  const log = { frames: [], downs: [], stops: [], opens: 0 };
  const socket = new ReconnectingSocket({
    url: () => 'ws://server/events?token=t',
    WebSocket: FakeSocket,
    random: half,
    onFrame: (f) => log.frames.push(f),
    onOpen: () => log.opens++,
    onDown: (info) => log.downs.push(info),
    onStop: (code) => log.stops.push(code),
    ...extra,
  });
  return { socket, log };
}

beforeEach(() => {
  FakeSocket.all = [];
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
});
afterEach(() => {
  mock.timers.reset();
});

// ---------------------------------------------------------------------------------------------
// Named codes

describe('named codes', () => {
  test('close codes are the protocol’s', () => {
    assert.equal(CloseCode.NORMAL, 1000);
    assert.equal(CloseCode.GOING_AWAY, 1001);
    assert.equal(CloseCode.TOKEN_REVOKED, 4001);
    assert.equal(CloseCode.CHAT_GONE, 4003);
    assert.equal(CloseCode.SLOW_CONSUMER, 4008);
    assert.ok(Object.isFrozen(CloseCode));
  });

  test('only a revoked token and a gone chat forbid reconnecting', () => {
    assert.equal(shouldReconnect(CloseCode.TOKEN_REVOKED), false);
    assert.equal(shouldReconnect(CloseCode.CHAT_GONE), false);
    for (const code of [1000, 1001, 1006, 1011, CloseCode.SLOW_CONSUMER]) assert.equal(shouldReconnect(code), true, `code ${code}`);
  });

  test('error codes are the protocol’s snake_case strings', () => {
    assert.equal(ErrorCode.INVALID_INPUT, 'invalid_input');
    assert.equal(ErrorCode.PHONE_TAKEN, 'phone_taken');
    assert.equal(ErrorCode.RATE_LIMITED, 'rate_limited');
    assert.equal(ErrorCode.NOT_FOUND, 'not_found');
    for (const code of Object.values(ErrorCode)) assert.match(code, /^[a-z]+(_[a-z]+)*$/);
  });
});

// ---------------------------------------------------------------------------------------------
// Error bodies

describe('parseError', () => {
  test('the protocol’s body gives the named code, the message and the field', () => {
    const e = parseError(400, JSON.stringify({ error: { code: 'invalid_input', message: 'phone: must be + and 7-15 digits' } }));
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 400);
    assert.equal(e.code, ErrorCode.INVALID_INPUT);
    assert.equal(e.message, 'phone: must be + and 7-15 digits');
    assert.equal(e.field, 'phone');
    assert.equal(e.detail, 'must be + and 7-15 digits');
  });

  test('a field is only read from invalid_input', () => {
    const e = parseError(409, JSON.stringify({ error: { code: 'phone_taken', message: 'phone: already registered' } }));
    assert.equal(e.code, ErrorCode.PHONE_TAKEN);
    assert.equal(e.field, null);
  });

  test('a body that is not the protocol’s becomes http_<status> with the status text', () => {
    const e = parseError(502, '<html>Bad gateway</html>', 'Bad Gateway');
    assert.equal(e.code, 'http_502');
    assert.equal(e.message, 'Bad Gateway');
    assert.equal(parseError(503, '').message, 'HTTP 503');
    assert.equal(parseError(500, JSON.stringify({ error: 'nope' })).code, 'http_500');
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP

describe('HTTP calls', () => {
  test('the token goes in the Authorization header, bodies as JSON', async () => {
    const fetch = fakeFetch(() => respond(200, { chat_id: 7, name: 'Team' }));
    const client = new MessengerClient({ baseUrl: 'http://server:8080/', token: 'tok-1', fetch });
    const chat = await client.renameChat(7, 'Team');
    assert.deepEqual(chat, { chat_id: 7, name: 'Team' });
    const [{ url, init }] = fetch.calls;
    assert.equal(url, 'http://server:8080/chats/7');
    assert.equal(init.method, 'PATCH');
    assert.equal(init.headers.authorization, 'Bearer tok-1');
    assert.equal(init.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(init.body), { name: 'Team' });
  });

  test('a GET has no body and no content type; an empty answer is null', async () => {
    const fetch = fakeFetch(() => respond(204, null));
    const client = new MessengerClient({ token: 'tok', fetch });
    assert.equal(await client.deleteChat(3), null);
    const { url, init } = fetch.calls[0];
    assert.equal(url, '/chats/3');
    assert.equal(init.body, undefined);
    assert.equal(init.headers['content-type'], undefined);
  });

  test('sign-in sends no token, even when one is set', async () => {
    const fetch = fakeFetch(() => respond(200, { token: 'new', user: { user_id: 1, username: 'ann' } }));
    const client = new MessengerClient({ token: 'old', fetch });
    const res = await client.login({ phone: '+15550001', password: 'pw' });
    assert.equal(res.token, 'new');
    assert.equal(fetch.calls[0].init.headers.authorization, undefined);
  });

  test('logout can revoke a token other than the current one', async () => {
    const fetch = fakeFetch(() => respond(204, null));
    const client = new MessengerClient({ token: null, fetch });
    await client.logout('gone-token');
    assert.equal(fetch.calls[0].init.method, 'POST');
    assert.equal(fetch.calls[0].init.headers.authorization, 'Bearer gone-token');
  });

  test('query strings are encoded', async () => {
    const fetch = fakeFetch(() => respond(200, []));
    const client = new MessengerClient({ token: 't', fetch });
    await client.searchUsers('+1 555&x', 5);
    await client.messages(7, { before: 40, limit: 30 });
    await client.messages(7);
    assert.deepEqual(
      fetch.calls.map((c) => c.url),
      ['/users?q=%2B1%20555%26x&limit=5', '/chats/7/messages?before=40&limit=30', '/chats/7/messages'],
    );
  });

  test('an error answer rejects with the named code', async () => {
    const fetch = fakeFetch(() => respond(409, { error: { code: 'username_taken', message: 'username: taken' } }));
    const client = new MessengerClient({ fetch });
    await assert.rejects(client.register({ phone: '+1555', username: 'ann', password: 'pw' }), (e) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 409);
      assert.equal(e.code, ErrorCode.USERNAME_TAKEN);
      return true;
    });
  });

  test('no answer at all is status 0, code network', async () => {
    const fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    const client = new MessengerClient({ token: 't', fetch });
    await assert.rejects(client.chats(), (e) => e instanceof ApiError && e.status === 0 && e.code === ErrorCode.NETWORK);
  });

  test('a 401 on an authenticated call reports the token it used', async () => {
    const seen = [];
    const fetch = fakeFetch(() => respond(401, { error: { code: 'unauthorized', message: 'token revoked' } }));
    const client = new MessengerClient({ token: 'dead', fetch, onUnauthorized: (t) => seen.push(t) });
    await assert.rejects(client.me(), (e) => e.code === ErrorCode.UNAUTHORIZED);
    assert.deepEqual(seen, ['dead']);
    // A wrong password is a 401 too, but it says nothing about a session.
    await assert.rejects(client.login({ phone: '+1', password: 'x' }));
    assert.deepEqual(seen, ['dead']);
  });
});

// ---------------------------------------------------------------------------------------------
// Socket URLs

describe('socket URLs', () => {
  test('ws: from http:, wss: from https:, with the token encoded', () => {
    const client = new MessengerClient({ baseUrl: 'http://h:8080', token: 'a b+c' });
    assert.equal(client.socketUrl('/events'), 'ws://h:8080/events?token=a+b%2Bc');
    const secure = new MessengerClient({ baseUrl: 'https://chat.example.com/', token: 't' });
    assert.equal(secure.socketUrl('/chat/7'), 'wss://chat.example.com/chat/7?token=t');
  });

  test('?after= is added when given, left out when null', () => {
    const client = new MessengerClient({ baseUrl: 'http://h', token: 't' });
    const url = new URL(client.socketUrl('/chat/7', { after: 43 }));
    assert.equal(url.pathname, '/chat/7');
    assert.equal(url.searchParams.get('token'), 't');
    assert.equal(url.searchParams.get('after'), '43');
    assert.equal(new URL(client.socketUrl('/chat/7', { after: null })).searchParams.has('after'), false);
    assert.equal(new URL(client.socketUrl('/chat/7', { after: 0 })).searchParams.get('after'), '0');
  });

  test('without a base URL it takes the page’s origin', () => {
    const client = new MessengerClient({ token: 't' });
    globalThis.location = new URL('https://page.example/app');
    try {
      assert.equal(client.socketUrl('/events'), 'wss://page.example/events?token=t');
    } finally {
      delete globalThis.location;
    }
    assert.throws(() => client.socketUrl('/events'), /baseUrl/);
  });

  test('each reconnect of a chat socket resumes after the last id held', async () => {
    const client = new MessengerClient({ baseUrl: 'http://h', token: 't', WebSocket: FakeSocket, random: half });
    let held = null;
    const socket = client.chatSocket(7, { after: () => held, onFrame: () => {} });
    socket.start();
    assert.equal(new URL(last().url).searchParams.has('after'), false);
    last().serverOpen();
    last().serverSend({ type: 'history', messages: [], has_more: false });
    held = 42;
    last().serverClose(1006);
    mock.timers.tick(500);
    await flush();
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(new URL(last().url).searchParams.get('after'), '42');
    held = 50;
    socket.restart();
    assert.equal(new URL(last().url).searchParams.get('after'), '50');
    socket.stop();
  });
});

// ---------------------------------------------------------------------------------------------
// Backoff and the reconnecting socket

describe('backoffDelay', () => {
  test('doubles from 500 ms up to the cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, half)),
      [500, 1000, 2000, 4000, 8000, MAX_BACKOFF_MS, MAX_BACKOFF_MS],
    );
  });

  test('jitters by ±20 %', () => {
    assert.equal(backoffDelay(1, () => 0), 800);
    assert.equal(backoffDelay(1, () => 0.999999), 1200);
  });
});

describe('ReconnectingSocket', () => {
  test('frames arrive parsed; what is not a JSON object with a type is dropped', () => {
    const { socket, log } = recordedSocket();
    socket.start();
    last().serverOpen();
    last().serverSend('not json');
    last().serverSend({ no: 'type' });
    last().serverSend({ type: 'ready', user_id: 1 });
    assert.deepEqual(log.frames, [{ type: 'ready', user_id: 1 }]);
    assert.equal(log.opens, 1);
    socket.stop();
  });

  test('send works only while open, as JSON', () => {
    const { socket } = recordedSocket();
    socket.start();
    assert.equal(socket.send({ type: 'typing' }), false);
    last().serverOpen();
    assert.equal(socket.isOpen, true);
    assert.equal(socket.send({ type: 'typing' }), true);
    assert.deepEqual(last().sent, [{ type: 'typing' }]);
    socket.stop();
    assert.equal(socket.send({ type: 'typing' }), false);
  });

  test('drops back off 500, 1000, 2000 ms; a frame from the server resets it', async () => {
    const { socket, log } = recordedSocket();
    socket.start();
    last().serverOpen();
    for (const want of [500, 1000, 2000]) {
      last().serverClose(1006);
      assert.equal(log.downs.at(-1).delay, want);
      const before = FakeSocket.all.length;
      mock.timers.tick(want - 1);
      await flush();
      assert.equal(FakeSocket.all.length, before, `no new socket before ${want} ms`);
      mock.timers.tick(1);
      await flush();
      assert.equal(FakeSocket.all.length, before + 1, `a new socket after ${want} ms`);
      last().serverOpen();
    }
    last().serverSend({ type: 'ready', user_id: 1 });
    last().serverClose(1006);
    assert.equal(log.downs.at(-1).delay, 500);
    assert.equal(log.downs.at(-1).opened, true);
    socket.stop();
  });

  test('a revoked token or a gone chat stops it for good', async () => {
    for (const code of [CloseCode.TOKEN_REVOKED, CloseCode.CHAT_GONE]) {
      FakeSocket.all = [];
      const { socket, log } = recordedSocket();
      socket.start();
      last().serverOpen();
      last().serverClose(code);
      assert.deepEqual(log.stops, [code]);
      assert.deepEqual(log.downs, []);
      mock.timers.tick(60_000);
      await flush();
      socket.reconnectNow();
      assert.equal(FakeSocket.all.length, 1, `no reconnect after ${code}`);
      assert.equal(socket.stopped, true);
    }
  });

  test('a slow-consumer close retries at once and does not grow the wait', async () => {
    const { socket, log } = recordedSocket();
    socket.start();
    last().serverOpen();
    last().serverClose(1006); // attempt 0 → 500 ms
    mock.timers.tick(500);
    await flush();
    last().serverOpen();
    last().serverClose(CloseCode.SLOW_CONSUMER);
    assert.equal(log.downs.at(-1).delay, QUICK_RETRY_MS);
    mock.timers.tick(QUICK_RETRY_MS);
    await flush();
    assert.equal(FakeSocket.all.length, 3);
    last().serverOpen();
    last().serverClose(1006);
    assert.equal(log.downs.at(-1).delay, 1000, 'the backoff carried on from where it was');
    socket.stop();
  });

  test('a server shutdown retries at once the first time, then backs off', async () => {
    const { socket, log } = recordedSocket();
    socket.start();
    last().serverOpen();
    last().serverClose(CloseCode.GOING_AWAY);
    assert.equal(log.downs.at(-1).delay, QUICK_RETRY_MS);
    mock.timers.tick(QUICK_RETRY_MS);
    await flush();
    last().serverClose(CloseCode.GOING_AWAY); // refused again, not opened
    assert.equal(log.downs.at(-1).delay, QUICK_RETRY_MS);
    mock.timers.tick(QUICK_RETRY_MS);
    await flush();
    last().serverOpen();
    last().serverClose(1006);
    assert.equal(log.downs.at(-1).delay, 500);
    mock.timers.tick(500);
    await flush();
    last().serverClose(CloseCode.GOING_AWAY);
    assert.equal(log.downs.at(-1).delay, 1000, 'not the first attempt: backoff');
    socket.stop();
  });

  test('a refused first upgrade is checked at once; a failed check gives up', async () => {
    let checks = 0;
    const { socket, log } = recordedSocket({
      check: async () => {
        checks++;
        return false;
      },
    });
    socket.start();
    last().serverClose(1006);
    assert.deepEqual(log.downs, [{ code: 1006, opened: false, delay: 0, firstRefusal: true }]);
    mock.timers.tick(0);
    await flush();
    assert.equal(checks, 1);
    assert.equal(FakeSocket.all.length, 1);
    assert.equal(socket.stopped, true);
  });

  test('a passed check reopens; an upgrade that had opened is not checked', async () => {
    let checks = 0;
    const { socket, log } = recordedSocket({
      check: async () => {
        checks++;
        return true;
      },
    });
    socket.start();
    last().serverClose(1006);
    mock.timers.tick(0);
    await flush();
    assert.equal(checks, 1);
    assert.equal(FakeSocket.all.length, 2);
    last().serverClose(1006); // refused again: the usual wait, then a check
    assert.equal(log.downs.at(-1).firstRefusal, false);
    assert.equal(log.downs.at(-1).delay, 1000);
    mock.timers.tick(1000);
    await flush();
    assert.equal(checks, 2);
    last().serverOpen();
    last().serverClose(1006);
    mock.timers.tick(8000);
    await flush();
    assert.equal(checks, 2, 'no check after an opened socket closed');
    assert.equal(FakeSocket.all.length, 4);
    socket.stop();
  });

  test('stop closes with 1000 and reports nothing', async () => {
    const { socket, log } = recordedSocket();
    socket.start();
    const ws = last();
    ws.serverOpen();
    socket.stop();
    await flush();
    assert.equal(ws.closedWith, CloseCode.NORMAL);
    assert.deepEqual(log.downs, []);
    assert.deepEqual(log.stops, []);
    mock.timers.tick(60_000);
    await flush();
    assert.equal(FakeSocket.all.length, 1);
  });

  test('stop during a wait cancels the retry; reconnectNow skips the wait', async () => {
    const { socket } = recordedSocket();
    socket.start();
    last().serverOpen();
    last().serverClose(1006);
    socket.reconnectNow();
    assert.equal(FakeSocket.all.length, 2, 'reopened at once');
    socket.reconnectNow();
    assert.equal(FakeSocket.all.length, 2, 'nothing to do while a socket is opening');
    last().serverOpen();
    last().serverClose(1006);
    socket.stop();
    mock.timers.tick(60_000);
    await flush();
    assert.equal(FakeSocket.all.length, 2);
  });

  test('restart replaces the socket; the old one’s events are ignored', async () => {
    const { socket, log } = recordedSocket();
    socket.start();
    const old = last();
    old.serverOpen();
    socket.restart();
    await flush(); // the old socket's close event arrives now
    assert.equal(old.closedWith, CloseCode.NORMAL);
    assert.deepEqual(log.downs, []);
    old.serverSend({ type: 'ready', user_id: 1 });
    assert.deepEqual(log.frames, []);
    assert.equal(FakeSocket.all.length, 2);
    socket.stop();
  });
});

describe('ReconnectingSocket: a connection that stops answering', () => {
  /** An open socket with a probe whose opening frame has arrived. */
  function probed() {
    const rec = recordedSocket({ probe: PROBE_FRAME });
    rec.socket.start();
    last().serverOpen();
    last().serverSend({ type: 'ready', user_id: 1 });
    return rec;
  }

  test('after a quiet spell the probe goes out; no answer counts as a drop and backs off', async () => {
    const { socket, log } = probed();
    mock.timers.tick(PROBE_AFTER_MS - 1);
    assert.deepEqual(last().sent, []);
    mock.timers.tick(1);
    assert.deepEqual(last().sent, [PROBE_FRAME]);
    mock.timers.tick(ANSWER_WITHIN_MS - 1);
    assert.deepEqual(log.downs, []);
    mock.timers.tick(1);
    assert.equal(last().closedWith, CloseCode.NORMAL, 'the silent socket is closed');
    assert.deepEqual(
      log.downs.map(({ code, opened, delay }) => ({ code, opened, delay })),
      [{ code: CloseCode.ABNORMAL, opened: true, delay: 500 }],
    );
    mock.timers.tick(500);
    await flush();
    assert.equal(FakeSocket.all.length, 2, 'reopened after the backoff');
    socket.stop();
  });

  test('any frame answers the probe, and frames keep the probe away', () => {
    const { socket, log } = probed();
    mock.timers.tick(PROBE_AFTER_MS - 1000);
    last().serverSend({ type: 'typing', user_id: 2 });
    mock.timers.tick(PROBE_AFTER_MS - 1);
    assert.deepEqual(last().sent, [], 'no probe while the server talks');
    mock.timers.tick(1);
    assert.deepEqual(last().sent, [PROBE_FRAME]);
    last().serverSend({ type: 'error', client_id: null, code: 'invalid_input', message: 'unknown frame type "ping"' });
    mock.timers.tick(ANSWER_WITHIN_MS * 3);
    assert.deepEqual(log.downs, []);
    socket.stop();
  });

  test('a sent message that gets no answer counts as a drop; typing expects none', () => {
    const { socket, log } = probed();
    assert.equal(expectsAnswer({ type: 'typing' }), false);
    assert.equal(expectsAnswer({ type: 'load_more', before: 9 }), true);
    socket.send({ type: 'typing' });
    mock.timers.tick(ANSWER_WITHIN_MS);
    assert.deepEqual(log.downs, []);
    socket.send({ type: 'MessageCreated', client_id: 'c-1', text: 'hi' });
    mock.timers.tick(ANSWER_WITHIN_MS);
    assert.equal(log.downs.length, 1);
    assert.equal(log.downs[0].code, CloseCode.ABNORMAL);
    socket.stop();
  });

  test('an opening that never speaks counts as a drop after twice the answer time', () => {
    const { socket, log } = recordedSocket({ probe: PROBE_FRAME });
    socket.start();
    last().serverOpen();
    mock.timers.tick(2 * ANSWER_WITHIN_MS - 1);
    assert.deepEqual(log.downs, []);
    mock.timers.tick(1);
    assert.equal(log.downs.length, 1);
    socket.stop();
  });

  test('without a probe nothing is timed', () => {
    const { socket, log } = recordedSocket();
    socket.start();
    last().serverOpen();
    socket.send({ type: 'MessageCreated', client_id: 'c-1', text: 'hi' });
    mock.timers.tick(10 * PROBE_AFTER_MS);
    assert.deepEqual(last().sent.length, 1);
    assert.deepEqual(log.downs, []);
    socket.stop();
  });

  test('interrupt drops an open socket at once and retries like a drop; probe asks now', async () => {
    const { socket, log } = probed();
    socket.probe();
    assert.deepEqual(last().sent, [PROBE_FRAME]);
    last().serverSend({ type: 'error', client_id: null, code: 'invalid_input', message: '?' });
    socket.interrupt();
    assert.equal(log.downs.length, 1);
    assert.equal(log.downs[0].delay, 500);
    socket.interrupt();
    assert.equal(log.downs.length, 1, 'nothing to do while a retry waits');
    socket.reconnectNow();
    assert.equal(FakeSocket.all.length, 2, 'the network is back: at once');
    last().serverClose(1006);
    assert.equal(log.downs.at(-1).delay, 1000, 'a server that is down still backs off');
    socket.stop();
  });
});

// ---------------------------------------------------------------------------------------------
// Catch-up with ?since= (docs/protocol.md §9.4)

describe('chat sockets resuming with ?since=', () => {
  const since = (ws) => new URL(ws.url).searchParams.get(SINCE_PARAM);
  const msg = (id, text = `m${id}`) => ({ message_id: id, chat_id: 7, author_id: 2, text, created_at: 't', edited_at: null });

  /** A chat socket with `since`, its frames recorded, and a fetch answering `GET /chats/7` with `status` (0: unreachable). */
  function sinceSocket({ status = 200, after, cursor } = {}) {
    const fetch = fakeFetch(async () => {
      if (status.value === 0 || status === 0) throw new TypeError('Failed to fetch');
      return respond(status.value ?? status, { chat_id: 7 });
    });
    const client = new MessengerClient({ baseUrl: 'http://h', token: 't', WebSocket: FakeSocket, random: half, fetch });
    const frames = [];
    const socket = client.chatSocket(7, { since: true, after, cursor, onFrame: (f) => frames.push(f) });
    return { socket, frames, fetch };
  }

  test('the named constants', () => {
    assert.equal(SINCE_PARAM, 'since');
    assert.equal(CHANGES_FRAME, 'changes');
    for (const t of ['history', 'changes', 'MessageCreated', 'MessageUpdated', 'MessageDeleted', 'read']) assert.ok(CURSOR_FRAMES.includes(t), t);
    assert.equal(CURSOR_FRAMES.includes('ack'), false);
  });

  test('socketUrl: since= when given (and then no after=)', () => {
    const client = new MessengerClient({ baseUrl: 'http://h', token: 't' });
    const u = new URL(client.socketUrl('/chat/7', { since: '7.42', after: 40 }));
    assert.equal(u.searchParams.get('since'), '7.42');
    assert.equal(u.searchParams.has('after'), false);
    assert.equal(new URL(client.socketUrl('/chat/7', { since: null, after: 40 })).searchParams.get('after'), '40');
  });

  test('the first opening is plain; every reconnect resumes from the newest cursor processed', async () => {
    const { socket, frames } = sinceSocket({ after: () => 99 });
    socket.start();
    // No cursor yet: neither since= nor (before anything is held) a cursor-less resume.
    assert.equal(since(last()), null);
    last().serverOpen();
    last().serverSend({ type: 'history', messages: [msg(1)], has_more: false, cursor: '7.1' });
    assert.equal(socket.cursor, '7.1');
    last().serverSend({ type: 'presence', online: [1] });
    last().serverSend({ type: 'MessageCreated', message: msg(2), cursor: '7.2' });
    assert.equal(socket.cursor, '7.2');
    last().serverSend({ type: 'MessageUpdated', message: msg(1, 'edited'), cursor: '7.3' });
    last().serverSend({ type: 'ack', client_id: 'c', message: msg(3) });
    assert.equal(socket.cursor, '7.3', 'an ack carries no cursor');
    last().serverSend({ type: 'MessageDeleted', message_id: 2, chat_id: 7, cursor: '7.4' });
    last().serverSend({ type: 'read', chat_id: 7, user_id: 2, message_id: 1, cursor: '7.5' });
    assert.equal(socket.cursor, '7.5');
    // A load_more answer has no cursor and leaves it alone.
    last().serverSend({ type: 'history', messages: [], has_more: false });
    assert.equal(socket.cursor, '7.5');
    assert.equal(frames.length, 8);

    last().serverClose(1006);
    mock.timers.tick(500);
    await flush();
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(since(last()), '7.5');
    assert.equal(new URL(last().url).searchParams.has('after'), false, 'since= and after= never together');

    // A slow-consumer close and a server shutdown resume the same way, and so does restart().
    last().serverOpen();
    last().serverSend({ type: 'changes', events: [{ type: 'MessageCreated', message: msg(4), cursor: '7.6' }], has_more: false, cursor: '7.6' });
    assert.equal(socket.cursor, '7.6');
    last().serverClose(CloseCode.SLOW_CONSUMER);
    mock.timers.tick(QUICK_RETRY_MS);
    await flush();
    assert.equal(since(last()), '7.6');
    last().serverOpen();
    last().serverSend({ type: 'changes', events: [], has_more: false, cursor: '7.6' });
    last().serverClose(CloseCode.GOING_AWAY);
    mock.timers.tick(QUICK_RETRY_MS);
    await flush();
    assert.equal(since(last()), '7.6');
    socket.restart();
    assert.equal(since(last()), '7.6');
    socket.stop();
  });

  test('changes with has_more reopen at once from the frame’s cursor, without a drop', async () => {
    const downs = [];
    const client = new MessengerClient({ baseUrl: 'http://h', token: 't', WebSocket: FakeSocket, random: half });
    const frames = [];
    const socket = client.chatSocket(7, { since: true, cursor: '7.10', onFrame: (f) => frames.push(f), onDown: (d) => downs.push(d) });
    socket.start();
    assert.equal(since(last()), '7.10');
    const first = last();
    first.serverOpen();
    first.serverSend({
      type: 'changes',
      events: [{ type: 'MessageCreated', message: msg(11), cursor: '7.11' }],
      has_more: true,
      cursor: '7.1010',
    });
    // The frame was handed over first, then a new socket opened at once with the new cursor.
    assert.equal(frames.length, 1);
    assert.equal(FakeSocket.all.length, 2);
    assert.equal(since(last()), '7.1010');
    assert.equal(first.closedWith, CloseCode.NORMAL);
    // The server's own 1000 close of the old socket reports nothing.
    first.serverClose(CloseCode.NORMAL);
    await flush();
    assert.deepEqual(downs, []);
    last().serverOpen();
    last().serverSend({ type: 'changes', events: [], has_more: false, cursor: '7.1020' });
    assert.equal(FakeSocket.all.length, 2, 'the last page stays open');
    assert.equal(socket.cursor, '7.1020');
    socket.stop();
  });

  test('a refused cursor (the upgrade fails, the chat answers over HTTP) falls back to a plain open', async () => {
    const { socket, fetch } = sinceSocket({ status: 200 });
    socket.start();
    last().serverOpen();
    last().serverSend({ type: 'history', messages: [], has_more: false, cursor: '9.1' });
    last().serverClose(1006);
    mock.timers.tick(500);
    await flush();
    // The upgrade with since= is refused (a browser sees 1006 without an open).
    assert.equal(since(last()), '9.1');
    last().serverClose(1006);
    mock.timers.tick(1000);
    await flush();
    await flush();
    assert.ok(fetch.calls.some((c) => c.url === 'http://h/chats/7'), 'asked the server over HTTP');
    assert.equal(FakeSocket.all.length, 3);
    assert.equal(since(last()), null, 'a fresh open, without since=');
    assert.equal(new URL(last().url).searchParams.has('after'), false);
    assert.equal(socket.cursor, null);
    // The fresh history gives a cursor again.
    last().serverOpen();
    last().serverSend({ type: 'history', messages: [], has_more: false, cursor: '7.3' });
    assert.equal(socket.cursor, '7.3');
    socket.stop();
  });

  test('an upgrade lost to the network (HTTP unreachable too) keeps the cursor', async () => {
    const status = { value: 0 };
    const { socket } = sinceSocket({ status });
    socket.start();
    last().serverOpen();
    last().serverSend({ type: 'history', messages: [], has_more: false, cursor: '7.5' });
    last().serverClose(1006);
    mock.timers.tick(500);
    await flush();
    last().serverClose(1006);
    mock.timers.tick(1000);
    await flush();
    await flush();
    assert.equal(FakeSocket.all.length, 3);
    assert.equal(since(last()), '7.5');
    assert.equal(socket.cursor, '7.5');
    socket.stop();
  });

  test('without the since option nothing changes: ?after= as before, changes frames not followed', async () => {
    const client = new MessengerClient({ baseUrl: 'http://h', token: 't', WebSocket: FakeSocket, random: half });
    const socket = client.chatSocket(7, { after: () => 42, onFrame: () => {} });
    socket.start();
    last().serverOpen();
    last().serverSend({ type: 'history', messages: [], has_more: false, cursor: '7.1' });
    assert.equal(socket.cursor, null);
    last().serverSend({ type: 'changes', events: [], has_more: true, cursor: '7.2' });
    assert.equal(FakeSocket.all.length, 1);
    socket.restart();
    assert.equal(since(last()), null);
    assert.equal(new URL(last().url).searchParams.get('after'), '42');
    socket.stop();
  });
});
