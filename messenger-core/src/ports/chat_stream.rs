//! The per-chat ordered event stream: the queue between the socket that receives a change and
//! everyone who must see it, and the persister's work list.

use crate::{Appended, ChatEvent, ChatId, EventDraft, EventSeq, StoreError};
use async_trait::async_trait;
use std::time::Duration;

/// Every chat's ordered log of events.
///
/// Positions are unique across all chats and increase within a chat; a `MessageCreated`
/// event's position is its message id, so stream order is `message_id` order. Message events
/// also enter the persister's work list (a consumer group), from which they leave only when the
/// persister acknowledges them after its commit.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatStream: Send + Sync {
    /// Appends an event at the next position. A `MessageCreated` draft whose author and
    /// `client_id` were already appended to this chat is not appended again: the earlier
    /// position is returned as `Appended::Duplicate`.
    async fn append(&self, chat: ChatId, draft: EventDraft) -> Result<Appended, StoreError>;

    /// The position of the newest event of the chat (`EventSeq(0)` when it has none).
    async fn head(&self, chat: ChatId) -> Result<EventSeq, StoreError>;

    /// Events after each cursor `(chat, position)`, up to `limit` per chat, in order. When
    /// there are none and `block` is given, waits up to that long for one to arrive. A
    /// blocking read covers chats of one read lane (see [`ChatStream::read_lanes`]).
    async fn read_after(
        &self,
        cursors: &[(ChatId, EventSeq)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError>;

    /// The events of every chat of read lane `lane` after lane position `after`, in position
    /// order, up to `limit`; when there are none and `block` is given, waits up to that long
    /// for one. This is how a node follows all its chats with one read per lane, however many
    /// chats it follows. The lane's log is bounded: [`LanePage::gap`] tells a reader that fell
    /// so far behind that some events after `after` are gone from it (they are still in their
    /// chats' streams, see [`ChatStream::read_after`]).
    async fn read_lane_log(
        &self,
        lane: usize,
        after: EventSeq,
        limit: usize,
        block: Option<Duration>,
    ) -> Result<LanePage, StoreError>;

    /// The position of the newest event in read lane `lane`'s log (`EventSeq(0)` when empty):
    /// where a reader that starts now begins.
    async fn lane_log_head(&self, lane: usize) -> Result<EventSeq, StoreError>;

    /// Takes up to `max` message events no persister has taken yet (or that were taken by a
    /// persister that stopped acknowledging), in order per chat; waits up to `block` for one.
    async fn claim_unpersisted(
        &self,
        consumer: &str,
        max: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError>;

    /// Marks events `consumer` claimed as committed: they leave the persister's work list, and
    /// the consumer's hold on their chats ends (another consumer may take their next events).
    async fn ack_persisted(
        &self,
        consumer: &str,
        events: &[(ChatId, EventSeq)],
    ) -> Result<(), StoreError>;

    /// How many read lanes the chats fall into. A reader that blocks waits on the streams of
    /// one lane at a time, so a node needs a reader per lane; one lane (the default) means any
    /// streams can be waited on together. (A Redis Cluster waits only within one hash slot.)
    fn read_lanes(&self) -> usize {
        1
    }

    /// The read lane of `chat`'s stream, below [`ChatStream::read_lanes`].
    fn read_lane(&self, _chat: ChatId) -> usize {
        0
    }

    /// Forgets a deleted chat's stream.
    async fn drop_chat(&self, chat: ChatId) -> Result<(), StoreError>;

    /// Puts back in the persisters' way any message event that no live persister will reach
    /// otherwise (its node died after appending, or while holding it), and tells how much work
    /// the persisters have before them. Called periodically.
    async fn sweep(&self) -> Result<PersistBacklog, StoreError>;
}

/// A page of a read lane's log (see [`ChatStream::read_lane_log`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LanePage {
    /// Events after the reader's lane position, in position order, across the lane's chats.
    pub events: Vec<ChatEvent>,
    /// The position of the last entry read, even one that could not be decoded (so that a
    /// reader moves past it): where the next read starts; `None` when there was nothing new.
    pub last: Option<EventSeq>,
    /// Whether the log dropped events after the reader's position before this read, or was
    /// lost and started again below it: the reader must fill the gap from each chat's own
    /// stream and start again from the log's head.
    pub gap: bool,
}

/// The persisters' work list at one moment, over all chats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersistBacklog {
    /// Entries appended that no persister has read yet (the consumer group's lag).
    pub unread: u64,
    /// Entries a persister has read but not acknowledged (not committed yet, or its persister
    /// died and they wait to be claimed).
    pub pending: u64,
}
