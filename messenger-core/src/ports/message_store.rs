//! Where messages are committed and read back as history.

use crate::{
    ChangedMessage, ChatEvent, ChatId, ClientIdMatch, CommitOutcome, EventSeq, Message, MessageId,
    Page, StoreError, UserId,
};
use async_trait::async_trait;

/// The durable history of every chat.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Commits a batch of message events (`MessageCreated` / `MessageUpdated` /
    /// `MessageDeleted`) in one go, in the given order, and says what became of each (same
    /// order, same length). Applying an event twice changes nothing the second time: a create
    /// whose id or (chat, author, client_id) is present answers with the stored message (or
    /// `NotFound` if deleted); an update or delete of a missing or deleted message answers
    /// `NotFound`. An update never goes back to an older edit (the newer `seq` wins).
    async fn apply(&self, events: &[ChatEvent]) -> Result<Vec<CommitOutcome>, StoreError>;
    /// A live (not deleted) message.
    async fn get(&self, id: MessageId) -> Result<Option<Message>, StoreError>;
    /// The message `author` sent to `chat` with this `client_id`, live or deleted.
    async fn by_client_id(
        &self,
        chat: ChatId,
        author: UserId,
        client_id: &str,
    ) -> Result<Option<ClientIdMatch>, StoreError>;
    /// Up to `limit` live messages just before `before` (the newest when `None`), oldest first;
    /// `has_more` when older ones remain.
    async fn page_before(
        &self,
        chat: ChatId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Page, StoreError>;
    /// Up to `limit` live messages just after `after`, oldest first; `has_more` when newer remain.
    async fn page_after(
        &self,
        chat: ChatId,
        after: MessageId,
        limit: usize,
    ) -> Result<Page, StoreError>;
    /// Messages of `chat` whose latest change (creation, edit or deletion) is after position
    /// `after`, in the order of those changes, up to `limit`; deleted ones as tombstones.
    async fn changes_after(
        &self,
        chat: ChatId,
        after: EventSeq,
        limit: usize,
    ) -> Result<Vec<ChangedMessage>, StoreError>;
    /// The newest live message of each of these chats that has one.
    async fn last_messages(&self, chats: &[ChatId]) -> Result<Vec<Message>, StoreError>;
    /// How many live messages of `chat` after `after` (from the first when `None`) and up to
    /// `up_to` were not written by `reader`. Bounding the count by the last message a snapshot
    /// shows keeps the two consistent when a message lands between the two reads.
    async fn count_unread(
        &self,
        chat: ChatId,
        reader: UserId,
        after: Option<MessageId>,
        up_to: MessageId,
    ) -> Result<u64, StoreError>;
    /// Forgets every message of a deleted chat.
    async fn delete_chat(&self, chat: ChatId) -> Result<(), StoreError>;
}
