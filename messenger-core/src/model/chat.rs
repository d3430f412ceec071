//! Chats: groups and the direct chat of a pair.

use super::{ChatId, Message, MessageId, Timestamp, UserId};

/// Whether a chat is a named group or the one direct chat of two people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatKind {
    /// A named group with an owner.
    Group,
    /// The direct chat of a pair: fixed name and participants.
    Direct,
}

impl ChatKind {
    /// `group` or `direct`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::Group => "group",
            ChatKind::Direct => "direct",
        }
    }
}

/// A chat as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    /// Its id.
    pub id: ChatId,
    /// The group's name (a direct chat's stored name is unused: each side sees the other's name).
    pub name: String,
    /// Group or direct.
    pub kind: ChatKind,
    /// The owner: the creator, then the longest-standing participant when the owner leaves.
    pub owner_id: UserId,
    /// Participants in the order they were added (the earliest first).
    pub participants: Vec<UserId>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Chat {
    /// Whether `user` takes part in this chat.
    pub fn has_participant(&self, user: UserId) -> bool {
        self.participants.contains(&user)
    }

    /// The other participant of a direct chat, as seen by `me`.
    pub fn other_participant(&self, me: UserId) -> Option<UserId> {
        self.participants.iter().copied().find(|p| *p != me)
    }
}

/// A group to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChat {
    /// Validated name.
    pub name: String,
    /// The creator.
    pub owner_id: UserId,
    /// Every participant, the owner included, without duplicates, in the order they are added.
    pub participants: Vec<UserId>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// What removing a participant did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// They were removed; the chat as it is now (with a new owner if the owner left).
    Removed(Chat),
    /// They were the last participant: the chat is deleted.
    ChatDeleted,
    /// The chat does not exist, or they were not a participant.
    NotParticipant,
}

/// A chat as one participant sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatView {
    /// The chat.
    pub chat: Chat,
    /// The name as this participant sees it (a direct chat: the other's username).
    pub display_name: String,
    /// The newest message, if any.
    pub last_message: Option<Message>,
    /// This participant's read marker.
    pub last_read_message_id: Option<MessageId>,
    /// Messages by others after the read marker.
    pub unread_count: u64,
}

impl ChatView {
    /// The time of the last activity: the newest message, else creation.
    pub fn last_activity(&self) -> Timestamp {
        self.last_message
            .as_ref()
            .map_or(self.chat.created_at, |m| m.created_at)
    }

    /// Orders chats by last activity. Times have millisecond precision, so within one
    /// millisecond a message counts as later than a chat's creation, and ids break the rest
    /// of the ties (both increase with time).
    pub fn activity_key(&self) -> (Timestamp, bool, i64) {
        match &self.last_message {
            Some(m) => (m.created_at, true, m.id.get()),
            None => (self.chat.created_at, false, self.chat.id.get()),
        }
    }
}
