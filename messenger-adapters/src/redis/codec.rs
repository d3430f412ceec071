//! Events as stream fields (flat name/value pairs), and back.

use messenger_core::{
    ChatEvent, ChatEventKind, ChatId, ConnId, EventSeq, FeedEvent, Message, MessageId, NodeId,
    Origin, Timestamp, TokenId, UserId,
};
use std::collections::HashMap;

/// The fields of a chat event: `type`, and the message's `message_id`, `chat_id`,
/// `author_id`, `text`, `created_at` (and `edited_at`, `client_id`, the origin) or the
/// `user_id` / `message_id` of a receipt. A created message's id is its event's position (the
/// entry id), so its fields do not depend on the position: a script can take the position
/// from the counter in the same step as it appends.
pub fn encode_event(event: &ChatEvent) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = Vec::with_capacity(12);
    let mut put = |k: &str, v: String| f.push((k.to_owned(), v));
    let message = |put: &mut dyn FnMut(&str, String), m: &Message, cid: &Option<String>| {
        put("chat_id", m.chat_id.get().to_string());
        put("author_id", m.author_id.get().to_string());
        put("text", m.text.clone());
        put("created_at", m.created_at.to_rfc3339());
        if let Some(e) = m.edited_at {
            put("edited_at", e.to_rfc3339());
        }
        if let Some(c) = cid {
            put("client_id", c.clone());
        }
    };
    match &event.kind {
        ChatEventKind::MessageCreated {
            message: m,
            client_id,
        } => {
            put("type", "MessageCreated".into());
            message(&mut put, m, client_id);
        }
        ChatEventKind::MessageUpdated {
            message: m,
            client_id,
        } => {
            put("type", "MessageUpdated".into());
            put("message_id", m.id.get().to_string());
            message(&mut put, m, client_id);
        }
        ChatEventKind::MessageDeleted {
            message: m,
            client_id,
        } => {
            put("type", "MessageDeleted".into());
            put("message_id", m.id.get().to_string());
            message(&mut put, m, client_id);
        }
        ChatEventKind::Read {
            user_id,
            message_id,
        } => {
            put("type", "read".into());
            put("user_id", user_id.get().to_string());
            put("message_id", message_id.get().to_string());
        }
        ChatEventKind::Typing { user_id } => {
            put("type", "typing".into());
            put("user_id", user_id.get().to_string());
        }
        ChatEventKind::PresenceChanged => put("type", "presence".into()),
    }
    if let Some(o) = &event.origin {
        put("origin_node", o.node.0.clone());
        put("origin_conn", o.conn.0.to_string());
    }
    f
}

fn int(f: &HashMap<String, String>, k: &str) -> Option<i64> {
    f.get(k)?.parse().ok()
}

fn time(f: &HashMap<String, String>, k: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(f.get(k)?)
}

/// The chat event at `seq` of `chat` with these fields (`None` if they are not one).
pub fn decode_event(chat: ChatId, seq: EventSeq, f: &HashMap<String, String>) -> Option<ChatEvent> {
    let message = |id: Option<i64>| -> Option<Message> {
        Some(Message {
            id: MessageId(id?),
            chat_id: chat,
            author_id: UserId(int(f, "author_id")?),
            text: f.get("text")?.clone(),
            created_at: time(f, "created_at")?,
            edited_at: time(f, "edited_at"),
        })
    };
    let client_id = f.get("client_id").cloned();
    let kind = match f.get("type")?.as_str() {
        "MessageCreated" => ChatEventKind::MessageCreated {
            message: message(Some(seq.get()))?,
            client_id,
        },
        "MessageUpdated" => ChatEventKind::MessageUpdated {
            message: message(int(f, "message_id"))?,
            client_id,
        },
        "MessageDeleted" => ChatEventKind::MessageDeleted {
            message: message(int(f, "message_id"))?,
            client_id,
        },
        "read" => ChatEventKind::Read {
            user_id: UserId(int(f, "user_id")?),
            message_id: MessageId(int(f, "message_id")?),
        },
        "typing" => ChatEventKind::Typing {
            user_id: UserId(int(f, "user_id")?),
        },
        "presence" => ChatEventKind::PresenceChanged,
        _ => return None,
    };
    let origin = match (f.get("origin_node"), int(f, "origin_conn")) {
        (Some(node), Some(conn)) => Some(Origin {
            node: NodeId(node.clone()),
            conn: ConnId(u64::try_from(conn).unwrap_or(0)),
        }),
        _ => None,
    };
    Some(ChatEvent {
        seq,
        chat_id: chat,
        origin,
        kind,
    })
}

