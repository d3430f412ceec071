//! Contract of [`crate::ports::UserFeed`].

use crate::ports::UserFeed;
use crate::{ChatId, EventSeq, FeedEvent, UserId};
use std::time::Duration;

/// Expands to the `UserFeed` contract tests.
#[macro_export]
macro_rules! user_feed_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            user_feed,
            $make,
            [
                published_events_reach_each_user_in_order,
                a_blocked_read_wakes_on_publish,
            ]
        );
    };
}

fn updated(chat: i64) -> FeedEvent {
    FeedEvent::ChatUpdated {
        chat_id: ChatId(chat),
    }
}

pub async fn published_events_reach_each_user_in_order(feed: &dyn UserFeed) {
    assert_eq!(feed.head(UserId(1)).await.unwrap(), 0);
    feed.publish(
        &[UserId(1), UserId(2)],
        FeedEvent::ChatCreated {
            chat_id: ChatId(5),
            from: EventSeq(0),
        },
    )
    .await
    .unwrap();
    feed.publish(&[UserId(1)], updated(5)).await.unwrap();
    let one = feed.read_after(&[(UserId(1), 0)], 100, None).await.unwrap();
    assert_eq!(one.len(), 2);
    assert!(one[0].seq < one[1].seq);
    assert_eq!(one[1].event, updated(5));
    assert!(one.iter().all(|e| e.user_id == UserId(1)));
    assert_eq!(feed.head(UserId(1)).await.unwrap(), one[1].seq);
    let after = feed
        .read_after(&[(UserId(1), one[0].seq)], 100, None)
        .await
        .unwrap();
    assert_eq!(after, vec![one[1].clone()]);
    assert_eq!(
        feed.read_after(&[(UserId(2), 0)], 100, None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(feed
        .read_after(&[(UserId(3), 0)], 100, None)
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_blocked_read_wakes_on_publish(feed: &dyn UserFeed) {
    let lane = feed.read_lane(UserId(1));
    assert!(lane < feed.read_lanes());
    let mate = (2..)
        .map(UserId)
        .find(|u| feed.read_lane(*u) == lane)
        .expect("every lane has more than one user");
    let idle = feed
        .read_after(&[(UserId(1), 0)], 100, Some(Duration::from_millis(30)))
        .await
        .unwrap();
    assert!(idle.is_empty());
    let (read, ()) = super::join2(
        feed.read_after(
            &[(mate, 0), (UserId(1), 0)],
            100,
            Some(Duration::from_secs(10)),
        ),
        async { feed.publish(&[UserId(1)], updated(1)).await.unwrap() },
    )
    .await;
    assert_eq!(read.unwrap().len(), 1);
}
