//! The authorization matrix: what a stranger, a participant who is not the author, a
//! participant who is not the owner, and a bad token may do (nothing), over HTTP and on both
//! sockets, on one node and on every node.
//!
//! Invisible things are 404 `not_found` (never 403, and answered exactly like a chat or message
//! that does not exist); 403 `forbidden` is only for a visible thing the caller may not change;
//! a missing, garbled, expired, foreign, unsigned or revoked token is 401 `unauthorized`.
//! Also: a socket frame about another chat's message is `not_found`; a removed participant gets
//! nothing sent after the removal; a `client_id` is its author's; nobody sees another's phone.

use crate::common;

use common::{shared_backend, spawn_app, spawn_app_with, spawn_on, TestApp, TestUser, WAIT};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use messenger_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

// ---------------------------------------------------------------------------------------------
// Scaffolding

/// A chat and a message id that were never created.
const NO_CHAT: i64 = 987_654_321;
const NO_MESSAGE: i64 = 987_654_321;

/// One HTTP call of a matrix.
#[derive(Clone)]
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
}

impl Call {
    fn new(method: Method, path: impl Into<String>, body: Option<Value>) -> Self {
        Call {
            method,
            path: path.into(),
            body,
        }
    }

    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// vera owns a group with fred (and one message of hers in it), and fred and vera share a
/// direct chat (one message of fred's); mallory is in neither.
struct Scene {
    app: TestApp,
    vera: TestUser,
    fred: TestUser,
    mallory: TestUser,
    group: i64,
    group_message: Value,
    direct: i64,
    direct_message: Value,
}

const GROUP_NAME: &str = "Vera's vault planning";
const GROUP_TEXT: &str = "the vault code is 31337-secret";
const DIRECT_TEXT: &str = "fred whispers: meet at pier 39";

async fn scene() -> Scene {
    let app = spawn_app().await;
    let vera = app.register("vera").await;
    let fred = app.register("fred").await;
    let mallory = app.register("mallory").await;
    let group = app.create_group(&vera, GROUP_NAME, &[&fred]).await;
    let group_message = app.send(&vera, group, GROUP_TEXT).await;
    let (status, sent) = app
        .post(
            &format!("/users/{}/messages", vera.id),
            &fred.token,
            json!({"text": DIRECT_TEXT}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "direct message: {sent}");
    Scene {
        direct: sent["chat"]["chat_id"].as_i64().expect("chat_id"),
        direct_message: sent["message"].clone(),
        app,
        vera,
        fred,
        mallory,
        group,
        group_message,
    }
}

impl Scene {
    /// What a stranger's error answer must never contain.
    fn secrets(&self) -> Vec<String> {
        vec![
            GROUP_NAME.to_owned(),
            GROUP_TEXT.to_owned(),
            DIRECT_TEXT.to_owned(),
            self.vera.phone.clone(),
            self.fred.phone.clone(),
        ]
    }
}

fn id_of(message: &Value) -> i64 {
    message["message_id"].as_i64().expect("message_id")
}

/// Every route that names a chat or a message, as a non-participant would call it on `chat`
/// and `message`; `member` is a participant of the chat. Deletions come last, so that a
/// wrongly allowed one does not hide the answers to the others.
fn routes_about(chat: i64, message: i64, member: i64, stranger: i64) -> Vec<Call> {
    use Method as M;
    vec![
        Call::new(M::GET, format!("/chats/{chat}"), None),
        Call::new(M::GET, format!("/chats/{chat}/messages"), None),
        Call::new(
            M::GET,
            format!("/chats/{chat}/messages?before={}&limit=100", message + 1),
            None,
        ),
        Call::new(
            M::PATCH,
            format!("/chats/{chat}"),
            Some(json!({"name": "renamed by a stranger"})),
        ),
        Call::new(
            M::POST,
            format!("/chats/{chat}/participants"),
            Some(json!({"user_id": stranger})),
        ),
        Call::new(
            M::POST,
            format!("/chats/{chat}/read"),
            Some(json!({"message_id": message})),
        ),
        Call::new(
            M::POST,
            format!("/chats/{chat}/messages"),
            Some(json!({"text": "a stranger was here"})),
        ),
        Call::new(
            M::POST,
            format!("/chats/{chat}/messages"),
            Some(json!({"text": "a stranger was here", "client_id": "stranger-1"})),
        ),
        Call::new(
            M::PATCH,
            format!("/messages/{message}"),
            Some(json!({"text": "edited by a stranger"})),
        ),
        Call::new(M::DELETE, format!("/messages/{message}"), None),
        Call::new(
            M::DELETE,
            format!("/chats/{chat}/participants/{member}"),
            None,
        ),
        Call::new(
            M::DELETE,
            format!("/chats/{chat}/participants/{stranger}"),
            None,
        ),
        Call::new(M::DELETE, format!("/chats/{chat}"), None),
    ]
}

/// Runs `calls` as `token` and checks each is 404 `not_found`, leaks none of `secrets`, and is
/// answered exactly like the same call on things that do not exist (`unknown`). Returns one
/// line per failure, naming the route.
async fn expect_invisible(
    app: &TestApp,
    token: &str,
    calls: &[Call],
    unknown: &[Call],
    secrets: &[String],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (call, twin) in calls.iter().zip(unknown) {
        let (status, body) = app
            .request(
                call.method.clone(),
                &call.path,
                Some(token),
                call.body.clone(),
            )
            .await;
        let name = call.name();
        if status != StatusCode::NOT_FOUND || body["error"]["code"] != "not_found" {
            failures.push(format!(
                "{name}: expected 404 not_found, got {status} {body}"
            ));
            continue;
        }
        if body["error"]["message"].as_str().is_none_or(str::is_empty) {
            failures.push(format!("{name}: no error message: {body}"));
        }
        let text = body.to_string();
        for secret in secrets {
            if text.contains(secret.as_str()) {
                failures.push(format!("{name}: the answer leaks {secret:?}: {body}"));
            }
        }
        let (twin_status, twin_body) = app
            .request(
                twin.method.clone(),
                &twin.path,
                Some(token),
                twin.body.clone(),
            )
            .await;
        if (twin_status, &twin_body) != (status, &body) {
            failures.push(format!(
                "{name}: answered differently from {} on nothing ({status} {body} vs {twin_status} {twin_body}): existence leaks",
                twin.name()
            ));
        }
    }
    failures
}

#[track_caller]
fn assert_no_failures(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// How a socket upgrade went: `Ok` when it opened (then closed at once), else the refusal's
/// status and JSON body.
async fn upgrade(app: &TestApp, path: &str, bearer: Option<&str>) -> Result<(), (u16, Value)> {
    let mut request = app
        .ws_url(path)
        .into_client_request()
        .expect("a websocket request");
    if let Some(token) = bearer {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header value"),
        );
    }
    let Ok(connected) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request)).await
    else {
        panic!("{path}: no answer to the upgrade in time");
    };
    match connected {
        Ok((mut stream, _)) => {
            let _ = stream.close(None).await;
            Ok(())
        }
        Err(tungstenite::Error::Http(resp)) => {
            let body = resp
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((resp.status().as_u16(), body))
        }
        Err(e) => panic!("{path}: the upgrade failed oddly: {e}"),
    }
}

