//! Messages over HTTP (history paging, sending to a chat or a person, `client_id` idempotency,
//! edit, delete) and the server-wide HTTP rules: body cap, wrong method, unknown route,
//! health probes and the OpenAPI document.

use crate::common;

use common::assertions::*;

use common::{spawn_app, TestApp, TestUser};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An RFC 3339 UTC time with milliseconds, e.g. `2026-11-24T15:04:05.123Z`.
#[track_caller]
fn assert_timestamp(value: &Value) {
    let t = value
        .as_str()
        .unwrap_or_else(|| panic!("a time string: {value}"));
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    assert!(
        b.len() == 24
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && b[10] == b'T'
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19)
            && b[19] == b'.'
            && digits(20..23)
            && b[23] == b'Z',
        "RFC 3339 UTC with milliseconds: {t}"
    );
}

fn id(message: &Value) -> i64 {
    message["message_id"].as_i64().expect("message_id")
}

/// `GET /chats/{chat}/messages?{query}` as `user`; asserts 200.
async fn page(app: &TestApp, user: &TestUser, chat: i64, query: &str) -> (Vec<i64>, bool) {
    let (status, body) = app
        .get(&format!("/chats/{chat}/messages?{query}"), &user.token)
        .await;
    assert_eq!(status, StatusCode::OK, "GET messages?{query}: {body}");
    let ids = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(id)
        .collect();
    (ids, body["has_more"].as_bool().expect("has_more"))
}

/// All the messages of a chat, oldest first (at most 100).
async fn history(app: &TestApp, user: &TestUser, chat: i64) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/chats/{chat}/messages?limit=100"), &user.token)
        .await;
    assert_eq!(status, StatusCode::OK, "GET messages: {body}");
    body["messages"].as_array().expect("messages").clone()
}

async fn post_message(
    app: &TestApp,
    user: &TestUser,
    chat: i64,
    body: Value,
) -> (StatusCode, Value) {
    app.post(&format!("/chats/{chat}/messages"), &user.token, body)
        .await
}

async fn direct(app: &TestApp, from: &TestUser, to: i64, text: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/users/{to}/messages"),
        &from.token,
        json!({"text": text}),
    )
    .await
}

/// Sends `body` as is to `path`, with `Content-Type: application/json`.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(method, app.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let text = resp.text().await.expect("body read");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

// ---- GET /chats/{id}/messages ---------------------------------------------------------------

#[tokio::test]
async fn messages_are_listed_oldest_first() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let author = if i % 2 == 0 { &alice } else { &bob };
        sent.push(app.send(author, chat, &format!("message {i}")).await);
    }
    let (status, body) = app
        .get(&format!("/chats/{chat}/messages"), &bob.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"], Value::Array(sent.clone()));
    assert_eq!(body["has_more"], false);
    let ids: Vec<i64> = sent.iter().map(id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
}

#[tokio::test]
async fn messages_of_an_empty_chat_are_an_empty_page() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app
        .get(&format!("/chats/{chat}/messages"), &alice.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"messages": [], "has_more": false}));
}

#[tokio::test]
async fn messages_page_backwards_with_before_and_say_whether_more_remain() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id(&app.send(&alice, chat, &format!("m{i}")).await));
    }
    assert_eq!(
        page(&app, &alice, chat, "limit=2").await,
        (vec![ids[3], ids[4]], true)
    );
    assert_eq!(
        page(&app, &alice, chat, &format!("before={}&limit=2", ids[3])).await,
        (vec![ids[1], ids[2]], true)
    );
    assert_eq!(
        page(&app, &alice, chat, &format!("before={}&limit=2", ids[1])).await,
        (vec![ids[0]], false)
    );
    assert_eq!(
        page(&app, &alice, chat, &format!("before={}&limit=2", ids[0])).await,
        (vec![], false)
    );
    assert_eq!(
        page(&app, &alice, chat, &format!("before={}", ids[2])).await,
        (vec![ids[0], ids[1]], false)
    );
    assert_eq!(
        page(&app, &alice, chat, "limit=5").await,
        (ids.clone(), false)
    );
}

