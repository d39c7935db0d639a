//! `POST /v1/update/{roomId}`: a follower hands a client's proposal or commit
//! to the hub (protocol-06 §5.3), with the GroupInfo and ratchet tree options
//! of draft-mahy-mls-ratchet-tree-options.

use openmls::ciphersuite::hash_ref::ProposalRef;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::{Extension, Welcome};
use openmls::treesync::RatchetTreeIn;

use crate::codec::{Codec, Reader, Utf8String, Writer, tls_via_codec, wire_body, wire_enum};
use crate::error::{DecodeError, EncodeError};
use crate::messages::mls::{
    Classified, CommitMessage, ProposalMessage, read_classified, read_welcome,
};

/// Most proposals a bundle or fan-out may carry besides the main message.
/// Leaving a room takes one Remove per client of the user plus one
/// AppDataUpdate; the cap bounds the proposals the hub validates per request.
pub const MAX_MORE_PROPOSALS: usize = 1024;

/// Most proposal references an `invalidProposal` answer may list (one per
/// proposal the hub could have been sent, see [`MAX_MORE_PROPOSALS`]).
pub const MAX_INVALID_PROPOSALS: usize = 1024;

/// Most extensions a `PartialGroupInfo` may carry. A GroupInfo normally has one
/// or two (`external_pub`, maybe `ratchet_tree`); the cap bounds decoding work.
pub const MAX_GROUP_INFO_EXTENSIONS: usize = 64;

/// `UpdateRequest` (protocol-06 §5.3).
///
/// ```text
/// struct {
///   select (room.protocol) { case mls10: HandshakeBundle bundle; };
/// } UpdateRequest;
/// ```
///
/// The protocol is the room's and is not on the wire (decisions W-5).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRequest {
    /// The proposal or commit with what the hub needs to serve it.
    pub bundle: HandshakeBundle,
}

wire_body!(UpdateRequest, "UpdateRequest");

/// `HandshakeBundle` (protocol-06 §5.3), split on the content type of
/// `proposalOrCommit`.
///
/// ```text
/// struct {
///   MLSMessage proposalOrCommit;
///   select (proposalOrCommit.content.content_type) {
///     case commit:
///       optional<Welcome> welcome;
///       GroupInfoOption groupInfoOption;
///       RatchetTreeOption ratchetTreeOption;
///     case proposal:
///       MLSMessage moreProposals<V>;
///   };
/// } HandshakeBundle;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeBundle {
    /// A commit, with what new and external joiners need.
    Commit {
        /// The commit (a `PublicMessage`).
        commit: CommitMessage,
        /// The Welcome for added members (without `ratchet_tree`), if any.
        welcome: Option<Box<Welcome>>,
        /// The new epoch's GroupInfo, full or partial.
        group_info_option: GroupInfoOption,
        /// How joiners get the ratchet tree.
        ratchet_tree_option: RatchetTreeOption,
    },
    /// A proposal, with further proposals sent together (at most
    /// [`MAX_MORE_PROPOSALS`]).
    Proposal {
        /// The proposal (a `PublicMessage`).
        proposal: ProposalMessage,
        /// Further proposals, each a `PublicMessage` proposal.
        more_proposals: Vec<ProposalMessage>,
    },
}

wire_enum! {
    /// `enum { reserved(0), full(1), partial(2), (255) } GroupInfoRepresentation;`
    pub enum GroupInfoRepresentation {
        /// A complete GroupInfo.
        Full = 1,
        /// A PartialGroupInfo the hub completes.
        Partial = 2,
    }
}

/// `GroupInfoOption` (protocol-06 §5.3).
///
/// ```text
/// struct {
///   GroupInfoRepresentation representation;
///   select (representation) {
///     case full:    GroupInfo groupInfo;
///     case partial: PartialGroupInfo partialGroupInfo;
///   };
/// } GroupInfoOption;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum GroupInfoOption {
    /// The full GroupInfo (without the `ratchet_tree` extension).
    Full(Box<VerifiableGroupInfo>),
    /// The committer's extensions and signature; the hub rebuilds the rest.
    Partial(PartialGroupInfo),
}

