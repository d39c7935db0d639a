//! Strict CBOR reading: every head minimal, no indefinite lengths, and no
//! length trusted before the bytes are there.

use super::{FALSE, NULL, TRUE, major};
use crate::error::{DecodeError, Malformed};

/// One decoded item head (RFC 8949 §3): major type, additional information
/// and argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// Major type, 0–7.
    pub major: u8,
    /// Additional information, 0–27 (28–31 are rejected).
    pub info: u8,
    /// The argument: the value, length, count, tag number, simple value or
    /// raw float bits.
    pub arg: u64,
}

/// A cursor over received bytes.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0 }
    }

    /// Offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// The input between two offsets already read.
    pub fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.input.get(start..end).unwrap_or_default()
    }

    /// Fails with [`Malformed::TrailingBytes`] unless everything was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Malformed::TrailingBytes.at(self.pos))
        }
    }

    /// The next byte, not consumed.
    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    /// Consumes `n` bytes, checking first that they are there.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| Malformed::Truncated.at(self.pos))?;
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.input.len())
            .ok_or(Malformed::Truncated.at(self.pos))?;
        let bytes = &self.input[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    /// Reads one item head and checks it is minimal and definite.
    pub fn head(&mut self) -> Result<Head, DecodeError> {
        let start = self.pos;
        let initial = self.take(1)?[0];
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => {
                let v = u64::from(self.take(1)?[0]);
                // Major 7 with one extra byte is a simple value, where < 32 is
                // not even well-formed (RFC 8949 §3.3).
                if major == major::SIMPLE && v < 32 {
                    return Err(Malformed::InvalidSimpleValue.at(start));
                }
                if major != major::SIMPLE && v < 24 {
                    return Err(Malformed::NonMinimalHead.at(start));
                }
                v
            }
            25..=27 => {
                let width = 1usize << (info - 24);
                let bytes = self.take(width as u64)?;
                let v = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                // Floats (major 7) are checked for shortest form by value, not here.
                let minimal_floor = 1u64 << (4 * width);
                if major != major::SIMPLE && v < minimal_floor {
                    return Err(Malformed::NonMinimalHead.at(start));
                }
                v
            }
            31 if (major::BYTES..=major::MAP).contains(&major) || major == major::SIMPLE => {
                return Err(Malformed::IndefiniteLength.at(start));
            }
            _ => return Err(Malformed::ReservedAdditionalInfo.at(start)),
        };
        Ok(Head { major, info, arg })
    }

    /// Reads an unsigned integer.
    pub fn uint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let head = self.head()?;
        if head.major != major::UNSIGNED {
            return Err(unexpected(field, "unsigned integer", start));
        }
        Ok(head.arg)
    }

    /// Reads an unsigned integer no larger than `max`.
    pub fn uint_max(&mut self, field: &'static str, max: u64) -> Result<u64, DecodeError> {
        let start = self.pos;
        let v = self.uint(field)?;
        if v > max {
            return Err(Malformed::ValueOutOfRange { field }.at(start));
        }
        Ok(v)
    }

    /// Reads an array head and returns its count, checked against the bytes
    /// that remain (every item takes at least one byte).
    pub fn array(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let start = self.pos;
        let head = self.head()?;
        if head.major != major::ARRAY {
            return Err(unexpected(field, "array", start));
        }
        self.check_count(head.arg, 1, start)?;
        Ok(head.arg)
    }

    /// Reads an array head and requires exactly `len` items.
    pub fn array_of(&mut self, field: &'static str, len: u64) -> Result<(), DecodeError> {
        let start = self.pos;
        let found = self.array(field)?;
        if found != len {
            return Err(Malformed::WrongLength {
                field,
                expected: len,
                found,
            }
            .at(start));
        }
        Ok(())
    }

    /// Fails with [`Malformed::Truncated`] if `count` items of at least
    /// `min_item_len` bytes cannot fit in what remains.
    pub fn check_count(
        &self,
        count: u64,
        min_item_len: u64,
        start: usize,
    ) -> Result<(), DecodeError> {
        let needed = count.checked_mul(min_item_len);
        match needed {
            Some(n) if n <= self.remaining() as u64 => Ok(()),
            _ => Err(Malformed::Truncated.at(start)),
        }
    }

    /// Reads a byte string.
    pub fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let head = self.head()?;
        if head.major != major::BYTES {
            return Err(unexpected(field, "byte string", start));
        }
        self.take(head.arg)
    }

    /// Reads a byte string of exactly `N` bytes.
    pub fn bytes_exact<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let start = self.pos;
        let bytes = self.bytes(field)?;
        <[u8; N]>::try_from(bytes).map_err(|_| {
            Malformed::WrongLength {
                field,
                expected: N as u64,
                found: bytes.len() as u64,
            }
            .at(start)
        })
    }

    /// Reads a text string and checks it is UTF-8.
    pub fn text(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let head = self.head()?;
        if head.major != major::TEXT {
            return Err(unexpected(field, "text string", start));
        }
        let bytes = self.take(head.arg)?;
        std::str::from_utf8(bytes).map_err(|_| Malformed::NotUtf8 { field }.at(start))
    }

    /// Reads a boolean.
    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.peek() {
            Some(FALSE) => {
                self.pos += 1;
                Ok(false)
            }
            Some(TRUE) => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Err(unexpected(field, "boolean", self.pos)),
            None => Err(Malformed::Truncated.at(self.pos)),
        }
    }

    /// Consumes a `null` if one is next.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(NULL) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

