//! Known answers: bytes written out by hand from the TLS presentation layout
//! of protocol-06 and RFC 9420, one comment per field, never produced by our
//! encoder. Each test decodes the hand bytes to the expected value and
//! encodes the value back to the hand bytes.

use mimi_proto::components::ParticipantId;
use mimi_proto::messages::ApplicationMessage;
use mimi_proto::messages::*;
use mimi_proto::{RoomId, UserId, WireMessage};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use tls_codec::DeserializeBytes;

/// Concatenates hex fragments (whitespace ignored) and raw ASCII fragments.
pub(crate) enum Part<'a> {
    Hex(&'a str),
    Ascii(&'a str),
}
use Part::{Ascii, Hex};

pub(crate) fn bytes(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            Hex(h) => out.extend(hex::decode(h.replace(char::is_whitespace, "")).unwrap()),
            Ascii(a) => out.extend(a.as_bytes()),
        }
    }
    out
}

pub(crate) fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

pub(crate) fn room() -> RoomId {
    RoomId::parse("mimi://a.example/r/clubhouse").unwrap()
}

fn key_material_request_tbs_bytes(with_room: bool) -> Vec<u8> {
    let mut parts = vec![
        Hex("01"), // Protocol protocol = mls10
        Hex("18"), // IdentifierUri requestingUser: uri<V>, 24 bytes
        Ascii("mimi://a.example/u/alice"),
        Hex("16"), // IdentifierUri targetUser: uri<V>, 22 bytes
        Ascii("mimi://b.example/u/bob"),
    ];
    if with_room {
        parts.push(Hex("1c")); // IdentifierUri roomId: uri<V>, 28 bytes
        parts.push(Ascii("mimi://a.example/r/clubhouse"));
    } else {
        parts.push(Hex("00")); // IdentifierUri roomId: zero-length (no room)
    }
    parts.extend([
        Hex("02 0001"), // CipherSuite acceptableCiphersuites<V>: 2 bytes, suite 0x0001
        // RequiredCapabilities (RFC 9420 §11.1):
        Hex("02 0006"), //   ExtensionType extension_types<V>: app_data_dictionary
        Hex("02 0008"), //   ProposalType proposal_types<V>: app_data_update
        Hex("02 0001"), //   CredentialType credential_types<V>: basic
        Hex("20"),      // SignaturePublicKey requesterSignatureKey: key<V>, 32 bytes
        Hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
        // Credential requesterCredential (RFC 9420 §5.3):
        Hex("0001"), //   CredentialType credential_type = basic
        Hex("1e"),   //   opaque identity<V>, 30 bytes
        Ascii("mimi://a.example/d/alice/phone"),
    ]);
    bytes(&parts)
}

pub(crate) fn key_material_request_tbs(with_room: bool) -> KeyMaterialRequestTbs {
    KeyMaterialRequestTbs {
        requesting_user: user("mimi://a.example/u/alice"),
        target_user: user("mimi://b.example/u/bob"),
        room_id: with_room.then(room),
        acceptable_ciphersuites: vec![VerifiableCiphersuite::new(1)],
        required_capabilities: RequiredCapabilitiesExtension::new(
            &[ExtensionType::AppDataDictionary],
            &[ProposalType::AppDataUpdate],
            &[CredentialType::Basic],
        ),
        requester_signature_key: SignaturePublicKey::from((0u8..32).collect::<Vec<_>>()),
        requester_credential: BasicCredential::new(b"mimi://a.example/d/alice/phone".to_vec())
            .into(),
    }
}

#[test]
fn key_material_request_tbs_by_hand() {
    for with_room in [true, false] {
        let hand = key_material_request_tbs_bytes(with_room);
        let value = key_material_request_tbs(with_room);
        assert_eq!(
            value.tls_serialize_detached().unwrap(),
            hand,
            "room: {with_room}"
        );
        let (decoded, rest) = KeyMaterialRequestTbs::tls_deserialize_bytes(&hand).unwrap();
        assert!(rest.is_empty());
        assert_eq!(decoded, value);
    }
    // The whole request is the TBS followed by the signature.
    let mut hand = key_material_request_tbs_bytes(true);
    hand.extend(bytes(&[Hex("03 aabbcc")])); // opaque key_material_request_signature<V>
    let request = KeyMaterialRequest {
        tbs: key_material_request_tbs(true),
        signature: vec![0xaa, 0xbb, 0xcc],
    };
    assert_eq!(request.encode().unwrap(), hand);
    assert_eq!(KeyMaterialRequest::decode(&hand).unwrap(), request);
}