wire_enum! {
    /// `enum { no_ratchet_tree(0), present(1), removed(2), added(3), (255) } RatchetTreePresence;`
    /// (draft-mahy-mls-ratchet-tree-options).
    pub enum RatchetTreePresence {
        /// The GroupInfo had no `ratchet_tree` extension.
        NoRatchetTree = 0,
        /// It had one and still has it.
        Present = 1,
        /// The committer removed it before signing.
        Removed = 2,
        /// The hub must add it before the signature verifies.
        Added = 3,
    }
}

/// `PartialGroupInfo` (draft-mahy-mls-ratchet-tree-options).
///
/// ```text
/// struct {
///   RatchetTreePresence ratchet_tree_presence;
///   Extension group_info_extensions<V>;
///   opaque signature<V>;
/// } PartialGroupInfo;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PartialGroupInfo {
    /// What happened to the `ratchet_tree` extension.
    pub ratchet_tree_presence: RatchetTreePresence,
    /// The GroupInfo's extensions, minus `ratchet_tree` (at most
    /// [`MAX_GROUP_INFO_EXTENSIONS`]).
    pub group_info_extensions: Vec<Extension>,
    /// The committer's GroupInfo signature.
    pub signature: Vec<u8>,
}

wire_enum! {
    /// `RatchetTreeRepresentation` (draft-mahy-mls-ratchet-tree-options).
    pub enum RatchetTreeRepresentation {
        /// The whole tree.
        Full = 1,
        /// A URL to fetch it from.
        HttpsUri = 2,
        /// Obtained out of band.
        OutOfBand = 3,
        /// The hub rebuilds it from the handshakes it saw.
        DistributionService = 4,
    }
}

/// `RatchetTreeOption` (draft-mahy-mls-ratchet-tree-options).
///
/// ```text
/// struct {
///   RatchetTreeRepresentation representation;
///   select (representation) {
///     case full:                Node ratchet_tree<V>;
///     case httpsUri:            opaque ratchet_tree_url<V>; opaque tree_signature<V>;
///     case outOfBand:           opaque tree_signature<V>;
///     case distributionService: struct {};
///   };
/// } RatchetTreeOption;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum RatchetTreeOption {
    /// The tree itself (RFC 9420 `ratchet_tree` format).
    Full(RatchetTreeIn),
    /// Where to fetch the tree (UTF-8 URL text), and a signature over it.
    HttpsUri {
        /// The URL.
        ratchet_tree_url: Utf8String,
        /// The tree signature (semantics not defined by the draft).
        tree_signature: Vec<u8>,
    },
    /// The joiner gets the tree some other way.
    OutOfBand {
        /// The tree signature (semantics not defined by the draft).
        tree_signature: Vec<u8>,
    },
    /// The hub builds the tree from the Public/SemiPrivate handshakes it saw.
    DistributionService,
}

impl RatchetTreeOption {
    /// The wire representation.
    pub fn representation(&self) -> RatchetTreeRepresentation {
        match self {
            Self::Full(_) => RatchetTreeRepresentation::Full,
            Self::HttpsUri { .. } => RatchetTreeRepresentation::HttpsUri,
            Self::OutOfBand { .. } => RatchetTreeRepresentation::OutOfBand,
            Self::DistributionService => RatchetTreeRepresentation::DistributionService,
        }
    }
}

wire_enum! {
    /// `enum { success(0), wrongEpoch(1), notAllowed(2), invalidProposal(3), (255) } UpdateResponseCode;`
    pub enum UpdateResponseCode {
        /// Accepted; the hub will distribute it.
        Success = 0,
        /// The hub is at another epoch.
        WrongEpoch = 1,
        /// Refused by policy or authorization.
        NotAllowed = 2,
        /// Some proposals are invalid.
        InvalidProposal = 3,
    }
}

