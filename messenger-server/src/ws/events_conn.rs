//! One `/events` socket: the caller's feed across every chat they take part in.

use super::socket::*;
use crate::protocol::close::*;
use crate::protocol::dto::ChatOut;
use crate::protocol::frames::{decode_client_frame, ClientFrame, ServerFrame};
use crate::realtime::{Delivery, Sink};
use crate::state::SharedState;
use messenger_core::ports::SocketKey;
use messenger_core::{ChatId, ConnId, CoreError, EventSeq, FeedEntry, FeedEvent, Session, UserId};
use poem::web::websocket::WebSocketStream;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::Instrument;

struct EventsConn {
    state: SharedState,
    session: Session,
    conn: ConnId,
    out: Outbox,
    /// Chats subscribed to, with the position up to which events are skipped (already
    /// covered when the subscription started).
    chats: HashMap<ChatId, i64>,
    sink: Sink<Arc<Delivery>>,
}

/// Runs the socket until either side ends it (a plain `fn` for the reason given at
/// [`super::chat_conn::run`]).
pub fn run(
    state: SharedState,
    socket: WebSocketStream,
    session: Session,
) -> impl Future<Output = ()> {
    let conn = state.next_conn_id();
    let span = tracing::info_span!("events_socket", conn = conn.0, user = session.user_id.0);
    let (out, inbox) = Outbox::split(socket, &state, "events");
    let key = SocketKey {
        node: state.node.clone(),
        conn,
        user: session.user_id,
        chat: None,
    };
    let (sink, events, overflowed) = Sink::bounded(EVENT_QUEUE);
    let mut this = EventsConn {
        state,
        session,
        conn,
        out,
        chats: HashMap::new(),
        sink,
    };
    async move {
        let reason = this.serve(inbox, events, overflowed, &key).await;
        let chats: Vec<ChatId> = this.chats.keys().copied().collect();
        let EventsConn { state, out, .. } = this;
        Box::pin(finish(&state, &key, chats, out, reason)).await;
    }
    .instrument(span)
}

/// The user's feed as the live loop reads it, set up by [`EventsConn::open`].
struct Feed {
    entries: mpsc::Receiver<Arc<FeedEntry>>,
    overflowed: Arc<AtomicBool>,
    /// Entries up to here were handled by the opening.
    skip: i64,
}

impl EventsConn {
    fn user(&self) -> UserId {
        self.session.user_id
    }

