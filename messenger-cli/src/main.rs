//! `messenger-cli`: the operator's tool. It applies migrations and checks a running server;
//! seeding, inspection and load testing are to come.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "messenger-cli",
    version,
    about = "Operate a messenger deployment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending schema migrations to the database of `DATABASE_URL`.
    Migrate {
        /// Postgres URL.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
    /// Check that a server is alive (`/healthz`) and ready (`/readyz`).
    Health {
        /// The server's base URL.
        #[arg(long, env = "MESSENGER_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
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
    match cli.command {
        Command::Health { url, json } => health(&url, json).await,
        Command::Migrate { database_url } => {
            let pool = messenger_adapters::postgres::connect(&database_url, 1)
                .await
                .context("cannot connect to Postgres")?;
            messenger_adapters::postgres::migrate(&pool).await?;
            pool.close().await;
            println!("migrations applied");
            Ok(())
        }
    }
}

async fn health(url: &str, json: bool) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let base = url.trim_end_matches('/');
    let mut results = Vec::new();
    for path in ["/healthz", "/readyz"] {
        let resp = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .with_context(|| format!("cannot reach {base}{path}"))?;
        results.push((path, resp.status().as_u16()));
    }
    if json {
        let out: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(p, s)| (p.trim_start_matches('/').to_owned(), (*s).into()))
            .collect();
        println!("{}", serde_json::Value::Object(out));
    } else {
        for (path, status) in &results {
            println!("{path:<9} {status}");
        }
    }
    if results.iter().any(|(_, s)| *s != 200) {
        bail!("the server is not ready");
    }
    Ok(())
}