/// `UpdateRoomResponse` (protocol-06 §5.3).
///
/// ```text
/// struct {
///   UpdateResponseCode responseCode;
///   string errorDescription;                      // opaque<V> UTF-8 (decisions W-6)
///   select (responseCode) {
///     case success:         uint64 accepted_timestamp;
///     case wrongEpoch:      uint64 currentEpoch;
///     case invalidProposal: ProposalRef invalidProposals<V>;
///   };
/// } UpdateRoomResponse;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRoomResponse {
    /// Human-readable detail; empty on success.
    pub error_description: Utf8String,
    /// The code with the fields it selects.
    pub outcome: UpdateOutcome,
}

/// The outcome of an update, with the fields its code selects.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// `success`: accepted and will be distributed.
    Success {
        /// Acceptance time, milliseconds since the UNIX epoch.
        accepted_timestamp: u64,
    },
    /// `wrongEpoch`: the hub's current epoch.
    WrongEpoch {
        /// The epoch the hub is at.
        current_epoch: u64,
    },
    /// `notAllowed`.
    NotAllowed,
    /// `invalidProposal`: the references of the bad proposals (at most
    /// [`MAX_INVALID_PROPOSALS`]).
    InvalidProposal {
        /// The rejected proposals.
        invalid_proposals: Vec<ProposalRef>,
    },
}

impl UpdateOutcome {
    /// The wire code.
    pub fn code(&self) -> UpdateResponseCode {
        match self {
            Self::Success { .. } => UpdateResponseCode::Success,
            Self::WrongEpoch { .. } => UpdateResponseCode::WrongEpoch,
            Self::NotAllowed => UpdateResponseCode::NotAllowed,
            Self::InvalidProposal { .. } => UpdateResponseCode::InvalidProposal,
        }
    }
}

wire_body!(UpdateRoomResponse, "UpdateRoomResponse");
tls_via_codec!(
    HandshakeBundle,
    GroupInfoOption,
    PartialGroupInfo,
    RatchetTreeOption
);

impl Codec for UpdateRequest {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            bundle: HandshakeBundle::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.bundle.write(w)
    }
}

impl Codec for HandshakeBundle {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match read_classified(r, "HandshakeBundle.proposalOrCommit")? {
            Classified::Commit(commit) => Ok(Self::Commit {
                commit,
                welcome: r.optional("HandshakeBundle.welcome", |r| {
                    read_welcome(r, "HandshakeBundle.welcome").map(Box::new)
                })?,
                group_info_option: GroupInfoOption::read(r)?,
                ratchet_tree_option: RatchetTreeOption::read(r)?,
            }),
            Classified::Proposal(proposal) => Ok(Self::Proposal {
                proposal,
                more_proposals: read_proposals(r, "HandshakeBundle.moreProposals")?,
            }),
            Classified::Application(_) | Classified::Welcome(_) => Err(DecodeError::Invalid {
                what: "HandshakeBundle.proposalOrCommit",
                reason: "must be a PublicMessage proposal or commit",
            }),
        }
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        match self {
            Self::Commit {
                commit,
                welcome,
                group_info_option,
                ratchet_tree_option,
            } => {
                w.mls(commit)?;
                w.optional(welcome.as_ref(), |w, welcome| w.mls(welcome))?;
                group_info_option.write(w)?;
                ratchet_tree_option.write(w)
            }
            Self::Proposal {
                proposal,
                more_proposals,
            } => {
                w.mls(proposal)?;
                write_proposals(w, more_proposals)
            }
        }
    }
}

impl Codec for GroupInfoOption {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match GroupInfoRepresentation::read(r, "GroupInfoOption.representation")? {
            GroupInfoRepresentation::Full => {
                Ok(Self::Full(Box::new(r.mls("GroupInfoOption.groupInfo")?)))
            }
            GroupInfoRepresentation::Partial => Ok(Self::Partial(PartialGroupInfo::read(r)?)),
        }
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        match self {
            Self::Full(group_info) => {
                GroupInfoRepresentation::Full.write(w);
                w.mls(group_info)
            }
            Self::Partial(partial) => {
                GroupInfoRepresentation::Partial.write(w);
                partial.write(w)
            }
        }
    }
}

