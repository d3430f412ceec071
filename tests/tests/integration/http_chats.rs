//! Chats over HTTP: create, list (most recently active first, read markers), get, rename,
//! delete, participants (add, leave, remove, owner succession) and `POST /chats/{id}/read`.

use crate::common;

use common::assertions::*;

use common::{spawn_app, TestApp, TestUser};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn sorted_ids(value: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = value
        .as_array()
        .expect("an array of ids")
        .iter()
        .map(|v| v.as_i64().expect("an integer id"))
        .collect();
    ids.sort();
    ids
}

fn ids_of(users: &[&TestUser]) -> Vec<i64> {
    let mut ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    ids.sort();
    ids
}

/// `GET /chats/{chat}` as `user`; asserts 200.
async fn chat_as(app: &TestApp, user: &TestUser, chat: i64) -> Value {
    let (status, body) = app.get(&format!("/chats/{chat}"), &user.token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "GET /chats/{chat} as {}: {body}",
        user.username
    );
    body
}

/// `GET /chats` as `user`; asserts 200 and returns the chat ids in order.
async fn chat_ids(app: &TestApp, user: &TestUser) -> Vec<i64> {
    let (status, body) = app.get("/chats", &user.token).await;
    assert_eq!(status, StatusCode::OK, "GET /chats: {body}");
    body.as_array()
        .expect("an array of chats")
        .iter()
        .map(|c| c["chat_id"].as_i64().expect("chat_id"))
        .collect()
}

/// Opens the direct chat of `from` and `to` by sending a message; returns the chat id.
async fn direct_chat(app: &TestApp, from: &TestUser, to: &TestUser) -> i64 {
    let (status, body) = app
        .post(
            &format!("/users/{}/messages", to.id),
            &from.token,
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "direct message: {body}");
    body["chat"]["chat_id"].as_i64().expect("chat_id")
}

async fn remove(app: &TestApp, by: &TestUser, chat: i64, user: &TestUser) -> (StatusCode, Value) {
    app.delete(
        &format!("/chats/{chat}/participants/{}", user.id),
        &by.token,
    )
    .await
}

// ---- POST /chats ----------------------------------------------------------------------------

#[tokio::test]
async fn create_chat_is_201_a_group_owned_by_the_caller_who_is_added_to_participants() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let (status, chat) = app
        .post(
            "/chats",
            &alice.token,
            json!({"name": "Team", "participants": [bob.id, carol.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{chat}");
    assert!(chat["chat_id"].is_i64(), "{chat}");
    assert_eq!(chat["name"], "Team");
    assert_eq!(chat["kind"], "group");
    assert_eq!(chat["owner_id"], alice.id);
    assert_eq!(
        sorted_ids(&chat["participants"]),
        ids_of(&[&alice, &bob, &carol])
    );
    assert_eq!(chat["last_message"], Value::Null);
    assert_eq!(chat["last_read_message_id"], Value::Null);
    assert_eq!(chat["unread_count"], 0);
    assert!(
        chat["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{chat}"
    );

    let id = chat["chat_id"].as_i64().unwrap();
    for user in [&alice, &bob, &carol] {
        let seen = chat_as(&app, user, id).await;
        assert_eq!(seen["name"], "Team");
        assert_eq!(seen["owner_id"], alice.id);
    }
}

#[tokio::test]
async fn create_chat_has_no_duplicate_check() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let first = app.create_group(&alice, "Team", &[&bob]).await;
    let second = app.create_group(&alice, "Team", &[&bob]).await;
    assert_ne!(first, second);
    let mut listed = chat_ids(&app, &bob).await;
    listed.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn create_chat_with_an_unknown_participant_is_400_naming_participants() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, body) = app
        .post(
            "/chats",
            &alice.token,
            json!({"name": "Team", "participants": [bob.id, 999_999]}),
        )
        .await;
    assert_invalid(status, &body, "participants");
    assert!(chat_ids(&app, &alice).await.is_empty(), "no chat was made");
    assert!(chat_ids(&app, &bob).await.is_empty(), "no chat was made");
}

#[tokio::test]
async fn create_chat_name_must_be_1_to_128_characters() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    for name in [String::new(), "n".repeat(129)] {
        let (status, body) = app
            .post(
                "/chats",
                &alice.token,
                json!({"name": name, "participants": [bob.id]}),
            )
            .await;
        assert_invalid(status, &body, "name");
    }
    for name in ["n".to_owned(), "n".repeat(128), "é".repeat(128)] {
        let (status, body) = app
            .post(
                "/chats",
                &alice.token,
                json!({"name": name, "participants": [bob.id]}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "name of {} chars: {body}",
            name.chars().count()
        );
        assert_eq!(body["name"], name.as_str());
    }
}

#[tokio::test]
async fn create_chat_with_a_missing_field_is_400_naming_the_field() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, body) = app
        .post("/chats", &alice.token, json!({"participants": [bob.id]}))
        .await;
    assert_invalid(status, &body, "name");
    let (status, body) = app
        .post("/chats", &alice.token, json!({"name": "Team"}))
        .await;
    assert_invalid(status, &body, "participants");
}

