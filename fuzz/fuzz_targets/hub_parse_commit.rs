#![no_main]
//! Reads arbitrary bytes as a commit, as the hub does for every commit a follower
//! submits, before OpenMLS processes it.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_hub::fuzzing::parse_commit(data));
