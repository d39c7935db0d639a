//! Malformed input gives a typed [`DecodeError`], never a panic: truncation
//! at every length, random mutations, non-minimal and reserved varints,
//! lengths past the end, unknown enum values, invalid presence bytes,
//! non-canonical and wrong-kind identifiers, wrong MLS message kinds, caps.

use mimi_proto::messages::*;
use mimi_proto::{DecodeError, IdError, MAX_MESSAGE_LEN, UriKind, WireMessage};
use proptest::prelude::*;
use proptest::sample::select;

use crate::pool::POOL;
use crate::samples;

#[test]
fn truncation_at_every_length_is_an_error() {
    let mut truncated = 0usize;
    let mut checked = 0usize;
    for sample in samples::all() {
        for len in 0..sample.bytes.len() {
            let result = (sample.decode)(&sample.bytes[..len]);
            checked += 1;
            match result {
                Err(DecodeError::Truncated) => truncated += 1,
                Err(_) => {}
                // Only a notify body (concatenated messages) has prefixes
                // that are themselves whole bodies.
                Ok(()) => assert_eq!(sample.target, "message_notify", "prefix {len} decoded"),
            }
        }
    }
    // Most cuts land in our own fields or vectors and say so precisely; the
    // rest land inside OpenMLS objects (`Mls`) or a vector's declared span.
    assert!(checked > 10_000, "{checked}");
    assert!(
        truncated * 2 > checked,
        "{truncated} of {checked} are Truncated"
    );
}

#[test]
fn empty_and_oversized_inputs() {
    assert_eq!(NotifyBody::decode(&[]), Err(DecodeError::Truncated));
    assert_eq!(KeyMaterialRequest::decode(&[]), Err(DecodeError::Truncated));
    let huge = vec![0u8; MAX_MESSAGE_LEN + 1];
    assert_eq!(
        UpdateRequest::decode(&huge),
        Err(DecodeError::TooLarge("UpdateRequest"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Flipping, inserting or deleting bytes of a valid body never panics,
    /// and whatever still decodes is canonical.
    #[test]
    fn mutations_never_panic(
        index in 0usize..1000,
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        how in 0u8..3,
    ) {
        let samples = samples_cached();
        let sample = &samples[index % samples.len()];
        let mut bytes = sample.bytes.clone();
        let at = position.index(bytes.len());
        match how {
            0 => bytes[at] ^= byte | 1,
            1 => bytes.insert(at, byte),
            _ => { bytes.remove(at); }
        }
        if (sample.decode)(&bytes).is_ok() {
            // Decoding is strict, so bytes that still decode must be the
            // canonical encoding of their value; the fuzz entry point asserts
            // exactly that.
            canonical(sample.target, &bytes);
        }
    }
}

fn samples_cached() -> &'static [samples::Sample] {
    static SAMPLES: std::sync::LazyLock<Vec<samples::Sample>> =
        std::sync::LazyLock::new(samples::all);
    &SAMPLES
}

/// The fuzz entry point for `target` asserts that decode-then-encode is the
/// identity.
fn canonical(target: &str, bytes: &[u8]) {
    use mimi_proto::fuzzing::messages as f;
    let check: fn(&[u8]) = match target {
        "message_key_material_request" => f::key_material_request,
        "message_key_material_response" => f::key_material_response,
        "message_update_request" => f::update_request,
        "message_update_room_response" => f::update_room_response,
        "message_submit_message_request" => f::submit_message_request,
        "message_submit_message_response" => f::submit_message_response,
        "message_notify" => f::notify,
        "message_group_info_request" => f::group_info_request,
        "message_group_info_response" => f::group_info_response,
        "message_consent_entry" => f::consent_entry,
        "message_identifier_request" => f::identifier_request,
        "message_identifier_response" => f::identifier_response,
        "message_abuse_report" => f::abuse_report,
        other => panic!("no fuzz entry point for {other}"),
    };
    check(bytes);
}

/// `KeyMaterialResponse` header: mls10, `userStatus`, `userUri`.
fn key_material_response_head(status: u8) -> Vec<u8> {
    let mut out = vec![1, status, 22];
    out.extend(b"mimi://b.example/u/bob");
    out
}

#[test]
fn varints_must_be_minimal_and_within_the_input() {
    // KeyMaterialResponse: the userUri length 22 written in two bytes.
    let mut bytes = vec![1, 0, 0x40, 22];
    bytes.extend(b"mimi://b.example/u/bob");
    bytes.push(0);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::InvalidLength)
    );
    // The same in four bytes, and the reserved eight-byte prefix.
    let mut bytes = vec![1, 0, 0x80, 0, 0, 22];
    bytes.extend(b"mimi://b.example/u/bob");
    bytes.push(0);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::InvalidLength)
    );
    assert_eq!(
        KeyMaterialResponse::decode(&[1, 0, 0xc0, 0, 0, 0, 0, 0, 0, 22]),
        Err(DecodeError::InvalidLength)
    );
    // An empty clients<V> with its zero length written in two bytes.
    let mut bytes = key_material_response_head(0);
    bytes.extend([0x40, 0]);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::InvalidLength)
    );
    // clients<V> declares 10 bytes, 2 follow.
    let mut bytes = key_material_response_head(0);
    bytes.extend([10, 0, 0]);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::Truncated)
    );
    // userUri declares 60 bytes, 22 follow.
    let mut bytes = vec![1, 0, 60];
    bytes.extend(b"mimi://b.example/u/bob");
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::Truncated)
    );
    // An item that runs past its vector: one ClientKeyMaterial declared as
    // 3 bytes, but its clientUri alone needs more.
    let mut bytes = key_material_response_head(0);
    bytes.extend([3, 0, 20, b'm']);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::Truncated)
    );
}