/// `None` when the upgrade was refused with `status` and error `code`, else what went wrong.
async fn expect_refused(
    app: &TestApp,
    what: &str,
    path: &str,
    bearer: Option<&str>,
    status: u16,
    code: &str,
) -> Option<String> {
    match upgrade(app, path, bearer).await {
        Ok(()) => Some(format!("{what}: the upgrade was accepted")),
        Err((got, body)) if got != status || body["error"]["code"] != code => Some(format!(
            "{what}: expected {status} {code}, got {got} {body}"
        )),
        Err(_) => None,
    }
}

/// The page of messages `user` sees in `chat`.
async fn messages_of(app: &TestApp, user: &TestUser, chat: i64) -> Vec<Value> {
    let (status, page) = app
        .get(&format!("/chats/{chat}/messages?limit=100"), &user.token)
        .await;
    assert_eq!(status, StatusCode::OK, "messages of {chat}: {page}");
    page["messages"].as_array().expect("messages").clone()
}

// ---------------------------------------------------------------------------------------------
// Tokens made in the test

fn now_secs() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_secs()).expect("in range")
}

/// The test server's signing secret.
fn test_secret() -> String {
    Config::for_tests()
        .jwt_secret
        .expect("the test config has a fixed secret")
        .expose()
        .to_owned()
}

