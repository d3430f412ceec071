//! `POST /register`, `POST /login`, `POST /logout`.

use super::security::BearerAuth;
use super::ApiTags;
use crate::error::ApiError;
use crate::protocol::dto::{AuthOut, LoginIn, RegisterIn, UserOut};
use crate::state::SharedState;
use messenger_core::services::SignedIn;
use messenger_core::validation::normalize_phone;
use messenger_core::{CoreError, UserView};
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

/// Auth routes.
pub struct AuthApi(pub SharedState);

/// `201` with a token.
#[derive(ApiResponse)]
pub enum Registered {
    /// Account created and signed in.
    #[oai(status = 201)]
    Created(Json<AuthOut>),
}

/// `204`.
#[derive(ApiResponse)]
pub enum NoContent {
    /// Done.
    #[oai(status = 204)]
    Done,
}

fn signed_in(s: SignedIn) -> AuthOut {
    AuthOut {
        token: s.token,
        user: UserOut::own(UserView {
            user: s.user,
            online: false,
        }),
    }
}

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account; answers with a token.
    #[oai(path = "/register", method = "post")]
    async fn register(&self, body: Json<RegisterIn>) -> Result<Registered, ApiError> {
        let s = self
            .0
            .services
            .auth
            .register(&body.phone, &body.password, &body.username)
            .await?;
        Ok(Registered::Created(Json(signed_in(s))))
    }

    /// Sign in with phone and password. Unknown phone and wrong password answer alike
    /// (`401 invalid_credentials`).
    #[oai(path = "/login", method = "post")]
    async fn login(&self, req: &Request, body: Json<LoginIn>) -> Result<Json<AuthOut>, ApiError> {
        // The stored form when the phone is valid, so that "+1 555-0001" and "+15550001"
        // share one allowance.
        let phone = normalize_phone(&body.phone).unwrap_or_else(|_| body.phone.clone());
        let address = match req.remote_addr().0 {
            poem::Addr::SocketAddr(addr) => Some(addr.ip()),
            _ => None,
        };
        let throttle = &self.0.login_throttle;
        throttle.admit(&phone, address)?;
        match self
            .0
            .services
            .auth
            .login(&body.phone, &body.password)
            .await
        {
            Ok(s) => Ok(Json(signed_in(s))),
            Err(e) => {
                if matches!(e, CoreError::InvalidCredentials) {
                    throttle.failed(&phone, address);
                }
                Err(e.into())
            }
        }
    }

    /// Revoke this token (not the user's other sessions) on every node, and close the
    /// sockets opened with it (close code 4001).
    #[oai(path = "/logout", method = "post")]
    async fn logout(&self, auth: BearerAuth) -> Result<NoContent, ApiError> {
        self.0.services.auth.logout(&auth.0).await?;
        Ok(NoContent::Done)
    }
}
