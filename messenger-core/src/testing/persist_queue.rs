//! Contract of [`crate::ports::PersistQueue`], fed through [`crate::ports::ChatLog`].

use super::chat_log::{append, create, typing};
use crate::ports::{ChatLog, PersistBacklog, PersistQueue};
use crate::{ChatEvent, ChatId, EventSeq};
use std::time::Duration;

/// Expands to the `PersistQueue` contract tests.
#[macro_export]
macro_rules! persist_queue_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            persist_queue,
            $make,
            [
                the_persister_claims_message_events_once_until_acknowledged,
                claims_span_many_chats_each_in_position_order,
                a_chat_acknowledged_by_its_persister_goes_to_the_next_one,
                the_sweep_reports_unread_and_pending_message_events,
            ]
        );
    };
}

pub async fn the_persister_claims_message_events_once_until_acknowledged<
    S: ChatLog + PersistQueue,
>(
    backend: &S,
) {
    let a = append(backend, 1, create(1, "a", None)).await;
    append(backend, 1, typing(1)).await;
    let b = append(backend, 2, create(1, "b", None)).await;
    let c = append(backend, 1, create(1, "c", None)).await;
    let mut first = backend.claim("p1", 10, None).await.unwrap();
    first.sort_by_key(|e| e.seq);
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![a.seq, b.seq, c.seq],
        "message events only: typing is not persisted"
    );
    let second = backend
        .claim("p2", 10, Some(Duration::from_millis(10)))
        .await
        .unwrap();
    assert!(
        second.is_empty(),
        "claimed events go to one persister: {second:?}"
    );
    backend
        .ack(
            "p1",
            &[(ChatId(1), a.seq), (ChatId(2), b.seq), (ChatId(1), c.seq)],
        )
        .await
        .unwrap();
    assert!(backend.claim("p1", 10, None).await.unwrap().is_empty());
    let (claimed, appended) = super::join2(
        backend.claim("p1", 10, Some(Duration::from_secs(10))),
        async { append(backend, 3, create(1, "late", None)).await },
    )
    .await;
    assert_eq!(
        claimed.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![appended.seq]
    );
}

pub async fn claims_span_many_chats_each_in_position_order<S: ChatLog + PersistQueue>(backend: &S) {
    // Chats 1..=20 (every read lane) get two messages each around a typing entry; chats
    // 31..=34 only typing, which is never work.
    let mut expected = Vec::new();
    for round in 0..2 {
        for chat in 1..=20 {
            expected.push(append(backend, chat, create(1, &format!("{chat}/{round}"), None)).await);
            append(backend, chat, typing(2)).await;
        }
    }
    for chat in 31..=34 {
        append(backend, chat, typing(1)).await;
    }
    let mut claimed = Vec::new();
    loop {
        let batch = backend.claim("p1", 1000, None).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for chat in 1..=20 {
            let seqs: Vec<EventSeq> = batch
                .iter()
                .filter(|e| e.chat_id == ChatId(chat))
                .map(|e| e.seq)
                .collect();
            assert!(seqs.is_sorted(), "chat {chat} out of order: {seqs:?}");
        }
        let keys: Vec<(ChatId, EventSeq)> = batch.iter().map(|e| (e.chat_id, e.seq)).collect();
        backend.ack("p1", &keys).await.unwrap();
        claimed.extend(batch);
    }
    claimed.sort_by_key(|e| e.seq);
    assert_eq!(claimed, expected, "every message event once, nothing else");
    // Typing alone never queues its chat; the sweep puts such chats in the persisters' way,
    // and a claim clears their entries without returning them.
    backend.sweep().await.unwrap();
    assert!(backend.claim("p1", 1000, None).await.unwrap().is_empty());
    assert_eq!(backend.sweep().await.unwrap(), PersistBacklog::default());
    // A chat that had only typing is free for the next message.
    let late = append(backend, 31, create(1, "late", None)).await;
    let next = backend
        .claim("p2", 10, Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(next, vec![late]);
}

pub async fn a_chat_acknowledged_by_its_persister_goes_to_the_next_one<
    S: ChatLog + PersistQueue,
>(
    backend: &S,
) {
    let seqs = |events: Vec<ChatEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let a = append(backend, 7, create(1, "a", None)).await;
    let first = backend.claim("p1", 10, None).await.unwrap();
    assert_eq!(seqs(first), [a.seq]);
    backend.ack("p1", &[(ChatId(7), a.seq)]).await.unwrap();
    let b = append(backend, 7, create(1, "b", None)).await;
    let next = backend.claim("p2", 10, None).await.unwrap();
    assert_eq!(
        seqs(next),
        [b.seq],
        "p1's hold on the chat ended with its ack"
    );
}

pub async fn the_sweep_reports_unread_and_pending_message_events<S: ChatLog + PersistQueue>(
    backend: &S,
) {
    assert_eq!(backend.sweep().await.unwrap(), PersistBacklog::default());
    let a = append(backend, 5, create(1, "a", None)).await;
    let b = append(backend, 6, create(1, "b", None)).await;
    assert_eq!(
        backend.sweep().await.unwrap(),
        PersistBacklog {
            unread: 2,
            pending: 0
        }
    );
    let claimed = backend.claim("p1", 10, None).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        backend.sweep().await.unwrap(),
        PersistBacklog {
            unread: 0,
            pending: 2
        }
    );
    backend
        .ack("p1", &[(ChatId(5), a.seq), (ChatId(6), b.seq)])
        .await
        .unwrap();
    assert_eq!(backend.sweep().await.unwrap(), PersistBacklog::default());
}
