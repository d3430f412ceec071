//! Secrets never reach the logs: the real server binary, logging at `trace` for its own crates,
//! is driven through everything that carries a secret (sign-up, sign-in with good and bad
//! passwords, tokens in headers and in socket URLs, bad tokens, logout), stopped with SIGTERM,
//! and its whole output is searched for the passwords, the tokens and the JWT secret.

use crate::common;

use common::{on_postgres_redis, server_command, shared_backend, WAIT};
use futures_util::{SinkExt, StreamExt};
use messenger_adapters::backend::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Child;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Everything at `trace`: the server's own crates and every library under it (poem, tungstenite,
/// sqlx, fred, ...), the most an operator could turn on.
const LOG_FILTER: &str = "trace";

/// The JWT secret of these servers: long and unlike anything else in a log.
const JWT_SECRET: &str = "logs-test-jwt-secret-9f3b2e7d1c5a";

/// A server child process whose stdout and stderr are captured, line by line, into one log.
struct LoggedServer {
    base: String,
    child: Child,
    log: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn capture(
    stream: impl AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<String>>,
    addr_tx: Option<tokio::sync::mpsc::UnboundedSender<String>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let (Some(tx), Some(rest)) = (&addr_tx, line.split("http://").nth(1)) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                let _ = tx.send(addr.to_owned());
            }
            let mut log = log.lock().expect("log lock");
            log.push_str(&line);
            log.push('\n');
        }
    })
}

impl LoggedServer {
    async fn start(backend: &Backend) -> LoggedServer {
        let mut child = server_command(backend, JWT_SECRET, LOG_FILTER)
            .spawn()
            .expect("the server starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let readers = vec![
            capture(
                child.stdout.take().expect("stdout"),
                log.clone(),
                Some(tx.clone()),
            ),
            capture(child.stderr.take().expect("stderr"), log.clone(), Some(tx)),
        ];
        let addr = match tokio::time::timeout(WAIT, rx.recv()).await {
            Ok(Some(addr)) => addr,
            _ => panic!(
                "the server did not say where it listens; its log:\n{}",
                log.lock().expect("log lock")
            ),
        };
        LoggedServer {
            base: format!("http://{addr}"),
            child,
            log,
            readers,
        }
    }

    /// SIGTERM, then waits for the exit and for the last line of output.
    async fn stop(mut self) -> String {
        let pid = self.child.id().expect("still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {pid}");
        let exit = tokio::time::timeout(WAIT * 2, self.child.wait())
            .await
            .expect("the server exits after SIGTERM")
            .expect("exit status");
        for reader in self.readers {
            let _ = tokio::time::timeout(WAIT, reader).await;
        }
        let log = self.log.lock().expect("log lock").clone();
        assert!(
            exit.success(),
            "SIGTERM should exit 0, got {exit}; log:\n{log}"
        );
        strip_ansi(&log)
    }
}

/// The log without terminal colour codes (in case a writer adds them despite NO_COLOR), so
/// that a secret split by them is still found.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A bare-bones client: the server is a child process, not a `TestApp`.
struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: Option<&str>,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let resp = tokio::time::timeout(WAIT, req.send())
            .await
            .expect("an answer in time")
            .expect("request sent");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        self.call(
            reqwest::Method::POST,
            path,
            auth.as_deref(),
            Some(&body.to_string()),
        )
        .await
    }

    async fn get(&self, path: &str, authorization: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, Some(authorization), None)
            .await
    }

    /// Opens a socket; `Err` is the status of a refused upgrade.
    async fn socket(&self, path: &str, authorization: Option<&str>) -> Result<Socket, u16> {
        let url = format!("{}{path}", self.base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().expect("a websocket request");
        if let Some(a) = authorization {
            req.headers_mut()
                .insert("authorization", a.parse().expect("header value"));
        }
        match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
            .await
            .expect("an upgrade answer in time")
        {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("{path}: {e}"),
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON frame of type `ty` (others are skipped).
async fn next_of(ws: &mut Socket, ty: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap_or_else(|_| panic!("a {ty} frame in time"))
            .expect("socket open")
            .expect("readable frame");
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).expect("JSON frame");
            if v["type"] == ty {
                return v;
            }
        }
    }
}

