//! Who is connected, across every node.

use crate::{ChatId, ConnId, NodeId, StoreError, UserId};
use async_trait::async_trait;

/// One open socket, as presence counts it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocketKey {
    /// The node holding it.
    pub node: NodeId,
    /// The connection on that node.
    pub conn: ConnId,
    /// Its user.
    pub user: UserId,
    /// The chat of a `/chat/{id}` socket; `None` for `/events`.
    pub chat: Option<ChatId>,
}

/// The online sets: users with any socket, and per chat the participants with a socket of it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Presence: Send + Sync {
    /// Counts a socket as open. `true` if this changed the chat's online set.
    async fn socket_opened(&self, socket: &SocketKey) -> Result<bool, StoreError>;
    /// Counts a socket as closed. `true` if this changed the chat's online set.
    async fn socket_closed(&self, socket: &SocketKey) -> Result<bool, StoreError>;
    /// The users with at least one socket of this chat open, ascending.
    async fn online_in_chat(&self, chat: ChatId) -> Result<Vec<crate::UserId>, StoreError>;
    /// Which of these users have any socket open.
    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, StoreError>;
    /// Keeps this node's sockets alive in shared online sets (called periodically; sockets of
    /// a node that stops calling it expire). Nothing to do where nothing is shared.
    async fn refresh(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
