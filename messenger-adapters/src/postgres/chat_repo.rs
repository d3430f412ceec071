//! Chats, participants and read markers in Postgres. A chat's participants and each
//! participant's `users.chats` change in one transaction.

use super::{classify, ts};
use async_trait::async_trait;
use messenger_core::ports::ChatRepo;
use messenger_core::{
    Chat, ChatId, ChatKind, EventSeq, MessageId, NewChat, ReadMarker, Removal, StoreError,
    Timestamp, UserId,
};
use sqlx::{PgPool, Postgres, Transaction};

/// Chats in Postgres.
#[derive(Clone)]
pub struct PgChatRepo {
    pool: PgPool,
}

impl PgChatRepo {
    /// Over a migrated pool.
    pub fn new(pool: PgPool) -> Self {
        PgChatRepo { pool }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    chat_id: i64,
    name: String,
    kind: String,
    owner_id: i64,
    participants: Vec<i64>,
    created_at: time::OffsetDateTime,
}

impl From<Row> for Chat {
    fn from(r: Row) -> Chat {
        Chat {
            id: ChatId(r.chat_id),
            name: r.name,
            kind: if r.kind == "direct" {
                ChatKind::Direct
            } else {
                ChatKind::Group
            },
            owner_id: UserId(r.owner_id),
            participants: r.participants.into_iter().map(UserId).collect(),
            created_at: ts(r.created_at),
        }
    }
}

const COLUMNS: &str = "chat_id, name, kind, owner_id, participants, created_at";

async fn link_users(
    tx: &mut Transaction<'_, Postgres>,
    chat: i64,
    users: &[i64],
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET chats = array_append(chats, $1)
         WHERE user_id = ANY($2) AND NOT ($1 = ANY(chats))",
    )
    .bind(chat)
    .bind(users)
    .execute(&mut **tx)
    .await
    .map_err(classify)?;
    Ok(())
}

async fn unlink_users(
    tx: &mut Transaction<'_, Postgres>,
    chat: i64,
    users: &[i64],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET chats = array_remove(chats, $1) WHERE user_id = ANY($2)")
        .bind(chat)
        .bind(users)
        .execute(&mut **tx)
        .await
        .map_err(classify)?;
    Ok(())
}

impl PgChatRepo {
    async fn locked(
        tx: &mut Transaction<'_, Postgres>,
        id: ChatId,
    ) -> Result<Option<Row>, StoreError> {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM chats WHERE chat_id = $1 FOR UPDATE"
        )))
        .bind(id.get())
        .fetch_optional(&mut **tx)
        .await
        .map_err(classify)
    }
}

