use super::*;

use crate::ports::{
    MockChatLog, MockChatRepo, MockClock, MockCommitNotifier, MockLaneLog, MockMessageStore,
    MockPasswordHasher, MockPersistQueue, MockPresence, MockTokenCodec, MockTokenRevocations,
    MockUserFeed, MockUserRepo, SocketKey, TokenRejection,
};
use crate::{
    Appended, Chat, ChatEvent, ChatEventKind, ChatId, ChatKind, ClientIdMatch, CommitNotice,
    CommitOutcome, ConnId, CoreError, EventDraft, EventSeq, FeedEvent, Message, MessageId, NewChat,
    NewUser, NodeId, Origin, Removal, Session, StoreError, Timestamp, TokenId, User,
    UserCredentials, UserId,
};
use mockall::Sequence;
use std::sync::Arc;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const ALICE: UserId = UserId(1);
const BOB: UserId = UserId(2);
const CAROL: UserId = UserId(3);
const CHAT: ChatId = ChatId(7);
const OTHER_CHAT: ChatId = ChatId(8);

fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_795_000_000_123)
}

fn user(id: UserId, username: &str) -> User {
    User {
        id,
        username: username.to_owned(),
        phone: format!("+1555000{:04}", id.0),
        created_at: now(),
    }
}

fn group(id: ChatId, owner: UserId, participants: &[UserId]) -> Chat {
    Chat {
        id,
        name: "Team".to_owned(),
        kind: ChatKind::Group,
        owner_id: owner,
        participants: participants.to_vec(),
        created_at: now(),
    }
}

fn direct(id: ChatId, a: UserId, b: UserId) -> Chat {
    Chat {
        id,
        name: String::new(),
        kind: ChatKind::Direct,
        owner_id: a,
        participants: vec![a, b],
        created_at: now(),
    }
}

fn message(id: i64, chat: ChatId, author: UserId) -> Message {
    Message {
        id: MessageId(id),
        chat_id: chat,
        author_id: author,
        text: "hello".to_owned(),
        created_at: now(),
        edited_at: None,
    }
}

fn session(user: UserId) -> Session {
    Session {
        user_id: user,
        token_id: TokenId("tok-1".to_owned()),
        expires_at: Timestamp::from_unix_millis(now().unix_millis() + 3_600_000),
    }
}

fn origin() -> Origin {
    Origin {
        node: NodeId("node-a".to_owned()),
        conn: ConnId(11),
    }
}

fn unavailable() -> StoreError {
    StoreError::unavailable_msg("backend down")
}

/// One mock per port. A mock left without expectations fails the test on any call.
struct Mocks {
    users: MockUserRepo,
    chats: MockChatRepo,
    messages: MockMessageStore,
    log: MockChatLog,
    lanes: MockLaneLog,
    persist_queue: MockPersistQueue,
    feed: MockUserFeed,
    presence: MockPresence,
    hasher: MockPasswordHasher,
    tokens: MockTokenCodec,
    revocations: MockTokenRevocations,
    clock: MockClock,
}

impl Mocks {
    /// Every port strict, the clock included.
    fn bare() -> Self {
        Mocks {
            users: MockUserRepo::new(),
            chats: MockChatRepo::new(),
            messages: MockMessageStore::new(),
            log: MockChatLog::new(),
            lanes: MockLaneLog::new(),
            persist_queue: MockPersistQueue::new(),
            feed: MockUserFeed::new(),
            presence: MockPresence::new(),
            hasher: MockPasswordHasher::new(),
            tokens: MockTokenCodec::new(),
            revocations: MockTokenRevocations::new(),
            clock: MockClock::new(),
        }
    }

    /// Every port strict except the clock, which always answers [`now`].
    fn new() -> Self {
        let mut m = Self::bare();
        m.clock.expect_now().return_const(now());
        m
    }

    fn ports(self) -> Ports {
        Ports {
            users: Arc::new(self.users),
            chats: Arc::new(self.chats),
            messages: Arc::new(self.messages),
            log: Arc::new(self.log),
            lanes: Arc::new(self.lanes),
            persist_queue: Arc::new(self.persist_queue),
            feed: Arc::new(self.feed),
            presence: Arc::new(self.presence),
            hasher: Arc::new(self.hasher),
            tokens: Arc::new(self.tokens),
            revocations: Arc::new(self.revocations),
            clock: Arc::new(self.clock),
        }
    }

    fn auth(self) -> AuthService {
        AuthService::new(&self.ports(), AuthSettings::default())
    }

    fn chat_service(self) -> ChatService {
        ChatService::new(&self.ports())
    }

    fn message_service(self) -> MessageService {
        MessageService::new(&self.ports())
    }

    /// `ChatRepo::get(chat.id)` answers `chat`, and `is_participant` its participants (any
    /// number of times).
    fn with_chat(&mut self, chat: Chat) {
        let id = chat.id;
        let members = chat.participants.clone();
        self.chats
            .expect_is_participant()
            .withf(move |asked, _| *asked == id)
            .returning(move |_, user| Ok(members.contains(&user)));
        self.chats
            .expect_get()
            .withf(move |asked| *asked == id)
            .returning(move |_| Ok(Some(chat.clone())));
    }

