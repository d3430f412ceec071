//! One subscription per topic (a chat's stream, a user's feed) per node, shared by every local
//! connection that wants it. A fixed number of reader tasks (shards) each read all their
//! topics in one blocking call, so the node's connections to the backing store do not grow
//! with the number of sockets or chats; each item (already serialised, behind an `Arc`) goes to
//! every subscriber's bounded queue. A source whose blocking reads must keep to one lane (a
//! Redis Cluster waits within one hash slot) gets a reader per lane. A source that keeps a log
//! per lane of all its topics' items ([`LaneSource`]) is followed through that log: one key per
//! blocking read, whatever the number of topics, and each topic read on its own only to catch
//! it up when it joins (see `lane.rs`).

mod lane;
#[cfg(test)]
mod tests;

use async_trait::async_trait;
use messenger_core::{ConnId, CoreError};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a reader blocks before it looks again at its set of topics (so also the longest a
/// newly subscribed topic waits to join the reads).
const READ_BLOCK: Duration = Duration::from_millis(200);
/// Most items fetched per topic in one read.
const READ_BATCH: usize = 256;

/// Where a hub's items come from.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    /// The topic: a chat, a user.
    type Key: Copy + Eq + Hash + Debug + Send + Sync + 'static;
    /// What subscribers get (cheap to clone).
    type Item: Clone + Send + Sync + 'static;
    /// Items after each cursor `(topic, position)`, in order per topic, with their topics
    /// and positions; waits up to `block` when there are none.
    async fn read(
        &self,
        cursors: &[(Self::Key, i64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<(Self::Key, i64, Self::Item)>, CoreError>;

    /// The source's per-lane log of every topic's items, if it keeps one.
    fn lane_log(&self) -> Option<&dyn LaneSource<Self::Key, Self::Item>> {
        None
    }

    /// How many lanes a blocking read must keep within (1: any topics together).
    fn lanes(&self) -> usize {
        1
    }

    /// The lane of `key`, below [`Source::lanes`].
    fn lane(&self, _key: &Self::Key) -> usize {
        0
    }
}

/// What a read of a lane's log found.
pub struct LaneRead<K, T> {
    /// The items of the topics the reader wanted, in position order.
    pub items: Vec<(K, i64, T)>,
    /// The position of the last entry read, wanted (or even readable) or not (`None`:
    /// nothing new).
    pub last: Option<i64>,
    /// Whether entries after the reader's position were dropped from the log before the read
    /// (it is bounded), or the log is newer than that position: the reader must read its
    /// topics on their own to fill the gap, and start again from the log's head.
    pub gap: bool,
}

/// A log per lane of every topic's items, in one order of positions for the lane.
#[async_trait]
pub trait LaneSource<K, T>: Send + Sync {
    /// The position of the newest entry of `lane`'s log (0 when empty).
    async fn head(&self, lane: usize) -> Result<i64, CoreError>;

    /// Entries of `lane`'s log after `after`, up to `limit`, made into items only for the
    /// topics `wanted` (no one here reads the others); waits up to `block` when there are none.
    async fn read(
        &self,
        lane: usize,
        after: i64,
        limit: usize,
        block: Option<Duration>,
        wanted: &(dyn Fn(K) -> bool + Send + Sync),
    ) -> Result<LaneRead<K, T>, CoreError>;
}

/// A subscriber's end: a bounded queue, and a flag raised if it overflowed and was dropped.
pub struct Sink<T> {
    tx: mpsc::Sender<T>,
    overflowed: Arc<AtomicBool>,
}

impl<T> Clone for Sink<T> {
    fn clone(&self) -> Self {
        Sink {
            tx: self.tx.clone(),
            overflowed: self.overflowed.clone(),
        }
    }
}

impl<T> Sink<T> {
    /// A queue of `capacity` items, its receiving end, and the overflow flag.
    pub fn bounded(capacity: usize) -> (Self, mpsc::Receiver<T>, Arc<AtomicBool>) {
        let (tx, rx) = mpsc::channel(capacity);
        let overflowed = Arc::new(AtomicBool::new(false));
        (
            Sink {
                tx,
                overflowed: overflowed.clone(),
            },
            rx,
            overflowed,
        )
    }

    /// Hands over an item without waiting; `false` if the subscriber is gone or too slow.
    fn offer(&self, item: T) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.overflowed.store(true, Ordering::Release);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

struct Topic<T> {
    /// Tells this topic from one of the same key dropped and created again while a read was
    /// on its way (whose subscribers may stand further back).
    id: u64,
    /// Position of the last item handed to subscribers.
    cursor: i64,
    subscribers: HashMap<ConnId, Sink<T>>,
    /// Whether the topic joined after its lane's log was read past `cursor` (a reader of the
    /// lane's log then reads the topic on its own once).
    behind: bool,
}

impl<T: Clone> Topic<T> {
    /// Hands over an item after the cursor; drops subscribers that are gone or too slow.
    fn deliver(&mut self, pos: i64, item: &T) {
        if pos <= self.cursor {
            return;
        }
        self.cursor = pos;
        self.subscribers.retain(|_, sink| sink.offer(item.clone()));
    }
}

/// The topics of one shard, by key.
type Topics<S> = HashMap<<S as Source>::Key, Topic<<S as Source>::Item>>;

struct Shard<S: Source> {
    topics: Mutex<Topics<S>>,
    /// Rung when a topic is added, to wake a reader that had no topics.
    added: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Shared subscriptions to the topics of one [`Source`].
pub struct Hub<S: Source> {
    source: Arc<S>,
    shards: Vec<Shard<S>>,
    /// Whether shards are the source's lanes (else topics are spread by hash).
    by_lane: bool,
}

impl<S: Source> Hub<S> {
    /// A hub with `readers` reader tasks (or one per lane of a source with lanes or a lane
    /// log), which stop when `shutdown` is cancelled.
    pub fn new(
        source: Arc<S>,
        readers: usize,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Arc<Self> {
        let lanes = source.lanes();
        let by_lane = lanes > 1 || source.lane_log().is_some();
        let readers = if by_lane { lanes } else { readers.max(1) };
        let shards = (0..readers)
            .map(|_| Shard {
                topics: Mutex::new(HashMap::new()),
                added: Notify::new(),
            })
            .collect();
        let hub = Arc::new(Hub {
            source,
            shards,
            by_lane,
        });
        for i in 0..hub.shards.len() {
            let hub = hub.clone();
            let stop = shutdown.clone();
            tracker.spawn(async move {
                match hub.source.lane_log() {
                    Some(log) => hub.follow_lane(i, log, stop).await,
                    None => hub.read_loop(i, stop).await,
                }
            });
        }
        hub
    }

    fn shard(&self, key: &S::Key) -> &Shard<S> {
        let index = if self.by_lane {
            self.source.lane(key)
        } else {
            let mut h = DefaultHasher::new();
            key.hash(&mut h);
            h.finish() as usize
        };
        &self.shards[index % self.shards.len()]
    }

    /// Subscribes `conn` to `key`. If no one on this node listened yet, the topic is read from
    /// position `from`. Returns the position from which items arrive in the sink (items after
    /// it); items between `from` and that position are the caller's to fetch with
    /// [`Hub::catch_up`], and items at or before `from` are the caller's to skip.
    pub fn subscribe(&self, key: S::Key, conn: ConnId, sink: Sink<S::Item>, from: i64) -> i64 {
        let shard = self.shard(&key);
        let mut topics = lock(&shard.topics);
        if let Some(topic) = topics.get_mut(&key) {
            topic.subscribers.insert(conn, sink);
            return topic.cursor;
        }
        topics.insert(
            key,
            Topic {
                id: NEXT_TOPIC_ID.fetch_add(1, Ordering::Relaxed),
                cursor: from,
                subscribers: HashMap::from([(conn, sink)]),
                behind: true,
            },
        );
        shard.added.notify_one();
        from
    }

    /// Stops delivering `key` to `conn`; the topic is dropped when no one listens.
    pub fn unsubscribe(&self, key: S::Key, conn: ConnId) {
        let mut topics = lock(&self.shard(&key).topics);
        if let Some(topic) = topics.get_mut(&key) {
            topic.subscribers.remove(&conn);
            if topic.subscribers.is_empty() {
                topics.remove(&key);
            }
        }
    }

    /// Items of `key` in `(from, upto]`, read straight from the source.
    pub async fn catch_up(
        &self,
        key: S::Key,
        from: i64,
        upto: i64,
    ) -> Result<Vec<S::Item>, CoreError> {
        let mut out = Vec::new();
        let mut cursor = from;
        while cursor < upto {
            let batch = self.source.read(&[(key, cursor)], READ_BATCH, None).await?;
            let Some((_, last, _)) = batch.last() else {
                break;
            };
            cursor = *last;
            out.extend(
                batch
                    .into_iter()
                    .filter(|(_, pos, _)| *pos <= upto)
                    .map(|(_, _, item)| item),
            );
        }
        Ok(out)
    }

    /// How many topics this node reads now.
    pub fn active_topics(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.topics).len()).sum()
    }

    async fn read_loop(&self, index: usize, stop: CancellationToken) {
        let shard = &self.shards[index];
        loop {
            let (cursors, read_for) = snapshot(&lock(&shard.topics), |_| true);
            if cursors.is_empty() {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = shard.added.notified() => continue,
                }
            }
            // A read is never abandoned half-way (a blocking command abandoned on a shared
            // connection would hold it until its timeout); topics added meanwhile join the next
            // read, at most READ_BLOCK later, and their subscribers catch up from the stream.
            let read = tokio::select! {
                _ = stop.cancelled() => return,
                read = self.source.read(&cursors, READ_BATCH, Some(READ_BLOCK)) => read,
            };
            match read {
                Ok(items) => {
                    deliver(&mut lock(&shard.topics), items, Accept::Snapshot(&read_for));
                }
                Err(err) => {
                    if !retry_later("topic read", err, &stop).await {
                        return;
                    }
                }
            }
        }
    }
}

static NEXT_TOPIC_ID: AtomicU64 = AtomicU64::new(0);

/// Which topics a read's items may go to.
enum Accept<'a, K> {
    /// Those a lane's log serves: not still `behind` (their items up to now come from reading
    /// them on their own).
    CaughtUp,
    /// The very topics whose cursors the read started from (by [`Topic::id`]).
    Snapshot(&'a HashMap<K, u64>),
}

/// The cursors of the topics `pick` chooses, and which topics they were.
#[allow(clippy::type_complexity)]
fn snapshot<K: Copy + Eq + Hash, T>(
    topics: &HashMap<K, Topic<T>>,
    pick: impl Fn(&Topic<T>) -> bool,
) -> (Vec<(K, i64)>, HashMap<K, u64>) {
    topics
        .iter()
        .filter(|(_, t)| pick(t))
        .map(|(k, t)| ((*k, t.cursor), (*k, t.id)))
        .unzip()
}

/// Hands each item to its topic's subscribers if `accept`ed; forgets topics no one listens
/// to any more.
fn deliver<K: Eq + Hash, T: Clone>(
    topics: &mut HashMap<K, Topic<T>>,
    items: impl IntoIterator<Item = (K, i64, T)>,
    accept: Accept<'_, K>,
) {
    for (key, pos, item) in items {
        let Some(topic) = topics.get_mut(&key) else {
            continue;
        };
        let accepted = match &accept {
            Accept::CaughtUp => !topic.behind,
            Accept::Snapshot(ids) => ids.get(&key) == Some(&topic.id),
        };
        if accepted {
            topic.deliver(pos, &item);
        }
    }
    topics.retain(|_, t| !t.subscribers.is_empty());
}

/// Logs a failed read and waits before the next; `false` if the hub stops meanwhile.
async fn retry_later(what: &str, err: CoreError, stop: &CancellationToken) -> bool {
    tracing::warn!(error = %messenger_core::error::Chain(&err), "{what} failed; retrying");
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(Duration::from_millis(500)) => true,
    }
}
