//! Postgres: what lasts (users, chats, read markers, messages), through sqlx with runtime
//! queries (no database is needed at build time) and embedded migrations.

mod bulk;
mod chat_repo;
mod message_store;
mod user_repo;

pub use bulk::{bulk_load, chat_ids};

pub use chat_repo::PgChatRepo;
pub use message_store::PgMessageStore;
pub use user_repo::PgUserRepo;

use messenger_core::{StoreError, Timestamp};
use sqlx::migrate::MigrateError;
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
        .map_err(classify)?
        .options([("statement_timeout", "5000")]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
        .map_err(classify)
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await.map_err(|e| match e {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => classify(e),
        other => StoreError::internal(other),
    })
}

/// How many of this build's migrations the database has not applied.
pub async fn pending_migrations(pool: &PgPool) -> Result<usize, StoreError> {
    // Read, not `ensure_migrations_table`: looking must not change the schema.
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
            .or_else(|e| match &e {
                // No table yet: nothing was ever applied.
                sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01") => {
                    Ok(Vec::new())
                }
                _ => Err(classify(e)),
            })?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .count())
}

/// Whether Postgres answers.
pub async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    pool.execute("SELECT 1").await.map(|_| ()).map_err(classify)
}

/// A driver error as the port's error: the server down, unreachable or overloaded is
/// `Unavailable` (a retry may succeed); anything else, such as a statement Postgres rejects
/// or a row that does not decode, is a bug: `Internal`.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    let transient = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE classes: 08 connection exception, 40 transaction rollback (serialization,
        // deadlock), 53 insufficient resources, 57 operator intervention (statement timeout,
        // shutdown), 58 system error; and 25006, a write on a primary demoted by a failover.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code == "25006"
                || ["08", "40", "53", "57", "58"]
                    .iter()
                    .any(|c| code.starts_with(c))
        }),
        _ => false,
    };
    if transient {
        StoreError::unavailable(e)
    } else {
        StoreError::internal(e)
    }
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
#[cfg(any(test, feature = "test-services"))]
pub async fn create_test_database() -> String {
    let url = create_empty_test_database().await;
    let pool = connect(&url, 1)
        .await
        .expect("connect to the test database");
    migrate(&pool).await.expect("migrations apply");
    pool.close().await;
    url
}

/// Like [`create_test_database`], without applying the migrations: a database as a new
/// deployment finds it.
#[cfg(any(test, feature = "test-services"))]
pub async fn create_empty_test_database() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = crate::test_services::postgres_url().await;
    let admin = match connect(&url, 1).await {
        Ok(pool) => pool,
        Err(e) => panic!(
            "no Postgres at {url} ({}). Start it (pg_ctlcluster 15 main start) or set DATABASE_URL",
            messenger_core::error::Chain(&e)
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
#[cfg(any(test, feature = "test-services"))]
pub async fn test_database() -> PgPool {
    let url = create_test_database().await;
    connect(&url, 5)
        .await
        .expect("connect to the test database")
}

/// [`test_database`] with users `1..=users` and group chats `1..=chats` (owned by user 1,
/// everyone a participant) already there, for the contract suites that name ids directly.
#[cfg(any(test, feature = "test-services"))]
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