    /// `MessageStore::get(msg.id)` answers `msg` (any number of times).
    fn with_message(&mut self, msg: Message) {
        let id = msg.id;
        self.messages
            .expect_get()
            .withf(move |asked| *asked == id)
            .returning(move |_| Ok(Some(msg.clone())));
    }

    /// What `ChatService::view` reads for a group: no messages, no marker.
    fn allow_group_view(&mut self) {
        self.messages
            .expect_last_messages()
            .returning(|_| Ok(Vec::new()));
        self.chats.expect_read_marker().returning(|_, _| Ok(None));
        self.messages
            .expect_count_unread()
            .returning(|_, _, _, _| Ok(0));
    }
}

fn token_ttl_millis() -> i64 {
    AuthSettings::default().token_ttl_secs * 1000
}

// ---------------------------------------------------------------------------------------------
// AuthService
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn register_normalises_phone_and_hashes_password() {
    let mut m = Mocks::new();
    m.users
        .expect_by_username()
        .withf(|name: &str| name == "alice")
        .times(1)
        .returning(|_| Ok(None));
    m.users
        .expect_credentials_by_phone()
        .withf(|phone: &str| phone == "+15550001234")
        .times(1)
        .returning(|_| Ok(None));
    m.hasher
        .expect_hash()
        .withf(|pw: &str| pw == "correct horse")
        .times(1)
        .returning(|_| Ok("$argon2id$fixed".to_owned()));
    m.users.expect_create().times(1).returning(|new: NewUser| {
        assert_eq!(
            new,
            NewUser {
                username: "alice".to_owned(),
                phone: "+15550001234".to_owned(),
                password_hash: "$argon2id$fixed".to_owned(),
                created_at: now(),
            }
        );
        Ok(User {
            id: ALICE,
            username: new.username,
            phone: new.phone,
            created_at: new.created_at,
        })
    });
    m.tokens
        .expect_issue()
        .withf(|id, expires| {
            *id == ALICE && expires.unix_millis() == now().unix_millis() + token_ttl_millis()
        })
        .times(1)
        .returning(|id, expires| {
            (
                "signed-token".to_owned(),
                Session {
                    user_id: id,
                    token_id: TokenId("t".to_owned()),
                    expires_at: expires,
                },
            )
        });

    let signed = m
        .auth()
        .register("+1 (555) 000-1234", "correct horse", "alice")
        .await
        .unwrap();
    assert_eq!(signed.token, "signed-token");
    assert_eq!(signed.user.id, ALICE);
    assert_eq!(signed.user.phone, "+15550001234");
}

#[tokio::test]
async fn register_refuses_taken_username_before_hashing() {
    let mut m = Mocks::new();
    m.users
        .expect_by_username()
        .times(1)
        .returning(|_| Ok(Some(user(BOB, "alice"))));
    // hasher, create and credentials_by_phone: no expectations, so any call fails the test.
    let err = m
        .auth()
        .register("+15550001234", "correct horse", "alice")
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::UsernameTaken);
}

#[tokio::test]
async fn register_refuses_taken_phone_before_hashing() {
    let mut m = Mocks::new();
    m.users.expect_by_username().returning(|_| Ok(None));
    m.users
        .expect_credentials_by_phone()
        .times(1)
        .returning(|_| {
            Ok(Some(UserCredentials {
                user: user(BOB, "bob"),
                password_hash: "h".to_owned(),
            }))
        });
    let err = m
        .auth()
        .register("+15550001234", "correct horse", "alice")
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::PhoneTaken);
}

#[tokio::test]
async fn register_validates_before_touching_any_port() {
    let cases = [
        ("5550001234", "correct horse", "alice", "phone"),
        ("+15550001234", "short", "alice", "password"),
        ("+15550001234", "correct horse", "a!", "username"),
    ];
    for (phone, password, username, field) in cases {
        let err = Mocks::bare()
            .auth()
            .register(phone, password, username)
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::InvalidInput { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
    }
}

#[tokio::test]
async fn register_race_lost_in_the_store_maps_to_taken() {
    let mut m = Mocks::new();
    m.users.expect_by_username().returning(|_| Ok(None));
    m.users
        .expect_credentials_by_phone()
        .returning(|_| Ok(None));
    m.hasher.expect_hash().returning(|_| Ok("h".to_owned()));
    m.users
        .expect_create()
        .times(1)
        .returning(|_| Err(StoreError::UsernameTaken));
    let err = m
        .auth()
        .register("+15550001234", "correct horse", "alice")
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::UsernameTaken);
}

#[tokio::test]
async fn login_unknown_phone_still_verifies_against_a_dummy_hash() {
    let mut m = Mocks::new();
    m.users
        .expect_credentials_by_phone()
        .withf(|phone: &str| phone == "+15550001234")
        .times(2)
        .returning(|_| Ok(None));
    // The dummy hash is made once and reused.
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok("$dummy$".to_owned()));
    m.hasher
        .expect_verify()
        .withf(|pw: &str, phc: &str| pw == "correct horse" && phc == "$dummy$")
        .times(2)
        .returning(|_, _| Ok(false));
    // tokens: no expectations, nobody is signed in.
    let auth = m.auth();
    for _ in 0..2 {
        let err = auth
            .login("+1 555 000 1234", "correct horse")
            .await
            .unwrap_err();
        assert_eq!(err, CoreError::InvalidCredentials);
    }
}

