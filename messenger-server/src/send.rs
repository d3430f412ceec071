//! The send use case, for HTTP and sockets alike: admit the change (the sender's rate),
//! append it to the chat's log, and wait for the persister's commit (HTTP waits here; a socket
//! gets its `ack` from its own loop when the commit notice arrives).

use crate::state::AppState;
use messenger_core::services::{Change, Submission};
use messenger_core::{ChatId, CommitOutcome, ConnId, CoreError, EventSeq, Message, UserId};
use std::time::Duration;

/// Longest an HTTP request waits for its change to be committed.
const COMMIT_WAIT: Duration = Duration::from_secs(5);

/// Admits a change by `user` (at most the configured rate) and appends it to `chat`'s log on
/// behalf of connection `conn`, whose commit notice will say when it is stored.
pub async fn submit(
    state: &AppState,
    user: UserId,
    chat: ChatId,
    conn: ConnId,
    client_id: Option<String>,
    change: Change,
) -> Result<Submission, CoreError> {
    if !state.limiter.try_acquire(user) {
        return Err(CoreError::RateLimited("too many messages; slow down"));
    }
    state
        .services
        .messages
        .submit(user, chat, Some(state.origin(conn)), client_id, change)
        .await
}

/// Submits a change and waits until it is committed: the message as it is now.
pub async fn submit_and_wait(
    state: &AppState,
    user: UserId,
    chat: ChatId,
    client_id: Option<String>,
    change: Change,
) -> Result<Message, CoreError> {
    let conn = state.next_conn_id();
    let mut notices = state.acks.register(conn);
    let outcome = async {
        let submission = submit(state, user, chat, conn, client_id.clone(), change).await?;
        match submission {
            Submission::Settled(outcome) => Ok(outcome),
            Submission::Queued(seq) => {
                let wait = async {
                    while let Some(notice) = notices.recv().await {
                        if notice.seq == seq {
                            return Ok(notice.outcome);
                        }
                    }
                    Err(CoreError::unavailable_msg("commit notices stopped"))
                };
                tokio::time::timeout(COMMIT_WAIT, wait)
                    .await
                    .map_err(|_| CoreError::unavailable_msg("commit timed out"))?
            }
            Submission::DuplicateInFlight(seq) => {
                let client_id = client_id.unwrap_or_default();
                await_duplicate(state, user, chat, seq, &client_id).await
            }
        }
    }
    .await;
    state.acks.deregister(conn);
    match outcome? {
        CommitOutcome::Committed(message) => Ok(message),
        CommitOutcome::NotFound => Err(CoreError::NotFound("message")),
    }
}

/// Waits for the commit of the original of a repeated `client_id`, then answers with it.
pub async fn await_duplicate(
    state: &AppState,
    user: UserId,
    chat: ChatId,
    seq: EventSeq,
    client_id: &str,
) -> Result<CommitOutcome, CoreError> {
    let messages = &state.services.messages;
    let committed = state.acks.watch(chat, seq);
    if let Some(outcome) = messages.settle_duplicate(user, chat, client_id).await? {
        state.acks.forget_watch(chat, seq);
        return Ok(outcome);
    }
    let notified = tokio::time::timeout(COMMIT_WAIT, committed).await.is_ok();
    state.acks.forget_watch(chat, seq);
    match messages.settle_duplicate(user, chat, client_id).await? {
        Some(outcome) => Ok(outcome),
        // The original was refused at commit (its chat is gone, say).
        None if notified => Ok(CommitOutcome::NotFound),
        // Still queued: not committed yet, so say so rather than "not found".
        None => Err(CoreError::unavailable_msg(
            "the first send of this client_id is not committed yet",
        )),
    }
}
