//! Committed history in memory.

use super::lock;
use async_trait::async_trait;
use messenger_core::ports::MessageStore;
use messenger_core::{
    ChangedMessage, ChatEvent, ChatEventKind, ChatId, ClientIdMatch, CommitOutcome, EventSeq,
    Message, MessageId, Page, StoreError, UserId,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

struct Stored {
    message: Message,
    /// The position of the last event applied to it (an older edit never wins over a newer).
    last_seq: EventSeq,
    /// The position of the delete that removed it.
    deleted_by: Option<EventSeq>,
}

impl Stored {
    fn live(&self) -> Option<&Message> {
        self.deleted_by.is_none().then_some(&self.message)
    }
}

#[derive(Default)]
struct State {
    chats: HashMap<ChatId, BTreeMap<MessageId, Stored>>,
    chat_of: HashMap<MessageId, ChatId>,
    client_ids: HashMap<(ChatId, UserId, String), MessageId>,
    deleted_chats: HashSet<ChatId>,
}

impl State {
    fn stored(&self, id: MessageId) -> Option<&Stored> {
        let chat = self.chat_of.get(&id)?;
        self.chats.get(chat)?.get(&id)
    }

    fn stored_mut(&mut self, id: MessageId) -> Option<&mut Stored> {
        let chat = self.chat_of.get(&id)?;
        self.chats.get_mut(chat)?.get_mut(&id)
    }

    fn outcome_of(&self, id: MessageId) -> CommitOutcome {
        match self.stored(id).and_then(Stored::live) {
            Some(m) => CommitOutcome::Committed(m.clone()),
            None => CommitOutcome::NotFound,
        }
    }

    fn apply(&mut self, event: &ChatEvent) -> CommitOutcome {
        if self.deleted_chats.contains(&event.chat_id) {
            return CommitOutcome::NotFound;
        }
        match &event.kind {
            ChatEventKind::MessageCreated { message, client_id } => {
                if self.chat_of.contains_key(&message.id) {
                    return self.outcome_of(message.id);
                }
                let key = client_id
                    .as_ref()
                    .map(|c| (message.chat_id, message.author_id, c.clone()));
                if let Some(existing) = key.as_ref().and_then(|k| self.client_ids.get(k)) {
                    return self.outcome_of(*existing);
                }
                if let Some(key) = key {
                    self.client_ids.insert(key, message.id);
                }
                self.chat_of.insert(message.id, message.chat_id);
                self.chats.entry(message.chat_id).or_default().insert(
                    message.id,
                    Stored {
                        message: message.clone(),
                        last_seq: event.seq,
                        deleted_by: None,
                    },
                );
                CommitOutcome::Committed(message.clone())
            }
            ChatEventKind::MessageUpdated { message, .. } => match self.stored_mut(message.id) {
                Some(stored)
                    if stored.deleted_by.is_none() && stored.message.chat_id == event.chat_id =>
                {
                    if event.seq > stored.last_seq {
                        stored.message.text = message.text.clone();
                        stored.message.edited_at = message.edited_at;
                        stored.last_seq = event.seq;
                    }
                    CommitOutcome::Committed(stored.message.clone())
                }
                _ => CommitOutcome::NotFound,
            },
            ChatEventKind::MessageDeleted { message, .. } => match self.stored_mut(message.id) {
                Some(stored) if stored.message.chat_id == event.chat_id => {
                    match stored.deleted_by {
                        None => {
                            stored.deleted_by = Some(event.seq);
                            CommitOutcome::Committed(stored.message.clone())
                        }
                        Some(seq) if seq == event.seq => {
                            CommitOutcome::Committed(stored.message.clone())
                        }
                        Some(_) => CommitOutcome::NotFound,
                    }
                }
                _ => CommitOutcome::NotFound,
            },
            _ => CommitOutcome::NotFound,
        }
    }
}

/// Committed history in memory.
#[derive(Default)]
pub struct MemoryMessageStore {
    state: Mutex<State>,
}

#[async_trait]
impl MessageStore for MemoryMessageStore {
    async fn apply(&self, events: &[ChatEvent]) -> Result<Vec<CommitOutcome>, StoreError> {
        let mut s = lock(&self.state);
        Ok(events.iter().map(|e| s.apply(e)).collect())
    }

    async fn get(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        Ok(lock(&self.state).stored(id).and_then(Stored::live).cloned())
    }

    async fn by_client_id(
        &self,
        chat: ChatId,
        author: UserId,
        client_id: &str,
    ) -> Result<Option<ClientIdMatch>, StoreError> {
        let s = lock(&self.state);
        let Some(id) = s.client_ids.get(&(chat, author, client_id.to_owned())) else {
            return Ok(None);
        };
        Ok(Some(match s.stored(*id).and_then(Stored::live) {
            Some(m) => ClientIdMatch::Live(m.clone()),
            None => ClientIdMatch::Deleted,
        }))
    }

    async fn page_before(
        &self,
        chat: ChatId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let s = lock(&self.state);
        let Some(messages) = s.chats.get(&chat) else {
            return Ok(Page::default());
        };
        let upper = before.unwrap_or(MessageId(i64::MAX));
        let mut page: Vec<Message> = messages
            .range(..upper)
            .rev()
            .filter_map(|(_, st)| st.live().cloned())
            .take(limit + 1)
            .collect();
        let has_more = page.len() > limit;
        page.truncate(limit);
        page.reverse();
        Ok(Page {
            messages: page,
            has_more,
        })
    }

    async fn page_after(
        &self,
        chat: ChatId,
        after: MessageId,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let s = lock(&self.state);
        let Some(messages) = s.chats.get(&chat) else {
            return Ok(Page::default());
        };
        let mut page: Vec<Message> = messages
            .range(MessageId(after.0.saturating_add(1))..)
            .filter_map(|(_, st)| st.live().cloned())
            .take(limit + 1)
            .collect();
        let has_more = page.len() > limit;
        page.truncate(limit);
        Ok(Page {
            messages: page,
            has_more,
        })
    }

    async fn changes_after(
        &self,
        chat: ChatId,
        after: EventSeq,
        limit: usize,
    ) -> Result<Vec<ChangedMessage>, StoreError> {
        let s = lock(&self.state);
        let Some(messages) = s.chats.get(&chat) else {
            return Ok(Vec::new());
        };
        // A scan of the chat: the in-memory default holds what one process can.
        let mut changed: Vec<ChangedMessage> = messages
            .values()
            .filter_map(|st| {
                let position = st.deleted_by.unwrap_or(st.last_seq).max(st.last_seq);
                (position > after).then(|| ChangedMessage {
                    message: st.message.clone(),
                    position,
                    deleted: st.deleted_by.is_some(),
                })
            })
            .collect();
        changed.sort_by_key(|c| c.position);
        changed.truncate(limit);
        Ok(changed)
    }

    async fn last_messages(&self, chats: &[ChatId]) -> Result<Vec<Message>, StoreError> {
        let s = lock(&self.state);
        Ok(chats
            .iter()
            .filter_map(|c| s.chats.get(c))
            .filter_map(|m| m.values().rev().find_map(|st| st.live().cloned()))
            .collect())
    }

    async fn count_unread(
        &self,
        chat: ChatId,
        reader: UserId,
        after: Option<MessageId>,
        up_to: MessageId,
    ) -> Result<u64, StoreError> {
        let s = lock(&self.state);
        let Some(messages) = s.chats.get(&chat) else {
            return Ok(0);
        };
        let from = MessageId(after.map_or(i64::MIN, |a| a.0.saturating_add(1)));
        if from > up_to {
            return Ok(0);
        }
        Ok(messages
            .range(from..=up_to)
            .filter_map(|(_, st)| st.live())
            .filter(|m| m.author_id != reader)
            .count() as u64)
    }

    async fn delete_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        let mut s = lock(&self.state);
        s.deleted_chats.insert(chat);
        if let Some(messages) = s.chats.remove(&chat) {
            for id in messages.keys() {
                s.chat_of.remove(id);
            }
        }
        s.client_ids.retain(|(c, _, _), _| *c != chat);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::message_store_contract!(super::MemoryMessageStore::default());
}
