//! One subscription per topic (a chat's stream, a user's feed) per node, shared by every local
//! connection that wants it: one reader task reads the topic once and hands each item (already
//! serialised, behind an `Arc`) to every subscriber's bounded queue.

use async_trait::async_trait;
use messenger_core::{ConnId, CoreError};
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a reader blocks before it looks again at whether anyone still listens.
const READ_BLOCK: Duration = Duration::from_secs(5);
/// Most items fetched in one read.
const READ_BATCH: usize = 512;

/// Where a hub's items come from.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    /// The topic: a chat, a user.
    type Key: Copy + Eq + Hash + Debug + Send + Sync + 'static;
    /// What subscribers get (cheap to clone).
    type Item: Clone + Send + Sync + 'static;
    /// Items of `key` after position `after`, in order, with their positions; waits up to
    /// `block` when there are none.
    async fn read(
        &self,
        key: Self::Key,
        after: i64,
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<(i64, Self::Item)>, CoreError>;
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

struct TopicState<T> {
    /// Position of the last item handed to subscribers.
    cursor: i64,
    subscribers: HashMap<ConnId, Sink<T>>,
    closed: bool,
}

struct Topic<T> {
    state: Mutex<TopicState<T>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The topics read now, by key.
type Topics<S> = HashMap<<S as Source>::Key, Arc<Topic<<S as Source>::Item>>>;

/// Shared subscriptions to the topics of one [`Source`].
pub struct Hub<S: Source> {
    source: Arc<S>,
    topics: Mutex<Topics<S>>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl<S: Source> Hub<S> {
    /// A hub whose reader tasks stop when `shutdown` is cancelled.
    pub fn new(source: Arc<S>, shutdown: CancellationToken, tracker: TaskTracker) -> Arc<Self> {
        Arc::new(Hub {
            source,
            topics: Mutex::new(HashMap::new()),
            shutdown,
            tracker,
        })
    }

    /// Subscribes `conn` to `key`. If no one on this node listened yet, the topic is read from
    /// position `from`. Returns the position from which items arrive in the sink (items after
    /// it); items between `from` and that position are the caller's to fetch with
    /// [`Hub::catch_up`], and items at or before `from` are the caller's to skip.
    pub fn subscribe(
        self: &Arc<Self>,
        key: S::Key,
        conn: ConnId,
        sink: Sink<S::Item>,
        from: i64,
    ) -> i64 {
        let mut topics = lock(&self.topics);
        if let Some(topic) = topics.get(&key) {
            let mut st = lock(&topic.state);
            if !st.closed {
                st.subscribers.insert(conn, sink);
                return st.cursor;
            }
        }
        let topic = Arc::new(Topic {
            state: Mutex::new(TopicState {
                cursor: from,
                subscribers: HashMap::from([(conn, sink)]),
                closed: false,
            }),
        });
        topics.insert(key, topic.clone());
        let hub = self.clone();
        self.tracker
            .spawn(async move { hub.read_loop(key, topic).await });
        from
    }

    /// Stops delivering `key` to `conn`.
    pub fn unsubscribe(&self, key: S::Key, conn: ConnId) {
        let topics = lock(&self.topics);
        if let Some(topic) = topics.get(&key) {
            lock(&topic.state).subscribers.remove(&conn);
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
            let batch = self.source.read(key, cursor, READ_BATCH, None).await?;
            let Some((last, _)) = batch.last() else { break };
            cursor = *last;
            out.extend(
                batch
                    .into_iter()
                    .filter(|(pos, _)| *pos <= upto)
                    .map(|(_, item)| item),
            );
        }
        Ok(out)
    }

    /// How many topics this node reads now.
    pub fn active_topics(&self) -> usize {
        lock(&self.topics).len()
    }

    async fn read_loop(self: Arc<Self>, key: S::Key, topic: Arc<Topic<S::Item>>) {
        loop {
            let cursor = lock(&topic.state).cursor;
            let read = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                read = self.source.read(key, cursor, READ_BATCH, Some(READ_BLOCK)) => read,
            };
            match read {
                Ok(items) => {
                    let mut st = lock(&topic.state);
                    for (pos, item) in items {
                        if pos <= st.cursor {
                            continue;
                        }
                        st.cursor = pos;
                        st.subscribers.retain(|_, sink| sink.offer(item.clone()));
                    }
                }
                Err(err) => {
                    tracing::warn!(?key, error = %err, "topic read failed; retrying");
                    tokio::select! {
                        _ = self.shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
            let mut topics = lock(&self.topics);
            let mut st = lock(&topic.state);
            if st.subscribers.is_empty() {
                st.closed = true;
                topics.remove(&key);
                break;
            }
        }
        let mut st = lock(&topic.state);
        st.closed = true;
        st.subscribers.clear();
    }
}