#[tokio::test]
async fn messages_limit_defaults_to_20_and_is_capped_at_100() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let mut ids = Vec::new();
    for i in 0..105 {
        ids.push(id(&app.send(&alice, chat, &format!("m{i}")).await));
    }
    let (got, more) = page(&app, &alice, chat, "").await;
    assert_eq!(got, ids[85..].to_vec(), "the newest 20 by default");
    assert!(more);

    let (got, more) = page(&app, &alice, chat, "limit=1000").await;
    assert_eq!(got, ids[5..].to_vec(), "a limit over 100 is capped at 100");
    assert!(more);

    let (got, more) = page(&app, &alice, chat, &format!("before={}&limit=1000", ids[5])).await;
    assert_eq!(got, ids[..5].to_vec());
    assert!(!more);
}

#[tokio::test]
async fn messages_limit_of_zero_or_less_or_not_a_number_is_400_naming_limit() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    app.send(&alice, chat, "hello").await;
    for limit in ["0", "-1", "abc"] {
        let (status, body) = app
            .get(
                &format!("/chats/{chat}/messages?limit={limit}"),
                &alice.token,
            )
            .await;
        assert_invalid(status, &body, "limit");
    }
}

#[tokio::test]
async fn messages_before_that_is_not_a_number_is_400_naming_before() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app
        .get(&format!("/chats/{chat}/messages?before=abc"), &alice.token)
        .await;
    assert_invalid(status, &body, "before");
}

#[tokio::test]
async fn messages_of_a_chat_you_are_not_in_are_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    app.send(&alice, chat, "secret").await;
    let (status, body) = app
        .get(&format!("/chats/{chat}/messages"), &eve.token)
        .await;
    assert_not_found(status, &body);
    let (status, body) = app.get("/chats/999999/messages", &eve.token).await;
    assert_not_found(status, &body);
}

// ---- POST /chats/{id}/messages --------------------------------------------------------------

#[tokio::test]
async fn send_is_201_with_the_stored_message() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let (status, message) = post_message(&app, &bob, chat, json!({"text": "hello team"})).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert!(message["message_id"].is_i64(), "{message}");
    assert_eq!(message["chat_id"], chat);
    assert_eq!(message["author_id"], bob.id);
    assert_eq!(message["text"], "hello team");
    assert_timestamp(&message["created_at"]);
    assert_eq!(message["edited_at"], Value::Null);
    assert_eq!(history(&app, &alice, chat).await, [message]);
}

#[tokio::test]
async fn send_stores_the_text_as_sent_without_trimming() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let text = "  padded\n\ttext  ";
    let message = app.send(&alice, chat, text).await;
    assert_eq!(message["text"], text);
    assert_eq!(history(&app, &alice, chat).await[0]["text"], text);
}

#[tokio::test]
async fn send_with_an_empty_or_whitespace_only_or_too_long_text_is_400_naming_text() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    for text in [
        String::new(),
        "   ".to_owned(),
        " \n\t \r\n".to_owned(),
        "a".repeat(4097),
        "é".repeat(4097),
    ] {
        let (status, body) = post_message(&app, &alice, chat, json!({"text": text})).await;
        assert_invalid(status, &body, "text");
    }
    assert!(
        history(&app, &alice, chat).await.is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn send_accepts_4096_characters_even_when_they_are_multi_byte() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    for text in ["a".repeat(4096), "é".repeat(4096), "😀".repeat(4096)] {
        let (status, body) = post_message(&app, &alice, chat, json!({"text": text})).await;
        assert_eq!(status, StatusCode::CREATED, "{} bytes: {body}", text.len());
        assert_eq!(body["text"], text.as_str());
    }
}

#[tokio::test]
async fn send_with_a_missing_text_is_400_naming_text() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = post_message(&app, &alice, chat, json!({"client_id": "c1"})).await;
    assert_invalid(status, &body, "text");
    let (status, body) = raw(
        &app,
        Method::POST,
        &format!("/chats/{chat}/messages"),
        Some(&alice.token),
        "{not json".into(),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
}

