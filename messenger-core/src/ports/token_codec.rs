//! Signed bearer tokens and their revocation.

use crate::{Session, StoreError, Timestamp, TokenId, UserId};
use async_trait::async_trait;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a token of ours: bad signature, wrong algorithm, malformed.
    Invalid,
    /// Past its expiry.
    Expired,
}

/// Issues and checks signed tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenCodec: Send + Sync {
    /// A new token for `user`, valid until `expires_at`, with a fresh id.
    fn issue(&self, user: UserId, expires_at: Timestamp) -> (String, Session);
    /// The session a token stands for, if it is ours and not expired at `now`.
    fn decode(&self, token: &str, now: Timestamp) -> Result<Session, TokenRejection>;
}

/// Revoked token ids, visible to every node.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TokenRevocations: Send + Sync {
    /// Revokes a token; the record may be forgotten after `expires_at`.
    async fn revoke(&self, token: &TokenId, expires_at: Timestamp) -> Result<(), StoreError>;
    /// Whether it was revoked.
    async fn is_revoked(&self, token: &TokenId) -> Result<bool, StoreError>;
}
