//! Contract of [`crate::ports::LaneLog`], fed through [`crate::ports::ChatLog`].

use super::chat_log::{append, create, typing};
use crate::ports::{ChatLog, LaneLog, LanePage};
use crate::{ChatId, EventSeq};
use std::time::Duration;

/// Expands to the `LaneLog` contract tests.
#[macro_export]
macro_rules! lane_log_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            lane_log,
            $make,
            [
                a_blocked_read_over_chats_of_one_lane_wakes_on_append,
                a_lane_log_holds_its_chats_events_in_position_order,
                a_blocked_lane_log_read_wakes_on_append_and_times_out_otherwise,
                a_reader_ahead_of_the_lane_log_is_told_of_a_gap,
            ]
        );
    };
}

/// Another chat whose lanes a blocking read may wait on together with `chat`'s.
fn lane_mate<S: LaneLog>(lanes: &S, chat: ChatId) -> ChatId {
    let lane = lanes.lane_of(chat);
    assert!(lane < lanes.lanes());
    (chat.get() + 1..)
        .map(ChatId)
        .find(|c| lanes.lane_of(*c) == lane)
        .expect("every lane has more than one chat")
}

pub async fn a_blocked_read_over_chats_of_one_lane_wakes_on_append<S: ChatLog + LaneLog>(
    backend: &S,
) {
    let mate = lane_mate(backend, ChatId(1));
    let head = backend.head(ChatId(1)).await.unwrap();
    let idle = backend
        .read_after(&[(ChatId(1), head)], 10, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert!(idle.is_empty());
    let (read, appended) = super::join2(
        backend.read_after(
            &[(mate, EventSeq(0)), (ChatId(1), head)],
            10,
            Some(Duration::from_secs(10)),
        ),
        async { append(backend, 1, create(1, "wake", None)).await },
    )
    .await;
    let read = read.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].seq, appended.seq);
}

pub async fn a_lane_log_holds_its_chats_events_in_position_order<S: ChatLog + LaneLog>(
    backend: &S,
) {
    let mut appended = Vec::new();
    for round in 0..3 {
        for chat in 1..=20 {
            let draft = if round == 1 {
                typing(chat)
            } else {
                create(1, &format!("{chat}/{round}"), None)
            };
            appended.push(append(backend, chat, draft).await);
        }
    }
    let mut logged = Vec::new();
    for lane in 0..backend.lanes() {
        let mut after = EventSeq(0);
        loop {
            let page = backend.read_lane(lane, after, 7, None).await.unwrap();
            assert!(!page.gap, "nothing was dropped from lane {lane}");
            let Some(last) = page.events.last() else {
                break;
            };
            after = last.seq;
            for event in &page.events {
                assert_eq!(backend.lane_of(event.chat_id), lane, "{event:?}");
            }
            logged.extend(page.events);
        }
        assert_eq!(backend.lane_head(lane).await.unwrap(), after);
        let lane_seqs: Vec<EventSeq> = logged
            .iter()
            .filter(|e| backend.lane_of(e.chat_id) == lane)
            .map(|e| e.seq)
            .collect();
        assert!(lane_seqs.is_sorted(), "lane {lane}: {lane_seqs:?}");
    }
    logged.sort_by_key(|e| e.seq);
    assert_eq!(logged, appended, "every event once, as appended");
}

pub async fn a_blocked_lane_log_read_wakes_on_append_and_times_out_otherwise<
    S: ChatLog + LaneLog,
>(
    backend: &S,
) {
    let lane = backend.lane_of(ChatId(5));
    append(backend, 5, typing(1)).await;
    let head = backend.lane_head(lane).await.unwrap();
    let idle = backend
        .read_lane(lane, head, 10, Some(Duration::from_millis(50)))
        .await
        .unwrap();
    assert_eq!(idle, LanePage::default());
    let (read, appended) = super::join2(
        backend.read_lane(lane, head, 10, Some(Duration::from_secs(10))),
        async { append(backend, 5, create(1, "wake", None)).await },
    )
    .await;
    let read = read.unwrap();
    assert_eq!(read.last, Some(appended.seq));
    assert_eq!(read.events, vec![appended]);
    assert!(!read.gap);
}

pub async fn a_reader_ahead_of_the_lane_log_is_told_of_a_gap<S: ChatLog + LaneLog>(backend: &S) {
    // As a node is after Redis restarted empty: its position is above all the log holds.
    let lane = backend.lane_of(ChatId(6));
    append(backend, 6, typing(1)).await;
    let head = backend.lane_head(lane).await.unwrap();
    let ahead = backend
        .read_lane(lane, EventSeq(head.get() + 1_000), 10, None)
        .await
        .unwrap();
    assert!(ahead.gap);
    assert!(ahead.events.is_empty());
    let from_head = backend.read_lane(lane, head, 10, None).await.unwrap();
    assert_eq!(from_head, LanePage::default());
}

/// For a backend whose lane logs keep a few dozen events at most (each adapter builds one).
pub async fn a_reader_behind_the_lane_logs_bound_is_told_of_the_gap<S: ChatLog + LaneLog>(
    backend: &S,
) {
    let lane = backend.lane_of(ChatId(1));
    let first = append(backend, 1, typing(1)).await;
    for _ in 0..400 {
        append(backend, 1, typing(1)).await;
    }
    let behind = backend
        .read_lane(lane, first.seq, 1000, None)
        .await
        .unwrap();
    assert!(behind.gap, "the events right after {first:?} are gone");
    let seqs: Vec<EventSeq> = behind.events.iter().map(|e| e.seq).collect();
    assert!(seqs.is_sorted() && seqs.len() < 400, "{seqs:?}");

    let head = backend.lane_head(lane).await.unwrap();
    let last = append(backend, 1, typing(1)).await;
    let current = backend.read_lane(lane, head, 1000, None).await.unwrap();
    assert_eq!(
        current,
        LanePage {
            last: Some(last.seq),
            events: vec![last],
            gap: false
        }
    );
    // The chat's own backend still has what the lane's log dropped.
    let own = backend
        .read_after(&[(ChatId(1), first.seq)], 1000, None)
        .await
        .unwrap();
    assert_eq!(own.len(), 401);
}
