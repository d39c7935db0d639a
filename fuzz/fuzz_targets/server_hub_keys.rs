#![no_main]
//! Fuzzes the hub key file decoder of `mimi-server`: whatever decodes must
//! encode back to the same bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_server::fuzzing::hub_keys(data));
