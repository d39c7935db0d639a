//! The hub's one error enum, in families that map to protocol answers
//! (see [`HubError::update_code`]).

use openmls::prelude::hash_ref::ProposalRef;

/// Why the hub refused an event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The event is not for this room or is not the right kind of MLS message
    /// (e.g. a PrivateMessage handshake): `invalidProposal`.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// The commit or proposal is for another epoch: `wrongEpoch(current)`.
    #[error("wrong epoch: the room is at epoch {current}")]
    WrongEpoch {
        /// The hub's current epoch.
        current: u64,
    },
    /// An application message from an older epoch: `epochTooOld(current)`.
    #[error("epoch too old: the room is at epoch {current}")]
    EpochTooOld {
        /// The hub's current epoch.
        current: u64,
    },
    /// MLS validation failed (signature, tree, proposal rules):
    /// `invalidProposal(refs)`.
    #[error("invalid MLS message: {reason}")]
    InvalidMls {
        /// Proposals we could identify as the cause.
        refs: Vec<ProposalRef>,
        /// OpenMLS's explanation, for logs.
        reason: String,
    },
    /// The commit omits proposals the hub queued this epoch (protocol-06 §3.5):
    /// `notAllowed`.
    #[error("commit omits {0} queued proposal(s)")]
    MissingQueuedProposals(usize),
    /// Refused by a hub rule outside the room policy (e.g. a credential that
    /// is not a mimi client URI): `notAllowed`.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// Refused by the room policy: the denial names the rule, actor and target.
    /// `notAllowed` or `invalidProposal` as the denial maps
    /// ([`mimi_policy::Denial::protocol_code`]).
    #[error("denied: {denial}")]
    Denied {
        /// The policy's denial.
        denial: Box<mimi_policy::Denial>,
        /// The offending proposal, when one is to blame.
        proposal: Option<ProposalRef>,
    },
    /// The epoch's GroupInfo, as its committer sent it, does not verify, so
    /// it cannot be served: external joins wait for the next commit.
    #[error("the current GroupInfo does not verify")]
    GroupInfoUnverified,
    /// A bug or broken invariant inside the hub; never the peer's fault.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl HubError {
    /// A policy denial with no single proposal to blame.
    pub(crate) fn denied(denial: mimi_policy::Denial) -> Self {
        Self::Denied {
            denial: Box::new(denial),
            proposal: None,
        }
    }
}

impl From<mimi_mls::Error> for HubError {
    /// A group, sender or proposal the bridge could not read: an identity
    /// that is not a mimi one is refused as `notAllowed`.
    fn from(e: mimi_mls::Error) -> Self {
        use mimi_mls::Error as E;
        match e {
            E::Malformed(what) => Self::Malformed(what),
            E::NotMimiIdentity(what) => Self::NotAllowed(what.into()),
            E::Denied(denial) => Self::Denied {
                denial,
                proposal: None,
            },
            E::NoUser => Self::NotAllowed("client id names no user".into()),
            E::Mls(reason) => Self::InvalidMls {
                refs: Vec::new(),
                reason,
            },
            E::Crypto(_) => Self::Internal("a crypto primitive failed"),
            E::Internal(what) => Self::Internal(what),
            _ => Self::Internal("unknown bridge error"),
        }
    }
}

/// The protocol-level answer for an error (protocol-06 §5.3 `UpdateResponseCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateCode {
    /// `wrongEpoch`
    WrongEpoch,
    /// `notAllowed`
    NotAllowed,
    /// `invalidProposal`
    InvalidProposal,
    /// Not the peer's fault: the server answers 500 and the peer retries.
    Internal,
}

impl HubError {
    /// Maps the error to its `UpdateRoomResponse` code, in one place.
    pub fn update_code(&self) -> UpdateCode {
        match self {
            Self::WrongEpoch { .. } | Self::EpochTooOld { .. } => UpdateCode::WrongEpoch,
            Self::Malformed(_) | Self::InvalidMls { .. } => UpdateCode::InvalidProposal,
            Self::MissingQueuedProposals(_) | Self::NotAllowed(_) => UpdateCode::NotAllowed,
            Self::Denied { denial, .. } => match denial.protocol_code() {
                mimi_policy::ProtocolCode::InvalidProposal => UpdateCode::InvalidProposal,
                mimi_policy::ProtocolCode::NotAllowed => UpdateCode::NotAllowed,
            },
            Self::Internal(_) | Self::GroupInfoUnverified => UpdateCode::Internal,
        }
    }
}
