//! The error types of the content layer.
//!
//! Three families, because callers branch on them differently:
//! - [`DecodeError`] (a position plus a [`Malformed`] kind): the bytes are not a
//!   valid message. `Copy` and allocation-free, so hostile input cannot make
//!   error reporting itself expensive.
//! - [`Discard`]: the message decodes but a receiver rule says drop it (draft
//!   §"Security Considerations"). Each variant names its rule ID (`CR-n`).
//! - [`Error`]: everything an API call can return, wrapping the two above plus
//!   the builder, attachment and franking failures.

/// What is wrong with a message, independent of where it was found.
///
/// Used with a byte offset in [`DecodeError`] when received bytes break a rule,
/// and alone in [`Error::Invalid`] when a value built in memory does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    // --- CBOR well-formedness (RFC 8949 §3) ---
    /// The input ended in the middle of an item, or a declared length or count
    /// is larger than the bytes that remain.
    #[error("input ended early (or a declared length exceeds the remaining bytes)")]
    Truncated,
    /// A whole message was read but bytes were left over.
    #[error("trailing bytes after the message")]
    TrailingBytes,
    /// An indefinite-length string, array or map, or a stray "break" byte.
    /// Deterministic encoding forbids them (RFC 8949 §4.2.1).
    #[error("indefinite-length item (deterministic CBOR forbids them)")]
    IndefiniteLength,
    /// Additional information 28–30, or 31 on a major type without an
    /// indefinite form: not well-formed CBOR.
    #[error("reserved additional-information value in an item head")]
    ReservedAdditionalInfo,
    /// An argument encoded in more bytes than needed (RFC 8949 §4.2.1).
    #[error("non-minimal integer or length encoding")]
    NonMinimalHead,
    /// A two-byte simple value below 32: not well-formed (RFC 8949 §3.3).
    #[error("invalid two-byte simple value")]
    InvalidSimpleValue,
    /// A text string that is not valid UTF-8.
    #[error("{field}: text string is not valid UTF-8")]
    NotUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// An item of the wrong CBOR type.
    #[error("{field}: expected {expected}")]
    UnexpectedType {
        /// The field being read.
        field: &'static str,
        /// What the draft's CDDL requires there.
        expected: &'static str,
    },

    // --- Deterministic encoding (RFC 8949 §4.2.1) ---
    /// Map keys out of bytewise order of their encodings.
    #[error("map keys are not in deterministic (bytewise) order")]
    UnsortedMapKeys,
    /// The same key twice in one map.
    #[error("duplicate map key")]
    DuplicateMapKey,
    /// A float that a shorter float would represent exactly.
    #[error("float not in its shortest exact form")]
    NonMinimalFloat,
    /// A NaN other than the half-precision quiet NaN `0xf97e00`.
    #[error("NaN other than the half-precision quiet NaN 0xf97e00")]
    NonCanonicalNan,
    /// A bignum (tag 2/3) with leading zero bytes or a value that fits in a
    /// plain integer.
    #[error("bignum that is not in preferred form (leading zeros, or fits an integer)")]
    NonMinimalBignum,

    // --- Content data model (draft §"Data model restrictions") ---
    /// A map key inside an extension that is not an integer, text or bytes,
    /// or a top-level extension key that is not an integer or text.
    #[error("map key of a type the data model does not allow")]
    MapKeyType,
    /// An integer map key outside ±(2^53−1).
    #[error("integer map key outside ±(2^53-1)")]
    MapKeyOutOfRange,
    /// Extension key 0, which the IANA registry reserves.
    #[error("extension key 0 is reserved")]
    ReservedExtensionKey,
    /// A text extension key that is empty or longer than 255 bytes.
    #[error("text extension key must be 1 to 255 bytes")]
    ExtensionKeyLength,
    /// A registered extension whose value has the wrong type (senderUri and
    /// roomUri must be text).
    #[error("extension {key}: value must be a text string")]
    ExtensionValueType {
        /// The registered key.
        key: u64,
    },
    /// Tags, maps or arrays nested more than 4 levels, counting the
    /// extensions map as level 1.
    #[error("extension value nested deeper than 4 levels")]
    ExtensionTooDeep,
    /// A simple value that has a dedicated form (false, true, null,
    /// undefined) or that is reserved, built in memory.
    #[error("simple value {0} must use its dedicated form")]
    SimpleValueForm(u8),

    // --- MIMI content structure (draft §"MIMI Content Container") ---
    /// An array or byte string of the wrong length.
    #[error("{field}: expected length {expected}, found {found}")]
    WrongLength {
        /// The field being read.
        field: &'static str,
        /// The length the draft requires.
        expected: u64,
        /// The length found.
        found: u64,
    },
    /// An integer too large for its field (`uint .size N`, a uint8 code point).
    #[error("{field}: value out of range")]
    ValueOutOfRange {
        /// The field being read.
        field: &'static str,
    },
    /// A NestedPart cardinality outside 0–3.
    #[error("unknown NestedPart cardinality {0}")]
    UnknownCardinality(u64),
    /// A NestedPart whose array length does not fit its cardinality (3 items
    /// for null, 5 for single and multi, 15 for external).
    #[error("NestedPart with cardinality {cardinality} has {array_len} items")]
    CardinalityMismatch {
        /// The cardinality read.
        cardinality: u64,
        /// The array length read.
        array_len: u64,
    },
    /// A PartSemantics value outside 0–2. The draft calls this malicious.
    #[error("unknown PartSemantics {0}")]
    UnknownPartSemantics(u64),
    /// A MultiPart with fewer than 2 parts (CDDL `[2* NestedPart]`).
    #[error("MultiPart needs at least 2 parts")]
    TooFewParts,
    /// NestedParts more than 4 levels deep.
    #[error("body nested more than 4 levels deep")]
    TooDeep,
    /// More than 1024 NestedParts in one body.
    #[error("body has more than 1024 parts")]
    TooManyParts,
    /// A topicId longer than 4096 bytes.
    #[error("topicId longer than 4096 bytes")]
    TopicTooLong,
    /// A message ID whose first byte is not a known hash algorithm (only
    /// 0x01 = sha-256 is defined).
    #[error("message ID starts with unknown hash algorithm {0:#04x}")]
    UnknownHashAlgorithm(u8),

    // --- TLS-encoded structures (SafeAAD, FrankAAD) ---
    /// A TLS variable-length prefix that is invalid or non-minimal.
    #[error("invalid TLS variable-length prefix")]
    InvalidVarint,
    /// A TLS vector whose elements do not fill exactly its declared length.
    #[error("TLS vector contents do not match its declared length")]
    TlsLengthMismatch,
    /// SafeAAD items not in strictly increasing component-ID order.
    #[error("SafeAAD items not sorted by component id, or duplicated")]
    UnsortedComponents,
}

