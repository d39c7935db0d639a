//! A received message: the exact bytes, their decoding, the message ID and
//! the receiver's discard rules (draft §"Security Considerations", digest B.10).
//!
//! Decoding already rejects everything that is wrong whatever the context
//! (non-deterministic CBOR, depth, part count, unknown PartSemantics, topicId
//! length, unknown hash byte in a referenced ID). [`ReceivedContent::check`]
//! applies the rules that need context: who sent it, where, and when.

use crate::content::MimiContent;
use crate::error::{DecodeError, Discard, Error};
use crate::id::MessageId;
use crate::part::Part;

/// Earliest plausible hub timestamp, in ms since the epoch: 2022-01-01T00:00:00Z.
/// The draft says to drop messages timestamped before its first concrete
/// syntax; the examples of that syntax are dated February 2022.
pub const CONTENT_FORMAT_EPOCH_MS: u64 = 1_640_995_200_000;

/// One year in seconds, the expiry window the draft allows either way.
pub const EXPIRY_WINDOW_SECS: u64 = 365 * 24 * 60 * 60;

/// Local limits for received content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveLimits {
    /// Largest message accepted, in bytes. The default, 1 MiB, is far above
    /// any text message: large media belongs in an ExternalPart.
    pub max_message_len: usize,
    /// How far in the future a hub timestamp may be ("a few minutes"); the
    /// default of 5 minutes absorbs ordinary clock skew.
    pub max_clock_skew_ms: u64,
}

impl Default for ReceiveLimits {
    fn default() -> Self {
        Self {
            max_message_len: 1024 * 1024,
            max_clock_skew_ms: 5 * 60 * 1000,
        }
    }
}

/// What a receiver knows about a message besides its content.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveContext<'a> {
    /// The user URI of the sender's MLS credential.
    pub sender_uri: &'a str,
    /// The room the message arrived in.
    pub room_uri: &'a str,
    /// The hub's acceptance timestamp, ms since the epoch.
    pub hub_timestamp_ms: u64,
    /// The receiver's clock, ms since the epoch.
    pub now_ms: u64,
    /// When the room was created, if known.
    pub room_created_ms: Option<u64>,
    /// Local limits.
    pub limits: ReceiveLimits,
}

/// A decoded message together with the exact bytes it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedContent {
    bytes: Vec<u8>,
    content: MimiContent,
}

impl ReceivedContent {
    /// Decodes received bytes and keeps them for the message ID and franking.
    ///
    /// # Errors
    /// See [`MimiContent::decode`].
    pub fn decode(bytes: impl Into<Vec<u8>>) -> Result<Self, DecodeError> {
        let bytes = bytes.into();
        let content = MimiContent::decode(&bytes)?;
        Ok(Self { bytes, content })
    }

    /// The decoded message.
    pub fn content(&self) -> &MimiContent {
        &self.content
    }

    /// The exact received bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Splits into bytes and decoded message.
    pub fn into_parts(self) -> (Vec<u8>, MimiContent) {
        (self.bytes, self.content)
    }

    /// The message ID from the sender and room URIs in the extensions.
    ///
    /// # Errors
    /// [`Error::MissingUri`] if either extension is absent (use
    /// [`ReceivedContent::message_id_with`]), [`Error::UriTooLong`].
    pub fn message_id(&self) -> Result<MessageId, Error> {
        let ext = &self.content.extensions;
        let sender = ext.sender_uri().ok_or(Error::MissingUri("sender"))?;
        let room = ext.room_uri().ok_or(Error::MissingUri("room"))?;
        MessageId::compute(sender, room, &self.bytes, &self.content.salt)
    }

    /// The message ID, taking each URI from the extensions when present and
    /// from the implied values (credential user, room) otherwise (digest B.6).
    ///
    /// # Errors
    /// [`Error::UriTooLong`].
    pub fn message_id_with(&self, sender_uri: &str, room_uri: &str) -> Result<MessageId, Error> {
        let ext = &self.content.extensions;
        MessageId::compute(
            ext.sender_uri().unwrap_or(sender_uri),
            ext.room_uri().unwrap_or(room_uri),
            &self.bytes,
            &self.content.salt,
        )
    }

