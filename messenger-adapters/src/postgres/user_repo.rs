//! Users in Postgres.

use super::{classify, constraint_of, ts};
use async_trait::async_trait;
use messenger_core::ports::UserRepo;
use messenger_core::{NewUser, StoreError, User, UserCredentials, UserId};
use sqlx::PgPool;

/// Users in Postgres.
#[derive(Clone)]
pub struct PgUserRepo {
    pool: PgPool,
}

impl PgUserRepo {
    /// Over a migrated pool.
    pub fn new(pool: PgPool) -> Self {
        PgUserRepo { pool }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: i64,
    username: String,
    phone: String,
    password_hash: String,
    created_at: time::OffsetDateTime,
}

impl Row {
    fn user(self) -> User {
        User {
            id: UserId(self.user_id),
            username: self.username,
            phone: self.phone,
            created_at: ts(self.created_at),
        }
    }

    fn credentials(self) -> UserCredentials {
        let password_hash = self.password_hash.clone();
        UserCredentials {
            user: self.user(),
            password_hash,
        }
    }
}

const COLUMNS: &str = "user_id, username, phone, password_hash, created_at";

/// `abc_` → `abc\_`: a username's `_` is a LIKE wildcard otherwise.
fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait]
impl UserRepo for PgUserRepo {
    async fn create(&self, user: NewUser) -> Result<User, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (username, phone, password_hash, created_at)
             VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
        )))
        .bind(&user.username)
        .bind(&user.phone)
        .bind(&user.password_hash)
        .bind(user.created_at.as_offset_date_time())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match constraint_of(&e).as_deref() {
            Some("users_phone_unique") => StoreError::PhoneTaken,
            Some("users_username_unique") => StoreError::UsernameTaken,
            _ => classify(e),
        })?;
        Ok(row.user())
    }

    async fn by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE user_id = $1"
        )))
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(Row::user))
    }

    async fn by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.get()).collect();
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE user_id = ANY($1)"
        )))
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(Row::user).collect())
    }

    async fn by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE lower(username) = lower($1)"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(Row::user))
    }

    async fn credentials_by_phone(
        &self,
        phone: &str,
    ) -> Result<Option<UserCredentials>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE phone = $1"
        )))
        .bind(phone)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(Row::credentials))
    }

    async fn search(
        &self,
        prefix: &str,
        phone: Option<String>,
        exclude: UserId,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users
             WHERE user_id <> $3 AND (lower(username) LIKE $1 OR phone = $2)
             ORDER BY lower(username) LIMIT $4"
        )))
        .bind(like_prefix(prefix))
        .bind(phone)
        .bind(exclude.get())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(Row::user).collect())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::user_repo_contract!(super::PgUserRepo::new(
        crate::postgres::test_database().await
    ));
}
