//! Contract of [`crate::ports::ChatLog`].

use super::message;
use crate::ports::ChatLog;
use crate::{Appended, ChatEvent, ChatEventKind, ChatId, EventDraft, EventSeq, MessageId, UserId};
use std::time::Duration;

/// Expands to the `ChatLog` contract tests.
#[macro_export]
macro_rules! chat_log_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            chat_log,
            $make,
            [
                positions_increase_within_a_chat_and_are_unique_across_chats,
                a_created_message_takes_its_position_as_id,
                read_after_returns_events_in_order_per_cursor,
                a_blocked_read_wakes_on_append_and_times_out_otherwise,
                a_repeated_client_id_is_not_appended_twice,
            ]
        );
    };
}

/// A `MessageCreated` draft by `author`, with an optional `client_id`.
pub fn create(author: i64, text: &str, client_id: Option<&str>) -> EventDraft {
    EventDraft {
        origin: None,
        kind: ChatEventKind::MessageCreated {
            message: message(0, author, text),
            client_id: client_id.map(str::to_owned),
        },
    }
}

/// A `Typing` draft: in the log, never work for a persister.
pub fn typing(user: i64) -> EventDraft {
    EventDraft {
        origin: None,
        kind: ChatEventKind::Typing {
            user_id: UserId(user),
        },
    }
}

/// Appends `draft` to `chat`, which must be new (not a duplicate).
pub async fn append<L: ChatLog + ?Sized>(log: &L, chat: i64, draft: EventDraft) -> ChatEvent {
    match log.append(ChatId(chat), draft).await.unwrap() {
        Appended::New(event) => event,
        other => panic!("expected New, got {other:?}"),
    }
}

pub async fn positions_increase_within_a_chat_and_are_unique_across_chats<S: ChatLog>(log: &S) {
    assert_eq!(log.head(ChatId(1)).await.unwrap(), EventSeq(0));
    let a = append(log, 1, create(1, "a", None)).await;
    let b = append(log, 2, create(1, "b", None)).await;
    let c = append(log, 1, typing(1)).await;
    assert!(a.seq < c.seq);
    assert!(a.seq != b.seq && b.seq != c.seq);
    assert_eq!(log.head(ChatId(1)).await.unwrap(), c.seq);
    assert_eq!(log.head(ChatId(2)).await.unwrap(), b.seq);
}

pub async fn a_created_message_takes_its_position_as_id<S: ChatLog>(log: &S) {
    let e = append(log, 3, create(1, "hi", Some("c"))).await;
    let ChatEventKind::MessageCreated { message, client_id } = &e.kind else {
        panic!("kind")
    };
    assert_eq!(message.id, MessageId(e.seq.0));
    assert_eq!(message.chat_id, ChatId(3));
    assert_eq!(message.text, "hi");
    assert_eq!(client_id.as_deref(), Some("c"));
    assert_eq!(e.chat_id, ChatId(3));
}

pub async fn read_after_returns_events_in_order_per_cursor<S: ChatLog>(log: &S) {
    let mut seqs = Vec::new();
    for i in 0..5 {
        seqs.push(append(log, 1, create(1, &format!("m{i}"), None)).await.seq);
    }
    let other = append(log, 2, typing(2)).await;
    let all = log
        .read_after(&[(ChatId(1), EventSeq(0))], 100, None)
        .await
        .unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    let tail = log
        .read_after(&[(ChatId(1), seqs[2])], 100, None)
        .await
        .unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), &seqs[3..]);
    let limited = log
        .read_after(&[(ChatId(1), EventSeq(0))], 2, None)
        .await
        .unwrap();
    assert_eq!(
        limited.iter().map(|e| e.seq).collect::<Vec<_>>(),
        &seqs[..2]
    );
    let both = log
        .read_after(&[(ChatId(1), seqs[3]), (ChatId(2), EventSeq(0))], 100, None)
        .await
        .unwrap();
    let mut got: Vec<EventSeq> = both.iter().map(|e| e.seq).collect();
    got.sort();
    assert_eq!(got, vec![seqs[4], other.seq]);
    assert!(log
        .read_after(&[(ChatId(9), EventSeq(0))], 10, None)
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_blocked_read_wakes_on_append_and_times_out_otherwise<S: ChatLog>(log: &S) {
    let head = log.head(ChatId(1)).await.unwrap();
    let idle = log
        .read_after(&[(ChatId(1), head)], 10, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert!(idle.is_empty());
    let (read, appended) = super::join2(
        log.read_after(&[(ChatId(1), head)], 10, Some(Duration::from_secs(10))),
        async { append(log, 1, create(1, "wake", None)).await },
    )
    .await;
    let read = read.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].seq, appended.seq);
}

pub async fn a_repeated_client_id_is_not_appended_twice<S: ChatLog>(log: &S) {
    let first = append(log, 1, create(1, "x", Some("dup"))).await;
    let again = log
        .append(ChatId(1), create(1, "x", Some("dup")))
        .await
        .unwrap();
    assert_eq!(again, Appended::Duplicate(first.seq));
    append(log, 1, create(2, "x", Some("dup"))).await; // another author
    append(log, 2, create(1, "x", Some("dup"))).await; // another chat
    append(log, 1, create(1, "x", None)).await; // no key: never a duplicate
    append(log, 1, create(1, "x", None)).await;
    let events = log
        .read_after(&[(ChatId(1), EventSeq(0))], 100, None)
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
}
