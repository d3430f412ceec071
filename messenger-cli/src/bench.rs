//! `bench`: a load generator over the public protocol. Users sign up and chats are made over
//! HTTP, then every member opens one WebSocket and sends at a fixed interval; it measures the
//! delivery latency (send to receipt by each other member), the ack latency, delivered
//! messages per second, connection setup time, errors, and lost messages (expected deliveries
//! minus deliveries received, counted after a drain).

use anyhow::{bail, Context as _};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

#[derive(Args)]
pub struct BenchArgs {
    /// Server base URL; repeat to spread members over several nodes.
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// Chats (rooms).
    #[arg(long, default_value_t = 10)]
    chats: usize,
    /// Members per chat, each with one socket.
    #[arg(long, default_value_t = 10)]
    members: usize,
    /// Each member sends one message every this many milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval: u64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds to wait after the last send for deliveries still in flight.
    #[arg(long, default_value_t = 3)]
    drain: u64,
    /// Open the sockets and hold them for --duration without sending (to measure what idle
    /// connections cost the server).
    #[arg(long)]
    idle: bool,
    /// Sockets each member opens (with --idle only: several devices of one person). Lets a
    /// bench hold many more sockets than it signs up users, since every sign-up hashes.
    #[arg(long, default_value_t = 1)]
    sockets_per_member: usize,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
    /// Sockets the server closed before the bench was done with them.
    closed_early: AtomicU64,
}

struct Histograms {
    delivery: Histogram<u64>,
    ack: Histogram<u64>,
    setup: Histogram<u64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("constant bounds are valid")
}

struct Member {
    url: String,
    token: String,
    chat: i64,
}

fn ws_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!("{base}{path}")
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("POST {url}: {status} {body}");
    }
    Ok(body)
}

/// Signs up the members of every chat and makes the chats.
async fn set_up(args: &BenchArgs) -> anyhow::Result<Vec<Member>> {
    let http = reqwest::Client::new();
    let mut tag = [0u8; 4];
    rand::rng().fill_bytes(&mut tag);
    let tag = u32::from_le_bytes(tag) % 100_000;
    let gate = Arc::new(Semaphore::new(16));
    let mut signups = Vec::new();
    for c in 0..args.chats {
        for m in 0..args.members {
            let url = args.urls[(c * args.members + m) % args.urls.len()]
                .trim_end_matches('/')
                .to_owned();
            let (http, gate) = (http.clone(), gate.clone());
            let n = (c * args.members + m) as u64;
            signups.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                let body = json!({
                    "phone": format!("+19{tag:05}{n:06}"),
                    "password": "bench-password",
                    "username": format!("bench{tag}_{n}"),
                });
                let user = post(&http, &format!("{url}/register"), None, body).await?;
                Ok::<_, anyhow::Error>((url, user))
            }));
        }
    }
    let mut users = Vec::new();
    for s in signups {
        users.push(s.await??);
    }
    let mut members = Vec::new();
    for chunk in users.chunks(args.members) {
        let (url, owner) = &chunk[0];
        let token = owner["token"].as_str().context("token")?.to_owned();
        let others: Vec<&Value> = chunk[1..]
            .iter()
            .map(|(_, u)| &u["user"]["user_id"])
            .collect();
        let chat = post(
            &http,
            &format!("{url}/chats"),
            Some(&token),
            json!({"name": "bench", "participants": others}),
        )
        .await?;
        let chat = chat["chat_id"].as_i64().context("chat_id")?;
        for (url, user) in chunk {
            members.push(Member {
                url: url.clone(),
                token: user["token"].as_str().context("token")?.to_owned(),
                chat,
            });
        }
    }
    Ok(members)
}