impl Codec for PartialGroupInfo {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ratchet_tree_presence: RatchetTreePresence::read(
                r,
                "PartialGroupInfo.ratchet_tree_presence",
            )?,
            group_info_extensions: r.vector(
                "PartialGroupInfo.group_info_extensions",
                MAX_GROUP_INFO_EXTENSIONS,
                |r| r.mls("PartialGroupInfo.group_info_extensions"),
            )?,
            signature: r.opaque_uncapped()?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.ratchet_tree_presence.write(w);
        w.mls(&self.group_info_extensions)?;
        w.opaque(&self.signature)
    }
}

impl Codec for RatchetTreeOption {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(
            match RatchetTreeRepresentation::read(r, "RatchetTreeOption.representation")? {
                RatchetTreeRepresentation::Full => {
                    Self::Full(r.mls("RatchetTreeOption.ratchet_tree")?)
                }
                RatchetTreeRepresentation::HttpsUri => Self::HttpsUri {
                    ratchet_tree_url: r.item("RatchetTreeOption.ratchet_tree_url")?,
                    tree_signature: r.opaque_uncapped()?.to_vec(),
                },
                RatchetTreeRepresentation::OutOfBand => Self::OutOfBand {
                    tree_signature: r.opaque_uncapped()?.to_vec(),
                },
                RatchetTreeRepresentation::DistributionService => Self::DistributionService,
            },
        )
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.representation().write(w);
        match self {
            Self::Full(tree) => w.mls(tree),
            Self::HttpsUri {
                ratchet_tree_url,
                tree_signature,
            } => {
                w.opaque(ratchet_tree_url.as_str().as_bytes())?;
                w.opaque(tree_signature)
            }
            Self::OutOfBand { tree_signature } => w.opaque(tree_signature),
            Self::DistributionService => Ok(()),
        }
    }
}

impl Codec for UpdateRoomResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = UpdateResponseCode::read(r, "UpdateRoomResponse.responseCode")?;
        let error_description = r.item("UpdateRoomResponse.errorDescription")?;
        let outcome = match code {
            UpdateResponseCode::Success => UpdateOutcome::Success {
                accepted_timestamp: r.u64()?,
            },
            UpdateResponseCode::WrongEpoch => UpdateOutcome::WrongEpoch {
                current_epoch: r.u64()?,
            },
            UpdateResponseCode::NotAllowed => UpdateOutcome::NotAllowed,
            UpdateResponseCode::InvalidProposal => UpdateOutcome::InvalidProposal {
                invalid_proposals: r.vector(
                    "UpdateRoomResponse.invalidProposals",
                    MAX_INVALID_PROPOSALS,
                    |r| r.mls("UpdateRoomResponse.invalidProposals"),
                )?,
            },
        };
        Ok(Self {
            error_description,
            outcome,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.outcome.code().write(w);
        w.opaque(self.error_description.as_str().as_bytes())?;
        match &self.outcome {
            UpdateOutcome::Success { accepted_timestamp } => w.u64(*accepted_timestamp),
            UpdateOutcome::WrongEpoch { current_epoch } => w.u64(*current_epoch),
            UpdateOutcome::NotAllowed => {}
            UpdateOutcome::InvalidProposal { invalid_proposals } => {
                w.mls(invalid_proposals)?;
            }
        }
        Ok(())
    }
}

/// `MLSMessage proposals<V>` where each must be a `PublicMessage` proposal.
pub(crate) fn read_proposals(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Vec<ProposalMessage>, DecodeError> {
    r.vector(what, MAX_MORE_PROPOSALS, |r| ProposalMessage::read(r, what))
}

/// Writes `MLSMessage proposals<V>`.
pub(crate) fn write_proposals(
    w: &mut Writer,
    proposals: &[ProposalMessage],
) -> Result<(), EncodeError> {
    w.vector(proposals, |w, p| w.mls(p))
}
