//! `POST /v1/notify/{roomId}`: the hub fans accepted events out to followers
//! (protocol-06 §5.5). A body is one or more concatenated [`FanoutMessage`]s of
//! one room, in the hub's order.
//!
//! One wire struct, two views of it:
//! - [`FanoutMessage`] holds parsed OpenMLS objects: what a follower's server
//!   inspects (the KeyPackageRefs of a Welcome) and what the notify body is.
//! - [`RawFanoutMessage`] holds every MLS object as its encoded bytes: what
//!   the hub builds for each delivery (it has the bytes it received or built,
//!   and encoding only concatenates them) and what a client processes (it
//!   hands the bytes to OpenMLS). Its decoder checks the same grammar as
//!   `FanoutMessage`'s, and accepts only a Welcome with the full ratchet tree,
//!   the one option the hub sends and clients process (decision W-21).

use openmls::prelude::Welcome;

use crate::codec::{Codec, Reader, Writer, wire_body};
use crate::error::{DecodeError, EncodeError};
use crate::messages::mls::{
    ApplicationMessage, Classified, CommitMessage, ProposalMessage, WelcomeAsMessage,
    read_classified,
};
use crate::messages::submit::Frank;
use crate::messages::update::{
    MAX_MORE_PROPOSALS, RatchetTreeOption, RatchetTreeRepresentation, read_proposals,
    write_proposals,
};

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

/// A [`FanoutMessage`] whose MLS objects are kept as their encoded bytes
/// (`MLSMessage`s, the `Frank`, the `ratchet_tree<V>` vector): the fan-out
/// event the hub emits per destination and a client processes. Encoding
/// concatenates the bytes (the hub's hot path does not parse them again);
/// decoding parses and checks each one, and keeps exactly the bytes it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFanoutMessage {
    /// A commit, with the hub's proposals regenerated after an external commit.
    Commit {
        /// Hub acceptance time, ms since the UNIX epoch.
        timestamp: u64,
        /// The commit `MLSMessage`.
        message: Vec<u8>,
        /// Hub proposals stapled to an external commit (issue #128), each an
        /// `MLSMessage` (at most [`MAX_MORE_PROPOSALS`]).
        external_proposals: Vec<Vec<u8>>,
    },
    /// A Welcome, sent only to the providers owning its KeyPackageRefs.
    Welcome {
        /// Hub acceptance time of the commit that created it.
        timestamp: u64,
        /// The Welcome `MLSMessage`.
        message: Vec<u8>,
        /// The ratchet tree of the new epoch, serialized (`Node
        /// ratchet_tree<V>`, sent as `RatchetTreeOption.full`).
        ratchet_tree: Vec<u8>,
    },
    /// A standalone proposal with the rest of its bundle.
    Proposal {
        /// Hub acceptance time.
        timestamp: u64,
        /// The proposal `MLSMessage`.
        message: Vec<u8>,
        /// The other proposals of the same bundle, identical for every
        /// destination (at most [`MAX_MORE_PROPOSALS`]).
        more_proposals: Vec<Vec<u8>>,
    },
    /// An application message.
    Application {
        /// Hub acceptance time.
        timestamp: u64,
        /// The PrivateMessage `MLSMessage`.
        message: Vec<u8>,
        /// The hub's `Frank`, serialized, when the sender asked for one.
        frank: Option<Vec<u8>>,
    },
}

impl RawFanoutMessage {
    /// When the hub accepted the event, ms since the UNIX epoch.
    pub fn timestamp(&self) -> u64 {
        match self {
            Self::Commit { timestamp, .. }
            | Self::Welcome { timestamp, .. }
            | Self::Proposal { timestamp, .. }
            | Self::Application { timestamp, .. } => *timestamp,
        }
    }

    /// The event's own `MLSMessage` bytes (the commit, Welcome, first
    /// proposal or application message).
    pub fn message(&self) -> &[u8] {
        match self {
            Self::Commit { message, .. }
            | Self::Welcome { message, .. }
            | Self::Proposal { message, .. }
            | Self::Application { message, .. } => message,
        }
    }
}

/// A `/notify` body: one or more FanoutMessages, concatenated without a length
/// prefix (at most [`MAX_FANOUT_MESSAGES_PER_NOTIFY`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyBody {
    /// The messages in the hub's order.
    pub messages: Vec<FanoutMessage>,
}

wire_body!(FanoutMessage, "FanoutMessage");
wire_body!(RawFanoutMessage, "FanoutMessage");
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

impl Codec for RawFanoutMessage {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let timestamp = r.u64()?;
        let (kind, message) = r.spanned(|r| read_classified(r, "FanoutMessage.message"))?;
        let message = message.to_vec();
        Ok(match kind {
            Classified::Application(_) => Self::Application {
                timestamp,
                message,
                frank: r.optional("FanoutMessage.frank", |r| {
                    Ok(r.spanned(Frank::read)?.1.to_vec())
                })?,
            },
            Classified::Welcome(_) => {
                let (option, bytes) = r.spanned(RatchetTreeOption::read)?;
                // The representation byte, then `Node ratchet_tree<V>`.
                let (RatchetTreeOption::Full(_), [_, ratchet_tree @ ..]) = (option, bytes) else {
                    return Err(DecodeError::Invalid {
                        what: "FanoutMessage.ratchetTreeOption",
                        reason: "only a full ratchet tree is supported",
                    });
                };
                Self::Welcome {
                    timestamp,
                    message,
                    ratchet_tree: ratchet_tree.to_vec(),
                }
            }
            Classified::Proposal(_) => Self::Proposal {
                timestamp,
                message,
                more_proposals: read_raw_proposals(r, "FanoutMessage.moreProposals")?,
            },
            Classified::Commit(_) => Self::Commit {
                timestamp,
                message,
                external_proposals: read_raw_proposals(r, "FanoutMessage.externalProposals")?,
            },
        })
    }

    /// The hub encodes one per delivery: the timestamp, the bytes, and a
    /// few bytes of presence flag, tree option and length prefix.
    fn size_hint(&self) -> usize {
        16 + self.message().len()
            + match self {
                Self::Application { frank, .. } => frank.as_ref().map_or(0, Vec::len),
                Self::Welcome { ratchet_tree, .. } => ratchet_tree.len(),
                Self::Proposal {
                    more_proposals: more,
                    ..
                }
                | Self::Commit {
                    external_proposals: more,
                    ..
                } => more.iter().map(Vec::len).sum(),
            }
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u64(self.timestamp());
        w.bytes(self.message());
        match self {
            Self::Application { frank, .. } => w.optional(frank.as_ref(), |w, frank| {
                w.bytes(frank);
                Ok(())
            }),
            Self::Welcome { ratchet_tree, .. } => {
                RatchetTreeRepresentation::Full.write(w);
                w.bytes(ratchet_tree);
                Ok(())
            }
            Self::Proposal {
                more_proposals: more,
                ..
            }
            | Self::Commit {
                external_proposals: more,
                ..
            } => w.vector(more, |w, proposal| {
                w.bytes(proposal);
                Ok(())
            }),
        }
    }
}

/// `MLSMessage proposals<V>`, each proposal checked and kept as its bytes.
fn read_raw_proposals(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Vec<u8>>, DecodeError> {
    r.vector(what, MAX_MORE_PROPOSALS, |r| {
        Ok(r.spanned(|r| ProposalMessage::read(r, what))?.1.to_vec())
    })
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
