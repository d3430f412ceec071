//! Each chat's ordered log of events: the queue between the socket that receives a change and
//! everyone who must see it.

use crate::{Appended, ChatEvent, ChatId, EventDraft, EventSeq, StoreError};
use async_trait::async_trait;
use std::time::Duration;

/// Every chat's ordered log of events.
///
/// Positions are unique across all chats and increase within a chat; a `MessageCreated`
/// event's position is its message id, so log order is `message_id` order. Message events
/// also enter the persisters' work queue ([`super::PersistQueue`]), and every event its chat's
/// read lane ([`super::LaneLog`]).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatLog: Send + Sync {
    /// Appends an event at the next position. A `MessageCreated` draft whose author and
    /// `client_id` were already appended to this chat is not appended again: the earlier
    /// position is returned as `Appended::Duplicate`.
    async fn append(&self, chat: ChatId, draft: EventDraft) -> Result<Appended, StoreError>;

    /// The position of the newest event of the chat (`EventSeq(0)` when it has none).
    async fn head(&self, chat: ChatId) -> Result<EventSeq, StoreError>;

    /// Events after each cursor `(chat, position)`, up to `limit` per chat, in order. When
    /// there are none and `block` is given, waits up to that long for one to arrive. A
    /// blocking read covers chats of one read lane (see [`super::LaneLog::lanes`]).
    async fn read_after(
        &self,
        cursors: &[(ChatId, EventSeq)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError>;

    /// Forgets a deleted chat's log.
    async fn drop_chat(&self, chat: ChatId) -> Result<(), StoreError>;
}
