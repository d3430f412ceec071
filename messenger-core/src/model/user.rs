//! Users.

use super::{Timestamp, UserId};

/// A registered person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: UserId,
    /// Unique ignoring case; kept as registered.
    pub username: String,
    /// `+digits`, unique.
    pub phone: String,
    /// When they registered.
    pub created_at: Timestamp,
}

/// A user to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Validated username.
    pub username: String,
    /// Normalised phone.
    pub phone: String,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// Registration time.
    pub created_at: Timestamp,
}

/// A user with their password hash, for login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// PHC string of the password hash.
    pub password_hash: String,
}

/// A user as others see them: `online` is true while they have any open socket on any node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// The user.
    pub user: User,
    /// Whether they have an open socket anywhere.
    pub online: bool,
}

/// An authenticated caller: whose token it is and which token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The caller.
    pub user_id: UserId,
    /// The token's id, which logout revokes.
    pub token_id: super::TokenId,
    /// When the token expires.
    pub expires_at: Timestamp,
}
