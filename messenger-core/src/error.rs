//! The two error enums of the domain: [`StoreError`] for ports, [`CoreError`] for services.
//!
//! A failure of a backing service keeps its cause ([`Cause`]) so that the edge can log the
//! whole chain, and says which of two things it is: the service is down or overloaded
//! (`Unavailable`: try again later, 503) or something that retrying will not fix, a bug
//! (`Internal`: 500, never shown to the client).

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// The underlying error of an `Unavailable` or `Internal` failure, kept for logs.
///
/// Shared (`Arc`) so that errors stay `Clone`; two causes are equal when they say the same,
/// which is what tests compare.
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync + 'static>);

impl Cause {
    /// Wraps a driver's (or any) error.
    pub fn new(err: impl Error + Send + Sync + 'static) -> Self {
        Cause(Arc::new(err))
    }

    /// A cause that is only a description (no underlying error value).
    pub fn msg(text: impl Into<String>) -> Self {
        Cause(Arc::new(Message(text.into())))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

#[derive(Debug, Error)]
#[error("{0}")]
struct Message(String);

/// An error and every cause under it, `: `-separated, for one log line.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

/// What a port (an adapter) can fail with.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StoreError {
    /// The backing service did not answer, or is overloaded; the operation may be retried.
    #[error("backing service unavailable")]
    Unavailable(#[source] Cause),
    /// The backing service refused the operation in a way a retry will not fix (a bug: a bad
    /// statement, data that does not decode, a broken invariant).
    #[error("backing service failed")]
    Internal(#[source] Cause),
    /// A user with this phone exists already.
    #[error("phone already registered")]
    PhoneTaken,
    /// A user with this username (ignoring case) exists already.
    #[error("username already taken")]
    UsernameTaken,
}

impl StoreError {
    /// `Unavailable`, caused by `err`.
    pub fn unavailable(err: impl Error + Send + Sync + 'static) -> Self {
        StoreError::Unavailable(Cause::new(err))
    }

    /// `Unavailable`, described by `text`.
    pub fn unavailable_msg(text: impl Into<String>) -> Self {
        StoreError::Unavailable(Cause::msg(text))
    }

    /// `Internal`, caused by `err`.
    pub fn internal(err: impl Error + Send + Sync + 'static) -> Self {
        StoreError::Internal(Cause::new(err))
    }

    /// `Internal`, described by `text`.
    pub fn internal_msg(text: impl Into<String>) -> Self {
        StoreError::Internal(Cause::msg(text))
    }
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
    /// `unavailable` (503): a backing service is down. The cause is for logs, not clients.
    #[error("service unavailable")]
    Unavailable(#[source] Cause),
    /// `internal` (500): a bug. The cause is for logs, not clients.
    #[error("internal error")]
    Internal(#[source] Cause),
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
            CoreError::Internal(_) => "internal",
        }
    }

    /// Shorthand for an `invalid_input` error about `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        CoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// `unavailable`, described by `text` (for logs).
    pub fn unavailable_msg(text: impl Into<String>) -> Self {
        CoreError::Unavailable(Cause::msg(text))
    }

    /// `internal`, described by `text` (for logs).
    pub fn internal_msg(text: impl Into<String>) -> Self {
        CoreError::Internal(Cause::msg(text))
    }
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        // The port's error is the cause; its own cause stays in the chain below it.
        match err {
            StoreError::Unavailable(_) => CoreError::Unavailable(Cause::new(err)),
            StoreError::Internal(_) => CoreError::Internal(Cause::new(err)),
            StoreError::PhoneTaken => CoreError::PhoneTaken,
            StoreError::UsernameTaken => CoreError::UsernameTaken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Error)]
    #[error("connection refused")]
    struct Refused;

    #[test]
    fn a_store_failure_keeps_its_cause_through_the_service_error() {
        let err = CoreError::from(StoreError::unavailable(Refused));
        assert_eq!(err.code(), "unavailable");
        assert_eq!(
            Chain(&err).to_string(),
            "service unavailable: backing service unavailable: connection refused"
        );
    }

    #[test]
    fn a_bug_is_internal_not_unavailable() {
        let err = CoreError::from(StoreError::internal_msg("syntax error at or near SELEC"));
        assert_eq!(err.code(), "internal");
        assert!(Chain(&err)
            .to_string()
            .ends_with("syntax error at or near SELEC"));
    }
}
