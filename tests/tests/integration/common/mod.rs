//! `spawn_app()` and clients that speak the protocol: every test gets a server of its own
//! (in memory, on port 0), so tests run in parallel and repeatably.

pub mod assertions;
pub mod private_services;
pub mod proxy;

use futures_util::{SinkExt, StreamExt};
use messenger_adapters::backend::{Backend, Secret};
use messenger_server::{Application, Config};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// How long a test waits for any one frame or response before failing.
pub const WAIT: Duration = Duration::from_secs(10);

static NEXT_PHONE: AtomicU64 = AtomicU64::new(1);

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A registered user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub token: String,
    pub username: String,
    pub phone: String,
    pub password: String,
}

/// Whether this run's servers use Postgres + Redis (`MESSENGER_TEST_BACKEND=postgres`) rather
/// than the in-memory default.
pub fn on_postgres_redis() -> bool {
    std::env::var("MESSENGER_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The backend for one test's server: in memory, or a fresh database and Redis prefix.
pub async fn test_backend() -> Backend {
    if on_postgres_redis() {
        shared_backend().await
    } else {
        Backend::InMemory
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::for_tests()).await
}

pub async fn spawn_app_with(mut config: Config) -> TestApp {
    if matches!(config.backend, Backend::InMemory) {
        config.backend = test_backend().await;
    }
    spawn_configured(config).await
}

/// A server with exactly this configuration (a second node shares the first one's backend).
pub async fn spawn_configured(config: Config) -> TestApp {
    let app = Application::build(config).await.expect("the server builds");
    let addr = app.local_addr();
    let shutdown = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        http: reqwest::Client::new(),
        shutdown,
        server: Some(server),
    }
}

/// A server node on `backend` with the test settings; nodes on one backend form one service.
pub async fn spawn_on(backend: &Backend) -> TestApp {
    spawn_configured(Config {
        backend: backend.clone(),
        ..Config::for_tests()
    })
    .await
}

/// A unique phone number, so that users of parallel tests never clash.
pub fn fresh_phone() -> String {
    let n = NEXT_PHONE.fetch_add(1, Ordering::Relaxed) + u64::from(std::process::id()) * 100_000;
    format!("+1{:010}", n % 10_000_000_000)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        match self.server.take() {
            Some(h) => tokio::time::timeout(WAIT, h).await??,
            None => Ok(()),
        }
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = tokio::time::timeout(WAIT, req.send())
            .await
            .expect("response in time")
            .expect("request sent");
        let status = resp.status();
        let text = resp.text().await.expect("body read");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::DELETE, path, Some(token), None)
            .await
    }

    /// Registers `username` with a fresh phone and the password `password-<username>`.
    pub async fn register(&self, username: &str) -> TestUser {
        let phone = fresh_phone();
        let password = format!("password-{username}");
        let (status, body) = self
            .request(
                reqwest::Method::POST,
                "/register",
                None,
                Some(json!({"phone": phone, "password": password, "username": username})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {username}: {body}");
        TestUser {
            id: body["user"]["user_id"].as_i64().expect("user_id"),
            token: body["token"].as_str().expect("token").to_owned(),
            username: username.to_owned(),
            phone,
            password,
        }
    }

    /// Creates a group owned by `owner` with `members`; returns the chat id.
    pub async fn create_group(&self, owner: &TestUser, name: &str, members: &[&TestUser]) -> i64 {
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let (status, body) = self
            .post(
                "/chats",
                &owner.token,
                json!({"name": name, "participants": ids}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create group: {body}");
        body["chat_id"].as_i64().expect("chat_id")
    }

    /// Sends a message over HTTP; returns the stored message.
    pub async fn send(&self, user: &TestUser, chat: i64, text: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/chats/{chat}/messages"),
                &user.token,
                json!({"text": text}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "send: {body}");
        body
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Opens `/chat/{id}` and reads the opening `history` and `presence` frames.
    pub async fn open_chat(&self, user: &TestUser, chat: i64) -> (Ws, Value) {
        self.open_chat_at(user, &format!("/chat/{chat}?token={}", user.token))
            .await
    }

    /// Opens `/chat/{id}?after=…`.
    pub async fn open_chat_after(&self, user: &TestUser, chat: i64, after: i64) -> (Ws, Value) {
        self.open_chat_at(
            user,
            &format!("/chat/{chat}?token={}&after={after}", user.token),
        )
        .await
    }

    async fn open_chat_at(&self, _user: &TestUser, path: &str) -> (Ws, Value) {
        let mut ws = self.connect(path).await.expect("socket opens");
        let history = ws.next_json().await;
        assert_eq!(history["type"], "history", "first frame: {history}");
        let presence = ws.next_json().await;
        assert_eq!(presence["type"], "presence", "second frame: {presence}");
        (ws, history)
    }

    /// Opens `/events` and reads `ready`.
    pub async fn open_events(&self, user: &TestUser) -> Ws {
        let mut ws = self
            .connect(&format!("/events?token={}", user.token))
            .await
            .expect("socket opens");
        let ready = ws.next_json().await;
        assert_eq!(ready["type"], "ready", "first frame: {ready}");
        assert_eq!(ready["user_id"], user.id);
        ws
    }

    /// The status and error body of an upgrade the server refuses.
    pub async fn refused_upgrade(&self, path: &str) -> (u16, Value) {
        match tokio_tungstenite::connect_async(self.ws_url(path)).await {
            Ok(_) => panic!("{path}: the upgrade was accepted"),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let body = resp.body().as_deref().unwrap_or_default();
                let body = serde_json::from_slice(body).unwrap_or(Value::Null);
                (resp.status().as_u16(), body)
            }
            Err(e) => panic!("connect failed: {e}"),
        }
    }

    /// Opens a socket; `Err` carries the HTTP status of a refused upgrade.
    pub async fn connect(&self, path: &str) -> Result<Ws, u16> {
        match tokio_tungstenite::connect_async(self.ws_url(path)).await {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("connect failed: {e}"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A change frame with its `cursor` checked (a string) and taken out, to compare the rest.
#[track_caller]
pub fn sans_cursor(mut frame: Value) -> Value {
    let cursor = frame
        .as_object_mut()
        .and_then(|f| f.remove("cursor"))
        .unwrap_or(Value::Null);
    assert!(
        cursor.is_string(),
        "a change frame carries a cursor: {frame}"
    );
    frame
}

/// A client socket.
pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn send_json(&mut self, value: Value) {
        self.stream
            .send(Message::text(value.to_string()))
            .await
            .expect("frame sent");
    }

    /// Sends a frame; `false` if the socket is gone.
    pub async fn try_send_json(&mut self, value: Value) -> bool {
        self.stream
            .send(Message::text(value.to_string()))
            .await
            .is_ok()
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream
            .send(Message::text(text.to_owned()))
            .await
            .expect("frame sent");
    }

    /// The next JSON frame (pings and pongs are skipped).
    pub async fn next_json(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame readable");
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON frame"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next frame of type `ty`, skipping `presence` and `typing` frames.
    pub async fn next_of(&mut self, ty: &str) -> Value {
        loop {
            let v = self.next_json().await;
            if v["type"] == ty {
                return v;
            }
            assert!(
                v["type"] == "presence" || v["type"] == "typing",
                "expected a {ty} frame, got {v}"
            );
        }
    }

    /// The next frame that is not `presence` / `typing`.
    pub async fn next_event(&mut self) -> Value {
        loop {
            let v = self.next_json().await;
            if v["type"] != "presence" && v["type"] != "typing" {
                return v;
            }
        }
    }

    /// Sends a `MessageCreated` and waits for its `ack`; returns the acked message.
    pub async fn send_message(&mut self, client_id: &str, text: &str) -> Value {
        self.send_json(json!({"type": "MessageCreated", "client_id": client_id, "text": text}))
            .await;
        let ack = self.next_of("ack").await;
        assert_eq!(ack["client_id"], client_id, "{ack}");
        ack["message"].clone()
    }

    /// Waits until the server pings (tungstenite answers it with a pong by itself).
    pub async fn wait_for_ping(&mut self) {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a ping in time")
                .expect("socket open")
                .expect("frame readable");
            if let Message::Ping(_) = msg {
                return;
            }
        }
    }

    /// The next JSON frame within `within`; `Err(true)` if the socket closed or broke,
    /// `Err(false)` if nothing came in time.
    pub async fn next_within(&mut self, within: Duration) -> Result<Value, bool> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Err(false),
                Ok(Some(Ok(Message::Text(t)))) => {
                    return serde_json::from_str(t.as_str()).map_err(|_| true)
                }
                Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => return Err(true),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next JSON frame, or `None` once the socket is closed or broken.
    pub async fn try_next_json(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next())
                .await
                .ok()??
            {
                Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("close in time")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// A Postgres + Redis backend of its own, whatever `MESSENGER_TEST_BACKEND` says (for the
/// tests that are about that backend: several nodes, crashes, outages).
pub async fn shared_backend() -> Backend {
    let database_url = messenger_adapters::postgres::create_test_database().await;
    let redis_url = messenger_adapters::test_services::redis_url().await;
    let prefix = database_url.rsplit('/').next().unwrap_or("t").to_owned();
    Backend::PostgresRedis {
        database_url: Secret::new(database_url),
        redis_url: Secret::new(redis_url),
        redis_prefix: prefix,
    }
}

/// The `messenger-server` binary built next to this test (by `cargo test --workspace`).
pub fn server_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("messenger-server");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p messenger-server, or run scripts/test)",
        bin.display()
    );
    bin
}

/// The server binary on a free local port with `backend` (the environment's own
/// `DATABASE_URL` / `REDIS_URL` never leak in), logging at `log_filter` without colours, its
/// output piped and the process killed when dropped.
pub fn server_command(
    backend: &Backend,
    jwt_secret: &str,
    log_filter: &str,
) -> tokio::process::Command {
    use std::process::Stdio;
    let mut cmd = tokio::process::Command::new(server_binary());
    cmd.env("MESSENGER_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", jwt_secret)
        .env("MESSENGER_SEND_RATE", "1000")
        .env("RUST_LOG", log_filter)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_PREFIX")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Backend::PostgresRedis {
        database_url,
        redis_url,
        redis_prefix,
    } = backend
    {
        cmd.env("DATABASE_URL", database_url.expose())
            .env("REDIS_URL", redis_url.expose())
            .env("REDIS_PREFIX", redis_prefix);
    }
    cmd
}

/// A server running as a child process (killed when dropped).
pub struct ChildServer {
    pub addr: SocketAddr,
    child: tokio::process::Child,
}

impl ChildServer {
    /// Starts the binary on a free port with `backend`, and waits for it to listen.
    pub async fn start(backend: &Backend) -> ChildServer {
        use tokio::io::AsyncBufReadExt;
        let mut child = server_command(backend, "test-secret", "info")
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("http://").nth(1) {
                    if let Some(tx) = tx.take() {
                        let addr = rest
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        let addr = match tokio::time::timeout(WAIT, rx).await {
            Ok(Ok(addr)) => addr,
            _ => {
                use tokio::io::AsyncReadExt;
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = tokio::time::timeout(WAIT, stderr.read_to_string(&mut err)).await;
                }
                panic!("the server did not start: {err}");
            }
        };
        ChildServer {
            addr: addr.parse().expect("a socket address"),
            child,
        }
    }

    /// A client for it, like a [`TestApp`]'s.
    pub fn client(&self) -> TestApp {
        TestApp {
            addr: self.addr,
            http: reqwest::Client::new(),
            shutdown: CancellationToken::new(),
            server: None,
        }
    }

    /// SIGKILL: no cleanup, no close frames, nothing flushed.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("kill");
    }
}