#[test]
fn unknown_enumeration_values() {
    fn unknown<T>(field: &'static str, value: u64) -> Result<T, DecodeError> {
        Err(DecodeError::UnknownValue { field, value })
    }
    for protocol in [0, 2, 255] {
        assert_eq!(
            KeyMaterialResponse::decode(&[protocol, 0, 0]),
            unknown("Protocol", u64::from(protocol))
        );
        assert_eq!(
            SubmitMessageResponse::decode(&[protocol, 1]),
            unknown("Protocol", u64::from(protocol))
        );
    }
    let mut bytes = key_material_response_head(8);
    bytes.push(0);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        unknown("KeyMaterialResponse.userStatus", 8)
    );
    let mut bytes = key_material_response_head(0);
    bytes.extend([1, 3]);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        unknown("ClientKeyMaterial.clientStatus", 3)
    );
    assert_eq!(
        SubmitMessageResponse::decode(&[1, 3]),
        unknown("SubmitMessageResponse.statusCode", 3)
    );
    assert_eq!(
        UpdateRoomResponse::decode(&[4, 0]),
        unknown("UpdateRoomResponse.responseCode", 4)
    );
    let mut room = vec![1, 28];
    room.extend(b"mimi://a.example/r/clubhouse");
    for status in [0, 4] {
        let mut bytes = room.clone();
        bytes.push(status);
        assert_eq!(
            GroupInfoResponse::decode(&bytes),
            unknown("GroupInfoResponse.status", u64::from(status))
        );
    }
    assert_eq!(
        ConsentEntry::decode(&[4]),
        unknown("ConsentEntry.consentOperation", 4)
    );
    for search_type in [0, 9] {
        assert_eq!(
            IdentifierRequest::decode(&[2, search_type, 0, 0]),
            unknown("QueryElement.searchType", u64::from(search_type))
        );
    }
    assert_eq!(
        IdentifierResponse::decode(&[5, 0, 0, 0]),
        unknown("IdentifierResponse.responseCode", 5)
    );
    // UserProfile with one field of fieldSource 1 (reserved range).
    let mut bytes = vec![0, 0];
    let mut profile = vec![22];
    profile.extend(b"mimi://b.example/u/bob");
    profile.extend([3, 1, 0, 0]);
    bytes.push(u8::try_from(profile.len()).unwrap());
    bytes.extend(profile);
    bytes.push(0);
    assert_eq!(
        IdentifierResponse::decode(&bytes),
        unknown("ProfileField.fieldSource", 1)
    );
}

/// Bytes of a body with a `PublicMessage` commit at `at`, then `tail`.
fn with_commit(head: &[u8], tail: &[u8]) -> Vec<u8> {
    use tls_codec::Serialize as _;
    let mut out = head.to_vec();
    out.extend(POOL.commits[0].tls_serialize_detached().unwrap());
    out.extend(tail);
    out
}

