//! Redis or Postgres restarted while a client keeps sending (each service a private instance,
//! really stopped and started again): every frame is answered (an `ack`, or `unavailable`
//! while the service is down; never silence), the client reconnects with `?after=` and retries
//! with the same `client_id`, and in the end every acknowledged message is in history exactly
//! once, in id order, for a reader that catches up with `?after=` as for `GET` history. The
//! server is never restarted.

use crate::common;

use common::private_services::{PrivatePostgres, PrivateRedis};
use common::{on_postgres_redis, spawn_on, TestApp, TestUser, Ws};
use messenger_adapters::backend::{Backend, Secret};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Longest a frame may wait for its answer: the server answers `unavailable` for a change not
/// committed within 10 s (ACK_WAIT), so anything beyond this is a hang.
const ANSWER: Duration = Duration::from_secs(15);

/// What the sending client saw.
#[derive(Default)]
struct Sent {
    /// client_id → the acknowledged message (every ack of one client_id must agree).
    acked: Mutex<BTreeMap<String, Value>>,
    refusals: AtomicUsize,
    reconnects: AtomicUsize,
}

impl Sent {
    fn acked_count(&self) -> usize {
        self.acked.lock().expect("not poisoned").len()
    }

    fn record_ack(&self, client_id: &str, message: &Value) {
        let mut acked = self.acked.lock().expect("not poisoned");
        if let Some(earlier) = acked.get(client_id) {
            assert_eq!(
                earlier["message_id"], message["message_id"],
                "{client_id} was acknowledged as two different messages"
            );
        }
        acked.insert(client_id.to_owned(), message.clone());
    }
}

