//! [`Writer`]: TLS presentation language values appended to a growing buffer,
//! in the one encoding the [`super::Reader`] accepts (minimal varints,
//! presence bytes of 0 or 1).

use tls_codec::Serialize;

use super::MAX_VL_LEN;
use crate::error::EncodeError;

/// Writes TLS-PL values into a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Raw bytes, no length prefix.
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

    /// `optional<T>`: a presence byte, then the value if there is one.
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
        self.vl_len(b.len())?;
        self.bytes(b);
        Ok(())
    }

    /// `T items<V>`: the items are written first and the minimal length
    /// prefix is inserted in front of them afterwards.
    pub(crate) fn vector<T>(
        &mut self,
        items: &[T],
        mut write: impl FnMut(&mut Self, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        self.vector_with(|w| items.iter().try_for_each(|item| write(w, item)))
    }

    /// A vector whose items `write_all` emits, from any source.
    pub(crate) fn vector_with(
        &mut self,
        write_all: impl FnOnce(&mut Self) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.buf.len();
        write_all(self)?;
        let len = self.buf.len() - start;
        let mut prefix = Writer::new();
        prefix.vl_len(len)?;
        self.buf.splice(start..start, prefix.buf);
        Ok(())
    }

    /// An OpenMLS object (or anything else with a `tls_codec` encoding), as
    /// its `Serialize` impl writes it.
    pub(crate) fn mls<T: Serialize>(&mut self, value: &T) -> Result<(), EncodeError> {
        value.tls_serialize(&mut self.buf)?;
        Ok(())
    }

    /// The minimal MLS variable-length prefix (RFC 9420 §2.1.2) for `len`.
    fn vl_len(&mut self, len: usize) -> Result<(), EncodeError> {
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
    use tls_codec::VLBytes;

    use super::*;
    use crate::codec::Reader;

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
            w.vl_len(len).unwrap();
            assert_eq!(w.buf, prefix, "{len}");
            assert_eq!(Reader::new(&prefix).vl_len().unwrap(), len);
        }
    }

    #[test]
    fn opaque_matches_tls_codec() {
        for len in [0usize, 1, 63, 64, 300, 16383, 16384, 70000] {
            let mut w = Writer::new();
            w.opaque(&vec![7; len]).unwrap();
            let theirs = VLBytes::new(vec![7; len]).tls_serialize_detached().unwrap();
            assert_eq!(w.into_bytes(), theirs, "{len}");
        }
    }
}
