//! argon2id password hashing, on a few threads of its own.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use messenger_core::ports::PasswordHasher;
use messenger_core::StoreError;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1).
///
/// Hashes run on one thread per core, started once and kept, never on the runtime's threads
/// (a hash takes ~30 ms) and never on tokio's blocking pool: each hash allocates 19 MiB, and
/// the allocator keeps such blocks per thread, so a burst of sign-ups spread over the blocking
/// pool's many threads left hundreds of MB resident for good. The threads end when the last
/// clone of the hasher is dropped.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    params: Params,
    jobs: mpsc::Sender<Job>,
}

impl Default for Argon2Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_threads(cores)
    }
}

impl Argon2Hasher {
    /// A hasher with `threads` hashing threads.
    pub fn with_threads(threads: usize) -> Self {
        // Queued hashes wait in the channel; its bound keeps a flood of sign-ups from queueing
        // without limit (callers then wait their turn to queue).
        let (jobs, queue) = mpsc::channel::<Job>(1024);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || run_jobs(&queue));
            if let Err(e) = spawned {
                tracing::error!("could not start a password hashing thread: {e}");
            }
        }
        Argon2Hasher {
            params: Params::new(19 * 1024, 2, 1, None).expect("constant argon2 params are valid"),
            jobs,
        }
    }

    fn argon(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Runs `work` on a hashing thread and waits for its result without blocking the runtime.
    async fn on_hashing_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::internal_msg("no password hashing thread is running"))?;
        result
            .await
            .map_err(|_| StoreError::internal_msg("a password hashing thread stopped"))
    }
}

fn run_jobs(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = {
            let Ok(mut queue) = queue.lock() else { return };
            match queue.blocking_recv() {
                Some(job) => job,
                // Every sender (every clone of the hasher) is gone.
                None => return,
            }
        };
        job();
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, StoreError> {
        let password = password.to_owned();
        let params = self.params.clone();
        self.on_hashing_thread(move || {
            Self::argon(params)
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| StoreError::internal_msg(format!("password hashing failed: {e}")))
        })
        .await?
    }

    async fn verify(&self, password: &str, phc: &str) -> Result<bool, StoreError> {
        let password = password.to_owned();
        let phc = phc.to_owned();
        let params = self.params.clone();
        self.on_hashing_thread(move || match PasswordHash::new(&phc) {
            Ok(parsed) => Self::argon(params)
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        })
        .await
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