#[test]
fn selects_inside_update_bundles() {
    // Commit, welcome presence 2.
    assert_eq!(
        UpdateRequest::decode(&with_commit(&[], &[2])),
        Err(DecodeError::InvalidBool("HandshakeBundle.welcome"))
    );
    // Commit, no welcome, GroupInfoRepresentation reserved(0) and 3.
    for representation in [0, 3] {
        assert_eq!(
            UpdateRequest::decode(&with_commit(&[], &[0, representation])),
            Err(DecodeError::UnknownValue {
                field: "GroupInfoOption.representation",
                value: u64::from(representation)
            })
        );
    }
    // Partial GroupInfo with RatchetTreePresence 4.
    assert_eq!(
        UpdateRequest::decode(&with_commit(&[], &[0, 2, 4])),
        Err(DecodeError::UnknownValue {
            field: "PartialGroupInfo.ratchet_tree_presence",
            value: 4
        })
    );
    // Partial GroupInfo, no extensions, empty signature, then
    // RatchetTreeRepresentation reserved(0) and 5.
    for representation in [0, 5] {
        assert_eq!(
            UpdateRequest::decode(&with_commit(&[], &[0, 2, 0, 0, 0, representation])),
            Err(DecodeError::UnknownValue {
                field: "RatchetTreeOption.representation",
                value: u64::from(representation)
            })
        );
    }
    // The same with distributionService is a whole, valid request.
    assert!(UpdateRequest::decode(&with_commit(&[], &[0, 2, 0, 0, 0, 4])).is_ok());
}

#[test]
fn invalid_presence_bytes() {
    let mut accepted = vec![1, 0];
    accepted.extend(7u64.to_be_bytes());
    for presence in [2, 0xff] {
        let mut bytes = accepted.clone();
        bytes.push(presence);
        assert_eq!(
            SubmitMessageResponse::decode(&bytes),
            Err(DecodeError::InvalidBool("SubmitMessageResponse.frank"))
        );
    }
    // ConsentScope.roomId.
    let mut bytes = vec![1, 24];
    bytes.extend(b"mimi://a.example/u/alice");
    bytes.push(22);
    bytes.extend(b"mimi://b.example/u/bob");
    bytes.extend([2, 0]);
    assert_eq!(
        ConsentEntry::decode(&bytes),
        Err(DecodeError::InvalidBool("ConsentScope.roomId"))
    );
    // ClientKeyMaterial.clientCapabilities (nothingCompatible).
    let mut client = vec![2, 24];
    client.extend(b"mimi://b.example/d/bob/x");
    client.push(2);
    let mut bytes = key_material_response_head(0);
    bytes.push(u8::try_from(client.len()).unwrap());
    bytes.extend(client);
    assert_eq!(
        KeyMaterialResponse::decode(&bytes),
        Err(DecodeError::InvalidBool(
            "ClientKeyMaterial.clientCapabilities"
        ))
    );
}

#[test]
fn identifiers_must_be_canonical_and_of_the_right_kind() {
    let response = |uri: &[u8]| {
        let mut bytes = vec![1, 4, u8::try_from(uri.len()).unwrap()];
        bytes.extend(uri);
        bytes.push(0);
        KeyMaterialResponse::decode(&bytes)
    };
    assert!(response(b"mimi://b.example/u/bob").is_ok());
    assert_eq!(
        response(b"mimi://B.example/u/bob"),
        Err(DecodeError::Identifier(IdError::NotCanonical))
    );
    assert_eq!(
        response(b"MIMI://b.example/u/bob"),
        Err(DecodeError::Identifier(IdError::NotCanonical))
    );
    assert_eq!(
        response(b"mimi://b.example/r/bob"),
        Err(DecodeError::Identifier(IdError::WrongKind {
            expected: UriKind::User,
            found: UriKind::Room
        }))
    );
    assert_eq!(
        response(b"https://b.example/u/bob"),
        Err(DecodeError::Identifier(IdError::BadScheme))
    );
    assert_eq!(
        response(b"mimi://b.example/u/b\xffb"),
        Err(DecodeError::Identifier(IdError::BadSegment))
    );
    // KeyMaterialRequest.roomId: empty is "no room", a user URI is refused.
    let mut bytes = vec![1, 24];
    bytes.extend(b"mimi://a.example/u/alice");
    bytes.push(22);
    bytes.extend(b"mimi://b.example/u/bob");
    bytes.push(22);
    bytes.extend(b"mimi://b.example/u/bob");
    assert_eq!(
        KeyMaterialRequest::decode(&bytes),
        Err(DecodeError::Identifier(IdError::WrongKind {
            expected: UriKind::Room,
            found: UriKind::User
        }))
    );
    // SubmitMessageRequest.sendingUri must name a participant (user or
    // pseudonym), not a client.
    use tls_codec::Serialize as _;
    let mut bytes = vec![1];
    bytes.extend(POOL.applications[0].tls_serialize_detached().unwrap());
    let client = b"mimi://a.example/d/alice/phone";
    bytes.push(u8::try_from(client.len()).unwrap());
    bytes.extend(client);
    assert!(matches!(
        SubmitMessageRequest::decode(&bytes),
        Err(DecodeError::Identifier(IdError::WrongKind {
            found: UriKind::Client,
            ..
        }))
    ));
}