    /// Applies the receiver's discard rules CR-1 to CR-9.
    ///
    /// Duplicate message IDs (also a discard rule) need the receiver's
    /// history and are left to the caller.
    ///
    /// # Errors
    /// The first rule that says to drop the message.
    pub fn check(&self, ctx: &ReceiveContext<'_>) -> Result<(), Discard> {
        let c = &self.content;
        // CR-3
        if self.bytes.len() > ctx.limits.max_message_len {
            return Err(Discard::TooLarge {
                len: self.bytes.len(),
                max: ctx.limits.max_message_len,
            });
        }
        // CR-1, CR-2: the extensions must name the credential's user and this
        // room (protocol §5.4.1 requires it for franking; we always do).
        if c.extensions
            .sender_uri()
            .is_some_and(|s| s != ctx.sender_uri)
        {
            return Err(Discard::SenderMismatch);
        }
        if c.extensions.room_uri().is_some_and(|r| r != ctx.room_uri) {
            return Err(Discard::RoomMismatch);
        }
        // CR-4, CR-5, CR-6
        if ctx.hub_timestamp_ms > ctx.now_ms.saturating_add(ctx.limits.max_clock_skew_ms) {
            return Err(Discard::TimestampInFuture);
        }
        if ctx.hub_timestamp_ms < CONTENT_FORMAT_EPOCH_MS {
            return Err(Discard::TimestampBeforeFormat);
        }
        if ctx
            .room_created_ms
            .is_some_and(|created| ctx.hub_timestamp_ms < created)
        {
            return Err(Discard::TimestampBeforeRoom);
        }
        // CR-7, CR-8
        if let Some(exp) = c.expires {
            let now_s = ctx.now_ms / 1000;
            let time = u64::from(exp.time);
            if exp.relative {
                if time > EXPIRY_WINDOW_SECS {
                    return Err(Discard::ExpiresTooFar);
                }
            } else if time.saturating_add(EXPIRY_WINDOW_SECS) < now_s {
                return Err(Discard::ExpiresInPast);
            } else if time > now_s.saturating_add(EXPIRY_WINDOW_SECS) {
                return Err(Discard::ExpiresTooFar);
            }
        }
        // CR-9
        if c.body.part == Part::Null && c.replaces.is_none() {
            return Err(Discard::EmptyBodyWithoutReplaces);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Expiration;

    const ALICE: &str = "mimi://example.com/u/alice-smith";
    const ROOM: &str = "mimi://example.com/r/engineering_team";
    /// The original example's hub timestamp.
    const TS: u64 = 1_644_387_225_019;

    fn original() -> ReceivedContent {
        ReceivedContent::decode(include_bytes!("../test_vectors/original.cbor").as_slice())
            .expect("vector decodes")
    }

    fn ctx() -> ReceiveContext<'static> {
        ReceiveContext {
            sender_uri: ALICE,
            room_uri: ROOM,
            hub_timestamp_ms: TS,
            now_ms: TS + 1000,
            room_created_ms: Some(TS - 1000),
            limits: ReceiveLimits::default(),
        }
    }

    fn with_expiry(exp: Expiration) -> ReceivedContent {
        let mut c = original().content().clone();
        c.expires = Some(exp);
        ReceivedContent::decode(c.encode().expect("valid")).expect("decodes")
    }

    #[test]
    fn the_original_example_passes_in_its_own_context() {
        assert_eq!(original().check(&ctx()), Ok(()));
    }

    #[test]
    fn sender_and_room_must_match_the_context() {
        let bob = ReceiveContext {
            sender_uri: "mimi://example.com/u/bob-jones",
            ..ctx()
        };
        assert_eq!(original().check(&bob), Err(Discard::SenderMismatch));
        let other = ReceiveContext {
            room_uri: "mimi://example.com/r/other",
            ..ctx()
        };
        assert_eq!(original().check(&other), Err(Discard::RoomMismatch));
    }

    #[test]
    fn timestamp_rules() {
        let future = ReceiveContext {
            now_ms: TS - 5 * 60 * 1000 - 1,
            ..ctx()
        };
        assert_eq!(original().check(&future), Err(Discard::TimestampInFuture));
        let skewed = ReceiveContext {
            now_ms: TS - 5 * 60 * 1000,
            ..ctx()
        };
        assert_eq!(original().check(&skewed), Ok(()));
        let ancient = ReceiveContext {
            hub_timestamp_ms: CONTENT_FORMAT_EPOCH_MS - 1,
            room_created_ms: None,
            ..ctx()
        };
        assert_eq!(
            original().check(&ancient),
            Err(Discard::TimestampBeforeFormat)
        );
        let before_room = ReceiveContext {
            room_created_ms: Some(TS + 1),
            ..ctx()
        };
        assert_eq!(
            original().check(&before_room),
            Err(Discard::TimestampBeforeRoom)
        );
    }

    #[test]
    fn expiry_rules() {
        let now_s = ((TS + 1000) / 1000) as u32;
        let year = EXPIRY_WINDOW_SECS as u32;
        assert_eq!(
            with_expiry(Expiration::at(now_s - year)).check(&ctx()),
            Ok(())
        );
        assert_eq!(
            with_expiry(Expiration::at(now_s - year - 1)).check(&ctx()),
            Err(Discard::ExpiresInPast)
        );
        assert_eq!(
            with_expiry(Expiration::at(now_s + year)).check(&ctx()),
            Ok(())
        );
        assert_eq!(
            with_expiry(Expiration::at(now_s + year + 1)).check(&ctx()),
            Err(Discard::ExpiresTooFar)
        );
        assert_eq!(
            with_expiry(Expiration::after_reading(year)).check(&ctx()),
            Ok(())
        );
        assert_eq!(
            with_expiry(Expiration::after_reading(year + 1)).check(&ctx()),
            Err(Discard::ExpiresTooFar)
        );
    }

    #[test]
    fn size_limit_and_empty_body() {
        let tiny = ReceiveContext {
            limits: ReceiveLimits {
                max_message_len: 100,
                ..ReceiveLimits::default()
            },
            ..ctx()
        };
        assert_eq!(
            original().check(&tiny),
            Err(Discard::TooLarge { len: 193, max: 100 })
        );
        let mut c = original().content().clone();
        c.body.part = Part::Null;
        let empty = ReceivedContent::decode(c.encode().expect("valid")).expect("decodes");
        assert_eq!(empty.check(&ctx()), Err(Discard::EmptyBodyWithoutReplaces));
    }

    #[test]
    fn message_id_falls_back_to_implied_uris_only_when_absent() {
        let received = original();
        let id = received.message_id().expect("has URIs");
        // Present extensions win over the implied values.
        assert_eq!(received.message_id_with("x", "y"), Ok(id));

        let mut c = received.content().clone();
        c.extensions = crate::Extensions::new();
        let bare = ReceivedContent::decode(c.encode().expect("valid")).expect("decodes");
        assert_eq!(bare.message_id(), Err(Error::MissingUri("sender")));
        let implied = bare.message_id_with(ALICE, ROOM).expect("short URIs");
        let direct = MessageId::compute(ALICE, ROOM, bare.bytes(), &c.salt).expect("short URIs");
        assert_eq!(implied, direct);
        assert_ne!(implied, id, "different bytes, different id");
    }
}
