//! Entities of the domain and the events that move between them.

mod changes;
mod chat;
mod event;
mod ids;
mod message;
mod timestamp;
mod user;

pub use changes::*;
pub use chat::*;
pub use event::*;
pub use ids::*;
pub use message::*;
pub use timestamp::*;
pub use user::*;
