//! Opening a backend: its ports, the connections behind them (readiness, shutdown), and how
//! commit notices reach the node that is waiting for them.

use super::{Backend, Secret};
use crate::crypto::{Argon2Hasher, JwtCodec};
use crate::memory::in_memory_ports;
use crate::postgres::{self, PgChatRepo, PgMessageStore, PgUserRepo};
use crate::redis::{
    Redis, RedisChatStream, RedisCommitBus, RedisMembers, RedisPresence, RedisRevocations,
    RedisUserFeed,
};
use crate::SystemClock;
use messenger_core::ports::CommitNotifier;
use messenger_core::services::Ports;
use messenger_core::{NodeId, StoreError};
use sqlx::PgPool;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Postgres connections a node opens.
const PG_CONNECTIONS: u32 = 16;

/// What opening a backend does about a database whose schema is older than this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply what is pending (the server, at start).
    Apply,
    /// Refuse to open it (the operator's commands other than `migrate`: changing the schema
    /// is an explicit step).
    RequireCurrent,
}

/// Why a backend could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Postgres did not answer, or refused the connection.
    #[error("cannot connect to Postgres (DATABASE_URL)")]
    Postgres(#[source] StoreError),
    /// Redis did not answer, or refused the connection.
    #[error("cannot connect to Redis (REDIS_URL)")]
    Redis(#[source] StoreError),
    /// A migration failed.
    #[error("cannot migrate the database")]
    Migrate(#[source] StoreError),
    /// The schema is older than this build and [`Migrations::RequireCurrent`] was asked for.
    #[error("the database is behind this build ({pending} migration(s) pending); run `messenger-cli migrate` first")]
    SchemaBehind {
        /// How many migrations are not applied.
        pending: usize,
    },
    /// Redis's message id counter could not be lifted above the stored ids.
    #[error("cannot align the message id counter with the database")]
    Align(#[source] StoreError),
}

/// Connections of the Postgres + Redis backend.
pub struct Shared {
    /// Postgres.
    pub pg: PgPool,
    /// Redis.
    pub redis: Arc<Redis>,
    /// Where Redis is (the commit bus opens its own subscriber connection).
    pub redis_url: Secret,
}

/// The ports, and what they run on.
pub struct Storage {
    /// One implementation of each port.
    pub ports: Ports,
    /// `None` in memory, or for ports an embedder built.
    pub shared: Option<Shared>,
}

/// How a node's persister tells waiting connections that their change is committed.
pub struct CommitRouting {
    /// What the persister calls after each commit.
    pub notifier: Arc<dyn CommitNotifier>,
    /// Receives other nodes' notices for this node's connections, until `stop`; the caller
    /// spawns it on a task it owns. `None` when every notice stays on this node.
    pub listener: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Storage {
    /// Ports the caller built (embedders, tests): nothing shared to check or close.
    pub fn from_ports(ports: Ports) -> Self {
        Storage {
            ports,
            shared: None,
        }
    }

    /// Opens `backend`: in memory, or Postgres + Redis with the schema handled as `migrations`
    /// says. `jwt_secret` signs and checks access tokens.
    pub async fn open(
        backend: &Backend,
        jwt_secret: &[u8],
        migrations: Migrations,
    ) -> Result<Self, OpenError> {
        let Backend::PostgresRedis {
            database_url,
            redis_url,
            redis_prefix,
        } = backend
        else {
            return Ok(Storage::from_ports(in_memory_ports(jwt_secret)));
        };
        let pg = postgres::connect(database_url.expose(), PG_CONNECTIONS)
            .await
            .map_err(OpenError::Postgres)?;
        let redis = match Self::prepare(&pg, migrations, redis_url, redis_prefix).await {
            Ok(redis) => redis,
            Err(e) => {
                // An embedder or a test may try again in this process: nothing left open.
                pg.close().await;
                return Err(e);
            }
        };
        let messages = Arc::new(PgMessageStore::new(pg.clone()));
        let stream = Arc::new(RedisChatStream::new(redis.clone(), messages.clone()));
        // Redis may be behind the store (it lost its newest writes): positions must not repeat.
        if let Err(e) = stream.raise_counter().await {
            redis.quit().await;
            pg.close().await;
            return Err(OpenError::Align(e));
        }
        let ports = Ports {
            users: Arc::new(PgUserRepo::new(pg.clone())),
            chats: Arc::new(RedisMembers::new(
                PgChatRepo::new(pg.clone()),
                redis.clone(),
            )),
            messages,
            log: stream.clone(),
            lanes: stream.clone(),
            persist_queue: stream,
            feed: Arc::new(RedisUserFeed::new(redis.clone())),
            presence: Arc::new(RedisPresence::new(redis.clone())),
            hasher: Arc::new(Argon2Hasher::default()),
            tokens: Arc::new(JwtCodec::new(jwt_secret)),
            revocations: Arc::new(RedisRevocations::new(redis.clone())),
            clock: Arc::new(SystemClock),
        };
        Ok(Storage {
            ports,
            shared: Some(Shared {
                pg,
                redis,
                redis_url: redis_url.clone(),
            }),
        })
    }

    /// Brings the schema to what `migrations` asks, then connects to Redis.
    async fn prepare(
        pg: &PgPool,
        migrations: Migrations,
        redis_url: &Secret,
        redis_prefix: &str,
    ) -> Result<Arc<Redis>, OpenError> {
        match migrations {
            Migrations::Apply => postgres::migrate(pg).await.map_err(OpenError::Migrate)?,
            Migrations::RequireCurrent => {
                let pending = postgres::pending_migrations(pg)
                    .await
                    .map_err(OpenError::Postgres)?;
                if pending > 0 {
                    return Err(OpenError::SchemaBehind { pending });
                }
            }
        }
        Redis::connect(redis_url.expose(), redis_prefix)
            .await
            .map_err(OpenError::Redis)
    }

    /// Whether the state survives a restart of the process (false in memory).
    pub fn is_durable(&self) -> bool {
        self.shared.is_some()
    }

    /// `Ok` when every backing service answers.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let (pg, redis) = tokio::join!(postgres::ping(&shared.pg), shared.redis.ping());
        pg?;
        redis
    }

    /// How commit notices reach node `node`'s connections: straight to `local` in memory; over
    /// Redis with several nodes, where the persister that commits a change may run elsewhere.
    pub fn commit_routing(
        &self,
        node: NodeId,
        local: Arc<dyn CommitNotifier>,
        stop: CancellationToken,
    ) -> CommitRouting {
        let Some(shared) = &self.shared else {
            return CommitRouting {
                notifier: local,
                listener: None,
            };
        };
        let bus = Arc::new(RedisCommitBus::new(shared.redis.clone(), node, local));
        let (listener, url) = (bus.clone(), shared.redis_url.clone());
        CommitRouting {
            notifier: bus,
            listener: Some(Box::pin(async move {
                if let Err(e) = listener.listen(url.expose(), stop).await {
                    tracing::error!(error = %messenger_core::error::Chain(&e), "commit notices from other nodes stopped");
                }
            })),
        }
    }

    /// Closes the connections.
    pub async fn close(&self) {
        if let Some(shared) = &self.shared {
            shared.redis.quit().await;
            shared.pg.close().await;
        }
    }
}