/// A token with the server's claim shape (`sub`, `exp`, `iat`, `jti`).
fn forge(user: i64, exp: i64, alg: Algorithm, secret: &str) -> String {
    let claims = json!({
        "sub": user.to_string(),
        "exp": exp,
        "iat": now_secs() - 10,
        "jti": format!("forged-{user}-{exp}"),
    });
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signing works")
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// `{"alg":"none"}`, a well-formed payload for `user`, and no signature.
fn unsigned(user: i64) -> String {
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({
        "sub": user.to_string(),
        "exp": now_secs() + 3600,
        "iat": now_secs() - 10,
        "jti": "unsigned",
    });
    let payload = base64url(claims.to_string().as_bytes());
    format!("{header}.{payload}.")
}

/// Every kind of bad token for `user` (`revoked` is one of theirs, already logged out).
fn bad_tokens(user: i64, revoked: &str) -> Vec<(&'static str, Option<String>)> {
    let secret = test_secret();
    vec![
        ("no token", None),
        ("a garbage token", Some("garbage".to_owned())),
        (
            "an expired token",
            Some(forge(user, now_secs() - 60, Algorithm::HS256, &secret)),
        ),
        (
            "a token signed with another secret",
            Some(forge(
                user,
                now_secs() + 3600,
                Algorithm::HS256,
                "another-secret",
            )),
        ),
        ("an alg:none token", Some(unsigned(user))),
        (
            "a token signed with our secret but HS512",
            Some(forge(user, now_secs() + 3600, Algorithm::HS512, &secret)),
        ),
        ("a revoked token", Some(revoked.to_owned())),
    ]
}

/// Signs in `user` once more and logs that session out; returns its (now revoked) token.
async fn revoked_token(app: &TestApp, user: &TestUser) -> String {
    let (status, body) = app
        .request(
            Method::POST,
            "/login",
            None,
            Some(json!({"phone": user.phone, "password": user.password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "login: {body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let (status, body) = app
        .request(Method::POST, "/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "logout: {body}");
    token
}

/// Every authenticated HTTP operation: (method, documented path, concrete path, body).
fn authenticated_routes(
    chat: i64,
    message: i64,
    me: i64,
    other: i64,
) -> Vec<(Method, &'static str, Call)> {
    use Method as M;
    let route = |method: M, template: &'static str, path: String, body: Option<Value>| {
        (method.clone(), template, Call::new(method, path, body))
    };
    vec![
        route(M::GET, "/me", "/me".into(), None),
        route(M::GET, "/users", "/users?q=ve".into(), None),
        route(M::GET, "/users/{user_id}", format!("/users/{other}"), None),
        route(
            M::POST,
            "/users/{user_id}/messages",
            format!("/users/{other}/messages"),
            Some(json!({"text": "hello"})),
        ),
        route(M::GET, "/chats", "/chats".into(), None),
        route(
            M::POST,
            "/chats",
            "/chats".into(),
            Some(json!({"name": "new", "participants": []})),
        ),
        route(M::GET, "/chats/{id}", format!("/chats/{chat}"), None),
        route(
            M::PATCH,
            "/chats/{id}",
            format!("/chats/{chat}"),
            Some(json!({"name": "renamed"})),
        ),
        route(
            M::POST,
            "/chats/{id}/participants",
            format!("/chats/{chat}/participants"),
            Some(json!({"user_id": other})),
        ),
        route(
            M::POST,
            "/chats/{id}/read",
            format!("/chats/{chat}/read"),
            Some(json!({"message_id": message})),
        ),
        route(
            M::GET,
            "/chats/{id}/messages",
            format!("/chats/{chat}/messages"),
            None,
        ),
        route(
            M::POST,
            "/chats/{id}/messages",
            format!("/chats/{chat}/messages"),
            Some(json!({"text": "hello"})),
        ),
        route(
            M::PATCH,
            "/messages/{id}",
            format!("/messages/{message}"),
            Some(json!({"text": "edited"})),
        ),
        route(
            M::DELETE,
            "/messages/{id}",
            format!("/messages/{message}"),
            None,
        ),
        route(
            M::DELETE,
            "/chats/{id}/participants/{user_id}",
            format!("/chats/{chat}/participants/{me}"),
            None,
        ),
        route(M::DELETE, "/chats/{id}", format!("/chats/{chat}"), None),
        route(M::POST, "/logout", "/logout".into(), None),
    ]
}

// ---------------------------------------------------------------------------------------------
// Strangers: 404, never 403, and nothing leaks

#[tokio::test]
async fn a_stranger_gets_404_not_found_on_every_route_about_a_group_they_are_not_in() {
    let s = scene().await;
    let message = id_of(&s.group_message);
    let calls = routes_about(s.group, message, s.fred.id, s.mallory.id);
    let unknown = routes_about(NO_CHAT, NO_MESSAGE, s.fred.id, s.mallory.id);
    let failures = expect_invisible(&s.app, &s.mallory.token, &calls, &unknown, &s.secrets()).await;
    assert_no_failures("a stranger on vera's group", failures);

    // Nothing changed: same name, same participants, the one message as it was.
    let (status, chat) = s
        .app
        .get(&format!("/chats/{}", s.group), &s.vera.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{chat}");
    assert_eq!(chat["name"], GROUP_NAME);
    assert_eq!(chat["participants"], json!([s.vera.id, s.fred.id]));
    assert_eq!(
        messages_of(&s.app, &s.vera, s.group).await,
        vec![s.group_message.clone()]
    );
    let (_, mine) = s.app.get("/chats", &s.mallory.token).await;
    assert_eq!(mine, json!([]), "the stranger was never let in");
}

#[tokio::test]
async fn a_stranger_gets_404_not_found_on_every_route_about_a_direct_chat_of_two_others() {
    let s = scene().await;
    let message = id_of(&s.direct_message);
    let calls = routes_about(s.direct, message, s.vera.id, s.mallory.id);
    let unknown = routes_about(NO_CHAT, NO_MESSAGE, s.vera.id, s.mallory.id);
    let failures = expect_invisible(&s.app, &s.mallory.token, &calls, &unknown, &s.secrets()).await;
    assert_no_failures("a stranger on fred and vera's direct chat", failures);

    let (status, chat) = s
        .app
        .get(&format!("/chats/{}", s.direct), &s.vera.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{chat}");
    assert_eq!(chat["kind"], "direct");
    assert_eq!(chat["name"], "fred");
    let mut pair: Vec<i64> = chat["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    pair.sort();
    let mut expected = vec![s.vera.id, s.fred.id];
    expected.sort();
    assert_eq!(pair, expected, "the same pair (in any order)");
    assert_eq!(
        messages_of(&s.app, &s.vera, s.direct).await,
        vec![s.direct_message.clone()]
    );
}

#[tokio::test]
async fn a_stranger_cannot_open_the_chat_socket_the_upgrade_is_refused_with_404() {
    let s = scene().await;
    let mut failures = Vec::new();
    for (what, chat) in [
        ("vera's group", s.group),
        ("the direct chat", s.direct),
        ("no chat", NO_CHAT),
    ] {
        let path = format!("/chat/{chat}?token={}", s.mallory.token);
        failures.extend(
            expect_refused(
                &s.app,
                &format!("{what}, token in the query"),
                &path,
                None,
                404,
                "not_found",
            )
            .await,
        );
        let path = format!("/chat/{chat}");
        failures.extend(
            expect_refused(
                &s.app,
                &format!("{what}, token in the header"),
                &path,
                Some(&s.mallory.token),
                404,
                "not_found",
            )
            .await,
        );
    }
    assert_no_failures("a stranger's /chat/{id}", failures);
    // The participants still get in, so the refusals are about mallory.
    let (ws, history) = s.app.open_chat(&s.fred, s.group).await;
    assert_eq!(history["messages"], json!([s.group_message]));
    ws.close().await;
}

#[tokio::test]
async fn a_former_participant_is_a_stranger_again_even_to_their_own_messages() {
    let s = scene().await;
    let own = s.app.send(&s.fred, s.group, "fred's own words").await;
    let (status, body) = s
        .app
        .delete(
            &format!("/chats/{}/participants/{}", s.group, s.fred.id),
            &s.vera.token,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "vera removes fred: {body}");

    let calls = routes_about(s.group, id_of(&own), s.vera.id, s.fred.id);
    let unknown = routes_about(NO_CHAT, NO_MESSAGE, s.vera.id, s.fred.id);
    let secrets = vec![GROUP_TEXT.to_owned(), s.vera.phone.clone()];
    let failures = expect_invisible(&s.app, &s.fred.token, &calls, &unknown, &secrets).await;
    assert_no_failures("fred, removed from the group", failures);
    let refused = expect_refused(
        &s.app,
        "fred's /chat/{id} after removal",
        &format!("/chat/{}?token={}", s.group, s.fred.token),
        None,
        404,
        "not_found",
    )
    .await;
    assert_eq!(refused, None);

    let messages = messages_of(&s.app, &s.vera, s.group).await;
    assert_eq!(
        messages,
        vec![s.group_message.clone(), own],
        "nothing changed"
    );
}

// ---------------------------------------------------------------------------------------------
// Participants: 403 for what is visible but not theirs to change

#[tokio::test]
async fn a_participant_who_is_not_the_author_gets_403_forbidden_editing_or_deleting_a_message() {
    let s = scene().await;
    let message = id_of(&s.group_message);
    let (status, body) = s
        .app
        .patch(
            &format!("/messages/{message}"),
            &s.fred.token,
            json!({"text": "fred was here"}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden")),
        "PATCH: {body}"
    );
    let (status, body) = s
        .app
        .delete(&format!("/messages/{message}"), &s.fred.token)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden")),
        "DELETE: {body}"
    );

    // The same over fred's socket, which stays open.
    let (mut ws, _) = s.app.open_chat(&s.fred, s.group).await;
    ws.send_json(json!({"type": "MessageUpdated", "client_id": "u1", "message_id": message, "text": "fred was here"}))
        .await;
    let error = ws.next_event().await;
    assert_eq!(
        (&error["type"], &error["code"], &error["client_id"]),
        (&json!("error"), &json!("forbidden"), &json!("u1")),
        "{error}"
    );
    ws.send_json(json!({"type": "MessageDeleted", "client_id": "d1", "message_id": message}))
        .await;
    let error = ws.next_event().await;
    assert_eq!(
        (&error["type"], &error["code"], &error["client_id"]),
        (&json!("error"), &json!("forbidden"), &json!("d1")),
        "{error}"
    );
    ws.send_message("c1", "still connected").await;

    let messages = messages_of(&s.app, &s.vera, s.group).await;
    assert_eq!(
        messages[0], s.group_message,
        "vera's message is as she wrote it"
    );
}

#[tokio::test]
async fn a_participant_who_is_not_the_owner_gets_403_forbidden_deleting_the_group() {
    let s = scene().await;
    let (status, body) = s
        .app
        .delete(&format!("/chats/{}", s.group), &s.fred.token)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden")),
        "{body}"
    );
    let (status, chat) = s
        .app
        .get(&format!("/chats/{}", s.group), &s.vera.token)
        .await;
    assert_eq!(status, StatusCode::OK, "the group lives on: {chat}");
    assert_eq!(
        messages_of(&s.app, &s.fred, s.group).await,
        vec![s.group_message.clone()]
    );

    let (status, body) = s
        .app
        .delete(&format!("/chats/{}", s.group), &s.vera.token)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "its owner may: {body}");
}

#[tokio::test]
async fn a_participant_who_is_not_the_owner_gets_403_forbidden_removing_someone_else() {
    let s = scene().await;
    let gina = s.app.register("gina").await;
    let (status, body) = s
        .app
        .post(
            &format!("/chats/{}/participants", s.group),
            &s.fred.token,
            json!({"user_id": gina.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "any participant may add: {body}");
    for victim in [&s.vera, &gina] {
        let (status, body) = s
            .app
            .delete(
                &format!("/chats/{}/participants/{}", s.group, victim.id),
                &s.fred.token,
            )
            .await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::FORBIDDEN, &json!("forbidden")),
            "fred removing {}: {body}",
            victim.username
        );
    }
    let (_, chat) = s
        .app
        .get(&format!("/chats/{}", s.group), &s.vera.token)
        .await;
    assert_eq!(chat["participants"], json!([s.vera.id, s.fred.id, gina.id]));
    assert_eq!(chat["owner_id"], s.vera.id);
}

// ---------------------------------------------------------------------------------------------
// Frames on your own chat's socket about someone else's chat

#[tokio::test]
async fn frames_on_your_own_chat_socket_about_another_chats_messages_are_not_found() {
    let s = scene().await;
    // mallory's own group, with messages before and after vera's.
    let own = s.app.create_group(&s.mallory, "Mallory's den", &[]).await;
    let before = s.app.send(&s.mallory, own, "mallory one").await;
    let vera_message = s.app.send(&s.vera, s.group, "vera's second secret").await;
    let after = s.app.send(&s.mallory, own, "mallory two").await;
    let target = id_of(&vera_message);
    let (_, own_chat) = s.app.get(&format!("/chats/{own}"), &s.mallory.token).await;

    let mut vera_feed = s.app.open_events(&s.vera).await;
    let (mut ws, _) = s.app.open_chat(&s.mallory, own).await;
    let secrets = ["vera's second secret", GROUP_TEXT, GROUP_NAME];
    let check = |what: &str, frame: &Value, client_id: Value| {
        assert_eq!(
            (&frame["type"], &frame["code"], &frame["client_id"]),
            (&json!("error"), &json!("not_found"), &client_id),
            "{what}: {frame}"
        );
        for secret in secrets {
            assert!(
                !frame.to_string().contains(secret),
                "{what} leaks {secret:?}: {frame}"
            );
        }
    };

    ws.send_json(json!({"type": "MessageUpdated", "client_id": "u1", "message_id": target, "text": "hacked"}))
        .await;
    check(
        "MessageUpdated of vera's message",
        &ws.next_event().await,
        json!("u1"),
    );
    ws.send_json(json!({"type": "MessageDeleted", "client_id": "d1", "message_id": target}))
        .await;
    check(
        "MessageDeleted of vera's message",
        &ws.next_event().await,
        json!("d1"),
    );
    ws.send_json(json!({"type": "read", "message_id": target}))
        .await;
    check(
        "read of vera's message",
        &ws.next_event().await,
        Value::Null,
    );

    // load_more pages through this chat only, wherever `before` points.
    for (before_id, expected) in [
        (target + 1, vec![before.clone()]),
        (i64::MAX, vec![before.clone(), after.clone()]),
    ] {
        ws.send_json(json!({"type": "load_more", "before": before_id, "limit": 100}))
            .await;
        let page = ws.next_event().await;
        assert_eq!(
            page["type"], "history",
            "load_more before {before_id}: {page}"
        );
        assert_eq!(
            page["messages"],
            json!(expected),
            "load_more before {before_id}"
        );
    }

    let (_, own_after) = s.app.get(&format!("/chats/{own}"), &s.mallory.token).await;
    assert_eq!(
        own_after["last_read_message_id"], own_chat["last_read_message_id"],
        "mallory's read marker did not move to a foreign message"
    );

    // The socket is still open and working.
    ws.send_message("c1", "still here").await;

    // vera's data is untouched, and her feed saw nothing of it: the next thing on it is her own
    // next message.
    let messages = messages_of(&s.app, &s.vera, s.group).await;
    assert_eq!(
        messages,
        vec![s.group_message.clone(), vera_message.clone()]
    );
    let marker = s.app.send(&s.vera, s.group, "marker").await;
    let next = vera_feed.next_event().await;
    assert_eq!(
        (&next["type"], &next["message"]),
        (&json!("MessageCreated"), &marker),
        "{next}"
    );
}

#[tokio::test]
async fn over_http_your_own_chat_cannot_reach_another_chats_messages_either() {
    let s = scene().await;
    let own = s.app.create_group(&s.mallory, "Mallory's den", &[]).await;
    let before = s.app.send(&s.mallory, own, "mallory one").await;
    let target = id_of(&s.app.send(&s.vera, s.group, "vera's second secret").await);
    let (_, own_chat) = s.app.get(&format!("/chats/{own}"), &s.mallory.token).await;

    let (status, body) = s
        .app
        .post(
            &format!("/chats/{own}/read"),
            &s.mallory.token,
            json!({"message_id": target}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("not_found")),
        "read up to vera's message in mallory's chat: {body}"
    );
    assert!(!body.to_string().contains("vera's second secret"), "{body}");
    let (_, own_after) = s.app.get(&format!("/chats/{own}"), &s.mallory.token).await;
    assert_eq!(
        own_after["last_read_message_id"],
        own_chat["last_read_message_id"]
    );

    let (status, page) = s
        .app
        .get(
            &format!("/chats/{own}/messages?before={}&limit=100", target + 1),
            &s.mallory.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["messages"], json!([before]), "only mallory's own chat");
}

#[tokio::test]
async fn a_client_id_belongs_to_its_author_reusing_someone_elses_makes_your_own_message() {
    let s = scene().await;
    let (status, veras) = s
        .app
        .post(
            &format!("/chats/{}/messages", s.group),
            &s.vera.token,
            json!({"text": "vera's words", "client_id": "same"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{veras}");

    // fred, same chat, same client_id, over HTTP and over a socket: his own new messages.
    let (status, freds) = s
        .app
        .post(
            &format!("/chats/{}/messages", s.group),
            &s.fred.token,
            json!({"text": "fred's words", "client_id": "same"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{freds}");
    assert_eq!(
        (&freds["author_id"], &freds["text"]),
        (&json!(s.fred.id), &json!("fred's words")),
        "{freds}"
    );
    assert_ne!(freds["message_id"], veras["message_id"]);
    let (mut ws, _) = s.app.open_chat(&s.fred, s.group).await;
    let acked = ws.send_message("same-ws", "fred over the socket").await;
    let (mut vera_ws, _) = s.app.open_chat(&s.vera, s.group).await;
    let vera_acked = vera_ws
        .send_message("same-ws", "vera over the socket")
        .await;
    assert_eq!(
        (&vera_acked["author_id"], &vera_acked["text"]),
        (&json!(s.vera.id), &json!("vera over the socket"))
    );
    assert_ne!(vera_acked["message_id"], acked["message_id"]);

    let texts: Vec<Value> = messages_of(&s.app, &s.vera, s.group)
        .await
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(
        texts,
        vec![
            json!(GROUP_TEXT),
            json!("vera's words"),
            json!("fred's words"),
            json!("fred over the socket"),
            json!("vera over the socket")
        ]
    );
}

#[tokio::test]
async fn another_users_phone_is_never_shown_to_others() {
    let s = scene().await;
    let (status, vera) = s
        .app
        .get(&format!("/users/{}", s.vera.id), &s.mallory.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{vera}");
    assert_eq!(vera["username"], "vera");
    for q in ["ver", s.vera.phone.as_str()] {
        let (status, found) = s
            .app
            .get(
                &format!("/users?q={}", q.replace('+', "%2B")),
                &s.mallory.token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "q={q}: {found}");
        assert_eq!(found.as_array().map(Vec::len), Some(1), "q={q}: {found}");
        assert!(
            !found.to_string().contains(&s.vera.phone),
            "q={q} shows the phone: {found}"
        );
    }
    assert!(
        !vera.to_string().contains(&s.vera.phone),
        "GET /users/{{id}} shows the phone: {vera}"
    );
    let (_, chat) = s
        .app
        .get(&format!("/chats/{}", s.group), &s.fred.token)
        .await;
    assert!(
        !chat.to_string().contains(&s.vera.phone),
        "a chat shows a participant's phone: {chat}"
    );
}

/// Every frame `ws` gets until it closes, and whether it did close (rather than go quiet for
/// [`WAIT`]).
async fn drain(ws: &mut common::Ws) -> (Vec<Value>, bool) {
    let mut frames = Vec::new();
    loop {
        let waited = std::time::Instant::now();
        match ws.try_next_json().await {
            Some(frame) => frames.push(frame),
            None => return (frames, waited.elapsed() < WAIT),
        }
    }
}

/// fred has `/events` and `/chat/{group}` open on `watch`; vera removes him on `act` and at once
/// sends a burst there (over her socket `vera_ws`, then over HTTP). Returns what of it reached
/// fred (one line per failure): his chat socket must close without it, his feed must say
/// `ChatDeleted` and carry none of it.
async fn removal_leaks(
    act: &TestApp,
    watch: &TestApp,
    vera: &TestUser,
    vera_ws: &mut common::Ws,
    fred: &TestUser,
    group: i64,
    label: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fred_feed = watch.open_events(fred).await;
    let (mut fred_ws, _) = watch.open_chat(fred, group).await;
    let (status, body) = act
        .delete(
            &format!("/chats/{group}/participants/{}", fred.id),
            &vera.token,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{label}: {body}");
    // The frames go out back to back, the acks are collected after.
    for i in 0..10 {
        vera_ws
            .send_json(json!({"type": "MessageCreated", "client_id": format!("{label}-{i}"), "text": format!("after removal {label}.{i}")}))
            .await;
    }
    let mut after = BTreeSet::new();
    while after.len() < 10 {
        let frame = vera_ws.next_json().await;
        assert_ne!(frame["type"], "error", "{label}: {frame}");
        if frame["type"] == "ack" {
            after.insert(id_of(&frame["message"]));
        }
    }
    after.insert(id_of(
        &act.send(vera, group, "after removal, over http").await,
    ));
    let sent_after = |f: &Value| {
        f["message"]["message_id"]
            .as_i64()
            .is_some_and(|id| after.contains(&id))
    };

    let (frames, closed) = drain(&mut fred_ws).await;
    if !closed {
        failures.push(format!(
            "{label}: fred's chat socket was not closed on his removal"
        ));
    }
    let leaked: Vec<&Value> = frames.iter().filter(|f| sent_after(f)).collect();
    if !leaked.is_empty() {
        failures.push(format!(
            "{label}: fred's chat socket got messages sent after his removal: {leaked:?}"
        ));
    }

    // His feed: ChatDeleted, and nothing sent after, up to a marker chat made for him now.
    let marker = act.create_group(vera, "marker", &[fred]).await;
    let mut seen = Vec::new();
    loop {
        let frame = fred_feed.next_event().await;
        if frame["type"] == "ChatCreated" && frame["chat"]["chat_id"] == marker {
            break;
        }
        seen.push(frame);
    }
    let leaked: Vec<&Value> = seen.iter().filter(|f| sent_after(f)).collect();
    if !leaked.is_empty() {
        failures.push(format!(
            "{label}: fred's feed got messages sent after his removal: {leaked:?}"
        ));
    }
    if !seen
        .iter()
        .any(|f| f["type"] == "ChatDeleted" && f["chat_id"] == group)
    {
        failures.push(format!("{label}: no ChatDeleted on fred's feed: {seen:?}"));
    }
    fred_feed.close().await;
    failures
}

#[tokio::test]
async fn a_removed_participant_gets_nothing_sent_after_the_removal_on_either_socket() {
    let s = scene().await;
    let (mut vera_ws, _) = s.app.open_chat(&s.vera, s.group).await;
    let mut failures = Vec::new();
    for round in 0..5 {
        let label = format!("round {round}");
        failures.extend(
            removal_leaks(
                &s.app,
                &s.app,
                &s.vera,
                &mut vera_ws,
                &s.fred,
                s.group,
                &label,
            )
            .await,
        );
        // Back in for the next round.
        let (status, body) = s
            .app
            .post(
                &format!("/chats/{}/participants", s.group),
                &s.vera.token,
                json!({"user_id": s.fred.id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_no_failures("a removed participant", failures);
}

// ---------------------------------------------------------------------------------------------
// Bad tokens: 401 everywhere

#[tokio::test]
async fn a_token_forged_with_the_test_secret_is_accepted_so_the_refusals_below_mean_something() {
    let app = spawn_app().await;
    let vera = app.register("vera").await;
    let token = forge(vera.id, now_secs() + 3600, Algorithm::HS256, &test_secret());
    let (status, me) = app.get("/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], vera.id);
    assert_eq!(
        upgrade(&app, &format!("/events?token={token}"), None).await,
        Ok(())
    );
}

#[tokio::test]
async fn every_authenticated_route_answers_401_unauthorized_to_a_missing_or_bad_token() {
    let app = spawn_app().await;
    let vera = app.register("vera").await;
    let fred = app.register("fred").await;
    let chat = app.create_group(&vera, GROUP_NAME, &[]).await;
    let message = app.send(&vera, chat, GROUP_TEXT).await;
    let revoked = revoked_token(&app, &vera).await;
    let routes = authenticated_routes(chat, id_of(&message), vera.id, fred.id);

    let mut failures = Vec::new();
    for (case, token) in bad_tokens(vera.id, &revoked) {
        for (_, _, call) in &routes {
            let (status, body) = app
                .request(
                    call.method.clone(),
                    &call.path,
                    token.as_deref(),
                    call.body.clone(),
                )
                .await;
            if status != StatusCode::UNAUTHORIZED || body["error"]["code"] != "unauthorized" {
                failures.push(format!(
                    "{} with {case}: expected 401 unauthorized, got {status} {body}",
                    call.name()
                ));
            } else if body["error"]["message"].as_str().is_none_or(str::is_empty) {
                failures.push(format!(
                    "{} with {case}: no error message: {body}",
                    call.name()
                ));
            }
        }
    }
    assert_no_failures("bad tokens over HTTP", failures);

    // None of it did anything.
    let (status, chats) = app.get("/chats", &vera.token).await;
    assert_eq!(status, StatusCode::OK, "{chats}");
    assert_eq!(chats.as_array().map(Vec::len), Some(1), "{chats}");
    assert_eq!(chats[0]["name"], GROUP_NAME);
    assert_eq!(chats[0]["participants"], json!([vera.id]));
    assert_eq!(messages_of(&app, &vera, chat).await, vec![message]);
    let (_, fred_chats) = app.get("/chats", &fred.token).await;
    assert_eq!(fred_chats, json!([]));
}

#[tokio::test]
async fn the_401_table_covers_every_operation_the_openapi_document_secures() {
    let app = spawn_app().await;
    let (status, doc) = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let mut secured = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            if operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
            {
                secured.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let tested: BTreeSet<(String, String)> = authenticated_routes(1, 1, 1, 2)
        .into_iter()
        .map(|(method, template, _)| (method.to_string(), template.to_owned()))
        .collect();
    let untested: Vec<_> = secured.difference(&tested).collect();
    assert!(
        untested.is_empty(),
        "secured operations missing from the 401 table: {untested:?}"
    );
    let undocumented: Vec<_> = tested.difference(&secured).collect();
    assert!(
        undocumented.is_empty(),
        "routes that need a token but whose OpenAPI operation has no security: {undocumented:?}"
    );
}

#[tokio::test]
async fn both_sockets_refuse_the_upgrade_with_401_for_a_missing_or_bad_token() {
    let app = spawn_app().await;
    let vera = app.register("vera").await;
    let chat = app.create_group(&vera, GROUP_NAME, &[]).await;
    let revoked = revoked_token(&app, &vera).await;

    let mut failures = Vec::new();
    for (case, token) in bad_tokens(vera.id, &revoked) {
        for route in [format!("/chat/{chat}"), "/events".to_owned()] {
            let query = match &token {
                Some(t) => format!("{route}?token={t}"),
                None => route.clone(),
            };
            failures.extend(
                expect_refused(
                    &app,
                    &format!("{route} with {case} in the query"),
                    &query,
                    None,
                    401,
                    "unauthorized",
                )
                .await,
            );
            if let Some(t) = &token {
                failures.extend(
                    expect_refused(
                        &app,
                        &format!("{route} with {case} in the header"),
                        &route,
                        Some(t),
                        401,
                        "unauthorized",
                    )
                    .await,
                );
            }
        }
    }
    assert_no_failures("bad tokens on the sockets", failures);

    // A good token still opens both.
    let (ws, _) = app.open_chat(&vera, chat).await;
    ws.close().await;
    app.open_events(&vera).await.close().await;
}

#[tokio::test]
async fn a_token_past_its_lifetime_is_401_unauthorized_over_http_and_on_the_sockets() {
    // A lifetime of zero: every token this server issues is past it the moment it is issued,
    // so nothing waits for a clock (a 1-second lifetime made the setup race the expiry on a
    // loaded machine).
    let app = spawn_app_with(Config {
        token_ttl_secs: 0,
        ..Config::for_tests()
    })
    .await;
    let vera = app.register("vera").await;
    // The chat is made with a token of the same secret that is still valid.
    let valid = TestUser {
        token: forge(vera.id, now_secs() + 3600, Algorithm::HS256, &test_secret()),
        ..vera.clone()
    };
    let chat = app.create_group(&valid, GROUP_NAME, &[]).await;

    let (status, body) = app.get("/me", &vera.token).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized")),
        "{body}"
    );
    let (status, body) = app.get(&format!("/chats/{chat}"), &vera.token).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("unauthorized")),
        "{body}"
    );
    for path in [
        format!("/chat/{chat}?token={}", vera.token),
        format!("/events?token={}", vera.token),
    ] {
        assert_eq!(
            expect_refused(&app, &path, &path, None, 401, "unauthorized").await,
            None
        );
    }
}

// ---------------------------------------------------------------------------------------------
// On every node

#[tokio::test]
async fn on_every_node_a_revoked_token_and_a_stranger_are_refused() {
    if !common::on_postgres_redis() {
        eprintln!("skipped: needs Postgres + Redis (MESSENGER_TEST_BACKEND=postgres)");
        return;
    }
    let backend = shared_backend().await;
    let node_a = spawn_on(&backend).await;
    let node_b = spawn_on(&backend).await;
    let vera = node_a.register("vera").await;
    let fred = node_a.register("fred").await;
    let mallory = node_a.register("mallory").await;
    let group = node_a.create_group(&vera, GROUP_NAME, &[&fred]).await;
    let message = node_a.send(&vera, group, GROUP_TEXT).await;
    let message_id = id_of(&message);

    // Revoked on one node, refused on the other, at once; both directions.
    let mut failures = Vec::new();
    for (from, to, names) in [(&node_a, &node_b, "A to B"), (&node_b, &node_a, "B to A")] {
        let token = revoked_token(from, &vera).await;
        for path in [
            "/me".to_owned(),
            format!("/chats/{group}"),
            format!("/chats/{group}/messages"),
        ] {
            let (status, body) = to.get(&path, &token).await;
            if status != StatusCode::UNAUTHORIZED || body["error"]["code"] != "unauthorized" {
                failures.push(format!(
                    "revoked {names}: GET {path}: expected 401 unauthorized, got {status} {body}"
                ));
            }
        }
        for path in [
            format!("/chat/{group}?token={token}"),
            format!("/events?token={token}"),
        ] {
            failures.extend(
                expect_refused(
                    to,
                    &format!("revoked {names}: {path}"),
                    &path,
                    None,
                    401,
                    "unauthorized",
                )
                .await,
            );
        }
    }
    // vera's first session lives on, on both nodes.
    for node in [&node_a, &node_b] {
        let (status, me) = node.get("/me", &vera.token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
    }

    // A stranger is a stranger on node B too.
    let calls = routes_about(group, message_id, fred.id, mallory.id);
    let unknown = routes_about(NO_CHAT, NO_MESSAGE, fred.id, mallory.id);
    let secrets = vec![
        GROUP_NAME.to_owned(),
        GROUP_TEXT.to_owned(),
        vera.phone.clone(),
    ];
    failures.extend(expect_invisible(&node_b, &mallory.token, &calls, &unknown, &secrets).await);
    failures.extend(
        expect_refused(
            &node_b,
            "mallory's /chat/{id} on B",
            &format!("/chat/{group}?token={}", mallory.token),
            None,
            404,
            "not_found",
        )
        .await,
    );

    // Removed on node A, with his sockets on node B: they get nothing sent after; and he is a
    // stranger on node B at once.
    let (mut vera_ws, _) = node_a.open_chat(&vera, group).await;
    for round in 0..3 {
        let label = format!("removed on A, sockets on B, round {round}");
        failures.extend(
            removal_leaks(&node_a, &node_b, &vera, &mut vera_ws, &fred, group, &label).await,
        );
        let (status, body) = node_b.get(&format!("/chats/{group}"), &fred.token).await;
        if status != StatusCode::NOT_FOUND || body["error"]["code"] != "not_found" {
            failures.push(format!(
                "{label}: GET /chats/{group} on B: expected 404, got {status} {body}"
            ));
        }
        failures.extend(
            expect_refused(
                &node_b,
                &format!("{label}: /chat/{{id}} on B"),
                &format!("/chat/{group}?token={}", fred.token),
                None,
                404,
                "not_found",
            )
            .await,
        );
        let (status, body) = node_b
            .post(
                &format!("/chats/{group}/participants"),
                &vera.token,
                json!({"user_id": fred.id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_no_failures("across nodes", failures);

    assert_eq!(messages_of(&node_b, &vera, group).await[0], message);
}
