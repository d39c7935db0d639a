//! A small, strict, deterministic CBOR codec (RFC 8949), written for MIMI
//! content rather than taken from a general-purpose library.
//!
//! # Why hand-written
//! MIMI content must be encoded deterministically (RFC 8949 §4.2.1), and the
//! message ID hashes the exact bytes. A receiver that accepted a non-minimal
//! head, an indefinite length or an unsorted map would hold a message whose
//! re-encoding differs from what it hashed. So the decoder must reject every
//! non-deterministic form, not just tolerate it. minicbor and ciborium are
//! built to be lenient readers: both accept non-minimal heads and indefinite
//! lengths, and neither checks map-key order, so we would have to re-check
//! every head ourselves on top of them. The subset MIMI needs (unsigned and
//! negative integers, byte and text strings, arrays, maps, tags, simple values
//! and the rare float) fits in a few hundred lines that we can reason about
//! completely:
//! - every head is checked for minimal length on the way in;
//! - a declared length or count is compared with the bytes that remain
//!   *before* anything is allocated, so no allocation is sized by a number the
//!   peer wrote (each item takes at least one byte);
//! - recursion depth is bounded by the caller (4 levels for parts, 4 for
//!   extension values), so hostile nesting cannot exhaust the stack;
//! - errors carry the byte offset of the offending item.
//!
//! [`Reader`] and [`Writer`] are crate-private; the typed codecs live next to
//! the types they encode (`content`, `part`, `extensions`, `value`, `status`).

mod float;
mod reader;
mod writer;

pub(crate) use float::{f16_bits_to_f64, f64_to_f16_bits};
pub(crate) use reader::Reader;
pub(crate) use writer::Writer;

/// CBOR major types (RFC 8949 §3.1).
pub(crate) mod major {
    pub const UNSIGNED: u8 = 0;
    pub const NEGATIVE: u8 = 1;
    pub const BYTES: u8 = 2;
    pub const TEXT: u8 = 3;
    pub const ARRAY: u8 = 4;
    pub const MAP: u8 = 5;
    pub const TAG: u8 = 6;
    pub const SIMPLE: u8 = 7;
}

/// The encoding of `null` (major 7, simple value 22).
pub(crate) const NULL: u8 = 0xf6;
/// The encoding of `false`.
pub(crate) const FALSE: u8 = 0xf4;
/// The encoding of `true`.
pub(crate) const TRUE: u8 = 0xf5;
