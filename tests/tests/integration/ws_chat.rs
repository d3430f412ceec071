//! `/chat/{id}`: opening frames, sending with acks, edits, deletes, errors that keep the socket
//! open, idempotent `client_id`, `load_more`, typing, read receipts, presence, ordering with
//! concurrent senders, `?after=` recovery, and the close codes.

use crate::common;

use common::{spawn_app, spawn_app_with, TestApp, TestUser, Ws};
use messenger_server::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn group_of(app: &TestApp, names: &[&str]) -> (Vec<TestUser>, i64) {
    let mut users = Vec::new();
    for n in names {
        users.push(app.register(n).await);
    }
    let others: Vec<&TestUser> = users[1..].iter().collect();
    let chat = app.create_group(&users[0], "Team", &others).await;
    (users, chat)
}

fn ids(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["message_id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn opening_sends_the_last_20_messages_oldest_first_then_presence() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let mut sent = Vec::new();
    for i in 0..25 {
        sent.push(
            app.send(&u[0], chat, &format!("m{i}")).await["message_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut ws = app
        .connect(&format!("/chat/{chat}?token={}", u[1].token))
        .await
        .unwrap();
    let history = ws.next_json().await;
    assert_eq!(history["type"], "history");
    assert_eq!(ids(&history["messages"]), sent[5..].to_vec());
    assert_eq!(history["has_more"], true);
    let presence = ws.next_json().await;
    assert_eq!(presence, json!({"type": "presence", "online": [u[1].id]}));
}

#[tokio::test]
async fn the_token_may_come_in_the_authorization_header() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        app.ws_url(&format!("/chat/{chat}")),
    )
    .unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", u[0].token).parse().unwrap(),
    );
    let (stream, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    drop(stream);
}

#[tokio::test]
async fn upgrades_are_refused_without_a_token_to_non_participants_and_for_bad_ids() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let eve = app.register("eve").await;
    assert_eq!(app.connect(&format!("/chat/{chat}")).await.err(), Some(401));
    assert_eq!(
        app.connect(&format!("/chat/{chat}?token=garbage"))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        app.connect(&format!("/chat/{chat}?token={}", eve.token))
            .await
            .err(),
        Some(404)
    );
    assert_eq!(
        app.connect(&format!("/chat/999999?token={}", u[0].token))
            .await
            .err(),
        Some(404)
    );
    assert_eq!(
        app.connect(&format!("/chat/abc?token={}", u[0].token))
            .await
            .err(),
        Some(400)
    );
    assert_eq!(
        app.connect(&format!("/chat/{chat}?token={}&after=x", u[0].token))
            .await
            .err(),
        Some(400)
    );
}

#[tokio::test]
async fn the_sender_gets_an_ack_and_everyone_else_the_event_including_its_other_tabs() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (mut ann_tab, _) = app.open_chat(&u[0], chat).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    let acked = ann.send_message("c-1", "hello").await;
    assert_eq!(acked["text"], "hello");
    assert_eq!(acked["author_id"], u[0].id);
    assert_eq!(acked["chat_id"], chat);
    assert!(acked["edited_at"].is_null());
    for ws in [&mut ann_tab, &mut ben] {
        let ev = ws.next_of("MessageCreated").await;
        assert_eq!(ev["message"], acked);
    }
    // The sending connection got only the ack: the next event it sees is ben's reply.
    let reply = ben.send_message("c-2", "hi ann").await;
    let next = ann.next_event().await;
    assert_eq!(next["type"], "MessageCreated");
    assert_eq!(next["message"], reply);
    // The ack means committed: history has it.
    let (_, page) = app
        .get(&format!("/chats/{chat}/messages"), &u[1].token)
        .await;
    assert_eq!(
        ids(&page["messages"]),
        vec![
            acked["message_id"].as_i64().unwrap(),
            reply["message_id"].as_i64().unwrap()
        ]
    );
}

#[tokio::test]
async fn messages_sent_over_http_reach_every_socket() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    let sent = app.send(&u[0], chat, "over http").await;
    assert_eq!(ann.next_of("MessageCreated").await["message"], sent);
    assert_eq!(ben.next_of("MessageCreated").await["message"], sent);
}

