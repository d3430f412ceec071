//! WebSocket frames: decoding what clients send (a pure function, safe on any input) and
//! encoding what the server sends.

use crate::protocol::dto::{ChatOut, MessageOut};
use messenger_core::services::Change;
use messenger_core::{
    Changes, ChatEvent, ChatEventKind, ChatId, CoreError, MessageId, MissedChange,
};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Largest text frame served; larger ones get a `too_large` error frame.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// A frame a client sent, decoded and type-checked (domain rules are checked by the services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// `MessageCreated`, `MessageUpdated` or `MessageDeleted`.
    Change {
        /// Pairs the `ack` or `error` with this frame.
        client_id: String,
        /// What to change.
        change: Change,
    },
    /// `load_more`: the page before `before`.
    LoadMore {
        /// A message id.
        before: i64,
        /// Page size (default 20, at most 100).
        limit: Option<i64>,
    },
    /// `typing`.
    Typing,
    /// `read`: move the read marker.
    Read {
        /// A message of the chat.
        message_id: i64,
    },
    /// `ping`: answered by `pong`, so that a page (which cannot send WebSocket pings) can tell a
    /// live connection from a dead one.
    Ping,
}

impl ClientFrame {
    /// The frame's `type`, for metrics.
    pub fn type_name(&self) -> &'static str {
        match self {
            ClientFrame::Change { change, .. } => match change {
                Change::Create { .. } => "MessageCreated",
                Change::Update { .. } => "MessageUpdated",
                Change::Delete { .. } => "MessageDeleted",
            },
            ClientFrame::LoadMore { .. } => "load_more",
            ClientFrame::Typing => "typing",
            ClientFrame::Read { .. } => "read",
            ClientFrame::Ping => "ping",
        }
    }
}

/// A frame that could not be accepted, with the `client_id` it carried (if any could be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// The frame's `client_id`, when it had a readable one.
    pub client_id: Option<String>,
    /// Why it was refused.
    pub error: CoreError,
}

fn field_i64(obj: &Map<String, Value>, name: &'static str) -> Result<i64, CoreError> {
    match obj.get(name) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| CoreError::invalid(name, "must be a 64-bit integer")),
        Some(_) => Err(CoreError::invalid(name, "must be an integer")),
        None => Err(CoreError::invalid(name, "is required")),
    }
}

fn field_string(obj: &Map<String, Value>, name: &'static str) -> Result<String, CoreError> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(CoreError::invalid(name, "must be a string")),
        None => Err(CoreError::invalid(name, "is required")),
    }
}

/// Decodes one text frame. Never panics; every refusal is an `invalid_input` (or `too_large`)
/// naming the field.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, FrameError> {
    let refuse = |client_id: Option<String>, error: CoreError| FrameError { client_id, error };
    if text.len() > MAX_FRAME_BYTES {
        return Err(refuse(
            None,
            CoreError::TooLarge(format!("frames are limited to {MAX_FRAME_BYTES} bytes")),
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        refuse(
            None,
            CoreError::invalid("frame", format!("not valid JSON: {e}")),
        )
    })?;
    let Value::Object(obj) = value else {
        return Err(refuse(
            None,
            CoreError::invalid("frame", "must be a JSON object"),
        ));
    };
    let client_id = match obj.get("client_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(refuse(
                None,
                CoreError::invalid("client_id", "must be a string"),
            ));
        }
    };
    let kind = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(refuse(
                client_id,
                CoreError::invalid("type", "must be a string"),
            ))
        }
        None => return Err(refuse(client_id, CoreError::invalid("type", "is required"))),
    };
    let decoded = match kind {
        "MessageCreated" | "MessageUpdated" | "MessageDeleted" => {
            let Some(cid) = client_id.clone() else {
                return Err(refuse(None, CoreError::invalid("client_id", "is required")));
            };
            let change = match kind {
                "MessageCreated" => field_string(&obj, "text").map(|text| Change::Create { text }),
                "MessageUpdated" => field_i64(&obj, "message_id").and_then(|id| {
                    field_string(&obj, "text").map(|text| Change::Update {
                        message_id: MessageId(id),
                        text,
                    })
                }),
                _ => field_i64(&obj, "message_id").map(|id| Change::Delete {
                    message_id: MessageId(id),
                }),
            };
            change.map(|change| ClientFrame::Change {
                client_id: cid,
                change,
            })
        }
        "load_more" => field_i64(&obj, "before").and_then(|before| {
            let limit = match obj.get("limit") {
                None | Some(Value::Null) => Ok(None),
                Some(_) => field_i64(&obj, "limit").map(Some),
            };
            limit.map(|limit| ClientFrame::LoadMore { before, limit })
        }),
        "typing" => Ok(ClientFrame::Typing),
        "ping" => Ok(ClientFrame::Ping),
        "read" => field_i64(&obj, "message_id").map(|message_id| ClientFrame::Read { message_id }),
        other => Err(CoreError::invalid(
            "type",
            format!("unknown frame type {:?}", truncate(other, 40)),
        )),
    };
    decoded.map_err(|error| refuse(client_id, error))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A participant's read marker.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReadMarkerOut {
    /// The reader.
    pub user_id: i64,
    /// The last message they have read.
    pub message_id: i64,
}

