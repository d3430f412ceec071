//! One `/chat/{id}` socket: history on open, live events of the chat, sending, acks.

use super::socket::*;
use crate::protocol::close::*;
use crate::protocol::cursor;
use crate::protocol::dto::MessageOut;
use crate::protocol::frames::{decode_client_frame, ClientFrame, ReadMarkerOut, ServerFrame};
use crate::realtime::{Delivery, Sink};
use crate::send::{self, await_duplicate};
use crate::state::SharedState;
use messenger_core::ports::SocketKey;
use messenger_core::services::{Submission, DEFAULT_PAGE, MAX_PAGE};
use messenger_core::validation::page_limit;
use messenger_core::{
    news_after_page, ChatEventKind, ChatId, CommitNotice, CommitOutcome, ConnId, CoreError,
    EventSeq, FeedEntry, FeedEvent, MessageId, Page, Session, UserId,
};
use poem::web::websocket::WebSocketStream;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;

/// At most one `typing` per connection per this long is forwarded.
const TYPING_EVERY: Duration = Duration::from_secs(1);
/// A queued change not committed within this long gets an `unavailable` error frame (the
/// client may retry with the same `client_id`; it never makes a second message).
const ACK_WAIT: Duration = Duration::from_secs(10);

struct ChatConn {
    state: SharedState,
    session: Session,
    chat: ChatId,
    conn: ConnId,
    out: Outbox,
    last_typing: Option<Instant>,
    /// The last `presence` frame sent, so that an unchanged set is not sent again.
    last_presence: Option<Arc<str>>,
    /// Queued changes awaiting their commit notice: position → (client_id, since).
    awaiting: HashMap<EventSeq, (String, Instant)>,
    /// Commit notices of this socket's changes, registered at its first change: most sockets
    /// only read, and a channel costs the same whether or not anything goes through it.
    notices: Option<mpsc::UnboundedReceiver<Box<CommitNotice>>>,
}

/// What the live loop reads besides the socket, set up by [`ChatConn::open`].
struct Live {
    events: mpsc::Receiver<Arc<Delivery>>,
    overflowed: Arc<AtomicBool>,
    feed: mpsc::Receiver<Arc<FeedEntry>>,
    /// Stream position up to which the opening already delivered everything.
    caught_up: i64,
}

/// Runs the socket until either side ends it.
///
/// Not an `async fn`: its arguments would stay in the task for its whole life, the socket
/// among them even after it is split, so the setup runs first and the task keeps only what
/// the loop uses.
/// What a socket opens with.
#[derive(Debug, Clone, Copy)]
pub enum Opening {
    /// `history`: the newest page.
    Newest,
    /// `history`: every message after this one (v1's `?after=`).
    After(MessageId),
    /// `changes`: every change after this position (`?since=`).
    Since(EventSeq),
}

pub fn run(
    state: SharedState,
    socket: WebSocketStream,
    session: Session,
    chat: ChatId,
    opening: Opening,
) -> impl Future<Output = ()> {
    let conn = state.next_conn_id();
    let span = tracing::info_span!(
        "chat_socket",
        conn = conn.0,
        user = session.user_id.0,
        chat = chat.0
    );
    let (out, inbox) = Outbox::split(socket, &state, "chat");
    let key = SocketKey {
        node: state.node.clone(),
        conn,
        user: session.user_id,
        chat: Some(chat),
    };
    let mut this = ChatConn {
        state,
        session,
        chat,
        conn,
        out,
        last_typing: None,
        last_presence: None,
        awaiting: HashMap::new(),
        notices: None,
    };
    async move {
        tracing::debug!("opened");
        let reason = this.serve(inbox, opening, &key).await;
        let ChatConn { state, out, .. } = this;
        Box::pin(finish(&state, &key, [chat], out, reason)).await;
    }
    .instrument(span)
}

impl ChatConn {
    fn user(&self) -> UserId {
        self.session.user_id
    }

