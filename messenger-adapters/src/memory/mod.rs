//! Every storage port in memory: the embedded default, and the test double for the server.
//!
//! Each adapter keeps its state behind one `std::sync::Mutex` held only for short, non-async
//! critical sections; blocking reads wait on `tokio::sync::Notify` outside the lock.

mod chat_repo;
mod chat_stream;
mod message_store;
mod presence;
mod revocations;
mod user_feed;
mod user_repo;

pub use chat_repo::MemoryChatRepo;
pub use chat_stream::MemoryChatStream;
pub use message_store::MemoryMessageStore;
pub use presence::MemoryPresence;
pub use revocations::MemoryRevocations;
pub use user_feed::MemoryUserFeed;
pub use user_repo::MemoryUserRepo;

use crate::crypto::{Argon2Hasher, JwtCodec};
use crate::SystemClock;
use futures_util::future::select_all;
use messenger_core::services::Ports;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// Every port in memory, with argon2id hashing, JWTs signed with `jwt_secret` and the wall clock.
pub fn in_memory_ports(jwt_secret: &[u8]) -> Ports {
    let stream = Arc::new(MemoryChatStream::default());
    Ports {
        users: Arc::new(MemoryUserRepo::default()),
        chats: Arc::new(MemoryChatRepo::default()),
        messages: Arc::new(MemoryMessageStore::default()),
        log: stream.clone(),
        lanes: stream.clone(),
        persist_queue: stream,
        feed: Arc::new(MemoryUserFeed::default()),
        presence: Arc::new(MemoryPresence::default()),
        hasher: Arc::new(Argon2Hasher::default()),
        tokens: Arc::new(JwtCodec::new(jwt_secret)),
        revocations: Arc::new(MemoryRevocations::default()),
        clock: Arc::new(SystemClock),
    }
}

/// Looks with `look`; when it finds nothing and `block` is given, waits until one of the
/// `notifies` (taken afresh each round) rings or `block` runs out, and looks again. The wakeups
/// are armed before looking, so a change in between is not missed.
pub(crate) async fn look_or_wait<T>(
    block: Option<Duration>,
    mut notifies: impl FnMut() -> Vec<Arc<Notify>>,
    mut look: impl FnMut() -> Vec<T>,
) -> Vec<T> {
    let deadline = block.map(|b| tokio::time::Instant::now() + b);
    loop {
        let notifies = notifies();
        let wakeups: Vec<_> = notifies.iter().map(|n| Box::pin(n.notified())).collect();
        let found = look();
        let Some(deadline) = deadline else {
            return found;
        };
        if !found.is_empty() || wakeups.is_empty() {
            return found;
        }
        if tokio::time::timeout_at(deadline, select_all(wakeups))
            .await
            .is_err()
        {
            return Vec::new();
        }
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: every critical
/// section here leaves the state consistent before anything can panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
