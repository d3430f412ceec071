//! The two hub sources: chat streams (events turned into ready-to-send frames, serialised once
//! for every recipient) and user feeds.

use super::hub::{LaneRead, LaneSource, Source};
use crate::metrics::Metrics;
use crate::protocol::frames::ServerFrame;
use async_trait::async_trait;
use messenger_core::ports::{ChatLog, LaneLog, UserFeed};
use messenger_core::services::PresenceService;
use messenger_core::{ChatEvent, ChatEventKind, ChatId, CoreError, EventSeq, FeedEntry, UserId};
use std::collections::HashMap;
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

/// Reads chats' logs and read lanes for the hub.
pub struct ChatSource {
    log: Arc<dyn ChatLog>,
    lanes: Arc<dyn LaneLog>,
    presence: Arc<PresenceService>,
    metrics: Arc<Metrics>,
}

impl ChatSource {
    /// A source over `log` and its `lanes`; presence frames carry the online set read from
    /// `presence`.
    pub fn new(
        log: Arc<dyn ChatLog>,
        lanes: Arc<dyn LaneLog>,
        presence: Arc<PresenceService>,
        metrics: Arc<Metrics>,
    ) -> Self {
        ChatSource {
            log,
            lanes,
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

    /// The event's delivery. A presence event carries the chat's online set as it is now, so
    /// every presence event of a chat in one read gets the same frame: `presence_frames` keeps
    /// it, and the set is read once per chat and read, not once per event (a socket catching
    /// up on a long run of comings and goings would otherwise wait for a round trip each).
    async fn deliver(
        &self,
        event: ChatEvent,
        presence_frames: &mut HashMap<ChatId, (Arc<str>, &'static str)>,
    ) -> Result<Delivery, CoreError> {
        let for_feed = !matches!(
            event.kind,
            ChatEventKind::Typing { .. } | ChatEventKind::PresenceChanged
        );
        let (frame, frame_type) = match ServerFrame::from_event(&event) {
            Some(frame) => (frame.to_json(), frame.type_name()),
            None => match presence_frames.get(&event.chat_id) {
                Some(known) => known.clone(),
                None => {
                    let online = self.presence.online_in_chat(event.chat_id).await?;
                    let frame = ServerFrame::Presence {
                        online: online.into_iter().map(UserId::get).collect(),
                    };
                    let made = (frame.to_json(), frame.type_name());
                    presence_frames.insert(event.chat_id, made.clone());
                    made
                }
            },
        };
        Ok(Delivery {
            event,
            frame,
            frame_type,
            for_feed,
        })
    }

    /// Every event's delivery, keyed by chat and position for the hub.
    async fn deliveries(
        &self,
        events: Vec<ChatEvent>,
    ) -> Result<Vec<(ChatId, i64, Arc<Delivery>)>, CoreError> {
        let mut out = Vec::with_capacity(events.len());
        let mut presence_frames = HashMap::new();
        for event in events {
            let (chat, seq) = (event.chat_id, event.seq.0);
            self.observe_lag(&event);
            let delivery = self.deliver(event, &mut presence_frames).await?;
            out.push((chat, seq, Arc::new(delivery)));
        }
        Ok(out)
    }
}

#[async_trait]
impl LaneSource<ChatId, Arc<Delivery>> for ChatSource {
    async fn head(&self, lane: usize) -> Result<i64, CoreError> {
        Ok(self.lanes.lane_head(lane).await?.get())
    }

    async fn read(
        &self,
        lane: usize,
        after: i64,
        limit: usize,
        block: Option<Duration>,
        wanted: &(dyn Fn(ChatId) -> bool + Send + Sync),
    ) -> Result<LaneRead<ChatId, Arc<Delivery>>, CoreError> {
        let page = self
            .lanes
            .read_lane(lane, EventSeq(after), limit, block)
            .await?;
        let last = page.last.map(EventSeq::get);
        let mut events = page.events;
        events.retain(|e| wanted(e.chat_id));
        Ok(LaneRead {
            items: self.deliveries(events).await?,
            last,
            gap: page.gap,
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
        let events = self.log.read_after(&cursors, limit, block).await?;
        self.deliveries(events).await
    }

    fn lane_log(&self) -> Option<&dyn LaneSource<ChatId, Arc<Delivery>>> {
        Some(self)
    }

    fn lanes(&self) -> usize {
        self.lanes.lanes()
    }

    fn lane(&self, chat: &ChatId) -> usize {
        self.lanes.lane_of(*chat)
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

#[cfg(test)]
mod tests {
    use super::*;
    use messenger_core::ports::MockPresence;
    use messenger_core::{EventDraft, Message, MessageId, Timestamp};

    fn presence_changed() -> EventDraft {
        EventDraft {
            origin: None,
            kind: ChatEventKind::PresenceChanged,
        }
    }

    #[tokio::test]
    async fn a_run_of_presence_events_reads_the_online_set_once_per_chat() {
        let mut ports = messenger_adapters::memory::in_memory_ports(b"secret");
        let mut presence = MockPresence::new();
        presence
            .expect_online_in_chat()
            .times(2) // chats 1 and 2, whatever the number of their presence events
            .returning(|chat| Ok(vec![UserId(chat.get() * 10)]));
        ports.presence = Arc::new(presence);
        let stream = ports.log.clone();
        for _ in 0..50 {
            stream.append(ChatId(1), presence_changed()).await.unwrap();
        }
        let message = Message {
            id: MessageId(0),
            chat_id: ChatId(1),
            author_id: UserId(10),
            text: "hi".into(),
            created_at: Timestamp::from_unix_millis(0),
            edited_at: None,
        };
        let created = EventDraft {
            origin: None,
            kind: ChatEventKind::MessageCreated {
                message,
                client_id: None,
            },
        };
        stream.append(ChatId(1), created).await.unwrap();
        stream.append(ChatId(2), presence_changed()).await.unwrap();
        let source = ChatSource::new(
            stream,
            ports.lanes.clone(),
            Arc::new(PresenceService::new(&ports)),
            Arc::new(Metrics::default()),
        );

        let read = Source::read(&source, &[(ChatId(1), 0), (ChatId(2), 0)], 256, None)
            .await
            .unwrap();

        let frames = |chat: i64| -> Vec<(&str, &str)> {
            read.iter()
                .filter(|(c, _, _)| *c == ChatId(chat))
                .map(|(_, _, d)| (d.frame_type, &*d.frame))
                .collect()
        };
        let chat_1 = frames(1);
        assert_eq!(chat_1.len(), 51);
        assert!(chat_1[..50]
            .iter()
            .all(|f| *f == ("presence", r#"{"type":"presence","online":[10]}"#)));
        assert_eq!(chat_1[50].0, "MessageCreated");
        assert_eq!(
            frames(2),
            vec![("presence", r#"{"type":"presence","online":[20]}"#)]
        );
    }
}
