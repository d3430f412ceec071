//! The storage and services the CLI works on: the server's own, built from the same
//! environment (so `DATABASE_URL` and `REDIS_URL` mean the same thing; opening applies
//! pending migrations, as the server does).

use anyhow::{bail, Context as _};
use messenger_core::services::{AuthSettings, Services};
use messenger_core::{CoreError, User, UserId};
use messenger_server::config::{Backend, Config};
use messenger_server::storage::Storage;
use sqlx::PgPool;

/// What every command works with.
pub struct Context {
    pub storage: Storage,
    pub services: Services,
}

impl Context {
    pub async fn open() -> anyhow::Result<Self> {
        let config = Config::from_env()?;
        if matches!(config.backend, Backend::InMemory) {
            bail!("set DATABASE_URL and REDIS_URL: the CLI works on a deployment's Postgres and Redis");
        }
        // Tokens are not issued here; the secret only has to be a valid key.
        let secret = config
            .jwt_secret
            .as_ref()
            .map_or_else(|| b"cli".to_vec(), |s| s.expose().as_bytes().to_vec());
        let storage = Storage::open(&config, &secret).await?;
        let services = Services::new(storage.ports.clone(), AuthSettings::default());
        Ok(Context { storage, services })
    }

    pub fn postgres(&self) -> anyhow::Result<&PgPool> {
        self.storage
            .shared
            .as_ref()
            .map(|s| &s.pg)
            .context("this needs the Postgres backend")
    }

    /// `42` or `@alice`.
    pub async fn user(&self, who: &str) -> anyhow::Result<User> {
        let users = &self.storage.ports.users;
        let found = match who.strip_prefix('@') {
            Some(name) => users.by_username(name).await.map_err(CoreError::from)?,
            None => {
                let id: i64 = who
                    .parse()
                    .with_context(|| format!("{who:?} is neither an id nor @username"))?;
                users.by_id(UserId(id)).await.map_err(CoreError::from)?
            }
        };
        found.with_context(|| format!("no user {who}"))
    }
}
