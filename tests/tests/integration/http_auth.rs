//! Accounts and sessions over HTTP: `POST /register`, `POST /login`, `POST /logout`, `GET /me`,
//! their validation rules and error codes, and how every route treats a missing or bad token.

use crate::common;

use common::assertions::*;

use common::{spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn is_invalid_naming(status: StatusCode, body: &Value, field: &str) -> bool {
    status == StatusCode::BAD_REQUEST
        && body["error"]["code"] == "invalid_input"
        && body["error"]["message"]
            .as_str()
            .is_some_and(|m| names_field(m, field))
}

async fn register(
    app: &TestApp,
    phone: &str,
    password: &str,
    username: &str,
) -> (StatusCode, Value) {
    app.request(
        Method::POST,
        "/register",
        None,
        Some(json!({"phone": phone, "password": password, "username": username})),
    )
    .await
}

async fn login(app: &TestApp, phone: &str, password: &str) -> (StatusCode, Value) {
    app.request(
        Method::POST,
        "/login",
        None,
        Some(json!({"phone": phone, "password": password})),
    )
    .await
}

/// Sends `body` as is, with `Content-Type: application/json`.
async fn post_raw(app: &TestApp, path: &str, body: &str) -> (StatusCode, Value) {
    let resp = app
        .http
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = resp.status();
    let text = resp.text().await.expect("body read");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// GET `path` with `Authorization: <header>` exactly as given.
async fn get_with_authorization(app: &TestApp, path: &str, header: &str) -> (StatusCode, Value) {
    let resp = app
        .http
        .get(app.url(path))
        .header("authorization", header)
        .send()
        .await
        .expect("request sent");
    let status = resp.status();
    let text = resp.text().await.expect("body read");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

#[tokio::test]
async fn register_answers_201_with_a_token_and_the_user_with_their_phone() {
    let app = spawn_app().await;
    let (status, body) = register(&app, "+15550001111", "correct horse", "alice").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        body["token"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let user = &body["user"];
    assert!(user["user_id"].is_i64(), "{body}");
    assert_eq!(user["username"], "alice");
    assert_eq!(user["phone"], "+15550001111");
    assert_eq!(user["online"], false);

    let token = body["token"].as_str().unwrap();
    let (status, me) = app.get("/me", token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], user["user_id"]);
}

#[tokio::test]
async fn register_strips_spaces_dashes_and_brackets_from_the_phone_and_stores_plus_digits() {
    let app = spawn_app().await;
    let (status, body) = register(&app, "+1 (555) 000-1234", "correct horse", "alice").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["phone"], "+15550001234");

    let (status, me) = app.get("/me", body["token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["phone"], "+15550001234");

    let (status, body) = login(&app, "+15550001234", "correct horse").await;
    assert_eq!(status, StatusCode::OK, "login with the stored form: {body}");
    assert_eq!(body["user"]["phone"], "+15550001234");
}

#[tokio::test]
async fn register_accepts_a_phone_of_7_to_15_digits_and_refuses_anything_else_naming_phone() {
    let app = spawn_app().await;
    for (i, phone) in ["+1234567", "+123456789012345", "+7 65-43 21"]
        .iter()
        .enumerate()
    {
        let (status, body) = register(&app, phone, "correct horse", &format!("ok_{i}")).await;
        assert_eq!(status, StatusCode::CREATED, "phone {phone:?}: {body}");
    }
    for (i, phone) in [
        "15550001234",       // no '+'
        "+123456",           // 6 digits
        "+1234567890123456", // 16 digits
        "+1555abc1234",      // letters
        "+1.555.000.1234",   // dots are not stripped
        "+",
        "",
    ]
    .iter()
    .enumerate()
    {
        let (status, body) = register(&app, phone, "correct horse", &format!("bad_{i}")).await;
        assert_invalid(status, &body, "phone");
    }
}

#[tokio::test]
async fn register_accepts_a_password_of_8_to_128_characters_and_refuses_others_naming_password() {
    let app = spawn_app().await;
    let ok = [
        "a".repeat(8),
        "a".repeat(128),
        "éééééééé".to_owned(), // 8 characters, 16 bytes
    ];
    for (i, password) in ok.iter().enumerate() {
        let phone = format!("+1555000200{i}");
        let (status, body) = register(&app, &phone, password, &format!("ok_{i}")).await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "password of {} chars: {body}",
            password.chars().count()
        );
    }
    let bad = [
        String::new(),
        "a".repeat(7),
        "a".repeat(129),
        "ééééééé".to_owned(), // 7 characters, 14 bytes
    ];
    for (i, password) in bad.iter().enumerate() {
        let phone = format!("+1555000300{i}");
        let (status, body) = register(&app, &phone, password, &format!("bad_{i}")).await;
        assert_invalid(status, &body, "password");
    }
}

#[tokio::test]
async fn register_accepts_a_username_of_3_to_32_letters_digits_underscores_and_dots_only() {
    let app = spawn_app().await;
    let ok = [
        "abc".to_owned(),
        "a".repeat(32),
        "Under_score.Dot9".to_owned(),
    ];
    for (i, username) in ok.iter().enumerate() {
        let phone = format!("+1555000400{i}");
        let (status, body) = register(&app, &phone, "correct horse", username).await;
        assert_eq!(status, StatusCode::CREATED, "username {username:?}: {body}");
        assert_eq!(
            body["user"]["username"],
            username.as_str(),
            "stored as sent"
        );
    }
    let bad = [
        String::new(),
        "ab".to_owned(),
        "b".repeat(33),
        "bad name".to_owned(),
        "bad-name".to_owned(),
        "café".to_owned(),
        "bad@name".to_owned(),
    ];
    for (i, username) in bad.iter().enumerate() {
        let phone = format!("+1555000500{i}");
        let (status, body) = register(&app, &phone, "correct horse", username).await;
        assert_invalid(status, &body, "username");
    }
}

#[tokio::test]
async fn register_with_a_phone_already_in_use_is_409_phone_taken_even_written_differently() {
    let app = spawn_app().await;
    let (status, body) = register(&app, "+15550001234", "correct horse", "alice").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, body) = register(&app, "+15550001234", "correct horse", "bob").await;
    assert_error(status, &body, StatusCode::CONFLICT, "phone_taken");

    let (status, body) = register(&app, "+1 (555) 000-1234", "correct horse", "carol").await;
    assert_error(status, &body, StatusCode::CONFLICT, "phone_taken");
}

#[tokio::test]
async fn register_with_a_username_taken_ignoring_case_is_409_username_taken() {
    let app = spawn_app().await;
    let (status, body) = register(&app, "+15550001111", "correct horse", "AliCe").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["user"]["username"], "AliCe",
        "the stored form keeps its case"
    );

    for (i, username) in ["AliCe", "alice", "ALICE"].iter().enumerate() {
        let phone = format!("+1555000222{i}");
        let (status, body) = register(&app, &phone, "correct horse", username).await;
        assert_error(status, &body, StatusCode::CONFLICT, "username_taken");
    }
}

#[tokio::test]
async fn register_with_malformed_json_is_400_invalid_input() {
    let app = spawn_app().await;
    for raw in [
        "{not json",
        "",
        "[]",
        "\"alice\"",
        "{\"phone\": \"+15550001234\",",
    ] {
        let (status, body) = post_raw(&app, "/register", raw).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    }
}

#[tokio::test]
async fn register_with_a_missing_field_is_400_naming_the_field() {
    let app = spawn_app().await;
    let full = json!({"phone": "+15550001234", "password": "correct horse", "username": "alice"});
    let mut failures = Vec::new();
    for field in ["phone", "password", "username"] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        let (status, resp) = app
            .request(Method::POST, "/register", None, Some(body))
            .await;
        if !is_invalid_naming(status, &resp, field) {
            failures.push(format!("without {field}: {status} {resp}"));
        }
    }
    assert!(
        failures.is_empty(),
        "expected 400 invalid_input naming the field:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn register_with_a_field_of_the_wrong_type_is_400_naming_the_field() {
    let app = spawn_app().await;
    let full = json!({"phone": "+15550001234", "password": "correct horse", "username": "alice"});
    let mut failures = Vec::new();
    for (field, wrong) in [
        ("phone", json!(15550001234_i64)),
        ("password", json!(12345678)),
        ("username", json!(["alice"])),
    ] {
        let mut body = full.clone();
        body[field] = wrong.clone();
        let (status, resp) = app
            .request(Method::POST, "/register", None, Some(body))
            .await;
        if !is_invalid_naming(status, &resp, field) {
            failures.push(format!("{field} = {wrong}: {status} {resp}"));
        }
    }
    assert!(
        failures.is_empty(),
        "expected 400 invalid_input naming the field:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn login_answers_200_with_a_fresh_token_and_the_user_with_their_phone() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = login(&app, &alice.phone, &alice.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["user_id"], alice.id);
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["phone"], alice.phone.as_str());
    let token = body["token"].as_str().expect("token");

    let (status, me) = app.get("/me", token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], alice.id);
}