    async fn serve(
        &mut self,
        mut inbox: futures_util::stream::SplitStream<WebSocketStream>,
        mut events: mpsc::Receiver<Arc<Delivery>>,
        overflowed: Arc<AtomicBool>,
        key: &SocketKey,
    ) -> CloseReason {
        // Boxed, like the rare steps below, for the reason given in `ChatConn::serve`.
        let Feed {
            entries: mut feed_rx,
            overflowed: feed_overflowed,
            skip: mut feed_skip,
        } = match Box::pin(self.open(key)).await {
            Ok(feed) => feed,
            Err(reason) => return reason,
        };
        let state = self.state.clone();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.ping_interval_secs));
        let stop = state.sockets_stop.clone();
        loop {
            let sent = tokio::select! {
                _ = stop.cancelled() => return Some((CLOSE_GOING_AWAY, "server shutting down")),
                incoming = next_incoming(&mut inbox) => match incoming {
                    Incoming::Text(text) if matches!(decode_client_frame(&text), Ok(ClientFrame::Ping)) => {
                        self.out.frame(&ServerFrame::Pong).await
                    }
                    Incoming::Text(_) | Incoming::Binary => {
                        let err = CoreError::invalid("frame", "/events takes no frames from clients but ping");
                        Box::pin(self.out.error(None, &err)).await
                    }
                    Incoming::Alive => { heartbeat.pong(); Ok(()) }
                    Incoming::Gone => return None,
                    Incoming::TooBig => return Some((CLOSE_TOO_BIG, "frame too large")),
                },
                delivery = events.recv() => match delivery {
                    // The hub drops a chat from an overflowing queue; the other chats' senders
                    // keep the queue open, so the flag is what tells.
                    Some(_) if overflowed.load(Ordering::Acquire) => {
                        return Some((CLOSE_SLOW, "too far behind; reconnect"));
                    }
                    Some(d) => self.deliver(&d).await,
                    None if overflowed.load(Ordering::Acquire) => {
                        return Some((CLOSE_SLOW, "too far behind; reconnect"));
                    }
                    None => return Some((CLOSE_GOING_AWAY, "subscription ended")),
                },
                entry = feed_rx.recv() => match entry {
                    Some(e) if (e.seq as i64) > feed_skip => {
                        feed_skip = e.seq as i64;
                        match Box::pin(self.on_feed(&e)).await {
                            Ok(None) => Ok(()),
                            Ok(Some(reason)) => return Some(reason),
                            Err(()) => Err(()),
                        }
                    }
                    Some(_) => Ok(()),
                    None if feed_overflowed.load(Ordering::Acquire) => {
                        return Some((CLOSE_SLOW, "too far behind; reconnect"));
                    }
                    None => return Some((CLOSE_GOING_AWAY, "subscription ended")),
                },
                alive = heartbeat.tick() => {
                    if !alive {
                        return Some((CLOSE_PING_TIMEOUT, "no pong"));
                    }
                    self.out.ping().await
                }
            };
            if sent.is_err() {
                return None;
            }
        }
    }

    /// Subscribes to the user's feed and every chat of theirs, and sends `ready` and what
    /// the feed holds since.
    async fn open(&mut self, key: &SocketKey) -> Result<Feed, CloseReason> {
        let state = self.state.clone();
        let opening = async {
            let feed_from = state.services.ports.feed.head(self.user()).await? as i64;
            let chats = state
                .services
                .ports
                .chats
                .list_for_user(self.user())
                .await?;
            let mut heads = Vec::with_capacity(chats.len());
            for chat in chats {
                heads.push((chat.id, state.services.ports.log.head(chat.id).await?));
            }
            Ok::<_, CoreError>((feed_from, heads))
        };
        let (feed_from, heads) = match opening.await {
            Ok(v) => v,
            Err(e) => {
                let _ = self.out.error(None, &e).await;
                return Err(Some((CLOSE_GOING_AWAY, "feed unavailable")));
            }
        };
        let (feed_sink, feed_rx, feed_overflowed) = Sink::bounded(FEED_QUEUE);
        let feed_live = state
            .feeds_hub
            .subscribe(self.user(), self.conn, feed_sink, feed_from);
        if let Err(e) = state.services.presence.opened(key).await {
            tracing::warn!(error = %messenger_core::error::Chain(&e), "presence not updated on open");
        }
        let ready = ServerFrame::Ready {
            user_id: self.user().get(),
        };
        if self.out.frame(&ready).await.is_err() {
            return Err(None);
        }
        for (chat, head) in heads {
            if self.follow(chat, head).await.is_err() {
                return Err(None);
            }
        }
        match state
            .feeds_hub
            .catch_up(self.user(), feed_from, feed_live)
            .await
        {
            Ok(backlog) => {
                for entry in backlog {
                    match self.on_feed(&entry).await {
                        Ok(None) => {}
                        Ok(Some(reason)) => return Err(Some(reason)),
                        Err(()) => return Err(None),
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %messenger_core::error::Chain(&e), "feed catch-up failed");
                return Err(Some((CLOSE_SLOW, "could not catch up; reconnect")));
            }
        }
        Ok(Feed {
            entries: feed_rx,
            overflowed: feed_overflowed,
            skip: feed_live,
        })
    }

    /// Starts delivering `chat`'s events after position `from`.
    async fn follow(&mut self, chat: ChatId, from: EventSeq) -> Result<(), Closed> {
        if self.chats.contains_key(&chat) {
            return Ok(());
        }
        let hub = &self.state.chats_hub;
        let live = hub.subscribe(chat, self.conn, self.sink.clone(), from.get());
        self.chats.insert(chat, from.get().max(live));
        match hub.catch_up(chat, from.get(), live).await {
            Ok(backlog) => {
                for d in backlog {
                    if d.for_feed {
                        self.out.serialised(d.frame_type, &d.frame).await?;
                    }
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %messenger_core::error::Chain(&e), chat = chat.0, "catch-up failed");
                Ok(())
            }
        }
    }

    async fn deliver(&mut self, d: &Arc<Delivery>) -> Result<(), Closed> {
        match self.chats.get(&d.event.chat_id) {
            Some(skip) if d.event.seq.get() > *skip && d.for_feed => {
                self.out.serialised(d.frame_type, &d.frame).await
            }
            _ => Ok(()),
        }
    }

    async fn chat_frame(&self, chat: ChatId) -> Option<ChatOut> {
        match self.state.services.chats.get(self.user(), chat).await {
            Ok(view) => Some(ChatOut::from(&view)),
            Err(_) => None,
        }
    }

    async fn on_feed(&mut self, entry: &FeedEntry) -> Result<CloseReason, Closed> {
        match &entry.event {
            FeedEvent::ChatCreated { chat_id, from } => {
                if let Some(chat) = self.chat_frame(*chat_id).await {
                    self.out.frame(&ServerFrame::ChatCreated { chat }).await?;
                    self.follow(*chat_id, *from).await?;
                }
            }
            FeedEvent::ChatUpdated { chat_id } => {
                if let Some(chat) = self.chat_frame(*chat_id).await {
                    self.out.frame(&ServerFrame::ChatUpdated { chat }).await?;
                }
            }
            FeedEvent::ChatDeleted { chat_id } => {
                if self.chats.remove(chat_id).is_some() {
                    self.state.chats_hub.unsubscribe(*chat_id, self.conn);
                }
                let frame = ServerFrame::ChatDeleted {
                    chat_id: chat_id.get(),
                };
                self.out.frame(&frame).await?;
            }
            FeedEvent::TokenRevoked { token_id } if *token_id == self.session.token_id => {
                return Ok(Some((CLOSE_REVOKED, "token revoked")));
            }
            FeedEvent::TokenRevoked { .. } => {}
        }
        Ok(None)
    }
}
