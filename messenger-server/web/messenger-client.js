// @ts-check
// The messenger protocol for JavaScript: HTTP calls, reconnecting sockets, named close and error codes.
//
// A standalone ES module with no DOM use and no imports, served at `/web/messenger-client.js`, so
// that any web app (or Node, given a WebSocket) can speak the protocol (docs/protocol.md) with it.
// Usage: docs/web-client.md. What it promises stays stable; it only grows, like the protocol.

// ---------------------------------------------------------------------------------------------
// Types of the protocol's objects and frames (only the fields this module and its users rely on;
// the server may add more, and clients ignore what they do not know).

/**
 * @typedef {object} User
 * @property {number} user_id
 * @property {string} username
 * @property {boolean} [online]
 * @property {string} [phone] only on the caller's own
 */

/**
 * @typedef {object} Message
 * @property {number} message_id
 * @property {number} chat_id
 * @property {number} author_id
 * @property {string} text
 * @property {string} created_at
 * @property {string | null} edited_at
 */

/**
 * @typedef {object} Chat
 * @property {number} chat_id
 * @property {string} name
 * @property {'group' | 'direct'} kind
 * @property {number[]} participants
 * @property {number} owner_id
 * @property {string} created_at
 * @property {Message | null} last_message
 * @property {number | null} last_read_message_id
 * @property {number} unread_count
 */

/** @typedef {{token: string, user: User}} AuthResult what `/register` and `/login` answer */
/** @typedef {{messages: Message[], has_more: boolean}} MessagePage */
/** @typedef {{chat: Chat, message: Message}} DirectResult */

/**
 * The first frame on a `/chat/{id}` socket (with `cursor`, where the page was read), or the
 * answer to a `load_more` (without).
 * @typedef {{type: 'history', messages: Message[], has_more: boolean, cursor?: string,
 *   read_markers?: {user_id: number, message_id: number}[]}} HistoryFrame
 */
/** @typedef {{type: 'presence', online: number[]}} PresenceFrame */
/** @typedef {{type: 'MessageCreated', message: Message, cursor?: string}} CreatedFrame */
/** @typedef {{type: 'MessageUpdated', message: Message, cursor?: string}} UpdatedFrame */
/** @typedef {{type: 'MessageDeleted', message_id: number, chat_id: number, cursor?: string}} DeletedFrame */
/** @typedef {{type: 'ack', client_id: string, message: Message}} AckFrame */
/**
 * A frame that was refused (the socket stays open); `client_id` names it when it had one.
 * @typedef {{type: 'error', client_id?: string | null, code: string, message: string}} ErrorFrame
 */
/** @typedef {{type: 'typing', user_id: number}} TypingFrame */
/** @typedef {{type: 'read', chat_id: number, user_id: number, message_id: number, cursor?: string}} ReadFrame */
/** A change of a chat, live or replayed in a `changes` frame. @typedef {CreatedFrame | UpdatedFrame | DeletedFrame | ReadFrame} ChangeFrame */
/**
 * The first frame on a `/chat/{id}` socket opened with `?since=` (docs/protocol.md §9.4), instead
 * of `history`: every change after that cursor, as the live frames would have been, in order.
 * With `has_more`, the server closes the socket and `ReconnectingSocket` reopens it at once with
 * `?since=` this frame's `cursor`.
 * @typedef {{type: 'changes', events: ChangeFrame[], has_more: boolean, cursor: string}} ChangesFrame
 */
/** @typedef {{type: 'ready', user_id: number}} ReadyFrame */
/** @typedef {{type: 'ChatCreated' | 'ChatUpdated', chat: Chat}} ChatFrame */
/** @typedef {{type: 'ChatDeleted', chat_id: number}} ChatDeletedFrame */
/** @typedef {{type: 'reset'}} ResetFrame */

