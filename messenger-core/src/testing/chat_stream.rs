//! Contract of [`crate::ports::ChatStream`].

use super::message;
use crate::ports::{ChatStream, LanePage, PersistBacklog};
use crate::{Appended, ChatEvent, ChatEventKind, ChatId, EventDraft, EventSeq, MessageId, UserId};
use std::time::Duration;

/// Expands to the `ChatStream` contract tests.
#[macro_export]
macro_rules! chat_stream_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            chat_stream,
            $make,
            [
                positions_increase_within_a_chat_and_are_unique_across_chats,
                a_created_message_takes_its_position_as_id,
                read_after_returns_events_in_order_per_cursor,
                a_blocked_read_wakes_on_append_and_times_out_otherwise,
                a_repeated_client_id_is_not_appended_twice,
                the_persister_claims_message_events_once_until_acknowledged,
                claims_span_many_chats_each_in_position_order,
                a_chat_acknowledged_by_its_persister_goes_to_the_next_one,
                a_lane_log_holds_its_chats_events_in_position_order,
                a_blocked_lane_log_read_wakes_on_append_and_times_out_otherwise,
                a_reader_ahead_of_the_lane_log_is_told_of_a_gap,
                the_sweep_reports_unread_and_pending_message_events,
            ]
        );
    };
}

fn create(author: i64, text: &str, client_id: Option<&str>) -> EventDraft {
    EventDraft {
        origin: None,
        kind: ChatEventKind::MessageCreated {
            message: message(0, author, text),
            client_id: client_id.map(str::to_owned),
        },
    }
}

fn typing(user: i64) -> EventDraft {
    EventDraft {
        origin: None,
        kind: ChatEventKind::Typing {
            user_id: UserId(user),
        },
    }
}

async fn append(stream: &dyn ChatStream, chat: i64, draft: EventDraft) -> ChatEvent {
    match stream.append(ChatId(chat), draft).await.unwrap() {
        Appended::New(event) => event,
        other => panic!("expected New, got {other:?}"),
    }
}

pub async fn positions_increase_within_a_chat_and_are_unique_across_chats(stream: &dyn ChatStream) {
    assert_eq!(stream.head(ChatId(1)).await.unwrap(), EventSeq(0));
    let a = append(stream, 1, create(1, "a", None)).await;
    let b = append(stream, 2, create(1, "b", None)).await;
    let c = append(stream, 1, typing(1)).await;
    assert!(a.seq < c.seq);
    assert!(a.seq != b.seq && b.seq != c.seq);
    assert_eq!(stream.head(ChatId(1)).await.unwrap(), c.seq);
    assert_eq!(stream.head(ChatId(2)).await.unwrap(), b.seq);
}

pub async fn a_created_message_takes_its_position_as_id(stream: &dyn ChatStream) {
    let e = append(stream, 3, create(1, "hi", Some("c"))).await;
    let ChatEventKind::MessageCreated { message, client_id } = &e.kind else {
        panic!("kind")
    };
    assert_eq!(message.id, MessageId(e.seq.0));
    assert_eq!(message.chat_id, ChatId(3));
    assert_eq!(message.text, "hi");
    assert_eq!(client_id.as_deref(), Some("c"));
    assert_eq!(e.chat_id, ChatId(3));
}

pub async fn read_after_returns_events_in_order_per_cursor(stream: &dyn ChatStream) {
    let mut seqs = Vec::new();
    for i in 0..5 {
        seqs.push(
            append(stream, 1, create(1, &format!("m{i}"), None))
                .await
                .seq,
        );
    }
    let other = append(stream, 2, typing(2)).await;
    let all = stream
        .read_after(&[(ChatId(1), EventSeq(0))], 100, None)
        .await
        .unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
    let tail = stream
        .read_after(&[(ChatId(1), seqs[2])], 100, None)
        .await
        .unwrap();
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), &seqs[3..]);
    let limited = stream
        .read_after(&[(ChatId(1), EventSeq(0))], 2, None)
        .await
        .unwrap();
    assert_eq!(
        limited.iter().map(|e| e.seq).collect::<Vec<_>>(),
        &seqs[..2]
    );
    let both = stream
        .read_after(&[(ChatId(1), seqs[3]), (ChatId(2), EventSeq(0))], 100, None)
        .await
        .unwrap();
    let mut got: Vec<EventSeq> = both.iter().map(|e| e.seq).collect();
    got.sort();
    assert_eq!(got, vec![seqs[4], other.seq]);
    assert!(stream
        .read_after(&[(ChatId(9), EventSeq(0))], 10, None)
        .await
        .unwrap()
        .is_empty());
}

/// Another chat whose stream a blocking read may wait on together with `chat`'s.
fn lane_mate(stream: &dyn ChatStream, chat: ChatId) -> ChatId {
    let lane = stream.read_lane(chat);
    assert!(lane < stream.read_lanes());
    (chat.get() + 1..)
        .map(ChatId)
        .find(|c| stream.read_lane(*c) == lane)
        .expect("every lane has more than one chat")
}