/// The server's close code, once it closes the socket.
async fn close_code(ws: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a close in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

fn phone(n: u64) -> String {
    let n = u64::from(std::process::id()) * 1000 + n;
    format!("+1{:010}", n % 10_000_000_000)
}

/// A token with one character of its signature changed.
fn tampered(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("a JWT");
    let mut sig: Vec<char> = sig.chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", sig.into_iter().collect::<String>())
}

/// Every secret `drive` put on the wire, with a name for the failure message.
type Secrets = Vec<(String, String)>;

/// Drives traffic that carries secrets through the server; returns those secrets.
async fn drive(client: &Client) -> Secrets {
    let mut secrets: Secrets = Vec::new();
    let mut secret = |name: &str, value: &str| {
        secrets.push((name.to_owned(), value.to_owned()));
        value.to_owned()
    };
    let alice_password = secret("alice's password", "alice-pass-Zq8-hunter2");
    let bob_password = secret("bob's password", "bob-pass-Xk3-opensesame");
    let short_password = secret("a too-short password", "Sh0rt!7");
    let bad_phone_password = secret("the password of a bad sign-up", "badphone-pass-9Lw-xyz");
    let malformed_password = secret("a password in malformed JSON", "malformed-pass-4Rt-abc");
    let wrong_password = secret("a wrong password", "wrong-pass-Vb7-guess");
    let unknown_password = secret("an unknown phone's password", "unknown-pass-Qe2-nobody");
    let (alice_phone, bob_phone) = (phone(1), phone(2));

    // Sign-ups, good and bad.
    let (status, alice) = client
        .post_json(
            "/register",
            None,
            json!({"phone": alice_phone, "password": alice_password, "username": "alice"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{alice}");
    let alice_token = secret("alice's sign-up token", alice["token"].as_str().unwrap());
    let (status, bob) = client
        .post_json(
            "/register",
            None,
            json!({"phone": bob_phone, "password": bob_password, "username": "bob"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bob}");
    let bob_token = secret("bob's token", bob["token"].as_str().unwrap());
    let bob_id = bob["user"]["user_id"].as_i64().unwrap();
    // Refused sign-ups: the answer names the field but does not echo the password either.
    for (password, body) in [
        (
            &short_password,
            json!({"phone": phone(3), "password": short_password, "username": "carol"}),
        ),
        (
            &bad_phone_password,
            json!({"phone": "not-a-phone", "password": bad_phone_password, "username": "dave"}),
        ),
    ] {
        let (status, answer) = client.post_json("/register", None, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(
            !answer.to_string().contains(password.as_str()),
            "echoed: {answer}"
        );
    }
    let malformed = format!(
        r#"{{"phone": "{}", "password": "{malformed_password}", "username": "#,
        phone(4)
    );
    let (status, answer) = client
        .call(reqwest::Method::POST, "/register", None, Some(&malformed))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        !answer.to_string().contains(&malformed_password),
        "echoed: {answer}"
    );

    // Sign-ins: good, wrong password, unknown phone.
    let (status, login) = client
        .post_json(
            "/login",
            None,
            json!({"phone": alice_phone, "password": alice_password}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let second_token = secret("alice's login token", login["token"].as_str().unwrap());
    let (status, answer) = client
        .post_json(
            "/login",
            None,
            json!({"phone": alice_phone, "password": wrong_password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let (status, answer) = client
        .post_json(
            "/login",
            None,
            json!({"phone": phone(5), "password": unknown_password}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");

    // A chat, sockets with the token in the URL and in the header, messages both ways.
    let (status, chat) = client
        .post_json(
            "/chats",
            Some(&alice_token),
            json!({"name": "Logs", "participants": [bob_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chat}");
    let chat = chat["chat_id"].as_i64().unwrap();
    let mut alice_ws = client
        .socket(&format!("/chat/{chat}?token={alice_token}"), None)
        .await
        .expect("alice's chat socket");
    next_of(&mut alice_ws, "presence").await;
    let mut bob_feed = client
        .socket(&format!("/events?token={bob_token}"), None)
        .await
        .expect("bob's feed");
    next_of(&mut bob_feed, "ready").await;
    let mut second_ws = client
        .socket(
            &format!("/chat/{chat}"),
            Some(&format!("Bearer {second_token}")),
        )
        .await
        .expect("alice's second chat socket");
    next_of(&mut second_ws, "presence").await;
    alice_ws
        .send(Message::text(
            json!({"type": "MessageCreated", "client_id": "c1", "text": "over the socket"})
                .to_string(),
        ))
        .await
        .expect("sent");
    next_of(&mut alice_ws, "ack").await;
    next_of(&mut bob_feed, "MessageCreated").await;
    let (status, sent) = client
        .post_json(
            &format!("/chats/{chat}/messages"),
            Some(&bob_token),
            json!({"text": "over http"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    next_of(&mut alice_ws, "MessageCreated").await;

    // Bad credentials in the Authorization header and in a socket URL.
    let forged = secret("a tampered token", &tampered(&alice_token));
    let basic = secret("basic credentials", "YWxpY2U6YmFzaWMtcGFzcy1Ocjg=");
    secret("the basic password", "basic-pass-Nr8");
    let garbage = secret("a garbage bearer token", "garbage-token-Mn4-zzz");
    for header in [
        format!("Bearer {forged}"),
        format!("Basic {basic}"),
        format!("Bearer {garbage}"),
        alice_token.clone(), // no scheme
    ] {
        let (status, answer) = client.get("/me", &header).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}: {answer}");
    }
    assert_eq!(
        client
            .socket(&format!("/events?token={forged}"), None)
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        client
            .socket(&format!("/chat/{chat}"), Some(&format!("Bearer {garbage}")))
            .await
            .err(),
        Some(401)
    );

    // Logout: the socket opened with that token is closed, the token refused after.
    let (status, answer) = client
        .call(
            reqwest::Method::POST,
            "/logout",
            Some(&format!("Bearer {second_token}")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{answer}");
    assert_eq!(close_code(&mut second_ws).await, Some(4001));
    let (status, answer) = client.get("/me", &format!("Bearer {second_token}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(
        client
            .socket(&format!("/events?token={second_token}"), None)
            .await
            .err(),
        Some(401)
    );

    let _ = alice_ws.close(None).await;
    let _ = bob_feed.close(None).await;
    secrets.push(("the JWT secret".to_owned(), JWT_SECRET.to_owned()));
    secrets
}

/// Each token also by its signature alone (the part that makes it a credential).
fn with_signatures(secrets: Secrets) -> Secrets {
    let mut all = Vec::new();
    for (name, value) in secrets {
        if name.contains("token") && value.matches('.').count() == 2 {
            let signature = value.rsplit('.').next().unwrap_or_default().to_owned();
            all.push((format!("the signature of {name}"), signature));
        }
        all.push((name, value));
    }
    all
}

async fn secrets_stay_out_of_the_log(backend: Backend) {
    let server = LoggedServer::start(&backend).await;
    let client = Client {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    let mut secrets = with_signatures(drive(&client).await);
    if let Backend::PostgresRedis { database_url, .. } = &backend {
        // A password in DATABASE_URL (postgres://user:password@host/db), if there is one.
        let url = database_url.expose();
        let credentials = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split_once('@'))
            .map(|(creds, _)| creds);
        if let Some((_, password)) = credentials.and_then(|c| c.split_once(':')) {
            secrets.push(("the database password".to_owned(), password.to_owned()));
        }
    }
    let log = server.stop().await;

    // The log is real: it names where the server listened, shows the debug lines of the
    // socket code, and the graceful stop.
    assert!(
        log.lines().count() > 5,
        "the log is too short to mean anything:\n{log}"
    );
    assert!(
        log.contains("listening on http://"),
        "no listening line:\n{log}"
    );
    assert!(
        log.contains("chat_socket"),
        "no debug line from the socket code (is RUST_LOG applied?):\n{log}"
    );
    assert!(
        log.contains("stopped"),
        "no line for the graceful stop:\n{log}"
    );

    let leaks: Vec<String> = secrets
        .iter()
        .filter(|(_, value)| log.contains(value.as_str()))
        .map(|(name, value)| {
            let line = log
                .lines()
                .find(|l| l.contains(value.as_str()))
                .unwrap_or_default();
            format!("{name} ({value:?}) in: {line}")
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} secret(s) in the log:\n  {}",
        leaks.len(),
        leaks.join("\n  ")
    );
}

#[tokio::test]
async fn no_password_token_or_jwt_secret_reaches_the_log_in_memory() {
    secrets_stay_out_of_the_log(Backend::InMemory).await;
}

#[tokio::test]
async fn no_password_token_or_jwt_secret_reaches_the_log_on_postgres_and_redis() {
    if !on_postgres_redis() {
        eprintln!("skipped: needs Postgres + Redis (MESSENGER_TEST_BACKEND=postgres)");
        return;
    }
    secrets_stay_out_of_the_log(shared_backend().await).await;
}
