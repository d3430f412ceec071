//! Embedding the messenger's core without a server: the in-memory adapters, two users, a chat,
//! a message sent through the write path (stream → persister → store) and read back.
//!
//! Run with `cargo run -p messenger-adapters --example embed`.

use messenger_adapters::memory::in_memory_ports;
use messenger_core::ports::CommitNotifier;
use messenger_core::services::{AuthSettings, Change, Persister, Services, Submission};
use messenger_core::{CommitNotice, CommitOutcome};
use std::sync::{Arc, Mutex};

/// Collects commit notices; a server would route them to the author's socket instead.
#[derive(Default)]
struct Notices(Mutex<Vec<CommitNotice>>);

#[async_trait::async_trait]
impl CommitNotifier for Notices {
    async fn committed(&self, notices: Vec<CommitNotice>) {
        self.0.lock().expect("not poisoned").extend(notices);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ports = in_memory_ports(b"an example secret");
    let services = Services::new(ports.clone(), AuthSettings::default());
    let notices = Arc::new(Notices::default());
    let persister = Persister::new(&ports, notices.clone(), "example", 64);

    let alice = services
        .auth
        .register("+1 555 000 0001", "correct horse", "alice")
        .await?;
    let bob = services
        .auth
        .register("+1 555 000 0002", "battery staple", "bob")
        .await?;
    println!(
        "registered {} (id {}) and {} (id {})",
        alice.user.username, alice.user.id, bob.user.username, bob.user.id
    );

    let chat = services
        .chats
        .create_group(alice.user.id, "Lunch", &[bob.user.id])
        .await?;
    println!(
        "created chat {:?} with participants {:?}",
        chat.display_name, chat.chat.participants
    );

    let submitted = services
        .messages
        .submit(
            alice.user.id,
            chat.chat.id,
            None,
            Some("c-1".into()),
            Change::Create {
                text: "Pizza at noon?".into(),
            },
        )
        .await?;
    println!("queued: {submitted:?}");
    assert!(matches!(submitted, Submission::Queued(_)));

    // The persister commits what is queued, as the server's background loop does.
    let committed = persister.persist_batch(None).await?;
    println!("persister committed {committed} event(s)");
    let notice = notices
        .0
        .lock()
        .expect("not poisoned")
        .pop()
        .ok_or("no commit notice")?;
    let CommitOutcome::Committed(message) = notice.outcome else {
        return Err("the message was not committed".into());
    };
    println!("acked message {} by user {}", message.id, message.author_id);

    let page = services
        .messages
        .page_before(bob.user.id, chat.chat.id, None, 20)
        .await?;
    for m in &page.messages {
        println!("bob reads: [{}] {}: {}", m.created_at, m.author_id, m.text);
    }
    assert_eq!(page.messages.len(), 1);
    let bobs_view = services.chats.get(bob.user.id, chat.chat.id).await?;
    println!(
        "bob has {} unread message(s) in {:?}",
        bobs_view.unread_count, bobs_view.display_name
    );
    Ok(())
}
