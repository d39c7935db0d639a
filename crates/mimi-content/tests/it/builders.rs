//! The builders reproduce the draft's examples byte for byte when given the
//! same salt, so a message built here is what the draft means.

use mimi_content::markdown::{MARKDOWN_MEDIA_TYPE, mention_link, mentioned_uris};
use mimi_content::{
    ContentBuilder, Disposition, EncodedContent, EncryptedAttachment, EncryptionAlgorithm,
    Expiration, ExternalPart, HashAlgorithm, MessageStatus, MessageStatusReport, NestedPart, Part,
    ReceivedContent, Salt,
};
use rand::rngs::OsRng;

use crate::{id, vector};

const ALICE: &str = "mimi://example.com/u/alice-smith";
const BOB: &str = "mimi://example.com/u/bob-jones";
const CATHY: &str = "mimi://example.com/u/cathy-washington";
const ROOM: &str = "mimi://example.com/r/engineering_team";
const ORIGINAL: &str = "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4";
const REPLY: &str = "015354973c2b65ca937bf1e035ae53a5ab80e947afa43d46920d4202e5cc0b27";
const REACTION: &str = "0158c4288911e50a8f6be3f47746b6682f10fd91bc8c05557aa589a3157aff68";

/// A builder for `sender` using the salt of example `name`.
fn like(name: &str, sender: &str) -> ContentBuilder {
    let salt: [u8; 16] = vector(name)[2..18].try_into().expect("16-byte salt");
    ContentBuilder::new(sender, ROOM).salt(Salt::from_bytes(salt))
}

fn assert_reproduces(name: &str, built: Result<EncodedContent, mimi_content::Error>) {
    let built = built.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        hex::encode(&built.bytes),
        hex::encode(vector(name)),
        "{name}"
    );
    let received = ReceivedContent::decode(vector(name)).expect("vector decodes");
    assert_eq!(received.message_id(), Ok(built.message_id), "{name}");
}

#[test]
fn text_messages() {
    assert_reproduces(
        "original",
        like("original", ALICE)
            .markdown("Hi everyone, we just shipped release 2.0. __Good  work__!"),
    );
    assert_reproduces(
        "reply",
        like("reply", BOB).reply(id(ORIGINAL), "Right on! _Congratulations_ 'all!"),
    );
    assert_reproduces(
        "expiring",
        like("expiring", ALICE)
            .expires(Expiration::at(1_644_390_004))
            .markdown(
                "__*VPN GOING DOWN*__ I'm rebooting the VPN in ten minutes unless anyone objects.",
            ),
    );
}

#[test]
fn reactions_and_unlike() {
    assert_reproduces(
        "reaction",
        like("reaction", CATHY).reaction(id(ORIGINAL), "\u{2764}"),
    );
    assert_reproduces(
        "unlike",
        like("unlike", CATHY).unlike(id(REACTION), id(ORIGINAL)),
    );
    assert_reproduces(
        "multipart-2",
        NestedPart::reactions(["\u{2764}", "\u{1f973}", "\u{1f91e}"])
            .and_then(|body| like("multipart-2", ALICE).build(body)),
    );
}

#[test]
fn edit_and_delete() {
    assert_reproduces(
        "edit",
        like("edit", BOB).in_reply_to(id(ORIGINAL)).edit(
            id(REPLY),
            NestedPart::markdown("Right on! _Congratulations_ y'all!"),
        ),
    );
    assert_reproduces(
        "delete",
        like("delete", BOB)
            .in_reply_to(id(ORIGINAL))
            .delete(id(REPLY)),
    );
}

#[test]
fn mentions() {
    let link = mention_link("@Alice Smith", ALICE).expect("valid URI");
    assert_reproduces(
        "mention",
        like("mention", CATHY)
            .in_reply_to(id(ORIGINAL))
            .markdown(&format!("Kudos to {link} for making the release happen!")),
    );
    let html = format!(
        "<p>Kudos to <a href=\"{ALICE}\">@Alice Smith</a> for making the release happen!</p>"
    );
    assert_reproduces(
        "mention-html",
        like("mention-html", CATHY)
            .in_reply_to(id(ORIGINAL))
            .build(NestedPart::single(
                Disposition::RENDER,
                "text/html;charset=utf-8",
                html.into_bytes(),
            )),
    );
    let msg = mimi_content::MimiContent::decode(vector("mention")).expect("decodes");
    let Part::Single(single) = &msg.body.part else {
        panic!("single part")
    };
    assert_eq!(mentioned_uris(single.text().expect("text")), [ALICE]);
}

