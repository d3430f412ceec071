//! Chats, participants and read markers in memory.

use super::lock;
use async_trait::async_trait;
use messenger_core::ports::ChatRepo;
use messenger_core::{
    Chat, ChatId, ChatKind, EventSeq, MessageId, NewChat, ReadMarker, Removal, StoreError,
    Timestamp, UserId,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    next_id: i64,
    chats: HashMap<ChatId, Chat>,
    by_user: HashMap<UserId, BTreeSet<ChatId>>,
    /// (lower id, higher id) → the pair's direct chat.
    directs: HashMap<(UserId, UserId), ChatId>,
    /// Each marker, and the position of the `read` event that announced it (`None` until
    /// stamped).
    markers: HashMap<(ChatId, UserId), (MessageId, Option<EventSeq>)>,
}

impl State {
    fn insert(&mut self, mut chat: Chat) -> Chat {
        self.next_id += 1;
        chat.id = ChatId(self.next_id);
        for p in &chat.participants {
            self.by_user.entry(*p).or_default().insert(chat.id);
        }
        self.chats.insert(chat.id, chat.clone());
        chat
    }

    fn remove(&mut self, id: ChatId) -> bool {
        let Some(chat) = self.chats.remove(&id) else {
            return false;
        };
        for p in &chat.participants {
            if let Some(set) = self.by_user.get_mut(p) {
                set.remove(&id);
            }
            self.markers.remove(&(id, *p));
        }
        self.directs.retain(|_, chat_id| *chat_id != id);
        true
    }
}

/// Chats in memory.
#[derive(Default)]
pub struct MemoryChatRepo {
    state: Mutex<State>,
}

#[async_trait]
impl ChatRepo for MemoryChatRepo {
    async fn create_group(&self, new: NewChat) -> Result<Chat, StoreError> {
        let mut s = lock(&self.state);
        Ok(s.insert(Chat {
            id: ChatId(0),
            name: new.name,
            kind: ChatKind::Group,
            owner_id: new.owner_id,
            participants: new.participants,
            created_at: new.created_at,
        }))
    }

    async fn direct_chat(
        &self,
        a: UserId,
        b: UserId,
        now: Timestamp,
    ) -> Result<(Chat, bool), StoreError> {
        let mut s = lock(&self.state);
        let pair = (a.min(b), a.max(b));
        if let Some(chat) = s.directs.get(&pair).and_then(|id| s.chats.get(id)) {
            return Ok((chat.clone(), false));
        }
        let chat = s.insert(Chat {
            id: ChatId(0),
            name: String::new(),
            kind: ChatKind::Direct,
            owner_id: a,
            participants: vec![a, b],
            created_at: now,
        });
        s.directs.insert(pair, chat.id);
        Ok((chat, true))
    }

    async fn get(&self, id: ChatId) -> Result<Option<Chat>, StoreError> {
        Ok(lock(&self.state).chats.get(&id).cloned())
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<Chat>, StoreError> {
        let s = lock(&self.state);
        Ok(s.by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| s.chats.get(id).cloned())
            .collect())
    }

    async fn rename(&self, id: ChatId, name: &str) -> Result<Option<Chat>, StoreError> {
        let mut s = lock(&self.state);
        Ok(s.chats.get_mut(&id).map(|chat| {
            chat.name = name.to_owned();
            chat.clone()
        }))
    }

    async fn add_participant(&self, id: ChatId, user: UserId) -> Result<Option<Chat>, StoreError> {
        let mut s = lock(&self.state);
        let Some(chat) = s.chats.get_mut(&id) else {
            return Ok(None);
        };
        if !chat.participants.contains(&user) {
            chat.participants.push(user);
        }
        let chat = chat.clone();
        s.by_user.entry(user).or_default().insert(id);
        Ok(Some(chat))
    }

    async fn remove_participant(&self, id: ChatId, user: UserId) -> Result<Removal, StoreError> {
        let mut s = lock(&self.state);
        let Some(chat) = s.chats.get_mut(&id) else {
            return Ok(Removal::NotParticipant);
        };
        if !chat.participants.contains(&user) {
            return Ok(Removal::NotParticipant);
        }
        chat.participants.retain(|p| *p != user);
        if chat.participants.is_empty() {
            s.remove(id);
            return Ok(Removal::ChatDeleted);
        }
        if chat.owner_id == user {
            chat.owner_id = chat.participants[0];
        }
        let chat = chat.clone();
        if let Some(set) = s.by_user.get_mut(&user) {
            set.remove(&id);
        }
        s.markers.remove(&(id, user));
        Ok(Removal::Removed(chat))
    }

    async fn delete(&self, id: ChatId) -> Result<bool, StoreError> {
        Ok(lock(&self.state).remove(id))
    }

    async fn read_marker(
        &self,
        chat: ChatId,
        user: UserId,
    ) -> Result<Option<MessageId>, StoreError> {
        Ok(lock(&self.state)
            .markers
            .get(&(chat, user))
            .map(|(message, _)| *message))
    }

    async fn advance_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool, StoreError> {
        let mut s = lock(&self.state);
        if !s.chats.get(&chat).is_some_and(|c| c.has_participant(user)) {
            return Ok(false);
        }
        let marker = s
            .markers
            .entry((chat, user))
            .or_insert((MessageId(0), None));
        if message > marker.0 {
            *marker = (message, None);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    async fn stamp_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
        position: EventSeq,
    ) -> Result<(), StoreError> {
        if let Some(marker) = lock(&self.state).markers.get_mut(&(chat, user)) {
            if marker.0 == message {
                marker.1 = Some(position);
            }
        }
        Ok(())
    }

    async fn read_markers_after(
        &self,
        chat: ChatId,
        after: EventSeq,
    ) -> Result<Vec<ReadMarker>, StoreError> {
        let s = lock(&self.state);
        let mut markers: Vec<ReadMarker> = s
            .markers
            .iter()
            .filter(|((c, _), (_, position))| *c == chat && position.is_none_or(|p| p > after))
            .map(|((_, user), (message, position))| ReadMarker {
                user_id: *user,
                message_id: *message,
                position: *position,
            })
            .collect();
        markers.sort_by_key(|m| (m.position.is_none(), m.position, m.user_id));
        Ok(markers)
    }
}

#[cfg(test)]
mod tests {
    messenger_core::chat_repo_contract!(super::MemoryChatRepo::default());
}
