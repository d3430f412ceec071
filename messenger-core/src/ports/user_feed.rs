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
    /// there are none and `block` is given, waits up to that long for one. A blocking read
    /// covers users of one read lane (see [`UserFeed::read_lanes`]).
    async fn read_after(
        &self,
        cursors: &[(UserId, u64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<FeedEntry>, StoreError>;

    /// How many read lanes the users fall into. A reader that blocks waits on the feeds of one
    /// lane at a time, so a node needs a reader per lane; one lane (the default) means any
    /// feeds can be waited on together. (A Redis Cluster waits only within one hash slot.)
    fn read_lanes(&self) -> usize {
        1
    }

    /// The read lane of `user`'s feed, below [`UserFeed::read_lanes`].
    fn read_lane(&self, _user: UserId) -> usize {
        0
    }
}