#[tokio::test]
async fn login_wrong_password_is_invalid_credentials() {
    let mut m = Mocks::new();
    m.users.expect_credentials_by_phone().returning(|_| {
        Ok(Some(UserCredentials {
            user: user(ALICE, "alice"),
            password_hash: "$stored$".to_owned(),
        }))
    });
    m.hasher
        .expect_verify()
        .withf(|pw: &str, phc: &str| pw == "wrong password" && phc == "$stored$")
        .times(1)
        .returning(|_, _| Ok(false));
    let err = m
        .auth()
        .login("+15550001234", "wrong password")
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::InvalidCredentials);
}

#[tokio::test]
async fn login_with_right_password_issues_a_token() {
    let mut m = Mocks::new();
    m.users.expect_credentials_by_phone().returning(|_| {
        Ok(Some(UserCredentials {
            user: user(ALICE, "alice"),
            password_hash: "$stored$".to_owned(),
        }))
    });
    m.hasher.expect_verify().times(1).returning(|_, _| Ok(true));
    m.tokens
        .expect_issue()
        .withf(|id, _| *id == ALICE)
        .times(1)
        .returning(|id, _| ("tok".to_owned(), session(id)));
    let signed = m
        .auth()
        .login("+15550001234", "correct horse")
        .await
        .unwrap();
    assert_eq!(signed.token, "tok");
    assert_eq!(signed.user, user(ALICE, "alice"));
}

#[tokio::test]
async fn login_with_malformed_phone_is_invalid_credentials_and_costs_a_hash_check() {
    let mut m = Mocks::bare();
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok("dummy-phc".to_owned()));
    m.hasher
        .expect_verify()
        .withf(|pw: &str, phc: &str| pw == "correct horse" && phc == "dummy-phc")
        .times(1)
        .returning(|_, _| Ok(false));
    let err = m
        .auth()
        .login("not a phone", "correct horse")
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::InvalidCredentials);
}

