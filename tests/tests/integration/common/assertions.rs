//! Assertions on the protocol's error answers, shared by the HTTP tests.

use reqwest::StatusCode;
use serde_json::Value;

/// Whether `message` names `field` as a word of its own (not inside another word).
pub fn names_field(message: &str, field: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    message.match_indices(field).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + field.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "status; body: {body}");
    assert_eq!(body["error"]["code"], code, "error code; body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error message; body: {body}"
    );
}

#[track_caller]
pub fn assert_invalid(status: StatusCode, body: &Value, field: &str) {
    assert_error(status, body, StatusCode::BAD_REQUEST, "invalid_input");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        names_field(message, field),
        "the message should name `{field}`; body: {body}"
    );
}

#[track_caller]
pub fn assert_not_found(status: StatusCode, body: &Value) {
    assert_error(status, body, StatusCode::NOT_FOUND, "not_found");
}
