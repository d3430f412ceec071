//! Postgres: what lasts (users, chats, read markers, messages), through sqlx with runtime
//! queries (no database is needed at build time) and embedded migrations.

mod chat_repo;
mod message_store;
mod user_repo;

pub use chat_repo::PgChatRepo;
pub use message_store::PgMessageStore;
pub use user_repo::PgUserRepo;

use messenger_core::{StoreError, Timestamp};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// The schema migrations, applied at server start and by the CLI.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connects a pool to `url` (failing fast when Postgres does not answer).
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    // A Postgres that stops answering without closing connections must not hang requests.
    let options = PgConnectOptions::from_str(url)
        .map_err(unavailable)?
        .options([("statement_timeout", "5000")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
        .map_err(unavailable)
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
}

/// Whether Postgres answers.
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    pool.execute("SELECT 1")
        .await
        .map(|_| ())
        .map_err(unavailable)
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("postgres: {e}"))
}

pub(crate) fn constraint_of(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
        _ => None,
    }
}

pub(crate) fn ts(at: time::OffsetDateTime) -> Timestamp {
    Timestamp::new(at)
}

/// Creates a fresh, migrated database of its own for one test on the test server, and
/// returns its URL. Panics with how to provide Postgres when there is none.
pub async fn create_test_database() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = crate::test_services::postgres_url().await;
    let admin = match connect(&url, 1).await {
        Ok(pool) => pool,
        Err(e) => panic!(
            "no Postgres at {url} ({e}). Start it (pg_ctlcluster 15 main start) or set DATABASE_URL"
        ),
    };
    let name = format!(
        "msgtest_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    );
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("CREATE DATABASE for a test");
    admin.close().await;
    let options = PgConnectOptions::from_str(&url)
        .expect("DATABASE_URL parses")
        .database(&name);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("connect to the test database");
    migrate(&pool).await.expect("migrations apply");
    pool.close().await;
    match url.rfind('/') {
        Some(i) if url[..i].contains("://") && url[i..].len() > 1 && !url[i..].contains('@') => {
            let (base, rest) = url.split_at(i);
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            format!("{base}/{name}{query}")
        }
        _ => format!("{}/{name}", url.trim_end_matches('/')),
    }
}

/// A pool on a fresh, migrated database of its own, for one test.
pub async fn test_database() -> PgPool {
    let url = create_test_database().await;
    connect(&url, 5)
        .await
        .expect("connect to the test database")
}

/// [`test_database`] with users `1..=users` and group chats `1..=chats` (owned by user 1,
/// everyone a participant) already there, for the contract suites that name ids directly.
pub async fn test_database_with(users: i64, chats: i64) -> PgPool {
    let pool = test_database().await;
    sqlx::query(
        "INSERT INTO users (user_id, username, phone, password_hash, created_at)
         SELECT i, 'user' || i, '+1000000' || lpad(i::text, 4, '0'), 'x', now()
         FROM generate_series(1, $1) AS i",
    )
    .bind(users)
    .execute(&pool)
    .await
    .expect("seed users");
    sqlx::query(
        "INSERT INTO chats (chat_id, name, kind, owner_id, participants, created_at)
         SELECT i, 'chat' || i, 'group', 1, (SELECT array_agg(u) FROM generate_series(1, $1) u), now()
         FROM generate_series(1, $2) AS i",
    )
    .bind(users)
    .bind(chats)
    .execute(&pool)
    .await
    .expect("seed chats");
    for seq in ["users_user_id_seq", "chats_chat_id_seq"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval('{seq}', (SELECT COALESCE(max(id), 0) + 1 FROM (SELECT user_id AS id FROM users UNION ALL SELECT chat_id FROM chats) ids), false)"
        )))
        .execute(&pool)
        .await
        .expect("advance sequences");
    }
    pool
}
