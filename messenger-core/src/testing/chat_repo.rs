//! Contract of [`crate::ports::ChatRepo`].

use super::at;
use crate::ports::ChatRepo;
use crate::{ChatId, ChatKind, EventSeq, MessageId, NewChat, Removal, UserId};

/// Expands to the `ChatRepo` contract tests.
#[macro_export]
macro_rules! chat_repo_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            chat_repo,
            $make,
            [
                groups_are_created_found_and_listed_per_participant,
                the_direct_chat_of_a_pair_is_one_chat_in_either_order,
                concurrent_direct_chat_calls_create_exactly_one,
                rename_and_add_keep_participants_in_order,
                removing_the_owner_hands_the_group_to_the_earliest_participant,
                the_last_participant_leaving_deletes_the_group,
                read_markers_only_move_forward,
                a_moved_read_marker_is_pending_until_its_event_is_stamped,
                deleted_chats_are_gone_for_everyone,
            ]
        );
    };
}

fn group(owner: i64, participants: &[i64]) -> NewChat {
    NewChat {
        name: "Team".into(),
        owner_id: UserId(owner),
        participants: participants.iter().map(|p| UserId(*p)).collect(),
        created_at: at(0),
    }
}

pub async fn groups_are_created_found_and_listed_per_participant(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1, 2, 3])).await.unwrap();
    assert_eq!(chat.kind, ChatKind::Group);
    assert_eq!(chat.name, "Team");
    assert_eq!(chat.owner_id, UserId(1));
    assert_eq!(chat.participants, vec![UserId(1), UserId(2), UserId(3)]);
    assert_eq!(chat.created_at, at(0));
    assert_eq!(repo.get(chat.id).await.unwrap(), Some(chat.clone()));
    let other = repo.create_group(group(2, &[2, 4])).await.unwrap();
    assert_ne!(other.id, chat.id);
    let mut of_two: Vec<ChatId> = repo
        .list_for_user(UserId(2))
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    of_two.sort();
    assert_eq!(of_two, vec![chat.id, other.id]);
    assert_eq!(repo.list_for_user(UserId(9)).await.unwrap(), vec![]);
    assert_eq!(repo.get(ChatId(other.id.0 + 100)).await.unwrap(), None);
}

pub async fn the_direct_chat_of_a_pair_is_one_chat_in_either_order(repo: &dyn ChatRepo) {
    let (chat, created) = repo.direct_chat(UserId(1), UserId(2), at(1)).await.unwrap();
    assert!(created);
    assert_eq!(chat.kind, ChatKind::Direct);
    assert_eq!(chat.owner_id, UserId(1));
    let (again, created_again) = repo.direct_chat(UserId(2), UserId(1), at(2)).await.unwrap();
    assert!(!created_again);
    assert_eq!(again.id, chat.id);
    let (other, _) = repo.direct_chat(UserId(1), UserId(3), at(3)).await.unwrap();
    assert_ne!(other.id, chat.id);
}

pub async fn concurrent_direct_chat_calls_create_exactly_one(repo: &dyn ChatRepo) {
    let (a, b) = super::join2(
        repo.direct_chat(UserId(5), UserId(6), at(1)),
        repo.direct_chat(UserId(6), UserId(5), at(1)),
    )
    .await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.0.id, b.0.id);
    assert!(a.1 ^ b.1, "exactly one call created the chat");
}

pub async fn rename_and_add_keep_participants_in_order(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1, 2])).await.unwrap();
    let renamed = repo.rename(chat.id, "Renamed").await.unwrap().unwrap();
    assert_eq!(renamed.name, "Renamed");
    let added = repo
        .add_participant(chat.id, UserId(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(added.participants, vec![UserId(1), UserId(2), UserId(7)]);
    let again = repo
        .add_participant(chat.id, UserId(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.participants, added.participants,
        "adding twice changes nothing"
    );
    assert_eq!(repo.list_for_user(UserId(7)).await.unwrap().len(), 1);
    assert_eq!(
        repo.rename(ChatId(chat.id.0 + 100), "x").await.unwrap(),
        None
    );
}

pub async fn removing_the_owner_hands_the_group_to_the_earliest_participant(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(3, &[2, 3, 5])).await.unwrap();
    let removed = repo.remove_participant(chat.id, UserId(3)).await.unwrap();
    let Removal::Removed(after) = removed else {
        panic!("expected Removed, got {removed:?}")
    };
    assert_eq!(after.owner_id, UserId(2));
    assert_eq!(after.participants, vec![UserId(2), UserId(5)]);
    assert!(repo.list_for_user(UserId(3)).await.unwrap().is_empty());
    assert_eq!(
        repo.remove_participant(chat.id, UserId(3)).await.unwrap(),
        Removal::NotParticipant
    );
    let Removal::Removed(after) = repo.remove_participant(chat.id, UserId(5)).await.unwrap() else {
        panic!("expected Removed")
    };
    assert_eq!(
        after.owner_id,
        UserId(2),
        "removing a non-owner keeps the owner"
    );
}

pub async fn the_last_participant_leaving_deletes_the_group(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1])).await.unwrap();
    assert_eq!(
        repo.remove_participant(chat.id, UserId(1)).await.unwrap(),
        Removal::ChatDeleted
    );
    assert_eq!(repo.get(chat.id).await.unwrap(), None);
}

