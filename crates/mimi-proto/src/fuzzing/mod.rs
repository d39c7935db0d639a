//! Decoder entry points for the cargo-fuzz targets in `fuzz/`.
//!
//! Each function decodes arbitrary bytes and, when they decode, asserts that
//! encoding gives back exactly the input: our decoders accept only canonical
//! encodings, so any difference is a bug. The targets are thin wrappers, so the
//! logic is compiled and linted with the crate.

pub mod components;
pub mod messages;
