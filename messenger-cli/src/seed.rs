//! `seed`: fills a database fast (the adapters load it with COPY, not one INSERT per row), for
//! demos and benchmarks.

use crate::context::Context;
use crate::output::Output;
use anyhow::{bail, Context as _};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use messenger_adapters::backend::{SeedPlan, Seeded};
use messenger_core::CoreError;
use rand::RngCore;
use serde_json::json;
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

pub async fn run(ctx: &Context, out: &Output, args: SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
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

    let bar = ProgressBar::new((args.users + args.chats + args.messages) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if out.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let plan = SeedPlan {
        users: args.users,
        chats: args.chats,
        messages: args.messages,
        members_per_chat: per_chat,
        password_hash: hash,
        tag: tag.clone(),
        first_phone: phone_block,
    };
    let Seeded {
        first_user,
        first_chat,
    } = ctx
        .storage
        .seed(&plan, &|rows| bar.inc(rows))
        .await
        .map_err(CoreError::from)
        .context("seeding")?;
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
