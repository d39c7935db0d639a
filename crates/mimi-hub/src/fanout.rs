//! What the hub sends where after accepting an event: an ordered list of
//! deliveries, one per (destination provider, event).
//!
//! The server turns each [`Delivery`] into a `FanoutMessage` for its outbox
//! (or a local mailbox entry when the destination is the hub's own provider),
//! in the same transaction that records the acceptance.

use mimi_proto::ProviderId;

/// One event for one destination provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The provider to deliver to. The hub's own domain means local clients.
    pub to: ProviderId,
    /// What to deliver.
    pub event: Event,
}

/// An accepted event as it is fanned out (protocol-06 §5.5). MLS objects are
/// carried as their serialized `MLSMessage` bytes, exactly as received or built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A commit, with hub proposals regenerated after an external commit.
    Commit {
        /// Hub acceptance time, ms since the UNIX epoch.
        timestamp: u64,
        /// The commit `MLSMessage`.
        message: Vec<u8>,
        /// Hub proposals stapled to an external commit (issue #128).
        external_proposals: Vec<Vec<u8>>,
    },
    /// A Welcome, only to the providers owning its KeyPackageRefs.
    Welcome {
        /// Hub acceptance time of the commit that created it.
        timestamp: u64,
        /// The Welcome `MLSMessage`.
        message: Vec<u8>,
        /// The ratchet tree of the new epoch, serialized (`ratchet_tree<V>`).
        ratchet_tree: Vec<u8>,
    },
    /// A standalone proposal with the rest of its bundle.
    Proposal {
        /// Hub acceptance time.
        timestamp: u64,
        /// The proposal `MLSMessage`.
        message: Vec<u8>,
        /// The other proposals of the same bundle, identical for every destination.
        more_proposals: Vec<Vec<u8>>,
    },
    /// An application message.
    Application {
        /// Hub acceptance time.
        timestamp: u64,
        /// The PrivateMessage `MLSMessage`.
        message: Vec<u8>,
        /// The hub's frank, serialized, when the sender asked for one.
        frank: Option<Vec<u8>>,
    },
}
