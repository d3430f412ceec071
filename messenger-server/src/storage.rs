//! Where a node keeps its state: the ports built from the configuration, and for the
//! Postgres + Redis backend the connections behind them (for readiness and shutdown).

use crate::config::{Backend, Config};
use anyhow::Context;
use messenger_adapters::crypto::{Argon2Hasher, JwtCodec};
use messenger_adapters::memory::in_memory_ports;
use messenger_adapters::postgres::{self, PgChatRepo, PgMessageStore, PgUserRepo};
use messenger_adapters::redis::{
    Redis, RedisChatStream, RedisMembers, RedisPresence, RedisRevocations, RedisUserFeed,
};
use messenger_adapters::SystemClock;
use messenger_core::services::Ports;
use sqlx::PgPool;
use std::sync::Arc;

/// Connections of the Postgres + Redis backend.
pub struct Shared {
    /// Postgres.
    pub pg: PgPool,
    /// Redis.
    pub redis: Arc<Redis>,
    /// Where Redis is (the commit bus opens its own subscriber connection).
    pub redis_url: String,
}

/// The ports, and what they run on.
pub struct Storage {
    /// One implementation of each port.
    pub ports: Ports,
    /// `None` in memory.
    pub shared: Option<Shared>,
}

impl Storage {
    /// Ports the caller built (embedders, tests): nothing shared to check.
    pub fn from_ports(ports: Ports) -> Self {
        Storage {
            ports,
            shared: None,
        }
    }

    /// Opens the backend named by `config`: in memory, or Postgres (migrated) + Redis.
    pub async fn open(config: &Config, jwt_secret: &[u8]) -> anyhow::Result<Self> {
        let Backend::PostgresRedis {
            database_url,
            redis_url,
            redis_prefix,
        } = &config.backend
        else {
            return Ok(Storage::from_ports(in_memory_ports(jwt_secret)));
        };
        let pg = postgres::connect(database_url.expose(), 16)
            .await
            .context("cannot connect to Postgres (DATABASE_URL)")?;
        postgres::migrate(&pg)
            .await
            .context("cannot migrate the database")?;
        let redis = Redis::connect(redis_url.expose(), redis_prefix)
            .await
            .context("cannot connect to Redis (REDIS_URL)")?;
        let messages = Arc::new(PgMessageStore::new(pg.clone()));
        let stream = Arc::new(RedisChatStream::new(redis.clone(), messages.clone()));
        // Redis may be behind the store (it lost its newest writes): positions must not repeat.
        stream
            .raise_counter()
            .await
            .context("cannot align the message id counter with the database")?;
        let ports = Ports {
            users: Arc::new(PgUserRepo::new(pg.clone())),
            chats: Arc::new(RedisMembers::new(
                PgChatRepo::new(pg.clone()),
                redis.clone(),
            )),
            messages: messages.clone(),
            stream,
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
                redis_url: redis_url.expose().to_owned(),
            }),
        })
    }

    /// `Ok` when every backing service answers.
    pub async fn ready(&self) -> Result<(), String> {
        let Some(shared) = &self.shared else {
            return Ok(());
        };
        let (pg, redis) = tokio::join!(postgres::ping(&shared.pg), shared.redis.ping());
        pg.map_err(|e| e.to_string())?;
        redis.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Closes the connections.
    pub async fn close(&self) {
        if let Some(shared) = &self.shared {
            shared.redis.quit().await;
            shared.pg.close().await;
        }
    }
}
