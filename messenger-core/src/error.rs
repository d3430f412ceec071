//! The two error enums of the domain: [`StoreError`] for ports, [`CoreError`] for services.

use thiserror::Error;

/// What a port (an adapter) can fail with.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StoreError {
    /// The backing service did not answer or failed; the operation may be retried.
    #[error("backing service unavailable: {0}")]
    Unavailable(String),
    /// A user with this phone exists already.
    #[error("phone already registered")]
    PhoneTaken,
    /// A user with this username (ignoring case) exists already.
    #[error("username already taken")]
    UsernameTaken,
}

/// What a service can fail with. Each variant is one error code of the protocol.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum CoreError {
    /// `invalid_input` (400): a missing or bad field, named in `field`.
    #[error("{field}: {reason}")]
    InvalidInput {
        /// The offending field, as named in the protocol.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// `unauthorized` (401): missing, bad, expired or revoked token.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// `invalid_credentials` (401): unknown phone or wrong password, told apart by nobody.
    #[error("unknown phone or wrong password")]
    InvalidCredentials,
    /// `forbidden` (403): the caller sees the thing but may not change it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// `not_found` (404): unknown, or not visible to the caller.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `phone_taken` (409).
    #[error("this phone is already registered")]
    PhoneTaken,
    /// `username_taken` (409).
    #[error("this username is already taken")]
    UsernameTaken,
    /// `too_large` (413).
    #[error("{0}")]
    TooLarge(String),
    /// `rate_limited` (429).
    #[error("{0}")]
    RateLimited(&'static str),
    /// `unavailable` (503): a backing service is down. The detail is for logs, not clients.
    #[error("service unavailable")]
    Unavailable(String),
}

impl CoreError {
    /// The protocol's snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::InvalidInput { .. } => "invalid_input",
            CoreError::Unauthorized(_) => "unauthorized",
            CoreError::InvalidCredentials => "invalid_credentials",
            CoreError::Forbidden(_) => "forbidden",
            CoreError::NotFound(_) => "not_found",
            CoreError::PhoneTaken => "phone_taken",
            CoreError::UsernameTaken => "username_taken",
            CoreError::TooLarge(_) => "too_large",
            CoreError::RateLimited(_) => "rate_limited",
            CoreError::Unavailable(_) => "unavailable",
        }
    }

    /// Shorthand for an `invalid_input` error about `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        CoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(detail) => CoreError::Unavailable(detail),
            StoreError::PhoneTaken => CoreError::PhoneTaken,
            StoreError::UsernameTaken => CoreError::UsernameTaken,
        }
    }
}
