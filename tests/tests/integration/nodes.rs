//! Several server nodes on one Postgres and one Redis form one service: what a socket on one
//! node sends, a socket on another sees; presence and logout hold across nodes.

use crate::common;

use common::{shared_backend, spawn_on};
use serde_json::{json, Value};

#[tokio::test]
async fn two_nodes_serve_one_set_of_chats() {
    let backend = shared_backend().await;
    let node_a = spawn_on(&backend).await;
    let node_b = spawn_on(&backend).await;

    // Registered on A, signed in and found on B.
    let ann = node_a.register("ann").await;
    let ben = node_a.register("ben").await;
    let (status, login) = node_b
        .request(
            reqwest::Method::POST,
            "/login",
            None,
            Some(json!({"phone": ben.phone, "password": ben.password})),
        )
        .await;
    assert_eq!(status.as_u16(), 200, "{login}");
    let ben_on_b = login["token"].as_str().unwrap().to_owned();
    let chat = node_a.create_group(&ann, "Team", &[&ben]).await;

    let mut ben_feed = node_b.open_events(&ben).await;
    let (mut ann_ws, _) = node_a.open_chat(&ann, chat).await;
    let (mut ben_ws, _) = node_b.open_chat(&ben, chat).await;

    // Presence crosses nodes: ann on A sees ben, who opened the chat on B.
    let mut both = vec![ann.id, ben.id];
    both.sort();
    loop {
        if ann_ws.next_of("presence").await["online"] == json!(both) {
            break;
        }
    }
    let (_, found) = node_a.get("/users?q=ben", &ann.token).await;
    assert_eq!(found[0]["online"], true);

    // A socket on A sends; the socket on B and ben's feed on B see it.
    let sent = ann_ws.send_message("a1", "from node A").await;
    assert_eq!(ben_ws.next_of("MessageCreated").await["message"], sent);
    assert_eq!(ben_feed.next_event().await["message"], sent);

    // And back: a socket on B sends, its ack comes after the commit, A sees it.
    let reply = ben_ws.send_message("b1", "from node B").await;
    assert_eq!(ann_ws.next_of("MessageCreated").await["message"], reply);
    let (_, page) = node_a
        .get(&format!("/chats/{chat}/messages"), &ann.token)
        .await;
    let ids: Vec<&Value> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["message_id"])
        .collect();
    assert_eq!(ids, vec![&sent["message_id"], &reply["message_id"]]);

    // Over HTTP on B, answered once stored, fanned out on A.
    let over_http = node_b.send(&ben, chat, "http on B").await;
    assert_eq!(ann_ws.next_of("MessageCreated").await["message"], over_http);

    // Logout on A revokes ben's token on B too, and closes his socket on B.
    let (status, _) = node_a.post("/logout", &ben.token, Value::Null).await;
    assert_eq!(status.as_u16(), 204);
    assert_eq!(ben_ws.closed().await, Some(4001));
    let (status, _) = node_b.get("/me", &ben.token).await;
    assert_eq!(status.as_u16(), 401);
    let (status, _) = node_b.get("/me", &ben_on_b).await;
    assert_eq!(status.as_u16(), 200, "his other session lives on");
}
