//! Redis: what moves. Per-chat event streams (the queue, read by every node for fan-out and
//! by the persisters through a consumer group), per-user feeds, online sets and token
//! revocations, through fred.
//!
//! On a Redis Cluster every command and script must keep to keys of one hash slot. The keys a
//! script touches together carry one hash tag: a chat's stream, its persist lock and its
//! `client_id` marks carry its read lane's (`chat:{l3}:42:events`), and a user's feed and its
//! counter theirs (`user:{l7}:7:feed`). The lane tag, rather than the chat's own, lets one
//! blocking `XREAD` wait on every stream of a lane: a node keeps one reader per lane, so its
//! connections stay fixed however many chats it follows. Single-key structures (member sets,
//! presence) carry the chat's or user's own tag and spread over the whole cluster.
//! All keys start with a configurable prefix, so tests and deployments can share one Redis.

mod chat_stream;
mod codec;
mod commit_bus;
mod members;
mod presence;
mod revocations;
mod script;
mod streams;
mod user_feed;

pub use chat_stream::{RedisChatStream, SeqFloor};
pub use commit_bus::RedisCommitBus;
pub use members::RedisMembers;
pub use presence::RedisPresence;
pub use revocations::RedisRevocations;
pub use user_feed::RedisUserFeed;

use fred::prelude::*;
use fred::types::config::{Blocking, ReconnectPolicy};
use messenger_core::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// Connections of one node to Redis: a small pool for ordinary commands, and a few dedicated
/// clients for blocking reads (a blocking command holds its connection). Their number is
/// fixed: it does not grow with sockets or chats.
pub struct Redis {
    pool: Pool,
    prefix: String,
    clustered: bool,
    blocking_free: mpsc::UnboundedSender<Client>,
    blocking: Mutex<mpsc::UnboundedReceiver<Client>>,
    all_blocking: Vec<Client>,
}

/// The counter every stream position (and so every message id) comes from.
pub(crate) const SEQ_KEY: &str = "seq:events";

/// Connections in the ordinary pool.
const POOL_SIZE: usize = 4;
/// Dedicated clients for blocking reads (hub readers and the persister) on a single Redis.
const BLOCKING_CLIENTS: usize = 6;
/// Read lanes: the hash tags streams are spread over (see the module's doc).
pub(crate) const LANES: i64 = 8;
/// On a cluster, each hub keeps a reader per lane (chats and feeds), plus the persister.
const CLUSTER_BLOCKING_CLIENTS: usize = 2 * LANES as usize + 2;

/// A driver error as the port's error: Redis down, unreachable, loading, overloaded or
/// failing over is `Unavailable` (a retry may succeed); a command or script Redis rejects, or a
/// reply that does not fit, is a bug: `Internal`.
pub(crate) fn classify(e: fred::error::Error) -> StoreError {
    use fred::error::ErrorKind;
    let bug = match e.kind() {
        ErrorKind::InvalidCommand
        | ErrorKind::InvalidArgument
        | ErrorKind::Parse
        | ErrorKind::NotFound
        | ErrorKind::Url
        | ErrorKind::Config => true,
        // Server error replies: `ERR …` (a script's or a command's own error) is a bug, but for
        // a server that is full; `LOADING`, `BUSY`, `OOM`, `READONLY`, `MASTERDOWN`, `TRYAGAIN`
        // are states Redis leaves by itself.
        ErrorKind::Unknown => {
            e.details().starts_with("ERR") && !e.details().contains("max number of clients reached")
        }
        _ => false,
    };
    if bug {
        StoreError::internal(e)
    } else {
        StoreError::unavailable(e)
    }
}

