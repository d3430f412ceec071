//! Identifier newtypes, so that ids of different things cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw integer, as it appears on the wire.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                Self(raw)
            }
        }
    };
}

int_id!(
    /// A user's id.
    UserId
);
int_id!(
    /// A chat's id.
    ChatId
);
int_id!(
    /// A message's id. Message ids are unique across chats and increase with time within a chat.
    MessageId
);
int_id!(
    /// A position in a chat's event stream. Positions are unique across chats and increase within
    /// one; a `MessageCreated` event's position is the new message's id.
    EventSeq
);

impl From<MessageId> for EventSeq {
    fn from(id: MessageId) -> Self {
        EventSeq(id.0)
    }
}

/// The id of one server process (node) of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub String);

/// The id of one connection (a socket, or one HTTP request awaiting its commit) on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(transparent)]
pub struct ConnId(pub u64);

/// The id of one issued token, which logout revokes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(pub String);

/// Where a change came from: the node and connection that should get its `ack`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The node the author is connected to.
    pub node: NodeId,
    /// The author's connection on that node.
    pub conn: ConnId,
}
