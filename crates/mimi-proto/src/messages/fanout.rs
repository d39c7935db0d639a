//! `POST /v1/notify/{roomId}`: the hub fans accepted events out to followers
//! (protocol-06 §5.5). A body is one or more concatenated [`FanoutMessage`]s of
//! one room, in the hub's order.

use openmls::prelude::Welcome;

use crate::codec::{Codec, Reader, Writer, wire_body};
use crate::error::{DecodeError, EncodeError};
use crate::messages::mls::{
    ApplicationMessage, Classified, CommitMessage, ProposalMessage, WelcomeAsMessage,
    read_classified,
};
use crate::messages::submit::Frank;
use crate::messages::update::{RatchetTreeOption, read_proposals, write_proposals};

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

wire_body!(FanoutMessage, "FanoutMessage");
wire_body!(NotifyBody, "notify body");

impl Codec for FanoutMessage {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
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

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u64(self.timestamp);
        match &self.event {
            FanoutEvent::Application { message, frank } => {
                w.mls(message)?;
                w.optional(frank.as_ref(), |w, f| f.write(w))
            }
            FanoutEvent::Welcome {
                welcome,
                ratchet_tree_option,
            } => {
                w.mls(&WelcomeAsMessage(welcome))?;
                ratchet_tree_option.write(w)
            }
            FanoutEvent::Proposal {
                proposal,
                more_proposals,
            } => {
                w.mls(proposal)?;
                write_proposals(w, more_proposals)
            }
            FanoutEvent::Commit {
                commit,
                external_proposals,
            } => {
                w.mls(commit)?;
                write_proposals(w, external_proposals)
            }
        }
    }
}

impl Codec for NotifyBody {
    /// Reads FanoutMessages until the input ends; an empty body is
    /// [`DecodeError::Truncated`] (the draft requires at least one). Consumes
    /// all of the input: a notify body has no length prefix.
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

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.messages.iter().try_for_each(|m| m.write(w))
    }
}
