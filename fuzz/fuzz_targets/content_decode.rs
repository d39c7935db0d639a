#![no_main]
//! Decodes arbitrary bytes as MIMI content and checks that what decodes
//! re-encodes to the same bytes and yields a message ID.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_content::fuzzing::content(data));