/// An [`Malformed::UnexpectedType`] at `offset`.
pub(crate) fn unexpected(
    field: &'static str,
    expected: &'static str,
    offset: usize,
) -> DecodeError {
    Malformed::UnexpectedType { field, expected }.at(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Result<Head, Malformed> {
        Reader::new(bytes).head().map_err(|e| e.kind)
    }

    #[test]
    fn minimal_heads_are_accepted() {
        assert_eq!(head(&[0x17]).map(|h| h.arg), Ok(23));
        assert_eq!(head(&[0x18, 24]).map(|h| h.arg), Ok(24));
        assert_eq!(head(&[0x19, 0x01, 0x00]).map(|h| h.arg), Ok(256));
        assert_eq!(head(&[0x1a, 0, 1, 0, 0]).map(|h| h.arg), Ok(65536));
        assert_eq!(
            head(&[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]).map(|h| h.arg),
            Ok(1 << 32)
        );
    }

    #[test]
    fn non_minimal_heads_are_rejected() {
        assert_eq!(head(&[0x18, 23]), Err(Malformed::NonMinimalHead));
        assert_eq!(head(&[0x19, 0x00, 0xff]), Err(Malformed::NonMinimalHead));
        assert_eq!(
            head(&[0x1a, 0, 0, 0xff, 0xff]),
            Err(Malformed::NonMinimalHead)
        );
        assert_eq!(
            head(&[0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            Err(Malformed::NonMinimalHead)
        );
        // Lengths too: a 1-byte string with a 1-byte length.
        assert_eq!(head(&[0x58, 0x01]), Err(Malformed::NonMinimalHead));
    }

    #[test]
    fn indefinite_and_reserved_are_rejected() {
        for b in [0x5f, 0x7f, 0x9f, 0xbf, 0xff] {
            assert_eq!(head(&[b]), Err(Malformed::IndefiniteLength), "{b:#x}");
        }
        for b in [0x1c, 0x1d, 0x1e, 0x1f, 0x3f, 0xdf] {
            assert_eq!(head(&[b]), Err(Malformed::ReservedAdditionalInfo), "{b:#x}");
        }
        assert_eq!(head(&[0xf8, 0x1f]), Err(Malformed::InvalidSimpleValue));
    }

    #[test]
    fn declared_lengths_beyond_input_are_truncation() {
        // A byte string claiming 2^64-1 bytes, with none present.
        let huge = [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut r = Reader::new(&huge);
        assert_eq!(r.bytes("x").map_err(|e| e.kind), Err(Malformed::Truncated));
        // An array claiming 2^32 items.
        let arr = [0x9b, 0, 0, 0, 1, 0, 0, 0, 0];
        let mut r = Reader::new(&arr);
        assert_eq!(r.array("x").map_err(|e| e.kind), Err(Malformed::Truncated));
    }

    #[test]
    fn errors_carry_the_item_offset() {
        let mut r = Reader::new(&[0x01, 0x62, 0xff, 0xfe]);
        assert_eq!(r.uint("a"), Ok(1));
        let err = r.text("b").err();
        assert_eq!(
            err,
            Some(DecodeError {
                offset: 1,
                kind: Malformed::NotUtf8 { field: "b" }
            })
        );
    }
}
