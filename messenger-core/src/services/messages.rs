//! Sending, editing and deleting messages, and reading history.

use super::{ChatService, Ports};
use crate::ports::{ChatLog, ChatRepo, Clock, MessageStore};
use crate::validation::{validate_client_id, validate_text};
use crate::{
    Appended, Changes, Chat, ChatEventKind, ChatId, ClientIdMatch, CommitOutcome, CoreError,
    EventDraft, EventSeq, Message, MessageId, Origin, Page, UserId, CHANGES_PAGE,
};
use std::sync::Arc;

/// Most messages in one history page.
pub const MAX_PAGE: usize = 100;
/// Messages in a page when no limit is given, and in the history sent when a socket opens.
pub const DEFAULT_PAGE: usize = 20;
/// Most messages sent on `?after=` recovery.
pub const MAX_RECOVERY: usize = 1000;

/// A change a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new message.
    Create {
        /// Its text.
        text: String,
    },
    /// An edit of one's own message.
    Update {
        /// Which message.
        message_id: MessageId,
        /// The new text.
        text: String,
    },
    /// A deletion of one's own message.
    Delete {
        /// Which message.
        message_id: MessageId,
    },
}

/// Where a submitted change stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Appended at this position; the persister will notify the origin once it is committed.
    Queued(EventSeq),
    /// The same `client_id` is in flight at this position; wait for its commit, then call
    /// [`MessageService::settle_duplicate`].
    DuplicateInFlight(EventSeq),
    /// Already settled (a repeated `client_id` whose message is committed).
    Settled(CommitOutcome),
}

/// Messages: the write path's front half and history.
pub struct MessageService {
    messages: Arc<dyn MessageStore>,
    log: Arc<dyn ChatLog>,
    clock: Arc<dyn Clock>,
    chat_service: ChatService,
    participants: Arc<dyn ChatRepo>,
}

impl MessageService {
    /// Builds the service.
    pub fn new(ports: &Ports) -> Self {
        MessageService {
            messages: ports.messages.clone(),
            log: ports.log.clone(),
            clock: ports.clock.clone(),
            chat_service: ChatService::new(ports),
            participants: ports.chats.clone(),
        }
    }

    /// Validates a change by `caller` to `chat` and appends it to the chat's log. The
    /// caller must take part in the chat; edits and deletes are the author's alone.
    pub async fn submit(
        &self,
        caller: UserId,
        chat: ChatId,
        origin: Option<Origin>,
        client_id: Option<String>,
        change: Change,
    ) -> Result<Submission, CoreError> {
        if let Some(client_id) = &client_id {
            validate_client_id(client_id)?;
        }
        let kind = match change {
            Change::Create { text } => {
                validate_text(&text)?;
                if !self.participants.is_participant(chat, caller).await? {
                    return Err(CoreError::NotFound("chat"));
                }
                if let Some(cid) = &client_id {
                    if let Some(found) = self.messages.by_client_id(chat, caller, cid).await? {
                        return Ok(Submission::Settled(settled(found)));
                    }
                }
                ChatEventKind::MessageCreated {
                    message: Message {
                        id: MessageId(0),
                        chat_id: chat,
                        author_id: caller,
                        text,
                        created_at: self.clock.now(),
                        edited_at: None,
                    },
                    client_id,
                }
            }
            Change::Update { message_id, text } => {
                validate_text(&text)?;
                let mut message = self.own_message(caller, chat, message_id).await?;
                message.text = text;
                message.edited_at = Some(self.clock.now());
                ChatEventKind::MessageUpdated { message, client_id }
            }
            Change::Delete { message_id } => {
                let message = self.own_message(caller, chat, message_id).await?;
                ChatEventKind::MessageDeleted { message, client_id }
            }
        };
        match self.log.append(chat, EventDraft { origin, kind }).await? {
            Appended::New(event) => Ok(Submission::Queued(event.seq)),
            Appended::Duplicate(seq) => Ok(Submission::DuplicateInFlight(seq)),
        }
    }

    /// What a repeated `client_id` answers: `None` while its original is not committed yet.
    pub async fn settle_duplicate(
        &self,
        caller: UserId,
        chat: ChatId,
        client_id: &str,
    ) -> Result<Option<CommitOutcome>, CoreError> {
        let found = self.messages.by_client_id(chat, caller, client_id).await?;
        Ok(found.map(settled))
    }

    /// The chat of a message the caller can see (for routes that name only the message).
    pub async fn chat_of(&self, caller: UserId, message: MessageId) -> Result<Chat, CoreError> {
        let message = self
            .messages
            .get(message)
            .await?
            .ok_or(CoreError::NotFound("message"))?;
        self.visible(caller, message.chat_id)
            .await
            .map_err(|_| CoreError::NotFound("message"))
    }

    /// Up to `limit` messages just before `before` (the newest when `None`), oldest first.
    pub async fn page_before(
        &self,
        caller: UserId,
        chat: ChatId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Page, CoreError> {
        self.visible(caller, chat).await?;
        Ok(self
            .messages
            .page_before(chat, before, limit.min(MAX_PAGE))
            .await?)
    }

    /// Every message after `after`, up to [`MAX_RECOVERY`], oldest first.
    pub async fn page_after(
        &self,
        caller: UserId,
        chat: ChatId,
        after: MessageId,
    ) -> Result<Page, CoreError> {
        self.visible(caller, chat).await?;
        Ok(self.messages.page_after(chat, after, MAX_RECOVERY).await?)
    }

    /// Every change to `chat` after position `after` that a client who saw everything up to it
    /// has missed, read from the store: one page of at most [`CHANGES_PAGE`] (see
    /// [`Changes::page`]).
    pub async fn changes_since(
        &self,
        caller: UserId,
        chat: ChatId,
        after: EventSeq,
    ) -> Result<Changes, CoreError> {
        self.visible(caller, chat).await?;
        // Messages first, markers second: a marker moves before its `read` event takes a
        // position, so any read positioned below what this page returns has already moved
        // its marker when the markers are read, and is in the page (or pending, and included).
        let messages = self
            .messages
            .changes_after(chat, after, CHANGES_PAGE + 1)
            .await?;
        let reads = self.participants.read_markers_after(chat, after).await?;
        Ok(Changes::page(after, messages, reads))
    }

    /// Announces that `caller` is typing in `chat`.
    pub async fn typing(&self, caller: UserId, chat: ChatId) -> Result<(), CoreError> {
        self.visible(caller, chat).await?;
        self.log
            .append(
                chat,
                EventDraft {
                    origin: None,
                    kind: ChatEventKind::Typing { user_id: caller },
                },
            )
            .await?;
        Ok(())
    }

    async fn visible(&self, caller: UserId, chat: ChatId) -> Result<Chat, CoreError> {
        self.chat_service.visible(caller, chat).await
    }

    async fn own_message(
        &self,
        caller: UserId,
        chat: ChatId,
        id: MessageId,
    ) -> Result<Message, CoreError> {
        self.visible(caller, chat).await?;
        let message = match self.messages.get(id).await? {
            Some(m) if m.chat_id == chat => m,
            _ => return Err(CoreError::NotFound("message")),
        };
        if message.author_id != caller {
            return Err(CoreError::Forbidden("only the author may change a message"));
        }
        Ok(message)
    }
}

fn settled(found: ClientIdMatch) -> CommitOutcome {
    match found {
        ClientIdMatch::Live(message) => CommitOutcome::Committed(message),
        ClientIdMatch::Deleted => CommitOutcome::NotFound,
    }
}
