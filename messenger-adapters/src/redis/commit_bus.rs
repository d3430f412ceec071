//! Commit notices between nodes: a persister on any node may commit a change whose author is
//! connected to another node; the notice travels on that node's pub/sub channel.

use super::{classify, Redis};
use async_trait::async_trait;
use fred::prelude::*;
use fred::types::Value;
use messenger_core::ports::CommitNotifier;
use messenger_core::{
    ChatId, CommitNotice, CommitOutcome, ConnId, EventSeq, Message, MessageId, NodeId, Origin,
    StoreError, Timestamp, UserId,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Serialize, Deserialize)]
struct WireMessage {
    id: i64,
    chat: i64,
    author: i64,
    text: String,
    created_at: i64,
    edited_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct WireNotice {
    chat: i64,
    seq: i64,
    conn: u64,
    client_id: Option<String>,
    committed: Option<WireMessage>,
}

fn to_wire(n: &CommitNotice) -> Option<WireNotice> {
    let origin = n.origin.as_ref()?;
    Some(WireNotice {
        chat: n.chat_id.get(),
        seq: n.seq.get(),
        conn: origin.conn.0,
        client_id: n.client_id.clone(),
        committed: match &n.outcome {
            CommitOutcome::Committed(m) => Some(WireMessage {
                id: m.id.get(),
                chat: m.chat_id.get(),
                author: m.author_id.get(),
                text: m.text.clone(),
                created_at: m.created_at.unix_millis(),
                edited_at: m.edited_at.map(Timestamp::unix_millis),
            }),
            CommitOutcome::NotFound => None,
        },
    })
}

fn from_wire(node: &NodeId, w: WireNotice) -> CommitNotice {
    CommitNotice {
        chat_id: ChatId(w.chat),
        seq: EventSeq(w.seq),
        origin: Some(Origin {
            node: node.clone(),
            conn: ConnId(w.conn),
        }),
        client_id: w.client_id,
        outcome: match w.committed {
            Some(m) => CommitOutcome::Committed(Message {
                id: MessageId(m.id),
                chat_id: ChatId(m.chat),
                author_id: UserId(m.author),
                text: m.text,
                created_at: Timestamp::from_unix_millis(m.created_at),
                edited_at: m.edited_at.map(Timestamp::from_unix_millis),
            }),
            None => CommitOutcome::NotFound,
        },
    }
}

/// Routes notices: this node's go to `local`, others are published to their node's channel.
pub struct RedisCommitBus {
    redis: Arc<Redis>,
    node: NodeId,
    local: Arc<dyn CommitNotifier>,
}

impl RedisCommitBus {
    /// The bus of `node`, delivering its own notices to `local`.
    pub fn new(redis: Arc<Redis>, node: NodeId, local: Arc<dyn CommitNotifier>) -> Self {
        RedisCommitBus { redis, node, local }
    }

    fn channel(&self, node: &NodeId) -> String {
        self.redis.key(&format!("acks:{}", node.0))
    }

    /// Delivers notices published for this node to `local` until `stop` is cancelled.
    pub async fn listen(&self, url: &str, stop: CancellationToken) -> Result<(), StoreError> {
        let config = Config::from_url(url).map_err(classify)?;
        let subscriber = Builder::from_config(config)
            .set_policy(fred::types::config::ReconnectPolicy::new_constant(0, 250))
            .build_subscriber_client()
            .map_err(classify)?;
        subscriber.init().await.map_err(classify)?;
        let resubscriber = subscriber.manage_subscriptions();
        let mut messages = subscriber.message_rx();
        subscriber
            .subscribe(self.channel(&self.node))
            .await
            .map_err(classify)?;
        loop {
            let message = tokio::select! {
                _ = stop.cancelled() => break,
                m = messages.recv() => m,
            };
            let Ok(message) = message else {
                // Lagged: notices were dropped; their authors' HTTP waits time out into
                // `unavailable`, sockets recover with `?after=`.
                continue;
            };
            let Some(text) = message.value.clone().into_string() else {
                continue;
            };
            let Ok(wire) = serde_json::from_str::<Vec<WireNotice>>(&text) else {
                continue;
            };
            let notices = wire.into_iter().map(|w| from_wire(&self.node, w)).collect();
            self.local.committed(notices).await;
        }
        resubscriber.abort();
        let _ = subscriber.quit().await;
        Ok(())
    }
}

#[async_trait]
impl CommitNotifier for RedisCommitBus {
    async fn committed(&self, notices: Vec<CommitNotice>) {
        let mut remote: HashMap<NodeId, Vec<WireNotice>> = HashMap::new();
        for n in &notices {
            if let Some(origin) = &n.origin {
                if origin.node != self.node {
                    if let Some(w) = to_wire(n) {
                        remote.entry(origin.node.clone()).or_default().push(w);
                    }
                }
            }
        }
        for (node, wire) in remote {
            let Ok(payload) = serde_json::to_string(&wire) else {
                continue;
            };
            let sent: Result<Value, _> = self
                .redis
                .pool()
                .next()
                .publish(self.channel(&node), payload)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %messenger_core::error::Chain(&e), "commit notice not published");
            }
        }
        // Local connections, and anyone here waiting on one of these events.
        self.local.committed(notices).await;
    }
}
