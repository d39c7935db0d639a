//! API tests for mimi-content: the draft's example vectors, builders that
//! reproduce them, round-trip properties and malformed input.

mod builders;
mod malformed;
mod roundtrip;
mod vectors;

/// One example from `test_vectors/examples.json`.
#[derive(Debug, serde::Deserialize)]
pub struct Example {
    pub name: String,
    pub sender: String,
    pub room: String,
    pub message_id: String,
}

/// The example list and each example's bytes.
pub fn examples() -> Vec<(Example, &'static [u8])> {
    let list: Vec<Example> =
        serde_json::from_str(include_str!("../../test_vectors/examples.json")).expect("valid JSON");
    list.into_iter()
        .map(|e| {
            let bytes = vector(&e.name);
            (e, bytes)
        })
        .collect()
}

/// The bytes of one example by name.
pub fn vector(name: &str) -> &'static [u8] {
    match name {
        "original" => include_bytes!("../../test_vectors/original.cbor"),
        "reply" => include_bytes!("../../test_vectors/reply.cbor"),
        "reaction" => include_bytes!("../../test_vectors/reaction.cbor"),
        "mention" => include_bytes!("../../test_vectors/mention.cbor"),
        "mention-html" => include_bytes!("../../test_vectors/mention-html.cbor"),
        "edit" => include_bytes!("../../test_vectors/edit.cbor"),
        "delete" => include_bytes!("../../test_vectors/delete.cbor"),
        "unlike" => include_bytes!("../../test_vectors/unlike.cbor"),
        "expiring" => include_bytes!("../../test_vectors/expiring.cbor"),
        "attachment" => include_bytes!("../../test_vectors/attachment.cbor"),
        "conferencing" => include_bytes!("../../test_vectors/conferencing.cbor"),
        "multipart-1" => include_bytes!("../../test_vectors/multipart-1.cbor"),
        "multipart-2" => include_bytes!("../../test_vectors/multipart-2.cbor"),
        "multipart-3" => include_bytes!("../../test_vectors/multipart-3.cbor"),
        other => panic!("no vector named {other}"),
    }
}

/// A message ID from hex.
pub fn id(hex: &str) -> mimi_content::MessageId {
    hex.parse().expect("valid message id")
}
