//! `POST /v1/submitMessage/{roomId}`: a follower submits an application
//! message to the hub, which may frank it (protocol-06 §5.4, §5.4.1).

use openmls::prelude::Ciphersuite;

use crate::codec::{Codec, Reader, Writer, tls_via_codec, wire_body, wire_enum};
use crate::components::ParticipantId;
use crate::error::{DecodeError, EncodeError};
use crate::messages::mls::ApplicationMessage;
use crate::messages::{Protocol, read_participant, read_protocol};

/// `SubmitMessageRequest` (protocol-06 §5.4).
///
/// ```text
/// struct {
///   Protocol protocol;
///   select (protocol) {
///     case mls10:
///       MLSMessage appMessage;
///       IdentifierUri sendingUri;
///   };
/// } SubmitMessageRequest;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitMessageRequest {
    /// The encrypted message (`PrivateMessage`, content type application).
    pub app_message: ApplicationMessage,
    /// The sender as asserted by its provider: an active participant, so a
    /// user or pseudonym URI (any other kind fails to decode). The hub cannot
    /// see the sender inside the ciphertext, so it relies on this (and franking
    /// lets receivers cross-check it).
    pub sending_uri: ParticipantId,
}

wire_body!(SubmitMessageRequest, "SubmitMessageRequest");

wire_enum! {
    /// `enum { accepted(0), notAllowed(1), epochTooOld(2), (255) } SubmitResponseCode;`
    pub enum SubmitResponseCode {
        /// The hub accepted the message and will fan it out.
        Accepted = 0,
        /// Refused by policy.
        NotAllowed = 1,
        /// The message is for an older epoch.
        EpochTooOld = 2,
    }
}

/// `Frank` (protocol-06 §5.4.1): the hub's franking of one message.
///
/// ```text
/// struct {
///   uint8 server_frank[32];
///   CipherSuite franking_signature_ciphersuite;
///   opaque franking_integrity_signature<V>;
/// } Frank;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frank {
    /// `HMAC-SHA256(hub_key, franking_tag || context)`.
    pub server_frank: [u8; 32],
    /// The suite of the hub's franking key (the room's suite).
    pub franking_signature_ciphersuite: Ciphersuite,
    /// `SignWithLabel(franking key, "FrankingIntegrityTBS", ...)`.
    pub franking_integrity_signature: Vec<u8>,
}

tls_via_codec!(Frank);

/// `SubmitMessageResponse` (protocol-06 §5.4), one variant per status code.
///
/// ```text
/// struct {
///   Protocol protocol;
///   select (protocol) {
///     case mls10:
///       SubmitResponseCode statusCode;
///       select (statusCode) {
///         case accepted:                  // draft: "case success" (decisions W-7)
///           uint64 accepted_timestamp;
///           optional<Frank> frank;
///         case epochTooOld:
///           uint64 currentEpoch;
///       };
///   };
/// } SubmitMessageResponse;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitMessageResponse {
    /// `accepted`.
    Accepted {
        /// Acceptance time, milliseconds since the UNIX epoch.
        accepted_timestamp: u64,
        /// The frank, if the message asked for franking.
        frank: Option<Frank>,
    },
    /// `notAllowed`.
    NotAllowed,
    /// `epochTooOld`.
    EpochTooOld {
        /// The hub's current epoch.
        current_epoch: u64,
    },
}

impl SubmitMessageResponse {
    /// The wire code.
    pub fn status_code(&self) -> SubmitResponseCode {
        match self {
            Self::Accepted { .. } => SubmitResponseCode::Accepted,
            Self::NotAllowed => SubmitResponseCode::NotAllowed,
            Self::EpochTooOld { .. } => SubmitResponseCode::EpochTooOld,
        }
    }
}

wire_body!(SubmitMessageResponse, "SubmitMessageResponse");

impl Codec for SubmitMessageRequest {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(r)?;
        Ok(Self {
            app_message: ApplicationMessage::read(r, "SubmitMessageRequest.appMessage")?,
            sending_uri: read_participant(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        Protocol::Mls10.write(w);
        w.mls(&self.app_message)?;
        w.opaque(self.sending_uri.as_bytes())
    }
}

impl Codec for Frank {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            server_frank: r.array()?,
            franking_signature_ciphersuite: r.mls("Frank.franking_signature_ciphersuite")?,
            franking_integrity_signature: r.opaque_uncapped()?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.bytes(&self.server_frank);
        w.mls(&self.franking_signature_ciphersuite)?;
        w.opaque(&self.franking_integrity_signature)
    }
}

impl Codec for SubmitMessageResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(r)?;
        Ok(
            match SubmitResponseCode::read(r, "SubmitMessageResponse.statusCode")? {
                SubmitResponseCode::Accepted => Self::Accepted {
                    accepted_timestamp: r.u64()?,
                    frank: r.optional("SubmitMessageResponse.frank", Frank::read)?,
                },
                SubmitResponseCode::NotAllowed => Self::NotAllowed,
                SubmitResponseCode::EpochTooOld => Self::EpochTooOld {
                    current_epoch: r.u64()?,
                },
            },
        )
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        Protocol::Mls10.write(w);
        self.status_code().write(w);
        match self {
            Self::Accepted {
                accepted_timestamp,
                frank,
            } => {
                w.u64(*accepted_timestamp);
                w.optional(frank.as_ref(), |w, f| f.write(w))
            }
            Self::NotAllowed => Ok(()),
            Self::EpochTooOld { current_epoch } => {
                w.u64(*current_epoch);
                Ok(())
            }
        }
    }
}
