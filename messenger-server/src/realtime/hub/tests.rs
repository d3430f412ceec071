//! The hub over a source with a lane log: topics that join late, topics dropped and created
//! again, and a log that dropped entries still get every item once, in order.

use super::*;
use std::collections::BTreeMap;

/// Topics are `u32`s and an item is its position. Every item stays readable per topic; the
/// lane's log has lost those at or below `dropped`.
#[derive(Default)]
struct FakeLog {
    items: Mutex<BTreeMap<i64, u32>>,
    dropped: Mutex<i64>,
    appended: Notify,
    /// Runs once, right after the next read of topics on their own found its answer.
    after_topic_read: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl FakeLog {
    fn append(&self, topic: u32, pos: i64) {
        lock(&self.items).insert(pos, topic);
        self.appended.notify_waiters();
    }

    /// Items that reach the topics' own reads but not the lane's log (it was trimmed).
    fn append_lost_from_log(&self, topic: u32, positions: &[i64]) {
        let mut items = lock(&self.items);
        for pos in positions {
            items.insert(*pos, topic);
        }
        *lock(&self.dropped) = *positions.iter().max().unwrap_or(&0);
    }
}

#[async_trait]
impl Source for FakeLog {
    type Key = u32;
    type Item = i64;

    async fn read(
        &self,
        cursors: &[(u32, i64)],
        limit: usize,
        _block: Option<Duration>,
    ) -> Result<Vec<(u32, i64, i64)>, CoreError> {
        let answer = {
            let items = lock(&self.items);
            cursors
                .iter()
                .flat_map(|(topic, cursor)| {
                    items
                        .range(cursor + 1..)
                        .filter(|(_, t)| *t == topic)
                        .take(limit)
                        .map(|(pos, t)| (*t, *pos, *pos))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let hook = lock(&self.after_topic_read).take();
        if let Some(hook) = hook {
            hook();
        }
        Ok(answer)
    }

    fn lane_log(&self) -> Option<&dyn LaneSource<u32, i64>> {
        Some(self)
    }
}

#[async_trait]
impl LaneSource<u32, i64> for FakeLog {
    async fn head(&self, _lane: usize) -> Result<i64, CoreError> {
        Ok(lock(&self.items).keys().next_back().copied().unwrap_or(0))
    }

    async fn read(
        &self,
        _lane: usize,
        after: i64,
        limit: usize,
        block: Option<Duration>,
        wanted: &(dyn Fn(u32) -> bool + Send + Sync),
    ) -> Result<LaneRead<u32, i64>, CoreError> {
        loop {
            let woken = self.appended.notified();
            {
                let dropped = *lock(&self.dropped);
                let items = lock(&self.items);
                let found: Vec<(i64, u32)> = items
                    .range(after.max(dropped) + 1..)
                    .take(limit)
                    .map(|(pos, topic)| (*pos, *topic))
                    .collect();
                if !found.is_empty() || block.is_none() || dropped > after {
                    return Ok(LaneRead {
                        last: found.last().map(|(pos, _)| *pos),
                        items: found
                            .into_iter()
                            .filter(|(_, topic)| wanted(*topic))
                            .map(|(pos, topic)| (topic, pos, pos))
                            .collect(),
                        gap: dropped > after,
                    });
                }
            }
            if tokio::time::timeout(READ_BLOCK, woken).await.is_err() {
                return Ok(LaneRead {
                    items: Vec::new(),
                    last: None,
                    gap: false,
                });
            }
        }
    }
}

struct Running {
    log: Arc<FakeLog>,
    hub: Arc<Hub<FakeLog>>,
    stop: CancellationToken,
}

impl Running {
    fn start() -> Self {
        let log = Arc::new(FakeLog::default());
        let stop = CancellationToken::new();
        let hub = Hub::new(log.clone(), 4, stop.clone(), TaskTracker::new());
        Running { log, hub, stop }
    }

    fn subscribe(&self, topic: u32, from: i64) -> mpsc::Receiver<i64> {
        subscribe(&self.hub, topic, ConnId(topic.into()), from)
    }

    fn after_next_topic_read(&self, hook: impl FnOnce() + Send + 'static) {
        *lock(&self.log.after_topic_read) = Some(Box::new(hook));
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn subscribe(hub: &Hub<FakeLog>, topic: u32, conn: ConnId, from: i64) -> mpsc::Receiver<i64> {
    let (sink, rx, _) = Sink::bounded(64);
    let live = hub.subscribe(topic, conn, sink, from);
    assert_eq!(
        live, from,
        "the topic is new: everything after `from` comes live"
    );
    rx
}

/// The next `n` items, failing rather than hanging if they never come.
async fn next(rx: &mut mpsc::Receiver<i64>, n: usize) -> Vec<i64> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(item)) => got.push(item),
            other => panic!("after {got:?}: {other:?}"),
        }
    }
    got
}

#[tokio::test]
async fn a_topic_joining_after_the_log_was_read_past_its_items_gets_them_then_the_rest_once() {
    let hub = Running::start();
    let mut a = hub.subscribe(1, 0);
    hub.log.append(1, 1);
    assert_eq!(next(&mut a, 1).await, [1]);
    hub.log.append(2, 2);
    hub.log.append(2, 3);
    hub.log.append(1, 4);
    // Topic 1's item 4 came through the log, so the reader is past topic 2's 2 and 3.
    assert_eq!(next(&mut a, 1).await, [4]);

    let mut b = hub.subscribe(2, 0);
    hub.log.append(2, 5);
    hub.log.append(2, 6);

    assert_eq!(next(&mut b, 4).await, [2, 3, 5, 6]);
    hub.log.append(1, 7);
    assert_eq!(next(&mut a, 1).await, [7]);
}

#[tokio::test]
async fn entries_the_log_dropped_before_the_reader_got_them_come_from_the_topics_reads() {
    let hub = Running::start();
    let mut a = hub.subscribe(1, 0);
    hub.log.append(1, 1);
    assert_eq!(next(&mut a, 1).await, [1]);

    hub.log.append_lost_from_log(1, &[2, 3]);
    hub.log.append(1, 4);

    assert_eq!(next(&mut a, 3).await, [2, 3, 4]);
    hub.log.append(1, 5);
    assert_eq!(next(&mut a, 1).await, [5]);
}

#[tokio::test]
async fn an_item_appended_while_a_joining_topic_is_read_on_its_own_comes_through_the_log() {
    let hub = Running::start();
    hub.log.append(1, 1);
    // The log's position must be taken before the topic's own read: an item appended right
    // after that read is then still ahead of the reader in the log.
    let log = hub.log.clone();
    hub.after_next_topic_read(move || log.append(1, 2));

    let mut a = hub.subscribe(1, 0);

    assert_eq!(next(&mut a, 2).await, [1, 2]);
}

#[tokio::test]
async fn a_topic_dropped_and_created_again_during_its_read_gets_what_its_new_subscriber_lacks() {
    let hub = Running::start();
    for pos in 1..=3 {
        hub.log.append(1, pos);
    }
    let (again_tx, again_rx) = std::sync::mpsc::channel();
    let hub_again = hub.hub.clone();
    hub.after_next_topic_read(move || {
        // While the reader reads the topic from 2, its subscriber leaves and another one
        // comes, from 0.
        hub_again.unsubscribe(1, ConnId(1));
        let rx = subscribe(&hub_again, 1, ConnId(2), 0);
        again_tx.send(rx).expect("the test waits for it");
    });

    let _first = hub.subscribe(1, 2);
    let mut again = tokio::task::spawn_blocking(move || again_rx.recv())
        .await
        .expect("joined")
        .expect("the reader read the topic");

    assert_eq!(next(&mut again, 3).await, [1, 2, 3]);
}
