//! Entry points for the cargo-fuzz targets in `fuzz/fuzz_targets/content_*.rs`.
//!
//! Each function decodes arbitrary bytes and, when they decode, asserts the
//! properties that must hold for every accepted input: re-encoding gives back
//! exactly the input (the decoder accepts only deterministic encodings), and
//! derived values (message ID, summary) can be computed. The targets are thin
//! wrappers, so this logic is compiled and linted with the crate.

use crate::error::Error;
use crate::franking::SafeAad;
use crate::inspect::Summary;
use crate::received::ReceivedContent;
use crate::status::MessageStatusReport;

/// MIMI content: decode, re-encode byte-identically, compute the message ID.
pub fn content(data: &[u8]) {
    let Ok(received) = ReceivedContent::decode(data) else {
        return;
    };
    let encoded = received
        .content()
        .encode()
        .expect("a decoded message satisfies every rule encode checks");
    assert_eq!(
        encoded, data,
        "decoder accepted a non-deterministic encoding"
    );
    match received.message_id_with("mimi://fuzz.example/u/s", "mimi://fuzz.example/r/r") {
        Ok(_) | Err(Error::UriTooLong(_)) => {}
        Err(e) => panic!("message ID failed: {e}"),
    }
    let summary = Summary::new(&received, None, None);
    assert_eq!(summary.parts.len(), received.content().body.walk().len());
}

/// Message-status reports: decode, re-encode byte-identically.
pub fn status(data: &[u8]) {
    if let Ok(report) = MessageStatusReport::decode(data) {
        assert_eq!(report.encode(), data, "report re-encodes differently");
    }
}

/// SafeAAD prefixes: split, re-encode the prefix byte-identically.
pub fn safe_aad(data: &[u8]) {
    if let Ok((aad, rest)) = SafeAad::split(data) {
        let prefix = &data[..data.len() - rest.len()];
        assert_eq!(
            aad.encode().expect("decoded lengths fit"),
            prefix,
            "SafeAAD re-encodes differently"
        );
        let _ = aad.frank_aad();
    }
}
