//! People over HTTP: `GET /users?q=&limit=` (username prefix ignoring case, exact phone,
//! the caller left out, the limit's default, cap and refusals) and `GET /users/{user_id}`.

use crate::common;

use common::assertions::*;

use common::{spawn_app, TestApp, TestUser};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `GET /users?{query}` as `caller`; asserts 200 and returns the users.
async fn search(app: &TestApp, caller: &TestUser, query: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/users?{query}"), &caller.token).await;
    assert_eq!(status, StatusCode::OK, "GET /users?{query}: {body}");
    body.as_array().expect("an array of users").clone()
}

fn usernames(users: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = users
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect();
    names.sort();
    names
}

/// A phone in a query string: `+` must be sent as `%2B`.
fn encode_phone(phone: &str) -> String {
    phone.replace('+', "%2B")
}

#[tokio::test]
async fn users_match_a_username_prefix_ignoring_case() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    app.register("alice").await;
    app.register("ALIcia").await;
    app.register("Alfred").await;
    app.register("bob").await;
    app.register("malice").await;

    assert_eq!(
        usernames(&search(&app, &caller, "q=ali").await),
        ["ALIcia", "alice"]
    );
    assert_eq!(
        usernames(&search(&app, &caller, "q=ALI").await),
        ["ALIcia", "alice"]
    );
    assert_eq!(
        usernames(&search(&app, &caller, "q=Al").await),
        ["ALIcia", "Alfred", "alice"]
    );
    assert_eq!(
        usernames(&search(&app, &caller, "q=alicia").await),
        ["ALIcia"]
    );
    assert!(search(&app, &caller, "q=alicias").await.is_empty());
    assert!(
        search(&app, &caller, "q=lice").await.is_empty(),
        "a prefix, not a substring"
    );
}

#[tokio::test]
async fn users_found_are_public_users_without_their_phone() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    let alice = app.register("alice").await;
    let found = search(&app, &caller, "q=alice").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["user_id"], alice.id);
    assert_eq!(found[0]["username"], "alice");
    assert_eq!(found[0]["online"], false);
    assert!(
        found[0].get("phone").is_none(),
        "another user's phone is not shown: {}",
        found[0]
    );
}

#[tokio::test]
async fn users_match_an_exact_phone_number() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    let alice = app.register("alice").await;
    app.register("bob").await;

    let found = search(&app, &caller, &format!("q={}", encode_phone(&alice.phone))).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["user_id"], alice.id);
    assert_eq!(found[0]["username"], "alice");

    let partial = &alice.phone[..alice.phone.len() - 2];
    let found = search(&app, &caller, &format!("q={}", encode_phone(partial))).await;
    assert!(found.is_empty(), "only an exact phone matches: {found:?}");
}

#[tokio::test]
async fn users_leave_the_caller_out() {
    let app = spawn_app().await;
    let alice = app.register("alice").await;
    app.register("alicia").await;

    assert_eq!(usernames(&search(&app, &alice, "q=ali").await), ["alicia"]);
    assert!(search(&app, &alice, "q=alice").await.is_empty());
    let own_phone = format!("q={}", encode_phone(&alice.phone));
    assert!(search(&app, &alice, &own_phone).await.is_empty());
}

#[tokio::test]
async fn users_limit_defaults_to_20_and_is_capped_not_refused_above_the_maximum() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    for i in 0..21 {
        app.register(&format!("member_{i:02}")).await;
    }
    assert_eq!(
        search(&app, &caller, "q=member").await.len(),
        20,
        "the default limit"
    );
    assert_eq!(search(&app, &caller, "q=member&limit=5").await.len(), 5);
    assert_eq!(search(&app, &caller, "q=member&limit=21").await.len(), 21);
    assert_eq!(search(&app, &caller, "q=member&limit=100").await.len(), 21);
    let capped = search(&app, &caller, "q=member&limit=1000").await;
    assert_eq!(capped.len(), 21, "a limit over 100 is capped, not refused");
}

#[tokio::test]
async fn users_limit_of_zero_or_less_is_400_naming_limit() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    app.register("alice").await;
    for limit in ["0", "-1", "-100"] {
        let (status, body) = app
            .get(&format!("/users?q=al&limit={limit}"), &caller.token)
            .await;
        assert_invalid(status, &body, "limit");
    }
}

#[tokio::test]
async fn users_limit_that_is_not_a_number_is_400_naming_limit() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    for limit in ["abc", "1.5", ""] {
        let (status, body) = app
            .get(&format!("/users?q=al&limit={limit}"), &caller.token)
            .await;
        assert_invalid(status, &body, "limit");
    }
}

#[tokio::test]
async fn users_with_an_empty_or_missing_q_is_400_naming_q() {
    let app = spawn_app().await;
    let caller = app.register("zed").await;
    app.register("alice").await;
    for path in ["/users?q=", "/users", "/users?limit=5"] {
        let (status, body) = app.get(path, &caller.token).await;
        assert_invalid(status, &body, "q");
    }
}

#[tokio::test]
async fn users_without_a_token_is_401_unauthorized() {
    let app = spawn_app().await;
    app.register("alice").await;
    let (status, body) = app
        .request(reqwest::Method::GET, "/users?q=al", None, None)
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_user_profile_by_id_shows_the_phone_only_to_its_owner_and_unknown_ids_are_404() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let ben = app.register("ben").await;

    let (status, other) = app.get(&format!("/users/{}", ben.id), &ann.token).await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(
        other,
        json!({"user_id": ben.id, "username": "ben", "online": false})
    );

    let (status, own) = app.get(&format!("/users/{}", ann.id), &ann.token).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["phone"], ann.phone.as_str());

    let (status, body) = app.get("/users/999999", &ann.token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get("/users/abc", &ann.token).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (status, body) = app.get(&format!("/users/{}", ben.id), "nope").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}
