//! The consumer that commits queued message events to the store and tells their authors.

use super::Ports;
use crate::ports::{CommitNotifier, MessageStore, PersistQueue};
use crate::{ChatId, CommitNotice, CoreError, EventSeq};
use std::sync::Arc;
use std::time::Duration;

/// Commits message events from the persisters' work queue to the message store, in batches
/// (group commit), acknowledges them in the queue only after the commit, then notifies each
/// author's connection.
pub struct Persister {
    queue: Arc<dyn PersistQueue>,
    messages: Arc<dyn MessageStore>,
    notifier: Arc<dyn CommitNotifier>,
    consumer: String,
    batch: usize,
}

impl Persister {
    /// A persister named `consumer` (unique per node) committing up to `batch` events at once.
    pub fn new(
        ports: &Ports,
        notifier: Arc<dyn CommitNotifier>,
        consumer: impl Into<String>,
        batch: usize,
    ) -> Self {
        Persister {
            queue: ports.persist_queue.clone(),
            messages: ports.messages.clone(),
            notifier,
            consumer: consumer.into(),
            batch: batch.max(1),
        }
    }

    /// Takes one batch (waiting up to `block` for work), commits it and notifies the authors.
    /// Returns how many events were committed. On a store failure nothing is acknowledged, so
    /// the same events are taken again later.
    pub async fn persist_batch(&self, block: Option<Duration>) -> Result<usize, CoreError> {
        let events = self.queue.claim(&self.consumer, self.batch, block).await?;
        if events.is_empty() {
            return Ok(0);
        }
        let outcomes = self.messages.apply(&events).await?;
        if outcomes.len() != events.len() {
            // Acknowledging would lose the events without an outcome; take them again later.
            return Err(CoreError::internal_msg(format!(
                "the store answered {} outcomes for {} events",
                outcomes.len(),
                events.len()
            )));
        }
        let keys: Vec<(ChatId, EventSeq)> = events.iter().map(|e| (e.chat_id, e.seq)).collect();
        self.queue.ack(&self.consumer, &keys).await?;
        let notices = events
            .into_iter()
            .zip(outcomes)
            .map(|(event, outcome)| CommitNotice {
                chat_id: event.chat_id,
                seq: event.seq,
                client_id: event.kind.client_id().map(str::to_owned),
                origin: event.origin,
                outcome,
            })
            .collect::<Vec<_>>();
        let n = notices.len();
        self.notifier.committed(notices).await;
        Ok(n)
    }
}
