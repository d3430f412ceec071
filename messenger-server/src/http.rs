//! HTTP middleware: the request body cap, one JSON error shape for every failure, and a span
//! per request.

use crate::error::code_for_status;
use crate::metrics::Metrics;
use crate::payload_errors::PayloadSchemas;
use crate::protocol::dto::ErrorBody;
use poem::http::{header, StatusCode};
use poem::web::Json;
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;
use tracing::Instrument;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(ErrorBody::new(
            "too_large",
            format!("request bodies are limited to {MAX_BODY} bytes"),
        )),
    )
        .into_response()
}

/// Refuses bodies over [`MAX_BODY`] (declared or chunked) with `413 too_large`, and turns
/// every error that is not already JSON (unknown route, wrong method, unparsable body or
/// parameter, missing token) into the protocol's `{"error": {code, message}}`, naming the
/// field when a JSON body did not fit its schema.
pub async fn edge<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    schemas: Arc<PayloadSchemas>,
    metrics: Arc<Metrics>,
) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("http", %method, %path);
    async move {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        match declared {
            Some(n) if n > MAX_BODY => return Ok(too_large()),
            Some(_) => {}
            None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
                match req.take_body().into_bytes_limit(MAX_BODY).await {
                    Ok(bytes) => req.set_body(bytes),
                    Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
                    Err(e) => {
                        let body = ErrorBody::new("invalid_input", format!("unreadable body: {e}"));
                        return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
                    }
                }
            }
            None => {}
        }
        let is_json_body = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let body = if is_json_body {
            match req.take_body().into_bytes_limit(MAX_BODY).await {
                Ok(bytes) => {
                    req.set_body(bytes.clone());
                    Some(bytes)
                }
                Err(poem::error::ReadBodyError::PayloadTooLarge) => return Ok(too_large()),
                Err(_) => None,
            }
        } else {
            None
        };
        if let Some(problem) = body
            .as_deref()
            .and_then(|b| schemas.check_body(method.as_str(), &path, b))
        {
            let body = ErrorBody::new("invalid_input", problem);
            return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
        }
        let resp = match ep.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => err.into_response(),
        };
        let shaped = shape_error(resp, body.as_deref(), &schemas, (method.as_str(), &path)).await;
        if shaped.status().is_client_error() || shaped.status().is_server_error() {
            metrics.error(code_for_status(shaped.status()), "http");
        }
        Ok(shaped)
    }
    .instrument(span)
    .await
}

async fn shape_error(
    resp: Response,
    body: Option<&[u8]>,
    schemas: &PayloadSchemas,
    (method, path): (&str, &str),
) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return resp;
    }
    // The protocol has no 415: a body without a JSON content type is malformed input.
    let status = if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let text = resp.into_body().into_string().await.unwrap_or_default();
    let code = code_for_status(status);
    let explained = match (status, body) {
        (StatusCode::BAD_REQUEST, Some(body)) => schemas.explain(&text, body),
        _ => None,
    };
    let message = match (code, text.trim()) {
        _ if explained.is_some() => explained.unwrap_or_default(),
        (_, t) if !t.is_empty() => schemas.name_path_params(method, path, t),
        ("not_found", _) => "no such route".to_owned(),
        ("method_not_allowed", _) => "this route does not take this method".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    if status.is_server_error() {
        tracing::error!(%status, %message, "server error");
    }
    (status, Json(ErrorBody::new(code, message))).into_response()
}
