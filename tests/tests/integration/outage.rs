//! Redis or Postgres going away: `/readyz` says 503, clients get `unavailable` rather than
//! hangs, and service resumes by itself when the backing service is back.

use crate::common;

use common::proxy::Proxy;
use common::{shared_backend, spawn_on, TestApp};
use messenger_adapters::backend::{Backend, Secret};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

fn host_port(url: &str) -> SocketAddr {
    let after_scheme = url.split("://").nth(1).expect("a URL");
    let authority = after_scheme.split('/').next().expect("an authority");
    let host_port = authority.rsplit('@').next().expect("host:port");
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    host_port
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("host:port")
}

fn via(url: &str, proxy: SocketAddr) -> String {
    url.replacen(&host_port(url).to_string(), &proxy.to_string(), 1)
        .replacen("localhost:", &format!("{}:", proxy.ip()), 1)
}

async fn proxied_app() -> (TestApp, Proxy, Proxy) {
    let Backend::PostgresRedis {
        database_url,
        redis_url,
        redis_prefix,
    } = shared_backend().await
    else {
        unreachable!("a shared backend")
    };
    let pg = Proxy::start(host_port(database_url.expose())).await;
    let redis = Proxy::start(host_port(redis_url.expose())).await;
    let backend = Backend::PostgresRedis {
        database_url: Secret::new(via(database_url.expose(), pg.addr)),
        redis_url: Secret::new(via(redis_url.expose(), redis.addr)),
        redis_prefix,
    };
    let app = spawn_on(&backend).await;
    (app, pg, redis)
}

async fn until_ready(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = app
            .request(reqwest::Method::GET, "/readyz", None, None)
            .await;
        if status.as_u16() == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn redis_down_means_unavailable_and_service_resumes_without_a_restart() {
    let (app, _pg, redis) = proxied_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let (mut ben_ws, _) = app.open_chat(&ben, chat).await;
    let (mut ann_ws, _) = app.open_chat(&ann, chat).await;
    let before = ann_ws.send_message("c0", "before").await;
    assert_eq!(ben_ws.next_of("MessageCreated").await["message"], before);

    redis.down().await;
    let (status, body) = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(status.as_u16(), 503, "{body}");
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/messages"),
            &ann.token,
            json!({"text": "while down"}),
        )
        .await;
    assert_eq!(status.as_u16(), 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    ann_ws
        .send_json(json!({"type": "MessageCreated", "client_id": "c1", "text": "while down"}))
        .await;
    let err = ann_ws.next_of("error").await;
    assert_eq!(
        (err["client_id"].as_str(), err["code"].as_str()),
        (Some("c1"), Some("unavailable"))
    );

    redis.up();
    until_ready(&app).await;
    let after = ann_ws.send_message("c2", "after").await;
    assert_eq!(ben_ws.next_of("MessageCreated").await["message"], after);
    let http = app.send(&ann, chat, "http after").await;
    assert_eq!(ben_ws.next_of("MessageCreated").await["message"], http);
    assert_after_replays_history(&app, &ben, chat).await;
}

/// A reader reconnecting with `?after=0` gets what `GET` history holds: every committed
/// message, once, in order.
async fn assert_after_replays_history(app: &TestApp, reader: &common::TestUser, chat: i64) {
    let (status, page) = app
        .get(&format!("/chats/{chat}/messages?limit=100"), &reader.token)
        .await;
    assert_eq!(status.as_u16(), 200, "{page}");
    let (_ws, replay) = app.open_chat_after(reader, chat, 0).await;
    let ids = |v: &serde_json::Value| -> Vec<i64> {
        v["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["message_id"].as_i64().expect("id"))
            .collect()
    };
    let stored = ids(&page);
    assert!(stored.windows(2).all(|w| w[0] < w[1]), "{stored:?}");
    assert_eq!(ids(&replay), stored, "?after=0 replays the stored history");
}

#[tokio::test]
async fn postgres_down_means_unavailable_and_service_resumes_without_a_restart() {
    let (app, pg, _redis) = proxied_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let (mut ben_ws, _) = app.open_chat(&ben, chat).await;

    pg.down().await;
    let (status, body) = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(status.as_u16(), 503, "{body}");
    let (status, body) = app.get("/chats", &ann.token).await;
    assert_eq!(status.as_u16(), 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    // The send is queued (Redis is up) but cannot be committed: unavailable, not a hang.
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/messages"),
            &ann.token,
            json!({"text": "while down", "client_id": "w1"}),
        )
        .await;
    assert_eq!(status.as_u16(), 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");

    pg.up();
    until_ready(&app).await;
    // Nothing was lost: the retry with the same client_id answers with the committed message.
    let (status, retried) = app
        .post(
            &format!("/chats/{chat}/messages"),
            &ann.token,
            json!({"text": "while down", "client_id": "w1"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{retried}");
    let after = app.send(&ann, chat, "after").await;
    loop {
        let ev = ben_ws.next_of("MessageCreated").await;
        if ev["message"]["text"] == "after" {
            assert_eq!(ev["message"], after);
            break;
        }
        assert_eq!(
            ev["message"], retried,
            "the queued message reached ben, once"
        );
    }
    let (status, page) = app
        .get(&format!("/chats/{chat}/messages"), &ben.token)
        .await;
    assert_eq!(status.as_u16(), 200, "{page}");
    let texts: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["while down", "after"]);
    assert_after_replays_history(&app, &ben, chat).await;
}

/// A statement Postgres rejects is a bug, not an outage: 500 `internal`, with nothing of the
/// statement or the schema in the answer (the chain goes to the log), and `/readyz` stays 200.
#[tokio::test]
async fn a_statement_postgres_rejects_is_500_internal_and_not_shown() {
    let backend = shared_backend().await;
    let Backend::PostgresRedis { database_url, .. } = &backend else {
        unreachable!("a shared backend")
    };
    let app = spawn_on(&backend).await;
    let alice = app.register("alice").await;
    let pg = sqlx::PgPool::connect(database_url.expose())
        .await
        .expect("the test database");
    sqlx::query("ALTER TABLE users RENAME COLUMN username TO username_renamed")
        .execute(&pg)
        .await
        .expect("schema changed under the server");

    let (status, body) = app.get("/me", &alice.token).await;
    assert_eq!(status.as_u16(), 500, "{body}");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    let shown = body.to_string();
    assert!(
        !shown.contains("username") && !shown.contains("column"),
        "no detail reaches the client: {shown}"
    );
    let (status, _) = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(
        status.as_u16(),
        200,
        "the backend is up; only a query is broken"
    );
}
