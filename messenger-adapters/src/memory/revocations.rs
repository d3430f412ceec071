//! Revoked tokens in memory.

use super::lock;
use async_trait::async_trait;
use messenger_core::ports::TokenRevocations;
use messenger_core::{StoreError, Timestamp, TokenId};
use std::collections::HashMap;
use std::sync::Mutex;

/// Revoked token ids, forgotten once the token would have expired anyway.
#[derive(Default)]
pub struct MemoryRevocations {
    revoked: Mutex<HashMap<TokenId, Timestamp>>,
}

#[async_trait]
impl TokenRevocations for MemoryRevocations {
    async fn revoke(&self, token: &TokenId, expires_at: Timestamp) -> Result<(), StoreError> {
        let mut revoked = lock(&self.revoked);
        let now = Timestamp::new(time::OffsetDateTime::now_utc());
        revoked.retain(|_, until| *until > now);
        revoked.insert(token.clone(), expires_at);
        Ok(())
    }

    async fn is_revoked(&self, token: &TokenId) -> Result<bool, StoreError> {
        Ok(lock(&self.revoked).contains_key(token))
    }
}

#[cfg(test)]
mod tests {
    messenger_core::revocations_contract!(super::MemoryRevocations::default());
}