// ---- GET /chats -----------------------------------------------------------------------------

#[tokio::test]
async fn chats_list_the_most_recently_active_first() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let older = app.create_group(&alice, "Older", &[&bob]).await;
    let newer = app.create_group(&alice, "Newer", &[&bob]).await;

    app.send(&bob, older, "bump").await;
    assert_eq!(chat_ids(&app, &alice).await, [older, newer]);
    assert_eq!(chat_ids(&app, &bob).await, [older, newer]);

    app.send(&alice, newer, "bump back").await;
    assert_eq!(chat_ids(&app, &alice).await, [newer, older]);
    assert_eq!(chat_ids(&app, &bob).await, [newer, older]);
}

#[tokio::test]
async fn chats_list_only_the_callers_chats() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let with_bob = app.create_group(&alice, "With Bob", &[&bob]).await;
    app.create_group(&carol, "Carol's", &[]).await;
    assert_eq!(chat_ids(&app, &bob).await, [with_bob]);
}

#[tokio::test]
async fn chats_show_the_last_message_and_the_callers_own_unread_count_and_read_marker() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    app.send(&alice, chat, "one").await;
    let m2 = app.send(&alice, chat, "two").await;
    let m3 = app.send(&alice, chat, "three").await;

    let (status, list) = app.get("/chats", &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let seen = &list[0];
    assert_eq!(seen["chat_id"], chat);
    assert_eq!(seen["last_message"], m3);
    assert_eq!(seen["unread_count"], 3);
    assert_eq!(seen["last_read_message_id"], Value::Null);

    let (status, list) = app.get("/chats", &alice.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["last_message"], m3);
    assert_eq!(
        list[0]["unread_count"], 0,
        "one's own messages are not unread"
    );

    let (status, body) = app
        .post(
            &format!("/chats/{chat}/read"),
            &bob.token,
            json!({"message_id": m2["message_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, list) = app.get("/chats", &bob.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["last_read_message_id"], m2["message_id"]);
    assert_eq!(list[0]["unread_count"], 1);
}

// ---- GET /chats/{id} ------------------------------------------------------------------------

#[tokio::test]
async fn get_chat_is_200_for_a_participant() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(seen["chat_id"], chat);
    assert_eq!(seen["name"], "Team");
    assert_eq!(seen["kind"], "group");
    assert_eq!(seen["owner_id"], alice.id);
    assert_eq!(sorted_ids(&seen["participants"]), ids_of(&[&alice, &bob]));
}

#[tokio::test]
async fn get_chat_of_a_non_participant_is_404_like_an_unknown_chat() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;

    let (status, hidden) = app.get(&format!("/chats/{chat}"), &eve.token).await;
    assert_not_found(status, &hidden);
    let (status, unknown) = app.get("/chats/999999", &eve.token).await;
    assert_not_found(status, &unknown);
    assert_eq!(hidden["error"]["code"], unknown["error"]["code"]);
}

#[tokio::test]
async fn get_chat_with_an_id_that_is_not_an_integer_is_400_invalid_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    for id in ["abc", "1.5", "12abc"] {
        let (status, body) = app.get(&format!("/chats/{id}"), &alice.token).await;
        assert_invalid(status, &body, "id");
    }
}

// ---- PATCH /chats/{id} ----------------------------------------------------------------------

#[tokio::test]
async fn rename_chat_is_open_to_any_participant_of_a_group() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let (status, body) = app
        .patch(
            &format!("/chats/{chat}"),
            &bob.token,
            json!({"name": "Team Rocket"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["chat_id"], chat);
    assert_eq!(body["name"], "Team Rocket");
    assert_eq!(
        body["owner_id"], alice.id,
        "renaming does not change the owner"
    );
    assert_eq!(chat_as(&app, &alice, chat).await["name"], "Team Rocket");
}

#[tokio::test]
async fn rename_chat_validates_the_name_and_hides_chats_of_others() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    for name in [String::new(), "n".repeat(129)] {
        let (status, body) = app
            .patch(&format!("/chats/{chat}"), &bob.token, json!({"name": name}))
            .await;
        assert_invalid(status, &body, "name");
    }
    let (status, body) = app
        .patch(
            &format!("/chats/{chat}"),
            &eve.token,
            json!({"name": "Mine"}),
        )
        .await;
    assert_not_found(status, &body);
    assert_eq!(chat_as(&app, &alice, chat).await["name"], "Team");
}

#[tokio::test]
async fn rename_a_direct_chat_is_400_invalid_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = direct_chat(&app, &alice, &bob).await;
    for user in [&alice, &bob] {
        let (status, body) = app
            .patch(
                &format!("/chats/{chat}"),
                &user.token,
                json!({"name": "Ours"}),
            )
            .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    }
    assert_eq!(chat_as(&app, &alice, chat).await["name"], "bob");
    assert_eq!(chat_as(&app, &bob, chat).await["name"], "alice");
}

