//! `GET /healthz`, `GET /readyz`.

use super::ApiTags;
use crate::protocol::dto::HealthOut;
use crate::state::SharedState;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

/// Health routes.
pub struct HealthApi(pub SharedState);

/// Readiness.
#[derive(ApiResponse)]
pub enum Readiness {
    /// Every backing service answers.
    #[oai(status = 200)]
    Ready(Json<HealthOut>),
    /// A backing service does not answer.
    #[oai(status = 503)]
    NotReady(Json<HealthOut>),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// 200 while the process runs.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> Json<HealthOut> {
        Json(HealthOut {
            status: "ok".into(),
        })
    }

    /// 200 when the backing services answer (always, in memory), else 503.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self) -> Readiness {
        match self.0.storage.ready().await {
            Ok(_) => Readiness::Ready(Json(HealthOut {
                status: "ok".into(),
            })),
            Err(e) => {
                // The cause is for operators (the log), not for whoever asks without a token.
                tracing::warn!(error = %messenger_core::error::Chain(&e), "not ready");
                Readiness::NotReady(Json(HealthOut {
                    status: "unavailable".into(),
                }))
            }
        }
    }
}
