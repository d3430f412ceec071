//! Time, as a port so that services can be tested at a fixed instant.

use crate::Timestamp;

/// The current time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC, truncated to milliseconds.
    fn now(&self) -> Timestamp;
}