impl Redis {
    /// Connects to `url`; every key starts with `prefix` (may be empty).
    pub async fn connect(url: &str, prefix: &str) -> Result<Arc<Redis>, StoreError> {
        let mut config = Config::from_url(url).map_err(classify)?;
        config.fail_fast = true;
        let policy = ReconnectPolicy::new_constant(0, 250);
        let pool = Builder::from_config(config.clone())
            .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(3))
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(3))
            .set_policy(policy.clone())
            .build_pool(POOL_SIZE)
            .map_err(classify)?;
        init(&pool).await?;
        let clustered = config.server.is_clustered();
        config.blocking = Blocking::Interrupt;
        let (blocking_free, rx) = mpsc::unbounded_channel();
        let mut all_blocking = Vec::new();
        let blocking_clients = if clustered {
            CLUSTER_BLOCKING_CLIENTS
        } else {
            BLOCKING_CLIENTS
        };
        for _ in 0..blocking_clients {
            let client = Builder::from_config(config.clone())
                .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(30))
                .with_connection_config(|c| c.connection_timeout = Duration::from_secs(3))
                .set_policy(policy.clone())
                .build()
                .map_err(classify)?;
            init(&client).await?;
            all_blocking.push(client.clone());
            let _ = blocking_free.send(client);
        }
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}:")
        };
        Ok(Arc::new(Redis {
            pool,
            prefix,
            clustered,
            blocking_free,
            blocking: Mutex::new(rx),
            all_blocking,
        }))
    }

    /// The pool for ordinary commands.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// `rest` with the deployment's prefix.
    pub fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Whether this is a Redis Cluster (multi-key commands must stay within one slot).
    pub fn is_clustered(&self) -> bool {
        self.clustered
    }

    /// How many lanes blocking stream reads must be split into: one on a single Redis, where
    /// one `XREAD` may wait on any keys; [`LANES`] on a cluster.
    pub(crate) fn read_lanes(&self) -> usize {
        if self.clustered {
            LANES as usize
        } else {
            1
        }
    }

    /// The read lane of the chat or user `id` (see [`Redis::read_lanes`]).
    pub(crate) fn read_lane(&self, id: i64) -> usize {
        if self.clustered {
            lane_of(id) as usize
        } else {
            0
        }
    }

    /// The key `{kind}:{l<lane>}:{id}:{rest}`, tagged with the lane of `id` (see the module's
    /// doc); [`id_of_lane_key`] reads `id` back.
    pub(crate) fn lane_key(&self, kind: &str, id: i64, rest: &str) -> String {
        lane_key(&self.prefix, kind, id, rest)
    }

    /// Borrows a dedicated client for one blocking command. If the command's future is dropped
    /// while it blocks, the next command on that client interrupts it (`CLIENT UNBLOCK`).
    pub(crate) async fn blocking(&self) -> Result<BlockingClient<'_>, StoreError> {
        let client = self
            .blocking
            .lock()
            .await
            .recv()
            .await
            .ok_or_else(|| StoreError::internal_msg("the blocking clients were dropped"))?;
        Ok(BlockingClient {
            client: Some(client),
            home: &self.blocking_free,
        })
    }

    /// `XREAD` of `keys` after `ids` (up to `count` each), on a blocking client when `block`
    /// is given: the streams that had entries. On a cluster the keys are read per hash slot;
    /// a blocking read is meant for the keys of one lane (one slot), and one that spans several
    /// waits on the first slot's keys only, after finding the others empty.
    pub(crate) async fn xread_streams(
        &self,
        keys: Vec<String>,
        ids: Vec<String>,
        count: usize,
        block: Option<Duration>,
    ) -> Result<Vec<(String, Vec<streams::Entry>)>, StoreError> {
        if !self.clustered {
            return self.xread_once(keys, ids, count, block).await;
        }
        let mut by_slot: BTreeMap<u16, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for (key, id) in keys.into_iter().zip(ids) {
            let group = by_slot
                .entry(fred::util::redis_keyslot(key.as_bytes()))
                .or_default();
            group.0.push(key);
            group.1.push(id);
        }
        let mut groups: Vec<_> = by_slot.into_values().collect();
        let blocking_group = match block {
            Some(_) if !groups.is_empty() => Some(groups.remove(0)),
            _ => None,
        };
        let reads = groups
            .into_iter()
            .map(|(keys, ids)| self.xread_once(keys, ids, count, None));
        let mut out = Vec::new();
        for read in futures_util::future::join_all(reads).await {
            out.extend(read?);
        }
        if let Some((keys, ids)) = blocking_group {
            let wait = if out.is_empty() { block } else { None };
            out.extend(self.xread_once(keys, ids, count, wait).await?);
        }
        Ok(out)
    }

    async fn xread_once(
        &self,
        keys: Vec<String>,
        ids: Vec<String>,
        count: usize,
        block: Option<Duration>,
    ) -> Result<Vec<(String, Vec<streams::Entry>)>, StoreError> {
        let count = Some(count as u64);
        let reply: fred::types::Value = match block {
            None => self.pool.xread(count, None, keys, ids).await,
            Some(b) => {
                let client = self.blocking().await?;
                client
                    .xread(count, Some(b.as_millis() as u64), keys, ids)
                    .await
            }
        }
        .map_err(classify)?;
        Ok(streams::streams(reply))
    }

    /// Takes a block of `n` consecutive stream positions from the counter live messages use
    /// (for bulk loads); returns the first. Raise the counter above the store first.
    pub async fn reserve_positions(&self, n: i64) -> Result<i64, StoreError> {
        let last: i64 = self
            .pool
            .incr_by(self.key(SEQ_KEY), n)
            .await
            .map_err(classify)?;
        Ok(last - n + 1)
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool.ping::<()>(None).await.map_err(classify)
    }

    /// Closes every connection.
    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
        for c in &self.all_blocking {
            let _ = c.quit().await;
        }
    }
}

