//! Configuration, read once from the environment.

use messenger_adapters::backend::{Backend, BackendConfigError, Secret};
use std::net::SocketAddr;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MESSENGER_ADDR`: where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Storage backend.
    pub backend: Backend,
    /// `JWT_SECRET`; `None` means a random one per process.
    pub jwt_secret: Option<Secret>,
    /// `MESSENGER_SEND_RATE`: messages per second per user (burst: twice that).
    pub send_rate_per_sec: f64,
    /// `MESSENGER_TOKEN_TTL_SECS`: token lifetime.
    pub token_ttl_secs: i64,
    /// Seconds between pings on every socket.
    pub ping_interval_secs: u64,
    /// Seconds a socket write may wait for a peer that does not read before the socket is
    /// closed (4008).
    pub write_timeout_secs: u64,
    /// `MESSENGER_WEB_DIR` (development): serve the web client from this folder instead of
    /// the copy embedded in the binary.
    pub web_dir: Option<std::path::PathBuf>,
}

/// Why the environment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable is set to something unusable.
    #[error("{name} is not valid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The storage variables name no usable backend.
    #[error(transparent)]
    Backend(#[from] BackendConfigError),
}

impl Config {
    /// Reads `MESSENGER_ADDR`, `DATABASE_URL`, `REDIS_URL`, `JWT_SECRET`, `REDIS_PREFIX`,
    /// `MESSENGER_SEND_RATE` and `MESSENGER_TOKEN_TTL_SECS` through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let addr = non_empty("MESSENGER_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr = addr.parse().map_err(|e| ConfigError::Invalid {
            name: "MESSENGER_ADDR",
            reason: format!("{e} (expected host:port, e.g. 127.0.0.1:8080)"),
        })?;
        let backend = Backend::from_lookup(&get)?;
        let send_rate_per_sec = match non_empty("MESSENGER_SEND_RATE") {
            None => 50.0,
            Some(raw) => raw
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r > 0.0)
                .ok_or(ConfigError::Invalid {
                    name: "MESSENGER_SEND_RATE",
                    reason: format!("{raw:?} is not a positive number"),
                })?,
        };
        let token_ttl_secs = match non_empty("MESSENGER_TOKEN_TTL_SECS") {
            None => 7 * 24 * 3600,
            Some(raw) => {
                raw.parse::<i64>()
                    .ok()
                    .filter(|t| *t > 0)
                    .ok_or(ConfigError::Invalid {
                        name: "MESSENGER_TOKEN_TTL_SECS",
                        reason: format!("{raw:?} is not a positive whole number"),
                    })?
            }
        };
        Ok(Config {
            addr,
            backend,
            jwt_secret: non_empty("JWT_SECRET").map(Secret::new),
            send_rate_per_sec,
            token_ttl_secs,
            ping_interval_secs: 30,
            write_timeout_secs: 10,
            web_dir: non_empty("MESSENGER_WEB_DIR").map(Into::into),
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// In memory on a free local port, with a fixed secret: for tests.
    pub fn for_tests() -> Self {
        Config {
            addr: "127.0.0.1:0".parse().expect("a literal socket address"),
            backend: Backend::InMemory,
            jwt_secret: Some(Secret::new("test-secret")),
            send_rate_per_sec: 1000.0,
            token_ttl_secs: 3600,
            ping_interval_secs: 30,
            write_timeout_secs: 10,
            web_dir: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_in_memory_on_8080_with_a_random_secret() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert!(matches!(c.backend, Backend::InMemory));
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.send_rate_per_sec, 50.0);
    }

    #[test]
    fn one_backend_url_alone_is_refused() {
        assert!(matches!(
            config(&[("DATABASE_URL", "postgres://x")]),
            Err(ConfigError::Backend(BackendConfigError::HalfBackend(
                "DATABASE_URL"
            )))
        ));
        assert!(matches!(
            config(&[("REDIS_URL", "redis://x")]),
            Err(ConfigError::Backend(BackendConfigError::HalfBackend(
                "REDIS_URL"
            )))
        ));
    }

    #[test]
    fn bad_values_are_named() {
        let err = config(&[("MESSENGER_ADDR", "nope")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("MESSENGER_ADDR"), "{err}");
        let err = config(&[("MESSENGER_SEND_RATE", "-1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("MESSENGER_SEND_RATE"), "{err}");
    }

    #[test]
    fn secrets_do_not_print() {
        let c = config(&[
            ("JWT_SECRET", "hunter2"),
            ("DATABASE_URL", "postgres://u:pw@h/db"),
            ("REDIS_URL", "redis://h"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("pw@h"),
            "{shown}"
        );
    }
}
