//! The adapter contract suite: one set of cases per port, run by every implementation so
//! that the in-memory adapters and the Postgres/Redis ones cannot drift apart.
//!
//! Each port has a macro that expands to one `#[tokio::test]` per case, given an expression
//! that builds a fresh, empty implementation (it may `.await`); the adapters' own test
//! modules do exactly this, for every port:
//!
//! ```text
//! #[cfg(test)]
//! mod tests {
//!     messenger_core::message_store_contract!(super::MemoryMessageStore::default());
//! }
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

pub mod chat_log;
pub mod chat_repo;
pub mod lane_log;
pub mod message_store;
pub mod persist_queue;
pub mod presence;
pub mod revocations;
pub mod user_feed;
pub mod user_repo;

use crate::{ChatId, Message, MessageId, Timestamp, UserId};
use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Runs two futures concurrently on the current task (the suite has no runtime of its own).
pub async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.expect("set above"), rb.expect("set above"))
}

/// A fixed instant plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis(1_800_000_000_000 + secs * 1000)
}

/// A message draft in `chat` by `author`.
pub fn message(chat: i64, author: i64, text: &str) -> Message {
    Message {
        id: MessageId(0),
        chat_id: ChatId(chat),
        author_id: UserId(author),
        text: text.to_owned(),
        created_at: at(0),
        edited_at: None,
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($module:ident, $make:expr, [$($case:ident),* $(,)?]) => {
        $(
            #[tokio::test]
            async fn $case() {
                let port = $make;
                $crate::testing::$module::$case(&port).await;
            }
        )*
    };
}
