//! Bearer-token authentication for the HTTP routes.

use crate::error::ApiError;
use crate::state::SharedState;
use messenger_core::{CoreError, Session};
use poem::Request;
use poem_openapi::auth::Bearer;
use poem_openapi::SecurityScheme;

/// `Authorization: Bearer <token>`; the token must be ours, unexpired and not revoked.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(pub Session);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Session> {
    let state = req.data::<SharedState>().ok_or_else(|| {
        poem::Error::from(ApiError::from(CoreError::internal_msg(
            "the request has no server state",
        )))
    })?;
    state
        .services
        .auth
        .authenticate(&bearer.token)
        .await
        .map_err(|e| ApiError::from(e).into())
}
