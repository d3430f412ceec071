//! What moves between connections on one node: the shared subscriptions (hubs) to chat
//! streams and user feeds, commit notices routed to authors, the persister loop and the
//! per-user send rate limit.

pub mod acks;
pub mod deliveries;
pub mod hub;
pub mod maintenance;
pub mod persister_task;
pub mod rate_limit;

pub use acks::AckHub;
pub use deliveries::{ChatSource, Delivery, FeedSource};
pub use hub::{Hub, Sink};
pub use rate_limit::{LoginThrottle, RateLimiter};
