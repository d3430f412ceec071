//! The backend named by the environment, and secrets that never print.

use std::fmt;

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a deployment keeps its state.
#[derive(Debug, Clone)]
pub enum Backend {
    /// Every port in memory (the default when neither `DATABASE_URL` nor `REDIS_URL` is set).
    InMemory,
    /// Postgres for what lasts, Redis for what moves.
    PostgresRedis {
        /// `DATABASE_URL`.
        database_url: Secret,
        /// `REDIS_URL`.
        redis_url: Secret,
        /// `REDIS_PREFIX`.
        redis_prefix: String,
    },
}

/// Why the environment names no usable backend.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BackendConfigError {
    /// Only one of `DATABASE_URL` / `REDIS_URL` is set.
    #[error("set both DATABASE_URL and REDIS_URL (Postgres + Redis), or neither (in-memory); only {0} is set")]
    HalfBackend(&'static str),
}

impl Backend {
    /// Reads `DATABASE_URL`, `REDIS_URL` and `REDIS_PREFIX` through `get` (blank counts as
    /// unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, BackendConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        match (non_empty("DATABASE_URL"), non_empty("REDIS_URL")) {
            (None, None) => Ok(Backend::InMemory),
            (Some(db), Some(redis)) => Ok(Backend::PostgresRedis {
                database_url: Secret(db),
                redis_url: Secret(redis),
                redis_prefix: non_empty("REDIS_PREFIX").unwrap_or_default(),
            }),
            (Some(_), None) => Err(BackendConfigError::HalfBackend("DATABASE_URL")),
            (None, Some(_)) => Err(BackendConfigError::HalfBackend("REDIS_URL")),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, BackendConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn backend(vars: &[(&str, &str)]) -> Result<Backend, BackendConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Backend::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_in_memory() {
        assert!(matches!(backend(&[]), Ok(Backend::InMemory)));
        assert!(matches!(
            backend(&[("DATABASE_URL", " "), ("REDIS_URL", "")]),
            Ok(Backend::InMemory)
        ));
    }

    #[test]
    fn one_url_alone_is_refused() {
        assert_eq!(
            backend(&[("DATABASE_URL", "postgres://x")]).unwrap_err(),
            BackendConfigError::HalfBackend("DATABASE_URL")
        );
        assert_eq!(
            backend(&[("REDIS_URL", "redis://x")]).unwrap_err(),
            BackendConfigError::HalfBackend("REDIS_URL")
        );
    }

    #[test]
    fn both_urls_and_the_prefix_are_read_and_hidden_when_printed() {
        let b = backend(&[
            ("DATABASE_URL", "postgres://u:pw@h/db"),
            ("REDIS_URL", "redis://h"),
            ("REDIS_PREFIX", "t1:"),
        ])
        .unwrap();
        let Backend::PostgresRedis {
            database_url,
            redis_prefix,
            ..
        } = &b
        else {
            panic!("expected Postgres + Redis, got {b:?}");
        };
        assert_eq!(database_url.expose(), "postgres://u:pw@h/db");
        assert_eq!(redis_prefix, "t1:");
        assert!(!format!("{b:?}").contains("pw@h"));
    }
}
