//! The reader and the codec macros behind every protocol body.
//!
//! Bodies are decoded by hand instead of with `tls_codec` derives so that each
//! failure is a precise [`DecodeError`] naming the field (a presence byte of 2 in
//! `SubmitMessageResponse.frank` is `InvalidBool("SubmitMessageResponse.frank")`),
//! so that every vector has a named cap on its item count, and so that embedded
//! MLS objects are checked to be canonically encoded. Encoding goes through the
//! `tls_codec` [`Serialize`] impls, so the two directions share no code and the
//! round-trip tests check one against the other.
//!
//! Every vector is parsed inside the sub-slice its length prefix declares, so an
//! element can never read past its container, and allocation is bounded by the
//! input length and the item cap.

use std::io::Write;

use tls_codec::{DeserializeBytes, Serialize, Size};

use crate::codec::{MAX_MESSAGE_LEN, map_error, vl_len_prefix};
use crate::components::ParticipantId;
use crate::error::DecodeError;

/// Largest vector length MLS can express: the 30-bit varint (RFC 9420 §2.1.2).
const MAX_VL_LEN: usize = (1 << 30) - 1;

/// Reads TLS presentation language values from a byte slice, front to back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was read.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// An `optional<T>` presence byte: 0 or 1, anything else is an error.
    pub(crate) fn presence(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidBool(what)),
        }
    }

    /// `optional<T>`: a presence byte, then `T` if present.
    pub(crate) fn optional<T>(
        &mut self,
        what: &'static str,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.presence(what)? {
            read(self).map(Some)
        } else {
            Ok(None)
        }
    }

    /// An MLS variable-length prefix (RFC 9420 §2.1.2): minimal, not the
    /// reserved `11` form, at most 30 bits.
    pub(crate) fn vl_len(&mut self) -> Result<usize, DecodeError> {
        let first = self.u8()?;
        let (len, min) = match first >> 6 {
            0 => (usize::from(first), 0),
            1 => {
                let b = self.u8()?;
                (usize::from(first & 0x3f) << 8 | usize::from(b), 64)
            }
            2 => {
                let b = self.array::<3>()?;
                let v = u32::from_be_bytes([first & 0x3f, b[0], b[1], b[2]]);
                (
                    usize::try_from(v).map_err(|_| DecodeError::InvalidLength)?,
                    16384,
                )
            }
            _ => return Err(DecodeError::InvalidLength),
        };
        if len < min || len > MAX_VL_LEN {
            return Err(DecodeError::InvalidLength);
        }
        Ok(len)
    }

    /// `opaque<V>`.
    pub(crate) fn opaque(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.vl_len()?;
        self.take(len)
    }

    /// `opaque<V>` copied out.
    pub(crate) fn opaque_vec(&mut self) -> Result<Vec<u8>, DecodeError> {
        self.opaque().map(<[u8]>::to_vec)
    }

    /// An `opaque<V>`-shaped value with a `tls_codec` decoder of ours
    /// (identifiers, text). The length prefix is read here first, so a short or
    /// non-minimal prefix is [`DecodeError::Truncated`] or
    /// [`DecodeError::InvalidLength`] (tls_codec reports a short `VLBytes` as a
    /// generic decoding error), and `T` sees exactly its own bytes.
    pub(crate) fn item<T: DeserializeBytes>(
        &mut self,
        what: &'static str,
    ) -> Result<T, DecodeError> {
        let start = self.buf;
        self.opaque()?;
        let own = start
            .get(..start.len() - self.buf.len())
            .ok_or(DecodeError::Truncated)?;
        let (value, rest) = T::tls_deserialize_bytes(own).map_err(|e| map_error(e, what))?;
        if !rest.is_empty() {
            return Err(DecodeError::Invalid {
                what,
                reason: "value shorter than its length prefix",
            });
        }
        Ok(value)
    }

    /// An `IdentifierUri` naming a participant: a user or a pseudonym, in
    /// canonical form.
    pub(crate) fn participant(&mut self) -> Result<ParticipantId, DecodeError> {
        let raw = self.opaque()?;
        Ok(ParticipantId::parse_canonical(raw)?)
    }

    /// An OpenMLS object. It must be canonically encoded: re-encoding it must
    /// give back exactly the bytes it was read from. OpenMLS decoders are
    /// written for MLS processing, not for byte-exact relaying, and the hub
    /// forwards and hashes these bytes (notify dedup, GroupInfo signatures).
    pub(crate) fn mls<T: DeserializeBytes + Serialize>(
        &mut self,
        what: &'static str,
    ) -> Result<T, DecodeError> {
        let before = self.buf;
        let (value, rest) = T::tls_deserialize_bytes(before).map_err(|e| mls_error(e, what))?;
        let consumed = before
            .get(..before.len().saturating_sub(rest.len()))
            .ok_or(DecodeError::Mls(what))?;
        let reencoded = value
            .tls_serialize_detached()
            .map_err(|_| DecodeError::Mls(what))?;
        if reencoded != consumed {
            return Err(DecodeError::Invalid {
                what,
                reason: "MLS object is not canonically encoded",
            });
        }
        self.buf = rest;
        Ok(value)
    }

    /// A `T items<V>` vector of at most `max_items` items.
    pub(crate) fn vector<T>(
        &mut self,
        what: &'static str,
        max_items: usize,
        mut read: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let mut inner = Reader::new(self.opaque()?);
        let mut items = Vec::new();
        while !inner.is_empty() {
            if items.len() == max_items {
                return Err(DecodeError::TooLarge(what));
            }
            let before = inner.buf.len();
            items.push(read(&mut inner)?);
            if inner.buf.len() == before {
                // Cannot happen for our item types (each is at least one byte),
                // but a zero-length item would loop forever.
                return Err(DecodeError::Invalid {
                    what,
                    reason: "vector item of zero length",
                });
            }
        }
        Ok(items)
    }
}

