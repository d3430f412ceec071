//! `bench-open`: how long opening a chat takes, one request at a time, as a signed-in user
//! would: `WS /chat/{id}` until its `history` frame, `GET /chats/{id}/messages`, and `GET
//! /healthz` as the control that touches neither Postgres nor Redis (what the machine itself
//! adds to every request). Meant for a chat with a long history (`seed`).

use anyhow::{bail, Context as _};
use clap::Args;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

#[derive(Args)]
pub struct BenchOpenArgs {
    /// The server's base URL.
    #[arg(long, env = "MESSENGER_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Phone number of the user to sign in as.
    #[arg(long)]
    phone: String,
    /// That user's password.
    #[arg(long)]
    password: String,
    /// The chat to open (default: the user's most recently active chat).
    #[arg(long)]
    chat: Option<i64>,
    /// How many times each request is made.
    #[arg(long, default_value_t = 1000)]
    count: usize,
}

/// What one kind of request measured.
struct Timings {
    name: &'static str,
    histogram: Histogram<u64>,
}

impl Timings {
    fn new(name: &'static str) -> Self {
        Timings {
            name,
            histogram: Histogram::new_with_bounds(1, 60_000_000, 3)
                .expect("constant bounds are valid"),
        }
    }

    fn record(&mut self, since: Instant) -> anyhow::Result<()> {
        let micros = since.elapsed().as_micros() as u64;
        self.histogram.record(micros.max(1))?;
        Ok(())
    }

    fn ms(&self, q: f64) -> f64 {
        self.histogram.value_at_quantile(q) as f64 / 1000.0
    }

    fn report(&self) -> Value {
        json!({"p50": self.ms(0.5), "p99": self.ms(0.99), "max": self.histogram.max() as f64 / 1000.0})
    }
}

async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    args: &BenchOpenArgs,
) -> anyhow::Result<(String, i64)> {
    let resp = http
        .post(format!("{base}/login"))
        .json(&json!({"phone": args.phone, "password": args.password}))
        .send()
        .await
        .context("POST /login")?;
    if !resp.status().is_success() {
        bail!("POST /login: {}", resp.status());
    }
    let body: Value = resp.json().await.context("POST /login: not JSON")?;
    let token = body["token"].as_str().context("POST /login: no token")?;
    let chat = match args.chat {
        Some(chat) => chat,
        None => {
            let chats: Value = http
                .get(format!("{base}/chats"))
                .bearer_auth(token)
                .send()
                .await
                .context("GET /chats")?
                .error_for_status()?
                .json()
                .await?;
            chats[0]["chat_id"]
                .as_i64()
                .context("the user takes part in no chat")?
        }
    };
    Ok((token.to_owned(), chat))
}

/// Opens the chat's socket and waits for its `history` frame; answers how many messages it held.
async fn open_once(url: &str) -> anyhow::Result<usize> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("opening the socket")?;
    let history = loop {
        let frame = ws
            .next()
            .await
            .context("the socket closed before its history")??;
        let Message::Text(text) = frame else { continue };
        let v: Value = serde_json::from_str(text.as_str())?;
        match v["type"].as_str() {
            Some("history") => break v,
            Some("error") => bail!("the server answered {v}"),
            _ => continue,
        }
    };
    let _ = ws.close(None).await;
    Ok(history["messages"].as_array().map_or(0, Vec::len))
}

pub async fn run(out: &crate::output::Output, args: BenchOpenArgs) -> anyhow::Result<()> {
    if args.count == 0 {
        bail!("--count must be ≥ 1");
    }
    let base = args.url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::new();
    let (token, chat) = sign_in(&http, &base, &args).await?;
    let ws_base = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let socket_url = format!("{ws_base}/chat/{chat}?token={token}");
    let mut open = Timings::new("WS /chat/{id} until history");
    let mut page = Timings::new("GET /chats/{id}/messages");
    let mut control = Timings::new("GET /healthz (control)");
    let mut history_len = 0;
    let mut page_len = 0;
    // Interleaved, so that the machine's slow moments fall on all three alike.
    for _ in 0..args.count {
        let started = Instant::now();
        history_len = open_once(&socket_url).await?;
        open.record(started)?;

        let started = Instant::now();
        let body: Value = http
            .get(format!("{base}/chats/{chat}/messages"))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        page.record(started)?;
        page_len = body["messages"].as_array().map_or(0, Vec::len);

        let started = Instant::now();
        http.get(format!("{base}/healthz"))
            .send()
            .await?
            .error_for_status()?;
        control.record(started)?;
    }
    let all = [&open, &page, &control];
    let report = json!({
        "chat": chat, "count": args.count,
        "history_messages": history_len, "page_messages": page_len,
        "open_ms": open.report(), "page_ms": page.report(), "control_ms": control.report(),
    });
    let rows = all
        .iter()
        .map(|t| {
            vec![
                t.name.to_owned(),
                format!("{:.2}", t.ms(0.5)),
                format!("{:.2}", t.ms(0.99)),
                format!("{:.2}", t.histogram.max() as f64 / 1000.0),
            ]
        })
        .collect();
    out.table(&["request", "p50 ms", "p99 ms", "max ms"], rows, report);
    Ok(())
}