/**
 * A frame from the server on `/chat/{id}` or `/events`, the kinds this module knows. The server
 * may send other types (the protocol grows): those arrive too, and a client ignores them.
 * @typedef {HistoryFrame | ChangesFrame | PresenceFrame | CreatedFrame | UpdatedFrame | DeletedFrame | AckFrame
 *   | ErrorFrame | TypingFrame | ReadFrame | ReadyFrame | ChatFrame | ChatDeletedFrame | ResetFrame} ServerFrame
 */

/** @typedef {{type: string} & Record<string, unknown>} ClientFrame a frame to the server */

// ---------------------------------------------------------------------------------------------
// Named codes

/** WebSocket close codes the server uses (docs/protocol.md §6.3), and what each asks of a client. */
export const CloseCode = Object.freeze({
  /** We closed it ourselves (also what `ReconnectingSocket.stop` sends). */
  NORMAL: 1000,
  /** The server is shutting down: reconnect, at once the first time (another node may take it). */
  GOING_AWAY: 1001,
  /** The token was revoked (`POST /logout`): do not reconnect; sign in again. */
  TOKEN_REVOKED: 4001,
  /** Removed from the chat, left it, or it was deleted (`/chat/{id}` only): do not reconnect. */
  CHAT_GONE: 4003,
  /** The socket fell behind (slow consumer): reconnect at once, with `?since=` (or `?after=`). */
  SLOW_CONSUMER: 4008,
  /**
   * Not sent by the server: the connection ended without a close frame (a browser reports this),
   * or `ReconnectingSocket` gave up on it (no answer in time, the device went offline). Reconnect.
   */
  ABNORMAL: 1006,
});

/** The `code` of HTTP error bodies and WebSocket `error` frames (docs/protocol.md §2). */
export const ErrorCode = Object.freeze({
  INVALID_INPUT: 'invalid_input',
  UNAUTHORIZED: 'unauthorized',
  INVALID_CREDENTIALS: 'invalid_credentials',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  PHONE_TAKEN: 'phone_taken',
  USERNAME_TAKEN: 'username_taken',
  TOO_LARGE: 'too_large',
  RATE_LIMITED: 'rate_limited',
  UNAVAILABLE: 'unavailable',
  BLOCKED: 'blocked',
  ACCOUNT_DISABLED: 'account_disabled',
  /** Not the server's: the request never got an answer (offline, DNS, CORS). Status 0. */
  NETWORK: 'network',
});

/**
 * Codes of refused sends worth sending again a little later with the same `client_id` (which
 * never makes a second message, even if an `unavailable` one was committed after all).
 * @type {readonly string[]}
 */
export const RETRYABLE_CODES = Object.freeze([ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE]);

/** An error answer of the server (or `network` with status 0 when there was none). */
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the server was not reached
   * @param {string} code one of `ErrorCode` (or `http_<status>` for a body that is not the protocol's)
   * @param {string} message human text, not meant for programs
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** For `invalid_input`, the field the server named (`"phone: …"`), else null. */
  get field() {
    if (this.code !== ErrorCode.INVALID_INPUT) return null;
    const m = /^([a-z_]+):/.exec(this.message);
    return m ? m[1] : null;
  }

  /** The message without its leading `"field: "`. */
  get detail() {
    const m = /^[a-z_]+:\s*(.*)$/s.exec(this.message);
    return m ? m[1] : this.message;
  }
}

/**
 * Turns an error answer into an ApiError: the protocol's `{"error": {code, message}}` body, or
 * `http_<status>` when a proxy answered something else.
 * @param {number} status
 * @param {string} bodyText
 * @param {string} [statusText]
 */
export function parseError(status, bodyText, statusText = '') {
  const data = parseJson(bodyText);
  const err = data && typeof data === 'object' && 'error' in data ? /** @type {any} */ (data).error : null;
  const code = typeof err?.code === 'string' && err.code ? err.code : `http_${status}`;
  const message = typeof err?.message === 'string' && err.message ? err.message : statusText || `HTTP ${status}`;
  return new ApiError(status, code, message);
}