/// `MLSMessage` holding a tiny `PrivateMessage` (RFC 9420 §6, §6.3).
pub(crate) fn private_message_bytes() -> Vec<u8> {
    bytes(&[
        Hex("0001"), // ProtocolVersion version = mls10
        Hex("0002"), // WireFormat wire_format = mls_private_message
        Hex("1c"),   // opaque group_id<V>, 28 bytes
        Ascii("mimi://a.example/g/clubhouse"),
        Hex("0000000000000007"), // uint64 epoch = 7
        Hex("01"),               // ContentType content_type = application
        Hex("00"),               // opaque authenticated_data<V>: empty
        Hex("04 deadbeef"),      // opaque encrypted_sender_data<V>, 4 bytes
        Hex("03 010203"),        // opaque ciphertext<V>, 3 bytes
    ])
}

/// The `PrivateMessage` of [`private_message_bytes`], decoded.
pub(crate) fn application_message() -> ApplicationMessage {
    ApplicationMessage::try_from(
        MlsMessageIn::tls_deserialize_exact(private_message_bytes()).unwrap(),
    )
    .unwrap()
}

/// A frank with a fixed server frank and a two-byte signature.
pub(crate) fn frank() -> Frank {
    Frank {
        server_frank: [0xaa; 32],
        franking_signature_ciphersuite: Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
        franking_integrity_signature: vec![0xca, 0xfe],
    }
}

/// The application message fanned out at 1 700 000 000 000 ms, with or without a frank.
pub(crate) fn fanout_application(with_frank: bool) -> FanoutMessage {
    FanoutMessage {
        timestamp: 1_700_000_000_000,
        event: FanoutEvent::Application {
            message: application_message(),
            frank: with_frank.then(frank),
        },
    }
}

fn fanout_application_bytes(with_frank: bool) -> Vec<u8> {
    let mut out = bytes(&[Hex("0000018bcfe56800")]); // uint64 timestamp = 1 700 000 000 000 ms
    out.extend(private_message_bytes()); // MLSMessage message
    if with_frank {
        out.extend(bytes(&[
            Hex("01"), // optional<Frank> frank: present
            Hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), // uint8 server_frank[32]
            Hex("0001"),    // CipherSuite franking_signature_ciphersuite = 0x0001
            Hex("02 cafe"), // opaque franking_integrity_signature<V>, 2 bytes
        ]));
    } else {
        out.extend(bytes(&[Hex("00")])); // optional<Frank> frank: absent
    }
    out
}

#[test]
fn fanout_application_message_by_hand() {
    let message = application_message();
    assert_eq!(
        message.private_message().group_id().as_slice(),
        b"mimi://a.example/g/clubhouse"
    );
    assert_eq!(message.private_message().epoch(), GroupEpoch::from(7));
    for with_frank in [true, false] {
        let hand = fanout_application_bytes(with_frank);
        let value = fanout_application(with_frank);
        assert_eq!(value.encode().unwrap(), hand, "frank: {with_frank}");
        assert_eq!(FanoutMessage::decode(&hand).unwrap(), value);
    }

    // A notify body: the two messages back to back, no length prefix.
    let mut body = fanout_application_bytes(true);
    body.extend(fanout_application_bytes(false));
    let notify = NotifyBody::decode(&body).unwrap();
    assert_eq!(notify.messages.len(), 2);
    assert_eq!(notify.encode().unwrap(), body);
}

