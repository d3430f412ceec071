//! Each chat's member set in Redis (`chat:{42}:members`), kept in step with a chat repository
//! it wraps, so that the membership check of every send is one `SISMEMBER`.
//!
//! Only a "yes" from Redis is trusted: a "no" (or a set Redis lost) is checked against the
//! repository, so a failed write to Redis can delay nothing but a cache hit. A removal clears
//! the member from the set before the repository commits it, and the set expires after a day
//! without changes, so a stale "yes" cannot outlive a failed removal for long.

use super::{classify, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use fred::types::Value;
use messenger_core::ports::ChatRepo;
use messenger_core::{
    Chat, ChatId, EventSeq, MessageId, NewChat, ReadMarker, Removal, StoreError, Timestamp, UserId,
};
use std::sync::Arc;

/// How long a member set lives without changes.
const TTL_SECS: i64 = 24 * 3600;

/// A chat repository whose member sets are mirrored in Redis.
pub struct RedisMembers<R> {
    inner: R,
    redis: Arc<Redis>,
}

impl<R: ChatRepo> RedisMembers<R> {
    /// Mirrors the member sets of `inner` in `redis`.
    pub fn new(inner: R, redis: Arc<Redis>) -> Self {
        RedisMembers { inner, redis }
    }

    fn key(&self, chat: ChatId) -> String {
        self.redis.key(&format!("chat:{{{}}}:members", chat.get()))
    }

    async fn fill(&self, chat: &Chat) {
        let members: Vec<String> = chat
            .participants
            .iter()
            .map(|p| p.get().to_string())
            .collect();
        let key = self.key(chat.id);
        let pool = self.redis.pool();
        let written: Result<Value, _> = pool.sadd(&key, members).await;
        let expiry: Result<Value, _> = pool.expire(&key, TTL_SECS, None).await;
        if written.is_err() || expiry.is_err() {
            self.forget(chat.id).await;
        }
    }

    async fn forget(&self, chat: ChatId) {
        let gone: Result<Value, _> = self.redis.pool().del(self.key(chat)).await;
        if let Err(e) = gone {
            tracing::warn!(chat = chat.get(), error = %messenger_core::error::Chain(&e), "member set not cleared");
        }
    }
}

#[async_trait]
impl<R: ChatRepo> ChatRepo for RedisMembers<R> {
    async fn create_group(&self, chat: NewChat) -> Result<Chat, StoreError> {
        let chat = self.inner.create_group(chat).await?;
        self.fill(&chat).await;
        Ok(chat)
    }

    async fn direct_chat(
        &self,
        a: UserId,
        b: UserId,
        now: Timestamp,
    ) -> Result<(Chat, bool), StoreError> {
        let (chat, created) = self.inner.direct_chat(a, b, now).await?;
        if created {
            self.fill(&chat).await;
        }
        Ok((chat, created))
    }

    async fn get(&self, id: ChatId) -> Result<Option<Chat>, StoreError> {
        self.inner.get(id).await
    }

    async fn is_participant(&self, id: ChatId, user: UserId) -> Result<bool, StoreError> {
        let cached: Result<bool, _> = self.redis.pool().sismember(self.key(id), user.get()).await;
        match cached {
            Ok(true) => Ok(true),
            Ok(false) | Err(_) => self.inner.is_participant(id, user).await,
        }
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<Chat>, StoreError> {
        self.inner.list_for_user(user).await
    }

    async fn rename(&self, id: ChatId, name: &str) -> Result<Option<Chat>, StoreError> {
        self.inner.rename(id, name).await
    }

    async fn add_participant(&self, id: ChatId, user: UserId) -> Result<Option<Chat>, StoreError> {
        let chat = self.inner.add_participant(id, user).await?;
        if chat.is_some() {
            // Only the newcomer: re-adding the whole set could undo a concurrent removal.
            let added: Result<Value, _> = self.redis.pool().sadd(self.key(id), user.get()).await;
            if added.is_err() {
                self.forget(id).await;
            }
        }
        Ok(chat)
    }

    async fn remove_participant(&self, id: ChatId, user: UserId) -> Result<Removal, StoreError> {
        // Out of the set first: a stale "yes" must not outlive the removal.
        let _: Value = self
            .redis
            .pool()
            .srem(self.key(id), user.get())
            .await
            .map_err(classify)?;
        let removal = self.inner.remove_participant(id, user).await?;
        if matches!(removal, Removal::ChatDeleted) {
            self.forget(id).await;
        }
        Ok(removal)
    }

    async fn delete(&self, id: ChatId) -> Result<bool, StoreError> {
        let _: Value = self
            .redis
            .pool()
            .del(self.key(id))
            .await
            .map_err(classify)?;
        self.inner.delete(id).await
    }

    async fn read_marker(
        &self,
        chat: ChatId,
        user: UserId,
    ) -> Result<Option<MessageId>, StoreError> {
        self.inner.read_marker(chat, user).await
    }

    async fn advance_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool, StoreError> {
        self.inner.advance_read_marker(chat, user, message).await
    }

    async fn stamp_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
        position: EventSeq,
    ) -> Result<(), StoreError> {
        self.inner
            .stamp_read_marker(chat, user, message, position)
            .await
    }

    async fn read_markers_after(
        &self,
        chat: ChatId,
        after: EventSeq,
    ) -> Result<Vec<ReadMarker>, StoreError> {
        self.inner.read_markers_after(chat, after).await
    }
}

#[cfg(test)]
mod tests {
    messenger_core::chat_repo_contract!(super::RedisMembers::new(
        crate::postgres::PgChatRepo::new(crate::postgres::test_database_with(10, 0).await),
        crate::redis::test_redis().await
    ));
}
