//! Periodic upkeep of shared state: this node's sockets stay alive in the online sets, and
//! message events that no persister will otherwise reach (their node died) are re-queued.

use crate::metrics::Metrics;
use messenger_core::services::Ports;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the online sets are refreshed (well within their 30 s expiry).
const REFRESH_EVERY: Duration = Duration::from_secs(10);
/// How often streams are swept for orphaned work.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Runs until `stop` is cancelled.
pub async fn run(ports: Ports, metrics: Arc<Metrics>, stop: CancellationToken) {
    let mut refresh = tokio::time::interval(REFRESH_EVERY);
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = refresh.tick() => {
                if let Err(e) = ports.presence.refresh().await {
                    tracing::warn!(error = %messenger_core::error::Chain(&e), "presence refresh failed");
                }
            }
            _ = sweep.tick() => {
                match ports.persist_queue.sweep().await {
                    Ok(backlog) => {
                        let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                        metrics.persist_unread.set(gauge(backlog.unread));
                        metrics.persist_pending.set(gauge(backlog.pending));
                    }
                    Err(e) => tracing::warn!(error = %messenger_core::error::Chain(&e), "persist queue sweep failed"),
                }
            }
        }
    }
}
