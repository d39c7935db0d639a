//! The MLS working group's `messages.json` vectors (mlswg/mls-implementations,
//! read from `../shared/vectors/mls/`, never copied here) through MIMI's codec:
//! every MLS object a MIMI body embeds is placed in the body that embeds it,
//! decoded with `mimi_proto` and re-encoded byte for byte (decisions W-15).
//!
//! Embedded objects: `PublicMessage` commits and proposals and `Welcome`s
//! (`HandshakeBundle`, `FanoutMessage`), `PrivateMessage`s (`FanoutMessage`),
//! `GroupInfo` and `ratchet_tree` (`GroupInfoOption`, `RatchetTreeOption`),
//! `KeyPackage` (`KeyMaterialResponse`). The bare proposal, commit and
//! `GroupSecrets` structs of the file are never carried outside an
//! `MLSMessage` by MIMI, so they are not bodies' business.

use std::path::PathBuf;

use mimi_proto::messages::*;
use mimi_proto::{DecodeError, WireMessage};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{ContentType, MlsMessageBodyIn, MlsMessageIn};

/// `../shared/vectors` from the repository root. Missing vectors fail the
/// test: CI has them, and a skipped interop test hides a regression.
fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mls");
    assert!(
        dir.join("messages.json").is_file(),
        "MLS test vectors missing at {} (see ../shared/vectors/README.md)",
        dir.display()
    );
    dir
}

#[derive(serde::Deserialize)]
struct Messages {
    #[serde(deserialize_with = "from_hex")]
    mls_welcome: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    mls_group_info: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    mls_key_package: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    ratchet_tree: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    public_message_application: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    public_message_proposal: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    public_message_commit: Vec<u8>,
    #[serde(deserialize_with = "from_hex")]
    private_message: Vec<u8>,
}

fn from_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    hex::decode(text).map_err(serde::de::Error::custom)
}

/// The `MLSMessage` header: mls10 and `wire_format`.
fn strip_header(message: &[u8], wire_format: u8) -> &[u8] {
    assert_eq!(message[..4], [0, 1, 0, wire_format], "MLSMessage header");
    &message[4..]
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Decodes `bytes` as `T` and checks the re-encoding is `expected`.
fn round_trip<T: WireMessage + std::fmt::Debug>(bytes: &[u8], expected: &[u8], case: usize) -> T {
    let value = T::decode(bytes).unwrap_or_else(|e| panic!("case {case}: {}: {e}", T::NAME));
    assert_eq!(
        value.encode().unwrap(),
        expected,
        "case {case}: {}",
        T::NAME
    );
    value
}

#[test]
fn every_embedded_mls_object_round_trips_through_mimi_bodies() {
    let text = std::fs::read(vectors_dir().join("messages.json")).unwrap();
    let cases: Vec<Messages> = serde_json::from_slice(&text).unwrap();
    assert!(!cases.is_empty());
    let mut private_handshakes = 0;
    for (i, v) in cases.iter().enumerate() {
        let group_info = strip_header(&v.mls_group_info, 4);
        let welcome = strip_header(&v.mls_welcome, 3);
        let key_package = strip_header(&v.mls_key_package, 5);

        // A commit bundle carrying every embedded handshake object: the
        // Welcome as the draft has it (bare) and as OpenMLS clients send it
        // (wrapped, re-encoded bare; W-23).
        let bare = cat(&[
            &v.public_message_commit,
            &[1],
            welcome,
            &[1],
            group_info,
            &[1],
            &v.ratchet_tree,
        ]);
        let request: UpdateRequest = round_trip(&bare, &bare, i);
        let wrapped = cat(&[
            &v.public_message_commit,
            &[1],
            &v.mls_welcome,
            &[1],
            group_info,
            &[1],
            &v.ratchet_tree,
        ]);
        assert_eq!(round_trip::<UpdateRequest>(&wrapped, &bare, i), request);

        // A proposal bundle with one more proposal, and with none.
        let more = cat(&[
            &v.public_message_proposal,
            &vl_len(v.public_message_proposal.len()),
            &v.public_message_proposal,
        ]);
        round_trip::<UpdateRequest>(&more, &more, i);
        let single = cat(&[&v.public_message_proposal, &[0]]);
        round_trip::<UpdateRequest>(&single, &single, i);

        // A key material response handing out the KeyPackage.
        let user = b"mimi://b.example/u/bob";
        let client = b"mimi://b.example/d/bob/phone";
        let entry = cat(&[&[0, client.len() as u8], client, key_package]);
        let response = cat(&[
            &[1, 0, user.len() as u8],
            user,
            &vl_len(entry.len()),
            &entry,
        ]);
        let decoded: KeyMaterialResponse = round_trip(&response, &response, i);
        assert!(matches!(
            decoded.clients[0].status,
            ClientStatus::Success(_)
        ));

        // A notify body: the Welcome with its tree, the commit, the proposal,
        // and the private message if it is an application message (a
        // handshake in a PrivateMessage is refused, W-5).
        let timestamp = 1_700_000_000_000u64.to_be_bytes();
        let mut notify = cat(&[
            &timestamp,
            &v.mls_welcome,
            &[1],
            &v.ratchet_tree,
            &timestamp,
            &v.public_message_commit,
            &[0],
            &timestamp,
            &v.public_message_proposal,
            &[0],
        ]);
        let private = MlsMessageIn::tls_deserialize_exact(&v.private_message).unwrap();
        let MlsMessageBodyIn::PrivateMessage(private) = private.extract() else {
            panic!("case {i}: private_message is not a PrivateMessage");
        };
        let application_fanout = cat(&[&timestamp, &v.private_message, &[0]]);
        if private.content_type() == ContentType::Application {
            notify.extend(&application_fanout);
        } else {
            private_handshakes += 1;
            assert!(matches!(
                FanoutMessage::decode(&application_fanout),
                Err(DecodeError::Invalid { .. })
            ));
        }
        round_trip::<NotifyBody>(&notify, &notify, i);

        // Application content in a PublicMessage is refused with a reason.
        let public_app = cat(&[&timestamp, &v.public_message_application, &[0]]);
        assert!(
            matches!(
                FanoutMessage::decode(&public_app),
                Err(DecodeError::Invalid { .. })
            ),
            "case {i}"
        );
    }
    println!(
        "messages.json: {} cases through UpdateRequest, KeyMaterialResponse and notify bodies; \
         {private_handshakes} private messages were handshakes (refused by W-5)",
        cases.len()
    );
}

/// The MLS variable-length prefix (RFC 9420 §2.1.2).
fn vl_len(len: usize) -> Vec<u8> {
    if len < 64 {
        vec![len as u8]
    } else if len < 16384 {
        (0x4000 | len as u16).to_be_bytes().to_vec()
    } else {
        (0x8000_0000 | len as u32).to_be_bytes().to_vec()
    }
}