#[test]
fn external_parts() {
    let video = ExternalPart {
        content_type: "video/mp4".into(),
        url: "https://example.com/storage/8ksB4bSrrRE.mp4".into(),
        expires: 0,
        size: 708_234_961,
        enc_alg: EncryptionAlgorithm::AES_128_GCM,
        key: hex::decode("21399320958a6f4c745dde670d95e0d8").expect("hex"),
        nonce: hex::decode("c86cf2c33f21527d1dd76f5b").expect("hex"),
        aad: Vec::new(),
        hash_alg: HashAlgorithm::SHA_256,
        content_hash: hex::decode(
            "9ab17a8cf0890baaae7ee016c7312fcc080ba46498389458ee44f0276e783163",
        )
        .expect("hex"),
        description: "2 hours of key signing video".into(),
        filename: "bigfile.mp4".into(),
    };
    assert_reproduces(
        "attachment",
        like("attachment", BOB)
            .build(NestedPart::external(Disposition::ATTACHMENT, video).with_language("en")),
    );
    let join = ExternalPart {
        content_type: String::new(),
        url: "https://example.com/join/12345".into(),
        expires: 0,
        size: 0,
        enc_alg: EncryptionAlgorithm::NONE,
        key: Vec::new(),
        nonce: Vec::new(),
        aad: Vec::new(),
        hash_alg: HashAlgorithm::NONE,
        content_hash: Vec::new(),
        description: "Join the Foo 118 conference".into(),
        filename: String::new(),
    };
    assert_reproduces(
        "conferencing",
        like("conferencing", ALICE)
            .topic("Foo 118")
            .build(NestedPart::external(Disposition::SESSION, join)),
    );
}

#[test]
fn alternatives() {
    let fancy = hex::decode("dc861ebaa718fd7c3ca159f71a2001").expect("hex");
    let body = NestedPart::alternatives(vec![
        NestedPart::markdown("# Welcome!"),
        NestedPart::single(
            Disposition::RENDER,
            "application/vnd.examplevendor-fancy-im-message",
            fancy,
        ),
    ]);
    assert_reproduces(
        "multipart-1",
        body.and_then(|b| like("multipart-1", ALICE).build(b)),
    );
}

#[test]
fn attachment_encrypt_send_receive_decrypt() {
    let file = b"\x89PNG fake image bytes".repeat(100);
    let enc = EncryptedAttachment::encrypt(&file, &mut OsRng).expect("small file");
    let mut part = enc.external_part("https://example.com/storage/abc", "image/png");
    part.filename = "cat.png".into();
    let sent = ContentBuilder::new(ALICE, ROOM)
        .build(NestedPart::external(Disposition::INLINE, part))
        .expect("valid");

    let received = ReceivedContent::decode(sent.bytes).expect("decodes");
    assert_eq!(received.message_id(), Ok(sent.message_id));
    let Part::External(ext) = &received.content().body.part else {
        panic!("external part")
    };
    assert_eq!(ext.decrypt(enc.ciphertext()).as_deref(), Ok(&file[..]));
    assert!(ext.decrypt(&file).is_err(), "plaintext is not the upload");
}

#[test]
fn receipts_travel_inside_content() {
    let report = MessageStatusReport::read([id(ORIGINAL), id(REPLY)]);
    let sent = ContentBuilder::new(BOB, ROOM)
        .status_report(&report)
        .expect("valid");
    let received = ReceivedContent::decode(sent.bytes).expect("decodes");
    let back = MessageStatusReport::from_part(&received.content().body).expect("decodes");
    assert_eq!(back, Some(report));
    assert_eq!(
        back.map(|r| r.statuses[1].status),
        Some(MessageStatus::READ)
    );
}

#[test]
fn relative_expiry_and_topics() {
    let sent = ContentBuilder::new(ALICE, ROOM)
        .topic(b"thread-1".to_vec())
        .expires(Expiration::after_reading(60))
        .plain("gone in a minute")
        .expect("valid");
    let msg = ReceivedContent::decode(sent.bytes).expect("decodes");
    assert_eq!(msg.content().expires, Some(Expiration::after_reading(60)));
    assert_eq!(msg.content().topic_id, b"thread-1");
    let Part::Single(single) = &msg.content().body.part else {
        panic!("single part")
    };
    assert_ne!(single.content_type, MARKDOWN_MEDIA_TYPE);
    assert_eq!(single.text(), Some("gone in a minute"));
}
