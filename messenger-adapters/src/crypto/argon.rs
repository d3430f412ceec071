//! argon2id password hashing, run on the blocking pool.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use messenger_core::ports::PasswordHasher;
use messenger_core::StoreError;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1), hashed on tokio's
/// blocking pool so that no runtime thread stalls for the ~30 ms a hash takes.
///
/// Hashes run at most one per core at a time: each takes 19 MiB, and a burst of sign-ups must
/// not turn into hundreds of blocking threads each holding (and the allocator keeping) that much.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    params: Params,
    gate: Arc<Semaphore>,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Argon2Hasher {
            params: Params::new(19 * 1024, 2, 1, None).expect("constant argon2 params are valid"),
            gate: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Argon2Hasher {
    fn argon(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, StoreError> {
        let _turn = self
            .gate
            .acquire()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let password = password.to_owned();
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || {
            Self::argon(params)
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| StoreError::Unavailable(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("hashing task failed: {e}")))?
    }

    async fn verify(&self, password: &str, phc: &str) -> Result<bool, StoreError> {
        let _turn = self
            .gate
            .acquire()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let password = password.to_owned();
        let phc = phc.to_owned();
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
            Ok(parsed) => Self::argon(params)
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("hashing task failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = Argon2Hasher::default();
        let phc = hasher.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse", &phc).await.unwrap());
        assert!(!hasher.verify("wrong horse", &phc).await.unwrap());
        assert!(!hasher.verify("correct horse", "not a hash").await.unwrap());
    }
}
