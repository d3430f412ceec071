//! Per-user feeds in memory.

use super::{lock, look_or_wait};
use async_trait::async_trait;
use messenger_core::ports::UserFeed;
use messenger_core::{FeedEntry, FeedEvent, StoreError, UserId};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Entries kept per user; a reader further behind than this has been gone for long.
const RETAIN_PER_USER: usize = 1_000;

#[derive(Default)]
struct Feed {
    head: u64,
    entries: VecDeque<FeedEntry>,
    notify: Arc<Notify>,
}

/// Per-user feeds in memory.
#[derive(Default)]
pub struct MemoryUserFeed {
    feeds: Mutex<HashMap<UserId, Feed>>,
}

#[async_trait]
impl UserFeed for MemoryUserFeed {
    async fn publish(&self, users: &[UserId], event: FeedEvent) -> Result<(), StoreError> {
        let mut feeds = lock(&self.feeds);
        for user in users {
            let feed = feeds.entry(*user).or_default();
            feed.head += 1;
            feed.entries.push_back(FeedEntry {
                user_id: *user,
                seq: feed.head,
                event: event.clone(),
            });
            if feed.entries.len() > RETAIN_PER_USER {
                feed.entries.pop_front();
            }
            feed.notify.notify_waiters();
        }
        Ok(())
    }

    async fn head(&self, user: UserId) -> Result<u64, StoreError> {
        Ok(lock(&self.feeds).get(&user).map_or(0, |f| f.head))
    }

    async fn read_after(
        &self,
        cursors: &[(UserId, u64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        let notifies = || {
            let mut feeds = lock(&self.feeds);
            cursors
                .iter()
                .map(|(user, _)| feeds.entry(*user).or_default().notify.clone())
                .collect()
        };
        let look = || {
            let feeds = lock(&self.feeds);
            cursors
                .iter()
                .filter_map(|(user, after)| feeds.get(user).map(|f| (f, *after)))
                .flat_map(|(f, after)| {
                    f.entries
                        .iter()
                        .filter(move |e| e.seq > after)
                        .take(limit)
                        .cloned()
                })
                .collect()
        };
        Ok(look_or_wait(block, notifies, look).await)
    }
}

#[cfg(test)]
mod tests {
    messenger_core::user_feed_contract!(super::MemoryUserFeed::default());
}