#[tokio::test]
async fn login_with_an_unknown_phone_or_a_wrong_password_is_invalid_credentials_alike() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;

    let (status, wrong_password) = login(&app, &alice.phone, "not the password").await;
    assert_error(
        status,
        &wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );

    let (status, unknown_phone) = login(&app, "+19998887777", &alice.password).await;
    assert_error(
        status,
        &unknown_phone,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );

    assert_eq!(
        wrong_password, unknown_phone,
        "the two answers are indistinguishable"
    );
}

#[tokio::test]
async fn login_with_malformed_json_or_a_missing_field_is_400_invalid_input() {
    let app = spawn_app().await;
    let (status, body) = post_raw(&app, "/login", "{not json").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");

    let (status, body) = app
        .request(
            Method::POST,
            "/login",
            None,
            Some(json!({"phone": "+15550001234"})),
        )
        .await;
    assert_invalid(status, &body, "password");

    let (status, body) = app
        .request(
            Method::POST,
            "/login",
            None,
            Some(json!({"password": "correct horse"})),
        )
        .await;
    assert_invalid(status, &body, "phone");
}

#[tokio::test]
async fn logout_is_204_and_that_token_is_then_unauthorized_while_other_sessions_still_work() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = login(&app, &alice.phone, &alice.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["token"].as_str().unwrap().to_owned();

    let (status, body) = app
        .request(Method::POST, "/logout", Some(&alice.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let (status, body) = app.get("/me", &alice.token).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

    let (status, body) = app.get("/me", &second).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the other session still works: {body}"
    );
    assert_eq!(body["user_id"], alice.id);
}

#[tokio::test]
async fn logout_twice_with_the_same_token_is_unauthorized_the_second_time() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = app
        .request(Method::POST, "/logout", Some(&alice.token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app
        .request(Method::POST, "/logout", Some(&alice.token), None)
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn me_is_the_callers_own_user_with_phone_and_offline_without_sockets() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, me) = app.get("/me", &alice.token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], alice.id);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["phone"], alice.phone.as_str());
    assert_eq!(me["online"], false);
}

