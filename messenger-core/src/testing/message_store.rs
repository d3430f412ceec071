//! Contract of [`crate::ports::MessageStore`].

use super::{at, message};
use crate::ports::MessageStore;
use crate::{
    ChatEvent, ChatEventKind, ChatId, ClientIdMatch, CommitOutcome, EventSeq, Message, MessageId,
    UserId,
};

/// Expands to the `MessageStore` contract tests.
#[macro_export]
macro_rules! message_store_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            message_store,
            $make,
            [
                created_messages_read_back_in_pages_oldest_first,
                applying_the_same_event_twice_changes_nothing,
                a_repeated_client_id_answers_with_the_first_message,
                edits_keep_the_newest_and_deletes_hide_the_message,
                last_messages_and_unread_counts,
                a_deleted_chat_forgets_its_messages_and_refuses_more,
                changes_after_a_position_are_each_messages_latest_in_order,
            ]
        );
    };
}

fn created(seq: i64, chat: i64, author: i64, text: &str, client_id: Option<&str>) -> ChatEvent {
    let mut m = message(chat, author, text);
    m.id = MessageId(seq);
    ChatEvent {
        seq: EventSeq(seq),
        chat_id: ChatId(chat),
        origin: None,
        kind: ChatEventKind::MessageCreated {
            message: m,
            client_id: client_id.map(str::to_owned),
        },
    }
}

fn updated(seq: i64, of: &Message, text: &str) -> ChatEvent {
    let mut m = of.clone();
    m.text = text.into();
    m.edited_at = Some(at(seq));
    ChatEvent {
        seq: EventSeq(seq),
        chat_id: of.chat_id,
        origin: None,
        kind: ChatEventKind::MessageUpdated {
            message: m,
            client_id: None,
        },
    }
}

fn deleted(seq: i64, of: &Message) -> ChatEvent {
    ChatEvent {
        seq: EventSeq(seq),
        chat_id: of.chat_id,
        origin: None,
        kind: ChatEventKind::MessageDeleted {
            message: of.clone(),
            client_id: None,
        },
    }
}

fn committed(outcome: &CommitOutcome) -> Message {
    match outcome {
        CommitOutcome::Committed(m) => m.clone(),
        other => panic!("expected Committed, got {other:?}"),
    }
}

fn ids(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.id.0).collect()
}

pub async fn created_messages_read_back_in_pages_oldest_first(store: &dyn MessageStore) {
    let events: Vec<ChatEvent> = (1..=5)
        .map(|i| created(i * 10, 1, 1, &format!("m{i}"), None))
        .collect();
    let outcomes = store.apply(&events).await.unwrap();
    assert_eq!(outcomes.len(), 5);
    assert_eq!(committed(&outcomes[0]).text, "m1");
    store
        .apply(&[created(15, 2, 1, "other chat", None)])
        .await
        .unwrap();

    let newest = store.page_before(ChatId(1), None, 2).await.unwrap();
    assert_eq!(ids(&newest.messages), [40, 50]);
    assert!(newest.has_more);
    let older = store
        .page_before(ChatId(1), Some(MessageId(40)), 10)
        .await
        .unwrap();
    assert_eq!(ids(&older.messages), [10, 20, 30]);
    assert!(!older.has_more);
    let after = store.page_after(ChatId(1), MessageId(20), 2).await.unwrap();
    assert_eq!(ids(&after.messages), [30, 40]);
    assert!(after.has_more);
    let tail = store.page_after(ChatId(1), MessageId(40), 2).await.unwrap();
    assert_eq!(ids(&tail.messages), [50]);
    assert!(!tail.has_more);
    let got = store.get(MessageId(30)).await.unwrap().unwrap();
    assert_eq!(
        (got.chat_id, got.author_id, got.text.as_str()),
        (ChatId(1), UserId(1), "m3")
    );
    assert_eq!(got.created_at, at(0));
    assert_eq!(store.get(MessageId(31)).await.unwrap(), None);
    assert!(store
        .page_before(ChatId(99), None, 5)
        .await
        .unwrap()
        .messages
        .is_empty());
}