#[tokio::test]
async fn authenticate_maps_token_rejections_to_unauthorized() {
    for rejection in [TokenRejection::Expired, TokenRejection::Invalid] {
        let mut m = Mocks::new();
        m.tokens
            .expect_decode()
            .withf(|token: &str, at| token == "tok" && *at == now())
            .times(1)
            .returning(move |_, _| Err(rejection));
        // revocations: not consulted for a token that does not decode.
        let err = m.auth().authenticate("tok").await.unwrap_err();
        assert!(
            matches!(err, CoreError::Unauthorized(_)),
            "{rejection:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn authenticate_refuses_a_revoked_token() {
    let mut m = Mocks::new();
    m.tokens
        .expect_decode()
        .returning(|_, _| Ok(session(ALICE)));
    m.revocations
        .expect_is_revoked()
        .withf(|id| id.0 == "tok-1")
        .times(1)
        .returning(|_| Ok(true));
    let err = m.auth().authenticate("tok").await.unwrap_err();
    assert!(matches!(err, CoreError::Unauthorized(_)), "{err:?}");
}

#[tokio::test]
async fn authenticate_accepts_a_live_token() {
    let mut m = Mocks::new();
    m.tokens
        .expect_decode()
        .returning(|_, _| Ok(session(ALICE)));
    m.revocations
        .expect_is_revoked()
        .times(1)
        .returning(|_| Ok(false));
    assert_eq!(m.auth().authenticate("tok").await.unwrap(), session(ALICE));
}

#[tokio::test]
async fn logout_revokes_and_notifies_only_that_user() {
    let mut m = Mocks::new();
    let s = session(ALICE);
    let mut seq = Sequence::new();
    let expires = s.expires_at;
    m.revocations
        .expect_revoke()
        .withf(move |id, at| id.0 == "tok-1" && *at == expires)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    m.feed
        .expect_publish()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|users: &[UserId], event: FeedEvent| {
            assert_eq!(users, &[ALICE]);
            assert_eq!(
                event,
                FeedEvent::TokenRevoked {
                    token_id: TokenId("tok-1".to_owned())
                }
            );
            Ok(())
        });
    m.auth().logout(&s).await.unwrap();
}

#[tokio::test]
async fn store_unavailable_surfaces_as_unavailable() {
    // login
    let mut m = Mocks::new();
    m.users
        .expect_credentials_by_phone()
        .returning(|_| Err(unavailable()));
    let err = m
        .auth()
        .login("+15550001234", "correct horse")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unavailable");
    assert!(
        crate::error::Chain(&err)
            .to_string()
            .ends_with("backend down"),
        "the cause is kept: {err:?}"
    );

    // register
    let mut m = Mocks::new();
    m.users
        .expect_by_username()
        .returning(|_| Err(unavailable()));
    let err = m
        .auth()
        .register("+15550001234", "correct horse", "alice")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unavailable");

    // authenticate
    let mut m = Mocks::new();
    m.tokens
        .expect_decode()
        .returning(|_, _| Ok(session(ALICE)));
    m.revocations
        .expect_is_revoked()
        .returning(|_| Err(unavailable()));
    let err = m.auth().authenticate("tok").await.unwrap_err();
    assert!(matches!(err, CoreError::Unavailable(_)), "{err:?}");

    // logout: the revocation fails, so nothing is published
    let mut m = Mocks::new();
    m.revocations
        .expect_revoke()
        .returning(|_, _| Err(unavailable()));
    let err = m.auth().logout(&session(ALICE)).await.unwrap_err();
    assert!(matches!(err, CoreError::Unavailable(_)), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// UserService / PresenceService
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn user_search_refuses_a_blank_query_and_marks_online_users() {
    let err = UserService::new(&Mocks::bare().ports())
        .search(ALICE, "   ", 20)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidInput { field: "q", .. }));

    let mut m = Mocks::new();
    m.users
        .expect_search()
        .withf(|prefix: &str, phone, exclude, limit| {
            prefix == "bo" && phone.is_none() && *exclude == ALICE && *limit == 5
        })
        .times(1)
        .returning(|_, _, _, _| Ok(vec![user(BOB, "bob"), user(CAROL, "bobby")]));
    m.presence
        .expect_online_among()
        .returning(|_| Ok(vec![CAROL]));
    let found = UserService::new(&m.ports())
        .search(ALICE, " bo ", 5)
        .await
        .unwrap();
    let online: Vec<(UserId, bool)> = found.iter().map(|v| (v.user.id, v.online)).collect();
    assert_eq!(online, vec![(BOB, false), (CAROL, true)]);
}

#[tokio::test]
async fn presence_announces_only_when_the_online_set_changed() {
    let socket = SocketKey {
        node: NodeId("node-a".to_owned()),
        conn: ConnId(1),
        user: ALICE,
        chat: Some(CHAT),
    };
    let mut m = Mocks::new();
    m.presence.expect_socket_opened().returning(|_| Ok(true));
    m.presence.expect_socket_closed().returning(|_| Ok(false));
    m.log
        .expect_append()
        .withf(|chat, draft| {
            *chat == CHAT
                && *draft
                    == EventDraft {
                        origin: None,
                        kind: ChatEventKind::PresenceChanged,
                    }
        })
        .times(1)
        .returning(|chat, draft| Ok(Appended::New(draft.into_event(chat, EventSeq(5)))));
    let presence = PresenceService::new(&m.ports());
    presence.opened(&socket).await.unwrap();
    presence.closed(&socket).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// ChatService
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_group_with_unknown_participant_creates_nothing() {
    let mut m = Mocks::new();
    m.users
        .expect_by_ids()
        .times(1)
        .returning(|_| Ok(vec![user(ALICE, "alice"), user(BOB, "bob")]));
    // chats.create_group and feed.publish: no expectations.
    let err = m
        .chat_service()
        .create_group(ALICE, "Team", &[BOB, UserId(99)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InvalidInput {
                field: "participants",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn create_group_adds_caller_sorts_dedups_and_announces_to_everyone() {
    let caller = UserId(5);
    let members = vec![CAROL, caller, UserId(9)];
    let mut m = Mocks::new();
    let expected = members.clone();
    m.users
        .expect_by_ids()
        .withf(move |ids: &[UserId]| ids == expected.as_slice())
        .times(1)
        .returning(|ids: &[UserId]| Ok(ids.iter().map(|id| user(*id, "u")).collect()));
    let expected = members.clone();
    m.chats
        .expect_create_group()
        .times(1)
        .returning(move |new: NewChat| {
            assert_eq!(
                new,
                NewChat {
                    name: "Team".to_owned(),
                    owner_id: caller,
                    participants: expected.clone(),
                    created_at: now(),
                }
            );
            Ok(Chat {
                id: CHAT,
                name: new.name,
                kind: ChatKind::Group,
                owner_id: new.owner_id,
                participants: new.participants,
                created_at: new.created_at,
            })
        });
    let expected = members.clone();
    m.feed
        .expect_publish()
        .times(1)
        .returning(move |users: &[UserId], event: FeedEvent| {
            assert_eq!(users, expected.as_slice());
            assert_eq!(
                event,
                FeedEvent::ChatCreated {
                    chat_id: CHAT,
                    from: EventSeq(0)
                }
            );
            Ok(())
        });
    m.allow_group_view();

    let view = m
        .chat_service()
        .create_group(caller, "Team", &[UserId(9), CAROL, UserId(9), caller])
        .await
        .unwrap();
    assert_eq!(view.chat.participants, members);
    assert_eq!(view.chat.owner_id, caller);
    assert_eq!(view.display_name, "Team");
    assert_eq!(view.unread_count, 0);
}

#[tokio::test]
async fn get_of_a_chat_the_caller_is_not_in_is_not_found() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.chats
        .expect_get()
        .withf(|id| *id == OTHER_CHAT)
        .returning(|_| Ok(None));
    let chats = m.chat_service();
    assert_eq!(
        chats.get(CAROL, CHAT).await.unwrap_err(),
        CoreError::NotFound("chat")
    );
    // Indistinguishable from a chat that does not exist.
    assert_eq!(
        chats.get(CAROL, OTHER_CHAT).await.unwrap_err(),
        CoreError::NotFound("chat")
    );
}

#[tokio::test]
async fn rename_of_a_direct_chat_is_invalid_input() {
    let mut m = Mocks::new();
    m.with_chat(direct(CHAT, ALICE, BOB));
    // chats.rename: no expectation.
    let err = m
        .chat_service()
        .rename(BOB, CHAT, "New name")
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidInput { .. }), "{err:?}");
}

#[tokio::test]
async fn rename_of_a_group_by_any_participant_announces_the_update() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.chats
        .expect_rename()
        .withf(|id, name: &str| *id == CHAT && name == "Renamed")
        .times(1)
        .returning(|_, name: &str| {
            let mut chat = group(CHAT, ALICE, &[ALICE, BOB]);
            chat.name = name.to_owned();
            Ok(Some(chat))
        });
    m.feed
        .expect_publish()
        .withf(|users: &[UserId], event| {
            users == [ALICE, BOB] && *event == FeedEvent::ChatUpdated { chat_id: CHAT }
        })
        .times(1)
        .returning(|_, _| Ok(()));
    m.allow_group_view();
    let view = m.chat_service().rename(BOB, CHAT, "Renamed").await.unwrap();
    assert_eq!(view.display_name, "Renamed");
}

#[tokio::test]
async fn delete_of_a_group_by_a_non_owner_is_forbidden() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    // chats.delete, messages.delete_chat, log.drop_chat, feed.publish: no expectations.
    let err = m.chat_service().delete(BOB, CHAT).await.unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn delete_of_a_direct_chat_by_either_side_removes_everything() {
    let mut m = Mocks::new();
    m.with_chat(direct(CHAT, ALICE, BOB));
    m.chats
        .expect_delete()
        .withf(|id| *id == CHAT)
        .times(1)
        .returning(|_| Ok(true));
    m.messages
        .expect_delete_chat()
        .withf(|id| *id == CHAT)
        .times(1)
        .returning(|_| Ok(()));
    m.log
        .expect_drop_chat()
        .withf(|id| *id == CHAT)
        .times(1)
        .returning(|_| Ok(()));
    m.feed
        .expect_publish()
        .withf(|users: &[UserId], event| {
            users == [ALICE, BOB] && *event == FeedEvent::ChatDeleted { chat_id: CHAT }
        })
        .times(1)
        .returning(|_, _| Ok(()));
    m.chat_service().delete(BOB, CHAT).await.unwrap();
}

#[tokio::test]
async fn remove_participant_by_a_non_owner_of_someone_else_is_forbidden() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB, CAROL]));
    // chats.remove_participant: no expectation.
    let err = m
        .chat_service()
        .remove_participant(BOB, CHAT, CAROL)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn leaving_a_group_tells_the_leaver_and_updates_the_rest() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB, CAROL]));
    m.chats
        .expect_remove_participant()
        .withf(|id, user| *id == CHAT && *user == BOB)
        .times(1)
        .returning(|_, _| Ok(Removal::Removed(group(CHAT, ALICE, &[ALICE, CAROL]))));
    m.feed
        .expect_publish()
        .withf(|users: &[UserId], event| {
            users == [BOB] && *event == FeedEvent::ChatDeleted { chat_id: CHAT }
        })
        .times(1)
        .returning(|_, _| Ok(()));
    m.feed
        .expect_publish()
        .withf(|users: &[UserId], event| {
            users == [ALICE, CAROL] && *event == FeedEvent::ChatUpdated { chat_id: CHAT }
        })
        .times(1)
        .returning(|_, _| Ok(()));
    m.chat_service()
        .remove_participant(BOB, CHAT, BOB)
        .await
        .unwrap();
}

