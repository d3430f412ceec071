//! `chat create | list | show | history`.

use crate::context::Context;
use crate::output::Output;
use anyhow::Context as _;
use clap::Subcommand;
use messenger_core::{Chat, ChatId, CoreError, MessageId, UserId};
use serde_json::{json, Value};

#[derive(Subcommand)]
pub enum ChatCommand {
    /// Create a group; the first --member owns it.
    Create {
        #[arg(long)]
        name: String,
        /// `42` or `@alice`; repeat for each member.
        #[arg(long = "member", required = true)]
        members: Vec<String>,
    },
    /// List the chats of --user, or every chat.
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show a chat: participants, who is online now, message count.
    Show { chat: i64 },
    /// A page of a chat's history, oldest first.
    History {
        chat: i64,
        #[arg(long)]
        before: Option<i64>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

fn chat_json(c: &Chat) -> Value {
    json!({"chat_id": c.id.get(), "name": c.name, "kind": c.kind.as_str(), "owner_id": c.owner_id.get(),
           "participants": c.participants.iter().map(|p| p.get()).collect::<Vec<_>>(),
           "created_at": c.created_at.to_rfc3339()})
}

fn chat_row(c: &Chat) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.name.clone(),
        c.kind.as_str().to_owned(),
        c.owner_id.to_string(),
        c.participants.len().to_string(),
        c.created_at.to_rfc3339(),
    ]
}

const CHAT_HEADERS: [&str; 6] = ["id", "name", "kind", "owner", "members", "created"];

pub async fn run(ctx: &Context, out: &Output, cmd: ChatCommand) -> anyhow::Result<()> {
    let ports = &ctx.storage.ports;
    match cmd {
        ChatCommand::Create { name, members } => {
            let mut ids = Vec::new();
            for m in &members {
                ids.push(ctx.user(m).await?.id);
            }
            let owner = ids[0];
            let view = ctx
                .services
                .chats
                .create_group(owner, &name, &ids[1..])
                .await?;
            out.table(
                &CHAT_HEADERS,
                vec![chat_row(&view.chat)],
                chat_json(&view.chat),
            );
        }
        ChatCommand::List { user, limit } => {
            let chats: Vec<Chat> = match user {
                Some(u) => {
                    let user = ctx.user(&u).await?;
                    ports
                        .chats
                        .list_for_user(user.id)
                        .await
                        .map_err(CoreError::from)?
                }
                None => {
                    let mut chats = Vec::new();
                    for id in ctx
                        .storage
                        .all_chat_ids(limit)
                        .await
                        .map_err(CoreError::from)?
                    {
                        if let Some(c) = ports.chats.get(id).await.map_err(CoreError::from)? {
                            chats.push(c);
                        }
                    }
                    chats
                }
            };
            out.table(
                &CHAT_HEADERS,
                chats.iter().map(chat_row).collect(),
                Value::Array(chats.iter().map(chat_json).collect()),
            );
        }
        ChatCommand::Show { chat } => {
            let c = ports
                .chats
                .get(ChatId(chat))
                .await
                .map_err(CoreError::from)?
                .with_context(|| format!("no chat {chat}"))?;
            let online = ports
                .presence
                .online_in_chat(c.id)
                .await
                .map_err(CoreError::from)?;
            // Messages by anyone (no user has id 0).
            let count = ports
                .messages
                .count_unread(c.id, UserId(0), None, MessageId(i64::MAX))
                .await
                .map_err(CoreError::from)?;
            let mut value = chat_json(&c);
            value["online"] = json!(online.iter().map(|u| u.get()).collect::<Vec<_>>());
            value["message_count"] = json!(count);
            let list = |ids: &[UserId]| {
                ids.iter()
                    .map(|u| u.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.record(
                &[
                    ("chat_id", c.id.to_string()),
                    ("name", c.name.clone()),
                    ("kind", c.kind.as_str().to_owned()),
                    ("owner", c.owner_id.to_string()),
                    ("participants", list(&c.participants)),
                    ("online", list(&online)),
                    ("messages", count.to_string()),
                ],
                value,
            );
        }
        ChatCommand::History {
            chat,
            before,
            limit,
        } => {
            let page = ports
                .messages
                .page_before(ChatId(chat), before.map(MessageId), limit.clamp(1, 1000))
                .await
                .map_err(CoreError::from)?;
            let value = json!({
                "messages": page.messages.iter().map(|m| json!({"message_id": m.id.get(), "author_id": m.author_id.get(),
                    "text": m.text, "created_at": m.created_at.to_rfc3339(),
                    "edited_at": m.edited_at.map(|t| t.to_rfc3339())})).collect::<Vec<_>>(),
                "has_more": page.has_more,
            });
            out.table(
                &["id", "author", "sent", "text"],
                page.messages
                    .iter()
                    .map(|m| {
                        vec![
                            m.id.to_string(),
                            m.author_id.to_string(),
                            m.created_at.to_rfc3339(),
                            m.text.clone(),
                        ]
                    })
                    .collect(),
                value,
            );
        }
    }
    Ok(())
}
