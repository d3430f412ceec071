//! Password hashing (slow on purpose, so adapters run it off the async threads).

use crate::StoreError;
use async_trait::async_trait;

/// Hashes and checks passwords.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// The PHC string of a fresh salted hash.
    async fn hash(&self, password: &str) -> Result<String, StoreError>;
    /// Whether `password` matches `phc`. An unparsable `phc` is a mismatch.
    async fn verify(&self, password: &str, phc: &str) -> Result<bool, StoreError>;
}
