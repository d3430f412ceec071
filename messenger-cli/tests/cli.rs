//! Every command against a real Postgres and Redis (a database and key prefix of its own).

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

struct Env {
    database_url: String,
    redis_url: String,
    prefix: String,
}

async fn env() -> Env {
    let database_url = messenger_adapters::postgres::create_test_database().await;
    let redis_url = messenger_adapters::test_services::redis_url().await;
    let prefix = database_url.rsplit('/').next().unwrap_or("cli").to_owned();
    Env {
        database_url,
        redis_url,
        prefix,
    }
}

impl Env {
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_messenger-cli"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env("REDIS_PREFIX", &self.prefix)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the CLI runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("stdin written");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("the CLI finishes")
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("JSON output")
    }
}

#[tokio::test]
async fn a_database_behind_is_migrated_only_by_the_migrate_command() {
    let mut e = env().await;
    e.database_url = messenger_adapters::postgres::create_empty_test_database().await;

    let out = e.cli(&["user", "list"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a command on an unmigrated database failed"
    );
    assert!(
        stderr.contains("behind") && stderr.contains("messenger-cli migrate"),
        "it says what to do: {stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "in one line: {stderr}");

    // Nothing was migrated as a side effect: `migrate` still has everything to apply.
    let applied = e.json(&["migrate"]);
    let message = applied["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.starts_with("migrations applied: ") && !message.ends_with(": 0"),
        "{applied}"
    );
    assert_eq!(e.json(&["migrate"])["message"], "migrations applied: 0");
    e.ok(&["user", "list"]);
}

#[tokio::test]
async fn migrate_users_and_chats() {
    let e = env().await;
    assert!(e.ok(&["migrate"]).contains("migrations applied"));

    let out = e.cli(
        &[
            "--json",
            "user",
            "create",
            "--phone",
            "+1 (555) 000-0001",
            "--username",
            "alice",
        ],
        Some("correct horse\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alice: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(alice["phone"], "+15550000001");
    e.ok(&[
        "user",
        "create",
        "--phone",
        "+15550000002",
        "--username",
        "bob",
        "--password",
        "battery staple",
    ]);

    let users = e.json(&["user", "list"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    let found = e.json(&["user", "list", "--query", "BO"]);
    assert_eq!(found[0]["username"], "bob");
    assert_eq!(
        e.json(&["user", "show", "@alice"])["user_id"],
        alice["user_id"]
    );
    let table = e.ok(&["user", "list"]);
    assert!(
        table.starts_with("ID") && table.contains("alice"),
        "{table}"
    );

    let chat = e.json(&[
        "chat", "create", "--name", "Team", "--member", "@alice", "--member", "@bob",
    ]);
    assert_eq!(chat["owner_id"], alice["user_id"]);
    let id = chat["chat_id"].to_string();
    let shown = e.json(&["chat", "show", &id]);
    assert_eq!(shown["participants"].as_array().unwrap().len(), 2);
    assert_eq!(shown["message_count"], 0);
    assert_eq!(
        e.json(&["chat", "list", "--user", "@bob"])[0]["chat_id"],
        chat["chat_id"]
    );
    assert_eq!(e.json(&["chat", "list"]).as_array().unwrap().len(), 1);
    assert_eq!(
        e.json(&["chat", "history", &id])["messages"],
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn failures_exit_non_zero_with_a_one_line_reason() {
    let e = env().await;
    for args in [
        vec![
            "user",
            "create",
            "--phone",
            "12345",
            "--username",
            "x1y",
            "--password",
            "password1",
        ],
        vec!["user", "show", "@nobody"],
        vec!["chat", "show", "999"],
        vec!["user", "show", "not-an-id"],
    ] {
        let out = e.cli(&args, None);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("messenger-cli: ") && err.trim_end().lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_messenger-cli"))
        .args(["user", "list"])
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[tokio::test]
async fn seed_fills_users_chats_and_messages_in_bulk() {
    let e = env().await;
    let summary = e.json(&[
        "seed",
        "--users",
        "50",
        "--chats",
        "5",
        "--messages",
        "1000",
        "--members-per-chat",
        "4",
    ]);
    assert_eq!(summary["messages"], 1000);
    let users = e.json(&["user", "list", "--limit", "100"]);
    assert_eq!(users.as_array().unwrap().len(), 50);
    let chats = e.json(&["chat", "list"]);
    let mut total = 0;
    for chat in chats.as_array().unwrap() {
        let shown = e.json(&["chat", "show", &chat["chat_id"].to_string()]);
        assert_eq!(shown["participants"].as_array().unwrap().len(), 4);
        total += shown["message_count"].as_i64().unwrap();
    }
    assert_eq!(total, 1000);
    let first = chats[0]["chat_id"].to_string();
    let page = e.json(&["chat", "history", &first, "--limit", "5"]);
    let ids: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]) && page["has_more"] == true,
        "{page}"
    );
    // A second seed run does not collide with the first.
    e.json(&["seed", "--users", "10", "--chats", "1", "--messages", "10"]);
    assert_eq!(
        e.json(&["user", "list", "--limit", "100"])
            .as_array()
            .unwrap()
            .len(),
        60
    );
}

#[tokio::test]
async fn completions_and_help() {
    let e = env().await;
    assert!(e.ok(&["completions", "bash"]).contains("messenger-cli"));
    for args in [
        vec!["--help"],
        vec!["user", "--help"],
        vec!["chat", "history", "--help"],
        vec!["seed", "--help"],
    ] {
        assert!(e.ok(&args).contains("Usage"), "{args:?}");
    }
}
