//! Per-user feeds in Redis: one stream per user (`user:{l7}:7:feed`, tagged with its read
//! lane), positions from the user's own counter, trimmed to the newest entries.

use super::codec::{decode_feed, encode_feed};
use super::script::Script;
use super::streams::seq_of;
use super::{classify, id_of_lane_key, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use messenger_core::ports::UserFeed;
use messenger_core::{FeedEntry, FeedEvent, StoreError, UserId};
use std::sync::Arc;
use std::time::Duration;

static PUBLISH: Script = Script::new(
    r"
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000, seq .. '-0', unpack(ARGV))
return seq",
);

/// Per-user feeds in Redis.
pub struct RedisUserFeed {
    redis: Arc<Redis>,
}

impl RedisUserFeed {
    /// Feeds on `redis`.
    pub fn new(redis: Arc<Redis>) -> Self {
        RedisUserFeed { redis }
    }

    fn feed_key(&self, user: UserId) -> String {
        self.redis.lane_key("user", user.get(), "feed")
    }

    fn seq_key(&self, user: UserId) -> String {
        self.redis.lane_key("user", user.get(), "feed-seq")
    }
}

#[async_trait]
impl UserFeed for RedisUserFeed {
    async fn publish(&self, users: &[UserId], event: FeedEvent) -> Result<(), StoreError> {
        let args: Vec<String> = encode_feed(&event)
            .into_iter()
            .flat_map(|(k, v)| [k, v])
            .collect();
        let writes = users.iter().map(|u| {
            PUBLISH.run::<i64>(
                &self.redis,
                vec![self.feed_key(*u), self.seq_key(*u)],
                args.clone(),
            )
        });
        for result in futures_util::future::join_all(writes).await {
            result?;
        }
        Ok(())
    }

    async fn head(&self, user: UserId) -> Result<u64, StoreError> {
        let seq: Option<u64> = self
            .redis
            .pool()
            .get(self.seq_key(user))
            .await
            .map_err(classify)?;
        Ok(seq.unwrap_or(0))
    }

    async fn read_after(
        &self,
        cursors: &[(UserId, u64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<FeedEntry>, StoreError> {
        if cursors.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = cursors.iter().map(|(u, _)| self.feed_key(*u)).collect();
        let ids: Vec<String> = cursors.iter().map(|(_, s)| format!("{s}-0")).collect();
        let mut out = Vec::new();
        for (key, list) in self.redis.xread_streams(keys, ids, limit, block).await? {
            let Some(user) = id_of_lane_key(&key).map(UserId) else {
                continue;
            };
            for (id, fields) in list {
                let (Some(seq), Some(event)) = (seq_of(&id), decode_feed(&fields)) else {
                    continue;
                };
                out.push(FeedEntry {
                    user_id: user,
                    seq: u64::try_from(seq).unwrap_or(0),
                    event,
                });
            }
        }
        Ok(out)
    }

    fn read_lanes(&self) -> usize {
        self.redis.read_lanes()
    }

    fn read_lane(&self, user: UserId) -> usize {
        self.redis.read_lane(user.get())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::user_feed_contract!(super::RedisUserFeed::new(
        crate::redis::test_redis().await
    ));
}