#[tokio::test]
async fn a_missing_token_is_401_unauthorized_with_the_error_envelope() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/me"),
        (Method::GET, "/chats"),
        (Method::GET, "/users?q=al"),
        (Method::POST, "/logout"),
    ] {
        let (status, body) = app.request(method.clone(), path, None, None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        let envelope = body.as_object().expect("a JSON object");
        assert_eq!(envelope.len(), 1, "only `error` at the top: {body}");
        let error = body["error"].as_object().expect("error object");
        assert!(
            error["code"].is_string() && error["message"].is_string(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_garbage_token_is_401_unauthorized() {
    let app = spawn_app().await;
    for token in ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "Bearer"] {
        let (status, body) = app.get("/me", token).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let (status, body) = get_with_authorization(&app, "/me", "Basic YWxpY2U6cGFzc3dvcmQ=").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = get_with_authorization(&app, "/me", "Bearer ").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_token_with_a_bad_signature_is_401_unauthorized() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let parts: Vec<&str> = alice.token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT: {}", alice.token);

    // Flip one character in the middle of the signature.
    let mut signature: Vec<char> = parts[2].chars().collect();
    let mid = signature.len() / 2;
    signature[mid] = if signature[mid] == 'A' { 'B' } else { 'A' };
    let signature: String = signature.into_iter().collect();
    let forged = format!("{}.{}.{}", parts[0], parts[1], signature);
    let (status, body) = app.get("/me", &forged).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

    // Another user's claims under alice's signature.
    let bob = app.register("bob").await;
    let bob_parts: Vec<&str> = bob.token.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], bob_parts[1], parts[2]);
    let (status, body) = app.get("/me", &swapped).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

    let (status, body) = app.get("/me", &alice.token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the genuine token still works: {body}"
    );
}

#[tokio::test]
async fn failed_logins_for_one_phone_are_throttled_and_the_right_password_waits_too() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(login(&app, &alice.phone, "not the password").await);
    }
    for (status, body) in &statuses[..5] {
        assert_error(
            *status,
            body,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
    }
    let (status, body) = &statuses[5];
    assert_error(*status, body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Throttled means throttled: a guess that happens to be right is refused as well.
    let (status, body) = login(&app, &alice.phone, &alice.password).await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");

    // Another phone from the same address still signs in.
    let (status, body) = login(&app, &bob.phone, &bob.password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn successful_logins_and_sign_ups_from_one_address_are_never_throttled() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for n in 0..40 {
        let (status, body) = login(&app, &alice.phone, &alice.password).await;
        assert_eq!(status, StatusCode::OK, "login {n}: {body}");
    }
    for n in 0..40 {
        app.register(&format!("user{n}")).await;
    }
}

/// quick-xml is linked (poem-openapi turns on poem's XML support) but must never parse a
/// request: deny.toml's advisory ignores rest on this.
#[tokio::test]
async fn an_xml_body_is_refused_unparsed() {
    let app = spawn_app().await;
    let attributes: String = (0..20_000).map(|i| format!(" a{i}=\"1\"")).collect();
    let resp = app
        .http
        .post(app.url("/register"))
        .header("content-type", "application/xml")
        .body(format!("<user{attributes}/>"))
        .send()
        .await
        .expect("the server answers");
    let status = resp.status();
    let body: Value = resp.json().await.expect("a JSON error body");
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{status}: {body}"
    );
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
}
