//! Events: what moves through a chat's stream and a user's feed.

use super::{ChatId, EventSeq, Message, MessageId, Origin, TokenId, UserId};

/// One entry of a chat's ordered event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEvent {
    /// Its position; for `MessageCreated`, the message's id.
    pub seq: EventSeq,
    /// The chat.
    pub chat_id: ChatId,
    /// The connection that caused it (it gets an `ack` rather than the event), if any.
    pub origin: Option<Origin>,
    /// What happened.
    pub kind: ChatEventKind,
}

/// What a chat event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEventKind {
    /// A new message (its id is the event's position).
    MessageCreated {
        /// The message.
        message: Message,
        /// The author's idempotency key.
        client_id: Option<String>,
    },
    /// An edit: the message with its new text and `edited_at`.
    MessageUpdated {
        /// The message as edited.
        message: Message,
        /// The author's key pairing the ack.
        client_id: Option<String>,
    },
    /// A deletion: the message as it was.
    MessageDeleted {
        /// The deleted message.
        message: Message,
        /// The author's key pairing the ack.
        client_id: Option<String>,
    },
    /// A participant's read marker moved.
    Read {
        /// The reader.
        user_id: UserId,
        /// Their marker now.
        message_id: MessageId,
    },
    /// A participant is typing.
    Typing {
        /// Who.
        user_id: UserId,
    },
    /// The set of participants connected to the chat changed; readers fetch the set afresh.
    PresenceChanged,
}

impl ChatEventKind {
    /// Whether this event changes the message store (and so waits for the persister).
    pub fn is_persisted(&self) -> bool {
        matches!(
            self,
            ChatEventKind::MessageCreated { .. }
                | ChatEventKind::MessageUpdated { .. }
                | ChatEventKind::MessageDeleted { .. }
        )
    }

    /// The message a message event is about.
    pub fn message(&self) -> Option<&Message> {
        match self {
            ChatEventKind::MessageCreated { message, .. }
            | ChatEventKind::MessageUpdated { message, .. }
            | ChatEventKind::MessageDeleted { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The `client_id` carried by a message event.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            ChatEventKind::MessageCreated { client_id, .. }
            | ChatEventKind::MessageUpdated { client_id, .. }
            | ChatEventKind::MessageDeleted { client_id, .. } => client_id.as_deref(),
            _ => None,
        }
    }
}

/// An event before it has a position in the stream. A `MessageCreated` draft's message id is
/// assigned by the stream (it is the event's position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// The connection that should get the `ack`.
    pub origin: Option<Origin>,
    /// What happened; for `MessageCreated` the message id is ignored and replaced.
    pub kind: ChatEventKind,
}

impl EventDraft {
    /// The event this draft becomes at position `seq` of `chat_id`'s stream.
    pub fn into_event(self, chat_id: ChatId, seq: EventSeq) -> ChatEvent {
        let kind = match self.kind {
            ChatEventKind::MessageCreated {
                mut message,
                client_id,
            } => {
                message.id = MessageId(seq.0);
                message.chat_id = chat_id;
                ChatEventKind::MessageCreated { message, client_id }
            }
            other => other,
        };
        ChatEvent {
            seq,
            chat_id,
            origin: self.origin,
            kind,
        }
    }

    /// The author and `client_id` that make this draft a duplicate of an earlier create.
    pub fn dedup_key(&self) -> Option<(UserId, &str)> {
        match &self.kind {
            ChatEventKind::MessageCreated {
                message,
                client_id: Some(client_id),
            } => Some((message.author_id, client_id.as_str())),
            _ => None,
        }
    }
}

/// What appending to a chat's stream did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The event, now at its position.
    New(ChatEvent),
    /// A `MessageCreated` with the same author and `client_id` is already in the stream at this
    /// position: nothing was appended.
    Duplicate(EventSeq),
}

/// One entry of a user's feed: changes to the chats they take part in, and their sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// They were added to a chat (or it was created with them). Its message events start after
    /// position `from`.
    ChatCreated {
        /// The chat.
        chat_id: ChatId,
        /// The chat stream's position when they joined.
        from: EventSeq,
    },
    /// A chat they take part in was renamed, or its participants or owner changed.
    ChatUpdated {
        /// The chat.
        chat_id: ChatId,
    },
    /// A chat was deleted, or they left it or were removed.
    ChatDeleted {
        /// The chat.
        chat_id: ChatId,
    },
    /// One of their tokens was revoked: sockets opened with it must close.
    TokenRevoked {
        /// The token.
        token_id: TokenId,
    },
}

/// One entry of a user's feed with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    /// The user.
    pub user_id: UserId,
    /// Position in the user's feed.
    pub seq: u64,
    /// What happened.
    pub event: FeedEvent,
}

/// What the persister did with one message event: the protocol's `ack` or `error` for its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Committed: the message as it is now (for a delete, the deleted message).
    Committed(Message),
    /// Refused at commit time (the message was deleted meanwhile, or a duplicate `client_id`
    /// whose original is gone).
    NotFound,
}

/// The persister's word on one event, sent to the node its author is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitNotice {
    /// The chat.
    pub chat_id: ChatId,
    /// The event's position.
    pub seq: EventSeq,
    /// The author's connection.
    pub origin: Option<Origin>,
    /// The `client_id` the author sent.
    pub client_id: Option<String>,
    /// What happened.
    pub outcome: CommitOutcome,
}
