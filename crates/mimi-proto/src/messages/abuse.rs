//! `POST /v1/reportAbuse/{roomId}`: a participant's provider reports abusive
//! messages to the hub, with the franks that let the hub check them
//! (protocol-06 §5.9).

use openmls::prelude::AppDataDictionary;
use tls_codec::VLByteSlice;

use crate::codec::{Reader, Utf8String, tls_fields, tls_read, wire_body};
use crate::components::ParticipantId;
use crate::error::DecodeError;
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

tls_fields!(AbusiveMessage, |s| [
    VLByteSlice(&s.message_content),
    s.frank,
    s.accepted_timestamp,
]);
tls_read!(AbusiveMessage);

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

tls_fields!(AbuseType, |s| [s.0]);

impl tls_codec::DeserializeBytes for AbuseType {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (value, rest) = u8::tls_deserialize_bytes(bytes)?;
        Ok((Self(value), rest))
    }
}

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

tls_fields!(AbuseReport, |s| [
    VLByteSlice(
        s.reporting_user
            .as_ref()
            .map_or(&[][..], ParticipantId::as_bytes)
    ),
    VLByteSlice(s.alleged_abuser_uri.as_bytes()),
    s.reason_code,
    s.note,
    s.messages,
    s.abuse_extensions,
]);
wire_body!(AbuseReport, "AbuseReport");

impl AbusiveMessage {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message_content: r.opaque_uncapped()?.to_vec(),
            frank: Frank::read(r)?,
            accepted_timestamp: r.u64()?,
        })
    }
}

impl AbuseReport {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reporting_user: match r.opaque_uncapped()? {
                [] => None,
                raw => Some(ParticipantId::parse_canonical(raw)?),
            },
            alleged_abuser_uri: read_participant(r)?,
            reason_code: AbuseType(r.u8()?),
            note: r.item("AbuseReport.note")?,
            messages: r.vector(
                "AbuseReport.messages",
                MAX_REPORTED_MESSAGES,
                AbusiveMessage::read,
            )?,
            abuse_extensions: r.mls("AbuseReport.abuse_extensions")?,
        })
    }
}
