//! Groups, direct chats, participants and read markers.

use super::Ports;
use crate::ports::{ChatLog, ChatRepo, Clock, MessageStore, UserFeed, UserRepo};
use crate::validation::validate_chat_name;
use crate::{
    Appended, Chat, ChatEventKind, ChatId, ChatKind, ChatView, CoreError, EventDraft, EventSeq,
    FeedEvent, MessageId, NewChat, Removal, User, UserId,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Chats and their participants.
pub struct ChatService {
    users: Arc<dyn UserRepo>,
    chats: Arc<dyn ChatRepo>,
    messages: Arc<dyn MessageStore>,
    log: Arc<dyn ChatLog>,
    feed: Arc<dyn UserFeed>,
    clock: Arc<dyn Clock>,
}

impl ChatService {
    /// Builds the service.
    pub fn new(ports: &Ports) -> Self {
        ChatService {
            users: ports.users.clone(),
            chats: ports.chats.clone(),
            messages: ports.messages.clone(),
            log: ports.log.clone(),
            feed: ports.feed.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Creates a group owned by the caller, who is added to the participants.
    pub async fn create_group(
        &self,
        caller: UserId,
        name: &str,
        participants: &[UserId],
    ) -> Result<ChatView, CoreError> {
        validate_chat_name(name)?;
        let mut members: Vec<UserId> = participants.to_vec();
        members.push(caller);
        members.sort();
        members.dedup();
        let known = self.users.by_ids(&members).await?;
        if known.len() != members.len() {
            return Err(CoreError::invalid("participants", "unknown user id"));
        }
        let chat = self
            .chats
            .create_group(NewChat {
                name: name.to_owned(),
                owner_id: caller,
                participants: members,
                created_at: self.clock.now(),
            })
            .await?;
        self.feed
            .publish(
                &chat.participants,
                FeedEvent::ChatCreated {
                    chat_id: chat.id,
                    from: EventSeq(0),
                },
            )
            .await?;
        self.view(chat, caller).await
    }

    /// Every chat the caller takes part in, the most recently active first.
    pub async fn list(&self, caller: UserId) -> Result<Vec<ChatView>, CoreError> {
        let chats = self.chats.list_for_user(caller).await?;
        let ids: Vec<ChatId> = chats.iter().map(|c| c.id).collect();
        let mut last: HashMap<ChatId, crate::Message> = self
            .messages
            .last_messages(&ids)
            .await?
            .into_iter()
            .map(|m| (m.chat_id, m))
            .collect();
        let names = self.direct_names(&chats, caller).await?;
        let mut views = Vec::with_capacity(chats.len());
        for chat in chats {
            let last_message = last.remove(&chat.id);
            views.push(self.assemble(chat, caller, last_message, &names).await?);
        }
        views.sort_by_key(|v| std::cmp::Reverse(v.activity_key()));
        Ok(views)
    }

    /// One chat, if the caller takes part in it.
    pub async fn get(&self, caller: UserId, id: ChatId) -> Result<ChatView, CoreError> {
        let chat = self.visible(caller, id).await?;
        self.view(chat, caller).await
    }

    /// Renames a group (any participant may).
    pub async fn rename(
        &self,
        caller: UserId,
        id: ChatId,
        name: &str,
    ) -> Result<ChatView, CoreError> {
        let chat = self.visible(caller, id).await?;
        if chat.kind == ChatKind::Direct {
            return Err(CoreError::invalid(
                "name",
                "a direct chat cannot be renamed",
            ));
        }
        validate_chat_name(name)?;
        let chat = self
            .chats
            .rename(id, name)
            .await?
            .ok_or(CoreError::NotFound("chat"))?;
        self.announce_update(&chat, &[]).await?;
        self.view(chat, caller).await
    }

    /// Deletes a chat and its messages: a group by its owner, a direct chat by either side.
    pub async fn delete(&self, caller: UserId, id: ChatId) -> Result<(), CoreError> {
        let chat = self.visible(caller, id).await?;
        if chat.kind == ChatKind::Group && chat.owner_id != caller {
            return Err(CoreError::Forbidden("only the owner may delete a group"));
        }
        if !self.chats.delete(id).await? {
            return Err(CoreError::NotFound("chat"));
        }
        self.messages.delete_chat(id).await?;
        self.log.drop_chat(id).await?;
        self.feed
            .publish(&chat.participants, FeedEvent::ChatDeleted { chat_id: id })
            .await?;
        Ok(())
    }

    /// Adds a user to a group (any participant may).
    pub async fn add_participant(
        &self,
        caller: UserId,
        id: ChatId,
        user: UserId,
    ) -> Result<ChatView, CoreError> {
        let chat = self.visible(caller, id).await?;
        if chat.kind == ChatKind::Direct {
            return Err(CoreError::invalid(
                "user_id",
                "a direct chat's participants are fixed",
            ));
        }
        if self.users.by_id(user).await?.is_none() {
            return Err(CoreError::invalid("user_id", "unknown user"));
        }
        if chat.has_participant(user) {
            return self.view(chat, caller).await;
        }
        let from = self.log.head(id).await?;
        let chat = self
            .chats
            .add_participant(id, user)
            .await?
            .ok_or(CoreError::NotFound("chat"))?;
        self.feed
            .publish(&[user], FeedEvent::ChatCreated { chat_id: id, from })
            .await?;
        self.announce_update(&chat, &[user]).await?;
        self.view(chat, caller).await
    }

    /// Removes a participant: yourself (leaving), or anyone if you own the group.
    pub async fn remove_participant(
        &self,
        caller: UserId,
        id: ChatId,
        user: UserId,
    ) -> Result<(), CoreError> {
        let chat = self.visible(caller, id).await?;
        if chat.kind == ChatKind::Direct {
            return Err(CoreError::invalid(
                "user_id",
                "a direct chat's participants are fixed",
            ));
        }
        if user != caller && chat.owner_id != caller {
            return Err(CoreError::Forbidden("only the owner may remove others"));
        }
        if !chat.has_participant(user) {
            return Err(CoreError::NotFound("participant"));
        }
        match self.chats.remove_participant(id, user).await? {
            Removal::Removed(chat) => {
                self.feed
                    .publish(&[user], FeedEvent::ChatDeleted { chat_id: id })
                    .await?;
                self.announce_update(&chat, &[]).await?;
            }
            Removal::ChatDeleted => {
                self.messages.delete_chat(id).await?;
                self.log.drop_chat(id).await?;
                self.feed
                    .publish(&[user], FeedEvent::ChatDeleted { chat_id: id })
                    .await?;
            }
            Removal::NotParticipant => return Err(CoreError::NotFound("participant")),
        }
        Ok(())
    }

    /// Moves the caller's read marker forward to `message` and announces it if it moved.
    pub async fn mark_read(
        &self,
        caller: UserId,
        id: ChatId,
        message: MessageId,
    ) -> Result<(), CoreError> {
        self.visible(caller, id).await?;
        match self.messages.get(message).await? {
            Some(m) if m.chat_id == id => {}
            _ => return Err(CoreError::NotFound("message")),
        }
        if self.chats.advance_read_marker(id, caller, message).await? {
            let appended = self
                .log
                .append(
                    id,
                    EventDraft {
                        origin: None,
                        kind: ChatEventKind::Read {
                            user_id: caller,
                            message_id: message,
                        },
                    },
                )
                .await?;
            // Until stamped, catch-up includes the marker whatever the cursor, so a client that
            // catches up meanwhile cannot miss it.
            if let Appended::New(event) = appended {
                self.chats
                    .stamp_read_marker(id, caller, message, event.seq)
                    .await?;
            }
        }
        Ok(())
    }

    /// The chat, if `caller` takes part in it; `not_found` otherwise (existence is not leaked).
    pub async fn visible(&self, caller: UserId, id: ChatId) -> Result<Chat, CoreError> {
        match self.chats.get(id).await? {
            Some(chat) if chat.has_participant(caller) => Ok(chat),
            _ => Err(CoreError::NotFound("chat")),
        }
    }

    /// The one direct chat of `caller` and `other`, created on first use; announced to both
    /// when this call created it. `true` when created.
    pub async fn direct_chat(
        &self,
        caller: UserId,
        other: UserId,
    ) -> Result<(Chat, bool), CoreError> {
        if caller == other {
            return Err(CoreError::invalid("user_id", "cannot message yourself"));
        }
        if self.users.by_id(other).await?.is_none() {
            return Err(CoreError::NotFound("user"));
        }
        let (chat, created) = self
            .chats
            .direct_chat(caller, other, self.clock.now())
            .await?;
        if created {
            self.feed
                .publish(
                    &chat.participants,
                    FeedEvent::ChatCreated {
                        chat_id: chat.id,
                        from: EventSeq(0),
                    },
                )
                .await?;
        }
        Ok((chat, created))
    }

    /// The chat as `viewer` sees it: display name, last message, read marker, unread count.
    pub async fn view(&self, chat: Chat, viewer: UserId) -> Result<ChatView, CoreError> {
        let last_message = self.messages.last_messages(&[chat.id]).await?.pop();
        let names = self
            .direct_names(std::slice::from_ref(&chat), viewer)
            .await?;
        self.assemble(chat, viewer, last_message, &names).await
    }

    async fn assemble(
        &self,
        chat: Chat,
        viewer: UserId,
        last_message: Option<crate::Message>,
        names: &HashMap<UserId, User>,
    ) -> Result<ChatView, CoreError> {
        let last_read_message_id = self.chats.read_marker(chat.id, viewer).await?;
        // Counted up to the last message shown, never past it: a message that lands meanwhile
        // is in neither, and reaches the client as one event.
        let unread_count = match &last_message {
            Some(last) => {
                self.messages
                    .count_unread(chat.id, viewer, last_read_message_id, last.id)
                    .await?
            }
            None => 0,
        };
        let display_name = match chat.kind {
            ChatKind::Group => chat.name.clone(),
            ChatKind::Direct => chat
                .other_participant(viewer)
                .and_then(|other| names.get(&other))
                .map_or_else(|| chat.name.clone(), |u| u.username.clone()),
        };
        Ok(ChatView {
            chat,
            display_name,
            last_message,
            last_read_message_id,
            unread_count,
        })
    }

    async fn direct_names(
        &self,
        chats: &[Chat],
        viewer: UserId,
    ) -> Result<HashMap<UserId, User>, CoreError> {
        let others: Vec<UserId> = chats
            .iter()
            .filter(|c| c.kind == ChatKind::Direct)
            .filter_map(|c| c.other_participant(viewer))
            .collect();
        if others.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .users
            .by_ids(&others)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }

    async fn announce_update(&self, chat: &Chat, except: &[UserId]) -> Result<(), CoreError> {
        let to: Vec<UserId> = chat
            .participants
            .iter()
            .copied()
            .filter(|p| !except.contains(p))
            .collect();
        self.feed
            .publish(&to, FeedEvent::ChatUpdated { chat_id: chat.id })
            .await?;
        Ok(())
    }
}
