//! `seed`: fills a database fast with COPY (not one INSERT per row), for demos and benchmarks.

use crate::context::Context;
use crate::output::Output;
use anyhow::{bail, Context as _};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use messenger_core::CoreError;
use rand::RngCore;
use serde_json::json;
use std::fmt::Write as _;
use std::time::Instant;

#[derive(Args)]
pub struct SeedArgs {
    /// Users to create.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Group chats to create.
    #[arg(long, default_value_t = 10)]
    chats: usize,
    /// Messages to create, spread over the chats.
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    /// Participants per chat (at most --users).
    #[arg(long, default_value_t = 10)]
    members_per_chat: usize,
    /// The password every seeded user gets.
    #[arg(long, default_value = "seed-password")]
    password: String,
}

/// Rows sent to COPY per round trip.
const CHUNK: usize = 10_000;

struct Copier<'a> {
    conn: &'a mut sqlx::PgConnection,
    bar: &'a ProgressBar,
}

impl Copier<'_> {
    /// Streams rows (already in COPY text format, one per line) into `statement`.
    async fn copy(
        &mut self,
        statement: &str,
        rows: impl Iterator<Item = String>,
    ) -> anyhow::Result<u64> {
        let mut copy = self.conn.copy_in_raw(statement).await?;
        let mut buf = String::with_capacity(1 << 20);
        let mut n = 0;
        for row in rows {
            buf.push_str(&row);
            buf.push('\n');
            n += 1;
            if n % CHUNK == 0 {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
                self.bar.inc(CHUNK as u64);
            }
        }
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
            self.bar.inc((n % CHUNK) as u64);
        }
        Ok(copy.finish().await?)
    }
}

fn array(ids: &[i64]) -> String {
    let mut s = String::from("{");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{id}");
    }
    s.push('}');
    s
}

pub async fn run(ctx: &Context, out: &Output, args: SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let pool = ctx.postgres()?;
    let shared = ctx.storage.shared.as_ref().context("needs Redis")?;
    if args.users == 0 || (args.chats > 0 && args.members_per_chat == 0) {
        bail!("--users and --members-per-chat must be at least 1");
    }
    let per_chat = args.members_per_chat.min(args.users);
    if args.messages > 0 && args.chats == 0 {
        bail!("messages need chats: set --chats");
    }
    let hash = ctx
        .storage
        .ports
        .hasher
        .hash(&args.password)
        .await
        .map_err(CoreError::from)?;
    let mut tag = [0u8; 3];
    rand::rng().fill_bytes(&mut tag);
    let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let phone_block = u64::from(tag_number(&tag)) * 10_000_000;

    let first_user: i64 = sqlx::query_scalar("SELECT COALESCE(max(user_id), 0) + 1 FROM users")
        .fetch_one(pool)
        .await?;
    let first_chat: i64 = sqlx::query_scalar("SELECT COALESCE(max(chat_id), 0) + 1 FROM chats")
        .fetch_one(pool)
        .await?;
    // Message ids come from the same counter as live messages: take a block of them.
    ctx.storage
        .ports
        .stream
        .sweep()
        .await
        .map_err(CoreError::from)?;
    let first_message = shared
        .redis
        .reserve_positions(args.messages as i64)
        .await
        .map_err(CoreError::from)?;

    let user_id = |i: usize| first_user + i as i64;
    let members: Vec<Vec<i64>> = (0..args.chats)
        .map(|c| {
            (0..per_chat)
                .map(|k| user_id((c * 7919 + k) % args.users))
                .collect()
        })
        .collect();
    let mut chats_of: Vec<Vec<i64>> = vec![Vec::new(); args.users];
    for (c, m) in members.iter().enumerate() {
        for u in m {
            chats_of[(*u - first_user) as usize].push(first_chat + c as i64);
        }
    }

    let bar = ProgressBar::new((args.users + args.chats + args.messages) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if out.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    // One transaction: a seed that fails half-way leaves nothing behind. Bulk loads take
    // longer than the server's statement timeout.
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    let mut copier = Copier {
        conn: &mut tx,
        bar: &bar,
    };
    let now = time::OffsetDateTime::now_utc();
    let stamp = |ms: i64| {
        messenger_core::Timestamp::new(now + time::Duration::milliseconds(ms)).to_rfc3339()
    };
    copier
        .copy(
            "COPY users (user_id, username, phone, password_hash, chats, created_at) FROM STDIN",
            (0..args.users).map(|i| {
                format!(
                    "{}\tseed_{tag}_{i}\t+1{:010}\t{hash}\t{}\t{}",
                    user_id(i),
                    phone_block + i as u64,
                    array(&chats_of[i]),
                    stamp(0)
                )
            }),
        )
        .await
        .context("copying users")?;
    copier
        .copy(
            "COPY chats (chat_id, name, kind, owner_id, participants, created_at, last_activity_at) FROM STDIN",
            members.iter().enumerate().map(|(c, m)| {
                let last = if args.messages > c { stamp(args.messages as i64) } else { stamp(0) };
                format!("{}\tSeed chat {c}\tgroup\t{}\t{}\t{}\t{last}", first_chat + c as i64, m[0], array(m), stamp(0))
            }),
        )
        .await
        .context("copying chats")?;
    copier
        .copy(
            "COPY messages (message_id, chat_id, author_id, text, created_at, last_seq) FROM STDIN",
            (0..args.messages).map(|i| {
                let c = i % args.chats.max(1);
                let id = first_message + i as i64;
                let author = members[c][(i / args.chats.max(1)) % per_chat];
                format!(
                    "{id}\t{}\t{author}\tseed message {i}\t{}\t{id}",
                    first_chat + c as i64,
                    stamp(i as i64)
                )
            }),
        )
        .await
        .context("copying messages")?;
    for seq in ["users_user_id_seq", "chats_chat_id_seq"] {
        let table = if seq.starts_with("users") {
            ("users", "user_id")
        } else {
            ("chats", "chat_id")
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval('{seq}', (SELECT COALESCE(max({}), 0) + 1 FROM {}), false)",
            table.1, table.0
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    bar.finish_and_clear();
    let took = started.elapsed().as_secs_f64();
    let summary = json!({
        "users": args.users, "chats": args.chats, "messages": args.messages,
        "first_user_id": first_user, "first_chat_id": first_chat,
        "username_prefix": format!("seed_{tag}_"), "phone_prefix": format!("+1{:03}", phone_block / 10_000_000),
        "password": args.password, "seconds": took,
    });
    out.record(
        &[
            (
                "users",
                format!(
                    "{} (seed_{tag}_0 … seed_{tag}_{}, ids from {first_user})",
                    args.users,
                    args.users - 1
                ),
            ),
            ("chats", format!("{} (ids from {first_chat})", args.chats)),
            ("messages", args.messages.to_string()),
            (
                "password",
                format!("{} (every seeded user; shown once)", args.password),
            ),
            ("took", format!("{took:.2} s")),
        ],
        summary,
    );
    Ok(())
}

/// A number from the run's tag, so that two seed runs do not draw the same phones.
fn tag_number(tag: &str) -> u32 {
    u32::from_str_radix(tag, 16).unwrap_or(0) % 1000
}
