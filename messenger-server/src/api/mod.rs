//! The HTTP API: every route of the protocol, typed and documented with OpenAPI.

pub mod auth;
pub mod chats;
pub mod health;
pub mod messages;
pub mod security;
pub mod users;

use crate::state::SharedState;
use poem_openapi::{OpenApiService, Tags};

/// Groups of routes in the document.
#[derive(Tags)]
pub enum ApiTags {
    /// Sign up, sign in, sign out.
    Auth,
    /// People.
    Users,
    /// Chats and participants.
    Chats,
    /// Messages and history.
    Messages,
    /// Liveness and readiness.
    Health,
}

/// The whole API as one OpenAPI service.
pub type Api = (
    auth::AuthApi,
    users::UsersApi,
    chats::ChatsApi,
    messages::MessagesApi,
    health::HealthApi,
);

/// Builds the OpenAPI service over `state`.
pub fn service(state: SharedState) -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            auth::AuthApi(state.clone()),
            users::UsersApi(state.clone()),
            chats::ChatsApi(state.clone()),
            messages::MessagesApi(state.clone()),
            health::HealthApi(state),
        ),
        "Messenger",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "HTTP half of the messenger protocol. The WebSocket routes `/chat/{id}` and `/events` \
         are described in docs/protocol.md.",
    )
}
