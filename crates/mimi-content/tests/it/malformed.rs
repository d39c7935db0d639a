//! Malformed input gives typed errors, with the offset of the offending item:
//! truncation, wrong types, nesting, indefinite lengths, huge declared lengths,
//! non-deterministic encodings.

use mimi_content::{DecodeError, Malformed, MimiContent, ReceivedContent};

use crate::{examples, vector};

fn kind(bytes: &[u8]) -> Result<MimiContent, Malformed> {
    MimiContent::decode(bytes).map_err(|e| e.kind)
}

/// Offset of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present")
}

#[test]
fn every_truncation_of_every_example_is_truncated() {
    for (example, bytes) in examples() {
        for cut in 0..bytes.len() {
            assert_eq!(
                kind(&bytes[..cut]),
                Err(Malformed::Truncated),
                "{} cut at {cut}",
                example.name
            );
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = vector("original").to_vec();
    bytes.push(0xf6);
    assert_eq!(
        MimiContent::decode(&bytes),
        Err(DecodeError {
            offset: 193,
            kind: Malformed::TrailingBytes
        })
    );
}

#[test]
fn wrong_types_name_the_field() {
    let original = vector("original");
    // salt as a text string
    let mut bad = original.to_vec();
    bad[1] = 0x70;
    assert_eq!(
        MimiContent::decode(&bad),
        Err(DecodeError {
            offset: 1,
            kind: Malformed::UnexpectedType {
                field: "salt",
                expected: "byte string"
            }
        })
    );
    // replaces = false instead of null
    let mut bad = original.to_vec();
    bad[18] = 0xf4;
    assert_eq!(
        kind(&bad),
        Err(Malformed::UnexpectedType {
            field: "replaces",
            expected: "byte string"
        })
    );
    // extensions as an array
    let mut bad = original.to_vec();
    let at = find(&bad, &[0xa2, 0x01, 0x78]);
    bad[at] = 0x82;
    assert_eq!(
        kind(&bad),
        Err(Malformed::UnexpectedType {
            field: "mimiExtensions",
            expected: "map"
        })
    );
    // contentType as bytes: "text/markdown…" head 0x78 0x1e -> 0x58 0x1e
    let mut bad = original.to_vec();
    let at = find(&bad, &[0x78, 0x1e, b't']);
    bad[at] = 0x58;
    assert_eq!(
        MimiContent::decode(&bad).map(|_| ()),
        Err(DecodeError {
            offset: at,
            kind: Malformed::UnexpectedType {
                field: "contentType",
                expected: "text string"
            }
        })
    );
    // invalid UTF-8 in the sender URI
    let mut bad = original.to_vec();
    let at = find(&bad, b"alice");
    bad[at] = 0xff;
    assert!(matches!(kind(&bad), Err(Malformed::NotUtf8 { .. })));
}

#[test]
fn message_ids_must_be_32_bytes_with_a_known_hash() {
    let reply = vector("reply");
    let at = find(reply, &[0x58, 0x20, 0x01, 0x7c]);
    let mut bad = reply.to_vec();
    bad[at + 2] = 0x02;
    assert_eq!(kind(&bad), Err(Malformed::UnknownHashAlgorithm(2)));
    let mut short = reply.to_vec();
    short[at + 1] = 0x1f;
    short.remove(at + 2);
    assert!(matches!(
        kind(&short),
        Err(Malformed::WrongLength {
            field: "inReplyTo",
            found: 31,
            ..
        })
    ));
}

#[test]
fn indefinite_lengths_are_rejected() {
    let original = vector("original");
    // Outer array as indefinite: 0x9f ... 0xff
    let mut bad = original.to_vec();
    bad[0] = 0x9f;
    bad.push(0xff);
    assert_eq!(
        MimiContent::decode(&bad),
        Err(DecodeError {
            offset: 0,
            kind: Malformed::IndefiniteLength
        })
    );
    // Body content as an indefinite byte string of one chunk: 0x5f 0x58 len .. 0xff
    let mut bad = original.to_vec();
    let at = find(&bad, &[0x58, 0x39]);
    bad.insert(at, 0x5f);
    bad.push(0xff);
    assert_eq!(kind(&bad), Err(Malformed::IndefiniteLength));
    // Extensions as an indefinite map
    let mut bad = original.to_vec();
    let at = find(&bad, &[0xa2, 0x01, 0x78]);
    bad[at] = 0xbf;
    assert_eq!(kind(&bad), Err(Malformed::IndefiniteLength));
}

#[test]
fn huge_declared_lengths_fail_fast_without_allocating() {
    // A 7-item array whose salt claims 2^64-1 bytes.
    let bytes = [0x87, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(kind(&bytes), Err(Malformed::Truncated));
    // A MultiPart claiming 2^32 parts, right after a valid header.
    let original = vector("original");
    let body = find(original, &[0x85, 0x01, 0x60, 0x01]);
    let mut bad = original[..body].to_vec();
    bad.extend_from_slice(&[0x85, 0x01, 0x60, 0x03, 0x00, 0x9b, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(kind(&bad), Err(Malformed::Truncated));
    // An extensions map claiming 2^31 entries.
    let ext = find(original, &[0xa2, 0x01, 0x78]);
    let mut bad = original[..ext].to_vec();
    bad.extend_from_slice(&[0xba, 0x80, 0, 0, 0]);
    assert_eq!(kind(&bad), Err(Malformed::Truncated));
}

#[test]
fn non_deterministic_encodings_are_rejected() {
    let original = vector("original");
    // Disposition 1 written as 0x18 0x01.
    let body = find(original, &[0x85, 0x01, 0x60, 0x01]);
    let mut bad = original.to_vec();
    bad.splice(body + 1..body + 2, [0x18, 0x01]);
    assert_eq!(
        MimiContent::decode(&bad),
        Err(DecodeError {
            offset: body + 1,
            kind: Malformed::NonMinimalHead
        })
    );
    // Extension keys swapped: {2: room, 1: sender}.
    let c = MimiContent::decode(original).expect("vector");
    let sender = c.extensions.sender_uri().expect("present");
    let room = c.extensions.room_uri().expect("present");
    let ext = find(original, &[0xa2, 0x01, 0x78]);
    let ext_len = 1 + (2 + 1 + sender.len()) + (2 + 1 + room.len());
    let mut swapped = vec![0xa2, 0x02, 0x78, room.len() as u8];
    swapped.extend_from_slice(room.as_bytes());
    swapped.extend_from_slice(&[0x01, 0x78, sender.len() as u8]);
    swapped.extend_from_slice(sender.as_bytes());
    let mut bad = original.to_vec();
    bad.splice(ext..ext + ext_len, swapped);
    assert_eq!(kind(&bad), Err(Malformed::UnsortedMapKeys));
}

#[test]
fn bodies_deeper_than_four_levels_are_rejected() {
    // multipart-3 is exactly 4 deep. Wrap its body in one more MultiPart.
    let deep = vector("multipart-3");
    let c = MimiContent::decode(deep).expect("vector");
    let mut wrapped = c.clone();
    wrapped.body =
        mimi_content::NestedPart::alternatives(vec![c.body.clone(), c.body]).expect("two parts");
    assert_eq!(
        wrapped.encode(),
        Err(mimi_content::Error::Invalid(Malformed::TooDeep))
    );
    // And by hand on the wire: [1, "", 3, 0, [<body>, <body>]]
    let body_at = find(deep, &[0x85, 0x01, 0x60, 0x03, 0x00, 0x82]);
    let body = &deep[body_at..];
    let mut bad = deep[..body_at].to_vec();
    bad.extend_from_slice(&[0x85, 0x01, 0x60, 0x03, 0x00, 0x82]);
    bad.extend_from_slice(body);
    bad.extend_from_slice(body);
    assert_eq!(kind(&bad), Err(Malformed::TooDeep));
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for garbage in [
        &b""[..],
        b"\x00",
        b"hello world",
        b"\xff\xff\xff",
        b"\x87\x87\x87\x87\x87\x87\x87",
        b"\x9f\x9f\x9f\x9f",
        b"\xc6\xc6\xc6\xc6",
    ] {
        assert!(ReceivedContent::decode(garbage).is_err(), "{garbage:?}");
    }
}
