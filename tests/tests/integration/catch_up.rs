//! Catch-up that misses nothing: a client that was away reconnects to `/chat/{id}` with
//! `?since=<cursor>` and gets every change since, creations, edits, deletions and read markers,
//! from the store; it ends up with exactly what a fresh history shows, whichever node made the
//! changes and whether every node and Redis were restarted in between.

use crate::common;

use common::private_services::PrivateRedis;
use common::{on_postgres_redis, shared_backend, spawn_app, spawn_on, TestApp, TestUser, Ws};
use messenger_adapters::backend::{Backend, Secret};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What a client shows of a chat: message id → (text, edited), as it applies frames.
#[derive(Debug, Default, PartialEq)]
struct Screen(BTreeMap<i64, (String, bool)>);

impl Screen {
    fn from_history(history: &Value) -> Screen {
        let mut screen = Screen::default();
        for m in history["messages"].as_array().expect("messages") {
            screen.show(m);
        }
        screen
    }

    fn show(&mut self, m: &Value) {
        let id = m["message_id"].as_i64().expect("message_id");
        let text = m["text"].as_str().expect("text").to_owned();
        self.0.insert(id, (text, !m["edited_at"].is_null()));
    }

    /// Applies one live (or caught-up) frame.
    fn apply(&mut self, frame: &Value) {
        match frame["type"].as_str() {
            Some("MessageCreated" | "MessageUpdated") => self.show(&frame["message"]),
            Some("MessageDeleted") => {
                self.0
                    .remove(&frame["message_id"].as_i64().expect("message_id"));
            }
            _ => {}
        }
    }
}

/// Opens `/chat/{chat}?since=…` and reads the `changes` frame, and `presence` when it is the
/// last page.
async fn open_since(app: &TestApp, user: &TestUser, chat: i64, cursor: &str) -> (Ws, Value) {
    let path = format!("/chat/{chat}?token={}&since={cursor}", user.token);
    let mut ws = app.connect(&path).await.expect("socket opens");
    let changes = ws.next_json().await;
    assert_eq!(changes["type"], "changes", "first frame: {changes}");
    assert!(changes["cursor"].is_string(), "{changes}");
    if changes["has_more"] == false {
        let presence = ws.next_json().await;
        assert_eq!(presence["type"], "presence", "after changes: {presence}");
    }
    (ws, changes)
}

fn cursor_of(frame: &Value) -> String {
    frame["cursor"].as_str().expect("a cursor").to_owned()
}

/// Everything `reader` (away since `cursor`) misses while `writer` and `other` change the chat
/// through `node`: a new message, an edit and a deletion of older ones, a message created and
/// deleted meanwhile, and read markers. Returns the ids `(edited, deleted)`.
async fn change_while_away(
    node: &TestApp,
    chat: i64,
    writer: &TestUser,
    other: &TestUser,
    older: &[i64],
) -> (i64, i64) {
    let (edited, deleted) = (older[0], older[1]);
    let (status, body) = node
        .patch(
            &format!("/messages/{edited}"),
            &writer.token,
            json!({"text": "edited while away"}),
        )
        .await;
    assert_eq!(status.as_u16(), 200, "{body}");
    let (status, body) = node
        .delete(&format!("/messages/{deleted}"), &writer.token)
        .await;
    assert_eq!(status.as_u16(), 204, "{body}");
    let brief = node.send(writer, chat, "here and gone").await;
    let brief = brief["message_id"].as_i64().expect("message_id");
    let (status, _) = node
        .delete(&format!("/messages/{brief}"), &writer.token)
        .await;
    assert_eq!(status.as_u16(), 204);
    let new = node.send(writer, chat, "sent while away").await;
    let new = new["message_id"].as_i64().expect("message_id");
    let (status, body) = node
        .post(
            &format!("/chats/{chat}/read"),
            &other.token,
            json!({"message_id": new}),
        )
        .await;
    assert_eq!(status.as_u16(), 204, "{body}");
    (edited, deleted)
}

/// A group of three with a few messages, and ben gone from it with the cursor of his history.
struct Away {
    ann: TestUser,
    ben: TestUser,
    cat: TestUser,
    chat: i64,
    /// The messages sent before ben left.
    older: Vec<i64>,
    cursor: String,
    /// What ben's page showed when he left.
    screen: Screen,
}

