//! The top-level message (draft §"MIMI Content Container", digest B.2).
//!
//! ```cddl
//! mimiContent = [
//!   salt: bstr .size 16,
//!   replaces: null / MessageId,       ; {1}
//!   topicId: bstr,                    ; {2}
//!   expires: null / Expiration,       ; {3}
//!   inReplyTo: null / MessageId,      ; {4}
//!   mimiExtensions: extensions,       ; {6}
//!   nestedPart: NestedPart            ; {7}
//! ]
//! Expiration = [ relative: bool, time: uint .size 4 ]
//! ```

use crate::cbor::{Reader, Writer};
use crate::error::{DecodeError, Error, Malformed};
use crate::extensions::Extensions;
use crate::id::{MessageId, Salt};
use crate::part::NestedPart;

/// Longest topicId, in bytes: receivers treat longer ones as malicious (draft
/// §"Security Considerations"). Bounds per-message memory for topic indexes.
pub const MAX_TOPIC_LEN: usize = 4096;

/// A decoded or composed MIMI content message.
///
/// Fields are public; [`MimiContent::encode`] checks the structural rules
/// (topic length, body depth and size) before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimiContent {
    /// Per-message random salt; keys the franking tag.
    pub salt: Salt,
    /// The first version of the message this one edits, deletes or changes.
    pub replaces: Option<MessageId>,
    /// Topic or thread; empty = none.
    pub topic_id: Vec<u8>,
    /// When to delete the message locally.
    pub expires: Option<Expiration>,
    /// The exact version of the message this one replies or reacts to.
    pub in_reply_to: Option<MessageId>,
    /// The extensions map (sender and room URIs, others).
    pub extensions: Extensions,
    /// The body.
    pub body: NestedPart,
}

/// A delete-after hint (`Expiration = [relative: bool, time: uint .size 4]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Expiration {
    /// True: `time` seconds after the receiver reads the message. False:
    /// `time` is seconds since the UNIX epoch.
    pub relative: bool,
    /// Seconds (see `relative`).
    pub time: u32,
}

impl Expiration {
    /// Delete `seconds` after the receiver reads the message.
    pub fn after_reading(seconds: u32) -> Self {
        Self {
            relative: true,
            time: seconds,
        }
    }

    /// Delete at an absolute time, in seconds since the UNIX epoch.
    pub fn at(unix_seconds: u32) -> Self {
        Self {
            relative: false,
            time: unix_seconds,
        }
    }
}

impl MimiContent {
    /// Decodes one message that must span all of `bytes`.
    ///
    /// Accepts only the deterministic encoding, so re-encoding a decoded
    /// message reproduces `bytes` exactly.
    ///
    /// # Errors
    /// The first rule broken, with the offset of the offending item.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.array_of("mimiContent", 7)?;
        let salt = Salt::from_bytes(r.bytes_exact::<16>("salt")?);
        let replaces = decode_message_id(&mut r, "replaces")?;
        let topic_start = r.offset();
        let topic_id = r.bytes("topicId")?;
        if topic_id.len() > MAX_TOPIC_LEN {
            return Err(Malformed::TopicTooLong.at(topic_start));
        }
        let expires = if r.null() {
            None
        } else {
            r.array_of("expires", 2)?;
            Some(Expiration {
                relative: r.bool("expires.relative")?,
                time: r.uint_max("expires.time", u64::from(u32::MAX))? as u32,
            })
        };
        let in_reply_to = decode_message_id(&mut r, "inReplyTo")?;
        let extensions = Extensions::decode(&mut r)?;
        let mut count = 0;
        let body = NestedPart::decode(&mut r, 1, &mut count)?;
        r.finish()?;
        Ok(Self {
            salt,
            replaces,
            topic_id: topic_id.to_vec(),
            expires,
            in_reply_to,
            extensions,
            body,
        })
    }

    /// Encodes the message deterministically.
    ///
    /// # Errors
    /// [`Error::Invalid`] if a rule is broken (see [`MimiContent::validate`]).
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        self.validate().map_err(Error::Invalid)?;
        let mut w = Writer::with_capacity(128 + self.topic_id.len());
        w.array(7);
        w.bytes(self.salt.as_bytes());
        encode_message_id(&mut w, self.replaces.as_ref());
        w.bytes(&self.topic_id);
        match self.expires {
            None => w.null(),
            Some(e) => {
                w.array(2);
                w.bool(e.relative);
                w.uint(u64::from(e.time));
            }
        }
        encode_message_id(&mut w, self.in_reply_to.as_ref());
        self.extensions.encode(&mut w);
        self.body.encode(&mut w);
        Ok(w.into_bytes())
    }

    /// Checks the rules that the types alone do not guarantee: topic length,
    /// body depth (≤ 4), part count (≤ 1024) and MultiPart size (≥ 2).
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), Malformed> {
        if self.topic_id.len() > MAX_TOPIC_LEN {
            return Err(Malformed::TopicTooLong);
        }
        self.body.validate(1, &mut 0)
    }
}