#[tokio::test]
async fn send_with_a_client_id_over_64_characters_is_400_naming_client_id() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = post_message(
        &app,
        &alice,
        chat,
        json!({"text": "hi", "client_id": "c".repeat(65)}),
    )
    .await;
    assert_invalid(status, &body, "client_id");
    let (status, body) = post_message(
        &app,
        &alice,
        chat,
        json!({"text": "hi", "client_id": "c".repeat(64)}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "64 characters are fine: {body}"
    );
    assert_eq!(history(&app, &alice, chat).await.len(), 1);
}

#[tokio::test]
async fn send_to_a_chat_you_are_not_in_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = post_message(&app, &eve, chat, json!({"text": "let me in"})).await;
    assert_not_found(status, &body);
    let (status, body) = post_message(&app, &eve, 999_999, json!({"text": "anyone?"})).await;
    assert_not_found(status, &body);
    assert!(history(&app, &alice, chat).await.is_empty());
}

#[tokio::test]
async fn send_with_a_repeated_client_id_is_201_with_the_same_message_and_stores_it_once() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let body = json!({"text": "only once", "client_id": "c-1"});
    let (status, first) = post_message(&app, &alice, chat, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = post_message(&app, &alice, chat, body).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(again, first);
    assert_eq!(history(&app, &alice, chat).await, [first]);
}

#[tokio::test]
async fn send_with_a_repeated_client_id_answers_the_message_as_it_is_now() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, first) = post_message(
        &app,
        &alice,
        chat,
        json!({"text": "draft", "client_id": "c-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, edited) = app
        .patch(
            &format!("/messages/{}", id(&first)),
            &alice.token,
            json!({"text": "final"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let (status, again) = post_message(
        &app,
        &alice,
        chat,
        json!({"text": "draft", "client_id": "c-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(again["text"], "final");
    assert_eq!(again, edited);
    assert_eq!(history(&app, &alice, chat).await.len(), 1);
}

#[tokio::test]
async fn send_with_a_repeated_client_id_after_the_message_was_deleted_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let body = json!({"text": "regret", "client_id": "c-1"});
    let (status, first) = post_message(&app, &alice, chat, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, resp) = app
        .delete(&format!("/messages/{}", id(&first)), &alice.token)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{resp}");
    let (status, resp) = post_message(&app, &alice, chat, body).await;
    assert_not_found(status, &resp);
    assert!(
        history(&app, &alice, chat).await.is_empty(),
        "no message was made again"
    );
}

#[tokio::test]
async fn a_client_id_is_scoped_to_its_user_and_its_chat() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let other = app.create_group(&alice, "Other", &[]).await;
    let body = json!({"text": "hi", "client_id": "same"});
    let (status, a1) = post_message(&app, &alice, chat, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{a1}");
    let (status, b1) = post_message(&app, &bob, chat, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{b1}");
    let (status, a2) = post_message(&app, &alice, other, body).await;
    assert_eq!(status, StatusCode::CREATED, "{a2}");
    assert_ne!(
        a1["message_id"], b1["message_id"],
        "another user's client_id is theirs"
    );
    assert_ne!(
        a1["message_id"], a2["message_id"],
        "another chat's client_id is separate"
    );
    assert_eq!(history(&app, &alice, chat).await.len(), 2);
    assert_eq!(history(&app, &alice, other).await.len(), 1);
}

// ---- POST /users/{user_id}/messages ---------------------------------------------------------

#[tokio::test]
async fn a_direct_message_creates_the_direct_chat_on_first_message_and_reuses_it() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let (status, first) = direct(&app, &alice, bob.id, "hi Bob").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let chat = &first["chat"];
    let chat_id = chat["chat_id"].as_i64().expect("chat_id");
    assert_eq!(chat["kind"], "direct");
    let mut participants: Vec<i64> = chat["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    participants.sort();
    assert_eq!(participants, [alice.id, bob.id]);
    assert_eq!(chat["owner_id"], alice.id, "our decision: the first sender");
    assert_eq!(first["message"]["chat_id"], chat_id);
    assert_eq!(first["message"]["author_id"], alice.id);
    assert_eq!(first["message"]["text"], "hi Bob");

    let (status, second) = direct(&app, &alice, bob.id, "again").await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(
        second["chat"]["chat_id"], chat_id,
        "reused by the same sender"
    );

    let (status, reply) = direct(&app, &bob, alice.id, "hi Alice").await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(
        reply["chat"]["chat_id"], chat_id,
        "reused by the other side"
    );

    let texts: Vec<Value> = history(&app, &bob, chat_id)
        .await
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts, [json!("hi Bob"), json!("again"), json!("hi Alice")]);

    let (status, list) = app.get("/chats", &alice.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "one direct chat per pair: {list}"
    );
}

#[tokio::test]
async fn a_direct_chat_is_named_after_the_other_participant_on_each_side() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("Bobby").await;
    let (status, sent) = direct(&app, &alice, bob.id, "hi").await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["chat"]["name"], "Bobby");
    let chat = sent["chat"]["chat_id"].as_i64().unwrap();

    let (status, seen) = app.get(&format!("/chats/{chat}"), &alice.token).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["name"], "Bobby");
    let (status, seen) = app.get(&format!("/chats/{chat}"), &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["name"], "alice");
    let (status, list) = app.get("/chats", &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["name"], "alice");

    let (status, reply) = direct(&app, &bob, alice.id, "hello").await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["chat"]["name"], "alice");
}

#[tokio::test]
async fn a_direct_message_to_yourself_is_400() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = direct(&app, &alice, alice.id, "note to self").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (status, list) = app.get("/chats", &alice.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_direct_message_to_an_unknown_user_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = direct(&app, &alice, 999_999, "anyone?").await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn a_direct_message_to_a_user_id_that_is_not_an_integer_is_400_naming_user_id() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = app
        .post("/users/bob/messages", &alice.token, json!({"text": "hi"}))
        .await;
    assert_invalid(status, &body, "user_id");
}

#[tokio::test]
async fn a_direct_message_with_a_bad_text_is_400_and_makes_no_chat() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, body) = direct(&app, &alice, bob.id, "   ").await;
    assert_invalid(status, &body, "text");
    for user in [&alice, &bob] {
        let (status, list) = app.get("/chats", &user.token).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list, json!([]));
    }
}