pub async fn applying_the_same_event_twice_changes_nothing(store: &dyn MessageStore) {
    let create = created(7, 1, 1, "once", None);
    let first = store.apply(std::slice::from_ref(&create)).await.unwrap();
    let second = store.apply(&[create]).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        store
            .page_before(ChatId(1), None, 10)
            .await
            .unwrap()
            .messages
            .len(),
        1
    );
    let m = committed(&first[0]);
    let edit = updated(8, &m, "edited");
    store.apply(std::slice::from_ref(&edit)).await.unwrap();
    assert_eq!(
        committed(&store.apply(&[edit]).await.unwrap()[0]).text,
        "edited"
    );
    let del = deleted(9, &m);
    let d1 = store.apply(std::slice::from_ref(&del)).await.unwrap();
    let d2 = store.apply(&[del]).await.unwrap();
    assert_eq!(d1, d2, "a replayed delete answers as the first time");
}

pub async fn a_repeated_client_id_answers_with_the_first_message(store: &dyn MessageStore) {
    let outcomes = store
        .apply(&[
            created(1, 1, 1, "first", Some("c1")),
            created(2, 1, 1, "retry", Some("c1")),
            created(3, 1, 2, "other author, same key", Some("c1")),
        ])
        .await
        .unwrap();
    assert_eq!(committed(&outcomes[0]).id, MessageId(1));
    assert_eq!(
        committed(&outcomes[1]).id,
        MessageId(1),
        "the retry is the first message"
    );
    assert_eq!(committed(&outcomes[2]).id, MessageId(3));
    assert_eq!(
        ids(&store
            .page_before(ChatId(1), None, 10)
            .await
            .unwrap()
            .messages),
        [1, 3]
    );
    let found = store
        .by_client_id(ChatId(1), UserId(1), "c1")
        .await
        .unwrap();
    assert!(matches!(found, Some(ClientIdMatch::Live(m)) if m.id == MessageId(1)));
    assert_eq!(
        store
            .by_client_id(ChatId(2), UserId(1), "c1")
            .await
            .unwrap(),
        None
    );
}

pub async fn edits_keep_the_newest_and_deletes_hide_the_message(store: &dyn MessageStore) {
    let out = store
        .apply(&[created(1, 1, 1, "v1", Some("k"))])
        .await
        .unwrap();
    let m = committed(&out[0]);
    let newer = updated(5, &m, "v3");
    let older = updated(3, &m, "v2");
    let res = store.apply(&[newer, older]).await.unwrap();
    assert_eq!(committed(&res[1]).text, "v3", "an older edit never wins");
    let now = store.get(m.id).await.unwrap().unwrap();
    assert_eq!(now.text, "v3");
    assert_eq!(now.edited_at, Some(at(5)));
    let del = store.apply(&[deleted(6, &now)]).await.unwrap();
    assert_eq!(committed(&del[0]).id, m.id);
    assert_eq!(store.get(m.id).await.unwrap(), None);
    assert!(store
        .page_before(ChatId(1), None, 10)
        .await
        .unwrap()
        .messages
        .is_empty());
    assert_eq!(
        store.by_client_id(ChatId(1), UserId(1), "k").await.unwrap(),
        Some(ClientIdMatch::Deleted)
    );
    let again = store
        .apply(&[deleted(7, &now), updated(8, &now, "v4")])
        .await
        .unwrap();
    assert_eq!(
        again,
        vec![CommitOutcome::NotFound, CommitOutcome::NotFound]
    );
    let retry = store
        .apply(&[created(9, 1, 1, "v1", Some("k"))])
        .await
        .unwrap();
    assert_eq!(
        retry,
        vec![CommitOutcome::NotFound],
        "a deleted message's key stays used"
    );
}

