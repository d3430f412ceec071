//! Online sets in Redis, shared by every node. Each open socket is a member of its chat's set
//! (`presence:chat:{42}`) and its user's set (`presence:user:{7}`), scored with an expiry
//! time that its node pushes forward on every [`Presence::refresh`]; the sockets of a node
//! that died without cleaning up fall out within [`TTL_MS`].

use super::script::Script;
use super::{classify, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use fred::types::Value;
use messenger_core::ports::{Presence, SocketKey};
use messenger_core::{ChatId, StoreError, UserId};
use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

/// How long a socket counts as open without a refresh.
pub const TTL_MS: i64 = 30_000;

/// Adds a member; answers 1 if its user had no live member before.
static OPEN: Script = Script::new(
    r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local had = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #ARGV[4]) == ARGV[4] then had = 1 break end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if had == 0 then return 1 end
return 0",
);

/// Removes a member; answers 1 if it was its user's last live member.
static CLOSE: Script = Script::new(
    r"
if redis.call('ZREM', KEYS[1], ARGV[3]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #ARGV[4]) == ARGV[4] then return 0 end
end
return 1",
);

/// Online sets in Redis.
pub struct RedisPresence {
    redis: Arc<Redis>,
    ttl_ms: i64,
    /// This node's open sockets, refreshed periodically.
    local: Mutex<HashSet<SocketKey>>,
}

impl RedisPresence {
    /// Online sets on `redis`.
    pub fn new(redis: Arc<Redis>) -> Self {
        Self::with_ttl(redis, TTL_MS)
    }

    /// Online sets whose entries expire `ttl_ms` after their last refresh.
    pub fn with_ttl(redis: Arc<Redis>, ttl_ms: i64) -> Self {
        RedisPresence {
            redis,
            ttl_ms,
            local: Mutex::new(HashSet::new()),
        }
    }

    fn chat_key(&self, chat: ChatId) -> String {
        self.redis.key(&format!("presence:chat:{{{}}}", chat.get()))
    }

    fn user_key(&self, user: UserId) -> String {
        self.redis.key(&format!("presence:user:{{{}}}", user.get()))
    }

    fn chat_member(s: &SocketKey) -> String {
        format!("{}|{}|{}", s.user.get(), s.node.0, s.conn.0)
    }

    fn user_member(s: &SocketKey) -> String {
        format!(
            "{}|{}|{}",
            s.node.0,
            s.conn.0,
            s.chat.map_or(0, ChatId::get)
        )
    }

    fn now_ms() -> i64 {
        i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(i64::MAX)
    }

    /// Runs [`OPEN`] or [`CLOSE`] on the chat's set for this socket (members expiring at
    /// `expiry`); `true` when the user's presence in the chat changed.
    async fn change_chat_set(
        &self,
        script: &Script,
        chat: ChatId,
        socket: &SocketKey,
        now: i64,
        expiry: Option<i64>,
    ) -> Result<bool, StoreError> {
        let changed: i64 = script
            .run(
                &self.redis,
                vec![self.chat_key(chat)],
                vec![
                    now.to_string(),
                    expiry.map(|e| e.to_string()).unwrap_or_default(),
                    Self::chat_member(socket),
                    format!("{}|", socket.user.get()),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashSet<SocketKey>> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Presence for RedisPresence {
    async fn socket_opened(&self, socket: &SocketKey) -> Result<bool, StoreError> {
        self.local().insert(socket.clone());
        let now = Self::now_ms();
        let pool = self.redis.pool();
        let _: Value = pool
            .zadd(
                self.user_key(socket.user),
                None,
                None,
                false,
                false,
                ((now + self.ttl_ms) as f64, Self::user_member(socket)),
            )
            .await
            .map_err(classify)?;
        let Some(chat) = socket.chat else {
            return Ok(false);
        };
        self.change_chat_set(&OPEN, chat, socket, now, Some(now + self.ttl_ms))
            .await
    }

    async fn socket_closed(&self, socket: &SocketKey) -> Result<bool, StoreError> {
        self.local().remove(socket);
        let pool = self.redis.pool();
        let _: Value = pool
            .zrem(self.user_key(socket.user), Self::user_member(socket))
            .await
            .map_err(classify)?;
        let Some(chat) = socket.chat else {
            return Ok(false);
        };
        self.change_chat_set(&CLOSE, chat, socket, Self::now_ms(), None)
            .await
    }

    async fn online_in_chat(&self, chat: ChatId) -> Result<Vec<UserId>, StoreError> {
        let members: Vec<String> = self
            .redis
            .pool()
            .zrangebyscore(
                self.chat_key(chat),
                Self::now_ms() as f64,
                "+inf",
                false,
                None,
            )
            .await
            .map_err(classify)?;
        let users: BTreeSet<i64> = members
            .iter()
            .filter_map(|m| m.split('|').next()?.parse().ok())
            .collect();
        Ok(users.into_iter().map(UserId).collect())
    }

    async fn online_among(&self, users: &[UserId]) -> Result<Vec<UserId>, StoreError> {
        let pool = self.redis.pool();
        let now = Self::now_ms() as f64;
        let counts = users
            .iter()
            .map(|u| pool.zcount::<i64, _>(self.user_key(*u), now, f64::INFINITY));
        let counts = futures_util::future::join_all(counts).await;
        let mut online = Vec::new();
        for (user, count) in users.iter().zip(counts) {
            if count.map_err(classify)? > 0 {
                online.push(*user);
            }
        }
        Ok(online)
    }

    async fn refresh(&self) -> Result<(), StoreError> {
        let sockets: Vec<SocketKey> = self.local().iter().cloned().collect();
        let expiry = (Self::now_ms() + self.ttl_ms) as f64;
        let pool = self.redis.pool();
        let mut failure = None;
        for s in sockets {
            // XX: only sockets still there; one closed since the snapshot stays closed.
            let mut writes = vec![(self.user_key(s.user), Self::user_member(&s))];
            if let Some(chat) = s.chat {
                writes.push((self.chat_key(chat), Self::chat_member(&s)));
            }
            for (key, member) in writes {
                let done: Result<Value, _> = pool
                    .zadd(
                        key,
                        Some(fred::types::SetOptions::XX),
                        None,
                        false,
                        false,
                        (expiry, member),
                    )
                    .await;
                if let Err(e) = done {
                    failure = Some(classify(e));
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use messenger_core::{ConnId, NodeId};

    messenger_core::presence_contract!(super::RedisPresence::new(crate::redis::test_redis().await));

    #[tokio::test]
    async fn sockets_of_a_node_that_stops_refreshing_expire() {
        let redis = crate::redis::test_redis().await;
        let dead_node = RedisPresence::with_ttl(redis.clone(), 200);
        let socket = SocketKey {
            node: NodeId("dead".into()),
            conn: ConnId(1),
            user: UserId(7),
            chat: Some(ChatId(3)),
        };
        dead_node.socket_opened(&socket).await.unwrap();
        let observer = RedisPresence::new(redis);
        assert_eq!(
            observer.online_in_chat(ChatId(3)).await.unwrap(),
            vec![UserId(7)]
        );
        // The node dies: no refresh, no close. Expiry is a matter of time, not of an event.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(observer.online_in_chat(ChatId(3)).await.unwrap().is_empty());
        assert!(observer
            .online_among(&[UserId(7)])
            .await
            .unwrap()
            .is_empty());
    }
}
