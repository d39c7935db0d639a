//! `POST /v1/reportAbuse/{roomId}`: a participant's provider reports abusive
//! messages to the hub, with the franks that let the hub check them
//! (protocol-06 §5.9).

use openmls::prelude::AppDataDictionary;

use crate::codec::{Codec, Reader, Utf8String, Writer, tls_via_codec, wire_body};
use crate::components::ParticipantId;
use crate::error::{DecodeError, EncodeError};
use crate::messages::read_participant;
use crate::messages::submit::Frank;

/// Most messages one report may quote. Each costs the hub an HMAC and a
/// signature check.
pub const MAX_REPORTED_MESSAGES: usize = 100;

/// `AbusiveMessage` (protocol-06 §5.9).
///
/// ```text
/// struct {
///   opaque message_content<V>;
///   Frank frank;
///   uint64 accepted_timestamp;
/// } AbusiveMessage;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbusiveMessage {
    /// The decrypted MIMI content, as franked.
    pub message_content: Vec<u8>,
    /// The frank the hub issued for it.
    pub frank: Frank,
    /// The hub's acceptance time from the fan-out.
    pub accepted_timestamp: u64,
}

tls_via_codec!(AbusiveMessage);

/// `enum { reserved(0), (255) } AbuseType;` (protocol-06 §5.9).
///
/// The taxonomy is a TODO in the draft and the type selects no fields, so any
/// value is carried as is (decisions W-14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbuseType(pub u8);

impl AbuseType {
    /// `reserved(0)`, the only value the draft defines.
    pub const RESERVED: Self = Self(0);
}

tls_via_codec!(AbuseType);

/// `AbuseReport` (protocol-06 §5.9).
///
/// ```text
/// struct {
///   IdentifierUri reportingUser;          // may be empty (decisions W-19)
///   IdentifierUri allegedAbuserUri;
///   AbuseType reasonCode;
///   opaque note<V>;                       // UTF-8
///   AbusiveMessage messages<V>;
///   AppDataDictionary abuse_extensions;
/// } AbuseReport;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AbuseReport {
    /// The reporting user (or pseudonym), if they chose to be named; encoded as
    /// a zero-length `IdentifierUri` when not (decisions W-19).
    pub reporting_user: Option<ParticipantId>,
    /// The user or pseudonym reported.
    pub alleged_abuser_uri: ParticipantId,
    /// Why.
    pub reason_code: AbuseType,
    /// Free text, may be empty.
    pub note: Utf8String,
    /// The messages (at most [`MAX_REPORTED_MESSAGES`]).
    pub messages: Vec<AbusiveMessage>,
    /// Extension point.
    pub abuse_extensions: AppDataDictionary,
}

wire_body!(AbuseReport, "AbuseReport");

impl Codec for AbusiveMessage {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message_content: r.opaque_uncapped()?.to_vec(),
            frank: Frank::read(r)?,
            accepted_timestamp: r.u64()?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(&self.message_content)?;
        self.frank.write(w)?;
        w.u64(self.accepted_timestamp);
        Ok(())
    }
}

impl Codec for AbuseType {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u8().map(Self)
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u8(self.0);
        Ok(())
    }
}

impl Codec for AbuseReport {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reporting_user: match r.opaque_uncapped()? {
                [] => None,
                raw => Some(ParticipantId::parse_canonical(raw)?),
            },
            alleged_abuser_uri: read_participant(r)?,
            reason_code: AbuseType::read(r)?,
            note: r.item("AbuseReport.note")?,
            messages: r.vector(
                "AbuseReport.messages",
                MAX_REPORTED_MESSAGES,
                AbusiveMessage::read,
            )?,
            abuse_extensions: r.mls("AbuseReport.abuse_extensions")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        // An anonymous report names its reporter with a zero-length
        // identifier (decisions W-19).
        w.opaque(
            self.reporting_user
                .as_ref()
                .map_or(&[][..], ParticipantId::as_bytes),
        )?;
        w.opaque(self.alleged_abuser_uri.as_bytes())?;
        self.reason_code.write(w)?;
        w.opaque(self.note.as_str().as_bytes())?;
        w.vector(&self.messages, |w, m| m.write(w))?;
        w.mls(&self.abuse_extensions)
    }
}
