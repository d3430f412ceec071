//! The wire objects of the protocol, shared by the HTTP API (OpenAPI schemas) and the
//! WebSocket frames (serde).

use messenger_core::{ChatKind, ChatView, Message, UserView};
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

/// A user. `phone` is present only on the caller's own profile.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "User")]
pub struct UserOut {
    /// Id.
    pub user_id: i64,
    /// Username, as registered.
    pub username: String,
    /// True while the user has at least one open socket, on any node.
    pub online: bool,
    /// `+digits`; only on the caller's own profile.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl UserOut {
    /// Someone else, as the caller sees them.
    pub fn public(view: UserView) -> Self {
        UserOut {
            user_id: view.user.id.get(),
            username: view.user.username,
            online: view.online,
            phone: None,
        }
    }

    /// The caller themself, with their phone.
    pub fn own(view: UserView) -> Self {
        let phone = Some(view.user.phone.clone());
        UserOut {
            phone,
            ..UserOut::public(view)
        }
    }
}

/// A message.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Message")]
pub struct MessageOut {
    /// Id; also its place in the chat's order.
    pub message_id: i64,
    /// The chat.
    pub chat_id: i64,
    /// The author.
    pub author_id: i64,
    /// The text, as sent.
    pub text: String,
    /// RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// When last edited, or null.
    #[oai(nullable)]
    pub edited_at: Option<String>,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        MessageOut {
            message_id: m.id.get(),
            chat_id: m.chat_id.get(),
            author_id: m.author_id.get(),
            text: m.text.clone(),
            created_at: m.created_at.to_rfc3339(),
            edited_at: m.edited_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// `group` or `direct`.
#[derive(Debug, Clone, Copy, Enum, Serialize, PartialEq, Eq)]
#[oai(rename = "ChatKind", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ChatKindOut {
    /// A named group with an owner.
    Group,
    /// The direct chat of a pair.
    Direct,
}

/// A chat as the caller sees it.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Chat")]
pub struct ChatOut {
    /// Id.
    pub chat_id: i64,
    /// The group's name; for a direct chat, the other participant's username.
    pub name: String,
    /// Group or direct.
    pub kind: ChatKindOut,
    /// Participant ids, the longest-standing first.
    pub participants: Vec<i64>,
    /// The owner (of a direct chat: who sent the first message).
    pub owner_id: i64,
    /// RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// The newest message, or null.
    #[oai(nullable)]
    pub last_message: Option<MessageOut>,
    /// The caller's read marker, or null.
    #[oai(nullable)]
    pub last_read_message_id: Option<i64>,
    /// Messages by others after the caller's read marker.
    pub unread_count: u64,
}

impl From<&ChatView> for ChatOut {
    fn from(v: &ChatView) -> Self {
        ChatOut {
            chat_id: v.chat.id.get(),
            name: v.display_name.clone(),
            kind: match v.chat.kind {
                ChatKind::Group => ChatKindOut::Group,
                ChatKind::Direct => ChatKindOut::Direct,
            },
            participants: v.chat.participants.iter().map(|p| p.get()).collect(),
            owner_id: v.chat.owner_id.get(),
            created_at: v.chat.created_at.to_rfc3339(),
            last_message: v.last_message.as_ref().map(MessageOut::from),
            last_read_message_id: v.last_read_message_id.map(|m| m.get()),
            unread_count: v.unread_count,
        }
    }
}

/// `POST /register`.
#[derive(Debug, Object, Deserialize)]
pub struct RegisterIn {
    /// `+` and 7-15 digits; spaces, dashes and brackets are ignored.
    pub phone: String,
    /// 8-128 characters.
    pub password: String,
    /// 3-32 of `[A-Za-z0-9_.]`, unique ignoring case.
    pub username: String,
}

/// `POST /login`.
#[derive(Debug, Object, Deserialize)]
pub struct LoginIn {
    /// The phone registered with.
    pub phone: String,
    /// The password.
    pub password: String,
}

/// A token and its user.
#[derive(Debug, Object, Serialize)]
pub struct AuthOut {
    /// Bearer token for `Authorization: Bearer …` or `?token=` on sockets.
    pub token: String,
    /// The signed-in user.
    pub user: UserOut,
}

/// `POST /chats`.
#[derive(Debug, Object, Deserialize)]
pub struct CreateChatIn {
    /// 1-128 characters.
    pub name: String,
    /// User ids to add; the caller is added too.
    pub participants: Vec<i64>,
}

/// `PATCH /chats/{id}`.
#[derive(Debug, Object, Deserialize)]
pub struct RenameChatIn {
    /// 1-128 characters.
    pub name: String,
}

/// `POST /chats/{id}/participants`.
#[derive(Debug, Object, Deserialize)]
pub struct AddParticipantIn {
    /// Who to add.
    pub user_id: i64,
}

/// `POST /chats/{id}/read`.
#[derive(Debug, Object, Deserialize)]
pub struct ReadIn {
    /// A message of the chat; the marker moves forward only.
    pub message_id: i64,
}

/// `POST /chats/{id}/messages`, `POST /users/{id}/messages`.
#[derive(Debug, Object, Deserialize)]
pub struct SendIn {
    /// 1-4096 characters, not only whitespace.
    pub text: String,
    /// At most 64 characters; a repeat answers with the first message.
    pub client_id: Option<String>,
}

/// `PATCH /messages/{id}`.
#[derive(Debug, Object, Deserialize)]
pub struct EditIn {
    /// 1-4096 characters, not only whitespace.
    pub text: String,
}

/// A page of history, oldest first.
#[derive(Debug, Object, Serialize)]
pub struct PageOut {
    /// The messages, oldest first.
    pub messages: Vec<MessageOut>,
    /// Whether older messages remain.
    pub has_more: bool,
}

/// `POST /users/{id}/messages`: the direct chat and the message.
#[derive(Debug, Object, Serialize)]
pub struct DirectOut {
    /// The direct chat.
    pub chat: ChatOut,
    /// The message.
    pub message: MessageOut,
}

/// The detail of an error.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ErrorDetail {
    /// snake_case code from the protocol's list.
    pub code: String,
    /// Human text; for `invalid_input` it names the field.
    pub message: String,
}

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Error")]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// An error body.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }
}

/// `GET /healthz`, `GET /readyz`.
#[derive(Debug, Object, Serialize)]
pub struct HealthOut {
    /// `ok`, or what is not ready.
    pub status: String,
}
