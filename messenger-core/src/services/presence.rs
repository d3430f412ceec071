//! Sockets opening and closing, and who is online in a chat.

use super::Ports;
use crate::ports::{ChatLog, Presence, SocketKey};
use crate::{ChatEventKind, ChatId, CoreError, EventDraft, UserId};
use std::sync::Arc;

/// Online sets, and the `presence` events that announce their changes.
pub struct PresenceService {
    presence: Arc<dyn Presence>,
    log: Arc<dyn ChatLog>,
}

impl PresenceService {
    /// Builds the service.
    pub fn new(ports: &Ports) -> Self {
        PresenceService {
            presence: ports.presence.clone(),
            log: ports.log.clone(),
        }
    }

    /// A socket opened; announces the chat's new online set if it changed.
    pub async fn opened(&self, socket: &SocketKey) -> Result<(), CoreError> {
        if self.presence.socket_opened(socket).await? {
            self.announce(socket.chat).await?;
        }
        Ok(())
    }

    /// A socket closed; announces the chat's new online set if it changed.
    pub async fn closed(&self, socket: &SocketKey) -> Result<(), CoreError> {
        if self.presence.socket_closed(socket).await? {
            self.announce(socket.chat).await?;
        }
        Ok(())
    }

    /// The participants with a socket of this chat open, ascending.
    pub async fn online_in_chat(&self, chat: ChatId) -> Result<Vec<UserId>, CoreError> {
        Ok(self.presence.online_in_chat(chat).await?)
    }

    async fn announce(&self, chat: Option<ChatId>) -> Result<(), CoreError> {
        if let Some(chat) = chat {
            self.log
                .append(
                    chat,
                    EventDraft {
                        origin: None,
                        kind: ChatEventKind::PresenceChanged,
                    },
                )
                .await?;
        }
        Ok(())
    }
}
