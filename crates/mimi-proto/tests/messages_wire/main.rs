//! The protocol-06 bodies (`mimi_proto::messages`): round trips of every
//! struct, hand-derived known answers, malformed input, signatures and HPKE.
//!
//! One test binary (OpenMLS makes every extra binary a slow link), with a pool
//! of real MLS objects built once and shared by all modules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod debug_json;
mod hand_mls;
mod kat;
mod malformed;
mod mls_vectors;
mod pool;
mod roundtrip;
mod samples;
mod seeds;
mod signatures;
mod strategies;
mod vectors;
