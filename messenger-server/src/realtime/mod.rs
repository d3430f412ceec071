//! What moves between connections on one node: the shared subscriptions (hubs) to chat logs
//! and user feeds, commit notices routed to authors, the persister loop and the periodic
//! maintenance.

pub mod acks;
pub mod deliveries;
pub mod hub;
pub mod maintenance;
pub mod persister_task;

pub use acks::AckHub;
pub use deliveries::{ChatSource, Delivery, FeedSource};
pub use hub::{Hub, Sink};
