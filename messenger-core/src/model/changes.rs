//! Catch-up: what changed in a chat after a position, read back from the store.

use super::{EventSeq, Message, MessageId, UserId};

/// Events one catch-up answer carries at most (the protocol's page of `changes`).
pub const CHANGES_PAGE: usize = 1000;

/// A message as its latest change left it (see `MessageStore::changes_after`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMessage {
    /// The message; a deleted one as it was when deleted.
    pub message: Message,
    /// The position of its latest change: its creation, last edit or deletion.
    pub position: EventSeq,
    /// Whether that change was its deletion.
    pub deleted: bool,
}

/// A participant's read marker with the position of the `read` event that last moved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMarker {
    /// The reader.
    pub user_id: UserId,
    /// The last message they have read.
    pub message_id: MessageId,
    /// Where its `read` event is in the chat's log; `None` while the marker has moved and that
    /// event is not recorded yet (a catch-up then always includes it).
    pub position: Option<EventSeq>,
}

/// One change a client that was away has missed, as the live frame it would have received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissedChange {
    /// Created after the cursor (with its current text if edited since).
    Created(Message),
    /// Created before the cursor, edited after it.
    Updated(Message),
    /// Created before the cursor, deleted after it.
    Deleted(Message),
    /// A read marker moved.
    Read {
        /// The reader.
        user_id: UserId,
        /// Their marker now.
        message_id: MessageId,
    },
}

/// One page of catch-up, in the chat's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes {
    /// The changes, each with its position (`None`: a read marker not yet stamped).
    pub changes: Vec<(Option<EventSeq>, MissedChange)>,
    /// Whether more changes follow: the client asks again from `cursor`.
    pub has_more: bool,
    /// Where the next catch-up (or the live log) continues: every change at or before it is
    /// in this page or an earlier one.
    pub cursor: EventSeq,
}

