//! Revoked tokens in Redis, visible to every node, forgotten when the token would expire.

use super::{classify, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use fred::types::Value;
use messenger_core::ports::TokenRevocations;
use messenger_core::{StoreError, Timestamp, TokenId};
use std::sync::Arc;

/// Revoked tokens in Redis.
pub struct RedisRevocations {
    redis: Arc<Redis>,
}

impl RedisRevocations {
    /// Revocations on `redis`.
    pub fn new(redis: Arc<Redis>) -> Self {
        RedisRevocations { redis }
    }

    fn key(&self, token: &TokenId) -> String {
        self.redis.key(&format!("revoked:{}", token.0))
    }
}

#[async_trait]
impl TokenRevocations for RedisRevocations {
    async fn revoke(&self, token: &TokenId, expires_at: Timestamp) -> Result<(), StoreError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = (expires_at.unix_seconds() - now).max(1);
        let _: Value = self
            .redis
            .pool()
            .set(self.key(token), 1, Some(Expiration::EX(ttl)), None, false)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn is_revoked(&self, token: &TokenId) -> Result<bool, StoreError> {
        let n: i64 = self
            .redis
            .pool()
            .exists(self.key(token))
            .await
            .map_err(classify)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    messenger_core::revocations_contract!(super::RedisRevocations::new(
        crate::redis::test_redis().await
    ));
}
