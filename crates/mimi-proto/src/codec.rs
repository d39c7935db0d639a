//! Entry points for decoding and encoding whole MIMI bodies, and the tls_codec
//! glue for the few non-derived building blocks (identifiers, UTF-8 text).
//!
//! Top-level bodies are decoded from a byte slice with
//! [`tls_codec::DeserializeBytes`], which checks every declared length against
//! the bytes actually present before allocating, and with trailing bytes
//! rejected. Variable-length prefixes must be minimal (tls_codec's `mls`
//! feature, RFC 9420 §2.1.2).

use std::io::{Read, Write};

use tls_codec::{Deserialize, DeserializeBytes, Serialize, Size, VLBytes};

use crate::error::{DecodeError, EncodeError, IdError};
use crate::id::{ClientId, GroupUri, MimiUri, ProviderId, PseudonymId, RoomId, TeamId, UserId};

/// Largest body we decode, in bytes. Bounds the work one request can cause. A
/// commit adding 1000 members is about 300 KB and its Welcome about 340 KB
/// (spec/openmls-notes.md), so 16 MiB leaves room for rooms ten times larger.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;

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

/// Implements the tls_codec traits for an identifier type as `opaque uri<V>`,
/// decoding strictly (canonical form, right kind).
macro_rules! uri_codec {
    ($($ty:ty),*) => {$(
        impl Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                VlStr(self.as_bytes()).tls_serialized_len()
            }
        }

        impl Serialize for $ty {
            fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
                VlStr(self.as_bytes()).tls_serialize(writer)
            }
        }

        impl DeserializeBytes for $ty {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let (raw, rest) = VLBytes::tls_deserialize_bytes(bytes)?;
                let id = <$ty>::parse_canonical(raw.as_slice()).map_err(id_error)?;
                Ok((id, rest))
            }
        }

        impl Deserialize for $ty {
            fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
                let raw = VLBytes::tls_deserialize(bytes)?;
                <$ty>::parse_canonical(raw.as_slice()).map_err(id_error)
            }
        }
    )*};
}

uri_codec!(
    MimiUri,
    ProviderId,
    UserId,
    PseudonymId,
    ClientId,
    RoomId,
    GroupUri,
    TeamId
);

/// tls_codec's error type carries only strings, so an identifier failure deep
/// inside a derived struct travels as a tagged code that [`map_error`] turns
/// back into [`DecodeError::Identifier`].
fn id_error(e: IdError) -> tls_codec::Error {
    tls_codec::Error::DecodingError(format!("{ID_ERROR_TAG}{}", e.code()))
}

const ID_ERROR_TAG: &str = "mimi-id:";

/// A borrowed `opaque<V>` for encoding without copying.
struct VlStr<'a>(&'a [u8]);

impl Size for VlStr<'_> {
    fn tls_serialized_len(&self) -> usize {
        vl_len_prefix(self.0.len()) + self.0.len()
    }
}

impl Serialize for VlStr<'_> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let len = self.0.len();
        let prefix = vl_len_prefix(len);
        let written = match prefix {
            1 => writer.write(&[len as u8])?,
            2 => writer.write(&(0x4000u16 | len as u16).to_be_bytes())?,
            4 if len < (1 << 30) => writer.write(&(0x8000_0000u32 | len as u32).to_be_bytes())?,
            _ => return Err(tls_codec::Error::InvalidVectorLength),
        };
        writer.write_all(self.0)?;
        Ok(written + len)
    }
}

/// Bytes of the MLS varint length prefix for a vector of `len` bytes.
pub(crate) fn vl_len_prefix(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 16384 {
        2
    } else {
        4
    }
}

/// Valid UTF-8 carried as `opaque<V>`: the drafts' undefined `string` type and
/// `UTF8String` (protocol §7.6: no NUL characters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utf8String(String);

impl Utf8String {
    /// Wraps text, rejecting NUL characters.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] if the text contains a NUL.
    pub fn new(s: impl Into<String>) -> Result<Self, DecodeError> {
        let s = s.into();
        if s.contains('\0') {
            return Err(DecodeError::Invalid {
                what: "UTF8String",
                reason: "contains NUL",
            });
        }
        Ok(Self(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Utf8String {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Size for Utf8String {
    fn tls_serialized_len(&self) -> usize {
        VlStr(self.0.as_bytes()).tls_serialized_len()
    }
}

impl Serialize for Utf8String {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        VlStr(self.0.as_bytes()).tls_serialize(writer)
    }
}

impl DeserializeBytes for Utf8String {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (raw, rest) = VLBytes::tls_deserialize_bytes(bytes)?;
        Ok((utf8(raw)?, rest))
    }
}

impl Deserialize for Utf8String {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        utf8(VLBytes::tls_deserialize(bytes)?)
    }
}

fn utf8(raw: VLBytes) -> Result<Utf8String, tls_codec::Error> {
    let s = String::from_utf8(raw.into())
        .map_err(|_| tls_codec::Error::DecodingError("UTF8String is not valid UTF-8".into()))?;
    Utf8String::new(s)
        .map_err(|_| tls_codec::Error::DecodingError("UTF8String contains NUL".into()))
}
