//! Per-chat ordered event logs in memory, with their one read lane and the persisters' work
//! queue.

use super::{lock, look_or_wait};
use async_trait::async_trait;
use messenger_core::ports::{ChatLog, LaneLog, LanePage, PersistBacklog, PersistQueue};
use messenger_core::{
    Appended, ChatEvent, ChatEventKind, ChatId, EventDraft, EventSeq, StoreError, UserId,
};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Events kept per chat for readers that fall behind (history lives in the message store).
const RETAIN_PER_CHAT: usize = 10_000;
/// A claimed event not acknowledged for this long is handed to the next claimant.
const RECLAIM_AFTER: Duration = Duration::from_secs(30);
/// Events kept in the (single) read lane's log for nodes following every chat at once.
const RETAIN_IN_LANE: usize = 50_000;

#[derive(Default)]
struct ChatEntries {
    events: VecDeque<ChatEvent>,
    head: EventSeq,
    /// (author, client_id) of the creates still in `events` → their position.
    client_ids: HashMap<(UserId, String), EventSeq>,
    notify: Arc<Notify>,
}

impl ChatEntries {
    fn after(&self, cursor: EventSeq, limit: usize) -> impl Iterator<Item = &ChatEvent> {
        let start = self.events.partition_point(|e| e.seq <= cursor);
        self.events.range(start..).take(limit)
    }

    fn trim(&mut self) {
        while self.events.len() > RETAIN_PER_CHAT {
            if let Some(old) = self.events.pop_front() {
                if let ChatEventKind::MessageCreated {
                    message,
                    client_id: Some(cid),
                } = &old.kind
                {
                    self.client_ids.remove(&(message.author_id, cid.clone()));
                }
            }
        }
    }
}

struct Claim {
    at: Instant,
    event: ChatEvent,
}

#[derive(Default)]
struct State {
    last_seq: i64,
    chats: HashMap<ChatId, ChatEntries>,
    unclaimed: VecDeque<ChatEvent>,
    claimed: HashMap<(ChatId, EventSeq), Claim>,
    /// Every chat's events in position order (one read lane), bounded.
    lane: VecDeque<ChatEvent>,
    /// The newest position dropped from `lane`.
    lane_dropped: EventSeq,
}

/// Every chat's event log in memory. Positions come from one counter, so they are unique
/// across chats and increase within each.
pub struct MemoryChatStream {
    state: Mutex<State>,
    work: Notify,
    lane_appended: Arc<Notify>,
    lane_bound: usize,
}

impl Default for MemoryChatStream {
    fn default() -> Self {
        Self::with_lane_bound(RETAIN_IN_LANE)
    }
}

impl MemoryChatStream {
    /// Logs whose read lane keeps only the newest `bound` events.
    pub fn with_lane_bound(bound: usize) -> Self {
        MemoryChatStream {
            state: Mutex::default(),
            work: Notify::new(),
            lane_appended: Arc::default(),
            lane_bound: bound,
        }
    }
}

#[async_trait]
impl ChatLog for MemoryChatStream {
    async fn append(&self, chat: ChatId, draft: EventDraft) -> Result<Appended, StoreError> {
        let mut s = lock(&self.state);
        let dedup = draft.dedup_key().map(|(a, c)| (a, c.to_owned()));
        if let Some(key) = &dedup {
            if let Some(seq) = s.chats.get(&chat).and_then(|l| l.client_ids.get(key)) {
                return Ok(Appended::Duplicate(*seq));
            }
        }
        s.last_seq += 1;
        let event = draft.into_event(chat, EventSeq(s.last_seq));
        if event.kind.is_persisted() {
            s.unclaimed.push_back(event.clone());
        }
        let log = s.chats.entry(chat).or_default();
        log.head = event.seq;
        if let Some(key) = dedup {
            log.client_ids.insert(key, event.seq);
        }
        log.events.push_back(event.clone());
        log.trim();
        log.notify.notify_waiters();
        s.lane.push_back(event.clone());
        while s.lane.len() > self.lane_bound {
            if let Some(old) = s.lane.pop_front() {
                s.lane_dropped = old.seq;
            }
        }
        self.lane_appended.notify_waiters();
        self.work.notify_waiters();
        Ok(Appended::New(event))
    }

    async fn head(&self, chat: ChatId) -> Result<EventSeq, StoreError> {
        Ok(lock(&self.state)
            .chats
            .get(&chat)
            .map_or(EventSeq(0), |l| l.head))
    }