/// A frame the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    /// Messages, oldest first.
    #[serde(rename = "history")]
    History {
        /// The page.
        messages: Vec<MessageOut>,
        /// Whether more remain.
        has_more: bool,
        /// Where the page was read from the log (`?since=` it misses nothing after it); absent
        /// on older pages (`load_more`).
        #[serde(skip_serializing_if = "Option::is_none")]
        cursor: Option<String>,
        /// Every participant's read marker, on the opening page only (later moves arrive as
        /// `read` frames).
        #[serde(skip_serializing_if = "Option::is_none")]
        read_markers: Option<Vec<ReadMarkerOut>>,
    },
    /// `?since=`: every change after the cursor, as the live frames would have been.
    #[serde(rename = "changes")]
    Changes {
        /// The frames, in the chat's order.
        events: Vec<ServerFrame>,
        /// More follow: reconnect with `cursor`.
        has_more: bool,
        /// Where the live frames (or the next `?since=`) continue.
        cursor: String,
    },
    /// Who has a socket of this chat open.
    #[serde(rename = "presence")]
    Presence {
        /// User ids, ascending.
        online: Vec<i64>,
    },
    /// To the sender, once its change is committed.
    #[serde(rename = "ack")]
    Ack {
        /// The frame's `client_id`.
        client_id: Option<String>,
        /// The message as committed (for a delete, the deleted message).
        message: MessageOut,
    },
    /// A new message.
    MessageCreated {
        /// The message.
        message: MessageOut,
        /// The chat's position just after this change.
        cursor: String,
    },
    /// An edited message.
    MessageUpdated {
        /// The message as edited.
        message: MessageOut,
        /// The chat's position just after this change.
        cursor: String,
    },
    /// A deleted message.
    MessageDeleted {
        /// Which.
        message_id: i64,
        /// In which chat.
        chat_id: i64,
        /// The chat's position just after this change.
        cursor: String,
    },
    /// A read marker moved.
    #[serde(rename = "read")]
    Read {
        /// The chat.
        chat_id: i64,
        /// The reader.
        user_id: i64,
        /// Their marker now.
        message_id: i64,
        /// The chat's position just after this change.
        cursor: String,
    },
    /// Someone is typing.
    #[serde(rename = "typing")]
    Typing {
        /// Who.
        user_id: i64,
        /// Where.
        chat_id: i64,
    },
    /// A frame that was refused; the connection stays open.
    #[serde(rename = "error")]
    Error {
        /// The refused frame's `client_id`, if any.
        client_id: Option<String>,
        /// The protocol's code.
        code: String,
        /// Human text.
        message: String,
    },
    /// The answer to a client's `ping`.
    #[serde(rename = "pong")]
    Pong,
    /// `/events` is live: nothing is missed from here on.
    #[serde(rename = "ready")]
    Ready {
        /// The caller.
        user_id: i64,
    },
    /// A chat the user takes part in was created, or they were added to one.
    ChatCreated {
        /// The chat as they see it.
        chat: ChatOut,
    },
    /// Renamed, a participant added or removed, a new owner.
    ChatUpdated {
        /// The chat as they see it.
        chat: ChatOut,
    },
    /// Deleted, or they left or were removed.
    ChatDeleted {
        /// Which.
        chat_id: i64,
    },
}

