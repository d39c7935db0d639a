//! The `opaque<V>` strings with meaning: UTF-8 text ([`Utf8String`]) and the
//! `mimi://` identifiers, with their `tls_codec` impls. Identifiers decode
//! strictly (canonical form, right kind), so a derived struct holding one
//! rejects what our own readers reject.

use std::io::{Read, Write};

use tls_codec::{Deserialize, DeserializeBytes, Serialize, Size, VLByteSlice, VLBytes};

use super::id_error;
use crate::error::DecodeError;
use crate::id::{ClientId, GroupUri, MimiUri, ProviderId, PseudonymId, RoomId, TeamId, UserId};

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

/// Implements the tls_codec traits for an identifier type as `opaque uri<V>`,
/// decoding strictly (canonical form, right kind).
macro_rules! uri_codec {
    ($($ty:ty),*) => {$(
        impl Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                VLByteSlice(self.as_bytes()).tls_serialized_len()
            }
        }

        impl Serialize for $ty {
            fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
                VLByteSlice(self.as_bytes()).tls_serialize(writer)
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

impl Size for Utf8String {
    fn tls_serialized_len(&self) -> usize {
        VLByteSlice(self.0.as_bytes()).tls_serialized_len()
    }
}

impl Serialize for Utf8String {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        VLByteSlice(self.0.as_bytes()).tls_serialize(writer)
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
