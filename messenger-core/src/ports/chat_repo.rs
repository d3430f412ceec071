//! Where chats, their participants and read markers live.

use crate::{
    Chat, ChatId, EventSeq, MessageId, NewChat, ReadMarker, Removal, StoreError, Timestamp, UserId,
};
use async_trait::async_trait;

/// Chats and their participants.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatRepo: Send + Sync {
    /// Stores a new group.
    async fn create_group(&self, chat: NewChat) -> Result<Chat, StoreError>;
    /// The one direct chat of `a` and `b`, created (with `a` as owner) if there is none yet.
    /// Concurrent calls for the same pair, in either order, all get the same chat; exactly one of
    /// them gets `true` (it created the chat).
    async fn direct_chat(
        &self,
        a: UserId,
        b: UserId,
        now: Timestamp,
    ) -> Result<(Chat, bool), StoreError>;
    /// The chat with this id.
    async fn get(&self, id: ChatId) -> Result<Option<Chat>, StoreError>;
    /// Whether `user` takes part in the chat (`false` when it does not exist). The hot path of
    /// every send; adapters may answer it from a cache of member sets.
    async fn is_participant(&self, id: ChatId, user: UserId) -> Result<bool, StoreError> {
        Ok(self.get(id).await?.is_some_and(|c| c.has_participant(user)))
    }
    /// Every chat `user` takes part in (order not specified).
    async fn list_for_user(&self, user: UserId) -> Result<Vec<Chat>, StoreError>;
    /// Renames a chat; `None` if it does not exist.
    async fn rename(&self, id: ChatId, name: &str) -> Result<Option<Chat>, StoreError>;
    /// Appends `user` to the participants (no change if present); `None` if the chat is gone.
    async fn add_participant(&self, id: ChatId, user: UserId) -> Result<Option<Chat>, StoreError>;
    /// Removes `user`. If they owned it, the longest-standing remaining participant (the first in
    /// `participants`) becomes owner; if no one remains, the chat is deleted.
    async fn remove_participant(&self, id: ChatId, user: UserId) -> Result<Removal, StoreError>;
    /// Deletes the chat (its participants' read markers too); `false` if it did not exist.
    async fn delete(&self, id: ChatId) -> Result<bool, StoreError>;
    /// `user`'s read marker in the chat.
    async fn read_marker(
        &self,
        chat: ChatId,
        user: UserId,
    ) -> Result<Option<MessageId>, StoreError>;
    /// Moves `user`'s read marker to `message` if that is further on; `true` if it moved. A
    /// marker that moved has no position until [`ChatRepo::stamp_read_marker`] gives it one.
    async fn advance_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool, StoreError>;
    /// Records that the `read` event at `position` announced `user`'s marker at `message`
    /// (nothing happens if the marker has moved on since).
    async fn stamp_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
        position: EventSeq,
    ) -> Result<(), StoreError>;
    /// The chat's read markers whose `read` event is after `after`, or not recorded yet.
    async fn read_markers_after(
        &self,
        chat: ChatId,
        after: EventSeq,
    ) -> Result<Vec<ReadMarker>, StoreError>;
}
