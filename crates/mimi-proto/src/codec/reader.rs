//! [`Reader`]: TLS presentation language values from a byte slice, front to
//! back, each failure a [`DecodeError`] that names the field where one is
//! known.
//!
//! Every vector is parsed inside the sub-slice its length prefix declares, so
//! an element can never read past its container, and allocation is bounded by
//! the input length and the vector's item cap.

use tls_codec::{DeserializeBytes, Serialize};

use super::{MAX_VL_LEN, map_error, mls_error};
use crate::error::DecodeError;

/// Reads TLS-PL values from a byte slice, front to back.
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

    /// Runs `read` and also returns the exact bytes it consumed: for values
    /// that are checked by parsing but kept as their encoding.
    pub(crate) fn spanned<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<(T, &'a [u8]), DecodeError> {
        let start = self.buf;
        let value = read(self)?;
        let consumed = start
            .len()
            .checked_sub(self.buf.len())
            .and_then(|n| start.get(..n))
            .ok_or(DecodeError::Truncated)?;
        Ok((value, consumed))
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// The drafts' `bool` (`enum { false(0), true(1) }`) or an `optional<T>`
    /// presence byte: any byte but 0 or 1 is [`DecodeError::InvalidBool`].
    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidBool(field)),
        }
    }

    /// `optional<T>`: a presence byte of exactly 0 or 1 (RFC 9420 §2.1.1),
    /// then `T` if present.
    pub(crate) fn optional<T>(
        &mut self,
        field: &'static str,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.bool(field)? {
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

    /// `opaque field<V>` of at most `cap` bytes. The bytes must be present
    /// before the cap is checked, so a short input is
    /// [`DecodeError::Truncated`] whatever it declares.
    pub(crate) fn opaque(
        &mut self,
        field: &'static str,
        cap: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let body = self.opaque_uncapped()?;
        if body.len() > cap {
            return Err(DecodeError::TooLarge(field));
        }
        Ok(body)
    }

    /// `opaque<V>` bounded only by the input. For protocol-body fields, where
    /// the body's own cap ([`super::MAX_MESSAGE_LEN`]) bounds what is held.
    pub(crate) fn opaque_uncapped(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.vl_len()?;
        self.bytes(len)
    }

    /// `opaque field<V>` holding UTF-8 text of at most `cap` bytes.
    pub(crate) fn text(&mut self, field: &'static str, cap: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.opaque(field, cap)?).map_err(|_| DecodeError::NotUtf8(field))
    }

    /// `T field<V>`: items read with `read` from exactly the declared bytes, at
    /// most `max_items` of them.
    pub(crate) fn vector<T>(
        &mut self,
        field: &'static str,
        max_items: usize,
        mut read: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let mut inner = Reader::new(self.opaque_uncapped()?);
        let mut items = Vec::new();
        while !inner.is_empty() {
            if items.len() == max_items {
                return Err(DecodeError::TooLarge(field));
            }
            let before = inner.buf.len();
            items.push(read(&mut inner)?);
            if inner.buf.len() == before {
                // Cannot happen for our item types (each is at least one byte),
                // but a zero-length item would loop forever.
                return Err(DecodeError::Invalid {
                    what: field,
                    reason: "vector item of zero length",
                });
            }
        }
        Ok(items)
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
        let (_, own) = self.spanned(Self::opaque_uncapped)?;
        let (value, rest) = T::tls_deserialize_bytes(own).map_err(|e| map_error(e, what))?;
        if !rest.is_empty() {
            return Err(DecodeError::Invalid {
                what,
                reason: "value shorter than its length prefix",
            });
        }
        Ok(value)
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use tls_codec::{Size, VLBytes};

    use super::*;

    #[test]
    fn vl_len_matches_tls_codec() {
        for len in [0usize, 1, 63, 64, 300, 16383, 16384, 70000] {
            let encoded = VLBytes::new(vec![7; len]).tls_serialize_detached().unwrap();
            let mut r = Reader::new(&encoded);
            assert_eq!(r.opaque_uncapped().unwrap().len(), len);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn rejects_non_minimal_and_reserved_prefixes() {
        // 5 and 63 in two bytes, 5 and 16383 in four bytes, the reserved 11
        // prefix (twice).
        for bad in [
            &[0x40, 0x05][..],
            &[0x40, 0x3f],
            &[0x80, 0, 0, 5],
            &[0x80, 0x00, 0x3f, 0xff],
            &[0xc0, 0, 0, 0, 0, 0, 0, 5],
            &[0xc0, 0, 0, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(
                Reader::new(bad).vl_len(),
                Err(DecodeError::InvalidLength),
                "{bad:?}"
            );
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
        // Declares 3 bytes but a u32 item needs 4: truncated, even though more
        // bytes follow the vector.
        assert_eq!(
            Reader::new(&[0x03, 0, 0, 0, 1, 9, 9]).vector("v", 10, |r| r.u32()),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn opaque_checks_presence_before_cap() {
        assert_eq!(Reader::new(&[2, 7, 7]).opaque("o", 2), Ok(&[7, 7][..]));
        assert_eq!(
            Reader::new(&[3, 7, 7, 7]).opaque("o", 2),
            Err(DecodeError::TooLarge("o"))
        );
        assert_eq!(
            Reader::new(&[3, 7, 7]).opaque("o", 2),
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
