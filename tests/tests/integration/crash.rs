//! A node killed (SIGKILL) while its clients send loses nothing: every acknowledged message,
//! and every message any socket received, ends up in history exactly once, committed by the
//! surviving node (which claims what the dead one left pending); the restarted node serves again.

use crate::common;

use common::{shared_backend, spawn_on, ChildServer};
use messenger_adapters::backend::Backend;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

async fn history(app: &common::TestApp, token: &str, chat: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/chats/{chat}/messages?limit=100&before={b}"),
            None => format!("/chats/{chat}/messages?limit=100"),
        };
        let (status, page) = app.get(&path, token).await;
        assert_eq!(status.as_u16(), 200, "{page}");
        let mut page_ids: Vec<i64> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["message_id"].as_i64().unwrap())
            .collect();
        page_ids.extend(ids);
        ids = page_ids;
        if page["has_more"] != true {
            return ids;
        }
        before = ids.first().copied();
    }
}

async fn history_texts(app: &common::TestApp, token: &str, chat: i64) -> Vec<String> {
    let (_, page) = app
        .get(&format!("/chats/{chat}/messages?limit=100"), token)
        .await;
    let mut texts: Vec<String> = Vec::new();
    let mut page = page;
    loop {
        let mut these: Vec<String> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect();
        let oldest = page["messages"][0]["message_id"].as_i64();
        these.extend(texts);
        texts = these;
        match (page["has_more"].as_bool(), oldest) {
            (Some(true), Some(before)) => {
                page = app
                    .get(
                        &format!("/chats/{chat}/messages?limit=100&before={before}"),
                        token,
                    )
                    .await
                    .1;
            }
            _ => return texts,
        }
    }
}

#[tokio::test]
async fn killing_a_node_mid_load_loses_no_acknowledged_or_delivered_message() {
    let backend = shared_backend().await;
    let node1 = ChildServer::start(&backend).await;
    let node2 = spawn_on(&backend).await;
    let via1 = node1.client();
    let ann = via1.register("ann").await;
    let ben = via1.register("ben").await;
    let chat = via1.create_group(&ann, "Crash", &[&ben]).await;
    let (mut ben_ws, _) = node2.open_chat(&ben, chat).await;
    let (mut ann_ws, _) = via1.open_chat(&ann, chat).await;

    let mut acked = BTreeSet::new();
    for i in 0..20 {
        acked.insert(
            ann_ws.send_message(&format!("warm-{i}"), "warm up").await["message_id"]
                .as_i64()
                .unwrap(),
        );
    }
    // Hold the messages table so that nothing of the burst can be committed before the kill:
    // the burst is in Redis (and fanned out), in flight towards Postgres, when the node dies.
    let Backend::PostgresRedis { database_url, .. } = &backend else {
        unreachable!("shared backend")
    };
    let db = sqlx::PgPool::connect(database_url.expose()).await.unwrap();
    let mut hold = db.begin().await.unwrap();
    sqlx::query("LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();
    let burst = 300;
    for i in 0..burst {
        ann_ws
            .send_json(json!({"type": "MessageCreated", "client_id": format!("burst-{i}"), "text": format!("burst {i}")}))
            .await;
    }
    let mut received = BTreeSet::new();
    let mut burst_seen = 0;
    while burst_seen < burst {
        let v = ben_ws.next_event().await;
        if v["type"] == "MessageCreated" {
            received.insert(v["message"]["message_id"].as_i64().unwrap());
            if v["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("burst "))
            {
                burst_seen += 1;
            }
        }
    }
    node1.kill().await;
    hold.commit().await.unwrap();
    // Whatever acks made it out before the kill were commits.
    while let Some(frame) = ann_ws.try_next_json().await {
        if frame["type"] == "ack" {
            acked.insert(frame["message"]["message_id"].as_i64().unwrap());
        }
    }

    // Everything ben's socket on the surviving node received, up to a marker sent after the kill.
    // (Sent from another socket of ben's: its commit waits for the recovery below.)
    let (mut ben_tab, _) = node2.open_chat(&ben, chat).await;
    ben_tab
        .send_json(
            json!({"type": "MessageCreated", "client_id": "marker", "text": "after the crash"}),
        )
        .await;
    loop {
        let v = ben_ws.next_event().await;
        if v["type"] == "MessageCreated" {
            received.insert(v["message"]["message_id"].as_i64().unwrap());
            if v["message"]["text"] == "after the crash" {
                break;
            }
        }
    }
    assert!(
        received.len() > acked.len(),
        "the burst reached ben: {} vs {}",
        received.len(),
        acked.len()
    );

    // The surviving node commits what the dead one left pending (after the claim delay).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let stored = loop {
        let stored = history(&node2, &ben.token, chat).await;
        let set: BTreeSet<i64> = stored.iter().copied().collect();
        if received.is_subset(&set) || tokio::time::Instant::now() > deadline {
            break stored;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let set: BTreeSet<i64> = stored.iter().copied().collect();
    assert_eq!(set.len(), stored.len(), "no message id is stored twice");
    let texts = history_texts(&node2, &ben.token, chat).await;
    let burst_texts: Vec<&String> = texts.iter().filter(|t| t.starts_with("burst ")).collect();
    let unique: BTreeSet<&&String> = burst_texts.iter().collect();
    assert_eq!(
        unique.len(),
        burst_texts.len(),
        "no sent message is stored twice"
    );
    assert_eq!(
        burst_texts.len(),
        burst,
        "every message of the burst is stored"
    );
    assert!(
        stored.windows(2).all(|w| w[0] < w[1]),
        "history is in id order"
    );
    let missing_acked: Vec<&i64> = acked.difference(&set).collect();
    assert!(
        missing_acked.is_empty(),
        "acknowledged but not stored: {missing_acked:?}"
    );
    let missing_seen: Vec<&i64> = received.difference(&set).collect();
    assert!(
        missing_seen.is_empty(),
        "delivered but not stored: {missing_seen:?}"
    );

    // A reader catching up with ?after= gets exactly the stored history: all of it, once, in order.
    let (_reader, page) = node2.open_chat_after(&ben, chat, 0).await;
    let replayed: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_i64().unwrap())
        .collect();
    assert_eq!(replayed, stored, "?after=0 replays the stored history");

    // The node comes back and serves the same chat.
    let node1 = ChildServer::start(&backend).await;
    let again = node1.client();
    let (status, back) = again
        .post(
            &format!("/chats/{chat}/messages"),
            &ann.token,
            json!({"text": "I am back"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{back}");
    assert_eq!(ben_ws.next_of("MessageCreated").await["message"], back);
    let _: Value = back;
}
