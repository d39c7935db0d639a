#![no_main]
//! Fuzzes the protocol-06 decoder of `GroupInfoResponse`, and the plaintext a joiner decrypts from it.
//! Whatever decodes must re-encode to the same bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| mimi_proto::fuzzing::messages::group_info_response(data));