/// The fields of a feed event.
pub fn encode_feed(event: &FeedEvent) -> Vec<(String, String)> {
    let pair = |k: &str, v: String| (k.to_owned(), v);
    match event {
        FeedEvent::ChatCreated { chat_id, from } => vec![
            pair("type", "ChatCreated".into()),
            pair("chat_id", chat_id.get().to_string()),
            pair("from", from.get().to_string()),
        ],
        FeedEvent::ChatUpdated { chat_id } => vec![
            pair("type", "ChatUpdated".into()),
            pair("chat_id", chat_id.get().to_string()),
        ],
        FeedEvent::ChatDeleted { chat_id } => vec![
            pair("type", "ChatDeleted".into()),
            pair("chat_id", chat_id.get().to_string()),
        ],
        FeedEvent::TokenRevoked { token_id } => vec![
            pair("type", "TokenRevoked".into()),
            pair("token_id", token_id.0.clone()),
        ],
    }
}

/// The feed event with these fields.
pub fn decode_feed(f: &HashMap<String, String>) -> Option<FeedEvent> {
    let chat = || int(f, "chat_id").map(ChatId);
    Some(match f.get("type")?.as_str() {
        "ChatCreated" => FeedEvent::ChatCreated {
            chat_id: chat()?,
            from: EventSeq(int(f, "from")?),
        },
        "ChatUpdated" => FeedEvent::ChatUpdated { chat_id: chat()? },
        "ChatDeleted" => FeedEvent::ChatDeleted { chat_id: chat()? },
        "TokenRevoked" => FeedEvent::TokenRevoked {
            token_id: TokenId(f.get("token_id")?.clone()),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_the_round_trip() {
        let m = Message {
            id: MessageId(9),
            chat_id: ChatId(3),
            author_id: UserId(2),
            text: "hé | \"quoted\"".into(),
            created_at: Timestamp::from_unix_millis(1_800_000_000_123),
            edited_at: Some(Timestamp::from_unix_millis(1_800_000_001_000)),
        };
        let origin = Some(Origin {
            node: NodeId("n1".into()),
            conn: ConnId(5),
        });
        for kind in [
            ChatEventKind::MessageCreated {
                message: m.clone(),
                client_id: Some("c".into()),
            },
            ChatEventKind::MessageUpdated {
                message: m.clone(),
                client_id: None,
            },
            ChatEventKind::MessageDeleted {
                message: m.clone(),
                client_id: None,
            },
            ChatEventKind::Read {
                user_id: UserId(1),
                message_id: MessageId(9),
            },
            ChatEventKind::Typing { user_id: UserId(1) },
            ChatEventKind::PresenceChanged,
        ] {
            let e = ChatEvent {
                seq: EventSeq(9),
                chat_id: ChatId(3),
                origin: origin.clone(),
                kind,
            };
            let fields: HashMap<String, String> = encode_event(&e).into_iter().collect();
            let created = matches!(e.kind, ChatEventKind::MessageCreated { .. });
            assert_eq!(decode_event(ChatId(3), EventSeq(9), &fields), Some(e));
            if created {
                assert!(
                    !fields.contains_key("message_id"),
                    "a created message's id is its position, not a field"
                );
            }
        }
        for f in [
            FeedEvent::ChatCreated {
                chat_id: ChatId(1),
                from: EventSeq(4),
            },
            FeedEvent::ChatUpdated { chat_id: ChatId(1) },
            FeedEvent::ChatDeleted { chat_id: ChatId(1) },
            FeedEvent::TokenRevoked {
                token_id: TokenId("t".into()),
            },
        ] {
            let fields: HashMap<String, String> = encode_feed(&f).into_iter().collect();
            assert_eq!(decode_feed(&fields), Some(f));
        }
    }
}
