//! Round-trip properties: arbitrary value → bytes → equal value, and the
//! decoder's answer to mutated real messages.

use std::collections::BTreeMap;

use mimi_content::franking::{SafeAad, SafeAadItem};
use mimi_content::{
    Disposition, EncryptionAlgorithm, Expiration, Extensions, ExternalPart, Float, HashAlgorithm,
    MAX_SAFE_INTEGER, MapKey, MessageId, MessageStatus, MessageStatusReport, MimiContent,
    MultiPart, NestedPart, Part, PartSemantics, PerMessageStatus, Salt, SinglePart, Value,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

use crate::examples;

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn message_id() -> impl Strategy<Value = MessageId> {
    any::<[u8; 31]>().prop_map(|tail| {
        let mut bytes = [1u8; 32];
        bytes[1..].copy_from_slice(&tail);
        MessageId::from_slice(&bytes).expect("first byte is 0x01")
    })
}

fn map_key() -> impl Strategy<Value = MapKey> {
    prop_oneof![
        (0..=MAX_SAFE_INTEGER).prop_map(MapKey::Unsigned),
        (0..MAX_SAFE_INTEGER).prop_map(MapKey::Negative),
        vec(any::<u8>(), 0..6).prop_map(MapKey::Bytes),
        text().prop_map(MapKey::Text),
    ]
}

/// Any value allowed inside the extensions map (level 1): containers reach
/// at most level 4, so three nested container levels.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<u64>().prop_map(Value::Unsigned),
        any::<u64>().prop_map(Value::Negative),
        vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
        text().prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(Value::Undefined),
        prop_oneof![0u8..20, 32u8..=255].prop_map(Value::Simple),
        any::<f64>().prop_map(|f| Value::Float(Float(f))),
        any::<f32>().prop_map(|f| Value::Float(Float(f64::from(f)))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(map_key(), inner.clone(), 0..4).prop_map(Value::Map),
            ((4u64..u64::MAX), inner).prop_map(|(t, v)| Value::Tag(t, Box::new(v))),
            (1u8..=255, vec(any::<u8>(), 8..12)).prop_map(|(first, mut rest)| {
                rest.insert(0, first);
                Value::Tag(2, Box::new(Value::Bytes(rest)))
            }),
        ]
    })
}

fn extension_key() -> impl Strategy<Value = MapKey> {
    prop_oneof![
        (3..=MAX_SAFE_INTEGER).prop_map(MapKey::Unsigned),
        (0..MAX_SAFE_INTEGER).prop_map(MapKey::Negative),
        ".{1,20}".prop_map(MapKey::Text),
    ]
}

fn extensions() -> impl Strategy<Value = Extensions> {
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        btree_map(extension_key(), value(), 0..3),
    )
        .prop_map(|(sender, room, others)| {
            let mut ext = Extensions::new();
            if let Some(s) = sender {
                ext.set_sender_uri(s);
            }
            if let Some(r) = room {
                ext.set_room_uri(r);
            }
            for (k, v) in others {
                ext.insert(k, v).expect("generated within the rules");
            }
            ext
        })
}

fn external() -> impl Strategy<Value = ExternalPart> {
    (
        (text(), text(), any::<u32>(), any::<u64>(), any::<u16>()),
        (
            vec(any::<u8>(), 0..17),
            vec(any::<u8>(), 0..13),
            vec(any::<u8>(), 0..3),
        ),
        (any::<u8>(), vec(any::<u8>(), 0..33), text(), text()),
    )
        .prop_map(
            |(
                (content_type, url, expires, size, enc),
                (key, nonce, aad),
                (hash, content_hash, description, filename),
            )| ExternalPart {
                content_type,
                url,
                expires,
                size,
                enc_alg: EncryptionAlgorithm(enc),
                key,
                nonce,
                aad,
                hash_alg: HashAlgorithm(hash),
                content_hash,
                description,
                filename,
            },
        )
}

/// Bodies up to the 4-level limit.
fn body() -> impl Strategy<Value = NestedPart> {
    let leaf = (
        any::<u8>(),
        text(),
        prop_oneof![
            Just(Part::Null),
            (text(), vec(any::<u8>(), 0..16)).prop_map(|(content_type, content)| {
                Part::Single(SinglePart {
                    content_type,
                    content,
                })
            }),
            external().prop_map(Part::External),
        ],
    )
        .prop_map(|(d, language, part)| NestedPart {
            disposition: Disposition(d),
            language,
            part,
        });
    leaf.prop_recursive(3, 16, 3, |inner| {
        (
            any::<u8>(),
            prop_oneof![
                Just(PartSemantics::ChooseOne),
                Just(PartSemantics::SingleUnit),
                Just(PartSemantics::ProcessAll),
            ],
            vec(inner, 2..4),
        )
            .prop_map(|(d, semantics, parts)| {
                NestedPart::new(Disposition(d), Part::Multi(MultiPart { semantics, parts }))
            })
    })
}

