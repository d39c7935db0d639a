//! Every example of draft-ietf-mimi-content (editor's copy -08, digest B.13)
//! decodes, re-encodes byte-identically and yields its message ID.

use mimi_content::{
    Disposition, EncryptionAlgorithm, Expiration, HashAlgorithm, MimiContent, Part, PartSemantics,
    ReceiveContext, ReceiveLimits, ReceivedContent,
};
use sha2::{Digest, Sha256};

use crate::{examples, id, vector};

#[test]
fn all_fourteen_examples_decode_re_encode_and_give_their_ids() {
    let examples = examples();
    assert_eq!(examples.len(), 14);
    for (example, bytes) in examples {
        let received =
            ReceivedContent::decode(bytes).unwrap_or_else(|e| panic!("{}: {e}", example.name));
        let content = received.content();
        assert_eq!(
            content.encode().as_deref(),
            Ok(bytes),
            "{}: re-encoding differs",
            example.name
        );
        assert_eq!(
            content.extensions.sender_uri(),
            Some(example.sender.as_str())
        );
        assert_eq!(content.extensions.room_uri(), Some(example.room.as_str()));
        let expected = id(&example.message_id);
        assert_eq!(received.message_id(), Ok(expected), "{}", example.name);
        assert_eq!(
            received.message_id_with(&example.sender, &example.room),
            Ok(expected),
            "{}",
            example.name
        );
    }
}

#[test]
fn the_draft_07_formula_gives_different_ids() {
    // -07 hashed sender || room || message || salt without length prefixes.
    // The digest quotes the original's -07 ID; -08 IDs must differ from it.
    for (example, bytes) in examples() {
        let salt = &bytes[2..18];
        let hash = Sha256::new()
            .chain_update(example.sender.as_bytes())
            .chain_update(example.room.as_bytes())
            .chain_update(bytes)
            .chain_update(salt)
            .finalize();
        let mut old = vec![0x01];
        old.extend_from_slice(&hash[..31]);
        assert_ne!(hex::encode(&old), example.message_id, "{}", example.name);
        if example.name == "original" {
            assert_eq!(
                hex::encode(&old),
                "01b0084467273cc43d6f0ebeac13eb84229c4fffe8f6c3594c905f47779e5a79"
            );
        }
    }
}

#[test]
fn examples_reference_each_other_as_the_digest_says() {
    let get = |name| MimiContent::decode(vector(name)).expect("vector decodes");
    let id_of = |name| {
        ReceivedContent::decode(vector(name))
            .expect("vector decodes")
            .message_id()
            .expect("has URIs")
    };
    let original = id_of("original");
    for name in [
        "reply",
        "reaction",
        "mention",
        "mention-html",
        "edit",
        "delete",
        "unlike",
    ] {
        assert_eq!(get(name).in_reply_to, Some(original), "{name}");
    }
    assert_eq!(get("edit").replaces, Some(id_of("reply")));
    assert_eq!(get("delete").replaces, Some(id_of("reply")));
    assert_eq!(get("unlike").replaces, Some(id_of("reaction")));
    assert_eq!(get("original").replaces, None);
}

#[test]
fn example_fields_decode_to_what_the_draft_shows() {
    let reaction = MimiContent::decode(vector("reaction")).expect("decodes");
    assert_eq!(reaction.body.disposition, Disposition::REACTION);
    let Part::Single(single) = &reaction.body.part else {
        panic!("reaction is a single part")
    };
    // U+2764 (the prose says U+2665; the bytes say U+2764).
    assert_eq!(single.content, "\u{2764}".as_bytes());

    let delete = MimiContent::decode(vector("delete")).expect("decodes");
    assert_eq!(delete.body.part, Part::Null);
    assert_eq!(delete.body.disposition, Disposition::RENDER);
    let unlike = MimiContent::decode(vector("unlike")).expect("decodes");
    assert_eq!(unlike.body.disposition, Disposition::REACTION);

    let expiring = MimiContent::decode(vector("expiring")).expect("decodes");
    assert_eq!(expiring.expires, Some(Expiration::at(1_644_390_004)));

    let attachment = MimiContent::decode(vector("attachment")).expect("decodes");
    assert_eq!(attachment.body.disposition, Disposition::ATTACHMENT);
    assert_eq!(attachment.body.language, "en");
    let Part::External(ext) = &attachment.body.part else {
        panic!("attachment is external")
    };
    assert_eq!(ext.url, "https://example.com/storage/8ksB4bSrrRE.mp4");
    assert_eq!(ext.size, 708_234_961);
    assert_eq!(ext.enc_alg, EncryptionAlgorithm::AES_128_GCM);
    assert_eq!(ext.key.len(), 16);
    assert_eq!(ext.nonce.len(), 12);
    assert_eq!(ext.hash_alg, HashAlgorithm::SHA_256);
    assert_eq!(ext.filename, "bigfile.mp4");

    let conf = MimiContent::decode(vector("conferencing")).expect("decodes");
    assert_eq!(conf.topic_id, b"Foo 118");
    assert_eq!(conf.body.disposition, Disposition::SESSION);
    let Part::External(join) = &conf.body.part else {
        panic!("conferencing is external")
    };
    assert_eq!(join.enc_alg, EncryptionAlgorithm::NONE);
    assert_eq!(join.hash_alg, HashAlgorithm::NONE);
    assert_eq!(join.description, "Join the Foo 118 conference");
}

#[test]
fn nested_example_part_indexes_match_its_cid_references() {
    // multipart-3: the HTML parts refer to cid:5 (the GIF) and cid:10 (the PNG).
    let msg = MimiContent::decode(vector("multipart-3")).expect("decodes");
    let walk = msg.body.walk();
    assert_eq!(walk.len(), 11);
    assert_eq!(walk.iter().map(|r| r.depth).max(), Some(4));
    let media = |i: usize| match &msg.body.by_index(i).map(|p| &p.part) {
        Some(Part::Single(s)) => s.content_type.clone(),
        other => panic!("part {i} is {other:?}"),
    };
    assert_eq!(media(5), "image/gif");
    assert_eq!(media(10), "image/png");
    let Part::Multi(root) = &msg.body.part else {
        panic!("root is multi")
    };
    assert_eq!(root.semantics, PartSemantics::ChooseOne);
}

#[test]
fn examples_pass_the_receiver_rules_in_their_own_context() {
    for (example, bytes) in examples() {
        let received = ReceivedContent::decode(bytes).expect("decodes");
        let ctx = ReceiveContext {
            sender_uri: &example.sender,
            room_uri: &example.room,
            hub_timestamp_ms: 1_644_387_225_019,
            now_ms: 1_644_389_403_227,
            room_created_ms: None,
            limits: ReceiveLimits::default(),
        };
        assert_eq!(received.check(&ctx), Ok(()), "{}", example.name);
    }
}
