//! Read lanes: how chats are grouped so that a node follows every chat it serves with one
//! read per lane, however many chats that is.

use crate::{ChatEvent, ChatId, EventSeq, StoreError};
use async_trait::async_trait;
use std::time::Duration;

/// The chats' read lanes and each lane's log of its chats' events.
///
/// Every event appended to a chat's log ([`super::ChatLog`]) is also in its lane's log, at the
/// same position, so a lane's log holds its chats' events in position order.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LaneLog: Send + Sync {
    /// How many read lanes the chats fall into. A reader that blocks waits on one lane at a
    /// time, so a node needs a reader per lane; one lane (the default) means any chats can be
    /// waited on together. (A Redis Cluster waits only within one hash slot.)
    fn lanes(&self) -> usize {
        1
    }

    /// The read lane of `chat`, below [`LaneLog::lanes`].
    fn lane_of(&self, _chat: ChatId) -> usize {
        0
    }

    /// The events of every chat of lane `lane` after lane position `after`, in position
    /// order, up to `limit`; when there are none and `block` is given, waits up to that long
    /// for one. The lane's log is bounded: [`LanePage::gap`] tells a reader that fell so far
    /// behind that some events after `after` are gone from it (they are still in their chats'
    /// logs, see [`super::ChatLog::read_after`]).
    async fn read_lane(
        &self,
        lane: usize,
        after: EventSeq,
        limit: usize,
        block: Option<Duration>,
    ) -> Result<LanePage, StoreError>;

    /// The position of the newest event in lane `lane`'s log (`EventSeq(0)` when empty):
    /// where a reader that starts now begins.
    async fn lane_head(&self, lane: usize) -> Result<EventSeq, StoreError>;
}

/// A page of a read lane's log (see [`LaneLog::read_lane`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LanePage {
    /// Events after the reader's lane position, in position order, across the lane's chats.
    pub events: Vec<ChatEvent>,
    /// The position of the last entry read, even one that could not be decoded (so that a
    /// reader moves past it): where the next read starts; `None` when there was nothing new.
    pub last: Option<EventSeq>,
    /// Whether the log dropped events after the reader's position before this read, or was
    /// lost and started again below it: the reader must fill the gap from each chat's own
    /// log and start again from the lane's head.
    pub gap: bool,
}
