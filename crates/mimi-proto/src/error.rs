//! The one error type of the wire layer.
//!
//! Decoding never panics: every way bytes can be wrong maps to a [`DecodeError`]
//! variant that says what was wrong. Encoding our own well-formed values cannot
//! fail except for lengths past the MLS 30-bit limit, reported as
//! [`EncodeError`].

use std::fmt;

/// Why bytes (or a string) could not be turned into a MIMI value.
///
/// `Copy` and allocation-free on purpose, so that hostile input cannot make error
/// reporting itself expensive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended in the middle of a value.
    #[error("input ended early")]
    Truncated,
    /// A whole value was read but bytes were left over.
    #[error("trailing bytes after the value")]
    TrailingBytes,
    /// A variable-length prefix was invalid: non-minimal, the reserved `11`
    /// prefix, or past the 30-bit MLS limit.
    #[error("invalid variable-length prefix")]
    InvalidLength,
    /// An enumeration or `select` discriminant held a value the draft does not define.
    #[error("unknown value {value} for {field}")]
    UnknownValue {
        /// The field whose value was unknown.
        field: &'static str,
        /// The value that was read.
        value: u64,
    },
    /// An `optional<T>` presence byte or a `bool` that was neither 0 nor 1.
    #[error("invalid presence or boolean byte in {0}")]
    InvalidBool(&'static str),
    /// A value exceeded a cap that bounds memory or work controlled by the peer.
    #[error("{0} exceeds its size limit")]
    TooLarge(&'static str),
    /// Text that must be UTF-8 was not.
    #[error("{0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// A `mimi://` identifier was malformed.
    #[error("invalid identifier: {0}")]
    Identifier(#[from] IdError),
    /// The bytes decoded but break a rule of the structure.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The structure or field.
        what: &'static str,
        /// The rule it broke.
        reason: &'static str,
    },
    /// An embedded MLS object (OpenMLS type) failed to decode.
    #[error("malformed MLS object in {0}")]
    Mls(&'static str),
}

/// Why our own value could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A vector was longer than the 2^30-1 bytes an MLS length prefix can express.
    #[error("value too long to encode")]
    TooLong,
}

/// Why a `mimi://` identifier string is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The string is empty.
    #[error("empty identifier")]
    Empty,
    /// Longer than [`crate::id::MAX_URI_LEN`] bytes.
    #[error("identifier longer than {} bytes", crate::id::MAX_URI_LEN)]
    TooLong,
    /// The scheme is not `mimi://`.
    #[error("scheme must be mimi://")]
    BadScheme,
    /// The authority is not a valid domain name.
    #[error("authority is not a valid domain name")]
    BadDomain,
    /// The first path segment names no known identifier type.
    #[error("unknown identifier type segment (expected u, p, d, r, g or t)")]
    UnknownType,
    /// A path segment is empty or holds a character outside RFC 3986 `pchar`.
    #[error("invalid path segment")]
    BadSegment,
    /// The number of path segments does not fit the identifier type.
    #[error("wrong number of path segments for this identifier type")]
    WrongShape,
    /// The identifier is of a different kind than required here.
    #[error("expected a {expected} identifier, found a {found} identifier")]
    WrongKind {
        /// What the caller needed.
        expected: crate::id::UriKind,
        /// What the string was.
        found: crate::id::UriKind,
    },
    /// On the wire, scheme and host must already be lower case, so that bytes
    /// round-trip exactly (the participant list is hashed into the MLS key schedule).
    #[error("scheme or host not in canonical lower case")]
    NotCanonical,
}

impl IdError {
    /// A small stable number for this error, used to carry it through tls_codec's
    /// string-only error type.
    pub(crate) fn code(self) -> u16 {
        match self {
            Self::Empty => 1,
            Self::TooLong => 2,
            Self::BadScheme => 3,
            Self::BadDomain => 4,
            Self::UnknownType => 5,
            Self::BadSegment => 6,
            Self::WrongShape => 7,
            Self::NotCanonical => 8,
            Self::WrongKind { expected, found } => 100 + 10 * expected.code() + found.code(),
        }
    }

    /// The inverse of [`IdError::code`].
    pub(crate) fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1 => Self::Empty,
            2 => Self::TooLong,
            3 => Self::BadScheme,
            4 => Self::BadDomain,
            5 => Self::UnknownType,
            6 => Self::BadSegment,
            7 => Self::WrongShape,
            8 => Self::NotCanonical,
            100..=199 => Self::WrongKind {
                expected: crate::id::UriKind::from_code((code - 100) / 10)?,
                found: crate::id::UriKind::from_code((code - 100) % 10)?,
            },
            _ => return None,
        })
    }
}

impl From<tls_codec::Error> for DecodeError {
    fn from(e: tls_codec::Error) -> Self {
        match e {
            tls_codec::Error::EndOfStream => Self::Truncated,
            tls_codec::Error::TrailingData => Self::TrailingBytes,
            tls_codec::Error::InvalidVectorLength | tls_codec::Error::InvalidInput => {
                Self::InvalidLength
            }
            tls_codec::Error::UnknownValue(value) => Self::UnknownValue {
                field: "enumeration",
                value,
            },
            _ => Self::Invalid {
                what: "TLS structure",
                reason: "does not decode",
            },
        }
    }
}

impl From<tls_codec::Error> for EncodeError {
    fn from(_: tls_codec::Error) -> Self {
        Self::TooLong
    }
}

impl fmt::Display for crate::id::UriKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
