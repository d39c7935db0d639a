#![no_main]
//! Decodes arbitrary bytes as room-state components (`preauth` family) and
//! checks that what decodes re-encodes to the same bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_proto::fuzzing::components::preauth(data));
