//! What a proposal bundle or a commit carries, as the hub extracted it from
//! OpenMLS.

use mimi_proto::ClientId;
use mimi_proto::components::AppDataUpdate;

use crate::actor::Actor;
use crate::claims::Claims;

/// One proposal's effect on the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An `AppDataUpdate` proposal: component id plus update bytes or remove.
    AppData(AppDataUpdate),
    /// An MLS Add of a new client, with the claims of its credential.
    Add {
        /// The new client.
        client: ClientId,
        /// Its credential's claims; `claims.user()` is its user.
        claims: Claims,
    },
    /// An MLS Remove (or SelfRemove) of a member client.
    Remove {
        /// The removed client.
        client: ClientId,
    },
    /// An MLS ReInit proposal.
    ReInit,
    /// Any other proposal type (Update, PSK, GroupContextExtensions…), which has
    /// no room-policy effect beyond its sender being allowed to act.
    Other {
        /// The MLS proposal type.
        proposal_type: u16,
    },
}

/// A proposal and its original sender. In a commit, inline proposals carry the
/// committer as sender and by-reference proposals their original sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Who sent it.
    pub sender: Actor,
    /// What it does.
    pub change: Change,
}

impl Proposal {
    /// A proposal sent by `sender`.
    pub fn new(sender: Actor, change: Change) -> Self {
        Self { sender, change }
    }
}

/// A commit: its author and its full proposal list in commit order.
///
/// For an external commit the committer is [`Actor::Joiner`]; the joiner's own
/// client is added by the commit itself (its UpdatePath), so it is not listed
/// as an `Add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The committer.
    pub committer: Actor,
    /// Every proposal the commit covers, inline and by reference, in order.
    pub proposals: Vec<Proposal>,
}

impl Change {
    /// An `Add` of `client` whose credential has `claims`.
    pub fn add(client: ClientId, claims: Claims) -> Self {
        Self::Add { client, claims }
    }

    /// A `Remove` of `client`.
    pub fn remove(client: ClientId) -> Self {
        Self::Remove { client }
    }
}
