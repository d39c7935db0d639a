#![no_main]
//! Fuzzes the protocol-06 decoders of a `/notify` body (concatenated
//! `FanoutMessage`s) and of one `FanoutMessage` in its raw view
//! (`RawFanoutMessage`, the hub's and the client's fan-out event). Whatever
//! decodes must re-encode to the same bytes, and the two views must agree.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_proto::fuzzing::messages::notify(data));
