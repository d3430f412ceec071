//! How the persister tells authors' connections that their changes are committed.

use crate::CommitNotice;
use async_trait::async_trait;

/// Routes commit notices to the node and connection each change came from.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CommitNotifier: Send + Sync {
    /// Delivers notices; a notice whose connection is gone is dropped.
    async fn committed(&self, notices: Vec<CommitNotice>);
}
