//! `bench` against a running server on Postgres + Redis: a short run loses nothing and reports
//! sane figures.

use messenger_adapters::backend::{Backend, Secret};
use messenger_server::{Application, Config};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A real server on port 0, running until [`Served::stop`].
struct Served {
    url: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Served {
    async fn start(config: Config) -> Self {
        let app = Application::build(config).await.expect("server builds");
        let url = format!("http://{}", app.local_addr());
        let stop = app.shutdown_handle();
        let task = tokio::spawn(app.run_until_stopped());
        Served { url, stop, task }
    }

    /// `messenger-cli --json bench --url <this server>`; each test adds its shape and options.
    fn bench(&self) -> tokio::process::Command {
        self.cli("bench")
    }

    /// `messenger-cli --json <command> --url <this server>`.
    fn cli(&self, command: &str) -> tokio::process::Command {
        let mut cli = tokio::process::Command::new(env!("CARGO_BIN_EXE_messenger-cli"));
        cli.args(["--json", command, "--url", &self.url]);
        cli
    }

    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// Asserts that a run failed (`why`) and that its stderr says `reason`.
fn assert_failed_saying(out: &std::process::Output, reason: &str, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{why}");
    assert!(stderr.contains(reason), "{stderr}");
}

/// The JSON report of a bench that succeeded.
fn report_of(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[tokio::test]
async fn a_short_bench_delivers_everything_and_reports_sane_figures() {
    let database_url = messenger_adapters::postgres::create_test_database().await;
    let redis_url = messenger_adapters::test_services::redis_url().await;
    let prefix = database_url
        .rsplit('/')
        .next()
        .unwrap_or("bench")
        .to_owned();
    let config = Config {
        backend: Backend::PostgresRedis {
            database_url: Secret::new(database_url),
            redis_url: Secret::new(redis_url),
            redis_prefix: prefix,
        },
        ..Config::for_tests()
    };
    let server = Served::start(config).await;

    let out = server
        .bench()
        .args(["--url", &server.url, "--chats", "3", "--members", "4"])
        .args(["--interval", "100", "--duration", "2", "--drain", "2"])
        .output()
        .await
        .expect("bench runs");
    let report = report_of(&out);
    let sent = report["sent"].as_u64().unwrap();
    assert!(
        sent >= 12 * 10,
        "every member sent about 20 messages: {report}"
    );
    assert_eq!(report["acked"], sent, "{report}");
    assert_eq!(report["expected_deliveries"], sent * 3);
    assert_eq!(
        report["delivered"], report["expected_deliveries"],
        "{report}"
    );
    assert_eq!(report["lost"], 0);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["closed_early"], 0, "{report}");
    assert_eq!(report["sockets"], 12);
    let p50 = report["latency_ms"]["p50"].as_f64().unwrap();
    let p99 = report["latency_ms"]["p99"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{report}");
    assert!(report["ack_ms"]["p50"].as_f64().unwrap() > 0.0);

    server.stop().await;
}

#[tokio::test]
async fn an_idle_bench_opens_several_sockets_per_member_and_sends_nothing() {
    let server = Served::start(Config::for_tests()).await;
    let bench = |extra: &[&str]| {
        server
            .bench()
            .args(["--chats", "2", "--members", "2"])
            .args(["--duration", "1", "--drain", "0"])
            .args(extra)
            .output()
    };

    let out = bench(&["--idle", "--sockets-per-member", "3"])
        .await
        .expect("bench runs");
    let report = report_of(&out);
    assert_eq!(report["sockets"], 12, "{report}");
    assert_eq!(report["sent"], 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["closed_early"], 0, "{report}");

    let refused = bench(&["--sockets-per-member", "3"])
        .await
        .expect("bench runs");
    assert_failed_saying(
        &refused,
        "--sockets-per-member",
        "several sockets per sender",
    );

    server.stop().await;
}

#[tokio::test]
async fn sockets_the_server_closes_during_the_bench_are_reported() {
    let server = Served::start(Config::for_tests()).await;
    let bench = server
        .bench()
        .args(["--chats", "2", "--members", "2"])
        .args(["--idle", "--sockets-per-member", "2", "--duration", "600"])
        .output();
    let bench = tokio::spawn(bench);

    // Once all 8 sockets are open, the server shuts down and closes them (1001).
    let metrics = format!("{}/metrics", server.url);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let text = reqwest::get(&metrics)
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        if text.contains("messenger_open_sockets{kind=\"chat\"} 8") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sockets never opened: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.stop().await;

    let out = bench.await.expect("bench task").expect("bench runs");
    let report = report_of(&out);
    assert_eq!(report["sockets"], 8, "{report}");
    assert_eq!(report["closed_early"], 8, "{report}");
}

#[tokio::test]
async fn bench_open_times_the_socket_the_page_and_the_control_on_a_chat_with_history() {
    let server = Served::start(Config::for_tests()).await;
    let http = reqwest::Client::new();
    let signed_up: Value = http
        .post(format!("{}/register", server.url))
        .json(&serde_json::json!({
            "phone": "+15550001111", "password": "open-bench-pw", "username": "opener"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_up["token"].as_str().expect("a token");
    let chat: Value = http
        .post(format!("{}/chats", server.url))
        .bearer_auth(token)
        .json(&serde_json::json!({"name": "history", "participants": []}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chat_id = chat["chat_id"].as_i64().expect("a chat id");
    for n in 0..25 {
        let sent = http
            .post(format!("{}/chats/{chat_id}/messages", server.url))
            .bearer_auth(token)
            .json(&serde_json::json!({"text": format!("m{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 201);
    }

    let out = server
        .cli("bench-open")
        .args(["--phone", "+15550001111", "--password", "open-bench-pw"])
        .args(["--count", "3"])
        .output()
        .await
        .expect("bench-open runs");
    let report = report_of(&out);
    assert_eq!(report["chat"], chat_id, "the user's only chat: {report}");
    assert_eq!(report["count"], 3, "{report}");
    assert_eq!(
        report["history_messages"], 20,
        "a socket opens on the last 20: {report}"
    );
    assert_eq!(
        report["page_messages"], 20,
        "a page holds 20 by default: {report}"
    );
    for timing in ["open_ms", "page_ms", "control_ms"] {
        let p50 = report[timing]["p50"].as_f64().expect("a p50");
        let max = report[timing]["max"].as_f64().expect("a max");
        assert!(p50 > 0.0 && p50 <= max, "{timing}: {report}");
    }

    let wrong = server
        .cli("bench-open")
        .args(["--phone", "+15550001111", "--password", "not-it"])
        .output()
        .await
        .expect("bench-open runs");
    assert_failed_saying(&wrong, "401", "a wrong password fails the run");

    server.stop().await;
}