/** @param {string} text */
function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A fresh `client_id` for a new message (random, at most 64 characters, per the protocol). */
export function newClientId() {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------
// Reconnecting: when, and how long to wait

/** The wait before a quick retry (slow consumer, server shutdown): not zero, so a loop cannot spin. */
export const QUICK_RETRY_MS = 200;
/** The longest wait between two attempts. */
export const MAX_BACKOFF_MS = 8000;
/** Default quiet time after which a socket with a `probe` sends it. */
export const PROBE_AFTER_MS = 25000;
/** Default time the server has to answer a probe, or any frame it always answers. */
export const ANSWER_WITHIN_MS = 5000;

/** The query parameter that resumes a `/chat/{id}` socket from a cursor (docs/protocol.md §9.4). */
export const SINCE_PARAM = 'since';
/** The type of the first frame on a socket opened with `?since=`: the changes after the cursor. */
export const CHANGES_FRAME = 'changes';
/**
 * The frames of a `/chat/{id}` socket that carry the chat's position after them (`cursor`): the
 * opening `history` (a `load_more` answer has none), `changes`, and every change frame.
 * @type {readonly string[]}
 */
export const CURSOR_FRAMES = Object.freeze(['history', CHANGES_FRAME, 'MessageCreated', 'MessageUpdated', 'MessageDeleted', 'read']);
/** The change frames, the ones a `changes` frame replays. @type {readonly string[]} */
export const CHANGE_FRAMES = Object.freeze(['MessageCreated', 'MessageUpdated', 'MessageDeleted', 'read']);

/**
 * A frame for `probe`: browsers cannot send WebSocket pings, so the server answers this frame
 * with `{"type": "pong"}` on both sockets (docs/protocol.md §7.3); any answer proves the
 * connection alive.
 */
export const PROBE_FRAME = Object.freeze({ type: 'ping' });

/**
 * Whether the server always answers `frame` on a `/chat/{id}` socket: the message frames (ack or
 * error, paired by `client_id`) and `load_more` (history).
 * @param {ClientFrame} frame
 */
export function expectsAnswer(frame) {
  return typeof frame.client_id === 'string' || frame.type === 'load_more';
}

/**
 * The wait before attempt number `attempt` (0 first): 500 ms doubling up to 8 s, with ±20 %
 * jitter so that many clients cut off at once do not all come back at the same moment.
 * @param {number} attempt
 * @param {() => number} [random] in [0, 1)
 */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + random() * 0.4));
}

/**
 * Whether a socket closed with `code` may be reopened: not after the token was revoked nor once
 * the chat is gone for us; anything else (a network drop, a restart, a slow consumer) may.
 * @param {number} code
 */
export function shouldReconnect(code) {
  return code !== CloseCode.TOKEN_REVOKED && code !== CloseCode.CHAT_GONE;
}

/**
 * @typedef {object} WebSocketLike what this module needs of a WebSocket (the browser's, or `ws` in Node)
 * @property {number} readyState
 * @property {(data: string) => void} send
 * @property {(code?: number, reason?: string) => void} close
 * @property {((ev: any) => void) | null} onopen
 * @property {((ev: {data: any}) => void) | null} onmessage
 * @property {((ev: {code: number}) => void) | null} onclose
 * @property {((ev: any) => void) | null} onerror
 */
/** @typedef {new (url: string) => WebSocketLike} WebSocketConstructor */

/** `WebSocket.OPEN`, spelt out so that an injected constructor need not carry the constant. */
const OPEN = 1;

/**
 * @typedef {object} DownInfo what `onDown` is told when a socket closed and a retry is scheduled
 * @property {number} code the close code (1006 for a dropped connection)
 * @property {boolean} opened whether that socket had opened (false: the upgrade itself failed)
 * @property {number} delay ms until the next attempt
 * @property {boolean} firstRefusal the very first upgrade was refused: retried (after `check`) at
 *   once, so a user interface need not say it is offline yet
 */

