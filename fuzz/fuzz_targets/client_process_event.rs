#![no_main]
//! Feeds arbitrary bytes to a fresh client as every kind of fanned-out event
//! (commit, proposal bundle, Welcome + tree, application message + frank).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_client::fuzzing::process_event(data));