#[tokio::test]
async fn edits_and_deletes_are_acked_to_the_author_and_fanned_out() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    let m = ann.send_message("c1", "frist").await;
    let id = m["message_id"].as_i64().unwrap();
    ben.next_of("MessageCreated").await;

    ann.send_json(
        json!({"type": "MessageUpdated", "client_id": "c2", "message_id": id, "text": "first"}),
    )
    .await;
    let ack = ann.next_of("ack").await;
    assert_eq!(ack["client_id"], "c2");
    assert_eq!(ack["message"]["text"], "first");
    assert!(ack["message"]["edited_at"].is_string());
    let ev = ben.next_of("MessageUpdated").await;
    assert_eq!(ev["message"], ack["message"]);

    ben.send_json(json!({"type": "MessageDeleted", "client_id": "b1", "message_id": id}))
        .await;
    let err = ben.next_of("error").await;
    assert_eq!(
        (err["client_id"].as_str(), err["code"].as_str()),
        (Some("b1"), Some("forbidden"))
    );

    ann.send_json(json!({"type": "MessageDeleted", "client_id": "c3", "message_id": id}))
        .await;
    let ack = ann.next_of("ack").await;
    assert_eq!(ack["client_id"], "c3");
    assert_eq!(ack["message"]["message_id"], id);
    let ev = ben.next_of("MessageDeleted").await;
    assert_eq!(
        common::sans_cursor(ev),
        json!({"type": "MessageDeleted", "message_id": id, "chat_id": chat})
    );

    ann.send_json(json!({"type": "MessageDeleted", "client_id": "c4", "message_id": id}))
        .await;
    let err = ann.next_of("error").await;
    assert_eq!(
        (err["client_id"].as_str(), err["code"].as_str()),
        (Some("c4"), Some("not_found"))
    );
    let (_, page) = app
        .get(&format!("/chats/{chat}/messages"), &u[0].token)
        .await;
    assert_eq!(page["messages"], json!([]));
}

#[tokio::test]
async fn a_frame_about_a_message_of_another_chat_is_not_found() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let other = app.create_group(&u[0], "Other", &[]).await;
    let elsewhere = app.send(&u[0], other, "elsewhere").await["message_id"]
        .as_i64()
        .unwrap();
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    ann.send_json(json!({"type": "MessageUpdated", "client_id": "x", "message_id": elsewhere, "text": "hijack"})).await;
    let err = ann.next_of("error").await;
    assert_eq!(err["code"], "not_found");
    assert_eq!(err["client_id"], "x");
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let cases: Vec<(String, Value, &str)> = vec![
        ("{not json".into(), Value::Null, "invalid_input"),
        (
            r#"{"type":"Bogus","client_id":"k1"}"#.into(),
            json!("k1"),
            "invalid_input",
        ),
        (
            r#"{"type":"MessageCreated","text":"no id"}"#.into(),
            Value::Null,
            "invalid_input",
        ),
        (
            r#"{"type":"MessageCreated","client_id":"k2","text":"   "}"#.into(),
            json!("k2"),
            "invalid_input",
        ),
        (
            json!({"type":"MessageCreated","client_id":"k3","text":"x".repeat(4097)}).to_string(),
            json!("k3"),
            "invalid_input",
        ),
        (
            json!({"type":"MessageCreated","client_id":"c".repeat(65),"text":"x"}).to_string(),
            json!("c".repeat(65)),
            "invalid_input",
        ),
        (
            json!({"type":"MessageCreated","client_id":"k4","text":"x".repeat(70_000)}).to_string(),
            Value::Null,
            "too_large",
        ),
        (
            r#"{"type":"MessageUpdated","client_id":"k5","message_id":"1","text":"x"}"#.into(),
            json!("k5"),
            "invalid_input",
        ),
        (
            r#"{"type":"MessageDeleted","client_id":"k6","message_id":99999}"#.into(),
            json!("k6"),
            "not_found",
        ),
        (
            r#"{"type":"load_more","before":10,"limit":0}"#.into(),
            Value::Null,
            "invalid_input",
        ),
        (
            r#"{"type":"read","message_id":99999}"#.into(),
            Value::Null,
            "not_found",
        ),
    ];
    for (frame, client_id, code) in cases {
        ann.send_text(&frame).await;
        let err = ann.next_of("error").await;
        assert_eq!(
            err["code"],
            code,
            "frame {}: {err}",
            &frame[..frame.len().min(80)]
        );
        assert_eq!(
            err["client_id"],
            client_id,
            "frame {}",
            &frame[..frame.len().min(80)]
        );
        assert!(err["message"].is_string());
    }
    let m = ann.send_message("ok", "still here").await;
    assert_eq!(m["text"], "still here");
}

