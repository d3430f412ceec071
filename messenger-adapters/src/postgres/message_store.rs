//! Committed history in Postgres. A batch of events is one transaction (group commit); runs of
//! new messages go in with one multi-row insert.

use super::{classify, ts};
use async_trait::async_trait;
use messenger_core::ports::MessageStore;
use messenger_core::{
    ChangedMessage, ChatEvent, ChatEventKind, ChatId, ClientIdMatch, CommitOutcome, EventSeq,
    Message, MessageId, Page, StoreError, UserId,
};
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashSet;

/// Committed history in Postgres.
#[derive(Clone)]
pub struct PgMessageStore {
    pool: PgPool,
}

impl PgMessageStore {
    /// Over a migrated pool.
    pub fn new(pool: PgPool) -> Self {
        PgMessageStore { pool }
    }

    /// The highest stream position stored (message ids and the positions of applied edits and
    /// deletes; 0 when none): where a fresh position counter must start.
    pub async fn max_message_id(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>(
            "SELECT GREATEST(COALESCE(max(message_id), 0), COALESCE(max(last_seq), 0),
                             COALESCE(max(deleted_seq), 0)) FROM messages",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    message_id: i64,
    chat_id: i64,
    author_id: i64,
    text: String,
    created_at: time::OffsetDateTime,
    edited_at: Option<time::OffsetDateTime>,
    deleted: bool,
}

impl Row {
    fn message(self) -> Message {
        Message {
            id: MessageId(self.message_id),
            chat_id: ChatId(self.chat_id),
            author_id: UserId(self.author_id),
            text: self.text,
            created_at: ts(self.created_at),
            edited_at: self.edited_at.map(ts),
        }
    }

    fn outcome(self) -> CommitOutcome {
        if self.deleted {
            CommitOutcome::NotFound
        } else {
            CommitOutcome::Committed(self.message())
        }
    }
}

const COLUMNS: &str =
    "message_id, chat_id, author_id, text, created_at, edited_at, deleted_at IS NOT NULL AS deleted";

type Tx<'a> = Transaction<'a, Postgres>;

async fn insert_creates(
    tx: &mut Tx<'_>,
    events: &[&ChatEvent],
) -> Result<Vec<CommitOutcome>, StoreError> {
    let mut ids = Vec::new();
    let mut chats = Vec::new();
    let mut authors = Vec::new();
    let mut texts = Vec::new();
    let mut client_ids: Vec<Option<String>> = Vec::new();
    let mut created = Vec::new();
    let mut seqs = Vec::new();
    for e in events {
        if let ChatEventKind::MessageCreated { message, client_id } = &e.kind {
            ids.push(message.id.get());
            chats.push(e.chat_id.get());
            authors.push(message.author_id.get());
            texts.push(message.text.clone());
            client_ids.push(client_id.clone());
            created.push(message.created_at.as_offset_date_time());
            seqs.push(e.seq.get());
        }
    }
    let inserted: HashSet<i64> = sqlx::query_scalar::<_, i64>(
        "INSERT INTO messages (message_id, chat_id, author_id, text, client_id, created_at, last_seq)
         SELECT t.message_id, t.chat_id, t.author_id, t.text, t.client_id, t.created_at, t.last_seq
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                     $6::timestamptz[], $7::bigint[])
              WITH ORDINALITY
              AS t(message_id, chat_id, author_id, text, client_id, created_at, last_seq, ord)
         WHERE EXISTS (SELECT 1 FROM chats c WHERE c.chat_id = t.chat_id)
         -- In stream order, so that of two rows with one client_id the first one wins.
         ORDER BY t.ord
         ON CONFLICT DO NOTHING
         RETURNING message_id",
    )
    .bind(&ids)
    .bind(&chats)
    .bind(&authors)
    .bind(&texts)
    .bind(&client_ids)
    .bind(&created)
    .bind(&seqs)
    .fetch_all(&mut **tx)
    .await
    .map_err(classify)?
    .into_iter()
    .collect();
    if !inserted.is_empty() {
        sqlx::query(
            "UPDATE chats c SET last_activity_at = GREATEST(c.last_activity_at, t.at)
             FROM (SELECT chat_id, max(created_at) AS at
                   FROM UNNEST($1::bigint[], $2::bigint[], $3::timestamptz[]) AS n(message_id, chat_id, created_at)
                   WHERE message_id = ANY($4) GROUP BY chat_id) t
             WHERE c.chat_id = t.chat_id",
        )
        .bind(&ids)
        .bind(&chats)
        .bind(&created)
        .bind(inserted.iter().copied().collect::<Vec<i64>>())
        .execute(&mut **tx)
        .await
        .map_err(classify)?;
    }
    let mut outcomes = Vec::with_capacity(events.len());
    for e in events {
        let ChatEventKind::MessageCreated { message, client_id } = &e.kind else {
            continue;
        };
        if inserted.contains(&message.id.get()) {
            outcomes.push(CommitOutcome::Committed(message.clone()));
            continue;
        }
        // Already there (a replay, or a repeated client_id), or the chat is gone.
        let existing = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages
             WHERE message_id = $1 OR (chat_id = $2 AND author_id = $3 AND client_id = $4)
             ORDER BY message_id LIMIT 1"
        )))
        .bind(message.id.get())
        .bind(e.chat_id.get())
        .bind(message.author_id.get())
        .bind(client_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(classify)?;
        let same_message = |r: &Row| {
            r.chat_id == e.chat_id.get()
                && r.author_id == message.author_id.get()
                && (r.message_id == message.id.get() || client_id.is_some())
                && (r.message_id != message.id.get() || r.text == message.text)
        };
        outcomes.push(match existing {
            Some(row) if same_message(&row) => row.outcome(),
            // The id belongs to another message (a position counter Redis lost and re-seeded
            // too low): never answer with someone else's message.
            Some(row) => {
                tracing::error!(
                    message_id = message.id.get(),
                    stored_chat = row.chat_id,
                    "message id collision; the message was not stored"
                );
                CommitOutcome::NotFound
            }
            None => CommitOutcome::NotFound,
        });
    }
    Ok(outcomes)
}