/**
 * @typedef {object} ReconnectingSocketOptions
 * @property {(since: string | null) => string} url the URL of the next attempt, built each time
 *   (so `?after=` is current); `since`: the cursor to resume from (with the `since` option), else null
 * @property {boolean} [since] keep the newest `cursor` of the frames (`CURSOR_FRAMES`, read after
 *   `onFrame` returns) and reopen with it: `url(cursor)`. A `changes` frame with `has_more` reopens
 *   at once with its cursor. `/chat/{id}` sockets only (docs/protocol.md §9.4)
 * @property {string | null} [cursor] with `since`: a cursor to resume from on the first opening
 * @property {() => Promise<boolean>} [refusedSince] with `since`, after an upgrade with a cursor that
 *   never opened (and passed `check`): whether the server refused it (it answers over HTTP, so the
 *   network is not the cause). True forgets the cursor: the next opening is a fresh one (`history`)
 * @property {(frame: ServerFrame) => void} onFrame every frame, parsed (frames that are not JSON are dropped)
 * @property {() => void} [onOpen]
 * @property {(info: DownInfo) => void} [onDown] the socket closed and will be reopened
 * @property {(code: number) => void} [onStop] closed with a code that forbids reconnecting (`shouldReconnect`)
 * @property {() => Promise<boolean>} [check] before reopening after an upgrade that never opened
 *   (a 401 or 404 looks just like a network drop there): find out over HTTP; false gives up
 * @property {WebSocketConstructor} [WebSocket] defaults to `globalThis.WebSocket`
 * @property {() => number} [random] jitter source for `backoffDelay`
 * @property {ClientFrame} [probe] a frame the server always answers (`PROBE_FRAME`): sent after
 *   `probeAfterMs` without a frame from the server. Without an answer within `answerWithinMs` (nor
 *   to a sent frame that `expectsAnswer`, nor to the opening), the connection counts as dropped:
 *   a connection cut without a close is otherwise noticed only minutes later
 * @property {number} [probeAfterMs] default `PROBE_AFTER_MS`
 * @property {number} [answerWithinMs] default `ANSWER_WITHIN_MS`; the first frame after opening
 *   gets twice as long
 */

/**
 * One logical socket that stays connected: reopens after a drop with a growing wait, at once for
 * a slow-consumer close, never after a close that forbids it. The wait resets once the server
 * sends a frame again. Frames are parsed JSON; sending is possible only while open. With a
 * `probe`, a connection that stops answering counts as dropped.
 */
