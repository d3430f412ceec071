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
    /// Entries after each cursor `(user, position)`, up to `limit` per user, in order; when
    /// there are none and `block` is given, waits up to that long for one.
    async fn read_after(
        &self,
        cursors: &[(UserId, u64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<FeedEntry>, StoreError>;
}
