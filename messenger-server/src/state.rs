//! What every handler and connection shares on one node.

use crate::config::Config;
use crate::limits::{LoginThrottle, RateLimiter};
use crate::metrics::Metrics;
use crate::realtime::{AckHub, ChatSource, FeedSource, Hub};
use messenger_adapters::backend::Storage;
use messenger_core::services::Services;
use messenger_core::{ConnId, NodeId, Origin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The node's shared state.
pub struct AppState {
    /// The domain services.
    pub services: Services,
    /// Commit notices for local connections.
    pub acks: Arc<AckHub>,
    /// One subscription per chat stream on this node.
    pub chats_hub: Arc<Hub<ChatSource>>,
    /// One subscription per user feed on this node.
    pub feeds_hub: Arc<Hub<FeedSource>>,
    /// This node's id.
    pub node: NodeId,
    /// Per-user send limit.
    pub limiter: RateLimiter,
    /// Failed sign-ins per phone and per address.
    pub login_throttle: LoginThrottle,
    /// What `GET /metrics` shows.
    pub metrics: Arc<Metrics>,
    /// Settings.
    pub config: Config,
    /// The backing services (for readiness and shutdown).
    pub storage: Arc<Storage>,
    /// Cancelled at shutdown: every socket closes with a close frame.
    pub sockets_stop: CancellationToken,
    /// Every connection task, so shutdown can wait for them.
    pub sockets: TaskTracker,
    /// Where connection ids come from.
    pub conn_ids: ConnIds,
}

/// Hands out connection ids, unique on this node.
#[derive(Debug)]
pub struct ConnIds(AtomicU64);

impl Default for ConnIds {
    fn default() -> Self {
        ConnIds(AtomicU64::new(1))
    }
}

impl AppState {
    /// A fresh connection id, unique on this node.
    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.conn_ids.0.fetch_add(1, Ordering::Relaxed))
    }

    /// The origin stamp of a change made by `conn` on this node.
    pub fn origin(&self, conn: ConnId) -> Origin {
        Origin {
            node: self.node.clone(),
            conn,
        }
    }
}

/// The shared state, as handlers hold it.
pub type SharedState = Arc<AppState>;
