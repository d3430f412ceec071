//! Contract of [`crate::ports::Presence`].

use crate::ports::{Presence, SocketKey};
use crate::{ChatId, ConnId, NodeId, UserId};

/// Expands to the `Presence` contract tests.
#[macro_export]
macro_rules! presence_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            presence,
            $make,
            [
                a_user_is_online_while_any_socket_is_open,
                the_chat_set_changes_on_first_open_and_last_close,
            ]
        );
    };
}

fn socket(node: &str, conn: u64, user: i64, chat: Option<i64>) -> SocketKey {
    SocketKey {
        node: NodeId(node.into()),
        conn: ConnId(conn),
        user: UserId(user),
        chat: chat.map(ChatId),
    }
}

pub async fn a_user_is_online_while_any_socket_is_open(p: &dyn Presence) {
    let events = socket("a", 1, 1, None);
    let chat = socket("b", 1, 1, Some(7));
    assert!(p.online_among(&[UserId(1)]).await.unwrap().is_empty());
    p.socket_opened(&events).await.unwrap();
    p.socket_opened(&chat).await.unwrap();
    assert_eq!(
        p.online_among(&[UserId(1), UserId(2)]).await.unwrap(),
        vec![UserId(1)]
    );
    p.socket_closed(&events).await.unwrap();
    assert_eq!(p.online_among(&[UserId(1)]).await.unwrap(), vec![UserId(1)]);
    p.socket_closed(&chat).await.unwrap();
    assert!(p.online_among(&[UserId(1)]).await.unwrap().is_empty());
    assert!(
        !p.socket_closed(&chat).await.unwrap(),
        "closing twice changes nothing"
    );
}

pub async fn the_chat_set_changes_on_first_open_and_last_close(p: &dyn Presence) {
    assert!(p.socket_opened(&socket("a", 1, 2, Some(7))).await.unwrap());
    assert!(
        !p.socket_opened(&socket("b", 2, 2, Some(7))).await.unwrap(),
        "second tab"
    );
    assert!(p.socket_opened(&socket("a", 3, 1, Some(7))).await.unwrap());
    assert!(
        !p.socket_opened(&socket("a", 4, 3, None)).await.unwrap(),
        "/events is no chat"
    );
    assert_eq!(
        p.online_in_chat(ChatId(7)).await.unwrap(),
        vec![UserId(1), UserId(2)]
    );
    assert!(!p.socket_closed(&socket("a", 1, 2, Some(7))).await.unwrap());
    assert!(p.socket_closed(&socket("b", 2, 2, Some(7))).await.unwrap());
    assert_eq!(p.online_in_chat(ChatId(7)).await.unwrap(), vec![UserId(1)]);
    assert!(p.online_in_chat(ChatId(8)).await.unwrap().is_empty());
}
