//! What goes in and out of a client: events the hub fanned out (in), and what
//! processing them did to the client's rooms (out).

use openmls::prelude::MlsMessageOut;
use openmls::prelude::hash_ref::ProposalRef;

use mimi_content::{Discard, MessageId, MimiContent};
use mimi_policy::{Denial, Summary};
use mimi_proto::messages::Frank;
use mimi_proto::{ClientId, RoomId, UserId};

/// What processing one fanned-out event
/// ([`RawFanoutMessage`](mimi_proto::messages::RawFanoutMessage)) did.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomEvent {
    /// We joined a room from a Welcome.
    Joined {
        /// The room.
        room: RoomId,
        /// Its epoch.
        epoch: u64,
    },
    /// A commit was merged: someone else's, or our own fanned back before we
    /// heard the hub's answer.
    Committed {
        /// The room.
        room: RoomId,
        /// The new epoch.
        epoch: u64,
        /// The committer (a member client or a joiner).
        committer: Option<ClientId>,
        /// What it changed.
        summary: Summary,
        /// True for our own commit.
        own: bool,
    },
    /// Our own pending commit lost the race for its epoch (another commit was
    /// accepted first) and was discarded; rebuild and resend it.
    OwnCommitLost {
        /// The room.
        room: RoomId,
    },
    /// A commit removed this client: the room is read-only history now.
    Removed {
        /// The room.
        room: RoomId,
        /// The epoch that removed us.
        epoch: u64,
    },
    /// Proposals were stored for the next commit.
    ProposalsQueued {
        /// The room.
        room: RoomId,
        /// How many.
        count: usize,
    },
    /// Proposals the hub accepted but room policy refuses: not stored, so a
    /// commit that includes them will be refused as well.
    ProposalsRefused {
        /// The room.
        room: RoomId,
        /// Why.
        denial: Box<Denial>,
    },
    /// A message was decrypted and passed every receiver check.
    Message(Box<ReceivedMessage>),
    /// A message was decrypted but dropped by a receiver rule.
    Discarded {
        /// The room.
        room: RoomId,
        /// The sender, when known.
        sender: Option<ClientId>,
        /// Why.
        reason: DiscardReason,
    },
    /// Nothing to do: a duplicate, our own echo, or an event of a room we left.
    Ignored {
        /// The room, when known.
        room: Option<RoomId>,
        /// Why.
        reason: &'static str,
    },
}

/// Why a decrypted message was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscardReason {
    /// The content does not decode.
    Malformed(mimi_content::DecodeError),
    /// A receiver rule of the content draft (CR-1…CR-9).
    Content(Discard),
    /// The sender's role does not allow what the message does (policy-content
    /// B.11), or the sender may not send at all.
    Policy(Box<Denial>),
    /// The message edits another user's message, or changes fields an edit
    /// may not change (decision CT-16).
    Edit(&'static str),
    /// The message ID was seen before.
    Duplicate,
    /// The sender's identity or the message ID cannot be established.
    Sender(&'static str),
    /// The sender asked for franking but no valid frank came with it.
    Frank(FrankError),
}

/// Why a frank did not verify (protocol-06 §5.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrankError {
    /// The message carries `frank_aad` but the hub sent no frank.
    #[error("franked message without a frank")]
    Missing,
    /// The frank does not decode.
    #[error("frank does not decode")]
    Malformed,
    /// The frank names another cipher suite than the room's.
    #[error("frank cipher suite is not the room's")]
    Ciphersuite,
    /// The room has no franking key for its hub.
    #[error("room has no franking key for its hub")]
    NoKey,
    /// The franking tag in the AAD is not the tag of the content.
    #[error("franking tag does not match the content")]
    Tag,
    /// The integrity signature does not verify.
    #[error("frank signature does not verify")]
    Signature,
}

/// Whether a received message carries a verified frank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrankStatus {
    /// The sender did not ask for franking.
    NotRequested,
    /// The hub's frank verified; keep it for abuse reports.
    Verified(Frank),
}

/// A decrypted, checked message.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMessage {
    /// The room.
    pub room: RoomId,
    /// The sending user.
    pub sender: UserId,
    /// The sending client.
    pub sender_client: ClientId,
    /// The message ID (content -08 formula).
    pub message_id: MessageId,
    /// Hub acceptance time, ms since the UNIX epoch.
    pub timestamp: u64,
    /// The content.
    pub content: MimiContent,
    /// The frank, if one was asked for.
    pub frank: FrankStatus,
}

/// An application message ready for the hub's `submitMessage`.
#[derive(Debug)]
pub struct OutgoingMessage {
    /// The room.
    pub room: RoomId,
    /// The PrivateMessage.
    pub message: MlsMessageOut,
    /// `sendingUri`: the sending user.
    pub sending_uri: UserId,
    /// The message ID.
    pub message_id: MessageId,
}

/// A proposal bundle ready for the hub's `update` endpoint (proposal case).
#[derive(Debug)]
pub struct OutgoingProposals {
    /// The room.
    pub room: RoomId,
    /// The first proposal.
    pub proposal: MlsMessageOut,
    /// `moreProposals`.
    pub more: Vec<MlsMessageOut>,
    /// The references of every proposal, to withdraw them if the hub refuses.
    pub refs: Vec<ProposalRef>,
}