export class ReconnectingSocket {
  /** @param {ReconnectingSocketOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {WebSocketLike | null} */
    this.ws = null;
    /** How many waits in a row so far (drives the backoff). */
    this.attempt = 0;
    /** When the scheduled retry happens (ms since the epoch), 0 when none is. */
    this.retryAt = 0;
    this.stopped = true;
    /** Whether any socket of this one has opened (before that, a refusal may mean a bad URL). */
    this.everOpened = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** Whether the current socket has opened. */
    this.opened = false;
    /** Sends the probe when the server has been quiet (with a `probe` only). @type {ReturnType<typeof setTimeout> | undefined} */
    this.quietTimer = undefined;
    /** Gives up on a connection whose answer is overdue. @type {ReturnType<typeof setTimeout> | undefined} */
    this.answerTimer = undefined;
    /**
     * With `since`: the newest cursor seen, where the next opening resumes; null: a fresh opening.
     * @type {string | null}
     */
    this.cursor = options.since ? (options.cursor ?? null) : null;
    /** The cursor the current (or last) socket was opened with. @type {string | null} */
    this.openedSince = null;
  }

  /** Opens the socket (and keeps it open until `stop`). */
  start() {
    this.stopped = false;
    this.open();
  }

  /** Closes it for good (code 1000); no more retries. */
  stop() {
    this.stopped = true;
    this.retryAt = 0;
    clearTimeout(this.timer);
    this.drop();
  }

  /** Closes the current socket and opens a new one now (with a fresh URL). */
  restart() {
    if (this.stopped) return;
    this.drop();
    this.open();
  }

  /** Skips the wait of a scheduled retry. Nothing to do while a socket is open or opening. */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.open();
  }

  /**
   * The connection is known to be lost (the device went offline): it is dropped now and
   * reopened as after any drop, `onDown` first. Nothing to do while waiting for a retry.
   */
  interrupt() {
    if (this.stopped || !this.ws) return;
    const opened = this.opened;
    this.drop();
    this.closed(CloseCode.ABNORMAL, opened);
  }

  /**
   * Asks the server for an answer now (with a `probe` only): none within `answerWithinMs`
   * counts as a drop. For when the connection may have died unnoticed (the network came back,
   * the computer woke up).
   */
  probe() {
    if (!this.options.probe || !this.isOpen) return;
    this.send(this.options.probe);
    this.expectAnswer(this.answerWithin());
  }

  /** Whether the socket is open, so that `send` would send. */
  get isOpen() {
    return this.ws != null && this.ws.readyState === OPEN;
  }

  /**
   * Sends one frame as JSON; false when the socket is not open (the caller keeps it to resend).
   * @param {ClientFrame} frame
   */
  send(frame) {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    if (this.options.probe && expectsAnswer(frame)) this.expectAnswer(this.answerWithin());
    return true;
  }

  /** @private */
  answerWithin() {
    return this.options.answerWithinMs ?? ANSWER_WITHIN_MS;
  }

  /**
   * Starts waiting for any frame, unless already waiting.
   * @private
   * @param {number} ms
   */
  expectAnswer(ms) {
    if (this.answerTimer !== undefined) return;
    this.answerTimer = setTimeout(() => {
      this.answerTimer = undefined;
      this.interrupt();
    }, ms);
  }

  /**
   * The server spoke: the connection is alive; probe again after the next quiet spell.
   * @private
   */
  heard() {
    if (!this.options.probe) return;
    clearTimeout(this.answerTimer);
    this.answerTimer = undefined;
    clearTimeout(this.quietTimer);
    this.quietTimer = setTimeout(() => this.probe(), this.options.probeAfterMs ?? PROBE_AFTER_MS);
  }

  /** @private */
  clearTimers() {
    clearTimeout(this.answerTimer);
    clearTimeout(this.quietTimer);
    this.answerTimer = undefined;
    this.quietTimer = undefined;
  }

  /**
   * Detaches and closes the current socket, so that its close event reports nothing.
   * @private
   */
  drop() {
    this.clearTimers();
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.close(CloseCode.NORMAL);
  }

  /** @private */
  open() {
    clearTimeout(this.timer);
    this.retryAt = 0;
    const Ctor = this.options.WebSocket ?? /** @type {WebSocketConstructor | undefined} */ (globalThis.WebSocket);
    if (!Ctor) throw new Error('messenger-client: no WebSocket here; pass one as the WebSocket option');
    const since = this.options.since ? this.cursor : null;
    const ws = new Ctor(this.options.url(since));
    this.ws = ws;
    this.openedSince = since;
    this.opened = false;
    let heard = false;
    // The server speaks first on both sockets (`history`, `ready`): silence means a dead connection.
    if (this.options.probe) this.expectAnswer(2 * this.answerWithin());
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.opened = true;
      this.everOpened = true;
      this.options.onOpen?.();
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      const frame = typeof e.data === 'string' ? parseJson(e.data) : null;
      if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;
      if (!heard) {
        heard = true;
        this.attempt = 0;
      }
      this.heard();
      this.options.onFrame(frame);
      if (this.options.since) this.noteCursor(ws, frame);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      if (this.stopped) return;
      this.closed(e.code, this.opened);
    };
  }

  /**
   * Keeps the frame's cursor; after a `changes` frame with `has_more`, reopens at once from it
   * (the server closes that socket with 1000 right after the frame).
   * @private
   * @param {WebSocketLike} ws
   * @param {any} frame
   */
  noteCursor(ws, frame) {
    if (typeof frame.cursor === 'string' && frame.cursor && CURSOR_FRAMES.includes(frame.type)) this.cursor = frame.cursor;
    if (frame.type === CHANGES_FRAME && frame.has_more && this.ws === ws && !this.stopped) this.restart();
  }

  /**
   * @private
   * @param {number} code
   * @param {boolean} opened
   */
  closed(code, opened) {
    if (!shouldReconnect(code)) {
      this.stopped = true;
      this.options.onStop?.(code);
      return;
    }
    let delay;
    let firstRefusal = false;
    if (!opened && !this.everOpened && this.attempt === 0) {
      // The very first upgrade was refused: find out why at once (a bad link is a 404).
      firstRefusal = true;
      this.attempt++;
      delay = 0;
    } else if (code === CloseCode.SLOW_CONSUMER || (code === CloseCode.GOING_AWAY && this.attempt === 0)) {
      delay = QUICK_RETRY_MS;
    } else {
      delay = backoffDelay(this.attempt++, this.options.random);
    }
    this.retryAt = Date.now() + delay;
    this.options.onDown?.({ code, opened, delay, firstRefusal });
    if (this.stopped) return; // onDown may have stopped it
    const since = this.openedSince;
    this.timer = setTimeout(() => this.retry(opened, since), delay);
  }

  /**
   * @private
   * @param {boolean} opened
   * @param {string | null} since the cursor the socket that closed was opened with
   */
  async retry(opened, since = null) {
    this.retryAt = 0;
    if (!opened && this.options.check) {
      let ok = true;
      try {
        ok = await this.options.check();
      } catch {
        // The check itself failed (offline): try the socket again anyway.
      }
      if (!ok) {
        this.stopped = true;
        return;
      }
    }
    if (!opened && since != null && this.options.refusedSince && !this.stopped) {
      // An upgrade with a cursor failed while the server answers HTTP: the cursor was refused
      // (400), so start afresh rather than retry it forever.
      let refused = false;
      try {
        refused = await this.options.refusedSince();
      } catch {
        // Could not tell (offline): keep the cursor.
      }
      if (refused && this.cursor === since) this.cursor = null;
    }
    if (!this.stopped && !this.ws) this.open();
  }
}