fn content() -> impl Strategy<Value = MimiContent> {
    (
        any::<[u8; 16]>(),
        proptest::option::of(message_id()),
        vec(any::<u8>(), 0..20),
        proptest::option::of((any::<bool>(), any::<u32>())),
        proptest::option::of(message_id()),
        extensions(),
        body(),
    )
        .prop_map(
            |(salt, replaces, topic_id, expires, in_reply_to, extensions, body)| MimiContent {
                salt: Salt::from_bytes(salt),
                replaces,
                topic_id,
                expires: expires.map(|(relative, time)| Expiration { relative, time }),
                in_reply_to,
                extensions,
                body,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn content_round_trips(msg in content()) {
        let bytes = msg.encode().expect("generated within the rules");
        let decoded = MimiContent::decode(&bytes).expect("our encoding decodes");
        prop_assert_eq!(&decoded, &msg);
        prop_assert_eq!(decoded.encode().expect("valid"), bytes);
    }

    #[test]
    fn extension_values_round_trip(v in value()) {
        let mut ext = Extensions::new();
        ext.insert(MapKey::Text("v".into()), v.clone()).expect("generated within the rules");
        let msg = MimiContent {
            salt: Salt::from_bytes([0; 16]),
            replaces: None,
            topic_id: Vec::new(),
            expires: None,
            in_reply_to: None,
            extensions: ext,
            body: NestedPart::plain("x"),
        };
        let decoded = MimiContent::decode(&msg.encode().expect("valid")).expect("decodes");
        prop_assert_eq!(decoded.extensions.get(&MapKey::Text("v".into())), Some(&v));
    }

    #[test]
    fn status_reports_round_trip(entries in vec((message_id(), any::<u8>()), 0..20)) {
        let report = MessageStatusReport {
            statuses: entries
                .into_iter()
                .map(|(message_id, s)| PerMessageStatus { message_id, status: MessageStatus(s) })
                .collect(),
        };
        let bytes = report.encode();
        prop_assert_eq!(MessageStatusReport::decode(&bytes), Ok(report));
    }

    #[test]
    fn safe_aad_round_trips(
        items in btree_map(any::<u16>(), vec(any::<u8>(), 0..80), 0..6),
        rest in vec(any::<u8>(), 0..8),
    ) {
        let aad = SafeAad::new(
            items.into_iter().map(|(id, data)| SafeAadItem::new(id, data)).collect(),
        )
        .expect("BTreeMap keys are sorted and unique");
        let bytes = aad.authenticated_data(&rest).expect("small");
        let (parsed, tail) = SafeAad::split(&bytes).expect("decodes");
        prop_assert_eq!(parsed, aad);
        prop_assert_eq!(tail, &rest[..]);
    }

    /// Flipping, inserting or deleting bytes of real messages never panics,
    /// and whatever still decodes re-encodes to the same bytes.
    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..14,
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let (_, original) = &examples()[which];
        let mut bytes = original.to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len().max(1));
            match op {
                0 if !bytes.is_empty() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ if !bytes.is_empty() => { bytes.remove(i); }
                _ => {}
            }
        }
        mimi_content::fuzzing::content(&bytes);
    }
}

#[test]
fn float_keys_and_values_examples() {
    // Hand-picked floats of each width survive the trip.
    for f in [
        0.0,
        -0.0,
        1.5,
        65504.0,
        1e-7,
        100000.0,
        1.1,
        f64::INFINITY,
        f64::NAN,
    ] {
        let mut map = BTreeMap::new();
        map.insert(MapKey::int(-3), Value::Float(Float(f)));
        let mut ext = Extensions::new();
        ext.insert(MapKey::Unsigned(300), Value::Map(map.clone()))
            .expect("valid");
        let msg = MimiContent {
            salt: Salt::from_bytes([1; 16]),
            replaces: None,
            topic_id: Vec::new(),
            expires: None,
            in_reply_to: None,
            extensions: ext,
            body: NestedPart::plain("x"),
        };
        let bytes = msg.encode().expect("valid");
        assert_eq!(MimiContent::decode(&bytes), Ok(msg), "{f}");
    }
}
