//! Per-chat event streams in Redis.
//!
//! - Positions come from one counter (`INCR`), and an event is written with its position as
//!   the entry id (`XADD key <seq>-0`). On a single Redis one script takes the position,
//!   appends and queues the chat for the persisters: one round trip per event. On a cluster
//!   the counter lives in another slot than the stream, so the position is taken first; Redis
//!   accepts an id only above the stream's newest, so a writer that took a lower number after
//!   a concurrent writer took a higher one is refused and takes a new number. Either way
//!   stream order is position order on every node.
//! - Every event also enters its read lane's log (one stream per lane, bounded, each entry
//!   naming its chat), written by the same script at the same position: a node follows all the
//!   chats of a lane with one blocking read of one key, whatever their number. A reader that
//!   fell behind the log's bound learns it from the stream's oldest entry (see [`LANE_READ`]).
//! - The counter is seeded from the store's highest message id when Redis lost it.
//! - Message events are persisted through the consumer group `persist` of each chat's stream.
//!   A list of chats with new work wakes the persisters; a persister holds a short per-chat
//!   lock so that each chat is committed in stream order; entries left pending by a dead
//!   persister are claimed (`XAUTOCLAIM`) after a while; a periodic sweep re-queues any chat
//!   with unread or pending entries (a node that died between append and queueing).

use super::codec::{decode_event, encode_event};
use super::script::Script;
use super::streams::{entries, seq_of, Entry};
use super::{classify, id_of_lane_key, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use fred::types::Value;
use messenger_core::ports::{ChatLog, LaneLog, LanePage, PersistBacklog, PersistQueue};
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
/// Entries kept (about) in each read lane's log: a node whose reader falls further behind
/// reads its chats' own streams instead.
const LANE_KEEP: u64 = 50_000;
/// The lane log's field naming an entry's chat (the chat's own stream does not need it).
const LANE_CHAT: &str = "lane_chat";

static NEXT_SEQ: Script = Script::new(
    r"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('INCR', KEYS[1])",
);

/// KEYS: stream, `client_id` mark (or the stream again), the lane's log, and on a single
/// Redis the position counter and the persisters' list. ARGV: position ('' = take the next
/// from the counter), whether to check the mark ('1'), the chat to queue for the persisters
/// ('' = none), the chat, the lane log's bound, fields…. The lane's log is written first: its
/// newest position is at least the stream's, so a position it takes the stream takes too.
static APPEND: Script = Script::new(
    r"
if ARGV[2] == '1' then
  local prev = redis.call('GET', KEYS[2])
  if prev then return {'dup', prev} end
end
local seq = ARGV[1]
if seq == '' then
  if redis.call('EXISTS', KEYS[4]) == 0 then return {'lost'} end
  seq = string.format('%d', redis.call('INCR', KEYS[4]))
end
local id = seq .. '-0'
local ok = redis.pcall('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], id, 'lane_chat', ARGV[4], unpack(ARGV, 6))
if type(ok) == 'table' and ok.err then return {'retry', ok.err} end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], 'persist', '0', 'MKSTREAM')
end
ok = redis.pcall('XADD', KEYS[1], id, unpack(ARGV, 6))
if type(ok) == 'table' and ok.err then
  redis.call('XDEL', KEYS[3], id)
  return {'retry', ok.err}
end
if ARGV[2] == '1' then redis.call('SET', KEYS[2], seq, 'EX', 86400) end
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[5], ARGV[3]) end
return {'ok', seq}",
);