/// `MLSMessage` holding a `PublicMessage` from member 1 whose content is
/// `body` (a proposal or a commit), with empty signature and MAC fields
/// (RFC 9420 §6.2). `commit` adds the commit's `confirmation_tag`.
fn public_message_bytes(content_type: &str, body: &[Part<'_>], commit: bool) -> Vec<u8> {
    let mut out = bytes(&[
        Hex("0001"), // ProtocolVersion version = mls10
        Hex("0001"), // WireFormat wire_format = mls_public_message
        Hex("1c"),   // FramedContent: opaque group_id<V>, 28 bytes
        Ascii("mimi://a.example/g/clubhouse"),
        Hex("0000000000000007"), //   uint64 epoch = 7
        Hex("01 00000001"),      //   Sender sender: member, leaf_index = 1
        Hex("00"),               //   opaque authenticated_data<V>: empty
        Hex(content_type),       //   ContentType content_type
    ]);
    out.extend(bytes(body));
    out.extend(bytes(&[Hex("02 5151")])); // FramedContentAuthData: opaque signature<V>, 2 bytes
    if commit {
        out.extend(bytes(&[Hex("02 c0c0")])); //   MAC confirmation_tag: opaque<V>, 2 bytes
    }
    out.extend(bytes(&[Hex("02 3434")])); // MAC membership_tag: opaque<V>, 2 bytes
    out
}

/// A Remove proposal of leaf `removed`.
fn proposal_bytes(removed: &str) -> Vec<u8> {
    public_message_bytes(
        "02", // proposal
        &[
            Hex("0003"),  // Proposal: ProposalType proposal_type = remove
            Hex(removed), //   uint32 removed
        ],
        false,
    )
}

/// An empty commit (no proposals, no path).
fn commit_bytes() -> Vec<u8> {
    public_message_bytes(
        "03", // commit
        &[
            Hex("00"), // Commit: ProposalOrRef proposals<V>: empty
            Hex("00"), //   optional<UpdatePath> path: absent
        ],
        true,
    )
}

/// `MLSMessage` holding a Welcome for one new member (RFC 9420 §12.4.3.1).
fn welcome_bytes() -> Vec<u8> {
    bytes(&[
        Hex("0001"),      // ProtocolVersion version = mls10
        Hex("0003"),      // WireFormat wire_format = mls_welcome
        Hex("0001"),      // CipherSuite cipher_suite = 0x0001
        Hex("0b"),        // EncryptedGroupSecrets secrets<V>, 11 bytes:
        Hex("02 abab"),   //   KeyPackageRef new_member: opaque<V>, 2 bytes
        Hex("03 e1e2e3"), //   HPKECiphertext: opaque kem_output<V>, 3 bytes
        Hex("03 c1c2c3"), //     opaque ciphertext<V>, 3 bytes
        Hex("02 9999"),   // opaque encrypted_group_info<V>, 2 bytes
    ])
}

/// The fan-out event in its raw view, every kind, by hand: the bytes the
/// hub puts in a notify body and a client reads, fixed here so that the
/// framing cannot drift (they are the bytes of the hub's encoder before
/// `RawFanoutMessage` replaced it). Decoding gives back the same value.
#[test]
fn raw_fanout_every_kind_by_hand() {
    let frank = bytes(&[
        Hex("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), // uint8 server_frank[32]
        Hex("0001"),    // CipherSuite franking_signature_ciphersuite = 0x0001
        Hex("02 cafe"), // opaque franking_integrity_signature<V>, 2 bytes
    ]);
    // `optional<Node> ratchet_tree<V>`: one leaf, blank.
    let tree = bytes(&[Hex("01 00")]);
    let cases = [
        (
            RawFanoutMessage::Application {
                timestamp: 1_700_000_000_000,
                message: private_message_bytes(),
                frank: Some(frank.clone()),
            },
            fanout_application_bytes(true),
        ),
        (
            RawFanoutMessage::Application {
                timestamp: 1_700_000_000_000,
                message: private_message_bytes(),
                frank: None,
            },
            fanout_application_bytes(false),
        ),
        (
            RawFanoutMessage::Welcome {
                timestamp: 2,
                message: welcome_bytes(),
                ratchet_tree: tree.clone(),
            },
            [
                bytes(&[Hex("0000000000000002")]), // uint64 timestamp = 2
                welcome_bytes(),                   // MLSMessage message
                bytes(&[Hex("01")]),               // RatchetTreeOption: representation = full
                tree,                              //   Node ratchet_tree<V>
            ]
            .concat(),
        ),
        (
            RawFanoutMessage::Proposal {
                timestamp: 3,
                message: proposal_bytes("00000002"),
                more_proposals: vec![proposal_bytes("00000003"), proposal_bytes("00000004")],
            },
            [
                bytes(&[Hex("0000000000000003")]), // uint64 timestamp = 3
                proposal_bytes("00000002"),        // MLSMessage message
                bytes(&[Hex("40 78")]),            // MLSMessage moreProposals<V>, 120 bytes
                proposal_bytes("00000003"),
                proposal_bytes("00000004"),
            ]
            .concat(),
        ),
        (
            RawFanoutMessage::Commit {
                timestamp: 4,
                message: commit_bytes(),
                external_proposals: vec![proposal_bytes("00000005")],
            },
            [
                bytes(&[Hex("0000000000000004")]), // uint64 timestamp = 4
                commit_bytes(),                    // MLSMessage message
                bytes(&[Hex("3c")]),               // MLSMessage externalProposals<V>, 60 bytes
                proposal_bytes("00000005"),
            ]
            .concat(),
        ),
        (
            RawFanoutMessage::Commit {
                timestamp: 5,
                message: commit_bytes(),
                external_proposals: Vec::new(),
            },
            [
                bytes(&[Hex("0000000000000005")]), // uint64 timestamp = 5
                commit_bytes(),                    // MLSMessage message
                bytes(&[Hex("00")]),               // MLSMessage externalProposals<V>: empty
            ]
            .concat(),
        ),
    ];
    for (value, hand) in cases {
        assert_eq!(value.encode().unwrap(), hand, "{value:?}");
        assert_eq!(RawFanoutMessage::decode(&hand).unwrap(), value);
        // The parsed view reads the same bytes and writes them back.
        assert_eq!(
            FanoutMessage::decode(&hand).unwrap().encode().unwrap(),
            hand
        );
    }
}

#[test]
fn short_bodies_by_hand() {
    // UpdateRoomResponse, wrongEpoch.
    let hand = bytes(&[
        Hex("01"),               // UpdateResponseCode responseCode = wrongEpoch
        Hex("05"),               // string errorDescription: opaque<V>, 5 bytes
        Ascii("stale"),          //
        Hex("000000000000002a"), // uint64 currentEpoch = 42
    ]);
    let value = update_wrong_epoch();
    assert_eq!(value.encode().unwrap(), hand);
    assert_eq!(UpdateRoomResponse::decode(&hand).unwrap(), value);

    // SubmitMessageResponse, accepted without a frank.
    let hand = bytes(&[
        Hex("01"),               // Protocol protocol = mls10
        Hex("00"),               // SubmitResponseCode statusCode = accepted
        Hex("0000018bcfe56800"), // uint64 accepted_timestamp
        Hex("00"),               // optional<Frank> frank: absent
    ]);
    let value = submit_accepted();
    assert_eq!(value.encode().unwrap(), hand);
    assert_eq!(SubmitMessageResponse::decode(&hand).unwrap(), value);

    // GroupInfoResponse, notAuthorized.
    let hand = bytes(&[
        Hex("01"), // Protocol version = mls10
        Hex("1c"), // opaque room_id<V>, 28 bytes
        Ascii("mimi://a.example/r/clubhouse"),
        Hex("02"), // GroupInfoCode status = notAuthorized; default: struct {}
    ]);
    let value = GroupInfoResponse::NotAuthorized { room_id: room() };
    assert_eq!(value.encode().unwrap(), hand);
    assert_eq!(GroupInfoResponse::decode(&hand).unwrap(), value);

    // ConsentEntry, request scoped to a room.
    let hand = bytes(&[
        Hex("01"), // ConsentOperation consentOperation = request
        Hex("18"), // IdentifierUri requesterUri, 24 bytes
        Ascii("mimi://a.example/u/alice"),
        Hex("16"), // IdentifierUri targetUri, 22 bytes
        Ascii("mimi://b.example/u/bob"),
        Hex("01"), // optional<RoomId> roomId: present
        Hex("1c"), //   IdentifierUri, 28 bytes
        Ascii("mimi://a.example/r/clubhouse"),
        Hex("00"), // AppDataDictionary consent_extensions: ComponentData component_data<V>, empty
    ]);
    let value = consent_request();
    assert_eq!(value.encode().unwrap(), hand);
    assert_eq!(ConsentEntry::decode(&hand).unwrap(), value);

    // AbuseReport, anonymous, one quoted message, one extension.
    let hand = bytes(&[
        Hex("00"), // IdentifierUri reportingUser: zero-length (not named)
        Hex("16"), // IdentifierUri allegedAbuserUri, 22 bytes
        Ascii("mimi://b.example/u/bob"),
        Hex("00"), // AbuseType reasonCode = reserved(0)
        Hex("04"), // opaque note<V>, 4 bytes
        Ascii("spam"),
        Hex("2e"),      // AbusiveMessage messages<V>, 46 bytes:
        Hex("02 6869"), //   opaque message_content<V>: "hi"
        Hex("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), //   Frank: server_frank[32]
        Hex("0001"),             //     franking_signature_ciphersuite
        Hex("00"),               //     franking_integrity_signature<V>: empty
        Hex("0000000000000001"), //   uint64 accepted_timestamp = 1
        Hex("06"),               // AppDataDictionary abuse_extensions: component_data<V>, 6 bytes
        Hex("8001"),             //   ComponentID component_id = 0x8001
        Hex("03 010203"),        //   opaque data<V>, 3 bytes
    ]);
    let value = abuse_report_anonymous();
    assert_eq!(value.encode().unwrap(), hand);
    assert_eq!(AbuseReport::decode(&hand).unwrap(), value);
}

/// `UpdateRoomResponse` refusing a commit for epoch 42.
pub(crate) fn update_wrong_epoch() -> UpdateRoomResponse {
    UpdateRoomResponse {
        error_description: mimi_proto::Utf8String::new("stale").unwrap(),
        outcome: UpdateOutcome::WrongEpoch { current_epoch: 42 },
    }
}

/// `SubmitMessageResponse` accepting a message without a frank.
pub(crate) fn submit_accepted() -> SubmitMessageResponse {
    SubmitMessageResponse::Accepted {
        accepted_timestamp: 1_700_000_000_000,
        frank: None,
    }
}

/// `ConsentEntry`: alice asks bob, scoped to the clubhouse.
pub(crate) fn consent_request() -> ConsentEntry {
    ConsentEntry {
        action: ConsentAction::Request,
        scope: ConsentScope {
            requester_uri: user("mimi://a.example/u/alice"),
            target_uri: user("mimi://b.example/u/bob"),
            room_id: Some(room()),
        },
        consent_extensions: AppDataDictionary::new(),
    }
}

/// `AbuseReport`: anonymous, one quoted message, one extension.
pub(crate) fn abuse_report_anonymous() -> AbuseReport {
    let mut extensions = AppDataDictionary::new();
    extensions.insert(0x8001, vec![1, 2, 3]);
    AbuseReport {
        reporting_user: None,
        alleged_abuser_uri: ParticipantId::parse("mimi://b.example/u/bob").unwrap(),
        reason_code: AbuseType::RESERVED,
        note: mimi_proto::Utf8String::new("spam").unwrap(),
        messages: vec![AbusiveMessage {
            message_content: b"hi".to_vec(),
            frank: Frank {
                server_frank: [0xbb; 32],
                franking_signature_ciphersuite:
                    Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
                franking_integrity_signature: vec![],
            },
            accepted_timestamp: 1,
        }],
        abuse_extensions: extensions,
    }
}

/// A user whose clients are all out of KeyPackages, in both readings of the
/// draft (decisions W-24): ours, `noCompatibleMaterial` with the exhausted
/// clients, and a peer's `partialSuccess` (or `success`) with no client in
/// success. Both decode and both say the user is out of key material.
#[test]
fn out_of_key_material_in_both_readings() {
    let bob = "mimi://b.example/u/bob";
    let phone = "mimi://b.example/d/bob/phone";
    let client = |code: &'static str| {
        [
            Hex(code),    // clientStatus
            Hex("1c"),    // clientUri length 28
            Ascii(phone), // clientUri
        ]
    };
    let response = |user_status: &'static str, clients: &[Part<'static>]| {
        let clients = bytes(clients);
        let mut out = bytes(&[
            Hex("01"),        // protocol mls10
            Hex(user_status), // userStatus
            Hex("16"),        // userUri length 22
            Ascii(bob),       // userUri
        ]);
        out.push(u8::try_from(clients.len()).unwrap()); // clients<V>
        out.extend(clients);
        KeyMaterialResponse::decode(&out).unwrap()
    };
    let ours = response("03", &client("01")); // noCompatibleMaterial, exhausted
    assert_eq!(ours.user_status, KeyMaterialUserCode::NoCompatibleMaterial);
    assert_eq!(ours.clients[0].status, ClientStatus::KeyMaterialExhausted);
    assert!(ours.is_out_of_key_material());
    let theirs = response("01", &[]); // partialSuccess, no clients
    assert_eq!(theirs.user_status, KeyMaterialUserCode::PartialSuccess);
    assert!(theirs.is_out_of_key_material());
    assert!(response("00", &[]).is_out_of_key_material());
    assert!(response("01", &client("01")).is_out_of_key_material());
    assert!(response("00", &[]).clients.is_empty());

    // With a KeyPackage it is not; other user codes are their own refusals.
    let with_key_package = KeyMaterialResponse {
        user_status: KeyMaterialUserCode::PartialSuccess,
        user_uri: UserId::parse(bob).unwrap(),
        clients: vec![ClientKeyMaterial {
            client_uri: mimi_proto::ClientId::parse(phone).unwrap(),
            status: ClientStatus::Success(Box::new(crate::pool::POOL.key_packages[0].clone())),
        }],
    };
    assert!(!with_key_package.is_out_of_key_material());
    assert!(!response("04", &[]).is_out_of_key_material()); // userUnknown
    assert!(!response("05", &[]).is_out_of_key_material()); // noConsent
}
