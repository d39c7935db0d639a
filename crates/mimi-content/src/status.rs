//! Delivery reports and read receipts (draft-mahy-mimi-message-status-01,
//! digest B.12).
//!
//! ```cddl
//! MessageStatusReport = [ * PerMessageStatus ]
//! PerMessageStatus = [ messageId: MessageId, status: baseStatus / $extStatus / unknownStatus ]
//! baseStatus = &( unread: 0, delivered: 1, read: 2, expired: 3, deleted: 4, hidden: 5, error: 6 )
//! unknownStatus = &( unknown: 7..255 )
//! ```
//! A report travels as a SinglePart of type `application/mimi-message-status`
//! inside a MIMI content message, so it has a salt, an ID and franking.

use crate::cbor::{Reader, Writer};
use crate::error::DecodeError;
use crate::id::MessageId;
use crate::part::{Disposition, NestedPart, Part};

/// Media type of a message-status report.
pub const MESSAGE_STATUS_MEDIA_TYPE: &str = "application/mimi-message-status";

/// Smallest encoding of one entry: array head, 2-byte bstr head, 32-byte ID,
/// 1-byte status. Lets the decoder reject a huge declared count up front.
const MIN_ENTRY_LEN: u64 = 1 + 2 + 32 + 1;

/// A message's status for the reporter (0–255; unknown values round-trip).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageStatus(pub u8);

impl MessageStatus {
    /// Not yet read by the reporter.
    pub const UNREAD: Self = Self(0);
    /// A client of the reporter received it.
    pub const DELIVERED: Self = Self(1);
    /// Read.
    pub const READ: Self = Self(2);
    /// Gone through expiry.
    pub const EXPIRED: Self = Self(3);
    /// Deleted locally or by an authorized retraction.
    pub const DELETED: Self = Self(4);
    /// Hidden, e.g. archived.
    pub const HIDDEN: Self = Self(5);
    /// The ID is known but reception failed.
    pub const ERROR: Self = Self(6);

    /// The registered name, if any.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 7] = [
            "unread",
            "delivered",
            "read",
            "expired",
            "deleted",
            "hidden",
            "error",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }
}

/// One message and its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMessageStatus {
    /// The message.
    pub message_id: MessageId,
    /// Its status.
    pub status: MessageStatus,
}

/// Statuses of several messages of one room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageStatusReport {
    /// The entries, in the reporter's order.
    pub statuses: Vec<PerMessageStatus>,
}

impl MessageStatusReport {
    /// A report giving every message the same status.
    pub fn all(ids: impl IntoIterator<Item = MessageId>, status: MessageStatus) -> Self {
        Self {
            statuses: ids
                .into_iter()
                .map(|message_id| PerMessageStatus { message_id, status })
                .collect(),
        }
    }

    /// A delivery report for these messages.
    pub fn delivered(ids: impl IntoIterator<Item = MessageId>) -> Self {
        Self::all(ids, MessageStatus::DELIVERED)
    }

    /// A read receipt for these messages.
    pub fn read(ids: impl IntoIterator<Item = MessageId>) -> Self {
        Self::all(ids, MessageStatus::READ)
    }

    /// Decodes a report that spans all of `bytes`.
    ///
    /// # Errors
    /// The first rule broken, with its offset.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let start = r.offset();
        let n = r.array("MessageStatusReport")?;
        r.check_count(n, MIN_ENTRY_LEN, start)?;
        let mut statuses = Vec::new();
        for _ in 0..n {
            r.array_of("PerMessageStatus", 2)?;
            let id_start = r.offset();
            let id = r.bytes("messageId")?;
            let message_id = MessageId::from_slice(id).map_err(|k| k.at(id_start))?;
            let status = MessageStatus(r.uint_max("status", 255)? as u8);
            statuses.push(PerMessageStatus { message_id, status });
        }
        r.finish()?;
        Ok(Self { statuses })
    }

    /// Encodes the report (deterministic CBOR).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + self.statuses.len() * 37);
        w.array(self.statuses.len());
        for s in &self.statuses {
            w.array(2);
            w.bytes(s.message_id.as_bytes());
            w.uint(u64::from(s.status.0));
        }
        w.into_bytes()
    }

    /// The report as a body part (disposition unspecified).
    pub fn to_part(&self) -> NestedPart {
        NestedPart::single(
            Disposition::UNSPECIFIED,
            MESSAGE_STATUS_MEDIA_TYPE,
            self.encode(),
        )
    }

    /// The report in a body part, if the part is one.
    ///
    /// # Errors
    /// The part has the report media type but does not decode.
    pub fn from_part(part: &NestedPart) -> Result<Option<Self>, DecodeError> {
        match &part.part {
            Part::Single(single) if single.content_type == MESSAGE_STATUS_MEDIA_TYPE => {
                Self::decode(&single.content).map(Some)
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Malformed;

    const VECTOR: &[u8] = include_bytes!("../test_vectors/status.cbor");

    #[test]
    fn the_drafts_vector_decodes_and_re_encodes() {
        let report = MessageStatusReport::decode(VECTOR).expect("vector decodes");
        let got: Vec<(String, Option<&str>)> = report
            .statuses
            .iter()
            .map(|s| (s.message_id.to_hex()[..8].to_owned(), s.status.name()))
            .collect();
        assert_eq!(
            got,
            [
                ("017ce548".to_owned(), Some("read")),
                ("01535497".to_owned(), Some("read")),
                ("018d825a".to_owned(), Some("unread")),
                ("01e59db8".to_owned(), Some("expired")),
            ]
        );
        assert_eq!(report.encode(), VECTOR);
    }

    #[test]
    fn malformed_reports_are_typed_errors() {
        // Claims 2^16 entries.
        assert_eq!(
            MessageStatusReport::decode(&[0x9a, 0, 1, 0, 0]).map_err(|e| e.kind),
            Err(Malformed::Truncated)
        );
        // Status 256.
        let mut bad = VECTOR[..36].to_vec(); // header + first entry without its status
        bad[0] = 0x81;
        bad.extend_from_slice(&[0x19, 0x01, 0x00]);
        assert_eq!(
            MessageStatusReport::decode(&bad).map_err(|e| e.kind),
            Err(Malformed::ValueOutOfRange { field: "status" })
        );
        assert!(MessageStatusReport::decode(&[]).is_err());
    }

    #[test]
    fn unknown_statuses_round_trip() {
        let id = MessageId::from_slice(&[1; 32]).expect("valid id");
        let report = MessageStatusReport::all([id], MessageStatus(200));
        let bytes = report.encode();
        assert_eq!(MessageStatusReport::decode(&bytes), Ok(report.clone()));
        assert_eq!(MessageStatus(200).name(), None);
        assert_eq!(
            MessageStatusReport::from_part(&report.to_part()),
            Ok(Some(report))
        );
    }
}
