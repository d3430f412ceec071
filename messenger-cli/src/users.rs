//! `user create | list | show`.

use crate::context::Context;
use crate::output::Output;
use clap::Subcommand;
use messenger_core::{CoreError, User, UserId};
use serde_json::{json, Value};
use std::io::BufRead;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Register a user (the password is read from stdin when --password is absent).
    Create {
        #[arg(long)]
        phone: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// List users, optionally those whose username starts with --query (or whose phone it is).
    List {
        #[arg(long)]
        query: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show one user: `42` or `@alice`.
    Show { user: String },
}

pub fn user_json(u: &User, online: bool) -> Value {
    json!({"user_id": u.id.get(), "username": u.username, "phone": u.phone,
           "created_at": u.created_at.to_rfc3339(), "online": online})
}

pub async fn run(ctx: &Context, out: &Output, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            phone,
            username,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\n', '\r']).to_owned()
                }
            };
            let signed = ctx
                .services
                .auth
                .register(&phone, &password, &username)
                .await?;
            let u = signed.user;
            out.record(
                &[
                    ("user_id", u.id.to_string()),
                    ("username", u.username.clone()),
                    ("phone", u.phone.clone()),
                ],
                user_json(&u, false),
            );
        }
        UserCommand::List { query, limit } => {
            let users = &ctx.storage.ports.users;
            let found = match query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                Some(q) => {
                    let phone = messenger_core::validation::normalize_phone(q).ok();
                    users.search(q, phone, UserId(0), limit).await
                }
                None => users.search("", None, UserId(0), limit).await,
            }
            .map_err(CoreError::from)?;
            let views = ctx.services.users.with_presence(found).await?;
            out.table(
                &["id", "username", "phone", "online", "registered"],
                views
                    .iter()
                    .map(|v| {
                        vec![
                            v.user.id.to_string(),
                            v.user.username.clone(),
                            v.user.phone.clone(),
                            v.online.to_string(),
                            v.user.created_at.to_rfc3339(),
                        ]
                    })
                    .collect(),
                Value::Array(views.iter().map(|v| user_json(&v.user, v.online)).collect()),
            );
        }
        UserCommand::Show { user } => {
            let u = ctx.user(&user).await?;
            let view = ctx.services.users.with_presence(vec![u]).await?.remove(0);
            let chats = ctx
                .storage
                .ports
                .chats
                .list_for_user(view.user.id)
                .await
                .map_err(CoreError::from)?;
            let mut value = user_json(&view.user, view.online);
            value["chats"] = json!(chats.iter().map(|c| c.id.get()).collect::<Vec<_>>());
            out.record(
                &[
                    ("user_id", view.user.id.to_string()),
                    ("username", view.user.username.clone()),
                    ("phone", view.user.phone.clone()),
                    ("online", view.online.to_string()),
                    ("registered", view.user.created_at.to_rfc3339()),
                    ("chats", chats.len().to_string()),
                ],
                value,
            );
        }
    }
    Ok(())
}
