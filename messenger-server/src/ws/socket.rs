//! What both socket kinds share: writing frames, pings, close codes, and the loop's inputs.

use crate::metrics::{Kind, Metrics};
use crate::protocol::close::CLOSE_SLOW;
use crate::protocol::frames::ServerFrame;
use crate::state::AppState;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use messenger_core::ports::SocketKey;
use messenger_core::{ChatId, CoreError};
use poem::web::websocket::{CloseCode, Message, WebSocketStream};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// Bound of a socket's queue of chat events (a socket further behind is closed, code 4008).
pub const EVENT_QUEUE: usize = 1024;
/// Bound of a socket's queue of feed entries.
pub const FEED_QUEUE: usize = 256;

/// How a socket's loop ended: the close code and reason to send (`None`: the peer left).
pub type CloseReason = Option<(u16, &'static str)>;

/// Takes a finished socket out of everything it joined (the chats' and the user's hubs, the
/// commit notices, the online sets), then closes it with `reason` (1000 when the peer left).
pub async fn finish(
    state: &AppState,
    key: &SocketKey,
    chats: impl IntoIterator<Item = ChatId>,
    out: Outbox,
    reason: CloseReason,
) {
    tracing::debug!(?reason, "closing");
    for chat in chats {
        state.chats_hub.unsubscribe(chat, key.conn);
    }
    state.feeds_hub.unsubscribe(key.user, key.conn);
    state.acks.deregister(key.conn);
    if let Err(e) = state.services.presence.closed(key).await {
        tracing::warn!(error = %messenger_core::error::Chain(&e), "presence not updated on close");
    }
    let reason = if out.stalled {
        Some((CLOSE_SLOW, "stopped reading; reconnect with ?after="))
    } else {
        reason
    };
    let (code, text) = reason.unwrap_or((1000, "bye"));
    out.close(code, text).await;
}

/// Longest a socket's close frame may wait for room in a peer's buffers.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The writing half of a socket.
///
/// Every write has a deadline: a peer that stops reading fills its TCP buffers, and a write
/// that cannot finish within `write_timeout` ends the socket (close code 4008) instead of
/// holding its task, its queue and its buffers for ever.
pub struct Outbox {
    sink: SplitSink<WebSocketStream, Message>,
    write_timeout: Duration,
    /// A write missed its deadline.
    stalled: bool,
    metrics: Arc<Metrics>,
    /// `chat` or `events`.
    kind: &'static str,
}

/// Why a socket's loop ended.
pub type Closed = ();

impl Outbox {
    /// Splits a socket into its writing half and its reading half.
    /// Counts the socket open (as a `kind` socket) until [`Outbox::close`].
    pub fn split(
        socket: WebSocketStream,
        state: &AppState,
        kind: &'static str,
    ) -> (Outbox, SplitStream<WebSocketStream>) {
        let (sink, stream) = socket.split();
        state
            .metrics
            .open_sockets
            .get_or_create(&Kind { kind })
            .inc();
        let out = Outbox {
            sink,
            write_timeout: Duration::from_secs(state.config.write_timeout_secs),
            stalled: false,
            metrics: state.metrics.clone(),
            kind,
        };
        (out, stream)
    }

    async fn send(&mut self, message: Message) -> Result<(), Closed> {
        match tokio::time::timeout(self.write_timeout, self.sink.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(()),
            Err(_) => {
                self.stalled = true;
                Err(())
            }
        }
    }

    /// Sends one text frame; `Err` if the peer is gone or stopped reading.
    async fn text(&mut self, text: &str) -> Result<(), Closed> {
        self.send(Message::Text(text.to_owned())).await
    }

    /// Sends a server frame.
    pub async fn frame(&mut self, frame: &ServerFrame) -> Result<(), Closed> {
        self.metrics.frame(false, frame.type_name());
        self.text(&frame.to_json()).await
    }

    /// Sends an already serialised frame of type `kind`.
    pub async fn serialised(&mut self, kind: &'static str, text: &str) -> Result<(), Closed> {
        self.metrics.frame(false, kind);
        self.text(text).await
    }

    /// Sends an error frame; the socket stays open.
    pub async fn error(
        &mut self,
        client_id: Option<String>,
        err: &CoreError,
    ) -> Result<(), Closed> {
        self.metrics.error(err.code(), "ws");
        self.frame(&ServerFrame::error(client_id, err)).await
    }

    /// Sends a ping.
    pub async fn ping(&mut self) -> Result<(), Closed> {
        self.send(Message::Ping(Vec::new())).await
    }

    /// Sends a close frame with `code` and ends the socket.
    /// Sends a close frame with `code` and ends the socket (dropping it after [`CLOSE_WAIT`]
    /// if the peer's buffers have no room even for that).
    pub async fn close(mut self, code: u16, reason: &str) {
        let kind = Kind { kind: self.kind };
        self.metrics.open_sockets.get_or_create(&kind).dec();
        if code == CLOSE_SLOW {
            self.metrics.slow_closes.inc();
        }
        let frame = Message::Close(Some((CloseCode::from(code), reason.to_owned())));
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            let _ = self.sink.send(frame).await;
            let _ = self.sink.close().await;
        })
        .await;
    }
}

/// Pings every `every`, and tells when two in a row went unanswered.
pub struct Heartbeat {
    interval: Interval,
    unanswered: u32,
}

impl Heartbeat {
    /// A heartbeat whose first ping is one period from now.
    pub fn new(every: Duration) -> Self {
        let mut interval = tokio::time::interval_at(Instant::now() + every, every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Heartbeat {
            interval,
            unanswered: 0,
        }
    }

    /// Waits for the next ping time; `false` if the peer missed two pongs already.
    pub async fn tick(&mut self) -> bool {
        self.interval.tick().await;
        self.unanswered += 1;
        self.unanswered <= 2
    }

    /// The peer answered.
    pub fn pong(&mut self) {
        self.unanswered = 0;
    }
}

/// What arrived from the client, boiled down.
pub enum Incoming {
    /// A text frame.
    Text(String),
    /// A binary frame (not part of the protocol).
    Binary,
    /// A pong (or a ping, which also proves the peer alive).
    Alive,
    /// The peer closed, or the connection broke.
    Gone,
    /// A frame over the hard limit.
    TooBig,
}

/// Reads the next client frame.
pub async fn next_incoming(stream: &mut SplitStream<WebSocketStream>) -> Incoming {
    match stream.next().await {
        Some(Ok(Message::Text(t))) => Incoming::Text(t),
        Some(Ok(Message::Binary(_))) => Incoming::Binary,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Alive,
        Some(Ok(Message::Close(_))) | None => Incoming::Gone,
        Some(Err(e)) => {
            let text = e.to_string();
            if text.contains("too long") || text.contains("Space limit") {
                Incoming::TooBig
            } else {
                Incoming::Gone
            }
        }
    }
}
