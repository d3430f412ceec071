//! Each user's feed of changes to their chats and sessions.

use crate::{FeedEntry, FeedEvent, StoreError, UserId};
use async_trait::async_trait;
use std::time::Duration;

/// Per-user ordered feeds.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserFeed: Send + Sync {
    /// Appends the event to each of these users' feeds.
    async fn publish(&self, users: &[UserId], event: FeedEvent) -> Result<(), StoreError>;
    /// The position of the newest entry of the user's feed (0 when empty).
    async fn head(&self, user: UserId) -> Result<u64, StoreError>;
    /// Entries after `after` in the user's feed, in order; waits up to `block` for one.
    async fn read_after(
        &self,
        user: UserId,
        after: u64,
        block: Option<Duration>,
    ) -> Result<Vec<FeedEntry>, StoreError>;
}
