//! Per-chat event streams in Redis.
//!
//! - Positions come from one counter (`INCR`), and an event is written with its position as
//!   the entry id (`XADD key <seq>-0`). On a single Redis one script takes the position,
//!   appends and queues the chat for the persisters: one round trip per event. On a cluster
//!   the counter lives in another slot than the stream, so the position is taken first; Redis
//!   accepts an id only above the stream's newest, so a writer that took a lower number after
//!   a concurrent writer took a higher one is refused and takes a new number. Either way
//!   stream order is position order on every node.
//! - The counter is seeded from the store's highest message id when Redis lost it.
//! - Message events are persisted through the consumer group `persist` of each chat's stream.
//!   A list of chats with new work wakes the persisters; a persister holds a short per-chat
//!   lock so that each chat is committed in stream order; entries left pending by a dead
//!   persister are claimed (`XAUTOCLAIM`) after a while; a periodic sweep re-queues any chat
//!   with unread or pending entries (a node that died between append and queueing).

use super::codec::{decode_event, encode_event};
use super::streams::{entries, seq_of, Entry};
use super::{id_of_lane_key, unavailable, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use fred::types::Value;
use messenger_core::ports::{ChatStream, PersistBacklog};
use messenger_core::{Appended, ChatEvent, ChatId, EventDraft, EventSeq, StoreError, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where a fresh position counter must start: the highest message id already stored.
#[async_trait]
pub trait SeqFloor: Send + Sync {
    /// The highest position in use outside Redis.
    async fn seq_floor(&self) -> Result<i64, StoreError>;
}

#[async_trait]
impl SeqFloor for crate::postgres::PgMessageStore {
    async fn seq_floor(&self) -> Result<i64, StoreError> {
        self.max_message_id().await
    }
}

const GROUP: &str = "persist";
/// How long a persister's per-chat lock lives if it is never released (its holder died).
/// Longer than [`CLAIM_IDLE_MS`], so that whoever takes the lock next can claim what the dead
/// holder left pending before anything newer.
const LOCK_MS: u64 = 15_000;
/// Pending entries idle this long belong to a dead persister and are claimed.
const CLAIM_IDLE_MS: u64 = 10_000;
/// Stream length above which acknowledged entries are trimmed, keeping this many.
const TRIM_ABOVE: u64 = 2_000;
const KEEP: u64 = 1_000;

const NEXT_SEQ: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('INCR', KEYS[1])";

/// KEYS: stream, `client_id` mark (or the stream again), and on a single Redis the position
/// counter and the persisters' list. ARGV: position ('' = take the next from the counter),
/// whether to check the mark ('1'), the chat to queue for the persisters ('' = none), fields….
const APPEND: &str = r"
if ARGV[2] == '1' then
  local prev = redis.call('GET', KEYS[2])
  if prev then return {'dup', prev} end
end
local seq = ARGV[1]
if seq == '' then
  if redis.call('EXISTS', KEYS[3]) == 0 then return {'lost'} end
  seq = string.format('%d', redis.call('INCR', KEYS[3]))
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], 'persist', '0', 'MKSTREAM')
end
local ok = redis.pcall('XADD', KEYS[1], seq .. '-0', unpack(ARGV, 4))
if type(ok) == 'table' and ok.err then return {'retry', ok.err} end
if ARGV[2] == '1' then redis.call('SET', KEYS[2], seq, 'EX', 86400) end
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[4], ARGV[3]) end
return {'ok', seq}";

/// Raises the counter to at least ARGV[1] (Redis may come back from a restart behind the store).
const RAISE: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0";

/// Takes a chat's work in one round trip: the per-chat lock (free, or already this
/// consumer's), then this consumer's own pending entries, else entries a dead consumer left
/// pending long enough, else, when no other consumer has entries pending, new ones.
/// KEYS: stream, lock. ARGV: consumer, lock ms, count, claim idle ms.
const TAKE: &str = r"
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return {'busy'} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  if holder then redis.call('DEL', KEYS[2]) end
  return {'empty'}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local own = redis.call('XREADGROUP', 'GROUP', 'persist', ARGV[1], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '0')
local live, gone = {}, {}
if own and own[1] then
  for _, e in ipairs(own[1][2]) do
    if e[2] then table.insert(live, e) else table.insert(gone, e[1]) end
  end
