//! Messages and pages of history.

use super::{ChatEventKind, ChatId, MessageId, Timestamp, UserId};

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

impl Page {
    /// Whether this page, read from the store, already shows the effect of `event`: a socket
    /// that opens with this page then catches up from the stream skips such events rather than
    /// replay a creation, an edit or a deletion its history already reflects.
    ///
    /// Only messages inside the page's id range are judged; an event about any other message
    /// is news to the reader.
    pub fn already_shows(&self, event: &ChatEventKind) -> bool {
        let (Some(first), Some(last)) = (self.messages.first(), self.messages.last()) else {
            return false;
        };
        let in_range = |id: MessageId| first.id <= id && id <= last.id;
        let shown = |id: MessageId| self.messages.iter().find(|m| m.id == id);
        match event {
            // Created and later deleted, the page lacks it: the deletion is reflected too.
            ChatEventKind::MessageCreated { message, .. } => in_range(message.id),
            ChatEventKind::MessageUpdated { message, .. } => {
                in_range(message.id)
                    && shown(message.id)
                        .is_none_or(|m| m.text == message.text && m.edited_at == message.edited_at)
            }
            ChatEventKind::MessageDeleted { message, .. } => {
                in_range(message.id) && shown(message.id).is_none()
            }
            ChatEventKind::Read { .. }
            | ChatEventKind::Typing { .. }
            | ChatEventKind::PresenceChanged => false,
        }
    }
}

/// The part of a catch-up backlog (the events read from the stream after a page of history
/// was read from the store) that the page's reader still needs, in order. `seen_up_to` is the
/// newest message id the reader has: the page's last, or the `?after=` it asked for.
///
/// Dropped: what the page already shows ([`Page::already_shows`]), and every event of a
/// message newer than `seen_up_to` that the backlog also deletes (the reader never saw it).
pub fn news_after_page<T>(
    page: &Page,
    seen_up_to: MessageId,
    backlog: Vec<T>,
    kind: impl Fn(&T) -> &ChatEventKind,
) -> Vec<T> {
    let vanished: Vec<MessageId> = backlog
        .iter()
        .filter_map(|t| match kind(t) {
            ChatEventKind::MessageDeleted { message, .. } if message.id > seen_up_to => {
                Some(message.id)
            }
            _ => None,
        })
        .collect();
    backlog
        .into_iter()
        .filter(|t| {
            let k = kind(t);
            !page.already_shows(k) && !k.message().is_some_and(|m| vanished.contains(&m.id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: i64, text: &str, edited: bool) -> Message {
        let at = Timestamp::from_unix_millis(1_800_000_000_000 + id);
        Message {
            id: MessageId(id),
            chat_id: ChatId(1),
            author_id: UserId(1),
            text: text.into(),
            created_at: at,
            edited_at: edited.then_some(at),
        }
    }

    fn created(message: Message) -> ChatEventKind {
        ChatEventKind::MessageCreated {
            message,
            client_id: None,
        }
    }

    fn updated(message: Message) -> ChatEventKind {
        ChatEventKind::MessageUpdated {
            message,
            client_id: None,
        }
    }

    fn deleted(message: Message) -> ChatEventKind {
        ChatEventKind::MessageDeleted {
            message,
            client_id: None,
        }
    }

    #[test]
    fn a_page_already_shows_what_happened_inside_its_range_and_nothing_else() {
        let page = Page {
            messages: vec![message(10, "a", false), message(12, "b edited", true)],
            has_more: false,
        };

        assert!(page.already_shows(&created(message(10, "a", false))));
        assert!(
            page.already_shows(&created(message(11, "gone", false))),
            "deleted since"
        );
        assert!(!page.already_shows(&created(message(13, "new", false))));

        assert!(page.already_shows(&updated(message(12, "b edited", true))));
        assert!(
            !page.already_shows(&updated(message(10, "a again", true))),
            "a later edit"
        );
        assert!(
            !page.already_shows(&updated(message(9, "older", true))),
            "outside the page"
        );

        assert!(page.already_shows(&deleted(message(11, "gone", false))));
        assert!(
            !page.already_shows(&deleted(message(10, "a", false))),
            "still shown"
        );
        assert!(
            !page.already_shows(&deleted(message(5, "older", false))),
            "outside the page"
        );

        let read = ChatEventKind::Read {
            user_id: UserId(2),
            message_id: MessageId(12),
        };
        assert!(!page.already_shows(&read));
        assert!(!Page::default().already_shows(&created(message(1, "x", false))));
    }

    #[test]
    fn a_backlog_drops_what_the_page_shows_and_messages_the_reader_never_saw_come_and_go() {
        let page = Page {
            messages: vec![message(10, "a edited", true)],
            has_more: false,
        };
        let backlog = vec![
            updated(message(10, "a edited", true)),
            created(message(11, "gone", false)),
            updated(message(11, "gone, edited", true)),
            deleted(message(11, "gone, edited", true)),
            created(message(12, "new", false)),
            deleted(message(3, "older, known to an ?after= reader", false)),
        ];
        let news = news_after_page(&page, MessageId(10), backlog, |k| k);
        assert_eq!(
            news,
            vec![
                created(message(12, "new", false)),
                deleted(message(3, "older, known to an ?after= reader", false)),
            ]
        );
    }
}