pub async fn last_messages_and_unread_counts(store: &dyn MessageStore) {
    store
        .apply(&[
            created(1, 1, 1, "a", None),
            created(2, 1, 2, "b", None),
            created(3, 1, 2, "c", None),
            created(4, 2, 1, "d", None),
        ])
        .await
        .unwrap();
    let mut last = store
        .last_messages(&[ChatId(1), ChatId(2), ChatId(3)])
        .await
        .unwrap();
    last.sort_by_key(|m| m.chat_id);
    assert_eq!(ids(&last), [3, 4]);
    assert_eq!(
        store
            .count_unread(ChatId(1), UserId(1), None, MessageId(i64::MAX))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_unread(
                ChatId(1),
                UserId(1),
                Some(MessageId(2)),
                MessageId(i64::MAX)
            )
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_unread(ChatId(1), UserId(2), None, MessageId(i64::MAX))
            .await
            .unwrap(),
        1
    );
    let three = store.get(MessageId(3)).await.unwrap().unwrap();
    store.apply(&[deleted(5, &three)]).await.unwrap();
    assert_eq!(
        store
            .count_unread(ChatId(1), UserId(1), None, MessageId(i64::MAX))
            .await
            .unwrap(),
        1
    );
    assert_eq!(ids(&store.last_messages(&[ChatId(1)]).await.unwrap()), [2]);
    // Bounded by the last message a snapshot shows: a later one is not counted.
    assert_eq!(
        store
            .count_unread(ChatId(1), UserId(1), None, MessageId(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .count_unread(ChatId(1), UserId(1), None, MessageId(2))
            .await
            .unwrap(),
        1
    );
}

pub async fn a_deleted_chat_forgets_its_messages_and_refuses_more(store: &dyn MessageStore) {
    store
        .apply(&[created(1, 1, 1, "a", None), created(2, 2, 1, "b", None)])
        .await
        .unwrap();
    store.delete_chat(ChatId(1)).await.unwrap();
    assert_eq!(store.get(MessageId(1)).await.unwrap(), None);
    assert!(store
        .page_before(ChatId(1), None, 10)
        .await
        .unwrap()
        .messages
        .is_empty());
    let late = store
        .apply(&[created(3, 1, 1, "late", None)])
        .await
        .unwrap();
    assert_eq!(late, vec![CommitOutcome::NotFound]);
    assert!(
        store.get(MessageId(2)).await.unwrap().is_some(),
        "other chats are untouched"
    );
}

pub async fn changes_after_a_position_are_each_messages_latest_in_order(store: &dyn MessageStore) {
    let first = store
        .apply(&[created(10, 1, 1, "old", None)])
        .await
        .unwrap();
    let old = committed(&first[0]);
    let second = store
        .apply(&[
            created(11, 1, 2, "kept", None),
            created(12, 1, 1, "to delete", None),
            created(13, 2, 1, "other chat", None),
        ])
        .await
        .unwrap();
    let kept = committed(&second[0]);
    let doomed = committed(&second[1]);
    store
        .apply(&[
            updated(14, &kept, "kept, edited"),
            deleted(15, &doomed),
            updated(16, &old, "old, edited"),
        ])
        .await
        .unwrap();

    let all = store
        .changes_after(ChatId(1), EventSeq(0), 100)
        .await
        .unwrap();
    let summary: Vec<(i64, i64, bool, &str)> = all
        .iter()
        .map(|c| {
            (
                c.position.0,
                c.message.id.0,
                c.deleted,
                c.message.text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (14, 11, false, "kept, edited"),
            (15, 12, true, "to delete"),
            (16, 10, false, "old, edited"),
        ],
        "each message once, at its latest change, in position order; the other chat apart"
    );
    let since_15 = store
        .changes_after(ChatId(1), EventSeq(15), 100)
        .await
        .unwrap();
    assert_eq!(since_15.len(), 1);
    assert_eq!(since_15[0].position, EventSeq(16));
    let limited = store
        .changes_after(ChatId(1), EventSeq(0), 2)
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[1].position, EventSeq(15));
    assert!(store
        .changes_after(ChatId(1), EventSeq(16), 100)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .changes_after(ChatId(9), EventSeq(0), 100)
        .await
        .unwrap()
        .is_empty());
}