#[tokio::test]
async fn participants_of_a_direct_chat_are_fixed() {
    let mut m = Mocks::new();
    m.with_chat(direct(CHAT, ALICE, BOB));
    // users.by_id, chats.add_participant, chats.remove_participant: no expectations.
    let chats = m.chat_service();
    let err = chats.add_participant(ALICE, CHAT, CAROL).await.unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InvalidInput {
                field: "user_id",
                ..
            }
        ),
        "{err:?}"
    );
    let err = chats
        .remove_participant(ALICE, CHAT, BOB)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidInput { .. }), "{err:?}");
}

#[tokio::test]
async fn add_unknown_user_to_a_group_is_invalid_user_id() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.users.expect_by_id().times(1).returning(|_| Ok(None));
    let err = m
        .chat_service()
        .add_participant(BOB, CHAT, UserId(99))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InvalidInput {
                field: "user_id",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn add_participant_gives_the_newcomer_chat_created_from_the_head() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.users
        .expect_by_id()
        .withf(|id| *id == CAROL)
        .returning(|_| Ok(Some(user(CAROL, "carol"))));
    m.log
        .expect_head()
        .withf(|id| *id == CHAT)
        .times(1)
        .returning(|_| Ok(EventSeq(40)));
    m.chats
        .expect_add_participant()
        .withf(|id, user| *id == CHAT && *user == CAROL)
        .times(1)
        .returning(|_, _| Ok(Some(group(CHAT, ALICE, &[ALICE, BOB, CAROL]))));
    m.feed
        .expect_publish()
        .withf(|users: &[UserId], event| {
            users == [CAROL]
                && *event
                    == FeedEvent::ChatCreated {
                        chat_id: CHAT,
                        from: EventSeq(40),
                    }
        })
        .times(1)
        .returning(|_, _| Ok(()));
    m.feed
        .expect_publish()
        .withf(|users: &[UserId], event| {
            users == [ALICE, BOB] && *event == FeedEvent::ChatUpdated { chat_id: CHAT }
        })
        .times(1)
        .returning(|_, _| Ok(()));
    m.allow_group_view();
    let view = m
        .chat_service()
        .add_participant(BOB, CHAT, CAROL)
        .await
        .unwrap();
    assert_eq!(view.chat.participants, vec![ALICE, BOB, CAROL]);
}

