//! Lua scripts run by their SHA1 (`EVALSHA`): a script's body crosses the wire, and is hashed
//! by Redis, only when a node does not know it yet (after a restart, or on a cluster node that
//! has not run it). Then `EVAL` runs it and caches it there, so the next call is by hash again.

use super::{classify, Redis};
use fred::prelude::*;
use fred::types::{FromValue, MultipleKeys, Value};
use messenger_core::StoreError;
use sha1::{Digest, Sha1};
use std::sync::OnceLock;

/// A Lua script with its SHA1, computed once.
pub(crate) struct Script {
    body: &'static str,
    sha: OnceLock<String>,
}

impl Script {
    pub(crate) const fn new(body: &'static str) -> Self {
        Script {
            body,
            sha: OnceLock::new(),
        }
    }

    fn sha(&self) -> &str {
        self.sha.get_or_init(|| {
            Sha1::digest(self.body.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
    }

    /// Runs the script on `keys` (all of one hash slot) with `args`.
    pub(crate) async fn run<R: FromValue>(
        &self,
        redis: &Redis,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<R, StoreError> {
        let keys = MultipleKeys::from(keys);
        let args = Value::Array(args.into_iter().map(Value::from).collect());
        let pool = redis.pool();
        match pool.evalsha(self.sha(), keys.clone(), args.clone()).await {
            Err(e) if e.details().starts_with("NOSCRIPT") => {
                pool.eval(self.body, keys, args).await.map_err(classify)
            }
            other => other.map_err(classify),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_one_redis_gives_the_body() {
        // `redis-cli SCRIPT LOAD "return 1"`.
        let script = Script::new("return 1");
        assert_eq!(script.sha(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }

    #[tokio::test]
    async fn a_script_runs_by_hash_and_again_after_redis_forgot_it() {
        let redis = crate::redis::test_redis().await;
        let key = redis.key("script-test");
        let script = Script::new("return redis.call('INCR', KEYS[1]) + tonumber(ARGV[1])");
        let first: i64 = script
            .run(&redis, vec![key.clone()], vec!["10".into()])
            .await
            .expect("runs");
        let second: i64 = script
            .run(&redis, vec![key.clone()], vec!["10".into()])
            .await
            .expect("runs by hash");
        // As after a restart: Redis knows no script. (Other tests just load theirs again.)
        redis
            .pool()
            .next()
            .script_flush_cluster(false)
            .await
            .expect("flushes");
        let third: i64 = script
            .run(&redis, vec![key], vec!["10".into()])
            .await
            .expect("loads and runs again");
        assert_eq!((first, second, third), (11, 12, 13));
    }
}
