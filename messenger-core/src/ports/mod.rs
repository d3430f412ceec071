//! Ports: the async traits that adapters implement (in memory, Postgres, Redis).
//!
//! Each port's behaviour is pinned by the contract suite in `crate::testing` (feature `testing`),
//! which every implementation runs.

mod chat_log;
mod chat_repo;
mod clock;
mod commit_notifier;
mod lane_log;
mod message_store;
mod password_hasher;
mod persist_queue;
mod presence;
mod token_codec;
mod user_feed;
mod user_repo;

pub use chat_log::*;
pub use chat_repo::*;
pub use clock::*;
pub use commit_notifier::*;
pub use lane_log::*;
pub use message_store::*;
pub use password_hasher::*;
pub use persist_queue::*;
pub use presence::*;
pub use token_codec::*;
pub use user_feed::*;
pub use user_repo::*;