pub async fn a_blocked_read_wakes_on_append_and_times_out_otherwise(stream: &dyn ChatStream) {
    let mate = lane_mate(stream, ChatId(1));
    let head = stream.head(ChatId(1)).await.unwrap();
    let idle = stream
        .read_after(&[(ChatId(1), head)], 10, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert!(idle.is_empty());
    let (read, appended) = super::join2(
        stream.read_after(
            &[(mate, EventSeq(0)), (ChatId(1), head)],
            10,
            Some(Duration::from_secs(10)),
        ),
        async { append(stream, 1, create(1, "wake", None)).await },
    )
    .await;
    let read = read.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].seq, appended.seq);
}

pub async fn a_repeated_client_id_is_not_appended_twice(stream: &dyn ChatStream) {
    let first = append(stream, 1, create(1, "x", Some("dup"))).await;
    let again = stream
        .append(ChatId(1), create(1, "x", Some("dup")))
        .await
        .unwrap();
    assert_eq!(again, Appended::Duplicate(first.seq));
    append(stream, 1, create(2, "x", Some("dup"))).await; // another author
    append(stream, 2, create(1, "x", Some("dup"))).await; // another chat
    append(stream, 1, create(1, "x", None)).await; // no key: never a duplicate
    append(stream, 1, create(1, "x", None)).await;
    let events = stream
        .read_after(&[(ChatId(1), EventSeq(0))], 100, None)
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
}

pub async fn the_persister_claims_message_events_once_until_acknowledged(stream: &dyn ChatStream) {
    let a = append(stream, 1, create(1, "a", None)).await;
    append(stream, 1, typing(1)).await;
    let b = append(stream, 2, create(1, "b", None)).await;
    let c = append(stream, 1, create(1, "c", None)).await;
    let mut first = stream.claim_unpersisted("p1", 10, None).await.unwrap();
    first.sort_by_key(|e| e.seq);
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![a.seq, b.seq, c.seq],
        "message events only: typing is not persisted"
    );
    let second = stream
        .claim_unpersisted("p2", 10, Some(Duration::from_millis(10)))
        .await
        .unwrap();
    assert!(
        second.is_empty(),
        "claimed events go to one persister: {second:?}"
    );
    stream
        .ack_persisted(
            "p1",
            &[(ChatId(1), a.seq), (ChatId(2), b.seq), (ChatId(1), c.seq)],
        )
        .await
        .unwrap();
    assert!(stream
        .claim_unpersisted("p1", 10, None)
        .await
        .unwrap()
        .is_empty());
    let (claimed, appended) = super::join2(
        stream.claim_unpersisted("p1", 10, Some(Duration::from_secs(10))),
        async { append(stream, 3, create(1, "late", None)).await },
    )
    .await;
    assert_eq!(
        claimed.unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![appended.seq]
    );
}