impl Away {
    async fn leave(node: &TestApp) -> Away {
        let ann = node.register("ann").await;
        let ben = node.register("ben").await;
        let cat = node.register("cat").await;
        let chat = node.create_group(&ann, "Team", &[&ben, &cat]).await;
        let mut older = Vec::new();
        for i in 0..3 {
            let m = node.send(&ann, chat, &format!("before {i}")).await;
            older.push(m["message_id"].as_i64().expect("message_id"));
        }
        let (ws, history) = node.open_chat(&ben, chat).await;
        ws.close().await;
        Away {
            ann,
            ben,
            cat,
            chat,
            older,
            cursor: cursor_of(&history),
            screen: Screen::from_history(&history),
        }
    }
}

/// The scenario on two nodes (which may be one): `reader` leaves `first`, the changes happen on
/// `second`, `reader` comes back to `first` with its cursor.
async fn away_and_back(first: &TestApp, second: &TestApp) {
    let Away {
        ann,
        ben,
        cat,
        chat,
        older,
        cursor,
        mut screen,
    } = Away::leave(first).await;

    let (edited, deleted) = change_while_away(second, chat, &ann, &cat, &older).await;

    let (mut ws, changes) = open_since(first, &ben, chat, &cursor).await;
    assert_eq!(changes["has_more"], false, "{changes}");
    let events = changes["events"].as_array().expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"MessageUpdated"), "{changes}");
    assert!(kinds.contains(&"MessageDeleted"), "{changes}");
    assert!(kinds.contains(&"MessageCreated"), "{changes}");
    let read = events
        .iter()
        .find(|e| e["type"] == "read")
        .unwrap_or_else(|| panic!("cat's read marker: {changes}"));
    assert_eq!(read["user_id"], cat.id);
    assert!(
        !events
            .iter()
            .any(|e| e["message"]["text"] == "here and gone"),
        "a message created and deleted meanwhile is left out: {changes}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "MessageUpdated" && e["message"]["message_id"] == edited),
        "{changes}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "MessageDeleted" && e["message_id"] == deleted),
        "{changes}"
    );
    for e in events {
        assert!(
            e["cursor"].is_string(),
            "every change carries a cursor: {e}"
        );
        screen.apply(e);
    }

    // Exactly what a fresh load shows.
    let (fresh_ws, fresh) = first.open_chat(&ben, chat).await;
    fresh_ws.close().await;
    assert_eq!(screen, Screen::from_history(&fresh));

    // And it is live from there: the next change arrives with a cursor past the page's.
    second.send(&ann, chat, "after the catch-up").await;
    // The log first replays what lies after the page's cursor: cat's read (stamped above the
    // newest message change the page read, so the page's cursor stops below it).
    let live = loop {
        let frame = ws.next_event().await;
        if frame["type"] != "read" {
            break frame;
        }
        assert_eq!(frame["user_id"], cat.id, "{frame}");
    };
    assert_eq!(live["type"], "MessageCreated", "{live}");
    assert_eq!(live["message"]["text"], "after the catch-up");
    assert_ne!(cursor_of(&live), cursor_of(&changes));

    // Nothing new: an empty page that keeps the cursor.
    let (_ws, again) = open_since(first, &ben, chat, &cursor_of(&live)).await;
    assert_eq!(again["events"], json!([]), "{again}");
    assert_eq!(again["cursor"], live["cursor"]);
}

#[tokio::test]
async fn a_client_back_with_its_cursor_sees_what_history_shows() {
    let app = spawn_app().await;
    away_and_back(&app, &app).await;
}

#[tokio::test]
async fn changes_made_on_another_node_are_caught_up() {
    let backend = shared_backend().await;
    let node_a = spawn_on(&backend).await;
    let node_b = spawn_on(&backend).await;
    away_and_back(&node_a, &node_b).await;
}

#[tokio::test]
async fn a_cursor_that_is_not_one_of_this_chat_is_refused_with_400() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let one = app.create_group(&ann, "One", &[&ben]).await;
    let two = app.create_group(&ann, "Two", &[&ben]).await;
    let (ws, history) = app.open_chat(&ann, one).await;
    ws.close().await;
    let of_one = cursor_of(&history);
    for bad in [of_one.as_str(), "garbage", "1", ""] {
        let path = format!("/chat/{two}?token={}&since={bad}", ann.token);
        assert_eq!(app.connect(&path).await.err(), Some(400), "since={bad:?}");
    }
    let (status, body) = app
        .refused_upgrade(&format!("/chat/{two}?token={}&since={of_one}", ann.token))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("since"),
        "the message names the parameter: {body}"
    );
    let both = format!("/chat/{one}?token={}&since={of_one}&after=1", ann.token);
    assert_eq!(app.connect(&both).await.err(), Some(400));
}