// ---- DELETE /chats/{id} ---------------------------------------------------------------------

#[tokio::test]
async fn delete_a_group_by_a_participant_who_is_not_the_owner_is_403_forbidden() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let (status, body) = app.delete(&format!("/chats/{chat}"), &bob.token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    chat_as(&app, &bob, chat).await;
}

#[tokio::test]
async fn delete_a_chat_by_a_non_participant_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app.delete(&format!("/chats/{chat}"), &eve.token).await;
    assert_not_found(status, &body);
    let (status, body) = app.delete("/chats/999999", &eve.token).await;
    assert_not_found(status, &body);
    chat_as(&app, &alice, chat).await;
}

#[tokio::test]
async fn delete_a_group_by_its_owner_is_204_and_it_is_gone_for_everyone_with_its_messages() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let message = app.send(&bob, chat, "soon gone").await;
    let message_id = message["message_id"].as_i64().unwrap();

    let (status, body) = app.delete(&format!("/chats/{chat}"), &alice.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    for user in [&alice, &bob] {
        let (status, body) = app.get(&format!("/chats/{chat}"), &user.token).await;
        assert_not_found(status, &body);
        let (status, body) = app
            .get(&format!("/chats/{chat}/messages"), &user.token)
            .await;
        assert_not_found(status, &body);
        assert!(!chat_ids(&app, user).await.contains(&chat));
    }
    let (status, body) = app
        .patch(
            &format!("/messages/{message_id}"),
            &bob.token,
            json!({"text": "edit"}),
        )
        .await;
    assert_not_found(status, &body);
    let (status, body) = app
        .delete(&format!("/messages/{message_id}"), &bob.token)
        .await;
    assert_not_found(status, &body);
    let (status, body) = app.delete(&format!("/chats/{chat}"), &alice.token).await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn delete_a_direct_chat_is_allowed_to_either_participant() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    // Deleted by the one who did not start it.
    let chat = direct_chat(&app, &alice, &bob).await;
    let (status, body) = app.delete(&format!("/chats/{chat}"), &bob.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for user in [&alice, &bob] {
        let (status, body) = app.get(&format!("/chats/{chat}"), &user.token).await;
        assert_not_found(status, &body);
    }

    // Deleted by the one who started it.
    let chat = direct_chat(&app, &alice, &carol).await;
    let (status, body) = app.delete(&format!("/chats/{chat}"), &alice.token).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for user in [&alice, &carol] {
        let (status, body) = app.get(&format!("/chats/{chat}"), &user.token).await;
        assert_not_found(status, &body);
    }
}

// ---- POST /chats/{id}/participants ----------------------------------------------------------

#[tokio::test]
async fn add_participant_is_200_with_the_chat_including_the_new_participant() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;

    // Any participant may add, not only the owner.
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/participants"),
            &bob.token,
            json!({"user_id": carol.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["chat_id"], chat);
    assert_eq!(
        sorted_ids(&body["participants"]),
        ids_of(&[&alice, &bob, &carol])
    );
    assert_eq!(body["owner_id"], alice.id);

    let seen = chat_as(&app, &carol, chat).await;
    assert_eq!(
        sorted_ids(&seen["participants"]),
        ids_of(&[&alice, &bob, &carol])
    );
    assert_eq!(chat_ids(&app, &carol).await, [chat]);
}

#[tokio::test]
async fn add_an_unknown_user_to_a_group_is_400_naming_user_id() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/participants"),
            &alice.token,
            json!({"user_id": 999_999}),
        )
        .await;
    assert_invalid(status, &body, "user_id");
}

