//! The loop that runs the core persister until shutdown, then drains what is queued.

use crate::metrics::Metrics;
use messenger_core::services::Persister;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long one claim waits for work.
const BLOCK: Duration = Duration::from_secs(1);
/// How long draining may take at shutdown.
const DRAIN_FOR: Duration = Duration::from_secs(10);

/// Commits batches until `stop` is cancelled, then commits what is still queued.
pub async fn run(persister: Persister, metrics: Arc<Metrics>, stop: CancellationToken) {
    loop {
        let started = std::time::Instant::now();
        let result = tokio::select! {
            _ = stop.cancelled() => break,
            r = persister.persist_batch(Some(BLOCK)) => r,
        };
        if let Ok(n) = result {
            if n > 0 {
                metrics.persist_batch_size.observe(n as f64);
                // A batch that found work waited little for it: this is the work's time.
                metrics
                    .persist_latency
                    .observe(started.elapsed().as_secs_f64());
            }
        }
        if let Err(err) = result {
            tracing::error!(error = %messenger_core::error::Chain(&err), "persisting failed; retrying");
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }
    let drained = tokio::time::timeout(DRAIN_FOR, async {
        loop {
            match persister.persist_batch(None).await {
                Ok(0) => break Ok(()),
                Ok(_) => continue,
                Err(err) => break Err(err),
            }
        }
    })
    .await;
    match drained {
        Ok(Ok(())) => tracing::info!("persister drained"),
        Ok(Err(err)) => {
            tracing::error!(error = %messenger_core::error::Chain(&err), "persister could not drain")
        }
        Err(_) => tracing::error!("persister drain timed out"),
    }
}