/// Decodes one top-level body that must span all of `bytes`.
pub(crate) fn decode_body<'a, T>(
    bytes: &'a [u8],
    what: &'static str,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DecodeError::TooLarge(what));
    }
    let mut reader = Reader::new(bytes);
    let value = read(&mut reader)?;
    reader.finish()?;
    Ok(value)
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
/// [`DeserializeBytes`] impls (our own decoders call each other directly and
/// keep the precise error).
pub(crate) fn to_tls_error(e: DecodeError) -> tls_codec::Error {
    match e {
        DecodeError::Truncated => tls_codec::Error::EndOfStream,
        DecodeError::TrailingBytes => tls_codec::Error::TrailingData,
        DecodeError::InvalidLength => tls_codec::Error::InvalidVectorLength,
        DecodeError::UnknownValue { value, .. } => tls_codec::Error::UnknownValue(value),
        other => tls_codec::Error::DecodingError(other.to_string()),
    }
}

/// Encoded length of an `opaque<V>` holding `len` bytes.
pub(crate) fn vl_size(len: usize) -> usize {
    vl_len_prefix(len) + len
}

/// An `IdentifierUri` that may be absent, encoded as a zero-length `opaque<V>`
/// (never a presence byte). Used where the draft says an identifier may be
/// empty (`KeyMaterialRequest.roomId`).
#[derive(Debug)]
pub(crate) struct ZeroLenOptional<'a, T>(pub(crate) &'a Option<T>);

impl<T: Size> Size for ZeroLenOptional<'_, T> {
    fn tls_serialized_len(&self) -> usize {
        self.0.as_ref().map_or(1, Size::tls_serialized_len)
    }
}

impl<T: Serialize> Serialize for ZeroLenOptional<'_, T> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        match self.0 {
            Some(id) => id.tls_serialize(writer),
            None => {
                writer.write_all(&[0])?;
                Ok(1)
            }
        }
    }
}

/// A zero-length `opaque<V>` is `None`, anything else is the identifier.
pub(crate) fn read_zero_len_optional<T: DeserializeBytes>(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Option<T>, DecodeError> {
    if r.rest().first() == Some(&0) {
        r.u8()?;
        Ok(None)
    } else {
        r.item(what).map(Some)
    }
}

/// Implements [`Size`] and [`Serialize`] for a type as the concatenation of
/// field expressions, each encoded with its own `tls_codec` impl.
macro_rules! tls_fields {
    ($ty:ty, |$s:ident| [$($field:expr),+ $(,)?]) => {
        impl tls_codec::Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                let $s = self;
                0 $(+ tls_codec::Size::tls_serialized_len(&$field))+
            }
        }

        impl tls_codec::Serialize for $ty {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                let $s = self;
                let mut written = 0;
                $(written += tls_codec::Serialize::tls_serialize(&$field, writer)?;)+
                Ok(written)
            }
        }
    };
}

/// Implements [`DeserializeBytes`] over the type's `read` function.
macro_rules! tls_read {
    ($ty:ty) => {
        impl tls_codec::DeserializeBytes for $ty {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let mut reader = $crate::messages::wire::Reader::new(bytes);
                let value =
                    <$ty>::read(&mut reader).map_err($crate::messages::wire::to_tls_error)?;
                Ok((value, reader.rest()))
            }
        }
    };
}

/// Implements [`DeserializeBytes`] and [`crate::WireMessage`] for a top-level
/// body, with `decode` going through the precise-error reader.
macro_rules! wire_body {
    ($ty:ty, $name:literal) => {
        tls_read!($ty);

        impl $crate::codec::WireMessage for $ty {
            const NAME: &'static str = $name;

            fn decode(bytes: &[u8]) -> Result<Self, $crate::error::DecodeError> {
                $crate::messages::wire::decode_body(bytes, Self::NAME, <$ty>::read)
            }
        }
    };
}