#[tokio::test]
async fn more_than_a_page_of_changes_comes_in_pages_of_1000() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Busy", &[&ben]).await;
    let (ws, history) = app.open_chat(&ben, chat).await;
    ws.close().await;

    // Sent over one socket, each acknowledged after its commit.
    let (mut ann_ws, _) = app.open_chat(&ann, chat).await;
    let total = 1_005;
    for i in 0..total {
        ann_ws
            .send_json(json!({"type": "MessageCreated", "client_id": format!("c{i}"), "text": format!("m{i}")}))
            .await;
    }
    for _ in 0..total {
        ann_ws.next_of("ack").await;
    }

    let (mut ws, first) = open_since(&app, &ben, chat, &cursor_of(&history)).await;
    assert_eq!(first["has_more"], true);
    assert_eq!(first["events"].as_array().unwrap().len(), 1000);
    assert_eq!(
        ws.closed().await,
        Some(1000),
        "asked to come back for the rest"
    );
    let (_ws, rest) = open_since(&app, &ben, chat, &cursor_of(&first)).await;
    assert_eq!(rest["has_more"], false);
    let texts: Vec<&str> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["events"].as_array().unwrap())
        .map(|e| e["message"]["text"].as_str().unwrap())
        .collect();
    let sent: Vec<String> = (0..total).map(|i| format!("m{i}")).collect();
    assert_eq!(
        texts, sent,
        "every message once, in order, across the pages"
    );
}

/// Every node stopped and Redis restarted empty between leaving and coming back: the cursor
/// still works, because the changes come from Postgres.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_survives_restarts_of_every_node_and_of_redis() {
    if !on_postgres_redis() {
        eprintln!("runs in the Postgres + Redis pass (MESSENGER_TEST_BACKEND=postgres)");
        return;
    }
    let mut redis = PrivateRedis::start();
    let backend = Backend::PostgresRedis {
        database_url: Secret::new(messenger_adapters::postgres::create_test_database().await),
        redis_url: Secret::new(redis.url()),
        redis_prefix: "catch-up".into(),
    };
    let node = spawn_on(&backend).await;
    let Away {
        ann,
        ben,
        cat,
        chat,
        older,
        cursor,
        mut screen,
    } = Away::leave(&node).await;
    let (edited, deleted) = change_while_away(&node, chat, &ann, &cat, &older).await;

    node.stop().await.expect("stopped cleanly");
    redis.down();
    redis.up();
    let node = spawn_on(&backend).await;

    let (_ws, changes) = open_since(&node, &ben, chat, &cursor).await;
    let events = changes["events"].as_array().expect("events");
    for e in events {
        screen.apply(e);
    }
    assert!(events
        .iter()
        .any(|e| e["type"] == "read" && e["user_id"] == cat.id));
    assert_eq!(screen.0[&edited].0, "edited while away");
    assert!(!screen.0.contains_key(&deleted));
    let (fresh_ws, fresh) = node.open_chat(&ben, chat).await;
    fresh_ws.close().await;
    assert_eq!(screen, Screen::from_history(&fresh));
}

/// A cursor from the future (made up, or held from before Redis lost its newest writes) must
/// not make the node skip the chat's next changes, for that socket or any other.
#[tokio::test]
async fn a_cursor_beyond_the_chat_does_not_silence_it() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    app.send(&ann, chat, "before").await;
    let far = format!("{chat}.{}", i64::MAX);
    let (mut ben_ws, changes) = open_since(&app, &ben, chat, &far).await;
    assert_eq!(changes["events"], json!([]), "{changes}");
    let (mut ann_ws, _) = app.open_chat(&ann, chat).await;
    app.send(&ann, chat, "after").await;
    assert_eq!(
        ben_ws.next_of("MessageCreated").await["message"]["text"],
        "after"
    );
    assert_eq!(
        ann_ws.next_of("MessageCreated").await["message"]["text"],
        "after"
    );
}