async fn apply_update(
    tx: &mut Tx<'_>,
    e: &ChatEvent,
    m: &Message,
) -> Result<CommitOutcome, StoreError> {
    sqlx::query(
        "UPDATE messages SET text = $3, edited_at = $4, last_seq = $5
         WHERE message_id = $1 AND chat_id = $2 AND deleted_at IS NULL AND last_seq < $5",
    )
    .bind(m.id.get())
    .bind(e.chat_id.get())
    .bind(&m.text)
    .bind(m.edited_at.map(|t| t.as_offset_date_time()))
    .bind(e.seq.get())
    .execute(&mut **tx)
    .await
    .map_err(classify)?;
    let now = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM messages WHERE message_id = $1 AND chat_id = $2"
    )))
    .bind(m.id.get())
    .bind(e.chat_id.get())
    .fetch_optional(&mut **tx)
    .await
    .map_err(classify)?;
    Ok(now.map_or(CommitOutcome::NotFound, Row::outcome))
}

async fn apply_delete(
    tx: &mut Tx<'_>,
    e: &ChatEvent,
    m: &Message,
) -> Result<CommitOutcome, StoreError> {
    let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "UPDATE messages SET deleted_at = now(), deleted_seq = $3, last_seq = GREATEST(last_seq, $3)
         WHERE message_id = $1 AND chat_id = $2 AND (deleted_at IS NULL OR deleted_seq = $3)
         RETURNING {COLUMNS}"
    )))
    .bind(m.id.get())
    .bind(e.chat_id.get())
    .bind(e.seq.get())
    .fetch_optional(&mut **tx)
    .await
    .map_err(classify)?;
    Ok(row.map_or(CommitOutcome::NotFound, |r| {
        CommitOutcome::Committed(r.message())
    }))
}

