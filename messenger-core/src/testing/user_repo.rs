//! Contract of [`crate::ports::UserRepo`].

use super::at;
use crate::ports::UserRepo;
use crate::{NewUser, StoreError, UserId};

/// Expands to the `UserRepo` contract tests.
#[macro_export]
macro_rules! user_repo_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            user_repo,
            $make,
            [
                created_users_are_found_by_id_phone_and_username_ignoring_case,
                phone_and_username_are_unique_ignoring_case,
                search_matches_username_prefix_ignoring_case_or_exact_phone,
                by_ids_leaves_out_unknown_ids,
            ]
        );
    };
}

fn new_user(username: &str, phone: &str) -> NewUser {
    NewUser {
        username: username.into(),
        phone: phone.into(),
        password_hash: format!("hash-of-{username}"),
        created_at: at(0),
    }
}

pub async fn created_users_are_found_by_id_phone_and_username_ignoring_case(repo: &dyn UserRepo) {
    let alice = repo
        .create(new_user("Alice", "+15550000001"))
        .await
        .unwrap();
    assert_eq!(alice.username, "Alice");
    assert_eq!(alice.phone, "+15550000001");
    assert_eq!(repo.by_id(alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        repo.by_username("aLiCe").await.unwrap(),
        Some(alice.clone())
    );
    let creds = repo
        .credentials_by_phone("+15550000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.user, alice);
    assert_eq!(creds.password_hash, "hash-of-Alice");
    assert_eq!(repo.by_id(UserId(alice.id.0 + 1000)).await.unwrap(), None);
    assert_eq!(
        repo.credentials_by_phone("+15559999999").await.unwrap(),
        None
    );
}

pub async fn phone_and_username_are_unique_ignoring_case(repo: &dyn UserRepo) {
    repo.create(new_user("bob", "+15550000002")).await.unwrap();
    assert_eq!(
        repo.create(new_user("BOB", "+15550000003")).await,
        Err(StoreError::UsernameTaken)
    );
    assert_eq!(
        repo.create(new_user("robert", "+15550000002")).await,
        Err(StoreError::PhoneTaken)
    );
    let other = repo
        .create(new_user("bobby", "+15550000003"))
        .await
        .unwrap();
    assert_eq!(other.username, "bobby");
}

pub async fn search_matches_username_prefix_ignoring_case_or_exact_phone(repo: &dyn UserRepo) {
    let me = repo
        .create(new_user("carol", "+15550000010"))
        .await
        .unwrap();
    let carl = repo.create(new_user("Carl", "+15550000011")).await.unwrap();
    let cara = repo.create(new_user("cara", "+15550000012")).await.unwrap();
    let dave = repo.create(new_user("dave", "+15550000013")).await.unwrap();
    let found = repo.search("CAR", None, me.id, 10).await.unwrap();
    let names: Vec<&str> = found.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(
        names,
        ["cara", "Carl"],
        "prefix, ignoring case, caller left out, by name"
    );
    let limited = repo.search("car", None, me.id, 1).await.unwrap();
    assert_eq!(limited, vec![cara.clone()]);
    let by_phone = repo
        .search("+15550000013", Some("+15550000013".into()), me.id, 10)
        .await
        .unwrap();
    assert_eq!(by_phone, vec![dave]);
    let none = repo
        .search("+15550000010", Some("+15550000010".into()), me.id, 10)
        .await
        .unwrap();
    assert!(none.is_empty(), "the caller is never found");
    let _ = carl;
}

pub async fn by_ids_leaves_out_unknown_ids(repo: &dyn UserRepo) {
    let a = repo.create(new_user("erin", "+15550000020")).await.unwrap();
    let b = repo
        .create(new_user("frank", "+15550000021"))
        .await
        .unwrap();
    let mut found = repo
        .by_ids(&[a.id, UserId(a.id.0 + 999), b.id])
        .await
        .unwrap();
    found.sort_by_key(|u| u.id);
    assert_eq!(found, vec![a, b]);
}