#[tokio::test]
async fn a_repeated_client_id_makes_no_second_message() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    let first = ann.send_message("same", "once").await;
    let again = ann.send_message("same", "once").await;
    assert_eq!(first, again);
    // Back to back, before the first is committed.
    ann.send_json(json!({"type": "MessageCreated", "client_id": "fast", "text": "a"}))
        .await;
    ann.send_json(json!({"type": "MessageCreated", "client_id": "fast", "text": "a"}))
        .await;
    let a1 = ann.next_of("ack").await;
    let a2 = ann.next_of("ack").await;
    assert_eq!(a1["message"]["message_id"], a2["message"]["message_id"]);
    // Ben saw each message once.
    assert_eq!(ben.next_of("MessageCreated").await["message"], first);
    assert_eq!(
        ben.next_of("MessageCreated").await["message"]["message_id"],
        a1["message"]["message_id"]
    );
    let marker = app.send(&u[1], chat, "marker").await;
    assert_eq!(ben.next_of("MessageCreated").await["message"], marker);
    let (_, page) = app
        .get(&format!("/chats/{chat}/messages"), &u[0].token)
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 3);
    // Deleted since: the repeat answers not_found.
    assert_eq!(ann.next_of("MessageCreated").await["message"], marker);
    let id = first["message_id"].as_i64().unwrap();
    app.delete(&format!("/messages/{id}"), &u[0].token).await;
    assert_eq!(ann.next_of("MessageDeleted").await["message_id"], id);
    ann.send_json(json!({"type": "MessageCreated", "client_id": "same", "text": "once"}))
        .await;
    let err = ann.next_of("error").await;
    assert_eq!(
        (err["client_id"].as_str(), err["code"].as_str()),
        (Some("same"), Some("not_found"))
    );
}

#[tokio::test]
async fn load_more_answers_with_the_page_before() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let mut sent = Vec::new();
    for i in 0..30 {
        sent.push(
            app.send(&u[0], chat, &format!("m{i}")).await["message_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (mut ws, history) = app.open_chat(&u[1], chat).await;
    let oldest = ids(&history["messages"])[0];
    ws.send_json(json!({"type": "load_more", "before": oldest}))
        .await;
    let page = ws.next_of("history").await;
    assert_eq!(ids(&page["messages"]), sent[..10].to_vec());
    assert_eq!(page["has_more"], false);
    ws.send_json(json!({"type": "load_more", "before": oldest, "limit": 3}))
        .await;
    let page = ws.next_of("history").await;
    assert_eq!(ids(&page["messages"]), sent[7..10].to_vec());
    assert_eq!(page["has_more"], true);
}

#[tokio::test]
async fn typing_reaches_the_others_and_read_receipts_reach_everyone() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    ann.send_json(json!({"type": "typing"})).await;
    let typing = loop {
        let v = ben.next_json().await;
        if v["type"] == "typing" {
            break v;
        }
    };
    assert_eq!(typing["user_id"], u[0].id);
    let m = ann.send_message("c1", "read me").await;
    ben.next_of("MessageCreated").await;
    ben.send_json(json!({"type": "read", "message_id": m["message_id"]}))
        .await;
    let expected =
        json!({"type": "read", "chat_id": chat, "user_id": u[1].id, "message_id": m["message_id"]});
    assert_eq!(common::sans_cursor(ben.next_of("read").await), expected);
    // Ann's socket never got her own typing back: the next thing she sees is the read.
    assert_eq!(common::sans_cursor(ann.next_event().await), expected);
    let (_, view) = app.get(&format!("/chats/{chat}"), &u[1].token).await;
    assert_eq!(view["last_read_message_id"], m["message_id"]);
    assert_eq!(view["unread_count"], 0);
}

#[tokio::test]
async fn presence_follows_who_has_the_chat_open() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (ben, _) = app.open_chat(&u[1], chat).await;
    let mut both = vec![u[0].id, u[1].id];
    both.sort();
    loop {
        let p = ann.next_of("presence").await;
        if p["online"] == json!(both) {
            break;
        }
    }
    let (_, me) = app.get("/me", &u[1].token).await;
    assert_eq!(me["online"], true);
    ben.close().await;
    loop {
        let p = ann.next_of("presence").await;
        if p["online"] == json!([u[0].id]) {
            break;
        }
    }
}