/// A read lane's log after a position, without waiting, and whether there may be a gap
/// after that position:
/// - entries were trimmed away (fewer are left than were ever added) and the oldest left is
///   above the position. Trimming only takes the oldest, so a reader at or past the oldest
///   entry lost nothing; one right behind it may be told of a gap that holds nothing, and
///   only reads its chats once more;
/// - or the log is newer than the reader: it never had an entry as high as the position, or
///   it is gone (Redis restarted empty, or lost its newest writes).
///
/// KEYS: the lane's log. ARGV: position, count.
static LANE_READ: Script = Script::new(
    r"
local after = tonumber(ARGV[1])
local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
if type(info) == 'table' and info.err then
  if after > 0 then return {1, {}} end
  return {0, {}}
end
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
local function seq(id) return tonumber(string.match(id or '0', '^(%d+)')) end
local gap = 0
if tonumber(f['entries-added']) > tonumber(f['length']) and seq(f['recorded-first-entry-id']) > after then
  gap = 1
end
if seq(f['last-generated-id']) < after then gap = 1 end
return {gap, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])}",
);

/// Raises the counter to at least ARGV[1] (Redis may come back from a restart behind the store).
static RAISE: Script = Script::new(
    r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0",
);

/// Takes the work of several chats in one round trip. For each chat: its lock (free, or
/// already this consumer's), then this consumer's own pending entries, else entries a dead
/// consumer left pending long enough, else, when no other consumer has entries pending, new
/// ones. KEYS: each chat's stream and lock, in pairs (one hash slot). ARGV: consumer, lock ms,
/// count per chat, claim idle ms. Answers one `{status, entries}` per chat.
static TAKE: Script = Script::new(
    r"
local function take(stream, lock)
  local holder = redis.call('GET', lock)
  if holder and holder ~= ARGV[1] then return {'busy'} end
  if redis.call('EXISTS', stream) == 0 then
    if holder then redis.call('DEL', lock) end
    return {'empty'}
  end
  redis.call('SET', lock, ARGV[1], 'PX', ARGV[2])
  local own = redis.call('XREADGROUP', 'GROUP', 'persist', ARGV[1], 'COUNT', ARGV[3], 'STREAMS', stream, '0')
  local live, gone = {}, {}
  if own and own[1] then
    for _, e in ipairs(own[1][2]) do
      if e[2] then table.insert(live, e) else table.insert(gone, e[1]) end
    end
  end
  if #gone > 0 then redis.call('XACK', stream, 'persist', unpack(gone)) end
  if #live > 0 then return {'taken', live} end
  local claimed = redis.call('XAUTOCLAIM', stream, 'persist', ARGV[1], ARGV[4], '0-0', 'COUNT', ARGV[3])
  if #claimed[2] > 0 then return {'taken', claimed[2]} end
  if redis.call('XPENDING', stream, 'persist')[1] > 0 then
    redis.call('DEL', lock)
    return {'wait'}
  end
  local fresh = redis.call('XREADGROUP', 'GROUP', 'persist', ARGV[1], 'COUNT', ARGV[3], 'STREAMS', stream, '>')
  if fresh and fresh[1] and #fresh[1][2] > 0 then return {'taken', fresh[1][2]} end
  redis.call('DEL', lock)
  return {'empty'}
end
local out = {}
for i = 1, #KEYS, 2 do out[#out + 1] = take(KEYS[i], KEYS[i + 1]) end
return out",
);