#[tokio::test]
async fn mark_read_of_a_message_of_another_chat_is_not_found() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.with_message(message(42, OTHER_CHAT, ALICE));
    // chats.advance_read_marker and log.append: no expectations.
    let err = m
        .chat_service()
        .mark_read(BOB, CHAT, MessageId(42))
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::NotFound("message"));
}

#[tokio::test]
async fn mark_read_that_moves_the_marker_appends_a_read_event() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.with_message(message(42, CHAT, ALICE));
    m.chats
        .expect_advance_read_marker()
        .withf(|chat, user, msg| *chat == CHAT && *user == BOB && *msg == MessageId(42))
        .times(1)
        .returning(|_, _, _| Ok(true));
    m.log
        .expect_append()
        .withf(|chat, draft| {
            *chat == CHAT
                && *draft
                    == EventDraft {
                        origin: None,
                        kind: ChatEventKind::Read {
                            user_id: BOB,
                            message_id: MessageId(42),
                        },
                    }
        })
        .times(1)
        .returning(|chat, draft| Ok(Appended::New(draft.into_event(chat, EventSeq(43)))));
    // The marker learns its event's position only after the append, so catch-up cannot miss it.
    m.chats
        .expect_stamp_read_marker()
        .withf(|chat, user, msg, position| {
            *chat == CHAT && *user == BOB && *msg == MessageId(42) && *position == EventSeq(43)
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    m.chat_service()
        .mark_read(BOB, CHAT, MessageId(42))
        .await
        .unwrap();
}

#[tokio::test]
async fn mark_read_that_does_not_move_the_marker_appends_nothing() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.with_message(message(42, CHAT, ALICE));
    m.chats
        .expect_advance_read_marker()
        .times(1)
        .returning(|_, _, _| Ok(false));
    // log.append: no expectation.
    m.chat_service()
        .mark_read(BOB, CHAT, MessageId(42))
        .await
        .unwrap();
}

#[tokio::test]
async fn direct_chat_to_yourself_is_invalid_input() {
    let err = Mocks::bare()
        .chat_service()
        .direct_chat(ALICE, ALICE)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::InvalidInput { .. }), "{err:?}");
}

#[tokio::test]
async fn direct_chat_to_an_unknown_user_is_not_found() {
    let mut m = Mocks::new();
    m.users
        .expect_by_id()
        .withf(|id| *id == UserId(99))
        .times(1)
        .returning(|_| Ok(None));
    // chats.direct_chat: no expectation.
    let err = m
        .chat_service()
        .direct_chat(ALICE, UserId(99))
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::NotFound("user"));
}

#[tokio::test]
async fn direct_chat_announces_only_when_the_repo_created_it() {
    for created in [true, false] {
        let mut m = Mocks::new();
        m.users
            .expect_by_id()
            .returning(|_| Ok(Some(user(BOB, "bob"))));
        m.chats
            .expect_direct_chat()
            .withf(|a, b, at| *a == ALICE && *b == BOB && *at == now())
            .times(1)
            .returning(move |_, _, _| Ok((direct(CHAT, ALICE, BOB), created)));
        if created {
            m.feed
                .expect_publish()
                .withf(|users: &[UserId], event| {
                    users == [ALICE, BOB]
                        && *event
                            == FeedEvent::ChatCreated {
                                chat_id: CHAT,
                                from: EventSeq(0),
                            }
                })
                .times(1)
                .returning(|_, _| Ok(()));
        }
        let (chat, was_created) = m.chat_service().direct_chat(ALICE, BOB).await.unwrap();
        assert_eq!(chat.id, CHAT);
        assert_eq!(was_created, created);
    }
}

// ---------------------------------------------------------------------------------------------
// MessageService
// ---------------------------------------------------------------------------------------------

fn create(text: &str) -> Change {
    Change::Create {
        text: text.to_owned(),
    }
}

