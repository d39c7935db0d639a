//! The TLS presentation language reader and writer behind every component codec.
//!
//! Components are decoded by hand rather than with `tls_codec` derives so that
//! each failure is a precise, allocation-free [`DecodeError`] naming the field
//! (a `bool` of 2 in `BaseRoomPolicy.multi_device` is
//! `InvalidBool("BaseRoomPolicy.multi_device")`, not a formatted string), and so
//! that every vector has a named cap on its item count. The encoding is the one
//! `tls_codec` with the `mls` feature produces (RFC 9420 §2.1); the tests check
//! the varint prefix against `tls_codec` itself.
//!
//! Every vector is parsed inside the sub-slice its length prefix declares, so an
//! element can never read past its container, and allocation is bounded by the
//! input length.

use crate::error::{DecodeError, EncodeError};

/// Largest vector length MLS can express: the 30-bit varint (RFC 9420 §2.1.2).
const MAX_VL_LEN: usize = (1 << 30) - 1;

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

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was read.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.buf.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        self.buf = tail;
        Ok(head)
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

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// The drafts' `bool`: `enum { false(0), true(1) }`, any other byte rejected.
    pub(crate) fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidBool(field)),
        }
    }

    /// `optional<T>`: a presence byte of exactly 0 or 1 (RFC 9420 §2.1.1).
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

    /// An MLS varint length: minimal encoding, `11` prefix rejected.
    pub(crate) fn length(&mut self) -> Result<usize, DecodeError> {
        let first = self.u8()?;
        let (len, min) = match first >> 6 {
            0 => (usize::from(first & 0x3f), 0),
            1 => {
                let second = self.u8()?;
                (usize::from(first & 0x3f) << 8 | usize::from(second), 64)
            }
            2 => {
                let rest = self.array::<3>()?;
                let value = u32::from_be_bytes([first & 0x3f, rest[0], rest[1], rest[2]]);
                (value as usize, 16384)
            }
            _ => return Err(DecodeError::InvalidLength),
        };
        if len < min {
            return Err(DecodeError::InvalidLength);
        }
        Ok(len)
    }

    /// `opaque field<V>` of at most `cap` bytes.
    pub(crate) fn opaque(
        &mut self,
        field: &'static str,
        cap: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.length()?;
        let body = self.bytes(len)?;
        if len > cap {
            return Err(DecodeError::TooLarge(field));
        }
        Ok(body)
    }

    /// `opaque field<V>` holding UTF-8 text of at most `cap` bytes.
    pub(crate) fn text(&mut self, field: &'static str, cap: usize) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.opaque(field, cap)?).map_err(|_| DecodeError::NotUtf8(field))
    }

    /// `T field<V>`: elements read with `read` from exactly the declared bytes,
    /// at most `max_items` of them.
    pub(crate) fn vector<T>(
        &mut self,
        field: &'static str,
        max_items: usize,
        mut read: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let len = self.length()?;
        let mut inner = Reader::new(self.bytes(len)?);
        let mut items = Vec::new();
        while !inner.buf.is_empty() {
            if items.len() == max_items {
                return Err(DecodeError::TooLarge(field));
            }
            items.push(read(&mut inner)?);
        }
        Ok(items)
    }
}

/// Writes TLS-PL values into a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    pub(crate) fn optional<T>(
        &mut self,
        value: Option<&T>,
        write: impl FnOnce(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        match value {
            None => {
                self.u8(0);
                Ok(())
            }
            Some(v) => {
                self.u8(1);
                write(self, v)
            }
        }
    }

    /// `opaque<V>`.
    pub(crate) fn opaque(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        self.length(b.len())?;
        self.bytes(b);
        Ok(())
    }

    /// `T items<V>`: the elements are written first and the minimal length
    /// prefix is inserted in front of them afterwards.
    pub(crate) fn vector<T>(
        &mut self,
        items: &[T],
        mut write: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.vector_with(|w| items.iter().try_for_each(|item| write(w, item)))
    }

    /// A vector whose elements `write_all` emits, from any source.
    pub(crate) fn vector_with(
        &mut self,
        write_all: impl FnOnce(&mut Self) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.buf.len();
        write_all(self)?;
        let len = self.buf.len() - start;
        let mut prefix = Writer::new();
        prefix.length(len)?;
        self.buf.splice(start..start, prefix.buf);
        Ok(())
    }

    fn length(&mut self, len: usize) -> Result<(), EncodeError> {
        if len < 64 {
            self.u8(len as u8);
        } else if len < 16384 {
            self.u16(0x4000 | len as u16);
        } else if len <= MAX_VL_LEN {
            self.u32(0x8000_0000 | len as u32);
        } else {
            return Err(EncodeError::TooLong);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn length_prefix_boundaries() {
        for (len, prefix) in [
            (0usize, vec![0x00]),
            (63, vec![0x3f]),
            (64, vec![0x40, 0x40]),
            (16383, vec![0x7f, 0xff]),
            (16384, vec![0x80, 0x00, 0x40, 0x00]),
        ] {
            let mut w = Writer::new();
            w.length(len).unwrap();
            assert_eq!(w.buf, prefix, "{len}");
            assert_eq!(Reader::new(&prefix).length().unwrap(), len);
        }
    }

    #[test]
    fn rejects_non_minimal_and_reserved_prefixes() {
        for bad in [
            &[0x40, 0x3f][..],
            &[0x80, 0x00, 0x3f, 0xff],
            &[0xc0, 0, 0, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(
                Reader::new(bad).length(),
                Err(DecodeError::InvalidLength),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn vector_elements_stay_inside_their_length() {
        // Declares 3 bytes but a u32 element needs 4: truncated, even though
        // more bytes follow the vector.
        let bytes = [0x03, 0, 0, 0, 1, 9, 9];
        let err = Reader::new(&bytes).vector("v", 10, |r| r.u32());
        assert_eq!(err, Err(DecodeError::Truncated));
    }

    #[test]
    fn vector_item_cap() {
        let bytes = [0x03, 1, 2, 3];
        assert_eq!(
            Reader::new(&bytes).vector("v", 2, |r| r.u8()),
            Err(DecodeError::TooLarge("v"))
        );
    }
}