#[tokio::test]
async fn add_a_participant_to_a_direct_chat_is_400_invalid_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = direct_chat(&app, &alice, &bob).await;
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/participants"),
            &alice.token,
            json!({"user_id": carol.id}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(
        sorted_ids(&chat_as(&app, &alice, chat).await["participants"]),
        ids_of(&[&alice, &bob])
    );
}

#[tokio::test]
async fn add_a_participant_as_a_non_participant_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/participants"),
            &eve.token,
            json!({"user_id": eve.id}),
        )
        .await;
    assert_not_found(status, &body);
    assert_eq!(
        sorted_ids(&chat_as(&app, &alice, chat).await["participants"]),
        ids_of(&[&alice])
    );
}

// ---- DELETE /chats/{id}/participants/{user_id} ----------------------------------------------

#[tokio::test]
async fn removing_yourself_is_leaving_and_is_204() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.create_group(&alice, "Team", &[&bob, &carol]).await;

    let (status, body) = remove(&app, &bob, chat, &bob).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.get(&format!("/chats/{chat}"), &bob.token).await;
    assert_not_found(status, &body);
    assert!(chat_ids(&app, &bob).await.is_empty());
    let seen = chat_as(&app, &alice, chat).await;
    assert_eq!(sorted_ids(&seen["participants"]), ids_of(&[&alice, &carol]));
    assert_eq!(seen["owner_id"], alice.id);
}

#[tokio::test]
async fn the_owner_may_remove_anyone() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.create_group(&alice, "Team", &[&bob, &carol]).await;

    let (status, body) = remove(&app, &alice, chat, &carol).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.get(&format!("/chats/{chat}"), &carol.token).await;
    assert_not_found(status, &body);
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(sorted_ids(&seen["participants"]), ids_of(&[&alice, &bob]));
}

#[tokio::test]
async fn a_non_owner_removing_someone_else_is_403_forbidden() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.create_group(&alice, "Team", &[&bob, &carol]).await;

    let (status, body) = remove(&app, &bob, chat, &carol).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = remove(&app, &bob, chat, &alice).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let seen = chat_as(&app, &carol, chat).await;
    assert_eq!(
        sorted_ids(&seen["participants"]),
        ids_of(&[&alice, &bob, &carol])
    );
}

#[tokio::test]
async fn removing_from_a_chat_you_are_not_in_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let (status, body) = remove(&app, &eve, chat, &bob).await;
    assert_not_found(status, &body);
    let (status, body) = remove(&app, &eve, chat, &eve).await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn removing_a_participant_of_a_direct_chat_is_400_invalid_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = direct_chat(&app, &alice, &bob).await;
    for (by, who) in [(&alice, &alice), (&alice, &bob), (&bob, &bob)] {
        let (status, body) = remove(&app, by, chat, who).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    }
    assert_eq!(
        sorted_ids(&chat_as(&app, &bob, chat).await["participants"]),
        ids_of(&[&alice, &bob])
    );
}

#[tokio::test]
async fn removing_with_a_user_id_that_is_not_an_integer_is_400_invalid_input() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app
        .delete(&format!("/chats/{chat}/participants/bob"), &alice.token)
        .await;
    assert_invalid(status, &body, "user_id");
}

#[tokio::test]
async fn when_the_owner_leaves_the_earliest_added_remaining_participant_becomes_owner() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    // carol and dave are added together (ties: the lowest id, carol); bob, whose id is
    // lower, is added after them.
    let chat = app.create_group(&alice, "Team", &[&dave, &carol]).await;
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/participants"),
            &alice.token,
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = remove(&app, &alice, chat, &alice).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(
        seen["owner_id"], carol.id,
        "carol: added first, with the lower id of the tie"
    );
    assert_eq!(
        sorted_ids(&seen["participants"]),
        ids_of(&[&bob, &carol, &dave])
    );

    let (status, body) = remove(&app, &carol, chat, &carol).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        chat_as(&app, &bob, chat).await["owner_id"],
        dave.id,
        "dave was added before bob"
    );

    let (status, body) = remove(&app, &dave, chat, &dave).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(chat_as(&app, &bob, chat).await["owner_id"], bob.id);
}

#[tokio::test]
async fn the_new_owner_has_the_owners_rights() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let chat = app.create_group(&alice, "Team", &[&bob, &carol]).await;
    let (status, body) = remove(&app, &alice, chat, &alice).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(chat_as(&app, &carol, chat).await["owner_id"], bob.id);

    let (status, body) = remove(&app, &bob, chat, &carol).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "the new owner removes carol: {body}"
    );
    let (status, body) = app.delete(&format!("/chats/{chat}"), &bob.token).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "the new owner deletes the group: {body}"
    );
}

