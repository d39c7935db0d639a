//! `MLSMessage` fields of MIMI bodies, typed by what the body allows.
//!
//! MIMI carries handshakes as `PublicMessage` (the hub must read them; OpenMLS
//! does not implement SemiPrivateMessage, so that wire format is refused as
//! unknown) and application messages as `PrivateMessage`. Decoding checks the
//! wire format and the content type once, so the hub receives a
//! [`CommitMessage`] or a [`ProposalMessage`] rather than an `MLSMessage` it
//! must inspect again (protocol-06 §5.3, §5.5; digest §3.5 reading).
//!
//! ```text
//! struct {
//!   ProtocolVersion version = mls10;
//!   WireFormat wire_format;
//!   select (MLSMessage.wire_format) { ... };
//! } MLSMessage;                                   // RFC 9420 §6
//! ```

use std::io::Write;

use openmls::prelude::{
    ContentType, MlsMessageBodyIn, MlsMessageIn, PrivateMessageIn, ProtocolMessage,
    PublicMessageIn, Welcome,
};
use tls_codec::{Serialize, Size};

use crate::codec::Reader;
use crate::error::DecodeError;

/// `ProtocolVersion mls10` (RFC 9420 §6).
const MLS10: u16 = 1;
/// `WireFormat` values (RFC 9420 §6).
const WIRE_PUBLIC: u16 = 1;
const WIRE_PRIVATE: u16 = 2;
const WIRE_WELCOME: u16 = 3;
/// Bytes of the `version` and `wire_format` fields.
const HEADER_LEN: usize = 4;

/// An `MLSMessage` holding a `PublicMessage` whose content is a proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalMessage(Box<PublicMessageIn>);

/// An `MLSMessage` holding a `PublicMessage` whose content is a commit.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitMessage(Box<PublicMessageIn>);

/// An `MLSMessage` holding a `PrivateMessage` whose content type is application.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationMessage(PrivateMessageIn);

/// Any `MLSMessage` a MIMI body may carry, sorted by wire format then content
/// type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Classified {
    Application(ApplicationMessage),
    Proposal(ProposalMessage),
    Commit(CommitMessage),
    Welcome(Box<Welcome>),
}

macro_rules! public_message_type {
    ($ty:ident, $content:ident, $name:literal) => {
        impl $ty {
            /// The message, for OpenMLS processing.
            pub fn public_message(&self) -> &PublicMessageIn {
                &self.0
            }

            /// The message, for OpenMLS processing.
            pub fn into_public_message(self) -> PublicMessageIn {
                *self.0
            }

            /// The message as OpenMLS's processing input.
            pub fn into_protocol_message(self) -> ProtocolMessage {
                ProtocolMessage::from(*self.0)
            }

            #[allow(dead_code, reason = "commits are only read through read_classified")]
            pub(crate) fn read(
                r: &mut Reader<'_>,
                what: &'static str,
            ) -> Result<Self, DecodeError> {
                match read_classified(r, what)? {
                    Classified::$content(m) => Ok(m),
                    _ => Err(DecodeError::Invalid {
                        what,
                        reason: concat!("must be a PublicMessage ", $name),
                    }),
                }
            }
        }

        impl TryFrom<MlsMessageIn> for $ty {
            type Error = DecodeError;

            /// Accepts only a `PublicMessage` of the right content type.
            fn try_from(message: MlsMessageIn) -> Result<Self, DecodeError> {
                match classify(message, $name)? {
                    Classified::$content(m) => Ok(m),
                    _ => Err(DecodeError::Invalid {
                        what: $name,
                        reason: concat!("must be a PublicMessage ", $name),
                    }),
                }
            }
        }

        impl Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                HEADER_LEN + self.0.tls_serialized_len()
            }
        }

        impl Serialize for $ty {
            fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
                let header = write_header(writer, WIRE_PUBLIC)?;
                Ok(header + self.0.tls_serialize(writer)?)
            }
        }
    };
}

public_message_type!(ProposalMessage, Proposal, "proposal");
public_message_type!(CommitMessage, Commit, "commit");

impl ApplicationMessage {
    /// The message, for OpenMLS processing.
    pub fn private_message(&self) -> &PrivateMessageIn {
        &self.0
    }

    /// The message as OpenMLS's processing input.
    pub fn into_protocol_message(self) -> ProtocolMessage {
        ProtocolMessage::from(self.0)
    }