#[tokio::test]
async fn concurrent_senders_are_seen_in_message_id_order_everywhere() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben", "cat"]).await;
    let (mut watcher, _) = app.open_chat(&u[0], chat).await;
    let per_sender = 30;
    let mut sockets = Vec::new();
    for user in &u {
        sockets.push(app.open_chat(user, chat).await.0);
    }
    let mut senders = Vec::new();
    for (i, mut ws) in sockets.into_iter().enumerate() {
        senders.push(tokio::spawn(async move {
            for n in 0..per_sender {
                ws.send_json(json!({"type": "MessageCreated", "client_id": format!("{i}-{n}"), "text": format!("{i}-{n}")})).await;
            }
            let mut seen = Vec::new();
            while seen.len() < per_sender * 3 {
                let v = ws.next_event().await;
                match v["type"].as_str() {
                    Some("ack") | Some("MessageCreated") => {
                        seen.push(v["message"]["message_id"].as_i64().unwrap())
                    }
                    _ => {}
                }
            }
            seen
        }));
    }
    let mut watched = Vec::new();
    while watched.len() < per_sender * 3 {
        let v = watcher.next_event().await;
        if v["type"] == "MessageCreated" {
            watched.push(v["message"]["message_id"].as_i64().unwrap());
        }
    }
    assert!(
        watched.windows(2).all(|w| w[0] < w[1]),
        "watcher saw ids out of order: {watched:?}"
    );
    // Every sender has its acks, so everything is committed: history must match.
    for s in senders {
        let seen = s.await.unwrap();
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            per_sender * 3,
            "each sender saw every message once"
        );
    }
    let mut history = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/chats/{chat}/messages?limit=100&before={b}"),
            None => format!("/chats/{chat}/messages?limit=100"),
        };
        let (_, page) = app.get(&path, &u[0].token).await;
        let mut page_ids = ids(&page["messages"]);
        page_ids.extend(history);
        history = page_ids;
        if page["has_more"] != true {
            break;
        }
        before = history.first().copied();
    }
    assert_eq!(history, watched, "history order is the order sockets saw");
}

#[tokio::test]
async fn a_reconnect_with_after_catches_up_on_everything_missed() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    let seen = app.send(&u[0], chat, "before the drop").await;
    assert_eq!(ben.next_of("MessageCreated").await["message"], seen);
    ben.close().await;
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(
            app.send(&u[0], chat, &format!("missed {i}")).await["message_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let after = seen["message_id"].as_i64().unwrap();
    let (mut ben, history) = app.open_chat_after(&u[1], chat, after).await;
    assert_eq!(ids(&history["messages"]), missed);
    assert_eq!(history["has_more"], false);
    let live = app.send(&u[0], chat, "live again").await;
    assert_eq!(ben.next_of("MessageCreated").await["message"], live);
}

#[tokio::test]
async fn logout_closes_that_tokens_sockets_with_4001() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ws, _) = app.open_chat(&u[0], chat).await;
    let (status, _) = app.post("/logout", &u[0].token, Value::Null).await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(ws.closed().await, Some(4001));
}

#[tokio::test]
async fn removal_and_deletion_close_the_chats_sockets_with_4003() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben", "cat"]).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    let (mut cat, _) = app.open_chat(&u[2], chat).await;
    let (status, _) = app
        .delete(
            &format!("/chats/{chat}/participants/{}", u[1].id),
            &u[0].token,
        )
        .await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(ben.closed().await, Some(4003));
    let (status, _) = app.delete(&format!("/chats/{chat}"), &u[0].token).await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(cat.closed().await, Some(4003));
}