pub async fn read_markers_only_move_forward(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1, 2])).await.unwrap();
    assert_eq!(repo.read_marker(chat.id, UserId(1)).await.unwrap(), None);
    assert!(repo
        .advance_read_marker(chat.id, UserId(1), MessageId(10))
        .await
        .unwrap());
    assert!(!repo
        .advance_read_marker(chat.id, UserId(1), MessageId(5))
        .await
        .unwrap());
    assert!(!repo
        .advance_read_marker(chat.id, UserId(1), MessageId(10))
        .await
        .unwrap());
    assert_eq!(
        repo.read_marker(chat.id, UserId(1)).await.unwrap(),
        Some(MessageId(10))
    );
    assert_eq!(repo.read_marker(chat.id, UserId(2)).await.unwrap(), None);
}

pub async fn a_moved_read_marker_is_pending_until_its_event_is_stamped(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1, 2, 3])).await.unwrap();
    let id = chat.id;
    let markers = |after: i64| async move {
        repo.read_markers_after(id, EventSeq(after))
            .await
            .unwrap()
            .iter()
            .map(|m| (m.user_id.0, m.message_id.0, m.position.map(|p| p.0)))
            .collect::<Vec<_>>()
    };
    assert!(markers(0).await.is_empty());
    assert!(repo
        .advance_read_marker(chat.id, UserId(1), MessageId(10))
        .await
        .unwrap());
    assert_eq!(
        markers(1_000).await,
        vec![(1, 10, None)],
        "pending: always listed"
    );
    repo.stamp_read_marker(chat.id, UserId(1), MessageId(10), EventSeq(20))
        .await
        .unwrap();
    assert_eq!(markers(19).await, vec![(1, 10, Some(20))]);
    assert!(
        markers(20).await.is_empty(),
        "stamped at or before the cursor: seen"
    );

    // A stamp for a marker that has moved on since is ignored.
    assert!(repo
        .advance_read_marker(chat.id, UserId(2), MessageId(11))
        .await
        .unwrap());
    assert!(repo
        .advance_read_marker(chat.id, UserId(2), MessageId(12))
        .await
        .unwrap());
    repo.stamp_read_marker(chat.id, UserId(2), MessageId(11), EventSeq(21))
        .await
        .unwrap();
    assert_eq!(markers(20).await, vec![(2, 12, None)]);
    repo.stamp_read_marker(chat.id, UserId(2), MessageId(12), EventSeq(22))
        .await
        .unwrap();
    assert_eq!(markers(0).await, vec![(1, 10, Some(20)), (2, 12, Some(22))]);
    // Moving again makes it pending again.
    assert!(repo
        .advance_read_marker(chat.id, UserId(1), MessageId(13))
        .await
        .unwrap());
    assert_eq!(markers(22).await, vec![(1, 13, None)]);
}

pub async fn deleted_chats_are_gone_for_everyone(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1, 2])).await.unwrap();
    assert!(repo.delete(chat.id).await.unwrap());
    assert!(!repo.delete(chat.id).await.unwrap());
    assert_eq!(repo.get(chat.id).await.unwrap(), None);
    assert!(repo.list_for_user(UserId(2)).await.unwrap().is_empty());
    let (direct, _) = repo.direct_chat(UserId(1), UserId(2), at(0)).await.unwrap();
    assert!(repo.delete(direct.id).await.unwrap());
    let (fresh, created) = repo.direct_chat(UserId(2), UserId(1), at(1)).await.unwrap();
    assert!(
        created,
        "a deleted direct chat is made anew on the next message"
    );
    assert_ne!(fresh.id, direct.id);
}

pub async fn membership_follows_every_change(repo: &dyn ChatRepo) {
    let chat = repo.create_group(group(1, &[1, 2])).await.unwrap();
    assert!(repo.is_participant(chat.id, UserId(2)).await.unwrap());
    assert!(!repo.is_participant(chat.id, UserId(3)).await.unwrap());
    repo.add_participant(chat.id, UserId(3)).await.unwrap();
    assert!(repo.is_participant(chat.id, UserId(3)).await.unwrap());
    repo.remove_participant(chat.id, UserId(2)).await.unwrap();
    assert!(!repo.is_participant(chat.id, UserId(2)).await.unwrap());
    let (direct, _) = repo.direct_chat(UserId(4), UserId(5), at(0)).await.unwrap();
    assert!(repo.is_participant(direct.id, UserId(5)).await.unwrap());
    assert!(!repo.is_participant(direct.id, UserId(1)).await.unwrap());
    repo.delete(chat.id).await.unwrap();
    assert!(!repo.is_participant(chat.id, UserId(1)).await.unwrap());
    assert!(!repo
        .is_participant(ChatId(chat.id.0 + 1000), UserId(1))
        .await
        .unwrap());
}
