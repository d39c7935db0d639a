#![no_main]
//! Fuzzes the directory JSON parser and the request-path parser: no panics,
//! and a parsed directory serializes and parses back to itself.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_proto::fuzzing::messages::directory(data));