    async fn serve(
        &mut self,
        mut inbox: futures_util::stream::SplitStream<WebSocketStream>,
        opening: Opening,
        key: &SocketKey,
    ) -> CloseReason {
        // Boxed, like every rare step below: a task holds room for its largest await point for
        // as long as it lives, and an idle socket should pay only for the loop's.
        let Live {
            mut events,
            overflowed,
            mut feed,
            caught_up,
        } = match Box::pin(self.open(opening, key)).await {
            Ok(live) => live,
            Err(reason) => return reason,
        };
        let state = self.state.clone();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.ping_interval_secs));
        let mut overdue_check = tokio::time::interval(Duration::from_secs(1));
        let stop = state.sockets_stop.clone();
        loop {
            let sent = tokio::select! {
                _ = overdue_check.tick(), if !self.awaiting.is_empty() => Box::pin(self.expire_overdue()).await,
                _ = stop.cancelled() => return Some((CLOSE_GOING_AWAY, "server shutting down")),
                incoming = next_incoming(&mut inbox) => match incoming {
                    Incoming::Text(text) => Box::pin(self.on_frame(&text)).await,
                    Incoming::Binary => {
                        let err = CoreError::invalid("frame", "binary frames are not supported; send JSON text");
                        Box::pin(self.out.error(None, &err)).await
                    }
                    Incoming::Alive => { heartbeat.pong(); Ok(()) }
                    Incoming::Gone => return None,
                    Incoming::TooBig => return Some((CLOSE_TOO_BIG, "frame too large")),
                },
                delivery = events.recv() => match delivery {
                    Some(d) if d.event.seq.get() > caught_up => self.deliver(&d).await,
                    Some(_) => Ok(()),
                    None if overflowed.load(Ordering::Acquire) => {
                        return Some((CLOSE_SLOW, "too far behind; reconnect with ?since="));
                    }
                    None => return Some((CLOSE_GOING_AWAY, "subscription ended")),
                },
                notice = next_notice(&mut self.notices) => match notice {
                    Some(n) => Box::pin(self.ack(*n)).await,
                    None => return Some((CLOSE_GOING_AWAY, "server shutting down")),
                },
                entry = feed.recv() => match entry {
                    Some(e) => match self.on_feed(&e) {
                        Some(reason) => return Some(reason),
                        None => Ok(()),
                    },
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

    /// Subscribes to the user's feed and the chat's log, and sends the opening frames:
    /// history (or changes), presence, and whatever happened while they were read.
    async fn open(&mut self, opening: Opening, key: &SocketKey) -> Result<Live, CloseReason> {
        let state = self.state.clone();

        // The feed tells us about logout and removal from the chat.
        let feed_from = match state.services.ports.feed.head(self.user()).await {
            Ok(head) => i64::try_from(head).unwrap_or(i64::MAX),
            Err(e) => {
                let _ = self.out.error(None, &e.into()).await;
                return Err(Some((CLOSE_GOING_AWAY, "feed unavailable")));
            }
        };
        let (feed_sink, feed_rx, _) = Sink::bounded(FEED_QUEUE);
        state
            .feeds_hub
            .subscribe(self.user(), self.conn, feed_sink, feed_from);

        // History (or the changes since the client's cursor) first, then the log from where
        // that ends.
        let (page, from, first) = match self.opening_frame(opening).await {
            Ok(opened) => opened,
            Err(e) => {
                let _ = self.out.error(None, &e).await;
                return Err(Some((CLOSE_GOING_AWAY, "history unavailable")));
            }
        };
        if self.out.frame(&first).await.is_err() {
            return Err(None);
        }
        if let ServerFrame::Changes { has_more: true, .. } = first {
            return Err(Some((
                CLOSE_NORMAL,
                "more changes: reconnect with ?since= the new cursor",
            )));
        }
        let (sink, events, overflowed) = Sink::bounded(EVENT_QUEUE);
        let live_from = state.chats_hub.subscribe(self.chat, self.conn, sink, from);
        // Everything up to the stream's head is caught up here, where it can be checked
        // against the page; the live queue may repeat some of it (a topic new on this node is
        // read from `from`), so live items up to `caught_up` are skipped.
        let (caught_up, backlog) = match state.services.ports.log.head(self.chat).await {
            Ok(head) => {
                let head = head.get().max(live_from);
                (head, state.chats_hub.catch_up(self.chat, from, head).await)
            }
            Err(e) => (live_from, Err(e.into())),
        };

        if let Err(e) = state.services.presence.opened(key).await {
            tracing::warn!(error = %messenger_core::error::Chain(&e), "presence not updated on open");
        }
        let online = state
            .services
            .presence
            .online_in_chat(self.chat)
            .await
            .unwrap_or_default();
        let presence: Arc<str> = ServerFrame::Presence {
            online: online.into_iter().map(UserId::get).collect(),
        }
        .to_json();
        if self.out.serialised("presence", &presence).await.is_err() {
            return Err(None);
        }
        self.last_presence = Some(presence);
        match backlog {
            Ok(backlog) => {
                // What happened while the history was read may already be in it.
                let news = news_after_page(&page, MessageId(from), backlog, |d| &d.event.kind);
                for d in news {
                    if self.deliver(&d).await.is_err() {
                        return Err(None);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %messenger_core::error::Chain(&e), "catch-up failed");
                return Err(Some((
                    CLOSE_SLOW,
                    "could not catch up; reconnect with ?since=",
                )));
            }
        }

        Ok(Live {
            events,
            overflowed,
            feed: feed_rx,
            caught_up,
        })
    }

    /// The opening frame, the page it shows (empty for `changes`, whose events all come
    /// before anything the log replays next), and the position the log continues from.
    async fn opening_frame(&self, opening: Opening) -> Result<(Page, i64, ServerFrame), CoreError> {
        let messages = &self.state.services.messages;
        let opening = self.within_the_chat(opening).await?;
        let page = match opening {
            Opening::Since(after) => {
                let changes = messages
                    .changes_since(self.user(), self.chat, after)
                    .await?;
                let frame = ServerFrame::changes(self.chat, &changes);
                return Ok((Page::default(), changes.cursor.get(), frame));
            }
            Opening::After(after) => messages.page_after(self.user(), self.chat, after).await?,
            Opening::Newest => {
                messages
                    .page_before(self.user(), self.chat, None, DEFAULT_PAGE)
                    .await?
            }
        };
        let after = match opening {
            Opening::After(after) => Some(after),
            _ => None,
        };
        // Every message event up to the page's last message is committed (the persister
        // commits a chat in order), so the log continues right after it.
        let from = page
            .messages
            .last()
            .map(|m| m.id.get())
            .or(after.map(MessageId::get))
            .unwrap_or(0);
        // Straight from the port: the page read above already checked that the caller takes
        // part in the chat. Positions start at 1, so "after 0" is every marker.
        let read_markers = self
            .state
            .services
            .ports
            .chats
            .read_markers_after(self.chat, EventSeq(0))
            .await?
            .into_iter()
            .map(|m| ReadMarkerOut {
                user_id: m.user_id.get(),
                message_id: m.message_id.get(),
            })
            .collect();
        let frame = ServerFrame::History {
            messages: page.messages.iter().map(MessageOut::from).collect(),
            has_more: page.has_more,
            cursor: Some(cursor::encode(self.chat, EventSeq(from))),
            read_markers: Some(read_markers),
        };
        Ok((page, from, frame))
    }

    /// `opening` with a position no later than the chat's newest: the log is followed from
    /// there for every socket of the chat on this node, so a position from the future (made up,
    /// or held from before Redis lost its newest writes) would silence the chat; one from the
    /// past only repeats changes the client applies again harmlessly.
    async fn within_the_chat(&self, opening: Opening) -> Result<Opening, CoreError> {
        let ports = &self.state.services.ports;
        let newest = || async {
            let head = ports.log.head(self.chat).await?.get();
            let last = ports.messages.last_messages(&[self.chat]).await?;
            Ok::<i64, CoreError>(head.max(last.first().map_or(0, |m| m.id.get())))
        };
        Ok(match opening {
            Opening::Since(after) => Opening::Since(EventSeq(after.get().min(newest().await?))),
            Opening::After(after) => Opening::After(MessageId(after.get().min(newest().await?))),
            Opening::Newest => Opening::Newest,
        })
    }

    async fn deliver(&mut self, d: &Arc<Delivery>) -> Result<(), Closed> {
        let mine = d
            .event
            .origin
            .as_ref()
            .is_some_and(|o| o.conn == self.conn && o.node == self.state.node);
        let own_typing =
            matches!(d.event.kind, ChatEventKind::Typing { user_id } if user_id == self.user());
        if mine || own_typing {
            return Ok(());
        }
        if matches!(d.event.kind, ChatEventKind::PresenceChanged) {
            if self.last_presence.as_ref() == Some(&d.frame) {
                return Ok(());
            }
            self.last_presence = Some(d.frame.clone());
        }
        self.out.serialised(d.frame_type, &d.frame).await
    }

    async fn ack(&mut self, notice: CommitNotice) -> Result<(), Closed> {
        // Also after an `unavailable` for it: the late commit still deserves its ack.
        if let Some((_, since)) = self.awaiting.remove(&notice.seq) {
            let waited = since.elapsed().as_secs_f64();
            self.state.metrics.ack_latency.observe(waited);
        }
        self.settled(notice.client_id, notice.outcome).await
    }

    /// Answers `unavailable` for queued changes whose commit is overdue.
    async fn expire_overdue(&mut self) -> Result<(), Closed> {
        let now = Instant::now();
        let overdue: Vec<EventSeq> = self
            .awaiting
            .iter()
            .filter(|(_, (_, since))| now.duration_since(*since) >= ACK_WAIT)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in overdue {
            if let Some((client_id, _)) = self.awaiting.remove(&seq) {
                let err = CoreError::unavailable_msg("the change is not committed yet");
                self.out.error(Some(client_id), &err).await?;
            }
        }
        Ok(())
    }

    async fn settled(
        &mut self,
        client_id: Option<String>,
        outcome: CommitOutcome,
    ) -> Result<(), Closed> {
        match outcome {
            CommitOutcome::Committed(message) => {
                let ack = ServerFrame::Ack {
                    client_id,
                    message: MessageOut::from(&message),
                };
                self.out.frame(&ack).await
            }
            CommitOutcome::NotFound => {
                self.out
                    .error(client_id, &CoreError::NotFound("message"))
                    .await
            }
        }
    }

    fn on_feed(&self, entry: &FeedEntry) -> CloseReason {
        match &entry.event {
            FeedEvent::TokenRevoked { token_id } if *token_id == self.session.token_id => {
                Some((CLOSE_REVOKED, "token revoked"))
            }
            FeedEvent::ChatDeleted { chat_id } if *chat_id == self.chat => {
                Some((CLOSE_REMOVED, "no longer a participant of this chat"))
            }
            _ => None,
        }
    }

    async fn on_frame(&mut self, text: &str) -> Result<(), Closed> {
        let frame = match decode_client_frame(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.state.metrics.frame(true, "invalid");
                return self.out.error(e.client_id, &e.error).await;
            }
        };
        self.state.metrics.frame(true, frame.type_name());
        let state = self.state.clone();
        let services = &state.services;
        match frame {
            ClientFrame::Change { client_id, change } => {
                if self.notices.is_none() {
                    // Before the submission, so that its notice cannot arrive unrouted.
                    self.notices = Some(state.acks.register(self.conn));
                }
                let submitted = send::submit(
                    &state,
                    self.user(),
                    self.chat,
                    self.conn,
                    Some(client_id.clone()),
                    change,
                )
                .await;
                match submitted {
                    Ok(Submission::Queued(seq)) => {
                        self.awaiting.insert(seq, (client_id, Instant::now()));
                        Ok(())
                    }
                    Ok(Submission::Settled(outcome)) => {
                        self.settled(Some(client_id), outcome).await
                    }
                    Ok(Submission::DuplicateInFlight(seq)) => {
                        match await_duplicate(&state, self.user(), self.chat, seq, &client_id).await
                        {
                            Ok(outcome) => self.settled(Some(client_id), outcome).await,
                            Err(e) => self.out.error(Some(client_id), &e).await,
                        }
                    }
                    Err(e) => self.out.error(Some(client_id), &e).await,
                }
            }
            ClientFrame::LoadMore { before, limit } => {
                let page = match page_limit(limit, DEFAULT_PAGE, MAX_PAGE) {
                    Ok(limit) => {
                        services
                            .messages
                            .page_before(self.user(), self.chat, Some(MessageId(before)), limit)
                            .await
                    }
                    Err(e) => Err(e),
                };
                match page {
                    Ok(page) => {
                        let frame = ServerFrame::History {
                            messages: page.messages.iter().map(MessageOut::from).collect(),
                            has_more: page.has_more,
                            cursor: None,
                            read_markers: None,
                        };
                        self.out.frame(&frame).await
                    }
                    Err(e) => self.out.error(None, &e).await,
                }
            }
            ClientFrame::Ping => self.out.frame(&ServerFrame::Pong).await,
            ClientFrame::Typing => {
                let now = Instant::now();
                if self
                    .last_typing
                    .is_some_and(|t| now.duration_since(t) < TYPING_EVERY)
                {
                    return Ok(());
                }
                self.last_typing = Some(now);
                match services.messages.typing(self.user(), self.chat).await {
                    Ok(()) => Ok(()),
                    Err(e) => self.out.error(None, &e).await,
                }
            }
            ClientFrame::Read { message_id } => {
                match services
                    .chats
                    .mark_read(self.user(), self.chat, MessageId(message_id))
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(e) => self.out.error(None, &e).await,
                }
            }
        }
    }
}

/// The next commit notice, or never when the socket has not sent a change yet.
async fn next_notice(
    notices: &mut Option<mpsc::UnboundedReceiver<Box<CommitNotice>>>,
) -> Option<Box<CommitNotice>> {
    match notices {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
