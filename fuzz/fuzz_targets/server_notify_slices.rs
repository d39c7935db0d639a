#![no_main]
//! Fuzzes how a follower splits a notify body into per-message mailbox
//! payloads: each slice must decode to exactly its message.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_server::fuzzing::notify_slices(data));
