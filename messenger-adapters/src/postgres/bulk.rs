//! Bulk loads with COPY (not one INSERT per row), for demos and benchmarks, and the
//! operator's listing of every chat.

use super::classify;
use crate::backend::{SeedPlan, Seeded};
use messenger_core::{ChatId, StoreError, Timestamp};
use sqlx::PgPool;
use std::fmt::Write as _;

/// Rows sent to COPY per round trip.
const CHUNK: usize = 10_000;

/// Up to `limit` chat ids, ascending.
pub async fn chat_ids(pool: &PgPool, limit: i64) -> Result<Vec<ChatId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT chat_id FROM chats ORDER BY chat_id LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(classify)?;
    Ok(ids.into_iter().map(ChatId).collect())
}

struct Copier<'a> {
    conn: &'a mut sqlx::PgConnection,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Copier<'_> {
    /// Streams rows (already in COPY text format, one per line) into `statement`.
    async fn copy(
        &mut self,
        statement: &'static str,
        rows: impl Iterator<Item = String>,
    ) -> Result<u64, sqlx::Error> {
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
                (self.progress)(CHUNK as u64);
            }
        }
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
            (self.progress)((n % CHUNK) as u64);
        }
        copy.finish().await
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

/// Loads `plan` in one transaction; messages take ids from `first_message` on.
pub async fn bulk_load(
    pool: &PgPool,
    plan: &SeedPlan,
    first_message: i64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Seeded, StoreError> {
    load(pool, plan, first_message, progress)
        .await
        .map_err(classify)
}

async fn load(
    pool: &PgPool,
    plan: &SeedPlan,
    first_message: i64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Seeded, sqlx::Error> {
    let per_chat = plan.members_per_chat.min(plan.users).max(1);
    let chats = plan.chats.max(1);
    let first_user: i64 = sqlx::query_scalar("SELECT COALESCE(max(user_id), 0) + 1 FROM users")
        .fetch_one(pool)
        .await?;
    let first_chat: i64 = sqlx::query_scalar("SELECT COALESCE(max(chat_id), 0) + 1 FROM chats")
        .fetch_one(pool)
        .await?;
    let user_id = |i: usize| first_user + i as i64;
    let members: Vec<Vec<i64>> = (0..plan.chats)
        .map(|c| {
            (0..per_chat)
                .map(|k| user_id((c * 7919 + k) % plan.users))
                .collect()
        })
        .collect();
    let mut chats_of: Vec<Vec<i64>> = vec![Vec::new(); plan.users];
    for (c, m) in members.iter().enumerate() {
        for u in m {
            chats_of[(*u - first_user) as usize].push(first_chat + c as i64);
        }
    }

    // One transaction: a seed that fails half-way leaves nothing behind. Bulk loads take
    // longer than the pool's statement timeout.
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut *tx)
        .await?;
    let mut copier = Copier {
        conn: &mut tx,
        progress,
    };
    let now = time::OffsetDateTime::now_utc();
    let stamp = |ms: i64| Timestamp::new(now + time::Duration::milliseconds(ms)).to_rfc3339();
    let (tag, hash) = (&plan.tag, &plan.password_hash);
    copier
        .copy(
            "COPY users (user_id, username, phone, password_hash, chats, created_at) FROM STDIN",
            (0..plan.users).map(|i| {
                format!(
                    "{}\tseed_{tag}_{i}\t+1{:010}\t{hash}\t{}\t{}",
                    user_id(i),
                    plan.first_phone + i as u64,
                    array(&chats_of[i]),
                    stamp(0)
                )
            }),
        )
        .await?;
    copier
        .copy(
            "COPY chats (chat_id, name, kind, owner_id, participants, created_at, last_activity_at) FROM STDIN",
            members.iter().enumerate().map(|(c, m)| {
                let last = if plan.messages > c { stamp(plan.messages as i64) } else { stamp(0) };
                format!("{}\tSeed chat {c}\tgroup\t{}\t{}\t{}\t{last}", first_chat + c as i64, m[0], array(m), stamp(0))
            }),
        )
        .await?;
    copier
        .copy(
            "COPY messages (message_id, chat_id, author_id, text, created_at, last_seq) FROM STDIN",
            (0..plan.messages).map(|i| {
                let c = i % chats;
                let id = first_message + i as i64;
                let author = members[c][(i / chats) % per_chat];
                format!(
                    "{id}\t{}\t{author}\tseed message {i}\t{}\t{id}",
                    first_chat + c as i64,
                    stamp(i as i64)
                )
            }),
        )
        .await?;
    sqlx::query(
        "SELECT setval('users_user_id_seq', (SELECT COALESCE(max(user_id), 0) + 1 FROM users), false),
                setval('chats_chat_id_seq', (SELECT COALESCE(max(chat_id), 0) + 1 FROM chats), false)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Seeded {
        first_user,
        first_chat,
    })
}
