//! The WebSocket routes: `/chat/{id}` (one chat: history, live events, sending) and `/events`
//! (the caller's feed across all their chats).

mod chat_conn;
mod events_conn;
mod socket;

use crate::error::ApiError;
use crate::protocol::cursor;
use crate::state::SharedState;
use chat_conn::Opening;
use messenger_core::{ChatId, CoreError, MessageId, Session};
use poem::http::header;
use poem::web::websocket::{WebSocket, WebSocketConfig};
use poem::web::{Data, Path, Query};
use poem::{handler, IntoResponse, Request, Response};
use serde::Deserialize;

/// Query parameters of the socket routes.
#[derive(Debug, Deserialize)]
pub struct SocketQuery {
    /// The token, for clients that cannot set headers (browsers).
    token: Option<String>,
    /// `/chat/{id}` only: replay every message after this id instead of the last 20.
    after: Option<String>,
    /// `/chat/{id}` only: every change after this cursor (a `changes` frame) instead of history.
    since: Option<String>,
}

fn socket_config() -> WebSocketConfig {
    // A small read buffer keeps idle sockets cheap (client frames are small; a bigger one
    // still arrives whole, the buffer grows to the length its header announces). Frames above
    // 64 KiB get an error frame, and anything above 1 MiB is abuse and closes the socket (1009).
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .max_message_size(Some(1024 * 1024))
        .max_frame_size(Some(1024 * 1024))
}

fn error_response(err: CoreError) -> Response {
    poem::Error::from(ApiError::from(err)).into_response()
}

async fn authenticate(
    state: &SharedState,
    req: &Request,
    q: &SocketQuery,
) -> Result<Session, CoreError> {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token = header_token
        .or_else(|| q.token.clone())
        .ok_or(CoreError::Unauthorized("missing token"))?;
    state.services.auth.authenticate(&token).await
}

/// `GET /chat/{id}`: upgrade for a participant of the chat.
#[handler]
pub async fn chat_socket(
    req: &Request,
    Path(raw_id): Path<String>,
    Query(q): Query<SocketQuery>,
    ws: WebSocket,
    Data(state): Data<&SharedState>,
) -> Response {
    let session = match authenticate(state, req, &q).await {
        Ok(s) => s,
        Err(e) => return error_response(e),
    };
    let Ok(chat_id) = raw_id.parse::<i64>().map(ChatId) else {
        return error_response(CoreError::invalid("id", "must be an integer"));
    };
    let opening = match (q.since.as_deref(), q.after.as_deref()) {
        (Some(_), Some(_)) => {
            return error_response(CoreError::invalid("since", "give since or after, not both"))
        }
        (Some(since), None) => match cursor::decode(chat_id, since) {
            Ok(position) => Opening::Since(position),
            Err(e) => return error_response(e),
        },
        (None, Some(after)) => match after.parse::<i64>() {
            Ok(after) => Opening::After(MessageId(after)),
            Err(_) => return error_response(CoreError::invalid("after", "must be an integer")),
        },
        (None, None) => Opening::Newest,
    };
    if let Err(e) = state.services.chats.visible(session.user_id, chat_id).await {
        return error_response(e);
    }
    let state = state.clone();
    let tracker = state.sockets.clone();
    ws.config(socket_config())
        .on_upgrade(move |socket| {
            tracker.track_future(chat_conn::run(state, socket, session, chat_id, opening))
        })
        .into_response()
}

/// `GET /events`: the caller's feed.
#[handler]
pub async fn events_socket(
    req: &Request,
    Query(q): Query<SocketQuery>,
    ws: WebSocket,
    Data(state): Data<&SharedState>,
) -> Response {
    let session = match authenticate(state, req, &q).await {
        Ok(s) => s,
        Err(e) => return error_response(e),
    };
    let state = state.clone();
    let tracker = state.sockets.clone();
    ws.config(socket_config())
        .on_upgrade(move |socket| tracker.track_future(events_conn::run(state, socket, session)))
        .into_response()
}