// ---- PATCH /messages/{id} -------------------------------------------------------------------

#[tokio::test]
async fn edit_is_200_with_edited_at_set() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let original = app.send(&alice, chat, "helo").await;
    let (status, edited) = app
        .patch(
            &format!("/messages/{}", id(&original)),
            &alice.token,
            json!({"text": "hello"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["message_id"], original["message_id"]);
    assert_eq!(edited["chat_id"], chat);
    assert_eq!(edited["author_id"], alice.id);
    assert_eq!(edited["text"], "hello");
    assert_eq!(edited["created_at"], original["created_at"]);
    assert_timestamp(&edited["edited_at"]);
    assert_eq!(history(&app, &bob, chat).await, [edited]);
}

#[tokio::test]
async fn edit_by_a_participant_who_is_not_the_author_is_403_forbidden() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let message = app.send(&alice, chat, "mine").await;
    let (status, body) = app
        .patch(
            &format!("/messages/{}", id(&message)),
            &bob.token,
            json!({"text": "yours"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(history(&app, &alice, chat).await, [message]);
}

#[tokio::test]
async fn edit_by_a_non_participant_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let message = app.send(&alice, chat, "mine").await;
    let (status, body) = app
        .patch(
            &format!("/messages/{}", id(&message)),
            &eve.token,
            json!({"text": "hacked"}),
        )
        .await;
    assert_not_found(status, &body);
    let (status, body) = app
        .patch("/messages/999999", &eve.token, json!({"text": "hacked"}))
        .await;
    assert_not_found(status, &body);
    assert_eq!(history(&app, &alice, chat).await, [message]);
}

#[tokio::test]
async fn edit_of_a_deleted_message_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let message = app.send(&alice, chat, "gone soon").await;
    let (status, body) = app
        .delete(&format!("/messages/{}", id(&message)), &alice.token)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app
        .patch(
            &format!("/messages/{}", id(&message)),
            &alice.token,
            json!({"text": "back"}),
        )
        .await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn edit_with_a_bad_text_is_400_naming_text() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let message = app.send(&alice, chat, "fine").await;
    for text in [String::new(), "  ".to_owned(), "a".repeat(4097)] {
        let (status, body) = app
            .patch(
                &format!("/messages/{}", id(&message)),
                &alice.token,
                json!({"text": text}),
            )
            .await;
        assert_invalid(status, &body, "text");
    }
    let (status, body) = app
        .patch(
            &format!("/messages/{}", id(&message)),
            &alice.token,
            json!({}),
        )
        .await;
    assert_invalid(status, &body, "text");
    assert_eq!(history(&app, &alice, chat).await, [message]);
}

#[tokio::test]
async fn edit_or_delete_with_a_message_id_that_is_not_an_integer_is_400_naming_id() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let (status, body) = app
        .patch("/messages/abc", &alice.token, json!({"text": "x"}))
        .await;
    assert_invalid(status, &body, "id");
    let (status, body) = app.delete("/messages/abc", &alice.token).await;
    assert_invalid(status, &body, "id");
}

