#![no_main]
//! Reads arbitrary bytes as a commit's proposal list and UpdatePath leaf, as the
//! hub does for every submitted commit and every client for every received one.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_proto::fuzzing::messages::parse_commit(data));
