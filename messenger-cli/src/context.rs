//! The storage and services the CLI works on: the same backend the server opens, from the
//! same variables (`DATABASE_URL`, `REDIS_URL`, `REDIS_PREFIX`). Unlike the server, the CLI
//! never migrates as a side effect: on a database that is behind it says so and stops.

use anyhow::{bail, Context as _};
use messenger_adapters::backend::{Backend, Migrations, Storage};
use messenger_core::services::{AuthSettings, Services};
use messenger_core::{CoreError, User, UserId};

/// What every command works with.
pub struct Context {
    pub storage: Storage,
    pub services: Services,
}

/// The deployment's backend; the CLI has nothing to work on in memory.
pub fn shared_backend() -> anyhow::Result<Backend> {
    let backend = Backend::from_env()?;
    if !backend.is_shared() {
        bail!("set DATABASE_URL and REDIS_URL: the CLI works on a deployment's Postgres and Redis");
    }
    Ok(backend)
}

impl Context {
    pub async fn open() -> anyhow::Result<Self> {
        let backend = shared_backend()?;
        // Tokens are not issued here; the secret only has to be a valid key.
        let secret = std::env::var("JWT_SECRET").unwrap_or_else(|_| "cli".to_owned());
        let storage =
            Storage::open(&backend, secret.as_bytes(), Migrations::RequireCurrent).await?;
        let services = Services::new(storage.ports.clone(), AuthSettings::default());
        Ok(Context { storage, services })
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
