//! What the operator's tool needs of a Postgres + Redis deployment beyond the ports: applying
//! migrations, listing every chat, and bulk-loading demo data.

use super::{Backend, OpenError, Storage};
use crate::postgres;
use messenger_core::{ChatId, StoreError};

/// What `messenger-cli seed` loads (see [`Storage::seed`]).
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// Users to create.
    pub users: usize,
    /// Group chats to create.
    pub chats: usize,
    /// Messages, spread over the chats.
    pub messages: usize,
    /// Participants per chat (at most `users`).
    pub members_per_chat: usize,
    /// The password hash every seeded user gets.
    pub password_hash: String,
    /// A short tag that makes this run's usernames unique (`seed_<tag>_<i>`).
    pub tag: String,
    /// The first phone number of this run's block (`+1` and ten digits).
    pub first_phone: u64,
}

/// Where a seed run's rows start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// The first user id created.
    pub first_user: i64,
    /// The first chat id created.
    pub first_chat: i64,
}

impl Storage {
    /// Applies pending migrations to the database at `database_url` (nothing else is opened).
    /// Returns how many were applied.
    pub async fn migrate(database_url: &super::Secret) -> Result<usize, OpenError> {
        let pg = postgres::connect(database_url.expose(), 1)
            .await
            .map_err(OpenError::Postgres)?;
        let result = async {
            let pending = postgres::pending_migrations(&pg)
                .await
                .map_err(OpenError::Postgres)?;
            postgres::migrate(&pg).await.map_err(OpenError::Migrate)?;
            Ok(pending)
        }
        .await;
        pg.close().await;
        result
    }

    /// Up to `limit` chats of the whole deployment, by id (the operator's view; in memory,
    /// none: nothing outlives the process that made it).
    pub async fn all_chat_ids(&self, limit: i64) -> Result<Vec<ChatId>, StoreError> {
        match &self.shared {
            Some(shared) => postgres::chat_ids(&shared.pg, limit).await,
            None => Ok(Vec::new()),
        }
    }

    /// Loads `plan` in one transaction (all or nothing), with message ids taken from the same
    /// counter live messages use. `progress` is told how many rows each step added.
    pub async fn seed(
        &self,
        plan: &SeedPlan,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Seeded, StoreError> {
        let Some(shared) = &self.shared else {
            return Err(StoreError::internal_msg(
                "seeding needs the Postgres + Redis backend",
            ));
        };
        // Ids must start above everything stored, even after Redis lost its counter.
        self.ports.persist_queue.sweep().await?;
        let first_message = shared.redis.reserve_positions(plan.messages as i64).await?;
        postgres::bulk_load(&shared.pg, plan, first_message, progress).await
    }
}

impl Backend {
    /// Whether this backend keeps state in Postgres and Redis.
    pub fn is_shared(&self) -> bool {
        matches!(self, Backend::PostgresRedis { .. })
    }
}
