//! Decoding and encoding MIMI values in TLS presentation language: the public
//! entry points ([`WireMessage`], [`decode_exact`], [`Utf8String`]) and the
//! one reader and writer every protocol body and room-state component is
//! written with.
//!
//! Values are read by hand rather than with `tls_codec` derives so that each
//! failure is a precise, allocation-free [`DecodeError`] naming the field (a
//! presence byte of 2 in `SubmitMessageResponse.frank` is
//! `InvalidBool("SubmitMessageResponse.frank")`), so that every vector has a
//! named cap on its item count, and so that embedded MLS objects are checked to
//! be canonically encoded. The encoding is the one `tls_codec` with the `mls`
//! feature produces (RFC 9420 §2.1). Reader and writer share no code, so the
//! round-trip tests check one against the other, and the writer's varint is
//! checked against `tls_codec` itself.
//!
//! Every body and component also implements the `tls_codec` traits, so it
//! composes with `tls_codec`-derived structs. A precise error crossing that
//! boundary travels as a `tls_codec::Error` (`to_tls_error`) and comes back
//! out of [`decode_exact`] as a [`DecodeError`] (`map_error`).
//!
//! Crate-private, one file each:
//! - `Reader` (`reader.rs`): bounds-checked reads, vectors with named caps,
//!   `optional<T>`, `bool`, varint lengths, embedded OpenMLS objects.
//! - `Writer` (`writer.rs`): the same shapes, front to back.
//! - `Codec` (here): `read` and `write`, implemented by every body, part of a
//!   body and component.
//! - `macros.rs`: the `tls_codec` bridge, the public `decode`/`encode`
//!   methods and [`WireMessage`] over `Codec`, and closed `uint8`
//!   enumerations.
//! - `strings.rs`: [`Utf8String`] and the identifiers' `tls_codec` impls.

use tls_codec::{DeserializeBytes, Serialize};

use crate::error::{DecodeError, EncodeError, IdError};

mod macros;
mod reader;
mod strings;
mod writer;

pub(crate) use macros::{tls_via_codec, wire_body, wire_enum, wire_value};
pub(crate) use reader::Reader;
pub use strings::Utf8String;
pub(crate) use writer::Writer;

/// Largest body we decode, in bytes. Bounds the work one request can cause. A
/// commit adding 1000 members is about 300 KB and its Welcome about 340 KB
/// (spec/openmls-notes.md), so 16 MiB leaves room for rooms ten times larger.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;

/// Largest vector length MLS can express: the 30-bit varint (RFC 9420 §2.1.2).
const MAX_VL_LEN: usize = (1 << 30) - 1;

/// A MIMI body that can be decoded from and encoded to the wire.
///
/// Implemented for every top-level request and response body.
pub trait WireMessage: Serialize + DeserializeBytes + Sized {
    /// Name used in errors and logs.
    const NAME: &'static str;

    /// Decodes exactly one value from `bytes`.
    ///
    /// # Errors
    /// [`DecodeError::TooLarge`] past [`MAX_MESSAGE_LEN`], [`DecodeError::TrailingBytes`]
    /// if bytes are left over, or the error of the first malformed field.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, Self::NAME)
    }

    /// Encodes the value.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if a vector exceeds the MLS 30-bit length limit.
    fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(self.tls_serialize_detached()?)
    }
}

/// Decodes one `T` that must span all of `bytes`.
///
/// # Errors
/// See [`WireMessage::decode`].
pub fn decode_exact<T: DeserializeBytes>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, DecodeError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DecodeError::TooLarge(what));
    }
    let (value, rest) = T::tls_deserialize_bytes(bytes).map_err(|e| map_error(e, what))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(value)
}

/// The hand-written TLS-PL codec of a body, a part of one, or a component.
pub(crate) trait Codec: Sized {
    /// Reads one value from the front of `r`.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
    /// Appends the value's encoding to `w`.
    fn write(&self, w: &mut Writer) -> Result<(), EncodeError>;
    /// About how many bytes [`Codec::write`] appends, to size the buffer once
    /// (a hint, not a promise). For values encoded on a hot path.
    fn size_hint(&self) -> usize {
        0
    }
}

/// Decodes one `T` spanning all of `bytes`, with the precise errors of its
/// reader (unlike [`decode_exact`], which goes through `tls_codec`).
pub(crate) fn decode_all<T: Codec>(bytes: &[u8], what: &'static str) -> Result<T, DecodeError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DecodeError::TooLarge(what));
    }
    let mut r = Reader::new(bytes);
    let value = T::read(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Encodes one `T`.
pub(crate) fn encode_all<T: Codec>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::with_capacity(value.size_hint());
    value.write(&mut w)?;
    Ok(w.into_bytes())
}

/// Maps a tls_codec error, naming the structure for unknown enum values.
pub(crate) fn map_error(e: tls_codec::Error, what: &'static str) -> DecodeError {
    match e {
        tls_codec::Error::UnknownValue(value) => DecodeError::UnknownValue { field: what, value },
        tls_codec::Error::DecodingError(msg) => msg
            .strip_prefix(ID_ERROR_TAG)
            .and_then(|code| code.parse().ok())
            .and_then(IdError::from_code)
            .map_or(
                DecodeError::Invalid {
                    what,
                    reason: "malformed field",
                },
                DecodeError::Identifier,
            ),
        other => other.into(),
    }
}

/// Maps a tls_codec error from an OpenMLS decoder.
pub(crate) fn mls_error(e: tls_codec::Error, what: &'static str) -> DecodeError {
    match e {
        tls_codec::Error::EndOfStream => DecodeError::Truncated,
        tls_codec::Error::InvalidVectorLength => DecodeError::InvalidLength,
        tls_codec::Error::UnknownValue(value) => DecodeError::UnknownValue { field: what, value },
        _ => DecodeError::Mls(what),
    }
}

/// Carries one of our errors through `tls_codec`'s string-typed error, for the
/// `DeserializeBytes` impls (our own readers call each other directly and keep
/// the precise error).
pub(crate) fn to_tls_error(e: DecodeError) -> tls_codec::Error {
    match e {
        DecodeError::Truncated => tls_codec::Error::EndOfStream,
        DecodeError::TrailingBytes => tls_codec::Error::TrailingData,
        DecodeError::InvalidLength => tls_codec::Error::InvalidVectorLength,
        DecodeError::UnknownValue { value, .. } => tls_codec::Error::UnknownValue(value),
        other => tls_codec::Error::DecodingError(other.to_string()),
    }
}

/// tls_codec's error type carries only strings, so an identifier failure deep
/// inside a derived struct travels as a tagged code that [`map_error`] turns
/// back into [`DecodeError::Identifier`].
fn id_error(e: IdError) -> tls_codec::Error {
    tls_codec::Error::DecodingError(format!("{ID_ERROR_TAG}{}", e.code()))
}

const ID_ERROR_TAG: &str = "mimi-id:";