impl Changes {
    /// Pages what the store returned: message changes after `after` in position order (as many
    /// as it had, up to one more than a page, so that a full page can be told from the last)
    /// and the read markers moved after `after`.
    pub fn page(after: EventSeq, messages: Vec<ChangedMessage>, reads: Vec<ReadMarker>) -> Self {
        let more_messages = messages.len() > CHANGES_PAGE;
        let newest_message = messages.iter().take(CHANGES_PAGE).map(|m| m.position).max();
        let mut all: Vec<(Option<EventSeq>, MissedChange)> = messages
            .into_iter()
            .take(CHANGES_PAGE)
            .filter_map(|m| {
                let created_since = m.message.id.get() > after.get();
                let change = match (m.deleted, created_since) {
                    // Created and deleted since: nothing to show.
                    (true, true) => return None,
                    (true, false) => MissedChange::Deleted(m.message),
                    (false, true) => MissedChange::Created(m.message),
                    (false, false) => MissedChange::Updated(m.message),
                };
                Some((Some(m.position), change))
            })
            .collect();
        let (stamped, pending): (Vec<ReadMarker>, Vec<ReadMarker>) =
            reads.into_iter().partition(|r| r.position.is_some());
        all.extend(stamped.into_iter().filter_map(|r| {
            // Beyond the last message taken, a read belongs to a later page.
            let beyond = more_messages && r.position > newest_message;
            (!beyond).then_some((
                r.position,
                MissedChange::Read {
                    user_id: r.user_id,
                    message_id: r.message_id,
                },
            ))
        }));
        all.sort_by_key(|(p, _)| *p);
        // Unstamped markers have no position to page by: they come with the last page, or alone
        // (however many) when nothing else is left.
        let has_more = more_messages
            || all.len() > CHANGES_PAGE
            || (!all.is_empty() && all.len() + pending.len() > CHANGES_PAGE);
        let dropped = all.len() > CHANGES_PAGE;
        if has_more {
            all.truncate(CHANGES_PAGE);
        } else {
            all.extend(pending.into_iter().map(|r| {
                (
                    None,
                    MissedChange::Read {
                        user_id: r.user_id,
                        message_id: r.message_id,
                    },
                )
            }));
        }
        // The cursor never goes past the newest message change taken: the persister commits a
        // chat's message events in order, so every one at or below it is in the store, while a
        // read is stamped without waiting for the messages before it to be committed (a read
        // above it is in this page, and the log replays it again after). Unless the page had to
        // drop changes, it also moves past messages it left out (created and deleted since),
        // so that a run of them cannot stall the cursor.
        let newest = if dropped {
            all.iter().filter_map(|(p, _)| *p).max()
        } else {
            newest_message
        };
        let cursor = newest.unwrap_or(after).max(after);
        Changes {
            changes: all,
            has_more,
            cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChatId, Timestamp};

    fn msg(id: i64, text: &str) -> Message {
        Message {
            id: MessageId(id),
            chat_id: ChatId(1),
            author_id: UserId(1),
            text: text.into(),
            created_at: Timestamp::from_unix_millis(0),
            edited_at: None,
        }
    }

    fn changed(id: i64, position: i64, deleted: bool) -> ChangedMessage {
        ChangedMessage {
            message: msg(id, "x"),
            position: EventSeq(position),
            deleted,
        }
    }

    fn read(user: i64, message: i64, position: Option<i64>) -> ReadMarker {
        ReadMarker {
            user_id: UserId(user),
            message_id: MessageId(message),
            position: position.map(EventSeq),
        }
    }

    fn kinds(c: &Changes) -> Vec<(Option<i64>, &'static str, i64)> {
        c.changes
            .iter()
            .map(|(p, change)| {
                let (kind, id) = match change {
                    MissedChange::Created(m) => ("created", m.id.0),
                    MissedChange::Updated(m) => ("updated", m.id.0),
                    MissedChange::Deleted(m) => ("deleted", m.id.0),
                    MissedChange::Read { user_id, .. } => ("read", user_id.0),
                };
                (p.map(|p| p.0), kind, id)
            })
            .collect()
    }

    #[test]
    fn each_change_is_the_frame_a_live_socket_would_have_had() {
        let page = Changes::page(
            EventSeq(10),
            vec![
                changed(5, 11, false),  // older, edited since
                changed(6, 12, true),   // older, deleted since
                changed(13, 13, false), // new
                changed(14, 15, true),  // new and deleted since: left out
            ],
            vec![read(2, 13, Some(14)), read(3, 13, None)],
        );
        assert_eq!(
            kinds(&page),
            vec![
                (Some(11), "updated", 5),
                (Some(12), "deleted", 6),
                (Some(13), "created", 13),
                (Some(14), "read", 2),
                (None, "read", 3),
            ]
        );
        assert!(!page.has_more);
        assert_eq!(page.cursor, EventSeq(15), "past the change left out too");
    }

    #[test]
    fn a_read_stamped_above_the_messages_does_not_move_the_cursor() {
        // Message 100 is appended but not committed yet; a read appended after it (101) is
        // stamped at once. The page shows the read, but continues from 99: the log replays
        // message 100 (and the read again) after the page.
        let page = Changes::page(EventSeq(99), vec![], vec![read(2, 50, Some(101))]);
        assert_eq!(kinds(&page), vec![(Some(101), "read", 2)]);
        assert_eq!(page.cursor, EventSeq(99));
        let page = Changes::page(
            EventSeq(90),
            vec![changed(95, 95, false)],
            vec![read(2, 50, Some(101))],
        );
        assert_eq!(page.cursor, EventSeq(95));
    }

    #[test]
    fn a_full_page_keeps_the_reads_up_to_the_last_message_taken() {
        // 1,000 messages created and deleted since, then a read among the next ones: the page
        // shows no message, and nothing past its cursor.
        let mut messages: Vec<ChangedMessage> = (1..=CHANGES_PAGE as i64)
            .map(|i| changed(i, i, true))
            .collect();
        messages.push(changed(2_000, 2_000, false));
        let reads = vec![read(2, 3, Some(500)), read(3, 3, Some(1_500))];
        let page = Changes::page(EventSeq(0), messages, reads);
        assert!(page.has_more);
        assert_eq!(kinds(&page), vec![(Some(500), "read", 2)]);
        assert_eq!(page.cursor, EventSeq(CHANGES_PAGE as i64));
    }

    #[test]
    fn a_full_page_of_messages_created_and_deleted_since_still_moves_the_cursor() {
        let messages: Vec<ChangedMessage> = (1..=CHANGES_PAGE as i64 + 1)
            .map(|i| changed(i, i, true))
            .collect();
        let page = Changes::page(EventSeq(0), messages, vec![]);
        assert!(page.has_more && page.changes.is_empty());
        assert_eq!(page.cursor, EventSeq(CHANGES_PAGE as i64));
    }

    #[test]
    fn nothing_new_keeps_the_cursor() {
        let page = Changes::page(EventSeq(10), vec![], vec![]);
        assert_eq!(
            page,
            Changes {
                cursor: EventSeq(10),
                ..Changes::default()
            }
        );
    }

    #[test]
    fn a_full_page_ends_at_its_last_change_and_leaves_the_rest_for_the_next() {
        let messages: Vec<ChangedMessage> = (1..=CHANGES_PAGE as i64 + 1)
            .map(|i| changed(i, i, false))
            .collect();
        let reads = vec![
            read(2, 3, Some(500)),
            read(3, 3, Some(5_000)),
            read(4, 3, None),
        ];
        let page = Changes::page(EventSeq(0), messages, reads);
        assert!(page.has_more);
        assert_eq!(page.changes.len(), CHANGES_PAGE);
        let positions: Vec<Option<EventSeq>> = page.changes.iter().map(|(p, _)| *p).collect();
        assert!(positions.is_sorted() && positions.iter().all(Option::is_some));
        assert!(kinds(&page).contains(&(Some(500), "read", 2)));
        assert!(!kinds(&page)
            .iter()
            .any(|(_, kind, id)| *kind == "read" && *id != 2));
        assert_eq!(page.cursor, positions.last().copied().flatten().unwrap());
        assert!(page.cursor < EventSeq(1_001));
    }
}
