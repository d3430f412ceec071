//! A reader that follows its lane's log ([`LaneSource`]): one blocking read of one key serves every
//! topic of the lane. A topic is read on its own only when it joins (its items up to now may be
//! behind the log's position already) and after the log dropped entries the reader had not
//! read yet; because the log's position is taken before those reads, every later item reaches
//! the topic through the log, and the topic's cursor skips what the reads already delivered.

use super::{
    deliver, lock, retry_later, snapshot, Accept, Hub, LaneSource, Shard, Source, READ_BATCH,
    READ_BLOCK,
};
use messenger_core::CoreError;
use std::collections::HashMap;
use tokio_util::sync::CancellationToken;

/// Most entries of a lane's log fetched in one read (all of a lane's topics share it).
const LANE_BATCH: usize = 1024;

impl<S: Source> Hub<S> {
    pub(super) async fn follow_lane(
        &self,
        lane: usize,
        log: &dyn LaneSource<S::Key, S::Item>,
        stop: CancellationToken,
    ) {
        let shard = &self.shards[lane];
        // Where the reader stands in the log; `None` until it has topics (an idle lane's
        // position would only grow stale).
        let mut at: Option<i64> = None;
        loop {
            if lock(&shard.topics).is_empty() {
                at = None;
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = shard.added.notified() => continue,
                }
            }
            let step = async {
                let from = match at {
                    Some(pos) => pos,
                    None => log.head(lane).await?,
                };
                at = Some(from);
                self.catch_up_behind(shard).await?;
                // Not a topic still behind: this read may be past items it has yet to get.
                let wanted = |key: S::Key| lock(&shard.topics).get(&key).is_some_and(|t| !t.behind);
                let read = log
                    .read(lane, from, LANE_BATCH, Some(READ_BLOCK), &wanted)
                    .await?;
                if read.gap {
                    // Entries after `from` are gone from the log: start again from its head,
                    // every topic read on its own up to there first.
                    for topic in lock(&shard.topics).values_mut() {
                        topic.behind = true;
                    }
                    at = None;
                    return Ok::<_, CoreError>(());
                }
                deliver(&mut lock(&shard.topics), read.items, Accept::CaughtUp);
                if let Some(last) = read.last {
                    at = Some(last);
                }
                Ok(())
            };
            // As in `read_loop`, a read is never abandoned half-way, except to stop.
            let result = tokio::select! {
                _ = stop.cancelled() => return,
                result = step => result,
            };
            if let Err(err) = result {
                if !retry_later("lane read", err, &stop).await {
                    return;
                }
            }
        }
    }

    /// Reads every topic marked behind on its own, up to the newest item of each, and hands
    /// the items over. A topic stays marked behind until a read of it succeeds; one dropped
    /// and created again meanwhile is left behind, for the next round.
    async fn catch_up_behind(&self, shard: &Shard<S>) -> Result<(), CoreError> {
        loop {
            let (cursors, read_for) = snapshot(&lock(&shard.topics), |t| t.behind);
            if cursors.is_empty() {
                return Ok(());
            }
            let items = self.source.read(&cursors, READ_BATCH, None).await?;
            let mut counts = HashMap::new();
            for (key, _, _) in &items {
                *counts.entry(*key).or_insert(0usize) += 1;
            }
            let mut topics = lock(&shard.topics);
            deliver(&mut topics, items, Accept::Snapshot(&read_for));
            // A topic that got a whole batch may have more; the others are caught up.
            for (key, id) in &read_for {
                let full = counts.get(key).is_some_and(|n| *n >= READ_BATCH);
                match topics.get_mut(key) {
                    Some(topic) if topic.id == *id && !full => topic.behind = false,
                    _ => {}
                }
            }
        }
    }
}
