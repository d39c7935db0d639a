#![no_main]
//! Decodes arbitrary bytes as a message-status report and checks that what
//! decodes re-encodes to the same bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_content::fuzzing::status(data));