end
if #gone > 0 then redis.call('XACK', KEYS[1], 'persist', unpack(gone)) end
if #live > 0 then return {'taken', live} end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], 'persist', ARGV[1], ARGV[4], '0-0', 'COUNT', ARGV[3])
if #claimed[2] > 0 then return {'taken', claimed[2]} end
if redis.call('XPENDING', KEYS[1], 'persist')[1] > 0 then
  redis.call('DEL', KEYS[2])
  return {'wait'}
end
local fresh = redis.call('XREADGROUP', 'GROUP', 'persist', ARGV[1], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if fresh and fresh[1] and #fresh[1][2] > 0 then return {'taken', fresh[1][2]} end
redis.call('DEL', KEYS[2])
return {'empty'}";

/// Acknowledges entries and releases the lock if this consumer holds it; answers the stream's
/// length. KEYS: stream, lock. ARGV: consumer, ids…
const ACK: &str = r"
if #ARGV > 1 then redis.call('XACK', KEYS[1], 'persist', unpack(ARGV, 2)) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return redis.call('XLEN', KEYS[1])";

/// Per-chat event streams in Redis.
pub struct RedisChatStream {
    redis: Arc<Redis>,
    floor: Arc<dyn SeqFloor>,
    /// Chats whose persist lock this node holds, by consumer.
    held: Mutex<HashSet<(String, ChatId)>>,
    /// Chats this node has registered with the sweep.
    known: Mutex<HashSet<ChatId>>,
}

impl RedisChatStream {
    /// Streams on `redis`; a lost position counter restarts above `floor`.
    pub fn new(redis: Arc<Redis>, floor: Arc<dyn SeqFloor>) -> Self {
        RedisChatStream {
            redis,
            floor,
            held: Mutex::new(HashSet::new()),
            known: Mutex::new(HashSet::new()),
        }
    }

    fn stream_key(&self, chat: ChatId) -> String {
        self.redis.lane_key("chat", chat.get(), "events")
    }

    fn lock_key(&self, chat: ChatId) -> String {
        self.redis.lane_key("chat", chat.get(), "persist-lock")
    }

    /// Marks a created message's `client_id` (idempotent sends); in the stream's slot.
    fn client_id_key(&self, chat: ChatId, author: UserId, client_id: &str) -> String {
        let rest = format!("client:{}:{client_id}", author.get());
        self.redis.lane_key("chat", chat.get(), &rest)
    }

    fn dirty_key(&self) -> String {
        self.redis.key("persist:dirty")
    }

    fn chats_key(&self) -> String {
        self.redis.key("persist:chats")
    }

    fn seq_key(&self) -> String {
        self.redis.key(super::SEQ_KEY)
    }

    /// The next position, on a cluster (where it cannot be taken in the append's script).
    async fn next_seq(&self) -> Result<i64, StoreError> {
        for _ in 0..3 {
            let seq: i64 = self
                .redis
                .pool()
                .eval(NEXT_SEQ, vec![self.seq_key()], Vec::<String>::new())
                .await
                .map_err(unavailable)?;
            if seq > 0 {
                return Ok(seq);
            }
            self.seed_counter().await?;
        }
        Err(unavailable("could not seed the position counter"))
    }

    /// Redis lost the counter (restarted empty): start it above what the store holds.
    async fn seed_counter(&self) -> Result<(), StoreError> {
        let floor = self.floor.seq_floor().await?;
        let _: Value = self
            .redis
            .pool()
            .set(
                self.seq_key(),
                floor,
                None,
                Some(fred::types::SetOptions::NX),
                false,
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Keeps the position counter above every position the store holds.
    pub async fn raise_counter(&self) -> Result<(), StoreError> {
        let floor = self.floor.seq_floor().await?;
        let _: Value = self
            .redis
            .pool()
            .eval(
                RAISE,
                vec![self.redis.key(super::SEQ_KEY)],
                vec![floor.to_string()],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    fn decode(&self, chat: ChatId, entry: &Entry) -> Option<ChatEvent> {
        let seq = EventSeq(seq_of(&entry.0)?);
        decode_event(chat, seq, &entry.1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, ChatId)>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn requeue(&self, chats: &[ChatId]) -> Result<(), StoreError> {
        if chats.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = chats.iter().map(|c| c.get().to_string()).collect();
        let _: Value = self
            .redis
            .pool()
            .rpush(self.dirty_key(), ids)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Takes work from one chat (see [`TAKE`]): `None` when the chat is busy elsewhere.
    async fn take(
        &self,
        consumer: &str,
        chat: ChatId,
        max: usize,
    ) -> Result<Option<Vec<Entry>>, StoreError> {
        let reply: Value = self
            .redis
            .pool()
            .eval(
                TAKE,
                vec![self.stream_key(chat), self.lock_key(chat)],
                vec![
                    consumer.to_owned(),
                    LOCK_MS.to_string(),
                    max.to_string(),
                    CLAIM_IDLE_MS.to_string(),
                ],
            )
            .await
            .map_err(unavailable)?;
        let Value::Array(mut parts) = reply else {
            return Ok(Some(Vec::new()));
        };
        let status = parts.first().and_then(Value::as_string).unwrap_or_default();
        Ok(match status.as_str() {
            "taken" if parts.len() > 1 => {
                self.lock().insert((consumer.to_owned(), chat));
                Some(entries(parts.swap_remove(1)))
            }
            "busy" | "wait" => None,
            _ => Some(Vec::new()),
        })
    }

    /// Acknowledges `ids` of `chat`, releases this node's lock on it, trims a long stream.
    async fn ack_chat(&self, chat: ChatId, ids: Vec<String>, top: i64) -> Result<(), StoreError> {
        let consumer = self
            .lock()
            .iter()
            .find(|(_, c)| *c == chat)
            .map(|(consumer, _)| consumer.clone());
        let mut args = vec![consumer.clone().unwrap_or_default()];
        args.extend(ids);
        let len: i64 = self
            .redis
            .pool()
            .eval(ACK, vec![self.stream_key(chat), self.lock_key(chat)], args)
            .await
            .map_err(unavailable)?;
        if let Some(consumer) = consumer {
            self.lock().remove(&(consumer, chat));
        }
        if len > TRIM_ABOVE as i64 {
            self.trim(chat, top).await?;
        }
        Ok(())
    }

    async fn trim(&self, chat: ChatId, acked_up_to: i64) -> Result<(), StoreError> {
        let key = self.stream_key(chat);
        let pool = self.redis.pool();
        let len: u64 = pool.xlen(&key).await.map_err(unavailable)?;
        if len <= TRIM_ABOVE {
            return Ok(());
        }
        let newest: Value = pool
            .xrevrange(&key, "+", "-", Some(KEEP))
            .await
            .map_err(unavailable)?;
        let Some(oldest_kept) = entries(newest).last().and_then(|(id, _)| seq_of(id)) else {
            return Ok(());
        };
        let min_id = oldest_kept.min(acked_up_to + 1);
        let _: Value = pool
            .xtrim(&key, ("MINID", "~", format!("{min_id}-0")))
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl ChatStream for RedisChatStream {
    async fn append(&self, chat: ChatId, draft: EventDraft) -> Result<Appended, StoreError> {
        let stream = self.stream_key(chat);
        let mark = draft
            .dedup_key()
            .map(|(author, cid)| self.client_id_key(chat, author, cid));
        let queue_for_persisters = draft.kind.is_persisted();
        // Registered with the sweep before anything is appended, so that a node dying right
        // after its append still leaves the chat where the sweep looks.
        // Every chat, even one that only ever sees typing: the sweep also gets its ephemeral
        // entries acknowledged and trimmed.
        let known = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&chat);
        if !known {
            let _: Value = self
                .redis
                .pool()
                .sadd(self.chats_key(), chat.get().to_string())
                .await
                .map_err(unavailable)?;
            self.known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(chat);
        }
        let in_one_step = !self.redis.is_clustered();
        let fields = encode_event(&draft.clone().into_event(chat, EventSeq(0)));
        let mut keys = vec![stream.clone(), mark.clone().unwrap_or(stream)];
        if in_one_step {
            keys.extend([self.seq_key(), self.dirty_key()]);
        }
        for _ in 0..20 {
            let position = if in_one_step {
                String::new()
            } else {
                self.next_seq().await?.to_string()
            };
            let queued_here = in_one_step && queue_for_persisters;
            let mut args = vec![
                position,
                if mark.is_some() { "1" } else { "0" }.to_owned(),
                if queued_here {
                    chat.get().to_string()
                } else {
                    String::new()
                },
            ];
            for (k, v) in &fields {
                args.push(k.clone());
                args.push(v.clone());
            }
            let reply: Vec<String> = self
                .redis
                .pool()
                .eval(APPEND, keys.clone(), args)
                .await
                .map_err(unavailable)?;
            let number = |i: usize| reply.get(i).and_then(|p| p.parse().ok()).unwrap_or(0);
            match reply.first().map(String::as_str) {
                Some("ok") => {
                    if queue_for_persisters && !queued_here {
                        let _: Value = self
                            .redis
                            .pool()
                            .rpush(self.dirty_key(), chat.get().to_string())
                            .await
                            .map_err(unavailable)?;
                    }
                    return Ok(Appended::New(draft.into_event(chat, EventSeq(number(1)))));
                }
                Some("dup") => return Ok(Appended::Duplicate(EventSeq(number(1)))),
                Some("lost") => self.seed_counter().await?,
                // Another writer got a higher position in first: take a new one.
                _ => continue,
            }
        }
        Err(unavailable("could not append: too much contention"))
    }

    async fn head(&self, chat: ChatId) -> Result<EventSeq, StoreError> {
        let v: Value = self
            .redis
            .pool()
            .xrevrange(self.stream_key(chat), "+", "-", Some(1))
            .await
            .map_err(unavailable)?;
        Ok(EventSeq(
            entries(v)
                .first()
                .and_then(|(id, _)| seq_of(id))
                .unwrap_or(0),
        ))
    }

    async fn read_after(
        &self,
        cursors: &[(ChatId, EventSeq)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError> {
        if cursors.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = cursors.iter().map(|(c, _)| self.stream_key(*c)).collect();
        let ids: Vec<String> = cursors
            .iter()
            .map(|(_, s)| format!("{}-0", s.get()))
            .collect();
        let mut out = Vec::new();
        for (key, list) in self.redis.xread_streams(keys, ids, limit, block).await? {
            let Some(chat) = id_of_lane_key(&key).map(ChatId) else {
                continue;
            };
            out.extend(list.iter().filter_map(|e| self.decode(chat, e)));
        }
        Ok(out)
    }

    async fn claim_unpersisted(
        &self,
        consumer: &str,
        max: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError> {
        let pool = self.redis.pool();
        let mut chats: Vec<String> = pool
            .lpop::<Option<Vec<String>>, _>(self.dirty_key(), Some(64))
            .await
            .map_err(unavailable)?
            .unwrap_or_default();
        if chats.is_empty() {
            let Some(b) = block else {
                return Ok(Vec::new());
            };
            let client = self.redis.blocking().await?;
            let popped: Option<(String, String)> = match client
                .blpop(self.dirty_key(), b.as_secs_f64().max(0.01))
                .await
            {
                Ok(p) => p,
                // fred reports BLPOP's own timeout (a nil reply) as a timeout error.
                Err(e) if *e.kind() == fred::error::ErrorKind::Timeout => None,
                Err(e) => return Err(unavailable(e)),
            };
            drop(client);
            let Some((_, chat)) = popped else {
                return Ok(Vec::new());
            };
            chats.push(chat);
            let more: Option<Vec<String>> = pool
                .lpop(self.dirty_key(), Some(63))
                .await
                .map_err(unavailable)?;
            chats.extend(more.unwrap_or_default());
        }
        let mut seen = HashSet::new();
        let chats: Vec<ChatId> = chats
            .iter()
            .filter_map(|c| c.parse().ok().map(ChatId))
            .filter(|c| seen.insert(*c))
            .collect();
        // Every chat in one round trip each, all at once.
        let per_chat = (max / chats.len().max(1)).max(16);
        let takes = chats
            .iter()
            .map(|chat| self.take(consumer, *chat, per_chat));
        let taken = futures_util::future::join_all(takes).await;
        let mut out = Vec::new();
        let mut busy = Vec::new();
        let mut acks = Vec::new();
        for (chat, taken) in chats.iter().zip(taken) {
            let Some(entries) = taken? else {
                // Another persister has it, or has older entries of it pending: try later.
                busy.push(*chat);
                continue;
            };
            let mut ephemeral = Vec::new();
            let mut work = Vec::new();
            for entry in &entries {
                match self.decode(*chat, entry) {
                    Some(e) if e.kind.is_persisted() => work.push(e),
                    _ => ephemeral.push(entry.0.clone()),
                }
            }
            if entries.len() >= per_chat {
                busy.push(*chat); // there may be more
            }
            if work.is_empty() {
                if !entries.is_empty() {
                    let top = ephemeral
                        .iter()
                        .filter_map(|id| seq_of(id))
                        .max()
                        .unwrap_or(0);
                    acks.push(self.ack_chat(*chat, ephemeral, top));
                }
            } else {
                if !ephemeral.is_empty() {
                    let _: Value = pool
                        .xack(self.stream_key(*chat), GROUP, ephemeral)
                        .await
                        .map_err(unavailable)?;
                }
                out.extend(work);
            }
        }
        for acked in futures_util::future::join_all(acks).await {
            acked?;
        }
        self.requeue(&busy).await?;
        if out.is_empty() && !busy.is_empty() {
            // Only chats others hold: give them a moment rather than spin on the list.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        out.sort_by_key(|e| (e.chat_id, e.seq));
        Ok(out)
    }

    async fn ack_persisted(&self, events: &[(ChatId, EventSeq)]) -> Result<(), StoreError> {
        let mut by_chat: BTreeMap<ChatId, (Vec<String>, i64)> = BTreeMap::new();
        for (chat, seq) in events {
            let e = by_chat.entry(*chat).or_insert((Vec::new(), 0));
            e.0.push(format!("{}-0", seq.get()));
            e.1 = e.1.max(seq.get());
        }
        // New entries of these chats queued themselves when appended: no re-queue needed.
        let acks = by_chat
            .into_iter()
            .map(|(chat, (ids, top))| self.ack_chat(chat, ids, top));
        for acked in futures_util::future::join_all(acks).await {
            acked?;
        }
        Ok(())
    }

    fn read_lanes(&self) -> usize {
        self.redis.read_lanes()
    }

    fn read_lane(&self, chat: ChatId) -> usize {
        self.redis.read_lane(chat.get())
    }

    async fn drop_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chat);
        let pool = self.redis.pool();
        let _: Value = pool
            .del(vec![self.stream_key(chat), self.lock_key(chat)])
            .await
            .map_err(unavailable)?;
        let _: Value = pool
            .srem(self.chats_key(), chat.get().to_string())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn sweep(&self) -> Result<PersistBacklog, StoreError> {
        self.raise_counter().await?;
        let pool = self.redis.pool();
        let chats: Vec<String> = pool.smembers(self.chats_key()).await.map_err(unavailable)?;
        let mut stale = Vec::new();
        let mut backlog = PersistBacklog::default();
        for chat in chats.iter().filter_map(|c| c.parse().ok().map(ChatId)) {
            let info: Value = match pool.xinfo_groups(self.stream_key(chat)).await {
                Ok(v) => v,
                Err(_) => continue,
            };
            if let Some(work) = group_work(info) {
                backlog.unread += work.unread;
                backlog.pending += work.pending;
                stale.push(chat);
            }
        }
        self.requeue(&stale).await?;
        Ok(backlog)
    }
}

/// The persist group's work in one stream, from `XINFO GROUPS`: `None` when there is none.
/// A `lag` Redis cannot tell (nil, after entries were deleted) counts as work, but as 0.
fn group_work(info: Value) -> Option<PersistBacklog> {
    let Value::Array(groups) = info else {
        return None;
    };
    groups.into_iter().find_map(|g| {
        let fields: HashMap<String, Value> = match g {
            Value::Array(flat) => flat
                .chunks(2)
                .filter_map(|kv| Some((kv[0].as_string()?, kv.get(1)?.clone())))
                .collect(),
            Value::Map(m) => m
                .inner()
                .into_iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)))
                .collect(),
            _ => return None,
        };
        let n = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_i64)
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0)
        };
        if fields.get("name").and_then(Value::as_string).as_deref() != Some(GROUP) {
            return None;
        }
        let work = PersistBacklog {
            unread: n("lag"),
            pending: n("pending"),
        };
        let unknown_lag = fields.get("lag").is_some_and(Value::is_null);
        (work != PersistBacklog::default() || unknown_lag).then_some(work)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoFloor;

    #[async_trait]
    impl SeqFloor for NoFloor {
        async fn seq_floor(&self) -> Result<i64, StoreError> {
            Ok(0)
        }
    }

    messenger_core::chat_stream_contract!(RedisChatStream::new(
        crate::redis::test_redis().await,
        Arc::new(NoFloor)
    ));
}
