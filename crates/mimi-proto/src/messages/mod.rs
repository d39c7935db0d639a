//! Protocol bodies of draft-ietf-mimi-protocol-06 §5, one module per endpoint.
//!
//! Every top-level request and response implements [`crate::WireMessage`]:
//! `decode` takes exactly one body (trailing bytes are an error) and `encode`
//! gives back the same bytes. MLS objects inside are OpenMLS `…In` types;
//! `MLSMessage` fields are typed by what the body allows ([`CommitMessage`],
//! [`ProposalMessage`], [`ApplicationMessage`]). Every vector has a named cap
//! on its item count, next to the struct that holds it.
//!
//! Where the draft is broken or silent, the reading implemented here is the
//! one in `docs/decisions.md`, section "Wire format (protocol-06)".

use crate::codec::{Reader, wire_enum};
use crate::components::ParticipantId;
use crate::error::DecodeError;

pub mod abuse;
mod commit_read;
pub mod consent;
pub mod crypto;
pub mod fanout;
pub mod group_info;
pub mod identifier;
pub mod key_material;
mod mls;
pub mod submit;
pub mod update;

pub use abuse::{AbuseReport, AbuseType, AbusiveMessage};
pub use commit_read::{ParsedCommit, PathLeaf, parse_commit};
pub use consent::{ConsentAction, ConsentEntry, ConsentOperation, ConsentScope};
pub use crypto::CryptoError;
pub use fanout::{FanoutEvent, FanoutMessage, NotifyBody, RawFanoutMessage};
pub use group_info::{
    GroupInfoCode, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoRequestTbs,
    GroupInfoResponse, GroupInfoResponseTbs, PendingProposal,
};
pub use identifier::{
    FieldSource, IdentifierQueryCode, IdentifierRequest, IdentifierResponse, ProfileField,
    QueryElement, SearchField, SearchIdentifierType, UserProfile,
};
pub use key_material::{
    ClientKeyMaterial, ClientStatus, KeyMaterialClientCode, KeyMaterialRequest,
    KeyMaterialRequestTbs, KeyMaterialResponse, KeyMaterialUserCode,
};
pub use mls::{ApplicationMessage, CommitMessage, ProposalMessage};
pub use submit::{Frank, SubmitMessageRequest, SubmitMessageResponse, SubmitResponseCode};
pub use update::{
    GroupInfoOption, GroupInfoRepresentation, HandshakeBundle, PartialGroupInfo, RatchetTreeOption,
    RatchetTreePresence, RatchetTreeRepresentation, UpdateOutcome, UpdateRequest,
    UpdateResponseCode, UpdateRoomResponse,
};

wire_enum! {
    /// `enum { reserved(0), mls10(1), (255) } Protocol;` (protocol-06 §5).
    ///
    /// Every body selects on it, and `mls10` is the only case, so bodies do not
    /// store it: encoding writes `mls10`, decoding refuses anything else.
    pub enum Protocol {
        /// MLS 1.0 (RFC 9420).
        Mls10 = 1,
    }
}

/// Reads the `Protocol` field every body starts with; only `mls10` has fields.
pub(crate) fn read_protocol(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    Protocol::read(r, "Protocol").map(|_| ())
}

/// Reads an `IdentifierUri` naming a participant: a user or a pseudonym, in
/// canonical form. Unlike a participant in a component, the URI has no cap of
/// its own here (the body's cap bounds it), so an over-long one fails as an
/// identifier ([`DecodeError::Identifier`]), not as [`DecodeError::TooLarge`].
pub(crate) fn read_participant(r: &mut Reader<'_>) -> Result<ParticipantId, DecodeError> {
    Ok(ParticipantId::parse_canonical(r.opaque_uncapped()?)?)
}
