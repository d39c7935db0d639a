#![no_main]
//! Splits arbitrary bytes as SafeAAD-prefixed authenticated data and checks
//! that the prefix re-encodes to the same bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_content::fuzzing::safe_aad(data));