impl ServerFrame {
    /// The JSON text, made once and shared.
    /// The frame's `type`, for metrics.
    pub fn type_name(&self) -> &'static str {
        match self {
            ServerFrame::History { .. } => "history",
            ServerFrame::Changes { .. } => "changes",
            ServerFrame::Presence { .. } => "presence",
            ServerFrame::Ack { .. } => "ack",
            ServerFrame::MessageCreated { .. } => "MessageCreated",
            ServerFrame::MessageUpdated { .. } => "MessageUpdated",
            ServerFrame::MessageDeleted { .. } => "MessageDeleted",
            ServerFrame::Read { .. } => "read",
            ServerFrame::Typing { .. } => "typing",
            ServerFrame::Error { .. } => "error",
            ServerFrame::Ready { .. } => "ready",
            ServerFrame::Pong => "pong",
            ServerFrame::ChatCreated { .. } => "ChatCreated",
            ServerFrame::ChatUpdated { .. } => "ChatUpdated",
            ServerFrame::ChatDeleted { .. } => "ChatDeleted",
        }
    }

    pub fn to_json(&self) -> Arc<str> {
        serde_json::to_string(self)
            .expect("server frames hold only strings, numbers and lists")
            .into()
    }

    /// The frame every connection but the origin gets for a stream event (`None` for presence
    /// changes, whose frame needs the online set).
    pub fn from_event(event: &ChatEvent) -> Option<ServerFrame> {
        let cursor = || super::cursor::encode(event.chat_id, event.seq);
        Some(match &event.kind {
            ChatEventKind::MessageCreated { message, .. } => ServerFrame::MessageCreated {
                message: message.into(),
                cursor: cursor(),
            },
            ChatEventKind::MessageUpdated { message, .. } => ServerFrame::MessageUpdated {
                message: message.into(),
                cursor: cursor(),
            },
            ChatEventKind::MessageDeleted { message, .. } => ServerFrame::MessageDeleted {
                message_id: message.id.get(),
                chat_id: event.chat_id.get(),
                cursor: cursor(),
            },
            ChatEventKind::Read {
                user_id,
                message_id,
            } => ServerFrame::Read {
                chat_id: event.chat_id.get(),
                user_id: user_id.get(),
                message_id: message_id.get(),
                cursor: cursor(),
            },
            ChatEventKind::Typing { user_id } => ServerFrame::Typing {
                user_id: user_id.get(),
                chat_id: event.chat_id.get(),
            },
            ChatEventKind::PresenceChanged => return None,
        })
    }

    /// The `changes` frame of a catch-up page of `chat`: each change as its live frame, with
    /// the cursor just after it (the page's, for a read marker above it or not positioned).
    pub fn changes(chat: ChatId, page: &Changes) -> ServerFrame {
        let page_cursor = super::cursor::encode(chat, page.cursor);
        let events = page
            .changes
            .iter()
            .map(|(position, change)| {
                // Not past the page's cursor (a read stamped above the last committed message,
                // or one not stamped yet): a client that keeps the newest cursor it saw must
                // not skip what the log replays after the page.
                let cursor = match position {
                    Some(p) if *p <= page.cursor => super::cursor::encode(chat, *p),
                    _ => page_cursor.clone(),
                };
                match change {
                    MissedChange::Created(m) => ServerFrame::MessageCreated {
                        message: m.into(),
                        cursor,
                    },
                    MissedChange::Updated(m) => ServerFrame::MessageUpdated {
                        message: m.into(),
                        cursor,
                    },
                    MissedChange::Deleted(m) => ServerFrame::MessageDeleted {
                        message_id: m.id.get(),
                        chat_id: chat.get(),
                        cursor,
                    },
                    MissedChange::Read {
                        user_id,
                        message_id,
                    } => ServerFrame::Read {
                        chat_id: chat.get(),
                        user_id: user_id.get(),
                        message_id: message_id.get(),
                        cursor,
                    },
                }
            })
            .collect();
        ServerFrame::Changes {
            events,
            has_more: page.has_more,
            cursor: page_cursor,
        }
    }

    /// The error frame for a refused frame.
    pub fn error(client_id: Option<String>, err: &CoreError) -> ServerFrame {
        ServerFrame::Error {
            client_id,
            code: err.code().to_owned(),
            message: super::errors::public_message(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> (Option<String>, &'static str) {
        let e = decode_client_frame(text).unwrap_err();
        (e.client_id, e.error.code())
    }

    #[test]
    fn decodes_every_client_frame() {
        assert_eq!(
            decode_client_frame(r#"{"type":"MessageCreated","client_id":"c1","text":"hi"}"#),
            Ok(ClientFrame::Change {
                client_id: "c1".into(),
                change: Change::Create { text: "hi".into() }
            })
        );
        assert_eq!(
            decode_client_frame(
                r#"{"type":"MessageUpdated","client_id":"c","message_id":4,"text":"x"}"#
            ),
            Ok(ClientFrame::Change {
                client_id: "c".into(),
                change: Change::Update {
                    message_id: MessageId(4),
                    text: "x".into()
                }
            })
        );
        assert_eq!(
            decode_client_frame(r#"{"type":"MessageDeleted","client_id":"c","message_id":4}"#),
            Ok(ClientFrame::Change {
                client_id: "c".into(),
                change: Change::Delete {
                    message_id: MessageId(4)
                }
            })
        );
        assert_eq!(
            decode_client_frame(r#"{"type":"load_more","before":9}"#),
            Ok(ClientFrame::LoadMore {
                before: 9,
                limit: None
            })
        );
        assert_eq!(
            decode_client_frame(r#"{"type":"load_more","before":9,"limit":5}"#),
            Ok(ClientFrame::LoadMore {
                before: 9,
                limit: Some(5)
            })
        );
        assert_eq!(
            decode_client_frame(r#"{"type":"typing"}"#),
            Ok(ClientFrame::Typing)
        );
        assert_eq!(
            decode_client_frame(r#"{"type":"read","message_id":3}"#),
            Ok(ClientFrame::Read { message_id: 3 })
        );
    }

    #[test]
    fn refuses_bad_frames_with_the_client_id_when_readable() {
        assert_eq!(code("not json"), (None, "invalid_input"));
        assert_eq!(code("[1,2]"), (None, "invalid_input"));
        assert_eq!(
            code(r#"{"client_id":"c"}"#),
            (Some("c".into()), "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"Nope","client_id":"c"}"#),
            (Some("c".into()), "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"MessageCreated","text":"hi"}"#),
            (None, "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"MessageCreated","client_id":"c"}"#),
            (Some("c".into()), "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"MessageCreated","client_id":"c","text":5}"#),
            (Some("c".into()), "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"MessageUpdated","client_id":"c","message_id":"4","text":"x"}"#),
            (Some("c".into()), "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"MessageDeleted","client_id":"c","message_id":1.5}"#),
            (Some("c".into()), "invalid_input")
        );
        assert_eq!(code(r#"{"type":"load_more"}"#), (None, "invalid_input"));
        assert_eq!(
            code(r#"{"type":"read","message_id":null}"#),
            (None, "invalid_input")
        );
        assert_eq!(
            code(r#"{"type":"typing","client_id":7}"#),
            (None, "invalid_input")
        );
        let big = format!(
            r#"{{"type":"MessageCreated","client_id":"c","text":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(code(&big), (None, "too_large"));
    }

    #[test]
    fn the_message_names_the_field() {
        let e = decode_client_frame(r#"{"type":"MessageUpdated","client_id":"c","text":"x"}"#)
            .unwrap_err();
        assert!(e.error.to_string().contains("message_id"), "{}", e.error);
    }

    #[test]
    fn server_frames_match_the_protocol() {
        let f = ServerFrame::MessageDeleted {
            message_id: 42,
            chat_id: 7,
            cursor: "7.43".into(),
        }
        .to_json();
        assert_eq!(
            &*f,
            r#"{"type":"MessageDeleted","message_id":42,"chat_id":7,"cursor":"7.43"}"#
        );
        assert_eq!(&*ServerFrame::Pong.to_json(), r#"{"type":"pong"}"#);
        assert_eq!(
            decode_client_frame(r#"{"type":"ping"}"#).unwrap(),
            ClientFrame::Ping
        );
        let f = ServerFrame::Presence { online: vec![1, 2] }.to_json();
        assert_eq!(&*f, r#"{"type":"presence","online":[1,2]}"#);
        let f = ServerFrame::error(None, &CoreError::NotFound("message")).to_json();
        assert_eq!(
            &*f,
            r#"{"type":"error","client_id":null,"code":"not_found","message":"message not found"}"#
        );
    }
}