// ---------------------------------------------------------------------------------------------
// The client

/**
 * @typedef {object} ClientOptions
 * @property {string} [baseUrl] the server, e.g. `https://chat.example.com`; empty (the default):
 *   this page's origin, with paths relative
 * @property {string | null} [token] the bearer token (settable later as `client.token`)
 * @property {(token: string) => void} [onUnauthorized] a call made with `token` was answered 401
 *   (expired or revoked): the place to end the session
 * @property {typeof fetch} [fetch] defaults to `globalThis.fetch`
 * @property {WebSocketConstructor} [WebSocket] defaults to `globalThis.WebSocket`
 * @property {() => number} [random] jitter source for socket backoff
 */

/**
 * @typedef {object} RequestOptions
 * @property {boolean} [auth] send the token (default true)
 * @property {string | null} [token] send this token instead of `client.token`
 */

/**
 * @typedef {object} SocketOptions the `ReconnectingSocketOptions` without `url`, plus:
 * @property {() => number | null | undefined} [after] the highest message id held: reconnects
 *   resume after it with `?after=` (`/chat/{id}` only); null or undefined: the server's default
 * @property {boolean} [since] `/chat/{id}` only: keep the newest cursor and reconnect with
 *   `?since=` it (a `changes` frame first, instead of `history`; `has_more` pages are followed at
 *   once); `after` then only applies while no cursor is known. A refused cursor (the upgrade fails
 *   while the chat answers over HTTP) is dropped: the next opening is fresh (`history`)
 * @property {string | null} [cursor] with `since`: resume from this cursor on the first opening
 * @property {() => Promise<boolean>} [refusedSince] see `ReconnectingSocketOptions` (chatSocket
 *   provides one: `GET /chats/{id}` got an answer)
 * @property {(frame: ServerFrame) => void} onFrame
 * @property {() => void} [onOpen]
 * @property {(info: DownInfo) => void} [onDown]
 * @property {(code: number) => void} [onStop]
 * @property {() => Promise<boolean>} [check]
 * @property {ClientFrame} [probe]
 * @property {number} [probeAfterMs]
 * @property {number} [answerWithinMs]
 */