#[tokio::test]
async fn submit_blank_text_is_refused_before_any_port_is_touched() {
    let err = Mocks::bare()
        .message_service()
        .submit(ALICE, CHAT, None, Some("c1".to_owned()), create(" \n\t "))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::InvalidInput { field: "text", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn submit_with_an_overlong_client_id_is_refused_before_any_port_is_touched() {
    let err = Mocks::bare()
        .message_service()
        .submit(ALICE, CHAT, None, Some("c".repeat(65)), create("hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InvalidInput {
                field: "client_id",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn submit_by_a_non_participant_is_not_found() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    // messages.by_client_id and log.append: no expectations.
    let err = m
        .message_service()
        .submit(CAROL, CHAT, None, Some("c1".to_owned()), create("hi"))
        .await
        .unwrap_err();
    assert_eq!(err, CoreError::NotFound("chat"));
}

#[tokio::test]
async fn update_of_someone_elses_message_is_forbidden() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.with_message(message(42, CHAT, ALICE));
    let services = m.message_service();
    let err = services
        .submit(
            BOB,
            CHAT,
            None,
            Some("c1".to_owned()),
            Change::Update {
                message_id: MessageId(42),
                text: "edited".to_owned(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
    let err = services
        .submit(
            BOB,
            CHAT,
            None,
            Some("c2".to_owned()),
            Change::Delete {
                message_id: MessageId(42),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn update_or_delete_of_a_message_of_another_chat_is_not_found() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    // Alice's own message, but in another chat.
    m.with_message(message(42, OTHER_CHAT, ALICE));
    let services = m.message_service();
    let changes = [
        Change::Update {
            message_id: MessageId(42),
            text: "edited".to_owned(),
        },
        Change::Delete {
            message_id: MessageId(42),
        },
    ];
    for change in changes {
        let err = services
            .submit(ALICE, CHAT, None, Some("c1".to_owned()), change.clone())
            .await
            .unwrap_err();
        assert_eq!(err, CoreError::NotFound("message"), "{change:?}");
    }
}

#[tokio::test]
async fn repeated_client_id_of_a_committed_message_settles_without_appending() {
    let stored = message(42, CHAT, ALICE);
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    let found = stored.clone();
    m.messages
        .expect_by_client_id()
        .withf(|chat, author, cid: &str| *chat == CHAT && *author == ALICE && cid == "c1")
        .times(1)
        .returning(move |_, _, _| Ok(Some(ClientIdMatch::Live(found.clone()))));
    // log.append: no expectation.
    let got = m
        .message_service()
        .submit(
            ALICE,
            CHAT,
            Some(origin()),
            Some("c1".to_owned()),
            create("hello"),
        )
        .await
        .unwrap();
    assert_eq!(got, Submission::Settled(CommitOutcome::Committed(stored)));
}

#[tokio::test]
async fn repeated_client_id_of_a_deleted_message_settles_as_not_found() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.messages
        .expect_by_client_id()
        .times(1)
        .returning(|_, _, _| Ok(Some(ClientIdMatch::Deleted)));
    let got = m
        .message_service()
        .submit(ALICE, CHAT, None, Some("c1".to_owned()), create("hello"))
        .await
        .unwrap();
    assert_eq!(got, Submission::Settled(CommitOutcome::NotFound));
}

#[tokio::test]
async fn duplicate_in_the_stream_is_reported_as_in_flight() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.messages
        .expect_by_client_id()
        .returning(|_, _, _| Ok(None));
    m.log
        .expect_append()
        .times(1)
        .returning(|_, _| Ok(Appended::Duplicate(EventSeq(17))));
    let got = m
        .message_service()
        .submit(ALICE, CHAT, None, Some("c1".to_owned()), create("hello"))
        .await
        .unwrap();
    assert_eq!(got, Submission::DuplicateInFlight(EventSeq(17)));
}

#[tokio::test]
async fn new_message_is_queued_with_its_origin_and_client_id() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.messages
        .expect_by_client_id()
        .times(1)
        .returning(|_, _, _| Ok(None));
    m.log
        .expect_append()
        .times(1)
        .returning(|chat: ChatId, draft: EventDraft| {
            assert_eq!(chat, CHAT);
            assert_eq!(draft.origin, Some(origin()));
            match &draft.kind {
                ChatEventKind::MessageCreated { message, client_id } => {
                    assert_eq!(client_id.as_deref(), Some("c1"));
                    assert_eq!(message.chat_id, CHAT);
                    assert_eq!(message.author_id, ALICE);
                    assert_eq!(message.text, " hi there ");
                    assert_eq!(message.created_at, now());
                    assert_eq!(message.edited_at, None);
                }
                other => panic!("expected MessageCreated, got {other:?}"),
            }
            Ok(Appended::New(draft.into_event(chat, EventSeq(42))))
        });
    let got = m
        .message_service()
        .submit(
            ALICE,
            CHAT,
            Some(origin()),
            Some("c1".to_owned()),
            create(" hi there "),
        )
        .await
        .unwrap();
    assert_eq!(got, Submission::Queued(EventSeq(42)));
}

#[tokio::test]
async fn new_message_without_client_id_skips_the_lookup() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    // messages.by_client_id: no expectation.
    m.log
        .expect_append()
        .withf(|_, draft| draft.kind.client_id().is_none() && draft.origin.is_none())
        .times(1)
        .returning(|chat, draft| Ok(Appended::New(draft.into_event(chat, EventSeq(3)))));
    let got = m
        .message_service()
        .submit(ALICE, CHAT, None, None, create("hi"))
        .await
        .unwrap();
    assert_eq!(got, Submission::Queued(EventSeq(3)));
}

#[tokio::test]
async fn own_update_and_delete_are_queued_with_the_changed_message() {
    let mut m = Mocks::new();
    m.with_chat(group(CHAT, ALICE, &[ALICE, BOB]));
    m.with_message(message(42, CHAT, ALICE));
    let mut edited = message(42, CHAT, ALICE);
    edited.text = "edited".to_owned();
    edited.edited_at = Some(now());
    let expected = EventDraft {
        origin: Some(origin()),
        kind: ChatEventKind::MessageUpdated {
            message: edited,
            client_id: Some("c1".to_owned()),
        },
    };
    m.log
        .expect_append()
        .withf(move |chat, draft| *chat == CHAT && *draft == expected)
        .times(1)
        .returning(|chat, draft| Ok(Appended::New(draft.into_event(chat, EventSeq(50)))));
    let expected = EventDraft {
        origin: None,
        kind: ChatEventKind::MessageDeleted {
            message: message(42, CHAT, ALICE),
            client_id: Some("c2".to_owned()),
        },
    };
    m.log
        .expect_append()
        .withf(move |chat, draft| *chat == CHAT && *draft == expected)
        .times(1)
        .returning(|chat, draft| Ok(Appended::New(draft.into_event(chat, EventSeq(51)))));
    let services = m.message_service();
    let got = services
        .submit(
            ALICE,
            CHAT,
            Some(origin()),
            Some("c1".to_owned()),
            Change::Update {
                message_id: MessageId(42),
                text: "edited".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(got, Submission::Queued(EventSeq(50)));
    let got = services
        .submit(
            ALICE,
            CHAT,
            None,
            Some("c2".to_owned()),
            Change::Delete {
                message_id: MessageId(42),
            },
        )
        .await
        .unwrap();
    assert_eq!(got, Submission::Queued(EventSeq(51)));
}

// ---------------------------------------------------------------------------------------------
// Persister
// ---------------------------------------------------------------------------------------------

const BLOCK: Option<Duration> = Some(Duration::from_millis(250));

fn persister(m: Mocks, notifier: MockCommitNotifier) -> Persister {
    Persister::new(&m.ports(), Arc::new(notifier), "node-a", 10)
}

/// Two claimed events from two chats: a create with an origin and a `client_id`, and a delete
/// with neither.
fn claimed() -> Vec<ChatEvent> {
    vec![
        ChatEvent {
            seq: EventSeq(42),
            chat_id: CHAT,
            origin: Some(origin()),
            kind: ChatEventKind::MessageCreated {
                message: message(42, CHAT, ALICE),
                client_id: Some("c1".to_owned()),
            },
        },
        ChatEvent {
            seq: EventSeq(43),
            chat_id: OTHER_CHAT,
            origin: None,
            kind: ChatEventKind::MessageDeleted {
                message: message(30, OTHER_CHAT, BOB),
                client_id: None,
            },
        },
    ]
}

#[tokio::test]
async fn persister_applies_one_batch_acks_after_the_commit_and_notifies() {
    let mut m = Mocks::bare();
    let mut notifier = MockCommitNotifier::new();
    let mut seq = Sequence::new();
    m.persist_queue
        .expect_claim()
        .withf(|consumer: &str, max, block| consumer == "node-a" && *max == 10 && *block == BLOCK)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(claimed()));
    m.messages
        .expect_apply()
        .withf(|events: &[ChatEvent]| events == claimed().as_slice())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| {
            Ok(vec![
                CommitOutcome::Committed(message(42, CHAT, ALICE)),
                CommitOutcome::NotFound,
            ])
        });
    m.persist_queue
        .expect_ack()
        .withf(|consumer: &str, keys: &[(ChatId, EventSeq)]| {
            consumer == "node-a" && keys == [(CHAT, EventSeq(42)), (OTHER_CHAT, EventSeq(43))]
        })
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    notifier
        .expect_committed()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|notices: Vec<CommitNotice>| {
            assert_eq!(
                notices,
                vec![
                    CommitNotice {
                        chat_id: CHAT,
                        seq: EventSeq(42),
                        origin: Some(origin()),
                        client_id: Some("c1".to_owned()),
                        outcome: CommitOutcome::Committed(message(42, CHAT, ALICE)),
                    },
                    CommitNotice {
                        chat_id: OTHER_CHAT,
                        seq: EventSeq(43),
                        origin: None,
                        client_id: None,
                        outcome: CommitOutcome::NotFound,
                    },
                ]
            );
        });
    let n = persister(m, notifier).persist_batch(BLOCK).await.unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn persister_acks_and_notifies_nothing_when_the_commit_fails() {
    let mut m = Mocks::bare();
    m.persist_queue
        .expect_claim()
        .times(1)
        .returning(|_, _, _| Ok(claimed()));
    m.messages
        .expect_apply()
        .times(1)
        .returning(|_| Err(unavailable()));
    // persist_queue.ack and the notifier: no expectations.
    let err = persister(m, MockCommitNotifier::new())
        .persist_batch(None)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn persister_with_nothing_claimed_touches_nothing_else() {
    let mut m = Mocks::bare();
    m.persist_queue
        .expect_claim()
        .times(1)
        .returning(|_, _, _| Ok(Vec::new()));
    // messages.apply, persist_queue.ack and the notifier: no expectations.
    let n = persister(m, MockCommitNotifier::new())
        .persist_batch(BLOCK)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn persister_batch_size_is_at_least_one() {
    let mut m = Mocks::bare();
    m.persist_queue
        .expect_claim()
        .withf(|_, max, _| *max == 1)
        .times(1)
        .returning(|_, _, _| Ok(Vec::new()));
    let p = Persister::new(&m.ports(), Arc::new(MockCommitNotifier::new()), "n", 0);
    assert_eq!(p.persist_batch(None).await.unwrap(), 0);
}
