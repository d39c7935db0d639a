//! Deterministic CBOR writing: every head in its shortest form, definite
//! lengths only. Map-key order is the caller's job (the typed encoders iterate
//! `BTreeMap`s whose key order is the bytewise order of the encoded keys).

use super::{FALSE, NULL, TRUE, f64_to_f16_bits, major};

/// An output buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Writes a head with the shortest argument encoding.
    pub fn head(&mut self, major: u8, arg: u64) {
        let m = major << 5;
        if arg < 24 {
            self.buf.push(m | arg as u8);
        } else if arg <= 0xff {
            self.buf.extend_from_slice(&[m | 24, arg as u8]);
        } else if arg <= 0xffff {
            self.buf.push(m | 25);
            self.buf.extend_from_slice(&(arg as u16).to_be_bytes());
        } else if arg <= 0xffff_ffff {
            self.buf.push(m | 26);
            self.buf.extend_from_slice(&(arg as u32).to_be_bytes());
        } else {
            self.buf.push(m | 27);
            self.buf.extend_from_slice(&arg.to_be_bytes());
        }
    }

    pub fn uint(&mut self, v: u64) {
        self.head(major::UNSIGNED, v);
    }

    /// Writes the negative integer `-1 - n`.
    pub fn negative(&mut self, n: u64) {
        self.head(major::NEGATIVE, n);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.head(major::BYTES, b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub fn text(&mut self, s: &str) {
        self.head(major::TEXT, s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub fn array(&mut self, len: usize) {
        self.head(major::ARRAY, len as u64);
    }

    pub fn map(&mut self, len: usize) {
        self.head(major::MAP, len as u64);
    }

    pub fn tag(&mut self, tag: u64) {
        self.head(major::TAG, tag);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(if v { TRUE } else { FALSE });
    }

    pub fn null(&mut self) {
        self.buf.push(NULL);
    }

    /// Writes a simple value (caller guarantees 0–19 or 32–255).
    pub fn simple(&mut self, v: u8) {
        self.head(major::SIMPLE, u64::from(v));
    }

    /// Writes a float in the shortest form that keeps its value; every NaN
    /// becomes the half-precision quiet NaN `0xf97e00`, the only NaN MIMI
    /// content allows.
    pub fn float(&mut self, v: f64) {
        if v.is_nan() {
            self.buf.extend_from_slice(&[0xf9, 0x7e, 0x00]);
        } else if let Some(half) = f64_to_f16_bits(v) {
            self.buf.push(0xf9);
            self.buf.extend_from_slice(&half.to_be_bytes());
        } else if f64::from(v as f32).to_bits() == v.to_bits() {
            self.buf.push(0xfa);
            self.buf
                .extend_from_slice(&(v as f32).to_bits().to_be_bytes());
        } else {
            self.buf.push(0xfb);
            self.buf.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::default();
        f(&mut w);
        w.into_bytes()
    }

    #[test]
    fn heads_are_shortest() {
        assert_eq!(enc(|w| w.uint(0)), [0x00]);
        assert_eq!(enc(|w| w.uint(23)), [0x17]);
        assert_eq!(enc(|w| w.uint(24)), [0x18, 0x18]);
        assert_eq!(enc(|w| w.uint(255)), [0x18, 0xff]);
        assert_eq!(enc(|w| w.uint(256)), [0x19, 0x01, 0x00]);
        assert_eq!(enc(|w| w.uint(65536)), [0x1a, 0, 1, 0, 0]);
        assert_eq!(
            enc(|w| w.uint(u64::MAX)),
            [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(enc(|w| w.negative(0)), [0x20]);
        assert_eq!(enc(|w| w.text("a")), [0x61, b'a']);
    }

    #[test]
    fn floats_are_shortest_and_nan_is_canonical() {
        assert_eq!(enc(|w| w.float(0.0)), [0xf9, 0x00, 0x00]);
        assert_eq!(enc(|w| w.float(-0.0)), [0xf9, 0x80, 0x00]);
        assert_eq!(enc(|w| w.float(1.5)), [0xf9, 0x3e, 0x00]);
        assert_eq!(enc(|w| w.float(f64::INFINITY)), [0xf9, 0x7c, 0x00]);
        assert_eq!(enc(|w| w.float(f64::NAN)), [0xf9, 0x7e, 0x00]);
        assert_eq!(enc(|w| w.float(100000.0)), [0xfa, 0x47, 0xc3, 0x50, 0x00]);
        assert_eq!(
            enc(|w| w.float(1.1)),
            [0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]
        );
    }
}
