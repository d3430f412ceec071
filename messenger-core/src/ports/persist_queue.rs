//! The persisters' work queue: message events appended to chats' logs and not yet committed
//! to the message store.

use crate::{ChatEvent, ChatId, EventSeq, StoreError};
use async_trait::async_trait;
use std::time::Duration;

/// Message events waiting for a persister, claimed per chat so that each chat's events are
/// committed in order by one persister at a time.
///
/// Every `MessageCreated`, `MessageUpdated` and `MessageDeleted` appended to a chat's log
/// ([`super::ChatLog::append`]) enters this queue; it leaves only when the persister that
/// claimed it acknowledges it after its commit.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PersistQueue: Send + Sync {
    /// Takes up to `max` message events no persister has taken yet (or that were taken by a
    /// persister that stopped acknowledging), in order per chat; waits up to `block` for one.
    async fn claim(
        &self,
        consumer: &str,
        max: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError>;

    /// Marks events `consumer` claimed as committed: they leave the queue, and the consumer's
    /// hold on their chats ends (another consumer may take their next events).
    async fn ack(&self, consumer: &str, events: &[(ChatId, EventSeq)]) -> Result<(), StoreError>;

    /// Puts back in the persisters' way any message event that no live persister will reach
    /// otherwise (its node died after appending, or while holding it), and tells how much work
    /// the persisters have before them. Called periodically.
    async fn sweep(&self) -> Result<PersistBacklog, StoreError>;
}

/// The persisters' work queue at one moment, over all chats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersistBacklog {
    /// Entries appended that no persister has read yet (the consumer group's lag).
    pub unread: u64,
    /// Entries a persister has read but not acknowledged (not committed yet, or its persister
    /// died and they wait to be claimed).
    pub pending: u64,
}