/// A closed `uint8` enumeration of the draft (`(255)`-terminated). Values the
/// draft does not define, and `reserved` ones, are
/// [`DecodeError::UnknownValue`]: these enums select the fields that follow,
/// so an unknown value leaves the rest of the body unparseable.
macro_rules! wire_enum {
    (
        $(#[$doc:meta])*
        pub enum $name:ident {
            $($(#[$vdoc:meta])* $variant:ident = $value:literal,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $value,)+
        }

        impl $name {
            /// Every defined value, in wire order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire value.
            pub fn value(self) -> u8 {
                self as u8
            }

            /// The variant for a wire value, if the draft defines it.
            pub fn from_value(value: u8) -> Option<Self> {
                match value {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }

            #[allow(dead_code, reason = "not every enum is read on its own")]
            pub(crate) fn read(
                r: &mut $crate::messages::wire::Reader<'_>,
                field: &'static str,
            ) -> Result<Self, $crate::error::DecodeError> {
                let value = r.u8()?;
                Self::from_value(value).ok_or($crate::error::DecodeError::UnknownValue {
                    field,
                    value: u64::from(value),
                })
            }
        }

        impl tls_codec::Size for $name {
            fn tls_serialized_len(&self) -> usize {
                1
            }
        }

        impl tls_codec::Serialize for $name {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                tls_codec::Serialize::tls_serialize(&self.value(), writer)
            }
        }

        impl tls_codec::DeserializeBytes for $name {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let (value, rest) = u8::tls_deserialize_bytes(bytes)?;
                let parsed = Self::from_value(value)
                    .ok_or(tls_codec::Error::UnknownValue(u64::from(value)))?;
                Ok((parsed, rest))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use tls_codec::VLBytes;

    use super::*;

    #[test]
    fn vl_len_matches_tls_codec_and_rejects_non_minimal() {
        for len in [0usize, 1, 63, 64, 300, 16383, 16384, 70000] {
            let encoded = VLBytes::new(vec![7; len]).tls_serialize_detached().unwrap();
            let mut r = Reader::new(&encoded);
            assert_eq!(r.opaque().unwrap().len(), len);
            assert!(r.is_empty());
            assert_eq!(vl_size(len), encoded.len());
        }
        // 5 in two bytes, 5 in four bytes, the reserved 11 prefix, 2^30.
        for bad in [
            &[0x40, 0x05][..],
            &[0x80, 0, 0, 5],
            &[0xc0, 0, 0, 0, 0, 0, 0, 5],
        ] {
            assert_eq!(Reader::new(bad).vl_len(), Err(DecodeError::InvalidLength));
        }
        assert_eq!(
            Reader::new(&[0x40]).vl_len(),
            Err(DecodeError::Truncated),
            "a two-byte prefix cut after one byte"
        );
    }

    #[test]
    fn vector_stays_inside_its_length_and_caps_items() {
        // Vector of 3 one-byte items declared as 2 bytes: the third is outside.
        let mut r = Reader::new(&[2, 1, 1, 1]);
        let items = r.vector("v", 10, |r| r.u8()).unwrap();
        assert_eq!(items, vec![1, 1]);
        assert_eq!(r.rest(), &[1]);
        assert_eq!(
            Reader::new(&[3, 1, 1, 1]).vector("v", 2, |r| r.u8()),
            Err(DecodeError::TooLarge("v"))
        );
        // An item that runs past the declared length is truncated, not read on.
        assert_eq!(
            Reader::new(&[1, 0, 0]).vector("v", 10, |r| r.array::<2>()),
            Err(DecodeError::Truncated)
        );
    }

    /// A decoder that accepts two encodings of `true`, as an OpenMLS type
    /// with a lenient decoder would.
    #[derive(Debug, PartialEq)]
    struct Lenient(bool);

    impl Size for Lenient {
        fn tls_serialized_len(&self) -> usize {
            1
        }
    }

    impl Serialize for Lenient {
        fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
            u8::from(self.0).tls_serialize(writer)
        }
    }

    impl DeserializeBytes for Lenient {
        fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
            let (b, rest) = u8::tls_deserialize_bytes(bytes)?;
            Ok((Self(b != 0), rest))
        }
    }

    #[test]
    fn mls_objects_must_reencode_to_their_bytes() {
        let mut r = Reader::new(&[1, 0]);
        assert_eq!(r.mls::<Lenient>("x"), Ok(Lenient(true)));
        assert_eq!(r.mls::<Lenient>("x"), Ok(Lenient(false)));
        assert_eq!(
            Reader::new(&[2]).mls::<Lenient>("x"),
            Err(DecodeError::Invalid {
                what: "x",
                reason: "MLS object is not canonically encoded"
            })
        );
    }

    #[test]
    fn presence_byte_must_be_zero_or_one() {
        assert_eq!(
            Reader::new(&[2]).optional("x", |r| r.u8()),
            Err(DecodeError::InvalidBool("x"))
        );
        assert_eq!(Reader::new(&[0]).optional("x", |r| r.u8()), Ok(None));
        assert_eq!(Reader::new(&[1, 9]).optional("x", |r| r.u8()), Ok(Some(9)));
    }
}