pub async fn run(out: &crate::output::Output, args: BenchArgs) -> anyhow::Result<()> {
    if args.members < 2 || args.chats == 0 || args.interval == 0 {
        bail!("a bench needs --chats ≥ 1, --members ≥ 2 and --interval ≥ 1");
    }
    if args.sockets_per_member == 0 || (args.sockets_per_member > 1 && !args.idle) {
        bail!("--sockets-per-member must be ≥ 1, and above 1 only with --idle");
    }
    let members = set_up(&args).await?;
    let counters = Arc::new(Counters::default());
    let histograms = Arc::new(Mutex::new(Histograms {
        delivery: histogram(),
        ack: histogram(),
        setup: histogram(),
    }));
    let epoch = Instant::now();
    let micros = move || epoch.elapsed().as_micros() as u64;

    let bar = ProgressBar::new(args.duration);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} s  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if out.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let send_until = Duration::from_secs(args.duration);
    let stop_at = send_until + Duration::from_secs(args.drain);
    let socket_count = members.len() * args.sockets_per_member;
    // Every socket opens (history and presence arrive) before anyone sends. Each one is read
    // from the moment it is open, as a real client's would be: opening many thousands takes
    // minutes, and a socket nobody reads answers no pings and is closed by the server.
    let (all_open, open_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for (i, m) in members
        .iter()
        .flat_map(|m| std::iter::repeat_n(m, args.sockets_per_member))
        .enumerate()
    {
        let started = Instant::now();
        let url = ws_url(&m.url, &format!("/chat/{}?token={}", m.chat, m.token));
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("opening a socket")?;
        for _ in 0..2 {
            ws.next()
                .await
                .context("the socket closed while opening")??;
        }
        let took = started.elapsed().as_micros() as u64;
        histograms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .setup
            .record(took.max(1))?;
        let (counters, histograms) = (counters.clone(), histograms.clone());
        let mut open_rx = open_rx.clone();
        let interval = Duration::from_millis(args.interval);
        let idle = args.idle;
        // Spread the members' sends over the interval.
        let offset = interval.mul_f64((i as f64 / socket_count as f64).fract());
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            loop {
                tokio::select! {
                    _ = open_rx.wait_for(|open| *open) => break,
                    frame = rx.next() => if frame.is_none() {
                        counters.closed_early.fetch_add(1, Ordering::Relaxed);
                        return;
                    },
                }
            }
            let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + offset, interval);
            let mut pending: HashMap<String, u64> = HashMap::new();
            let mut n = 0u64;
            let began = tokio::time::Instant::now();
            let deadline = began + stop_at;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    _ = ticker.tick(), if !idle && began.elapsed() < send_until => {
                        let client_id = format!("{i}-{n}");
                        n += 1;
                        let frame = json!({"type": "MessageCreated", "client_id": client_id, "text": format!("b:{}:{i}", micros())});
                        pending.insert(client_id, micros());
                        if tx.send(Message::text(frame.to_string())).await.is_err() {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        counters.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    frame = rx.next() => {
                        let Some(Ok(Message::Text(text))) = frame else {
                            if frame.is_none() {
                                counters.closed_early.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            continue;
                        };
                        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                        let now = micros();
                        match v["type"].as_str() {
                            Some("MessageCreated") => {
                                let sent = v["message"]["text"].as_str()
                                    .and_then(|t| t.strip_prefix("b:"))
                                    .and_then(|t| t.split(':').next())
                                    .and_then(|t| t.parse::<u64>().ok());
                                if let Some(sent) = sent {
                                    counters.delivered.fetch_add(1, Ordering::Relaxed);
                                    let _ = histograms.lock().unwrap_or_else(|p| p.into_inner()).delivery.record(now.saturating_sub(sent).max(1));
                                }
                            }
                            Some("ack") => {
                                if let Some(sent) = v["client_id"].as_str().and_then(|c| pending.remove(c)) {
                                    counters.acked.fetch_add(1, Ordering::Relaxed);
                                    let _ = histograms.lock().unwrap_or_else(|p| p.into_inner()).ack.record(now.saturating_sub(sent).max(1));
                                }
                            }
                            Some("error") => { counters.errors.fetch_add(1, Ordering::Relaxed); }
                            _ => {}
                        }
                    }
                }
            }
            let _ = tx.close().await;
        }));
    }
    // Only now, so that the bench's clock starts with every socket open.
    all_open.send_replace(true);
    let ticker_bar = bar.clone();
    let progress = {
        let counters = counters.clone();
        tokio::spawn(async move {
            for s in 1..=args.duration {
                tokio::time::sleep(Duration::from_secs(1)).await;
                ticker_bar.set_position(s);
                ticker_bar.set_message(format!(
                    "sent {} delivered {}",
                    counters.sent.load(Ordering::Relaxed),
                    counters.delivered.load(Ordering::Relaxed)
                ));
            }
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    progress.abort();
    bar.finish_and_clear();

    let sent = counters.sent.load(Ordering::Relaxed);
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let expected = sent * (args.members as u64 - 1);
    let h = histograms.lock().unwrap_or_else(|p| p.into_inner());
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let report = json!({
        "idle": args.idle, "chats": args.chats, "members": args.members, "sockets": socket_count, "interval_ms": args.interval,
        "duration_s": args.duration, "nodes": args.urls.len(),
        "sent": sent, "acked": counters.acked.load(Ordering::Relaxed), "errors": counters.errors.load(Ordering::Relaxed),
        "closed_early": counters.closed_early.load(Ordering::Relaxed),
        "expected_deliveries": expected, "delivered": delivered, "lost": expected.saturating_sub(delivered),
        "delivered_per_s": delivered as f64 / args.duration as f64,
        "latency_ms": {"p50": ms(&h.delivery, 0.5), "p99": ms(&h.delivery, 0.99), "p999": ms(&h.delivery, 0.999), "max": h.delivery.max() as f64 / 1000.0},
        "ack_ms": {"p50": ms(&h.ack, 0.5), "p99": ms(&h.ack, 0.99), "max": h.ack.max() as f64 / 1000.0},
        "setup_ms": {"p50": ms(&h.setup, 0.5), "p99": ms(&h.setup, 0.99), "max": h.setup.max() as f64 / 1000.0},
    });
    let row = |k: &str, v: String| vec![k.to_owned(), v];
    out.table(
        &["metric", "value"],
        vec![
            row("sockets", socket_count.to_string()),
            row("sent", sent.to_string()),
            row("acked", report["acked"].to_string()),
            row("delivered", format!("{delivered} of {expected} expected")),
            row("lost", report["lost"].to_string()),
            row("errors", report["errors"].to_string()),
            row(
                "closed by the server early",
                report["closed_early"].to_string(),
            ),
            row(
                "delivered/s",
                format!("{:.0}", report["delivered_per_s"].as_f64().unwrap_or(0.0)),
            ),
            row(
                "latency p50/p99/p999/max",
                format!(
                    "{:.1} / {:.1} / {:.1} / {:.1} ms",
                    ms(&h.delivery, 0.5),
                    ms(&h.delivery, 0.99),
                    ms(&h.delivery, 0.999),
                    h.delivery.max() as f64 / 1000.0
                ),
            ),
            row(
                "ack p50/p99/max",
                format!(
                    "{:.1} / {:.1} / {:.1} ms",
                    ms(&h.ack, 0.5),
                    ms(&h.ack, 0.99),
                    h.ack.max() as f64 / 1000.0
                ),
            ),
            row(
                "setup p50/p99",
                format!("{:.1} / {:.1} ms", ms(&h.setup, 0.5), ms(&h.setup, 0.99)),
            ),
        ],
        report,
    );
    Ok(())
}
