//! Message routes: history, send (to a chat or to a person), edit, delete.

use super::auth::NoContent;
use super::security::BearerAuth;
use super::ApiTags;
use crate::error::ApiError;
use crate::protocol::dto::{ChatOut, DirectOut, EditIn, MessageOut, PageOut, SendIn};
use crate::send::submit_and_wait;
use crate::state::SharedState;
use messenger_core::services::{Change, DEFAULT_PAGE, MAX_PAGE};
use messenger_core::validation::{page_limit, validate_client_id, validate_text};
use messenger_core::{ChatId, MessageId, UserId};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

/// Message routes.
pub struct MessagesApi(pub SharedState);

/// `201` with the stored message.
#[derive(ApiResponse)]
pub enum MessageSent {
    /// Stored (or, for a repeated `client_id`, the first message as it is now).
    #[oai(status = 201)]
    Created(Json<MessageOut>),
}

/// `201` with the direct chat and the message.
#[derive(ApiResponse)]
pub enum DirectSent {
    /// Stored.
    #[oai(status = 201)]
    Created(Json<DirectOut>),
}

#[OpenApi(tag = "ApiTags::Messages")]
impl MessagesApi {
    /// A page of history: the `limit` messages just before `before` (the newest when absent),
    /// oldest first.
    #[oai(path = "/chats/:id/messages", method = "get")]
    async fn history(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        /// A message id; the page ends just before it.
        before: Query<Option<i64>>,
        /// Default 20, at most 100.
        limit: Query<Option<i64>>,
    ) -> Result<Json<PageOut>, ApiError> {
        let limit = page_limit(limit.0, DEFAULT_PAGE, MAX_PAGE)?;
        let page = self
            .0
            .services
            .messages
            .page_before(auth.0.user_id, ChatId(id.0), before.0.map(MessageId), limit)
            .await?;
        Ok(Json(PageOut {
            messages: page.messages.iter().map(MessageOut::from).collect(),
            has_more: page.has_more,
        }))
    }

    /// Send a message to a chat; answered once it is stored, and fanned out like a socket's.
    #[oai(path = "/chats/:id/messages", method = "post")]
    async fn send(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<SendIn>,
    ) -> Result<MessageSent, ApiError> {
        let SendIn { text, client_id } = body.0;
        let message = submit_and_wait(
            &self.0,
            auth.0.user_id,
            ChatId(id.0),
            client_id,
            Change::Create { text },
        )
        .await?;
        Ok(MessageSent::Created(Json(MessageOut::from(&message))))
    }

    /// Write to anyone: the pair's one direct chat is made on the first message and reused.
    #[oai(path = "/users/:user_id/messages", method = "post")]
    async fn send_direct(
        &self,
        auth: BearerAuth,
        user_id: Path<i64>,
        body: Json<SendIn>,
    ) -> Result<DirectSent, ApiError> {
        let SendIn { text, client_id } = body.0;
        let caller = auth.0.user_id;
        // Refuse bad input before a chat is made for it.
        validate_text(&text)?;
        if let Some(c) = &client_id {
            validate_client_id(c)?;
        }
        let chats = &self.0.services.chats;
        let (chat, _) = chats.direct_chat(caller, UserId(user_id.0)).await?;
        let message =
            submit_and_wait(&self.0, caller, chat.id, client_id, Change::Create { text }).await?;
        let view = chats.view(chat, caller).await?;
        Ok(DirectSent::Created(Json(DirectOut {
            chat: ChatOut::from(&view),
            message: MessageOut::from(&message),
        })))
    }

    /// Edit your own message.
    #[oai(path = "/messages/:id", method = "patch")]
    async fn edit(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<EditIn>,
    ) -> Result<Json<MessageOut>, ApiError> {
        let caller = auth.0.user_id;
        let message_id = MessageId(id.0);
        let chat = self.0.services.messages.chat_of(caller, message_id).await?;
        let text = body.0.text;
        let message = submit_and_wait(
            &self.0,
            caller,
            chat.id,
            None,
            Change::Update { message_id, text },
        )
        .await?;
        Ok(Json(MessageOut::from(&message)))
    }

    /// Delete your own message.
    #[oai(path = "/messages/:id", method = "delete")]
    async fn delete(&self, auth: BearerAuth, id: Path<i64>) -> Result<NoContent, ApiError> {
        let caller = auth.0.user_id;
        let message_id = MessageId(id.0);
        let chat = self.0.services.messages.chat_of(caller, message_id).await?;
        submit_and_wait(
            &self.0,
            caller,
            chat.id,
            None,
            Change::Delete { message_id },
        )
        .await?;
        Ok(NoContent::Done)
    }
}