// ---- DELETE /messages/{id} ------------------------------------------------------------------

#[tokio::test]
async fn delete_is_204_and_again_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let keep = app.send(&alice, chat, "keep").await;
    let gone = app.send(&alice, chat, "gone").await;
    let (status, body) = app
        .delete(&format!("/messages/{}", id(&gone)), &alice.token)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(history(&app, &bob, chat).await, [keep]);

    let (status, body) = app
        .delete(&format!("/messages/{}", id(&gone)), &alice.token)
        .await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn delete_by_a_participant_who_is_not_the_author_is_403_forbidden() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let message = app.send(&alice, chat, "mine").await;
    // Not even the group's owner may delete another's message.
    let by_bob = app.send(&bob, chat, "bob's").await;
    let (status, body) = app
        .delete(&format!("/messages/{}", id(&message)), &bob.token)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app
        .delete(&format!("/messages/{}", id(&by_bob)), &alice.token)
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(history(&app, &alice, chat).await, [message, by_bob]);
}

#[tokio::test]
async fn delete_by_a_non_participant_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let message = app.send(&alice, chat, "mine").await;
    let (status, body) = app
        .delete(&format!("/messages/{}", id(&message)), &eve.token)
        .await;
    assert_not_found(status, &body);
    let (status, body) = app.delete("/messages/999999", &eve.token).await;
    assert_not_found(status, &body);
    assert_eq!(history(&app, &alice, chat).await, [message]);
}

// ---- Server-wide HTTP rules -----------------------------------------------------------------

#[tokio::test]
async fn a_request_body_over_1_mib_is_413_too_large() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let text = "a".repeat(1024 * 1024 + 1);
    let body = json!({"text": text}).to_string();
    let (status, resp) = raw(
        &app,
        Method::POST,
        &format!("/chats/{chat}/messages"),
        Some(&alice.token),
        body,
    )
    .await;
    assert_error(status, &resp, StatusCode::PAYLOAD_TOO_LARGE, "too_large");

    let body = json!({"phone": "+15550001234", "password": text, "username": "big"}).to_string();
    let (status, resp) = raw(&app, Method::POST, "/register", None, body).await;
    assert_error(status, &resp, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert!(history(&app, &alice, chat).await.is_empty());
}

#[tokio::test]
async fn a_body_just_under_1_mib_is_read_and_validated_normally() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let body = json!({"text": "a".repeat(1024 * 1024 - 64)}).to_string();
    assert!(body.len() <= 1024 * 1024);
    let (status, resp) = raw(
        &app,
        Method::POST,
        &format!("/chats/{chat}/messages"),
        Some(&alice.token),
        body,
    )
    .await;
    assert_invalid(status, &resp, "text");
}

#[tokio::test]
async fn a_known_route_with_the_wrong_method_is_405_method_not_allowed() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for (method, path) in [
        (Method::PUT, "/chats"),
        (Method::DELETE, "/me"),
        (Method::GET, "/register"),
        (Method::PUT, "/messages/1"),
        (Method::POST, "/healthz"),
        (Method::PUT, "/openapi.json"),
        (Method::POST, "/web/app.js"),
    ] {
        let (status, body) = app
            .request(method.clone(), path, Some(&alice.token), None)
            .await;
        assert_eq!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {body}"
        );
        assert_error(
            status,
            &body,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        );
    }
}

