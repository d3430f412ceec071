//! Implementations of `messenger-core`'s ports.
//!
//! - [`memory`]: every storage port in memory, with the semantics of the real backends
//!   (ordered per-chat logs with positions, read-after-position, consumer-group style work
//!   list). The embedded default and the test double.
//! - [`postgres`]: users, chats, read markers and messages in Postgres (sqlx).
//! - [`redis`]: per-chat event streams (the queue), user feeds, online sets and token
//!   revocations in Redis (fred).
//! - [`crypto`]: argon2id password hashing (off the async threads) and JWT tokens.
//! - [`SystemClock`]: the wall clock.
//! - [`backend`]: which of these a deployment runs on, opened from its environment; the
//!   server and the operator's CLI both open their storage here.

pub mod backend;
pub mod crypto;
pub mod memory;
pub mod postgres;
pub mod redis;
#[cfg(any(test, feature = "test-services"))]
pub mod test_services;

use messenger_core::ports::Clock;
use messenger_core::Timestamp;

/// The wall clock, in UTC, truncated to milliseconds.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::new(time::OffsetDateTime::now_utc())
    }
}