#[async_trait]
impl MessageStore for PgMessageStore {
    async fn apply(&self, events: &[ChatEvent]) -> Result<Vec<CommitOutcome>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let mut outcomes = Vec::with_capacity(events.len());
        let mut creates: Vec<&ChatEvent> = Vec::new();
        for e in events {
            if matches!(e.kind, ChatEventKind::MessageCreated { .. }) {
                creates.push(e);
                continue;
            }
            if !creates.is_empty() {
                outcomes.extend(insert_creates(&mut tx, &creates).await?);
                creates.clear();
            }
            outcomes.push(match &e.kind {
                ChatEventKind::MessageUpdated { message, .. } => {
                    apply_update(&mut tx, e, message).await?
                }
                ChatEventKind::MessageDeleted { message, .. } => {
                    apply_delete(&mut tx, e, message).await?
                }
                _ => CommitOutcome::NotFound,
            });
        }
        if !creates.is_empty() {
            outcomes.extend(insert_creates(&mut tx, &creates).await?);
        }
        tx.commit().await.map_err(classify)?;
        Ok(outcomes)
    }

    async fn get(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages WHERE message_id = $1 AND deleted_at IS NULL"
        )))
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(Row::message))
    }

    async fn by_client_id(
        &self,
        chat: ChatId,
        author: UserId,
        client_id: &str,
    ) -> Result<Option<ClientIdMatch>, StoreError> {
        let row = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages WHERE chat_id = $1 AND author_id = $2 AND client_id = $3"
        )))
        .bind(chat.get())
        .bind(author.get())
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(|r| {
            if r.deleted {
                ClientIdMatch::Deleted
            } else {
                ClientIdMatch::Live(r.message())
            }
        }))
    }

    async fn page_before(
        &self,
        chat: ChatId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages
             WHERE chat_id = $1 AND deleted_at IS NULL AND message_id < $2
             ORDER BY message_id DESC LIMIT $3"
        )))
        .bind(chat.get())
        .bind(before.map_or(i64::MAX, MessageId::get))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let has_more = rows.len() > limit;
        let mut messages: Vec<Message> = rows.into_iter().take(limit).map(Row::message).collect();
        messages.reverse();
        Ok(Page { messages, has_more })
    }

    async fn page_after(
        &self,
        chat: ChatId,
        after: MessageId,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM messages
             WHERE chat_id = $1 AND deleted_at IS NULL AND message_id > $2
             ORDER BY message_id LIMIT $3"
        )))
        .bind(chat.get())
        .bind(after.get())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let has_more = rows.len() > limit;
        let messages = rows.into_iter().take(limit).map(Row::message).collect();
        Ok(Page { messages, has_more })
    }

    async fn changes_after(
        &self,
        chat: ChatId,
        after: EventSeq,
        limit: usize,
    ) -> Result<Vec<ChangedMessage>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Changed {
            #[sqlx(flatten)]
            row: Row,
            last_seq: i64,
        }
        // Index `messages_changes (chat_id, last_seq)`.
        let rows = sqlx::query_as::<_, Changed>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, last_seq FROM messages
             WHERE chat_id = $1 AND last_seq > $2
             ORDER BY last_seq LIMIT $3"
        )))
        .bind(chat.get())
        .bind(after.get())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|c| ChangedMessage {
                position: EventSeq(c.last_seq),
                deleted: c.row.deleted,
                message: c.row.message(),
            })
            .collect())
    }

    async fn last_messages(&self, chats: &[ChatId]) -> Result<Vec<Message>, StoreError> {
        let ids: Vec<i64> = chats.iter().map(|c| c.get()).collect();
        let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
            "SELECT last.* FROM UNNEST($1::bigint[]) AS c(id)
             CROSS JOIN LATERAL (
                 SELECT {COLUMNS} FROM messages
                 WHERE chat_id = c.id AND deleted_at IS NULL
                 ORDER BY message_id DESC LIMIT 1
             ) last"
        )))
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(Row::message).collect())
    }

    async fn count_unread(
        &self,
        chat: ChatId,
        reader: UserId,
        after: Option<MessageId>,
        up_to: MessageId,
    ) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages
             WHERE chat_id = $1 AND deleted_at IS NULL AND message_id > $2 AND message_id <= $4
               AND author_id <> $3",
        )
        .bind(chat.get())
        .bind(after.map_or(0, MessageId::get))
        .bind(reader.get())
        .bind(up_to.get())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn delete_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        // Messages go with the chat row (ON DELETE CASCADE); removing the row here too makes
        // late events of the chat answer not_found, whichever repo deleted it first.
        sqlx::query("DELETE FROM chats WHERE chat_id = $1")
            .bind(chat.get())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::message_store_contract!(super::PgMessageStore::new(
        crate::postgres::test_database_with(5, 5).await
    ));
}
