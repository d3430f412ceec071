//! `GET /metrics`: this node's counters in Prometheus' text format, moving with the traffic.

use crate::common;

use common::spawn_app;
use std::time::Duration;

async fn scrape(app: &common::TestApp) -> String {
    let resp = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(ct.starts_with("text/plain"), "{ct}");
    resp.text().await.expect("body read")
}

/// The value of the sample `name` (with its labels as written), if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_sockets_frames_errors_acks_persisted_batches_and_stream_lag() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;
    let chat = app.create_group(&ann, "Team", &[&ben]).await;
    let (mut ws, _) = app.open_chat(&ann, chat).await;
    let (mut bens, _) = app.open_chat(&ben, chat).await;
    ws.send_message("c1", "hello").await;
    // Ben has it: the hub has read it off the stream.
    assert_eq!(
        bens.next_of("MessageCreated").await["message"]["text"],
        "hello"
    );
    ws.send_text("not json").await;
    assert_eq!(ws.next_of("error").await["code"], "invalid_input");
    let (status, _) = app.get("/chats/999999", &ann.token).await;
    assert_eq!(status, 404);

    let text = scrape(&app).await;
    let expect = [
        ("messenger_open_sockets{kind=\"chat\"}", 2.0),
        ("messenger_frames_out_total{kind=\"MessageCreated\"}", 1.0),
        ("messenger_frames_in_total{kind=\"MessageCreated\"}", 1.0),
        ("messenger_frames_in_total{kind=\"invalid\"}", 1.0),
        ("messenger_frames_out_total{kind=\"ack\"}", 1.0),
        ("messenger_frames_out_total{kind=\"history\"}", 2.0),
        (
            "messenger_errors_total{code=\"invalid_input\",via=\"ws\"}",
            1.0,
        ),
        (
            "messenger_errors_total{code=\"not_found\",via=\"http\"}",
            1.0,
        ),
        ("messenger_ack_latency_seconds_count", 1.0),
    ];
    for (name, value) in expect {
        assert_eq!(sample(&text, name), Some(value), "{name} in:\n{text}");
    }
    for counted in [
        "messenger_persist_batch_size_count",
        "messenger_persist_latency_seconds_count",
        "messenger_stream_lag_seconds_count",
    ] {
        let n = sample(&text, counted).unwrap_or(0.0);
        assert!(n >= 1.0, "nothing counted in {counted}:\n{text}");
    }
    // The persisters' backlog, as the periodic sweep last saw it.
    for gauge in ["messenger_persist_unread", "messenger_persist_pending"] {
        assert!(sample(&text, gauge).is_some(), "no {gauge} in:\n{text}");
    }

    // A closed socket leaves the gauge (once the server has noticed).
    ws.close().await;
    bens.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(&app).await;
        if sample(&text, "messenger_open_sockets{kind=\"chat\"}") == Some(0.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still open:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