#[test]
fn clients_only_with_codes_that_allow_them() {
    let mut client = vec![1, 24];
    client.extend(b"mimi://b.example/d/bob/x");
    for (code, allowed) in [
        (0, true),
        (1, true),
        (3, true),
        (2, false),
        (4, false),
        (5, false),
    ] {
        let mut bytes = key_material_response_head(code);
        bytes.push(u8::try_from(client.len()).unwrap());
        bytes.extend(&client);
        let result = KeyMaterialResponse::decode(&bytes);
        if allowed {
            assert!(result.is_ok(), "code {code}: {result:?}");
        } else {
            assert_eq!(
                result,
                Err(DecodeError::Invalid {
                    what: "KeyMaterialResponse.clients",
                    reason: "must be empty for this userStatus"
                }),
                "code {code}"
            );
        }
    }
}

#[test]
fn mls_messages_of_the_wrong_kind() {
    use tls_codec::Serialize as _;
    let application = POOL.applications[0].tls_serialize_detached().unwrap();
    let proposal = POOL.proposals[0].tls_serialize_detached().unwrap();
    // An application message where a handshake is expected.
    let mut bytes = application.clone();
    bytes.push(0);
    assert_eq!(
        UpdateRequest::decode(&bytes),
        Err(DecodeError::Invalid {
            what: "HandshakeBundle.proposalOrCommit",
            reason: "must be a PublicMessage proposal or commit"
        })
    );
    // A proposal where an application message is expected.
    let mut bytes = vec![1];
    bytes.extend(&proposal);
    bytes.push(22);
    bytes.extend(b"mimi://b.example/u/bob");
    assert!(matches!(
        SubmitMessageRequest::decode(&bytes),
        Err(DecodeError::Invalid {
            what: "SubmitMessageRequest.appMessage",
            ..
        })
    ));
    // A commit among moreProposals.
    let commit = POOL.commits[0].tls_serialize_detached().unwrap();
    let mut bytes = proposal.clone();
    bytes.extend([
        0x40 | u8::try_from(commit.len() >> 8).unwrap(),
        commit.len() as u8,
    ]);
    bytes.extend(&commit);
    assert!(matches!(
        UpdateRequest::decode(&bytes),
        Err(DecodeError::Invalid {
            what: "HandshakeBundle.moreProposals",
            ..
        })
    ));
    // A KeyPackage as an MLSMessage (wire format 5) in a fan-out.
    let mut bytes = 1u64.to_be_bytes().to_vec();
    bytes.extend([0, 1, 0, 5]);
    bytes.extend(POOL.key_packages[0].tls_serialize_detached().unwrap());
    assert!(matches!(
        FanoutMessage::decode(&bytes),
        Err(DecodeError::Invalid {
            what: "FanoutMessage.message",
            reason: "wire format not allowed here"
        })
    ));
    // An unknown wire format.
    assert!(FanoutMessage::decode(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 9]).is_err());
}

