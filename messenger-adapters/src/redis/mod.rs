//! Redis: what moves. Per-chat event streams (the queue, read by every node for fan-out and
//! by the persisters through a consumer group), per-user feeds, online sets and token
//! revocations, through fred.
//!
//! Every key of a chat carries the chat's hash tag (`chat:{42}:…`) and every key of a user the
//! user's (`user:{7}:…`), so that the scripts touching several keys stay within one slot on a
//! Redis Cluster. All keys start with a configurable prefix, so tests and deployments can share
//! one Redis.

mod chat_stream;
mod codec;
mod commit_bus;
mod members;
mod presence;
mod revocations;
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
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// Connections of one node to Redis: a small pool for ordinary commands, and a few dedicated
/// clients for blocking reads (a blocking command holds its connection). Their number is
/// fixed: it does not grow with sockets or chats.
pub struct Redis {
    pool: Pool,
    prefix: String,
    blocking_free: mpsc::UnboundedSender<Client>,
    blocking: Mutex<mpsc::UnboundedReceiver<Client>>,
    all_blocking: Vec<Client>,
}

/// The counter every stream position (and so every message id) comes from.
pub(crate) const SEQ_KEY: &str = "seq:events";

/// Connections in the ordinary pool.
const POOL_SIZE: usize = 4;
/// Dedicated clients for blocking reads (hub readers and the persister).
const BLOCKING_CLIENTS: usize = 6;

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("redis: {e}"))
}

impl Redis {
    /// Connects to `url`; every key starts with `prefix` (may be empty).
    pub async fn connect(url: &str, prefix: &str) -> Result<Arc<Redis>, StoreError> {
        let mut config = Config::from_url(url).map_err(unavailable)?;
        config.fail_fast = true;
        let policy = ReconnectPolicy::new_constant(0, 250);
        let pool = Builder::from_config(config.clone())
            .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(3))
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(3))
            .set_policy(policy.clone())
            .build_pool(POOL_SIZE)
            .map_err(unavailable)?;
        init(&pool).await?;
        config.blocking = Blocking::Interrupt;
        let (blocking_free, rx) = mpsc::unbounded_channel();
        let mut all_blocking = Vec::new();
        for _ in 0..BLOCKING_CLIENTS {
            let client = Builder::from_config(config.clone())
                .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(30))
                .with_connection_config(|c| c.connection_timeout = Duration::from_secs(3))
                .set_policy(policy.clone())
                .build()
                .map_err(unavailable)?;
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

    /// Borrows a dedicated client for one blocking command. If the command's future is dropped
    /// while it blocks, the next command on that client interrupts it (`CLIENT UNBLOCK`).
    pub(crate) async fn blocking(&self) -> Result<BlockingClient<'_>, StoreError> {
        let client = self
            .blocking
            .lock()
            .await
            .recv()
            .await
            .ok_or_else(|| unavailable("no blocking client"))?;
        Ok(BlockingClient {
            client: Some(client),
            home: &self.blocking_free,
        })
    }

    /// `XREAD` of `keys` after `ids` (up to `count` each), on a blocking client when `block`
    /// is given: the streams that had entries.
    pub(crate) async fn xread_streams(
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
        .map_err(unavailable)?;
        Ok(streams::streams(reply))
    }

    /// Takes a block of `n` consecutive stream positions from the counter live messages use
    /// (for bulk loads); returns the first. Raise the counter above the store first.
    pub async fn reserve_positions(&self, n: i64) -> Result<i64, StoreError> {
        let last: i64 = self
            .pool
            .incr_by(self.key(SEQ_KEY), n)
            .await
            .map_err(unavailable)?;
        Ok(last - n + 1)
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool.ping::<()>(None).await.map_err(unavailable)
    }

    /// Closes every connection.
    pub async fn quit(&self) {
        let _ = self.pool.quit().await;
        for c in &self.all_blocking {
            let _ = c.quit().await;
        }
    }
}

async fn init<C: ClientLike>(client: &C) -> Result<(), StoreError> {
    match tokio::time::timeout(Duration::from_secs(5), client.init()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unavailable(e)),
        Err(_) => Err(unavailable("connection timed out")),
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