/// Opens `/chat/{chat}` (with `?after=`), retrying while the server cannot serve it.
async fn open_until_served(app: &TestApp, user: &TestUser, chat: i64, after: i64) -> Ws {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the chat socket could not be reopened"
        );
        let path = format!("/chat/{chat}?token={}&after={after}", user.token);
        if let Ok(mut ws) = app.connect(&path).await {
            if let Ok(first) = ws.next_within(ANSWER).await {
                if first["type"] == "history" {
                    return ws;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sends `MessageCreated` frames one after another until `stop`, as a well-behaved client:
/// after `unavailable` or a closed socket it retries the same `client_id` (reconnecting with
/// `?after=`), so a message is never sent twice under two ids.
async fn keep_sending(
    app: &TestApp,
    user: &TestUser,
    chat: i64,
    sent: &Sent,
    stop: &CancellationToken,
) {
    let mut ws = open_until_served(app, user, chat, 0).await;
    let mut newest_seen = 0i64;
    let mut retry: Option<String> = None;
    let mut n = 0;
    loop {
        let client_id = match retry.take() {
            Some(c) => c,
            None if stop.is_cancelled() => return,
            None => {
                n += 1;
                format!("m{n:04}")
            }
        };
        let frame = json!({"type": "MessageCreated", "client_id": client_id, "text": client_id});
        let mut open = ws.try_send_json(frame).await;
        while open {
            match ws.next_within(ANSWER).await {
                Ok(v) if v["type"] == "ack" => {
                    let id = v["message"]["message_id"].as_i64().expect("an id");
                    newest_seen = newest_seen.max(id);
                    let acked_for = v["client_id"].as_str().expect("a client_id");
                    sent.record_ack(acked_for, &v["message"]);
                    if acked_for == client_id {
                        break;
                    }
                }
                Ok(v) if v["type"] == "error" && v["client_id"] == client_id.as_str() => {
                    assert_eq!(v["code"], "unavailable", "{v}");
                    sent.refusals.fetch_add(1, Ordering::Relaxed);
                    retry = Some(client_id.clone());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    break;
                }
                Ok(v) => {
                    if let Some(id) = v["message"]["message_id"].as_i64() {
                        newest_seen = newest_seen.max(id);
                    }
                }
                Err(true) => open = false,
                Err(false) => panic!("no answer to {client_id} within {ANSWER:?}: a hang"),
            }
        }
        if !open {
            sent.reconnects.fetch_add(1, Ordering::Relaxed);
            retry = Some(client_id);
            ws = open_until_served(app, user, chat, newest_seen).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn until_ready(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await
        .0
        != 200
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every acknowledged message is in what a `?after=0` reader gets and in `GET` history, once,
/// in id order, with the text it was sent with.
async fn assert_history_holds_every_ack_once(
    app: &TestApp,
    reader: &TestUser,
    chat: i64,
    sent: &Sent,
) {
    let acked = sent.acked.lock().expect("not poisoned").clone();
    assert!(!acked.is_empty());

    let path = format!("/chat/{chat}?token={}&after=0", reader.token);
    let mut ws = app.connect(&path).await.expect("the socket opens");
    let history = ws.next_within(ANSWER).await.expect("a history frame");
    assert_eq!(history["type"], "history");
    assert_eq!(history["has_more"], false, "more than a page was sent");
    let replayed: Vec<&Value> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .collect();

    let (status, page) = app
        .get(&format!("/chats/{chat}/messages?limit=100"), &reader.token)
        .await;
    assert_eq!(status, 200, "{page}");
    let mut stored: Vec<Value> = page["messages"].as_array().expect("messages").clone();
    let mut before = stored.first().and_then(|m| m["message_id"].as_i64());
    while page["has_more"] == true || before.is_some() {
        let Some(b) = before else { break };
        let (_, older) = app
            .get(
                &format!("/chats/{chat}/messages?limit=100&before={b}"),
                &reader.token,
            )
            .await;
        let older = older["messages"].as_array().expect("messages").clone();
        if older.is_empty() {
            break;
        }
        before = older.first().and_then(|m| m["message_id"].as_i64());
        stored.splice(0..0, older);
    }

    for (source, messages) in [
        (
            "?after=0",
            replayed.into_iter().cloned().collect::<Vec<_>>(),
        ),
        ("GET history", stored),
    ] {
        let ids: Vec<i64> = messages
            .iter()
            .map(|m| m["message_id"].as_i64().expect("id"))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{source}: not in id order: {ids:?}"
        );
        for (client_id, message) in &acked {
            let copies: Vec<&Value> = messages
                .iter()
                .filter(|m| m["message_id"] == message["message_id"])
                .collect();
            assert_eq!(
                copies.len(),
                1,
                "{source}: acked {client_id} appears {} times",
                copies.len()
            );
            assert_eq!(copies[0]["text"], client_id.as_str(), "{source}");
        }
        let texts: Vec<&str> = messages.iter().filter_map(|m| m["text"].as_str()).collect();
        let mut unique = texts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            texts.len(),
            "{source}: a client_id made two messages"
        );
    }
}

/// Runs the sender while `restart` stops and starts a service, then checks history.
async fn restart_while_sending(app: &TestApp, down: impl FnOnce(), up: impl FnOnce()) {
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let sent = Sent::default();
    let stop = CancellationToken::new();

    let restart = async {
        until("10 acks before the restart", || sent.acked_count() >= 10).await;
        tokio::task::block_in_place(down);
        let (status, body) = app
            .request(reqwest::Method::GET, "/readyz", None, None)
            .await;
        assert_eq!(status, 503, "{body}");
        // The client keeps trying while the service is down: long enough for the server to
        // give up on some of its frames (`unavailable`) rather than wait.
        let refused_before = sent.refusals.load(Ordering::Relaxed);
        until("an unavailable while down", || {
            sent.refusals.load(Ordering::Relaxed) > refused_before
        })
        .await;
        tokio::task::block_in_place(up);
        until_ready(app).await;
        let resumed_from = sent.acked_count();
        until("10 acks after the restart", || {
            sent.acked_count() >= resumed_from + 10
        })
        .await;
        stop.cancel();
    };
    tokio::join!(keep_sending(app, &ann, chat, &sent, &stop), restart);
    assert_history_holds_every_ack_once(app, &ben, chat, &sent).await;
    eprintln!(
        "acked {}, refused {}, reconnects {}",
        sent.acked_count(),
        sent.refusals.load(Ordering::Relaxed),
        sent.reconnects.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_redis_while_a_client_sends_loses_and_duplicates_nothing() {
    if !on_postgres_redis() {
        eprintln!("runs in the Postgres + Redis pass (MESSENGER_TEST_BACKEND=postgres)");
        return;
    }
    let mut redis = PrivateRedis::start();
    let database_url = messenger_adapters::postgres::create_test_database().await;
    let backend = Backend::PostgresRedis {
        database_url: Secret::new(database_url),
        redis_url: Secret::new(redis.url()),
        redis_prefix: "restart".into(),
    };
    let app = spawn_on(&backend).await;
    let redis = Mutex::new(&mut redis);
    restart_while_sending(
        &app,
        || redis.lock().expect("not poisoned").down(),
        || redis.lock().expect("not poisoned").up(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_postgres_while_a_client_sends_loses_and_duplicates_nothing() {
    if !on_postgres_redis() {
        eprintln!("runs in the Postgres + Redis pass (MESSENGER_TEST_BACKEND=postgres)");
        return;
    }
    let pg = PrivatePostgres::start();
    let redis_url = messenger_adapters::test_services::redis_url().await;
    let backend = Backend::PostgresRedis {
        database_url: Secret::new(pg.url()),
        redis_url: Secret::new(redis_url),
        redis_prefix: format!("restart-pg-{}", pg.port),
    };
    let app = spawn_on(&backend).await;
    restart_while_sending(&app, || pg.down(), || pg.up()).await;
}
