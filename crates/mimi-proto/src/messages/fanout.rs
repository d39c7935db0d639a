//! `POST /v1/notify/{roomId}`: the hub fans accepted events out to followers
//! (protocol-06 §5.5). A body is one or more concatenated [`FanoutMessage`]s of
//! one room, in the hub's order.

use openmls::prelude::Welcome;
use tls_codec::{Serialize, Size};

use crate::codec::{Reader, decode_body, wire_body};
use crate::error::DecodeError;
use crate::messages::mls::{
    ApplicationMessage, Classified, CommitMessage, ProposalMessage, WelcomeAsMessage,
    read_classified,
};
use crate::messages::submit::Frank;
use crate::messages::update::{RatchetTreeOption, read_proposals};

/// Most FanoutMessages one notify body may carry. Batching keeps the hub's
/// order and saves round trips; the cap bounds the work one POST causes before
/// the follower can answer, and the hub sends larger backlogs in several POSTs.
pub const MAX_FANOUT_MESSAGES_PER_NOTIFY: usize = 1024;

/// `FanoutMessage` (protocol-06 §5.5), read per digest §3.5: the kind is taken
/// from the message's wire format, then its content type (decisions W-8).
///
/// ```text
/// struct {
///   uint64 timestamp;
///   select (protocol) {                      // the room's protocol, not on the wire
///     case mls10:
///       MLSMessage message;
///       select (message.wire_format, content_type) {
///         case application: optional<Frank> frank;
///         case welcome:     RatchetTreeOption ratchetTreeOption;
///         case proposal:    MLSMessage moreProposals<V>;
///         case commit:      MLSMessage externalProposals<V>;
///       };
///   };
/// } FanoutMessage;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutMessage {
    /// When the hub accepted the event, milliseconds since the UNIX epoch.
    pub timestamp: u64,
    /// The event and the fields its kind selects.
    pub event: FanoutEvent,
}

/// One fanned-out event.
#[derive(Debug, Clone, PartialEq)]
pub enum FanoutEvent {
    /// An application message (`PrivateMessage`).
    Application {
        /// The message.
        message: ApplicationMessage,
        /// The hub's frank, if the sender asked for franking.
        frank: Option<Frank>,
    },
    /// A Welcome for the KeyPackages this follower handed out.
    Welcome {
        /// The Welcome (sent as an `MLSMessage`).
        welcome: Box<Welcome>,
        /// How the new members get the ratchet tree.
        ratchet_tree_option: RatchetTreeOption,
    },
    /// A proposal with the ones submitted together.
    Proposal {
        /// The proposal.
        proposal: ProposalMessage,
        /// Identical to the `moreProposals` of the HandshakeBundle.
        more_proposals: Vec<ProposalMessage>,
    },
    /// A commit, with the hub's proposals regenerated after an external commit.
    Commit {
        /// The commit.
        commit: CommitMessage,
        /// Hub proposals stapled to an external commit (issue #128).
        external_proposals: Vec<ProposalMessage>,
    },
}

/// A `/notify` body: one or more FanoutMessages, concatenated without a length
/// prefix (at most [`MAX_FANOUT_MESSAGES_PER_NOTIFY`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyBody {
    /// The messages in the hub's order.
    pub messages: Vec<FanoutMessage>,
}

impl Size for FanoutMessage {
    fn tls_serialized_len(&self) -> usize {
        8 + match &self.event {
            FanoutEvent::Application { message, frank } => {
                message.tls_serialized_len() + frank.tls_serialized_len()
            }
            FanoutEvent::Welcome {
                welcome,
                ratchet_tree_option,
            } => {
                WelcomeAsMessage(welcome).tls_serialized_len()
                    + ratchet_tree_option.tls_serialized_len()
            }
            FanoutEvent::Proposal {
                proposal,
                more_proposals,
            } => proposal.tls_serialized_len() + more_proposals.tls_serialized_len(),
            FanoutEvent::Commit {
                commit,
                external_proposals,
            } => commit.tls_serialized_len() + external_proposals.tls_serialized_len(),
        }
    }
}

impl Serialize for FanoutMessage {
    fn tls_serialize<W: std::io::Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let mut written = self.timestamp.tls_serialize(writer)?;
        written += match &self.event {
            FanoutEvent::Application { message, frank } => {
                message.tls_serialize(writer)? + frank.tls_serialize(writer)?
            }
            FanoutEvent::Welcome {
                welcome,
                ratchet_tree_option,
            } => {
                WelcomeAsMessage(welcome).tls_serialize(writer)?
                    + ratchet_tree_option.tls_serialize(writer)?
            }
            FanoutEvent::Proposal {
                proposal,
                more_proposals,
            } => proposal.tls_serialize(writer)? + more_proposals.tls_serialize(writer)?,
            FanoutEvent::Commit {
                commit,
                external_proposals,
            } => commit.tls_serialize(writer)? + external_proposals.tls_serialize(writer)?,
        };
        Ok(written)
    }
}

wire_body!(FanoutMessage, "FanoutMessage");

impl Size for NotifyBody {
    fn tls_serialized_len(&self) -> usize {
        self.messages.iter().map(Size::tls_serialized_len).sum()
    }
}

impl Serialize for NotifyBody {
    fn tls_serialize<W: std::io::Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let mut written = 0;
        for message in &self.messages {
            written += message.tls_serialize(writer)?;
        }
        Ok(written)
    }
}

impl tls_codec::DeserializeBytes for NotifyBody {
    /// Consumes all of `bytes`: a notify body has no length prefix.
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let mut reader = Reader::new(bytes);
        let value = Self::read(&mut reader).map_err(crate::codec::to_tls_error)?;
        Ok((value, reader.rest()))
    }
}

impl crate::codec::WireMessage for NotifyBody {
    const NAME: &'static str = "notify body";

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_body(bytes, Self::NAME, Self::read)
    }
}

impl FanoutMessage {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let timestamp = r.u64()?;
        let event = match read_classified(r, "FanoutMessage.message")? {
            Classified::Application(message) => FanoutEvent::Application {
                message,
                frank: r.optional("FanoutMessage.frank", Frank::read)?,
            },
            Classified::Welcome(welcome) => FanoutEvent::Welcome {
                welcome,
                ratchet_tree_option: RatchetTreeOption::read(r)?,
            },
            Classified::Proposal(proposal) => FanoutEvent::Proposal {
                proposal,
                more_proposals: read_proposals(r, "FanoutMessage.moreProposals")?,
            },
            Classified::Commit(commit) => FanoutEvent::Commit {
                commit,
                external_proposals: read_proposals(r, "FanoutMessage.externalProposals")?,
            },
        };
        Ok(Self { timestamp, event })
    }
}

impl NotifyBody {
    /// Reads FanoutMessages until the input ends; an empty body is
    /// [`DecodeError::Truncated`] (the draft requires at least one).
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut messages = Vec::new();
        loop {
            if messages.len() == MAX_FANOUT_MESSAGES_PER_NOTIFY {
                return Err(DecodeError::TooLarge("notify body"));
            }
            messages.push(FanoutMessage::read(r)?);
            if r.is_empty() {
                return Ok(Self { messages });
            }
        }
    }
}
