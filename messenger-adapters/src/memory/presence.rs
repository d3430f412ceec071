//! Online sets in memory.

use super::lock;
use async_trait::async_trait;
use messenger_core::ports::{Presence, SocketKey};
use messenger_core::{ChatId, StoreError, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    sockets: HashSet<SocketKey>,
    per_user: HashMap<UserId, usize>,
    per_chat: HashMap<ChatId, BTreeMap<UserId, usize>>,
}

/// Online sets in memory (one node sees every socket).
#[derive(Default)]
pub struct MemoryPresence {
    state: Mutex<State>,
}

#[async_trait]
impl Presence for MemoryPresence {
    async fn socket_opened(&self, socket: &SocketKey) -> Result<bool, StoreError> {
        let mut s = lock(&self.state);
        if !s.sockets.insert(socket.clone()) {
            return Ok(false);
        }
        *s.per_user.entry(socket.user).or_default() += 1;
        let Some(chat) = socket.chat else {
            return Ok(false);
        };
        let count = s
            .per_chat
            .entry(chat)
            .or_default()
            .entry(socket.user)
            .or_default();
        *count += 1;
        Ok(*count == 1)
    }

    async fn socket_closed(&self, socket: &SocketKey) -> Result<bool, StoreError> {
        let mut s = lock(&self.state);
        if !s.sockets.remove(socket) {
            return Ok(false);
        }
        if let Some(n) = s.per_user.get_mut(&socket.user) {
            *n -= 1;
            if *n == 0 {
                s.per_user.remove(&socket.user);
            }
        }
        let Some(chat) = socket.chat else {
            return Ok(false);
        };
        let Some(users) = s.per_chat.get_mut(&chat) else {
            return Ok(false);
        };
        let mut changed = false;
        if let Some(n) = users.get_mut(&socket.user) {
            *n -= 1;
            if *n == 0 {
                users.remove(&socket.user);
                changed = true;
            }
        }
        if users.is_empty() {
            s.per_chat.remove(&chat);
        }
        Ok(changed)
    }

    async fn online_in_chat(&self, chat: ChatId) -> Result<Vec<UserId>, StoreError> {
        let s = lock(&self.state);
        Ok(s.per_chat
            .get(&chat)
            .map(|users| users.keys().copied().collect())
            .unwrap_or_default())
    }

    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, StoreError> {
        let s = lock(&self.state);
        Ok(users
            .iter()
            .copied()
            .filter(|u| s.per_user.contains_key(u))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::presence_contract!(super::MemoryPresence::default());
}