/// Received bytes that are not a valid message: where and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Offset in the input of the item that broke the rule.
    pub offset: usize,
    /// The rule it broke.
    pub kind: Malformed,
}

/// A receiver rule that says to log and drop a message that decoded fine
/// (draft-ietf-mimi-content §"Security Considerations", digest B.10/B.3).
///
/// Each variant carries a rule ID (`CR-n`); the tests in `received.rs` are
/// named after the rules. Readings of the draft's vague limits are recorded in
/// `docs/decisions.md` (CT-4, CT-5, CT-10, CT-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Discard {
    /// CR-1: the senderUri extension differs from the sender's credential.
    #[error("senderUri differs from the sender's credential identity")]
    SenderMismatch,
    /// CR-2: the roomUri extension differs from the room the message arrived in.
    #[error("roomUri differs from the room")]
    RoomMismatch,
    /// CR-3: larger than the local size limit.
    #[error("message of {len} bytes exceeds the local limit of {max}")]
    TooLarge {
        /// The message size.
        len: usize,
        /// The local limit.
        max: usize,
    },
    /// CR-4: hub timestamp more than the allowed skew in the future.
    #[error("hub timestamp is in the future")]
    TimestampInFuture,
    /// CR-5: hub timestamp before the content format existed.
    #[error("hub timestamp predates the MIMI content format")]
    TimestampBeforeFormat,
    /// CR-6: hub timestamp before the room was created.
    #[error("hub timestamp predates the room")]
    TimestampBeforeRoom,
    /// CR-7: an absolute expiry more than a year in the past.
    #[error("expiry more than a year in the past")]
    ExpiresInPast,
    /// CR-8: an expiry more than a year in the future.
    #[error("expiry more than a year in the future")]
    ExpiresTooFar,
    /// CR-9: a NullPart body on a message that replaces nothing: a body with
    /// zero parts is only allowed to delete or unlike.
    #[error("empty body (NullPart) without replaces")]
    EmptyBodyWithoutReplaces,
}

/// Every error an API call of this crate can return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Received bytes are not a valid message.
    #[error("malformed content: {0}")]
    Decode(#[from] DecodeError),
    /// A value built in memory breaks a rule and cannot be encoded.
    #[error("invalid content: {0}")]
    Invalid(Malformed),
    /// A receiver rule says to drop the message.
    #[error("discard: {0}")]
    Discard(#[from] Discard),
    /// The message ID needs a sender or room URI that is neither in the
    /// extensions map nor supplied by the caller.
    #[error("message ID needs the {0} URI")]
    MissingUri(&'static str),
    /// A URI longer than the 16-bit length prefix of the message-ID input.
    #[error("{0} URI longer than 65535 bytes")]
    UriTooLong(&'static str),
    /// A mention target that cannot be written as a Markdown link destination.
    #[error("mention target is not a usable URI")]
    InvalidMentionUri,
    /// An ExternalPart uses an encryption algorithm this crate does not implement.
    #[error("unsupported attachment encryption algorithm {0}")]
    UnsupportedEncryption(u16),
    /// An ExternalPart uses a hash algorithm this crate does not implement.
    #[error("unsupported attachment hash algorithm {0}")]
    UnsupportedHash(u8),
    /// The AEAD key or nonce has the wrong length for the algorithm.
    #[error("attachment key or nonce has the wrong length")]
    AttachmentKeyLength,
    /// The downloaded file's size differs from the ExternalPart's `size`.
    #[error("attachment is {actual} bytes, the message says {expected}")]
    AttachmentSize {
        /// The size the message declares.
        expected: u64,
        /// The size downloaded.
        actual: u64,
    },
    /// The downloaded file's hash differs from `contentHash`.
    #[error("attachment hash does not match contentHash")]
    AttachmentHash,
    /// AEAD decryption failed (wrong key, or the file was altered).
    #[error("attachment decryption failed")]
    AttachmentDecrypt,
    /// AEAD encryption failed (input larger than AES-GCM allows).
    #[error("attachment encryption failed")]
    AttachmentEncrypt,
    /// A franking tag did not verify.
    #[error("franking tag does not match the message")]
    FrankingTagMismatch,
    /// A franking operation needs a SafeAAD `frank_aad` item that is absent.
    #[error("no frank_aad item in the SafeAAD")]
    NoFrankAad,
    /// Encoding a TLS structure failed (length past the MLS 30-bit limit).
    #[error("TLS encoding failed")]
    TlsEncode,
}

impl Malformed {
    /// Attaches a byte offset.
    pub(crate) fn at(self, offset: usize) -> DecodeError {
        DecodeError { offset, kind: self }
    }
}
