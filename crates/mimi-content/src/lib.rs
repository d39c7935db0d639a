//! MIMI message content (draft-ietf-mimi-content, editor's copy "-08"):
//! a strict deterministic-CBOR codec, message IDs, builders, attachments,
//! delivery and read receipts, and the franking inputs the hub needs.
//!
//! # Layout
//! - [`MimiContent`] (`content`), [`NestedPart`] (`part`) and [`Extensions`]
//!   (`extensions`): the message and its codec. [`Value`] (`value`) models
//!   arbitrary extension values. The CBOR reader and writer (`cbor`) are private.
//! - [`ReceivedContent`] (`received`): received bytes with their decoding, the
//!   message ID over the exact bytes, and the receiver's discard rules.
//! - [`MessageId`] and [`Salt`] (`id`): the -08 message-ID formula.
//! - [`ContentBuilder`] (`builder`): text, reply, reaction, unlike, edit,
//!   delete, expiring, mention and attachment messages without touching CBOR;
//!   [`markdown`] holds the GFM-MIMI helpers.
//! - [`EncryptedAttachment`] (`attachment`): AES-GCM file encryption and the
//!   ExternalPart that describes it.
//! - [`MessageStatusReport`] (`status`): draft-mahy-mimi-message-status-01.
//! - [`franking`]: SafeAAD, `frank_aad` and the franking tag.
//! - [`inspect`]: a JSON summary for operators.
//!
//! # Errors
//! [`DecodeError`] (offset + [`Malformed`]) for bytes that are not a valid
//! message, [`Discard`] for receiver rules, [`Error`] for everything else.
//! No input makes this crate panic or allocate more than the input's size.
//!
//! # Example
//! ```
//! use mimi_content::{ContentBuilder, ReceivedContent};
//!
//! let sent = ContentBuilder::new("mimi://example.com/u/alice", "mimi://example.com/r/team")
//!     .markdown("Release **2.0** is out")
//!     .expect("valid message");
//! let received = ReceivedContent::decode(sent.bytes.clone()).expect("decodes");
//! assert_eq!(received.message_id(), Ok(sent.message_id));
//! ```

#![forbid(unsafe_code)]

mod attachment;
mod builder;
mod cbor;
mod content;
mod error;
mod extensions;
pub mod franking;
#[doc(hidden)]
pub mod fuzzing;
mod id;
pub mod inspect;
pub mod markdown;
mod part;
mod received;
mod status;
mod value;

pub use attachment::EncryptedAttachment;
pub use builder::{ContentBuilder, EncodedContent};
pub use content::{Expiration, MAX_TOPIC_LEN, MimiContent};
pub use error::{DecodeError, Discard, Error, Malformed};
pub use extensions::{Extensions, MAX_TEXT_KEY_LEN, ROOM_URI_KEY, SENDER_URI_KEY};
pub use id::{MessageId, SHA256_HASH_ID, Salt};
pub use part::{
    Disposition, EncryptionAlgorithm, ExternalPart, HashAlgorithm, MAX_PART_DEPTH, MAX_PARTS,
    MultiPart, NestedPart, Part, PartRef, PartSemantics, SinglePart,
};
pub use received::{
    CONTENT_FORMAT_EPOCH_MS, EXPIRY_WINDOW_SECS, ReceiveContext, ReceiveLimits, ReceivedContent,
};
pub use status::{MESSAGE_STATUS_MEDIA_TYPE, MessageStatus, MessageStatusReport, PerMessageStatus};
pub use value::{Float, MAX_EXTENSION_DEPTH, MAX_SAFE_INTEGER, MapKey, Value};

/// Media type of MIMI content (draft §"IANA Considerations").
pub const MIMI_CONTENT_MEDIA_TYPE: &str = "application/mimi-content";