fn decode_message_id(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Option<MessageId>, DecodeError> {
    if r.null() {
        return Ok(None);
    }
    let start = r.offset();
    let bytes = r.bytes(field)?;
    match MessageId::from_slice(bytes) {
        Ok(id) => Ok(Some(id)),
        Err(Malformed::WrongLength {
            expected, found, ..
        }) => Err(Malformed::WrongLength {
            field,
            expected,
            found,
        }
        .at(start)),
        Err(other) => Err(other.at(start)),
    }
}

fn encode_message_id(w: &mut Writer, id: Option<&MessageId>) {
    match id {
        None => w.null(),
        Some(id) => w.bytes(id.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::part::{Disposition, Part};

    fn minimal() -> MimiContent {
        MimiContent {
            salt: Salt::from_bytes([7; 16]),
            replaces: None,
            topic_id: Vec::new(),
            expires: None,
            in_reply_to: None,
            extensions: Extensions::new(),
            body: NestedPart::new(Disposition::RENDER, Part::Null),
        }
    }

    #[test]
    fn minimal_message_layout() {
        let bytes = minimal().encode().expect("valid");
        let mut expected = vec![0x87, 0x50];
        expected.extend_from_slice(&[7; 16]);
        expected.extend_from_slice(&[0xf6, 0x40, 0xf6, 0xf6, 0xa0, 0x83, 0x01, 0x60, 0x00]);
        assert_eq!(bytes, expected);
        assert_eq!(MimiContent::decode(&bytes), Ok(minimal()));
    }

    #[test]
    fn structural_errors_name_the_field_and_offset() {
        let good = minimal().encode().expect("valid");

        let mut short_salt = good.clone();
        short_salt[1] = 0x4f; // 15-byte salt; the rest no longer lines up
        assert_eq!(
            MimiContent::decode(&short_salt).map_err(|e| (e.offset, e.kind)),
            Err((
                1,
                Malformed::WrongLength {
                    field: "salt",
                    expected: 16,
                    found: 15
                }
            ))
        );

        let mut six = good.clone();
        six[0] = 0x86;
        assert!(matches!(
            MimiContent::decode(&six).map_err(|e| e.kind),
            Err(Malformed::WrongLength { found: 6, .. })
        ));

        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            MimiContent::decode(&trailing).map_err(|e| e.kind),
            Err(Malformed::TrailingBytes)
        );

        for cut in 0..good.len() {
            assert_eq!(
                MimiContent::decode(&good[..cut]).map_err(|e| e.kind),
                Err(Malformed::Truncated),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn topic_limit_is_enforced_both_ways() {
        let mut msg = minimal();
        msg.topic_id = vec![b't'; MAX_TOPIC_LEN];
        let bytes = msg.encode().expect("4096 is allowed");
        assert_eq!(MimiContent::decode(&bytes), Ok(msg.clone()));

        msg.topic_id.push(b't');
        assert_eq!(msg.encode(), Err(Error::Invalid(Malformed::TopicTooLong)));
        let mut long = minimal();
        long.topic_id = vec![b't'; MAX_TOPIC_LEN];
        let mut bytes = long.encode().expect("valid");
        // Grow the topic by one byte by hand: head 0x59 0x10 0x00 -> 0x10 0x01.
        let at = 2 + 16 + 1;
        assert_eq!(&bytes[at..at + 3], &[0x59, 0x10, 0x00]);
        bytes[at + 2] = 0x01;
        bytes.insert(at + 3, b't');
        assert_eq!(
            MimiContent::decode(&bytes).map_err(|e| e.kind),
            Err(Malformed::TopicTooLong)
        );
    }

    #[test]
    fn expiration_fields_are_checked() {
        let mut msg = minimal();
        msg.expires = Some(Expiration::after_reading(u32::MAX));
        let bytes = msg.encode().expect("valid");
        assert_eq!(MimiContent::decode(&bytes), Ok(msg));
        // [false, 2^32] does not fit uint .size 4.
        let mut bad = minimal().encode().expect("valid");
        let at = 2 + 16 + 2; // the expires null
        assert_eq!(bad[at], 0xf6);
        bad.splice(at..=at, [0x82, 0xf4, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(
            MimiContent::decode(&bad).map_err(|e| e.kind),
            Err(Malformed::ValueOutOfRange {
                field: "expires.time"
            })
        );
    }
}
