//! Who acts: a member client, an external-sender server, or a new member.

use std::fmt;

use mimi_proto::ClientId;
use mimi_proto::components::ParticipantId;

use crate::claims::Claims;

/// The sender of a proposal or the author of a commit, as the hub saw it in
/// the MLS framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member client (MLS `member` sender). Its user and claims come from the
    /// room state's membership.
    Client(ClientId),
    /// An external sender (the hub or a follower; MLS `external` sender). Its
    /// identity is the user URI in its `external_senders` credential; its role
    /// is that identity's listed role, else its first preauthorization match,
    /// else role 0.
    Server {
        /// Index into the group's `external_senders`.
        sender_index: u32,
        /// Claims of its credential.
        claims: Claims,
    },
    /// A client joining by external commit or external (new-member) proposal.
    Joiner {
        /// The joining client.
        client: ClientId,
        /// Claims of its credential.
        claims: Claims,
        /// The join code it presented in its GroupInfoRequest, if any.
        join_code: Option<Vec<u8>>,
    },
}

impl Actor {
    /// The identifier a denial names.
    pub fn id(&self) -> ActorId {
        match self {
            Self::Client(c) => ActorId::Client(c.clone()),
            Self::Server {
                sender_index,
                claims,
            } => ActorId::Server {
                sender_index: *sender_index,
                identity: claims.user().clone(),
            },
            Self::Joiner { client, .. } => ActorId::Joiner(client.clone()),
        }
    }
}

/// An actor, as named in a [`Denial`](crate::Denial).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ActorId {
    /// A member client.
    Client(ClientId),
    /// An external sender and the identity in its credential.
    Server {
        /// Index into `external_senders`.
        sender_index: u32,
        /// Its identity.
        identity: ParticipantId,
    },
    /// A joining client.
    Joiner(ClientId),
    /// The hub itself creating the room (no MLS sender yet).
    Creator,
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(c) => write!(f, "client {c}"),
            Self::Server {
                sender_index,
                identity,
            } => write!(f, "external sender #{sender_index} ({identity})"),
            Self::Joiner(c) => write!(f, "joiner {c}"),
            Self::Creator => f.write_str("room creation"),
        }
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