    async fn read_after(
        &self,
        cursors: &[(ChatId, EventSeq)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError> {
        let notifies = || {
            let mut s = lock(&self.state);
            cursors
                .iter()
                .map(|(chat, _)| s.chats.entry(*chat).or_default().notify.clone())
                .collect()
        };
        let look = || {
            let s = lock(&self.state);
            cursors
                .iter()
                .filter_map(|(chat, cursor)| s.chats.get(chat).map(|l| (l, *cursor)))
                .flat_map(|(log, cursor)| log.after(cursor, limit).cloned())
                .collect()
        };
        Ok(look_or_wait(block, notifies, look).await)
    }

    async fn drop_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        if let Some(log) = s.chats.remove(&chat) {
            log.notify.notify_waiters();
        }
        Ok(())
    }
}

#[async_trait]
impl LaneLog for MemoryChatStream {
    async fn read_lane(
        &self,
        lane: usize,
        after: EventSeq,
        limit: usize,
        block: Option<Duration>,
    ) -> Result<LanePage, StoreError> {
        if lane != 0 {
            return Ok(LanePage::default());
        }
        let gap_in = |s: &State| s.lane_dropped > after || after.get() > s.last_seq;
        // A reader told of a gap starts again elsewhere: it is not kept waiting here.
        let block = block.filter(|_| !gap_in(&lock(&self.state)));
        let gap = AtomicBool::new(false);
        let notifies = || vec![self.lane_appended.clone()];
        let look = || {
            let s = lock(&self.state);
            gap.store(gap_in(&s), Ordering::Relaxed);
            let start = s.lane.partition_point(|e| e.seq <= after);
            s.lane.range(start..).take(limit).cloned().collect()
        };
        let events = look_or_wait(block, notifies, look).await;
        Ok(LanePage {
            last: events.last().map(|e: &ChatEvent| e.seq),
            events,
            gap: gap.into_inner(),
        })
    }

    async fn lane_head(&self, lane: usize) -> Result<EventSeq, StoreError> {
        let s = lock(&self.state);
        Ok(match s.lane.back() {
            Some(e) if lane == 0 => e.seq,
            _ => EventSeq(0),
        })
    }
}

#[async_trait]
impl PersistQueue for MemoryChatStream {
    async fn claim(
        &self,
        _consumer: &str,
        max: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError> {
        let deadline = block.map(|b| tokio::time::Instant::now() + b);
        loop {
            let wakeup = self.work.notified();
            let batch = {
                let mut s = lock(&self.state);
                let now = Instant::now();
                let mut batch: Vec<ChatEvent> = s
                    .claimed
                    .values_mut()
                    .filter(|c| now.duration_since(c.at) >= RECLAIM_AFTER)
                    .map(|c| {
                        c.at = now;
                        c.event.clone()
                    })
                    .take(max)
                    .collect();
                while batch.len() < max {
                    let Some(event) = s.unclaimed.pop_front() else {
                        break;
                    };
                    s.claimed.insert(
                        (event.chat_id, event.seq),
                        Claim {
                            at: now,
                            event: event.clone(),
                        },
                    );
                    batch.push(event);
                }
                batch.sort_by_key(|e| e.seq);
                batch
            };
            let Some(deadline) = deadline else {
                return Ok(batch);
            };
            if !batch.is_empty() {
                return Ok(batch);
            }
            if tokio::time::timeout_at(deadline, wakeup).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn ack(&self, _consumer: &str, events: &[(ChatId, EventSeq)]) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        for key in events {
            s.claimed.remove(key);
        }
        Ok(())
    }

    /// Nothing is orphaned in one process (claims expire by themselves); reports the backlog.
    async fn sweep(&self) -> Result<PersistBacklog, StoreError> {
        let s = lock(&self.state);
        Ok(PersistBacklog {
            unread: s.unclaimed.len() as u64,
            pending: s.claimed.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryChatStream;

    messenger_core::chat_log_contract!(MemoryChatStream::default());
    messenger_core::lane_log_contract!(MemoryChatStream::default());
    messenger_core::persist_queue_contract!(MemoryChatStream::default());

    #[tokio::test]
    async fn a_reader_behind_the_lane_logs_bound_is_told_of_the_gap() {
        let stream = MemoryChatStream::with_lane_bound(10);
        messenger_core::testing::lane_log::a_reader_behind_the_lane_logs_bound_is_told_of_the_gap(
            &stream,
        )
        .await;
    }
}