#[tokio::test]
async fn an_unknown_route_is_404_not_found() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for path in ["/nope", "/chats/1/nope", "/api/v2/chats"] {
        let (status, body) = app.get(path, &alice.token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_not_found(status, &body);
    }
    let (status, body) = app.request(Method::GET, "/nope", None, None).await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn healthz_and_readyz_are_200_without_a_token() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let (status, body) = app.request(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
}

#[tokio::test]
async fn openapi_json_lists_every_http_route_of_the_protocol() {
    let app = spawn_app().await;
    let (status, doc) = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let paths = doc["paths"].as_object().expect("a `paths` object");
    let expected = [
        ("/register", &["post"][..]),
        ("/login", &["post"]),
        ("/logout", &["post"]),
        ("/me", &["get"]),
        ("/users", &["get"]),
        ("/chats", &["get", "post"]),
        ("/chats/{id}", &["get", "patch", "delete"]),
        ("/chats/{id}/participants", &["post"]),
        ("/chats/{id}/participants/{user_id}", &["delete"]),
        ("/chats/{id}/read", &["post"]),
        ("/chats/{id}/messages", &["get", "post"]),
        ("/users/{user_id}", &["get"]),
        ("/users/{user_id}/messages", &["post"]),
        ("/messages/{id}", &["patch", "delete"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
    ];
    let mut missing = Vec::new();
    for (path, methods) in expected {
        match paths.get(path) {
            None => missing.push(path.to_owned()),
            Some(item) => {
                for m in methods {
                    if item.get(*m).is_none() {
                        missing.push(format!("{} {path}", m.to_uppercase()));
                    }
                }
            }
        }
    }
    let mut listed: Vec<&String> = paths.keys().collect();
    listed.sort();
    assert!(
        missing.is_empty(),
        "missing from the document: {missing:?}; listed: {listed:?}"
    );
}

#[tokio::test]
async fn docs_is_200() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/docs"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.expect("body read");
    assert!(!text.is_empty());
}

// Found by schemathesis (scripts/schemathesis): fields the server sends as `null` were not
// marked nullable in the document.
#[tokio::test]
async fn openapi_json_marks_the_fields_sent_as_null_nullable() {
    let app = spawn_app().await;
    let (_, doc) = app.request(Method::GET, "/openapi.json", None, None).await;
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("Message", "edited_at"),
        ("Chat", "last_message"),
        ("Chat", "last_read_message_id"),
    ] {
        let text = schemas[schema]["properties"][field].to_string();
        assert!(
            text.contains("\"nullable\":true"),
            "{schema}.{field} is not nullable: {text}"
        );
    }
}

// Found by schemathesis: a body without a JSON content type was 415, which the protocol does
// not have; it is malformed input.
#[tokio::test]
async fn a_body_without_a_json_content_type_is_400_invalid_input() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/register"))
        .body(r#"{"phone":"+15550001111","password":"password1","username":"ann"}"#)
        .send()
        .await
        .expect("request sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = resp.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
}

#[tokio::test]
async fn the_web_client_is_served_at_the_root_with_its_files_and_a_strict_policy() {
    let app = spawn_app().await;
    let page = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ASCII header")
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.expect("body read");
    assert!(html.contains("/web/app.js"), "{html}");
    for (file, kind) in [
        ("/web/app.js", "text/javascript"),
        ("/web/app.css", "text/css"),
        ("/web/icon.svg", "image/svg+xml"),
    ] {
        let resp = app
            .http
            .get(app.url(file))
            .send()
            .await
            .expect("request sent");
        assert_eq!(resp.status(), StatusCode::OK, "{file}");
        let ct = resp.headers()["content-type"]
            .to_str()
            .expect("ASCII header");
        assert!(ct.starts_with(kind), "{file}: {ct}");
    }
    let (status, body) = app
        .request(Method::GET, "/web/secrets.txt", None, None)
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.request(Method::POST, "/", None, None).await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}
