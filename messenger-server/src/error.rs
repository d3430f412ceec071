//! The one place where domain errors become HTTP statuses and protocol codes.

use crate::protocol::dto::ErrorBody;
use crate::protocol::errors::public_message;
use messenger_core::CoreError;
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::ApiResponse;

/// An error answer of the HTTP API.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// `invalid_input`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `unauthorized`, `invalid_credentials`.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `forbidden`.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// `not_found`.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `phone_taken`, `username_taken`.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// `too_large`.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// `rate_limited`.
    #[oai(status = 429)]
    RateLimited(Json<ErrorBody>),
    /// `unavailable`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
    /// `internal`: a bug; the details are in the server's log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        let body = Json(ErrorBody::new(err.code(), public_message(&err)));
        match err {
            CoreError::InvalidInput { .. } => ApiError::BadRequest(body),
            CoreError::Unauthorized(_) | CoreError::InvalidCredentials => {
                ApiError::Unauthorized(body)
            }
            CoreError::Forbidden(_) => ApiError::Forbidden(body),
            CoreError::NotFound(_) => ApiError::NotFound(body),
            CoreError::PhoneTaken | CoreError::UsernameTaken => ApiError::Conflict(body),
            CoreError::TooLarge(_) => ApiError::TooLarge(body),
            CoreError::RateLimited(_) => ApiError::RateLimited(body),
            CoreError::Unavailable(_) => ApiError::Unavailable(body),
            CoreError::Internal(_) => ApiError::Internal(body),
        }
    }
}

/// The protocol's code for an HTTP status that did not come from a domain error (routing,
/// parsing, auth extraction, body limits).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 411 | 415 | 422 => "invalid_input",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "too_large",
        429 => "rate_limited",
        503 => "unavailable",
        _ => "internal",
    }
}