pub async fn claims_span_many_chats_each_in_position_order(stream: &dyn ChatStream) {
    // Chats 1..=20 (every read lane) get two messages each around a typing entry; chats
    // 31..=34 only typing, which is never work.
    let mut expected = Vec::new();
    for round in 0..2 {
        for chat in 1..=20 {
            expected.push(append(stream, chat, create(1, &format!("{chat}/{round}"), None)).await);
            append(stream, chat, typing(2)).await;
        }
    }
    for chat in 31..=34 {
        append(stream, chat, typing(1)).await;
    }
    let mut claimed = Vec::new();
    loop {
        let batch = stream.claim_unpersisted("p1", 1000, None).await.unwrap();
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
        stream.ack_persisted("p1", &keys).await.unwrap();
        claimed.extend(batch);
    }
    claimed.sort_by_key(|e| e.seq);
    assert_eq!(claimed, expected, "every message event once, nothing else");
    // Typing alone never queues its chat; the sweep puts such chats in the persisters' way,
    // and a claim clears their entries without returning them.
    stream.sweep().await.unwrap();
    assert!(stream
        .claim_unpersisted("p1", 1000, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(stream.sweep().await.unwrap(), PersistBacklog::default());
    // A chat that had only typing is free for the next message.
    let late = append(stream, 31, create(1, "late", None)).await;
    let next = stream
        .claim_unpersisted("p2", 10, Some(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(next, vec![late]);
}

pub async fn the_sweep_reports_unread_and_pending_message_events(stream: &dyn ChatStream) {
    assert_eq!(stream.sweep().await.unwrap(), PersistBacklog::default());
    let a = append(stream, 5, create(1, "a", None)).await;
    let b = append(stream, 6, create(1, "b", None)).await;
    assert_eq!(
        stream.sweep().await.unwrap(),
        PersistBacklog {
            unread: 2,
            pending: 0
        }
    );
    let claimed = stream.claim_unpersisted("p1", 10, None).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        stream.sweep().await.unwrap(),
        PersistBacklog {
            unread: 0,
            pending: 2
        }
    );
    stream
        .ack_persisted("p1", &[(ChatId(5), a.seq), (ChatId(6), b.seq)])
        .await
        .unwrap();
    assert_eq!(stream.sweep().await.unwrap(), PersistBacklog::default());
}

pub async fn a_lane_log_holds_its_chats_events_in_position_order(stream: &dyn ChatStream) {
    let mut appended = Vec::new();
    for round in 0..3 {
        for chat in 1..=20 {
            let draft = if round == 1 {
                typing(chat)
            } else {
                create(1, &format!("{chat}/{round}"), None)
            };
            appended.push(append(stream, chat, draft).await);
        }
    }
    let mut logged = Vec::new();
    for lane in 0..stream.read_lanes() {
        let mut after = EventSeq(0);
        loop {
            let page = stream.read_lane_log(lane, after, 7, None).await.unwrap();
            assert!(!page.gap, "nothing was dropped from lane {lane}");
            let Some(last) = page.events.last() else {
                break;
            };
            after = last.seq;
            for event in &page.events {
                assert_eq!(stream.read_lane(event.chat_id), lane, "{event:?}");
            }
            logged.extend(page.events);
        }
        assert_eq!(stream.lane_log_head(lane).await.unwrap(), after);
        let lane_seqs: Vec<EventSeq> = logged
            .iter()
            .filter(|e| stream.read_lane(e.chat_id) == lane)
            .map(|e| e.seq)
            .collect();
        assert!(lane_seqs.is_sorted(), "lane {lane}: {lane_seqs:?}");
    }
    logged.sort_by_key(|e| e.seq);
    assert_eq!(logged, appended, "every event once, as appended");
}

pub async fn a_blocked_lane_log_read_wakes_on_append_and_times_out_otherwise(
    stream: &dyn ChatStream,
) {
    let lane = stream.read_lane(ChatId(5));
    append(stream, 5, typing(1)).await;
    let head = stream.lane_log_head(lane).await.unwrap();
    let idle = stream
        .read_lane_log(lane, head, 10, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert_eq!(idle, LanePage::default());
    let (read, appended) = super::join2(
        stream.read_lane_log(lane, head, 10, Some(Duration::from_secs(10))),
        async { append(stream, 5, create(1, "wake", None)).await },
    )
    .await;
    let read = read.unwrap();
    assert_eq!(read.last, Some(appended.seq));
    assert_eq!(read.events, vec![appended]);
    assert!(!read.gap);
}

pub async fn a_reader_ahead_of_the_lane_log_is_told_of_a_gap(stream: &dyn ChatStream) {
    // As a node is after Redis restarted empty: its position is above all the log holds.
    let lane = stream.read_lane(ChatId(6));
    append(stream, 6, typing(1)).await;
    let head = stream.lane_log_head(lane).await.unwrap();
    let ahead = stream
        .read_lane_log(lane, EventSeq(head.get() + 1_000), 10, None)
        .await
        .unwrap();
    assert!(ahead.gap);
    assert!(ahead.events.is_empty());
    let from_head = stream.read_lane_log(lane, head, 10, None).await.unwrap();
    assert_eq!(from_head, LanePage::default());
}

/// For a stream whose lane logs keep a few dozen events at most (each adapter builds one).
pub async fn a_reader_behind_the_lane_logs_bound_is_told_of_the_gap(stream: &dyn ChatStream) {
    let lane = stream.read_lane(ChatId(1));
    let first = append(stream, 1, typing(1)).await;
    for _ in 0..400 {
        append(stream, 1, typing(1)).await;
    }
    let behind = stream
        .read_lane_log(lane, first.seq, 1000, None)
        .await
        .unwrap();
    assert!(behind.gap, "the events right after {first:?} are gone");
    let seqs: Vec<EventSeq> = behind.events.iter().map(|e| e.seq).collect();
    assert!(seqs.is_sorted() && seqs.len() < 400, "{seqs:?}");

    let head = stream.lane_log_head(lane).await.unwrap();
    let last = append(stream, 1, typing(1)).await;
    let current = stream.read_lane_log(lane, head, 1000, None).await.unwrap();
    assert_eq!(
        current,
        LanePage {
            last: Some(last.seq),
            events: vec![last],
            gap: false
        }
    );
    // The chat's own stream still has what the lane's log dropped.
    let own = stream
        .read_after(&[(ChatId(1), first.seq)], 1000, None)
        .await
        .unwrap();
    assert_eq!(own.len(), 401);
}

pub async fn a_chat_acknowledged_by_its_persister_goes_to_the_next_one(stream: &dyn ChatStream) {
    let seqs = |events: Vec<ChatEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
    let a = append(stream, 7, create(1, "a", None)).await;
    let first = stream.claim_unpersisted("p1", 10, None).await.unwrap();
    assert_eq!(seqs(first), [a.seq]);
    stream
        .ack_persisted("p1", &[(ChatId(7), a.seq)])
        .await
        .unwrap();
    let b = append(stream, 7, create(1, "b", None)).await;
    let next = stream.claim_unpersisted("p2", 10, None).await.unwrap();
    assert_eq!(
        seqs(next),
        [b.seq],
        "p1's hold on the chat ended with its ack"
    );
}