#[tokio::test]
async fn when_the_last_participant_leaves_the_group_is_deleted() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    app.send(&alice, chat, "hello").await;

    let (status, body) = remove(&app, &alice, chat, &alice).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(chat_as(&app, &bob, chat).await["owner_id"], bob.id);
    let (status, body) = remove(&app, &bob, chat, &bob).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    for user in [&alice, &bob] {
        let (status, body) = app.get(&format!("/chats/{chat}"), &user.token).await;
        assert_not_found(status, &body);
        assert!(chat_ids(&app, user).await.is_empty());
        let (status, body) = app
            .post(
                &format!("/chats/{chat}/participants"),
                &user.token,
                json!({"user_id": user.id}),
            )
            .await;
        assert_not_found(status, &body);
    }
}

// ---- POST /chats/{id}/read ------------------------------------------------------------------

#[tokio::test]
async fn read_is_204_and_the_marker_moves_forward_only() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let m1 = app.send(&alice, chat, "one").await["message_id"]
        .as_i64()
        .unwrap();
    let m2 = app.send(&alice, chat, "two").await["message_id"]
        .as_i64()
        .unwrap();
    let m3 = app.send(&alice, chat, "three").await["message_id"]
        .as_i64()
        .unwrap();
    let read = |id: i64| {
        let app = &app;
        let token = bob.token.clone();
        async move {
            app.post(
                &format!("/chats/{chat}/read"),
                &token,
                json!({"message_id": id}),
            )
            .await
        }
    };

    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(seen["unread_count"], 3);
    assert_eq!(seen["last_read_message_id"], Value::Null);

    let (status, body) = read(m2).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(seen["last_read_message_id"], m2);
    assert_eq!(seen["unread_count"], 1);

    let (status, body) = read(m1).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "an older id is accepted and changes nothing: {body}"
    );
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(seen["last_read_message_id"], m2, "never backwards");
    assert_eq!(seen["unread_count"], 1);

    let (status, body) = read(m3).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(seen["last_read_message_id"], m3);
    assert_eq!(seen["unread_count"], 0);

    let alices = chat_as(&app, &alice, chat).await;
    assert_eq!(
        alices["last_read_message_id"],
        Value::Null,
        "markers are per user"
    );
}

#[tokio::test]
async fn unread_count_counts_only_messages_by_others_after_the_marker() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let m1 = app.send(&alice, chat, "one").await["message_id"].clone();
    app.send(&bob, chat, "mine").await;
    app.send(&alice, chat, "two").await;
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/read"),
            &bob.token,
            json!({"message_id": m1}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(chat_as(&app, &bob, chat).await["unread_count"], 1);
    assert_eq!(chat_as(&app, &alice, chat).await["unread_count"], 1);
}

#[tokio::test]
async fn read_with_a_message_of_another_chat_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let chat = app.create_group(&alice, "Team", &[&bob]).await;
    let other = app.create_group(&alice, "Other", &[&bob]).await;
    app.send(&alice, chat, "here").await;
    let elsewhere = app.send(&alice, other, "there").await["message_id"].clone();

    let (status, body) = app
        .post(
            &format!("/chats/{chat}/read"),
            &bob.token,
            json!({"message_id": elsewhere}),
        )
        .await;
    assert_not_found(status, &body);
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/read"),
            &bob.token,
            json!({"message_id": 999_999}),
        )
        .await;
    assert_not_found(status, &body);
    let seen = chat_as(&app, &bob, chat).await;
    assert_eq!(seen["last_read_message_id"], Value::Null);
    assert_eq!(seen["unread_count"], 1);
}

#[tokio::test]
async fn read_in_a_chat_you_are_not_in_is_404() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let eve = app.register("eve").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let m = app.send(&alice, chat, "secret").await["message_id"].clone();
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/read"),
            &eve.token,
            json!({"message_id": m}),
        )
        .await;
    assert_not_found(status, &body);
}

#[tokio::test]
async fn read_without_a_message_id_is_400_naming_message_id() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    let chat = app.create_group(&alice, "Team", &[]).await;
    let (status, body) = app
        .post(&format!("/chats/{chat}/read"), &alice.token, json!({}))
        .await;
    assert_invalid(status, &body, "message_id");
    let (status, body) = app
        .post(
            &format!("/chats/{chat}/read"),
            &alice.token,
            json!({"message_id": "seven"}),
        )
        .await;
    assert_invalid(status, &body, "message_id");
}