fn lane_of(id: i64) -> i64 {
    id.rem_euclid(LANES)
}

fn lane_key(prefix: &str, kind: &str, id: i64, rest: &str) -> String {
    format!("{prefix}{kind}:{{l{}}}:{id}:{rest}", lane_of(id))
}

/// The id in a key made by [`Redis::lane_key`].
pub(crate) fn id_of_lane_key(key: &str) -> Option<i64> {
    let after_tag = &key[key.find("}:")? + 2..];
    after_tag.split(':').next()?.parse().ok()
}

async fn init<C: ClientLike>(client: &C) -> Result<(), StoreError> {
    match tokio::time::timeout(Duration::from_secs(5), client.init()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(StoreError::unavailable_msg("redis: connection timed out")),
    }
}

/// A borrowed blocking client, returned on drop.
pub(crate) struct BlockingClient<'a> {
    client: Option<Client>,
    home: &'a mpsc::UnboundedSender<Client>,
}

impl std::ops::Deref for BlockingClient<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until dropped")
    }
}

impl Drop for BlockingClient<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.home.send(c);
        }
    }
}

/// A Redis of its own for one test: `REDIS_URL` (default the local one) with a unique prefix.
#[cfg(any(test, feature = "test-services"))]
pub async fn test_redis() -> Arc<Redis> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = crate::test_services::redis_url().await;
    let prefix = format!(
        "t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    );
    match Redis::connect(&url, &prefix).await {
        Ok(r) => r,
        Err(e) => panic!(
            "no Redis at {url} ({e}). Start it (redis-server --daemonize yes --port 6379 --save '' --appendonly no) or set REDIS_URL"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fred::util::redis_keyslot;

    fn slot(key: &str) -> u16 {
        redis_keyslot(key.as_bytes())
    }

    #[test]
    fn the_keys_a_script_touches_together_share_a_slot_and_so_do_the_streams_of_a_lane() {
        let key = |id, rest| lane_key("t1:", "chat", id, rest);
        let stream = key(42, "events");
        assert_eq!(slot(&stream), slot(&key(42, "persist-lock")));
        assert_eq!(slot(&stream), slot(&key(42, "client:7:c-1")));
        assert_eq!(slot(&stream), slot(&key(42 + LANES, "events")));
        assert_eq!(
            slot(&lane_key("", "user", 7, "feed")),
            slot(&lane_key("", "user", 7, "feed-seq"))
        );
        let lanes: std::collections::HashSet<u16> =
            (0..LANES).map(|id| slot(&key(id, "events"))).collect();
        assert_eq!(lanes.len(), LANES as usize, "each lane its own slot");
    }

    #[test]
    fn the_id_is_read_back_from_a_lane_key() {
        assert_eq!(
            id_of_lane_key(&lane_key("p:", "chat", 42, "events")),
            Some(42)
        );
        assert_eq!(id_of_lane_key(&lane_key("", "user", -3, "feed")), Some(-3));
        assert_eq!(id_of_lane_key("chat:42:events"), None);
    }
}
