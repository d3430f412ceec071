//! Where users live.

use crate::{NewUser, StoreError, User, UserCredentials, UserId};
use async_trait::async_trait;

/// Registered users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Stores a new user; `PhoneTaken` / `UsernameTaken` (ignoring case) when either is in use.
    async fn create(&self, user: NewUser) -> Result<User, StoreError>;
    /// The user with this id.
    async fn by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The users with these ids (unknown ids are left out; order not specified).
    async fn by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError>;
    /// The user with this username, ignoring case.
    async fn by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// The user registered with this normalised phone, with their password hash.
    async fn credentials_by_phone(
        &self,
        phone: &str,
    ) -> Result<Option<UserCredentials>, StoreError>;
    /// Users whose username starts with `prefix` ignoring case, or whose phone is `phone`,
    /// except `exclude`; sorted by username, at most `limit`.
    async fn search(
        &self,
        prefix: &str,
        phone: Option<String>,
        exclude: UserId,
        limit: usize,
    ) -> Result<Vec<User>, StoreError>;
}
