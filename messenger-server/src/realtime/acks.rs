//! Routes the persister's commit notices to the local connection each change came from, and
//! to anyone waiting on a given event (a repeated `client_id` still in flight).

use async_trait::async_trait;
use messenger_core::ports::CommitNotifier;
use messenger_core::{ChatId, CommitNotice, ConnId, EventSeq, NodeId};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

/// Who waits on the commit of which event.
type Watchers = HashMap<(ChatId, EventSeq), Vec<oneshot::Sender<()>>>;

/// Commit notices for this node's connections.
pub struct AckHub {
    node: NodeId,
    /// Boxed: a channel allocates room for 32 items up front, and every socket has one.
    conns: Mutex<HashMap<ConnId, mpsc::UnboundedSender<Box<CommitNotice>>>>,
    watchers: Mutex<Watchers>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AckHub {
    /// The hub of node `node`.
    pub fn new(node: NodeId) -> Self {
        AckHub {
            node,
            conns: Mutex::new(HashMap::new()),
            watchers: Mutex::new(HashMap::new()),
        }
    }

    /// Starts routing notices for `conn`; they arrive on the returned receiver. One entry per
    /// in-flight change of that connection at most, so the queue is bounded by what the
    /// connection itself sent.
    pub fn register(&self, conn: ConnId) -> mpsc::UnboundedReceiver<Box<CommitNotice>> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.conns).insert(conn, tx);
        rx
    }

    /// Stops routing notices for `conn`.
    pub fn deregister(&self, conn: ConnId) {
        lock(&self.conns).remove(&conn);
    }

    /// Fires once the event at `(chat, seq)` has been committed (or refused) by a persister.
    /// Register before checking the store, so that a commit in between is not missed.
    pub fn watch(&self, chat: ChatId, seq: EventSeq) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        lock(&self.watchers)
            .entry((chat, seq))
            .or_default()
            .push(tx);
        rx
    }

    /// Drops watchers nobody waits on any more.
    pub fn forget_watch(&self, chat: ChatId, seq: EventSeq) {
        let mut watchers = lock(&self.watchers);
        if let Some(list) = watchers.get_mut(&(chat, seq)) {
            list.retain(|tx| !tx.is_closed());
            if list.is_empty() {
                watchers.remove(&(chat, seq));
            }
        }
    }
}

#[async_trait]
impl CommitNotifier for AckHub {
    async fn committed(&self, notices: Vec<CommitNotice>) {
        {
            let mut watchers = lock(&self.watchers);
            if !watchers.is_empty() {
                for n in &notices {
                    for tx in watchers.remove(&(n.chat_id, n.seq)).into_iter().flatten() {
                        let _ = tx.send(());
                    }
                }
            }
        }
        let conns = lock(&self.conns);
        for notice in notices {
            let Some(origin) = &notice.origin else {
                continue;
            };
            if origin.node != self.node {
                continue;
            }
            if let Some(tx) = conns.get(&origin.conn) {
                let _ = tx.send(Box::new(notice));
            }
        }
    }
}
