//! `GET /me`, `GET /users`, `GET /users/{user_id}`.

use super::security::BearerAuth;
use super::ApiTags;
use crate::error::ApiError;
use crate::protocol::dto::UserOut;
use crate::state::SharedState;
use messenger_core::validation::page_limit;
use messenger_core::UserId;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::OpenApi;

/// User routes.
pub struct UsersApi(pub SharedState);

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// The caller's own profile, with their phone.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> Result<Json<UserOut>, ApiError> {
        let view = self.0.services.users.me(auth.0.user_id).await?;
        Ok(Json(UserOut::own(view)))
    }

    /// Find people: username prefix (ignoring case) or exact phone; the caller is left out.
    #[oai(path = "/users", method = "get")]
    async fn search(
        &self,
        auth: BearerAuth,
        /// Username prefix or phone; required, not empty.
        q: Query<Option<String>>,
        /// Default 20, at most 100.
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<UserOut>>, ApiError> {
        let limit = page_limit(limit.0, 20, 100)?;
        let q = q.0.unwrap_or_default();
        let found = self
            .0
            .services
            .users
            .search(auth.0.user_id, &q, limit)
            .await?;
        Ok(Json(found.into_iter().map(UserOut::public).collect()))
    }

    /// One user's profile by id: who wrote a message, who is in a chat. The phone is shown
    /// only on the caller's own profile. An unknown id is 404.
    #[oai(path = "/users/:user_id", method = "get")]
    async fn profile(
        &self,
        auth: BearerAuth,
        user_id: Path<i64>,
    ) -> Result<Json<UserOut>, ApiError> {
        let view = self.0.services.users.profile(UserId(user_id.0)).await?;
        Ok(Json(if view.user.id == auth.0.user_id {
            UserOut::own(view)
        } else {
            UserOut::public(view)
        }))
    }
}
