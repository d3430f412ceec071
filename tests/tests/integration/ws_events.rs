//! `/events`: `ready`, chat lifecycle frames, and every message event of every chat the user
//! takes part in, with no `/chat/{id}` socket open.

use crate::common;

use common::spawn_app;
use serde_json::{json, Value};

#[tokio::test]
async fn upgrades_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    assert_eq!(app.connect("/events").await.err(), Some(401));
    assert_eq!(app.connect("/events?token=nope").await.err(), Some(401));
}

#[tokio::test]
async fn a_new_group_arrives_as_chat_created_then_its_messages() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let mut ann_feed = app.open_events(&ann).await;
    let mut ben_feed = app.open_events(&ben).await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    for feed in [&mut ann_feed, &mut ben_feed] {
        let created = feed.next_event().await;
        assert_eq!(created["type"], "ChatCreated", "{created}");
        assert_eq!(created["chat"]["chat_id"], chat);
        assert_eq!(created["chat"]["name"], "Team");
    }
    let m = app.send(&ann, chat, "hello").await;
    for feed in [&mut ann_feed, &mut ben_feed] {
        let ev = feed.next_event().await;
        assert_eq!(
            common::sans_cursor(ev),
            json!({"type": "MessageCreated", "message": m})
        );
    }
}

#[tokio::test]
async fn a_first_direct_message_announces_the_chat_before_the_message() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let mut ben_feed = app.open_events(&ben).await;
    let (status, body) = app
        .post(
            &format!("/users/{}/messages", ben.id),
            &ann.token,
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let created = ben_feed.next_event().await;
    assert_eq!(created["type"], "ChatCreated");
    assert_eq!(created["chat"]["kind"], "direct");
    assert_eq!(
        created["chat"]["name"], "ann",
        "a direct chat is named after the other side"
    );
    let msg = ben_feed.next_event().await;
    assert_eq!(msg["type"], "MessageCreated");
    assert_eq!(msg["message"], body["message"]);
}

#[tokio::test]
async fn edits_deletes_and_read_receipts_reach_the_feed() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let mut feed = app.open_events(&ben).await;
    let m = app.send(&ann, chat, "v1").await;
    let id = m["message_id"].as_i64().unwrap();
    assert_eq!(feed.next_event().await["type"], "MessageCreated");
    let (status, edited) = app
        .patch(
            &format!("/messages/{id}"),
            &ann.token,
            json!({"text": "v2"}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        common::sans_cursor(feed.next_event().await),
        json!({"type": "MessageUpdated", "message": edited})
    );
    let (status, _) = app
        .post(
            &format!("/chats/{chat}/read"),
            &ben.token,
            json!({"message_id": id}),
        )
        .await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(
        common::sans_cursor(feed.next_event().await),
        json!({"type": "read", "chat_id": chat, "user_id": ben.id, "message_id": id})
    );
    let (status, _) = app.delete(&format!("/messages/{id}"), &ann.token).await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(
        common::sans_cursor(feed.next_event().await),
        json!({"type": "MessageDeleted", "message_id": id, "chat_id": chat})
    );
}

#[tokio::test]
async fn renames_additions_removals_and_deletions_update_the_feed() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let cat = app.register("cat").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let mut ben_feed = app.open_events(&ben).await;
    let mut cat_feed = app.open_events(&cat).await;

    let (status, _) = app
        .patch(
            &format!("/chats/{chat}"),
            &ben.token,
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    let updated = ben_feed.next_event().await;
    assert_eq!(
        (updated["type"].as_str(), updated["chat"]["name"].as_str()),
        (Some("ChatUpdated"), Some("Renamed"))
    );

    let (status, _) = app
        .post(
            &format!("/chats/{chat}/participants"),
            &ben.token,
            json!({"user_id": cat.id}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    let created = cat_feed.next_event().await;
    assert_eq!(
        created["type"], "ChatCreated",
        "the added participant gets ChatCreated"
    );
    let updated = ben_feed.next_event().await;
    assert_eq!(updated["type"], "ChatUpdated");
    assert!(updated["chat"]["participants"]
        .as_array()
        .unwrap()
        .contains(&json!(cat.id)));

    // Cat now gets the chat's messages.
    let m = app.send(&ann, chat, "welcome cat").await;
    assert_eq!(cat_feed.next_event().await["message"], m);
    assert_eq!(ben_feed.next_event().await["message"], m);

    let (status, _) = app
        .delete(
            &format!("/chats/{chat}/participants/{}", cat.id),
            &cat.token,
        )
        .await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(
        cat_feed.next_event().await,
        json!({"type": "ChatDeleted", "chat_id": chat})
    );
    assert_eq!(ben_feed.next_event().await["type"], "ChatUpdated");

    // After leaving, cat no longer hears the chat; ben does. A marker proves the order.
    app.send(&ann, chat, "cat is gone").await;
    assert_eq!(
        ben_feed.next_event().await["message"]["text"],
        "cat is gone"
    );
    let other = app.create_group(&cat, "Cat's own", &[]).await;
    let next = cat_feed.next_event().await;
    assert_eq!(
        (next["type"].as_str(), next["chat"]["chat_id"].as_i64()),
        (Some("ChatCreated"), Some(other))
    );

    let (status, _) = app.delete(&format!("/chats/{chat}"), &ann.token).await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(
        ben_feed.next_event().await,
        json!({"type": "ChatDeleted", "chat_id": chat})
    );
}

#[tokio::test]
async fn an_open_feed_makes_the_user_online_and_logout_closes_it_with_4001() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let (_, found) = app.get("/users?q=ann", &ben.token).await;
    assert_eq!(found[0]["online"], false);
    let mut feed = app.open_events(&ann).await;
    let (_, found) = app.get("/users?q=ann", &ben.token).await;
    assert_eq!(found[0]["online"], true);
    let (status, _) = app.post("/logout", &ann.token, Value::Null).await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(feed.closed().await, Some(4001));
}

#[tokio::test]
async fn the_feed_takes_no_frames_but_stays_open() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let mut feed = app.open_events(&ann).await;
    feed.send_text("{\"type\":\"typing\"}").await;
    let err = feed.next_event().await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "invalid_input");
    let chat = app.create_group(&ann, "Solo", &[]).await;
    assert_eq!(feed.next_event().await["chat"]["chat_id"], chat);
}

/// A page cannot send WebSocket pings; a `ping` frame gets a `pong` on both sockets, so it can
/// tell a live connection from a dead one without provoking errors.
#[tokio::test]
async fn a_ping_frame_is_answered_by_pong_on_both_sockets() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let mut feed = app.open_events(&ann).await;
    feed.send_json(json!({"type": "ping"})).await;
    assert_eq!(feed.next_json().await, json!({"type": "pong"}));
    let (mut ws, _) = app.open_chat(&ann, chat).await;
    ws.send_json(json!({"type": "ping"})).await;
    assert_eq!(ws.next_of("pong").await, json!({"type": "pong"}));
}
