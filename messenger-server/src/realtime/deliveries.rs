//! The two hub sources: chat streams (events turned into ready-to-send frames, serialised once
//! for every recipient) and user feeds.

use super::hub::Source;
use crate::metrics::Metrics;
use crate::ws::frames::ServerFrame;
use async_trait::async_trait;
use messenger_core::ports::{ChatStream, UserFeed};
use messenger_core::services::PresenceService;
use messenger_core::{ChatEvent, ChatEventKind, ChatId, CoreError, EventSeq, FeedEntry, UserId};
use std::sync::Arc;
use std::time::Duration;

/// A chat event as every local connection gets it.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub event: ChatEvent,
    /// The frame for every connection except the origin (which gets an `ack` instead).
    pub frame: Arc<str>,
    /// The frame's `type` (for metrics).
    pub frame_type: &'static str,
    /// Whether `/events` feeds carry it too (message events and read receipts do; typing and
    /// presence are for `/chat/{id}` sockets only).
    pub for_feed: bool,
}

/// Reads chat streams for the hub.
pub struct ChatSource {
    stream: Arc<dyn ChatStream>,
    presence: Arc<PresenceService>,
    metrics: Arc<Metrics>,
}

impl ChatSource {
    /// A source over `stream`; presence frames carry the online set read from `presence`.
    pub fn new(
        stream: Arc<dyn ChatStream>,
        presence: Arc<PresenceService>,
        metrics: Arc<Metrics>,
    ) -> Self {
        ChatSource {
            stream,
            presence,
            metrics,
        }
    }

    /// How long ago a created message entered the stream (its clock is the appending node's).
    fn observe_lag(&self, event: &ChatEvent) {
        if let ChatEventKind::MessageCreated { message, .. } = &event.kind {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let lag_ms = (now - message.created_at.unix_millis()).max(0);
            self.metrics.stream_lag.observe(lag_ms as f64 / 1000.0);
        }
    }

    async fn deliver(&self, event: ChatEvent) -> Result<Delivery, CoreError> {
        let for_feed = !matches!(
            event.kind,
            ChatEventKind::Typing { .. } | ChatEventKind::PresenceChanged
        );
        let frame = match ServerFrame::from_event(&event) {
            Some(frame) => frame,
            None => ServerFrame::Presence {
                online: self
                    .presence
                    .online_in_chat(event.chat_id)
                    .await?
                    .into_iter()
                    .map(UserId::get)
                    .collect(),
            },
        };
        Ok(Delivery {
            event,
            frame: frame.to_json(),
            frame_type: frame.type_name(),
            for_feed,
        })
    }
}

#[async_trait]
impl Source for ChatSource {
    type Key = ChatId;
    type Item = Arc<Delivery>;

    async fn read(
        &self,
        cursors: &[(ChatId, i64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<(ChatId, i64, Arc<Delivery>)>, CoreError> {
        let cursors: Vec<(ChatId, EventSeq)> =
            cursors.iter().map(|(c, p)| (*c, EventSeq(*p))).collect();
        let events = self.stream.read_after(&cursors, limit, block).await?;
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            let (chat, seq) = (event.chat_id, event.seq.0);
            self.observe_lag(&event);
            out.push((chat, seq, Arc::new(self.deliver(event).await?)));
        }
        Ok(out)
    }

    fn lanes(&self) -> usize {
        self.stream.read_lanes()
    }

    fn lane(&self, chat: &ChatId) -> usize {
        self.stream.read_lane(*chat)
    }
}

/// Reads user feeds for the hub.
pub struct FeedSource {
    feed: Arc<dyn UserFeed>,
}

impl FeedSource {
    /// A source over `feed`.
    pub fn new(feed: Arc<dyn UserFeed>) -> Self {
        FeedSource { feed }
    }
}

#[async_trait]
impl Source for FeedSource {
    type Key = UserId;
    type Item = Arc<FeedEntry>;

    async fn read(
        &self,
        cursors: &[(UserId, i64)],
        limit: usize,
        block: Option<Duration>,
    ) -> Result<Vec<(UserId, i64, Arc<FeedEntry>)>, CoreError> {
        let cursors: Vec<(UserId, u64)> = cursors
            .iter()
            .map(|(u, p)| (*u, u64::try_from(*p).unwrap_or(0)))
            .collect();
        let entries = self.feed.read_after(&cursors, limit, block).await?;
        Ok(entries
            .into_iter()
            .map(|e| {
                (
                    e.user_id,
                    i64::try_from(e.seq).unwrap_or(i64::MAX),
                    Arc::new(e),
                )
            })
            .collect())
    }

    fn lanes(&self) -> usize {
        self.feed.read_lanes()
    }

    fn lane(&self, user: &UserId) -> usize {
        self.feed.read_lane(*user)
    }
}
