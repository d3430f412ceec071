//! The services: every rule of the protocol, on top of the ports.

mod auth;
mod chats;
mod messages;
mod persister;
mod ports;
mod presence;
mod users;

pub use auth::*;
pub use chats::*;
pub use messages::*;
pub use persister::*;
pub use ports::*;
pub use presence::*;
pub use users::*;

#[cfg(test)]
mod tests;
