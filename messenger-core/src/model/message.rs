//! Messages and pages of history.

use super::{ChatId, MessageId, Timestamp, UserId};

/// A message as the protocol shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id (also its position in the chat's event stream).
    pub id: MessageId,
    /// The chat it belongs to.
    pub chat_id: ChatId,
    /// Who wrote it.
    pub author_id: UserId,
    /// The text, as sent.
    pub text: String,
    /// When it was sent.
    pub created_at: Timestamp,
    /// When it was last edited.
    pub edited_at: Option<Timestamp>,
}

/// A message looked up by its author's `client_id`: alive, or deleted since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdMatch {
    /// The message, as it is now.
    Live(Message),
    /// It was deleted.
    Deleted,
}

/// One page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The messages, oldest first.
    pub messages: Vec<Message>,
    /// Whether more messages lie beyond this page in the direction it was read.
    pub has_more: bool,
}
