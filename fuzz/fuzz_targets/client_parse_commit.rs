#![no_main]
//! Reads arbitrary bytes as a commit's proposal list, as every receiving
//! client does before judging a commit against room policy.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_client::fuzzing::parse_commit(data));
