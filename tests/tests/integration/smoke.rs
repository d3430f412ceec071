//! The shortest path through the product: two people, a chat, a message seen live.

use crate::common;

use common::spawn_app;
use serde_json::json;

#[tokio::test]
async fn register_create_a_group_and_see_a_message_arrive_live() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let (mut bob_ws, history) = app.open_chat(&bob, chat).await;
    assert_eq!(history["messages"], json!([]));
    let (mut alice_ws, _) = app.open_chat(&alice, chat).await;
    let sent = alice_ws.send_message("c1", "hello bob").await;
    assert_eq!(sent["text"], "hello bob");
    let got = bob_ws.next_of("MessageCreated").await;
    assert_eq!(got["message"], sent);
    app.stop().await.unwrap();
}
