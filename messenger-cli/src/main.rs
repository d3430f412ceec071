//! `messenger-cli`: the operator's tool. One more adapter around `messenger-core`'s services,
//! on the same storage as the server (`DATABASE_URL`, `REDIS_URL`, `REDIS_PREFIX`), opened by
//! `messenger-adapters`' `backend` module; it does not link the server.

mod bench;
mod bench_open;
mod chats;
mod context;
mod output;
mod seed;
mod users;

use anyhow::Context as _;
use clap::{CommandFactory, Parser, Subcommand};
use messenger_adapters::backend::{Secret, Storage};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "messenger-cli",
    version,
    about = "Operate a messenger deployment"
)]
struct Cli {
    /// Print JSON (for scripts) instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending schema migrations to the database of `DATABASE_URL`.
    Migrate,
    /// Check that a server is alive (`/healthz`) and ready (`/readyz`).
    Health {
        /// The server's base URL.
        #[arg(long, env = "MESSENGER_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Users: create, list, show.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Chats: create, list, show, history.
    #[command(subcommand)]
    Chat(chats::ChatCommand),
    /// Fill the database fast (COPY) for demos and benchmarks.
    Seed(seed::SeedArgs),
    /// Load-test servers over the public protocol (HTTP + one WebSocket per member).
    Bench(bench::BenchArgs),
    /// Time opening a chat (socket until its history, the history page) against a control,
    /// one request at a time.
    BenchOpen(bench_open::BenchOpenArgs),
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("messenger-cli: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let out = output::Output { json: cli.json };
    match cli.command {
        Command::Migrate => {
            let database_url = std::env::var("DATABASE_URL")
                .ok()
                .filter(|url| !url.trim().is_empty())
                .context("set DATABASE_URL: migrations apply to a deployment's Postgres")?;
            let applied = Storage::migrate(&Secret::new(database_url)).await?;
            out.done(&format!("migrations applied: {applied}"));
            Ok(())
        }
        Command::Health { url } => output::health(&out, &url).await,
        Command::User(cmd) => users::run(&context::Context::open().await?, &out, cmd).await,
        Command::Chat(cmd) => chats::run(&context::Context::open().await?, &out, cmd).await,
        Command::Seed(args) => seed::run(&context::Context::open().await?, &out, args).await,
        Command::Bench(args) => bench::run(&out, args).await,
        Command::BenchOpen(args) => bench_open::run(&out, args).await,
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "messenger-cli",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}