/// Acknowledges entries of several chats, releasing each chat's lock if the given consumer
/// holds it; answers each stream's length. KEYS: each chat's stream and lock, in pairs (one
/// hash slot). ARGV, per chat: the consumer whose lock to release ('' = keep the lock), how
/// many ids, the ids.
static ACK: Script = Script::new(
    r"
local out, a = {}, 1
for i = 1, #KEYS, 2 do
  local consumer, n = ARGV[a], tonumber(ARGV[a + 1])
  if n > 0 then redis.call('XACK', KEYS[i], 'persist', unpack(ARGV, a + 2, a + 1 + n)) end
  if consumer ~= '' and redis.call('GET', KEYS[i + 1]) == consumer then
    redis.call('DEL', KEYS[i + 1])
  end
  out[#out + 1] = redis.call('XLEN', KEYS[i])
  a = a + 2 + n
end
return out",
);

/// One chat's part of a batched acknowledgement.
struct ChatAck {
    chat: ChatId,
    ids: Vec<String>,
    /// The highest position acknowledged.
    top: i64,
    /// The consumer whose persist lock on the chat is released (its work is done), if any.
    release: Option<String>,
}

/// Per-chat event streams in Redis.
pub struct RedisChatStream {
    redis: Arc<Redis>,
    floor: Arc<dyn SeqFloor>,
    /// Chats this node has registered with the sweep.
    known: Mutex<HashSet<ChatId>>,
    /// Entries kept (about) in each read lane's log.
    lane_bound: u64,
}

impl RedisChatStream {
    /// Streams on `redis`; a lost position counter restarts above `floor`.
    pub fn new(redis: Arc<Redis>, floor: Arc<dyn SeqFloor>) -> Self {
        RedisChatStream {
            redis,
            floor,
            known: Mutex::new(HashSet::new()),
            lane_bound: LANE_KEEP,
        }
    }

    /// The same streams, each read lane's log keeping about `bound` entries (Redis trims
    /// whole nodes of a stream, a hundred entries or so, so a little more).
    pub fn with_lane_bound(self, bound: u64) -> Self {
        RedisChatStream {
            lane_bound: bound,
            ..self
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

    /// The log of read lane `lane`, in that lane's hash slot.
    fn lane_log_key(&self, lane: usize) -> String {
        self.redis.lane_key("chat", lane as i64, "lane-log")
    }

    /// The newest position in the stream at `key` (0 when it is empty or absent).
    async fn newest_seq(&self, key: String) -> Result<EventSeq, StoreError> {
        let v: Value = self
            .redis
            .pool()
            .xrevrange(key, "+", "-", Some(1))
            .await
            .map_err(classify)?;
        Ok(EventSeq(
            entries(v)
                .first()
                .and_then(|(id, _)| seq_of(id))
                .unwrap_or(0),
        ))
    }

    /// A lane log's entry: its chat is one of its fields.
    fn decode_lane_entry(&self, entry: &Entry) -> Option<ChatEvent> {
        let chat = ChatId(entry.1.get(LANE_CHAT)?.parse().ok()?);
        self.decode(chat, entry)
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
            let seq: i64 = NEXT_SEQ
                .run(&self.redis, vec![self.seq_key()], Vec::new())
                .await?;
            if seq > 0 {
                return Ok(seq);
            }
            self.seed_counter().await?;
        }
        Err(StoreError::unavailable_msg(
            "could not seed the position counter",
        ))
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
            .map_err(classify)?;
        Ok(())
    }

    /// Keeps the position counter above every position the store holds.
    pub async fn raise_counter(&self) -> Result<(), StoreError> {
        let floor = self.floor.seq_floor().await?;
        let _: Value = RAISE
            .run(&self.redis, vec![self.seq_key()], vec![floor.to_string()])
            .await?;
        Ok(())
    }

    fn decode(&self, chat: ChatId, entry: &Entry) -> Option<ChatEvent> {
        let seq = EventSeq(seq_of(&entry.0)?);
        decode_event(chat, seq, &entry.1)
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
            .map_err(classify)?;
        Ok(())
    }

    /// The chats in groups whose keys share a hash slot (one group on a single Redis), so that
    /// one script can serve each group.
    fn by_slot<T>(&self, items: Vec<T>, chat: impl Fn(&T) -> ChatId) -> Vec<Vec<T>> {
        let mut groups: BTreeMap<usize, Vec<T>> = BTreeMap::new();
        for item in items {
            let lane = self.redis.read_lane(chat(&item).get());
            groups.entry(lane).or_default().push(item);
        }
        groups.into_values().collect()
    }

    fn chat_keys(&self, chats: impl Iterator<Item = ChatId>) -> Vec<String> {
        chats
            .flat_map(|chat| [self.stream_key(chat), self.lock_key(chat)])
            .collect()
    }

    /// Takes work from several chats (see [`TAKE`]): per chat, `None` when it is busy
    /// elsewhere.
    async fn take(
        &self,
        consumer: &str,
        chats: Vec<ChatId>,
        per_chat: usize,
    ) -> Result<Vec<(ChatId, Option<Vec<Entry>>)>, StoreError> {
        let args = vec![
            consumer.to_owned(),
            LOCK_MS.to_string(),
            per_chat.to_string(),
            CLAIM_IDLE_MS.to_string(),
        ];
        let takes = self.by_slot(chats, |c| *c).into_iter().map(|group| {
            let keys = self.chat_keys(group.iter().copied());
            let args = args.clone();
            async move {
                let reply: Value = TAKE.run(&self.redis, keys, args).await?;
                let replies = match reply {
                    Value::Array(replies) if replies.len() == group.len() => replies,
                    other => {
                        return Err(StoreError::internal_msg(format!(
                            "the take script answered {other:?} for {} chats",
                            group.len()
                        )))
                    }
                };
                Ok::<_, StoreError>(group.into_iter().zip(replies).collect::<Vec<_>>())
            }
        });
        let mut out = Vec::new();
        for taken in futures_util::future::join_all(takes).await {
            for (chat, reply) in taken? {
                let Value::Array(mut parts) = reply else {
                    out.push((chat, Some(Vec::new())));
                    continue;
                };
                let status = parts.first().and_then(Value::as_string).unwrap_or_default();
                let entries = match status.as_str() {
                    "taken" if parts.len() > 1 => Some(entries(parts.swap_remove(1))),
                    "busy" | "wait" => None,
                    _ => Some(Vec::new()),
                };
                out.push((chat, entries));
            }
        }
        Ok(out)
    }

    /// Acknowledges entries of several chats, releases the locks of those whose work is done,
    /// and trims long streams.
    async fn ack(&self, acks: Vec<ChatAck>) -> Result<(), StoreError> {
        let runs = self
            .by_slot(acks, |a| a.chat)
            .into_iter()
            .map(|group| async move {
                let keys = self.chat_keys(group.iter().map(|a| a.chat));
                let mut args = Vec::new();
                for a in &group {
                    args.push(a.release.clone().unwrap_or_default());
                    args.push(a.ids.len().to_string());
                    args.extend(a.ids.iter().cloned());
                }
                let lengths: Vec<i64> = ACK.run(&self.redis, keys, args).await?;
                if lengths.len() != group.len() {
                    return Err(StoreError::internal_msg(
                        "the ack script answered for other chats",
                    ));
                }
                for (a, len) in group.iter().zip(lengths) {
                    if a.release.is_some() && len > TRIM_ABOVE as i64 {
                        self.trim(a.chat, a.top).await?;
                    }
                }
                Ok::<_, StoreError>(())
            });
        for acked in futures_util::future::join_all(runs).await {
            acked?;
        }
        Ok(())
    }

    async fn trim(&self, chat: ChatId, acked_up_to: i64) -> Result<(), StoreError> {
        let key = self.stream_key(chat);
        let pool = self.redis.pool();
        let len: u64 = pool.xlen(&key).await.map_err(classify)?;
        if len <= TRIM_ABOVE {
            return Ok(());
        }
        let newest: Value = pool
            .xrevrange(&key, "+", "-", Some(KEEP))
            .await
            .map_err(classify)?;
        let Some(oldest_kept) = entries(newest).last().and_then(|(id, _)| seq_of(id)) else {
            return Ok(());
        };
        let min_id = oldest_kept.min(acked_up_to + 1);
        let _: Value = pool
            .xtrim(&key, ("MINID", "~", format!("{min_id}-0")))
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[async_trait]
impl ChatLog for RedisChatStream {
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
                .map_err(classify)?;
            self.known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(chat);
        }
        let in_one_step = !self.redis.is_clustered();
        let fields = encode_event(&draft.clone().into_event(chat, EventSeq(0)));
        let lane_log = self.lane_log_key(self.lane_of(chat));
        let mut keys = vec![stream.clone(), mark.clone().unwrap_or(stream), lane_log];
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
                chat.get().to_string(),
                self.lane_bound.to_string(),
            ];
            for (k, v) in &fields {
                args.push(k.clone());
                args.push(v.clone());
            }
            let reply: Vec<String> = APPEND.run(&self.redis, keys.clone(), args).await?;
            let number = |i: usize| reply.get(i).and_then(|p| p.parse().ok()).unwrap_or(0);
            match reply.first().map(String::as_str) {
                Some("ok") => {
                    if queue_for_persisters && !queued_here {
                        let _: Value = self
                            .redis
                            .pool()
                            .rpush(self.dirty_key(), chat.get().to_string())
                            .await
                            .map_err(classify)?;
                    }
                    return Ok(Appended::New(draft.into_event(chat, EventSeq(number(1)))));
                }
                Some("dup") => return Ok(Appended::Duplicate(EventSeq(number(1)))),
                Some("lost") => self.seed_counter().await?,
                // Another writer got a higher position in first: take a new one.
                _ => continue,
            }
        }
        Err(StoreError::unavailable_msg(
            "could not append: too much contention",
        ))
    }

    async fn head(&self, chat: ChatId) -> Result<EventSeq, StoreError> {
        self.newest_seq(self.stream_key(chat)).await
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

    async fn drop_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chat);
        let pool = self.redis.pool();
        let _: Value = pool
            .del(vec![self.stream_key(chat), self.lock_key(chat)])
            .await
            .map_err(classify)?;
        let _: Value = pool
            .srem(self.chats_key(), chat.get().to_string())
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[async_trait]
impl LaneLog for RedisChatStream {
    async fn read_lane(
        &self,
        lane: usize,
        after: EventSeq,
        limit: usize,
        block: Option<Duration>,
    ) -> Result<LanePage, StoreError> {
        let key = self.lane_log_key(lane);
        let reply: Value = LANE_READ
            .run(
                &self.redis,
                vec![key.clone()],
                vec![after.get().to_string(), limit.to_string()],
            )
            .await?;
        let Value::Array(mut parts) = reply else {
            return Err(StoreError::internal_msg("the lane read answered no list"));
        };
        if parts.len() != 2 {
            return Err(StoreError::internal_msg(
                "the lane read answered a list of another size",
            ));
        }
        let found = entries(parts.pop().unwrap_or(Value::Null));
        let gap = parts.first().and_then(Value::as_i64) == Some(1);
        let found = match block {
            // Waiting returns at the first new entry, so no trim passes it meanwhile, unless
            // more than the log's bound arrived in the round trip since the script. A reader
            // told of a gap starts again elsewhere: it is not kept waiting here.
            Some(_) if found.is_empty() && !gap => self
                .redis
                .xread_streams(vec![key], vec![format!("{}-0", after.get())], limit, block)
                .await?
                .into_iter()
                .flat_map(|(_, list)| list)
                .collect(),
            _ => found,
        };
        Ok(LanePage {
            last: found.last().and_then(|(id, _)| seq_of(id)).map(EventSeq),
            events: found
                .iter()
                .filter_map(|e| self.decode_lane_entry(e))
                .collect(),
            gap,
        })
    }

    async fn lane_head(&self, lane: usize) -> Result<EventSeq, StoreError> {
        self.newest_seq(self.lane_log_key(lane)).await
    }

    fn lanes(&self) -> usize {
        self.redis.read_lanes()
    }

    fn lane_of(&self, chat: ChatId) -> usize {
        self.redis.read_lane(chat.get())
    }
}

#[async_trait]
impl PersistQueue for RedisChatStream {
    async fn claim(
        &self,
        consumer: &str,
        max: usize,
        block: Option<Duration>,
    ) -> Result<Vec<ChatEvent>, StoreError> {
        let pool = self.redis.pool();
        let mut chats: Vec<String> = pool
            .lpop::<Option<Vec<String>>, _>(self.dirty_key(), Some(64))
            .await
            .map_err(classify)?
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
                Err(e) => return Err(classify(e)),
            };
            drop(client);
            let Some((_, chat)) = popped else {
                return Ok(Vec::new());
            };
            chats.push(chat);
            let more: Option<Vec<String>> = pool
                .lpop(self.dirty_key(), Some(63))
                .await
                .map_err(classify)?;
            chats.extend(more.unwrap_or_default());
        }
        let mut seen = HashSet::new();
        let chats: Vec<ChatId> = chats
            .iter()
            .filter_map(|c| c.parse().ok().map(ChatId))
            .filter(|c| seen.insert(*c))
            .collect();
        // Every chat at once, in one round trip per hash slot.
        let per_chat = (max / chats.len().max(1)).max(16);
        let mut out = Vec::new();
        let mut busy = Vec::new();
        let mut acks = Vec::new();
        for (chat, taken) in self.take(consumer, chats, per_chat).await? {
            let Some(entries) = taken else {
                // Another persister has it, or has older entries of it pending: try later.
                busy.push(chat);
                continue;
            };
            let mut ephemeral = Vec::new();
            let mut work = Vec::new();
            for entry in &entries {
                match self.decode(chat, entry) {
                    Some(e) if e.kind.is_persisted() => work.push(e),
                    _ => ephemeral.push(entry.0.clone()),
                }
            }
            if entries.len() >= per_chat {
                busy.push(chat); // there may be more
            }
            // With work, the lock stays until the work is committed and acknowledged.
            let release = work.is_empty().then(|| consumer.to_owned());
            if !ephemeral.is_empty() {
                let top = ephemeral.iter().filter_map(|id| seq_of(id)).max();
                acks.push(ChatAck {
                    chat,
                    ids: ephemeral,
                    top: top.unwrap_or(0),
                    release,
                });
            }
            out.extend(work);
        }
        self.ack(acks).await?;
        self.requeue(&busy).await?;
        if out.is_empty() && !busy.is_empty() {
            // Only chats others hold: give them a moment rather than spin on the list.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        out.sort_by_key(|e| (e.chat_id, e.seq));
        Ok(out)
    }

    async fn ack(&self, consumer: &str, events: &[(ChatId, EventSeq)]) -> Result<(), StoreError> {
        let mut by_chat: BTreeMap<ChatId, (Vec<String>, i64)> = BTreeMap::new();
        for (chat, seq) in events {
            let e = by_chat.entry(*chat).or_insert((Vec::new(), 0));
            e.0.push(format!("{}-0", seq.get()));
            e.1 = e.1.max(seq.get());
        }
        // New entries of these chats queued themselves when appended: no re-queue needed.
        let acks = by_chat
            .into_iter()
            .map(|(chat, (ids, top))| ChatAck {
                chat,
                ids,
                top,
                release: Some(consumer.to_owned()),
            })
            .collect();
        self.ack(acks).await
    }

    async fn sweep(&self) -> Result<PersistBacklog, StoreError> {
        self.raise_counter().await?;
        let pool = self.redis.pool();
        let chats: Vec<String> = pool.smembers(self.chats_key()).await.map_err(classify)?;
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

    async fn stream() -> RedisChatStream {
        RedisChatStream::new(crate::redis::test_redis().await, Arc::new(NoFloor))
    }

    messenger_core::chat_log_contract!(stream().await);
    messenger_core::lane_log_contract!(stream().await);
    messenger_core::persist_queue_contract!(stream().await);

    #[tokio::test]
    async fn a_reader_behind_the_lane_logs_bound_is_told_of_the_gap() {
        let stream = RedisChatStream::new(crate::redis::test_redis().await, Arc::new(NoFloor))
            .with_lane_bound(10);
        messenger_core::testing::lane_log::a_reader_behind_the_lane_logs_bound_is_told_of_the_gap(
            &stream,
        )
        .await;
    }
}