#[test]
fn mls_objects_must_be_canonically_encoded() {
    use tls_codec::Serialize as _;
    // The PublicMessage group_id length (first field after the 4-byte
    // MLSMessage header) re-written as a two-byte varint.
    let proposal = POOL.proposals[0].tls_serialize_detached().unwrap();
    let group_id_len = proposal[4];
    assert!(group_id_len < 64);
    let mut bytes = proposal[..4].to_vec();
    bytes.extend([0x40, group_id_len]);
    bytes.extend(&proposal[5..]);
    bytes.push(0); // moreProposals: empty
    let result = UpdateRequest::decode(&bytes);
    assert!(
        matches!(
            result,
            Err(DecodeError::InvalidLength
                | DecodeError::Invalid {
                    reason: "MLS object is not canonically encoded",
                    ..
                })
        ),
        "{result:?}"
    );
}

#[test]
fn caps_on_peer_controlled_counts() {
    // 17 query elements of type handle with empty values.
    let mut bytes = vec![34];
    for _ in 0..17 {
        bytes.extend([1, 0]);
    }
    bytes.push(0);
    assert_eq!(
        IdentifierRequest::decode(&bytes),
        Err(DecodeError::TooLarge("IdentifierRequest.query_elements"))
    );
    // One more FanoutMessage than a notify body may carry.
    let message = FanoutMessage {
        timestamp: 1,
        event: FanoutEvent::Application {
            message: POOL.applications[0].clone(),
            frank: None,
        },
    }
    .encode()
    .unwrap();
    let at_cap = message.repeat(mimi_proto::messages::fanout::MAX_FANOUT_MESSAGES_PER_NOTIFY);
    assert_eq!(
        NotifyBody::decode(&at_cap).unwrap().messages.len(),
        mimi_proto::messages::fanout::MAX_FANOUT_MESSAGES_PER_NOTIFY
    );
    let mut over = at_cap;
    over.extend(&message);
    assert_eq!(
        NotifyBody::decode(&over),
        Err(DecodeError::TooLarge("notify body"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A fan-out of any kind followed by junk: the junk is a second message,
    /// which fails, so the body fails.
    #[test]
    fn notify_rejects_a_partial_second_message(junk in prop::collection::vec(any::<u8>(), 1..12), app in select(POOL.applications.clone())) {
        let mut bytes = FanoutMessage {
            timestamp: 9,
            event: FanoutEvent::Application { message: app, frank: None },
        }
        .encode()
        .unwrap();
        bytes.extend(junk);
        prop_assert!(NotifyBody::decode(&bytes).is_err());
    }
}

/// A peer's UpdateRequest whose Welcome is wrapped in an `MLSMessage` (what
/// OpenMLS clients send, decisions W-23): hand-built by inserting the
/// `MLSMessage` header (mls10, welcome) before the bare Welcome. It decodes to
/// the same bundle, and re-encodes in the draft's bare form.
#[test]
fn accepts_a_welcome_wrapped_in_an_mls_message() {
    use tls_codec::Serialize as _;
    let request = UpdateRequest {
        bundle: HandshakeBundle::Commit {
            commit: POOL.commits[0].clone(),
            welcome: Some(Box::new(POOL.welcomes[0].clone())),
            group_info_option: GroupInfoOption::Full(Box::new(POOL.group_infos[0].clone())),
            ratchet_tree_option: RatchetTreeOption::Full(POOL.trees[0].clone()),
        },
    };
    let bare = request.encode().unwrap();
    let at = POOL.commits[0].tls_serialize_detached().unwrap().len() + 1;
    let welcome = POOL.welcomes[0].tls_serialize_detached().unwrap();
    assert_eq!(
        &bare[at..at + welcome.len()],
        welcome,
        "bare Welcome after presence 1"
    );
    // A bare Welcome starts with its cipher suite and a non-empty `secrets`.
    assert_ne!(&bare[at..at + 4], [0, 1, 0, 3]);

    let mut wrapped = bare[..at].to_vec();
    wrapped.extend([0, 1, 0, 3]);
    wrapped.extend(&bare[at..]);
    let decoded = UpdateRequest::decode(&wrapped).unwrap();
    assert_eq!(decoded, request);
    assert_eq!(decoded.encode().unwrap(), bare);

    // The wrapped form truncated inside the Welcome is an error, not a bare
    // Welcome read from the wrong offset.
    assert!(UpdateRequest::decode(&wrapped[..at + 10]).is_err());
}