#[async_trait]
impl ChatRepo for PgChatRepo {
    async fn create_group(&self, chat: NewChat) -> Result<Chat, StoreError> {
        let participants: Vec<i64> = chat.participants.iter().map(|p| p.get()).collect();
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO chats (name, kind, owner_id, participants, created_at, last_activity_at)
             VALUES ($1, 'group', $2, $3, $4, $4) RETURNING {COLUMNS}"
        )))
        .bind(&chat.name)
        .bind(chat.owner_id.get())
        .bind(&participants)
        .bind(chat.created_at.as_offset_date_time())
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        link_users(&mut tx, row.chat_id, &participants).await?;
        tx.commit().await.map_err(classify)?;
        Ok(row.into())
    }

    async fn direct_chat(
        &self,
        a: UserId,
        b: UserId,
        now: Timestamp,
    ) -> Result<(Chat, bool), StoreError> {
        let pair = format!("{}:{}", a.min(b), a.max(b));
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // ON CONFLICT waits for a concurrent insert of the same pair to commit, then yields no
        // row: that call reads the winner's chat below.
        let created = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO chats (name, kind, owner_id, participants, direct_pair, created_at, last_activity_at)
             VALUES ('', 'direct', $1, $2, $3, $4, $4)
             ON CONFLICT (direct_pair) DO NOTHING RETURNING {COLUMNS}"
        )))
        .bind(a.get())
        .bind(vec![a.get(), b.get()])
        .bind(&pair)
        .bind(now.as_offset_date_time())
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let result = match created {
            Some(row) => {
                link_users(&mut tx, row.chat_id, &[a.get(), b.get()]).await?;
                (row.into(), true)
            }
            None => {
                let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM chats WHERE direct_pair = $1"
                )))
                .bind(&pair)
                .fetch_one(&mut *tx)
                .await
                .map_err(classify)?;
                (row.into(), false)
            }
        };
        tx.commit().await.map_err(classify)?;
        Ok(result)
    }

    async fn get(&self, id: ChatId) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM chats WHERE chat_id = $1"
        )))
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(Chat::from))
    }

    async fn list_for_user(&self, user: UserId) -> Result<Vec<Chat>, StoreError> {
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM chats
             WHERE chat_id = ANY((SELECT chats FROM users WHERE user_id = $1)::bigint[])"
        )))
        .bind(user.get())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(Chat::from).collect())
    }

    async fn rename(&self, id: ChatId, name: &str) -> Result<Option<Chat>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "UPDATE chats SET name = $2 WHERE chat_id = $1 RETURNING {COLUMNS}"
        )))
        .bind(id.get())
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(Chat::from))
    }

    async fn add_participant(&self, id: ChatId, user: UserId) -> Result<Option<Chat>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let Some(mut row) = Self::locked(&mut tx, id).await? else {
            return Ok(None);
        };
        if !row.participants.contains(&user.get()) {
            row.participants.push(user.get());
            sqlx::query("UPDATE chats SET participants = $2 WHERE chat_id = $1")
                .bind(id.get())
                .bind(&row.participants)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            link_users(&mut tx, id.get(), &[user.get()]).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(Some(row.into()))
    }

    async fn remove_participant(&self, id: ChatId, user: UserId) -> Result<Removal, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let Some(mut row) = Self::locked(&mut tx, id).await? else {
            return Ok(Removal::NotParticipant);
        };
        if !row.participants.contains(&user.get()) {
            return Ok(Removal::NotParticipant);
        }
        row.participants.retain(|p| *p != user.get());
        unlink_users(&mut tx, id.get(), &[user.get()]).await?;
        let removal = if row.participants.is_empty() {
            sqlx::query("DELETE FROM chats WHERE chat_id = $1")
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            Removal::ChatDeleted
        } else {
            if row.owner_id == user.get() {
                row.owner_id = row.participants[0];
            }
            sqlx::query("UPDATE chats SET participants = $2, owner_id = $3 WHERE chat_id = $1")
                .bind(id.get())
                .bind(&row.participants)
                .bind(row.owner_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            sqlx::query("DELETE FROM read_markers WHERE chat_id = $1 AND user_id = $2")
                .bind(id.get())
                .bind(user.get())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            Removal::Removed(row.into())
        };
        tx.commit().await.map_err(classify)?;
        Ok(removal)
    }

    async fn delete(&self, id: ChatId) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let Some(row) = Self::locked(&mut tx, id).await? else {
            return Ok(false);
        };
        unlink_users(&mut tx, id.get(), &row.participants).await?;
        sqlx::query("DELETE FROM chats WHERE chat_id = $1")
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(true)
    }

    async fn read_marker(
        &self,
        chat: ChatId,
        user: UserId,
    ) -> Result<Option<MessageId>, StoreError> {
        let marker: Option<i64> = sqlx::query_scalar(
            "SELECT message_id FROM read_markers WHERE chat_id = $1 AND user_id = $2",
        )
        .bind(chat.get())
        .bind(user.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(marker.map(MessageId))
    }

    async fn advance_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "INSERT INTO read_markers (chat_id, user_id, message_id)
             SELECT $1, $2, $3 FROM chats WHERE chat_id = $1 AND $2 = ANY(participants)
             ON CONFLICT (chat_id, user_id)
             DO UPDATE SET message_id = EXCLUDED.message_id, read_seq = NULL
             WHERE read_markers.message_id < EXCLUDED.message_id",
        )
        .bind(chat.get())
        .bind(user.get())
        .bind(message.get())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(moved.rows_affected() > 0)
    }

    async fn stamp_read_marker(
        &self,
        chat: ChatId,
        user: UserId,
        message: MessageId,
        position: EventSeq,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE read_markers SET read_seq = $4
             WHERE chat_id = $1 AND user_id = $2 AND message_id = $3",
        )
        .bind(chat.get())
        .bind(user.get())
        .bind(message.get())
        .bind(position.get())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn read_markers_after(
        &self,
        chat: ChatId,
        after: EventSeq,
    ) -> Result<Vec<ReadMarker>, StoreError> {
        let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT user_id, message_id, read_seq FROM read_markers
             WHERE chat_id = $1 AND (read_seq IS NULL OR read_seq > $2)
             ORDER BY read_seq NULLS LAST, user_id",
        )
        .bind(chat.get())
        .bind(after.get())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|(user, message, position)| ReadMarker {
                user_id: UserId(user),
                message_id: MessageId(message),
                position: position.map(EventSeq),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::chat_repo_contract!(super::PgChatRepo::new(
        crate::postgres::test_database_with(10, 0).await
    ));
}