    pub(crate) fn read(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match read_classified(r, what)? {
            Classified::Application(m) => Ok(m),
            _ => Err(DecodeError::Invalid {
                what,
                reason: "must be a PrivateMessage application message",
            }),
        }
    }
}

impl TryFrom<MlsMessageIn> for ApplicationMessage {
    type Error = DecodeError;

    /// Accepts only a `PrivateMessage` with content type application.
    fn try_from(message: MlsMessageIn) -> Result<Self, DecodeError> {
        match classify(message, "application message")? {
            Classified::Application(m) => Ok(m),
            _ => Err(DecodeError::Invalid {
                what: "application message",
                reason: "must be a PrivateMessage application message",
            }),
        }
    }
}

impl Size for ApplicationMessage {
    fn tls_serialized_len(&self) -> usize {
        HEADER_LEN + self.0.tls_serialized_len()
    }
}

impl Serialize for ApplicationMessage {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let header = write_header(writer, WIRE_PRIVATE)?;
        Ok(header + self.0.tls_serialize(writer)?)
    }
}

/// A `Welcome` wrapped in an `MLSMessage` (the fan-out form; the update bundle
/// carries the bare struct).
pub(crate) struct WelcomeAsMessage<'a>(pub(crate) &'a Welcome);

impl Size for WelcomeAsMessage<'_> {
    fn tls_serialized_len(&self) -> usize {
        HEADER_LEN + self.0.tls_serialized_len()
    }
}

impl Serialize for WelcomeAsMessage<'_> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let header = write_header(writer, WIRE_WELCOME)?;
        Ok(header + self.0.tls_serialize(writer)?)
    }
}

/// Reads the `Welcome` of a `HandshakeBundle` in either form (decisions
/// W-23): the draft's bare struct, or wrapped in an `MLSMessage` as OpenMLS
/// clients tend to send it. The forms differ in their first four bytes: a
/// wrapped Welcome starts `00 01 00 03` (mls10, wire format welcome), which as
/// a bare Welcome would be cipher suite 1 with an empty `secrets` vector, a
/// Welcome for nobody that no sender produces.
pub(crate) fn read_welcome(r: &mut Reader<'_>, what: &'static str) -> Result<Welcome, DecodeError> {
    const WRAPPED: [u8; HEADER_LEN] = [0, MLS10 as u8, 0, WIRE_WELCOME as u8];
    if !r.rest().starts_with(&WRAPPED) {
        return r.mls(what);
    }
    match r.mls::<MlsMessageIn>(what)?.extract() {
        MlsMessageBodyIn::Welcome(welcome) => Ok(welcome),
        _ => Err(DecodeError::Invalid {
            what,
            reason: "wrapped Welcome is not a Welcome",
        }),
    }
}

/// Reads one `MLSMessage` and sorts it (digest §3.5: by wire format, then by
/// content type). Group info, key package and unknown wire formats are refused.
pub(crate) fn read_classified(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Classified, DecodeError> {
    let message: MlsMessageIn = r.mls(what)?;
    classify(message, what)
}

fn classify(message: MlsMessageIn, what: &'static str) -> Result<Classified, DecodeError> {
    match message.extract() {
        MlsMessageBodyIn::PublicMessage(m) => match m.content_type() {
            ContentType::Proposal => Ok(Classified::Proposal(ProposalMessage(Box::new(m)))),
            ContentType::Commit => Ok(Classified::Commit(CommitMessage(Box::new(m)))),
            ContentType::Application => Err(DecodeError::Invalid {
                what,
                reason: "application content in a PublicMessage",
            }),
        },
        MlsMessageBodyIn::PrivateMessage(m) => match m.content_type() {
            ContentType::Application => Ok(Classified::Application(ApplicationMessage(m))),
            ContentType::Proposal | ContentType::Commit => Err(DecodeError::Invalid {
                what,
                reason: "handshake in a PrivateMessage (the hub cannot read it)",
            }),
        },
        MlsMessageBodyIn::Welcome(w) => Ok(Classified::Welcome(Box::new(w))),
        _ => Err(DecodeError::Invalid {
            what,
            reason: "wire format not allowed here",
        }),
    }
}

fn write_header<W: Write>(writer: &mut W, wire_format: u16) -> Result<usize, tls_codec::Error> {
    Ok(MLS10.tls_serialize(writer)? + wire_format.tls_serialize(writer)?)
}