#[tokio::test]
async fn a_sender_over_the_rate_limit_gets_rate_limited_and_others_are_unaffected() {
    let app = spawn_app_with(Config {
        send_rate_per_sec: 1.0,
        ..Config::for_tests()
    })
    .await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann, _) = app.open_chat(&u[0], chat).await;
    let (mut ben, _) = app.open_chat(&u[1], chat).await;
    // Burst of 2, then refused.
    ann.send_message("a1", "one").await;
    ann.send_message("a2", "two").await;
    ann.send_json(json!({"type": "MessageCreated", "client_id": "a3", "text": "three"}))
        .await;
    let err = ann.next_of("error").await;
    assert_eq!(
        (err["client_id"].as_str(), err["code"].as_str()),
        (Some("a3"), Some("rate_limited"))
    );
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/messages"),
            &u[0].token,
            json!({"text": "http"}),
        )
        .await;
    assert_eq!(status.as_u16(), 429);
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        ben.next_of("MessageCreated").await["message"]["text"],
        "one"
    );
    assert_eq!(
        ben.next_of("MessageCreated").await["message"]["text"],
        "two"
    );
    let reply = ben.send_message("b1", "I can still talk").await;
    assert_eq!(reply["text"], "I can still talk");
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001_and_returns() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ws, _): (Ws, Value) = app.open_chat(&u[0], chat).await;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(ws.closed().await, Some(1001));
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn both_sides_writing_first_at_once_make_exactly_one_direct_chat() {
    for _ in 0..5 {
        let app = spawn_app().await;
        let ann = app.register("ann").await;
        let ben = app.register("ben").await;
        let (to_ben, to_ann) = (
            format!("/users/{}/messages", ben.id),
            format!("/users/{}/messages", ann.id),
        );
        let (a, b) = tokio::join!(
            app.post(&to_ben, &ann.token, json!({"text": "hi ben"})),
            app.post(&to_ann, &ben.token, json!({"text": "hi ann"})),
        );
        assert_eq!(
            (a.0.as_u16(), b.0.as_u16()),
            (201, 201),
            "{} / {}",
            a.1,
            b.1
        );
        assert_eq!(a.1["chat"]["chat_id"], b.1["chat"]["chat_id"]);
        for user in [&ann, &ben] {
            let (_, chats) = app.get("/chats", &user.token).await;
            let chats = chats.as_array().unwrap();
            assert_eq!(chats.len(), 1, "{chats:?}");
            assert_eq!(chats[0]["kind"], "direct");
        }
        let chat = a.1["chat"]["chat_id"].as_i64().unwrap();
        let (_, page) = app
            .get(&format!("/chats/{chat}/messages"), &ann.token)
            .await;
        assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn the_server_pings_and_closes_a_client_that_misses_two_pongs() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(Config {
        ping_interval_secs: 1,
        ..Config::for_tests()
    })
    .await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;

    // A silent client: a raw TCP socket that upgrades and then never reads or answers.
    let mut raw = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /chat/{chat}?token={} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        u[0].token, app.addr
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(common::WAIT, async {
        loop {
            match raw.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closed the silent connection");
    assert!(received.starts_with(b"HTTP/1.1 101"), "upgraded");
    // Server frames are unmasked: a close frame is 0x88, a ping 0x89.
    assert!(received.contains(&0x88), "a close frame was sent");
    assert!(received.contains(&0x89), "pings were sent");

    // A live client answers pings (tungstenite does it as it reads) and stays connected
    // past two ping periods.
    let mut live = app
        .connect(&format!("/chat/{chat}?token={}", u[1].token))
        .await
        .unwrap();
    live.next_of("history").await;
    for _ in 0..3 {
        live.wait_for_ping().await;
    }
    let m = app.send(&u[0], chat, "still there?").await;
    assert_eq!(live.next_of("MessageCreated").await["message"], m);
}

#[tokio::test]
async fn a_socket_opened_after_an_edit_and_a_delete_gets_them_in_its_history_only_once() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let kept = app.send(&u[0], chat, "first").await["message_id"]
        .as_i64()
        .unwrap();
    let gone = app.send(&u[0], chat, "second").await["message_id"]
        .as_i64()
        .unwrap();
    let (status, _) = app
        .patch(
            &format!("/messages/{kept}"),
            &u[0].token,
            json!({"text": "first, edited"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.delete(&format!("/messages/{gone}"), &u[0].token).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (mut ws, history) = app.open_chat(&u[1], chat).await;
    assert_eq!(ids(&history["messages"]), vec![kept]);
    assert_eq!(history["messages"][0]["text"], "first, edited");

    // Strictly the next frame: no replay of the edit or the deletion, no second presence.
    let marker = app.send(&u[0], chat, "after").await["message_id"].clone();
    let next = ws.next_json().await;
    assert_eq!(next["type"], "MessageCreated", "{next}");
    assert_eq!(next["message"]["message_id"], marker);
}

#[tokio::test]
async fn a_frame_over_1_mib_is_abuse_and_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ws, _) = app.open_chat(&u[0], chat).await;
    let huge = json!({"type": "MessageCreated", "client_id": "big", "text": "x".repeat(1_100_000)});
    ws.send_text(&huge.to_string()).await;
    assert_eq!(ws.closed().await, Some(1009));
    // The server goes on serving everyone else.
    let (mut again, _) = app.open_chat(&u[0], chat).await;
    again.send_message("after", "still here").await;
}

#[tokio::test]
async fn a_socket_that_stops_reading_is_closed_and_catches_up_with_after() {
    let app = spawn_app_with(Config {
        write_timeout_secs: 1,
        send_rate_per_sec: 1_000_000.0,
        ..Config::for_tests()
    })
    .await;
    let (u, chat) = group_of(&app, &["ann", "ben"]).await;
    let (mut ann_ws, _) = app.open_chat(&u[0], chat).await;
    // Ben opens the chat, then stops reading: his TCP buffers fill, then his queue.
    let (mut ben_ws, _) = app.open_chat(&u[1], chat).await;
    assert_eq!(
        ann_ws.next_of("presence").await["online"],
        json!([u[0].id, u[1].id])
    );

    let stop = tokio_util::sync::CancellationToken::new();
    let text = "x".repeat(4000);
    let flood = async {
        let mut sent = 0;
        while !stop.is_cancelled() {
            app.send(&u[0], chat, &text).await;
            sent += 1;
            assert!(sent < 50_000, "the stalled socket was never closed");
        }
        sent
    };
    // The server drops Ben's socket (his presence goes) instead of buffering for ever.
    let watch = async {
        loop {
            let v = ann_ws.next_json().await;
            if v["type"] == "presence" && v["online"] == json!([u[0].id]) {
                stop.cancel();
                return;
            }
        }
    };
    let (sent, ()) = tokio::join!(flood, watch);

    // What Ben still finds in his buffers ends with the close (4008 if it found room) or the
    // connection's end.
    let code = ben_ws.closed().await;
    assert!(matches!(code, None | Some(4008)), "closed with {code:?}");

    // He reconnects with ?after= and gets what he missed, from the start, in order.
    let (mut again, page) = app.open_chat_after(&u[1], chat, 0).await;
    let got = ids(&page["messages"]);
    assert_eq!(got.len(), sent.min(1000), "a full page of what he missed");
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(page["has_more"], sent > 1000);
    // The rest follows on the socket, in order, then what is new.
    app.send(&u[0], chat, "still there?").await;
    let mut last = *got.last().expect("a page");
    loop {
        let m = again.next_of("MessageCreated").await["message"].clone();
        let id = m["message_id"].as_i64().expect("id");
        assert!(id > last, "{id} after {last}");
        last = id;
        if m["text"] == "still there?" {
            break;
        }
    }
}

/// A page shows read receipts as soon as it opens a chat: the opening history carries every
/// participant's marker (later moves come as `read` frames); older pages do not repeat them.
#[tokio::test]
async fn the_opening_history_carries_every_read_marker() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let cat = app.register("cat").await;
    let chat = app.create_group(&ann, "Team", &[&ben, &cat]).await;
    let first = app.send(&ann, chat, "one").await;
    let second = app.send(&ann, chat, "two").await;
    for (who, upto) in [(&ben, &second), (&cat, &first)] {
        let (status, body) = app
            .post(
                &format!("/chats/{chat}/read"),
                &who.token,
                json!({"message_id": upto["message_id"]}),
            )
            .await;
        assert_eq!(status.as_u16(), 204, "{body}");
    }
    let (mut ws, history) = app.open_chat(&ann, chat).await;
    let mut markers: Vec<(i64, i64)> = history["read_markers"]
        .as_array()
        .unwrap_or_else(|| panic!("read_markers: {history}"))
        .iter()
        .map(|m| {
            (
                m["user_id"].as_i64().unwrap(),
                m["message_id"].as_i64().unwrap(),
            )
        })
        .collect();
    markers.sort();
    let mut expected = vec![
        (ben.id, second["message_id"].as_i64().unwrap()),
        (cat.id, first["message_id"].as_i64().unwrap()),
    ];
    expected.sort();
    assert_eq!(markers, expected);
    ws.send_json(json!({"type": "load_more", "before": second["message_id"]}))
        .await;
    // The reads themselves come after the page too (they are in the log after its last message).
    let older = loop {
        let frame = ws.next_event().await;
        if frame["type"] == "history" {
            break frame;
        }
        assert_eq!(frame["type"], "read", "{frame}");
    };
    assert!(older.get("read_markers").is_none(), "{older}");
}