/** The HTTP API and the sockets of one server, for one signed-in user (or none yet). */
export class MessengerClient {
  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    /** @type {string | null} */
    this.token = options.token ?? null;
    this.options = options;
  }

  /**
   * One HTTP call. Resolves to the parsed JSON body (null when empty); rejects with ApiError
   * (status 0, code `network`, when the server was not reached).
   * @param {string} method
   * @param {string} path e.g. `/chats/7`
   * @param {unknown} [body] sent as JSON when not undefined
   * @param {RequestOptions} [opts]
   * @returns {Promise<any>}
   */
  async request(method, path, body, { auth = true, token } = {}) {
    /** @type {Record<string, string>} */
    const headers = {};
    const sent = auth ? (token === undefined ? this.token : token) : null;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (sent) headers.authorization = `Bearer ${sent}`;
    const doFetch = this.options.fetch ?? globalThis.fetch;
    /** @type {Response} */
    let res;
    try {
      res = await doFetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, ErrorCode.NETWORK, 'Cannot reach the server. Check your connection.');
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const err = parseError(res.status, text, res.statusText);
      if (res.status === 401 && sent) this.options.onUnauthorized?.(sent);
      throw err;
    }
    return parseJson(text);
  }

  // -- accounts --

  /**
   * @param {{phone: string, username: string, password: string}} body
   * @returns {Promise<AuthResult>}
   */
  register(body) {
    return this.request('POST', '/register', body, { auth: false });
  }

  /**
   * @param {{phone: string, password: string}} body
   * @returns {Promise<AuthResult>}
   */
  login(body) {
    return this.request('POST', '/login', body, { auth: false });
  }

  /**
   * Revokes a token (by default the client's own); its sockets are closed with 4001.
   * @param {string | null} [token]
   * @returns {Promise<null>}
   */
  logout(token = this.token) {
    return this.request('POST', '/logout', undefined, { token });
  }

  /** @returns {Promise<User>} */
  me() {
    return this.request('GET', '/me');
  }

  /**
   * @param {number} userId
   * @returns {Promise<User>}
   */
  user(userId) {
    return this.request('GET', `/users/${userId}`);
  }

  /**
   * Username prefix (ignoring case) or exact phone; the caller is left out.
   * @param {string} q
   * @param {number} [limit]
   * @returns {Promise<User[]>}
   */
  searchUsers(q, limit = 20) {
    return this.request('GET', `/users?q=${encodeURIComponent(q)}&limit=${limit}`);
  }

  // -- chats --

  /** @returns {Promise<Chat[]>} the most recently active first */
  chats() {
    return this.request('GET', '/chats');
  }

  /**
   * @param {number} chatId
   * @returns {Promise<Chat>}
   */
  chat(chatId) {
    return this.request('GET', `/chats/${chatId}`);
  }

  /**
   * @param {string} name
   * @param {number[]} participants
   * @returns {Promise<Chat>}
   */
  createGroup(name, participants) {
    return this.request('POST', '/chats', { name, participants });
  }

  /**
   * @param {number} chatId
   * @param {string} name
   * @returns {Promise<Chat>}
   */
  renameChat(chatId, name) {
    return this.request('PATCH', `/chats/${chatId}`, { name });
  }

  /**
   * @param {number} chatId
   * @returns {Promise<null>}
   */
  deleteChat(chatId) {
    return this.request('DELETE', `/chats/${chatId}`);
  }

  /**
   * @param {number} chatId
   * @param {number} userId
   * @returns {Promise<Chat>}
   */
  addParticipant(chatId, userId) {
    return this.request('POST', `/chats/${chatId}/participants`, { user_id: userId });
  }

  /**
   * Removes someone (the owner), or leaves (yourself).
   * @param {number} chatId
   * @param {number} userId
   * @returns {Promise<null>}
   */
  removeParticipant(chatId, userId) {
    return this.request('DELETE', `/chats/${chatId}/participants/${userId}`);
  }

  /**
   * @param {number} chatId
   * @param {number} messageId
   * @returns {Promise<null>}
   */
  markRead(chatId, messageId) {
    return this.request('POST', `/chats/${chatId}/read`, { message_id: messageId });
  }

  // -- messages --

  /**
   * A page of messages, oldest first: the newest, or those just before `before`.
   * @param {number} chatId
   * @param {{before?: number, limit?: number}} [page]
   * @returns {Promise<MessagePage>}
   */
  messages(chatId, { before, limit } = {}) {
    const q = new URLSearchParams();
    if (before != null) q.set('before', String(before));
    if (limit != null) q.set('limit', String(limit));
    const qs = q.toString();
    return this.request('GET', `/chats/${chatId}/messages${qs ? `?${qs}` : ''}`);
  }

  /**
   * @param {number} chatId
   * @param {string} text
   * @param {string} [clientId] makes a retry safe: the same id never makes a second message
   * @returns {Promise<Message>}
   */
  sendMessage(chatId, text, clientId = newClientId()) {
    return this.request('POST', `/chats/${chatId}/messages`, { text, client_id: clientId });
  }

  /**
   * A direct message to anyone; the pair's direct chat is created on the first one.
   * @param {number} userId
   * @param {string} text
   * @param {string} [clientId]
   * @returns {Promise<DirectResult>}
   */
  sendDirect(userId, text, clientId = newClientId()) {
    return this.request('POST', `/users/${userId}/messages`, { text, client_id: clientId });
  }

  /**
   * @param {number} messageId
   * @param {string} text
   * @returns {Promise<Message>}
   */
  editMessage(messageId, text) {
    return this.request('PATCH', `/messages/${messageId}`, { text });
  }

  /**
   * @param {number} messageId
   * @returns {Promise<null>}
   */
  deleteMessage(messageId) {
    return this.request('DELETE', `/messages/${messageId}`);
  }

  // -- sockets --

  /**
   * The `ws:`/`wss:` URL of a socket path, with the token and, when given, `?since=` or else `?after=`
   * (the server refuses both together).
   * @param {string} path `/events` or `/chat/{id}`
   * @param {{after?: number | null, since?: string | null}} [opts]
   */
  socketUrl(path, { after, since } = {}) {
    const base = this.baseUrl || globalThis.location?.origin;
    if (!base) throw new Error('messenger-client: no baseUrl and no page location to take it from');
    const url = new URL(path, base);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    if (this.token) url.searchParams.set('token', this.token);
    if (since != null) url.searchParams.set(SINCE_PARAM, since);
    else if (after != null) url.searchParams.set('after', String(after));
    return url.toString();
  }

  /**
   * A reconnecting socket on `path` (not opened yet: call `start()`). Each attempt builds its
   * URL afresh: the current token, and `?since=` the socket's cursor (with `opts.since`), else
   * `?after=` from `opts.after`.
   * @param {string} path
   * @param {SocketOptions} opts
   */
  socket(path, opts) {
    const { after, ...rest } = opts;
    return new ReconnectingSocket({
      WebSocket: this.options.WebSocket,
      random: this.options.random,
      ...rest,
      url: (since) => this.socketUrl(path, since != null ? { since } : { after: after?.() }),
    });
  }

  /**
   * The user's feed across all chats (`/events`): `ready`, then chat and message events.
   * @param {Omit<SocketOptions, 'after'>} opts
   */
  events(opts) {
    return this.socket('/events', opts);
  }

  /**
   * One chat's socket (`/chat/{id}`): history (or, with `opts.since`, the `changes` since the
   * socket's cursor), live events, and sending frames.
   * @param {number} chatId
   * @param {SocketOptions} opts
   */
  chatSocket(chatId, opts) {
    const refusedSince = () => this.answers(`/chats/${chatId}`);
    return this.socket(`/chat/${chatId}`, opts.since ? { refusedSince, ...opts } : opts);
  }

  /**
   * Whether the server answers a GET of `path` at all (any status): false only when it was not
   * reached.
   * @param {string} path
   */
  async answers(path) {
    try {
      await this.request('GET', path);
      return true;
    } catch (e) {
      return !(e instanceof ApiError && e.status === 0);
    }
  }
}
