//! Chat routes: list, create, get, rename, delete, participants, read markers.

use super::auth::NoContent;
use super::security::BearerAuth;
use super::ApiTags;
use crate::error::ApiError;
use crate::protocol::dto::{AddParticipantIn, ChatOut, CreateChatIn, ReadIn, RenameChatIn};
use crate::state::SharedState;
use messenger_core::{ChatId, MessageId, UserId};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

/// Chat routes.
pub struct ChatsApi(pub SharedState);

/// `201` with the new chat.
#[derive(ApiResponse)]
pub enum ChatCreated {
    /// The group, as the caller sees it.
    #[oai(status = 201)]
    Created(Json<ChatOut>),
}

#[OpenApi(tag = "ApiTags::Chats")]
impl ChatsApi {
    /// Every chat the caller takes part in, the most recently active first.
    #[oai(path = "/chats", method = "get")]
    async fn list(&self, auth: BearerAuth) -> Result<Json<Vec<ChatOut>>, ApiError> {
        let views = self.0.services.chats.list(auth.0.user_id).await?;
        Ok(Json(views.iter().map(ChatOut::from).collect()))
    }

    /// Create a group owned by the caller (who is added to the participants).
    #[oai(path = "/chats", method = "post")]
    async fn create(
        &self,
        auth: BearerAuth,
        body: Json<CreateChatIn>,
    ) -> Result<ChatCreated, ApiError> {
        let participants: Vec<UserId> = body.participants.iter().map(|p| UserId(*p)).collect();
        let view = self
            .0
            .services
            .chats
            .create_group(auth.0.user_id, &body.name, &participants)
            .await?;
        Ok(ChatCreated::Created(Json(ChatOut::from(&view))))
    }

    /// One chat the caller takes part in (404 otherwise).
    #[oai(path = "/chats/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Result<Json<ChatOut>, ApiError> {
        let view = self
            .0
            .services
            .chats
            .get(auth.0.user_id, ChatId(id.0))
            .await?;
        Ok(Json(ChatOut::from(&view)))
    }

    /// Rename a group (any participant; a direct chat: 400).
    #[oai(path = "/chats/:id", method = "patch")]
    async fn rename(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<RenameChatIn>,
    ) -> Result<Json<ChatOut>, ApiError> {
        let view = self
            .0
            .services
            .chats
            .rename(auth.0.user_id, ChatId(id.0), &body.name)
            .await?;
        Ok(Json(ChatOut::from(&view)))
    }

    /// Delete a chat and its messages for everyone: a group by its owner (others 403), a
    /// direct chat by either participant. Its sockets are closed (code 4003).
    #[oai(path = "/chats/:id", method = "delete")]
    async fn delete(&self, auth: BearerAuth, id: Path<i64>) -> Result<NoContent, ApiError> {
        self.0
            .services
            .chats
            .delete(auth.0.user_id, ChatId(id.0))
            .await?;
        Ok(NoContent::Done)
    }

    /// Add someone to a group (any participant; a direct chat: 400).
    #[oai(path = "/chats/:id/participants", method = "post")]
    async fn add_participant(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<AddParticipantIn>,
    ) -> Result<Json<ChatOut>, ApiError> {
        let view = self
            .0
            .services
            .chats
            .add_participant(auth.0.user_id, ChatId(id.0), UserId(body.user_id))
            .await?;
        Ok(Json(ChatOut::from(&view)))
    }

    /// Remove a participant: yourself (leave), or anyone if you own the group. Their sockets
    /// of the chat are closed (code 4003).
    #[oai(path = "/chats/:id/participants/:user_id", method = "delete")]
    async fn remove_participant(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        user_id: Path<i64>,
    ) -> Result<NoContent, ApiError> {
        self.0
            .services
            .chats
            .remove_participant(auth.0.user_id, ChatId(id.0), UserId(user_id.0))
            .await?;
        Ok(NoContent::Done)
    }

    /// Move the caller's read marker forward to a message of the chat (never backwards).
    #[oai(path = "/chats/:id/read", method = "post")]
    async fn mark_read(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<ReadIn>,
    ) -> Result<NoContent, ApiError> {
        self.0
            .services
            .chats
            .mark_read(auth.0.user_id, ChatId(id.0), MessageId(body.message_id))
            .await?;
        Ok(NoContent::Done)
    }
}
