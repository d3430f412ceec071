//! The bundle of port implementations every service is built from.

use crate::ports::*;
use std::sync::Arc;

/// One implementation of each port, shared by the services.
#[derive(Clone)]
pub struct Ports {
    /// Users.
    pub users: Arc<dyn UserRepo>,
    /// Chats, participants, read markers.
    pub chats: Arc<dyn ChatRepo>,
    /// Committed history.
    pub messages: Arc<dyn MessageStore>,
    /// Each chat's ordered log of events.
    pub log: Arc<dyn ChatLog>,
    /// The chats' read lanes, followed by every node for fan-out.
    pub lanes: Arc<dyn LaneLog>,
    /// Message events waiting to be committed by a persister.
    pub persist_queue: Arc<dyn PersistQueue>,
    /// Per-user feeds.
    pub feed: Arc<dyn UserFeed>,
    /// Online sets.
    pub presence: Arc<dyn Presence>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Token signing.
    pub tokens: Arc<dyn TokenCodec>,
    /// Token revocations.
    pub revocations: Arc<dyn TokenRevocations>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// All services, built once from the ports.
#[derive(Clone)]
pub struct Services {
    /// Register, login, logout, authenticate.
    pub auth: Arc<super::AuthService>,
    /// Profiles and search.
    pub users: Arc<super::UserService>,
    /// Chats and participants.
    pub chats: Arc<super::ChatService>,
    /// Sending, editing, deleting, history.
    pub messages: Arc<super::MessageService>,
    /// Online sets.
    pub presence: Arc<super::PresenceService>,
    /// The ports the services were built from.
    pub ports: Ports,
}

impl Services {
    /// Builds every service from one set of ports.
    pub fn new(ports: Ports, auth: super::AuthSettings) -> Self {
        Services {
            auth: Arc::new(super::AuthService::new(&ports, auth)),
            users: Arc::new(super::UserService::new(&ports)),
            chats: Arc::new(super::ChatService::new(&ports)),
            messages: Arc::new(super::MessageService::new(&ports)),
            presence: Arc::new(super::PresenceService::new(&ports)),
            ports,
        }
    }
}
