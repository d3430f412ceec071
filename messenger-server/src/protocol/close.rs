//! WebSocket close codes the server sends, as docs/protocol.md lists them.

/// Close code: the token was revoked (logout).
pub const CLOSE_REVOKED: u16 = 4001;
/// Close code: removed from the chat, or the chat was deleted.
pub const CLOSE_REMOVED: u16 = 4003;
/// Close code: the socket fell too far behind (its queue overflowed, or it stopped reading
/// for longer than the write timeout); reconnect with `?after=`.
pub const CLOSE_SLOW: u16 = 4008;
/// Close code: the server is shutting down.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code: a frame above the hard limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close code: two pings went unanswered.
pub const CLOSE_PING_TIMEOUT: u16 = 1011;
/// Close code: done as asked (a `changes` page with more to come: reconnect with its cursor).
pub const CLOSE_NORMAL: u16 = 1000;
