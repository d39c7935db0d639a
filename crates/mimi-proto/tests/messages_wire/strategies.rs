//! proptest strategies for every protocol body. MLS-object fields pick among
//! the real objects of [`crate::pool::POOL`].

use mimi_proto::components::ParticipantId;
use mimi_proto::messages::*;
use mimi_proto::{ClientId, RoomId, UserId, Utf8String};
use openmls::prelude::{Ciphersuite, VerifiableCiphersuite};
use openmls_traits::types::HpkeCiphertext;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::pool::POOL;

pub fn user() -> impl Strategy<Value = UserId> {
    ("[a-z]{1,8}", "[a-zA-Z0-9._~-]{1,16}").prop_map(|(host, local)| {
        UserId::parse(&format!("mimi://{host}.example/u/{local}")).unwrap()
    })
}

pub fn room() -> impl Strategy<Value = RoomId> {
    ("[a-z]{1,8}", "[a-z0-9-]{1,16}")
        .prop_map(|(host, name)| RoomId::parse(&format!("mimi://{host}.example/r/{name}")).unwrap())
}

pub fn client() -> impl Strategy<Value = ClientId> {
    ("[a-z]{1,8}", "[a-z0-9]{1,8}", "[A-Za-z0-9]{1,8}").prop_map(|(host, user, device)| {
        ClientId::parse(&format!("mimi://{host}.example/d/{user}/{device}")).unwrap()
    })
}

pub fn participant() -> impl Strategy<Value = ParticipantId> {
    ("[a-z]{1,8}", any::<bool>(), "[a-z0-9._-]{1,16}").prop_map(|(host, pseudonym, local)| {
        let kind = if pseudonym { "p" } else { "u" };
        ParticipantId::parse(&format!("mimi://{host}.example/{kind}/{local}")).unwrap()
    })
}

pub fn text() -> impl Strategy<Value = Utf8String> {
    "[a-zA-Z0-9 _.:/\u{e9}\u{4e2d}-]{0,24}".prop_map(|s| Utf8String::new(s).unwrap())
}

/// Bytes whose length crosses the one- and two-byte varint boundaries.
pub fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..70), vec(any::<u8>(), 60..70)]
}

pub fn suite() -> impl Strategy<Value = Ciphersuite> {
    select(vec![
        Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
        Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
        Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519,
    ])
}

pub fn key_material_request_tbs() -> impl Strategy<Value = KeyMaterialRequestTbs> {
    (
        user(),
        user(),
        proptest::option::of(room()),
        vec(any::<u16>().prop_map(VerifiableCiphersuite::new), 0..5),
        select(POOL.required_capabilities.clone()),
        select(POOL.signature_keys.clone()),
        select(POOL.credentials.clone()),
    )
        .prop_map(
            |(requesting_user, target_user, room_id, suites, required, key, credential)| {
                KeyMaterialRequestTbs {
                    requesting_user,
                    target_user,
                    room_id,
                    acceptable_ciphersuites: suites,
                    required_capabilities: required,
                    requester_signature_key: key,
                    requester_credential: credential,
                }
            },
        )
}

pub fn key_material_request() -> impl Strategy<Value = KeyMaterialRequest> {
    (key_material_request_tbs(), bytes())
        .prop_map(|(tbs, signature)| KeyMaterialRequest { tbs, signature })
}

pub fn client_key_material() -> impl Strategy<Value = ClientKeyMaterial> {
    let status = prop_oneof![
        select(POOL.key_packages.clone()).prop_map(|kp| ClientStatus::Success(Box::new(kp))),
        Just(ClientStatus::KeyMaterialExhausted),
        proptest::option::of(select(POOL.capabilities.clone()))
            .prop_map(ClientStatus::NothingCompatible),
    ];
    (client(), status).prop_map(|(client_uri, status)| ClientKeyMaterial { client_uri, status })
}

pub fn key_material_response() -> impl Strategy<Value = KeyMaterialResponse> {
    (
        select(KeyMaterialUserCode::ALL),
        user(),
        vec(client_key_material(), 0..4),
    )
        .prop_map(|(user_status, user_uri, mut clients)| {
            // Other codes must not carry clients (protocol-06 §5.2).
            if !matches!(
                user_status,
                KeyMaterialUserCode::Success
                    | KeyMaterialUserCode::PartialSuccess
                    | KeyMaterialUserCode::NoCompatibleMaterial
            ) {
                clients.clear();
            }
            KeyMaterialResponse {
                user_status,
                user_uri,
                clients,
            }
        })
}

pub fn ratchet_tree_option() -> impl Strategy<Value = RatchetTreeOption> {
    prop_oneof![
        select(POOL.trees.clone()).prop_map(RatchetTreeOption::Full),
        (text(), bytes()).prop_map(|(ratchet_tree_url, tree_signature)| {
            RatchetTreeOption::HttpsUri {
                ratchet_tree_url,
                tree_signature,
            }
        }),
        bytes().prop_map(|tree_signature| RatchetTreeOption::OutOfBand { tree_signature }),
        Just(RatchetTreeOption::DistributionService),
    ]
}

pub fn partial_group_info() -> impl Strategy<Value = PartialGroupInfo> {
    (
        select(RatchetTreePresence::ALL),
        vec(select(POOL.extensions.clone()), 0..3),
        bytes(),
    )
        .prop_map(
            |(ratchet_tree_presence, group_info_extensions, signature)| PartialGroupInfo {
                ratchet_tree_presence,
                group_info_extensions,
                signature,
            },
        )
}

pub fn group_info_option() -> impl Strategy<Value = GroupInfoOption> {
    prop_oneof![
        select(POOL.group_infos.clone()).prop_map(|gi| GroupInfoOption::Full(Box::new(gi))),
        partial_group_info().prop_map(GroupInfoOption::Partial),
    ]
}

pub fn proposals() -> impl Strategy<Value = Vec<ProposalMessage>> {
    vec(select(POOL.proposals.clone()), 0..3)
}

pub fn handshake_bundle() -> impl Strategy<Value = HandshakeBundle> {
    prop_oneof![
        (
            select(POOL.commits.clone()),
            proptest::option::of(select(POOL.welcomes.clone()).prop_map(Box::new)),
            group_info_option(),
            ratchet_tree_option(),
        )
            .prop_map(
                |(commit, welcome, group_info_option, ratchet_tree_option)| {
                    HandshakeBundle::Commit {
                        commit,
                        welcome,
                        group_info_option,
                        ratchet_tree_option,
                    }
                }
            ),
        (select(POOL.proposals.clone()), proposals()).prop_map(|(proposal, more_proposals)| {
            HandshakeBundle::Proposal {
                proposal,
                more_proposals,
            }
        }),
    ]
}

pub fn update_request() -> impl Strategy<Value = UpdateRequest> {
    handshake_bundle().prop_map(|bundle| UpdateRequest { bundle })
}

pub fn update_room_response() -> impl Strategy<Value = UpdateRoomResponse> {
    let outcome = prop_oneof![
        any::<u64>().prop_map(|accepted_timestamp| UpdateOutcome::Success { accepted_timestamp }),
        any::<u64>().prop_map(|current_epoch| UpdateOutcome::WrongEpoch { current_epoch }),
        Just(UpdateOutcome::NotAllowed),
        vec(select(POOL.proposal_refs.clone()), 0..3)
            .prop_map(|invalid_proposals| UpdateOutcome::InvalidProposal { invalid_proposals }),
    ];
    (text(), outcome).prop_map(|(error_description, outcome)| UpdateRoomResponse {
        error_description,
        outcome,
    })
}

pub fn frank() -> impl Strategy<Value = Frank> {
    (any::<[u8; 32]>(), suite(), bytes()).prop_map(
        |(server_frank, franking_signature_ciphersuite, franking_integrity_signature)| Frank {
            server_frank,
            franking_signature_ciphersuite,
            franking_integrity_signature,
        },
    )
}

pub fn submit_message_request() -> impl Strategy<Value = SubmitMessageRequest> {
    (select(POOL.applications.clone()), participant()).prop_map(|(app_message, sending_uri)| {
        SubmitMessageRequest {
            app_message,
            sending_uri,
        }
    })
}

pub fn submit_message_response() -> impl Strategy<Value = SubmitMessageResponse> {
    prop_oneof![
        (any::<u64>(), proptest::option::of(frank())).prop_map(|(accepted_timestamp, frank)| {
            SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            }
        }),
        Just(SubmitMessageResponse::NotAllowed),
        any::<u64>().prop_map(|current_epoch| SubmitMessageResponse::EpochTooOld { current_epoch }),
    ]
}

pub fn fanout_message() -> impl Strategy<Value = FanoutMessage> {
    let event = prop_oneof![
        (
            select(POOL.applications.clone()),
            proptest::option::of(frank())
        )
            .prop_map(|(message, frank)| FanoutEvent::Application { message, frank }),
        (select(POOL.welcomes.clone()), ratchet_tree_option()).prop_map(
            |(welcome, ratchet_tree_option)| FanoutEvent::Welcome {
                welcome: Box::new(welcome),
                ratchet_tree_option,
            }
        ),
        (select(POOL.proposals.clone()), proposals()).prop_map(|(proposal, more_proposals)| {
            FanoutEvent::Proposal {
                proposal,
                more_proposals,
            }
        }),
        (select(POOL.commits.clone()), proposals()).prop_map(|(commit, external_proposals)| {
            FanoutEvent::Commit {
                commit,
                external_proposals,
            }
        }),
    ];
    (any::<u64>(), event).prop_map(|(timestamp, event)| FanoutMessage { timestamp, event })
}

pub fn notify_body() -> impl Strategy<Value = NotifyBody> {
    vec(fanout_message(), 1..4).prop_map(|messages| NotifyBody { messages })
}

pub fn group_info_request_tbs() -> impl Strategy<Value = GroupInfoRequestTbs> {
    (
        suite(),
        select(POOL.signature_keys.clone()),
        select(POOL.credentials.clone()),
        bytes(),
        bytes(),
    )
        .prop_map(
            |(cipher_suite, key, credential, hpke, joining_code)| GroupInfoRequestTbs {
                cipher_suite,
                requesting_signature_key: key,
                requesting_credential: credential,
                group_info_public_key: hpke.into(),
                joining_code,
            },
        )
}

pub fn group_info_request() -> impl Strategy<Value = GroupInfoRequest> {
    (group_info_request_tbs(), bytes())
        .prop_map(|(tbs, signature)| GroupInfoRequest { tbs, signature })
}

pub fn pending_proposal() -> impl Strategy<Value = PendingProposal> {
    (select(POOL.proposals.clone()), any::<u64>()).prop_map(|(proposal, hub_accepted_time)| {
        PendingProposal {
            proposal,
            hub_accepted_time,
        }
    })
}

pub fn group_info_tbe() -> impl Strategy<Value = GroupInfoRatchetTreeTbe> {
    (
        select(POOL.group_infos.clone()),
        ratchet_tree_option(),
        vec(pending_proposal(), 0..3),
    )
        .prop_map(|(group_info, ratchet_tree_option, pending_proposals)| {
            GroupInfoRatchetTreeTbe {
                group_info: Box::new(group_info),
                ratchet_tree_option,
                pending_proposals,
            }
        })
}

pub fn hpke_ciphertext() -> impl Strategy<Value = HpkeCiphertext> {
    (bytes(), bytes()).prop_map(|(kem_output, ciphertext)| HpkeCiphertext {
        kem_output: kem_output.into(),
        ciphertext: ciphertext.into(),
    })
}

pub fn group_info_response_tbs() -> impl Strategy<Value = GroupInfoResponseTbs> {
    (
        room(),
        suite(),
        select(POOL.external_senders.clone()),
        hpke_ciphertext(),
    )
        .prop_map(
            |(room_id, cipher_suite, hub_sender, encrypted)| GroupInfoResponseTbs {
                room_id,
                cipher_suite,
                hub_sender,
                encrypted_groupinfo_and_tree: encrypted,
            },
        )
}

pub fn group_info_response() -> impl Strategy<Value = GroupInfoResponse> {
    prop_oneof![
        (group_info_response_tbs(), bytes()).prop_map(|(tbs, signature)| {
            GroupInfoResponse::Success {
                tbs: Box::new(tbs),
                signature,
            }
        }),
        room().prop_map(|room_id| GroupInfoResponse::NotAuthorized { room_id }),
        room().prop_map(|room_id| GroupInfoResponse::NoSuchRoom { room_id }),
    ]
}

pub fn consent_scope() -> impl Strategy<Value = ConsentScope> {
    (user(), user(), proptest::option::of(room())).prop_map(
        |(requester_uri, target_uri, room_id)| ConsentScope {
            requester_uri,
            target_uri,
            room_id,
        },
    )
}

pub fn consent_entry() -> impl Strategy<Value = ConsentEntry> {
    let action = prop_oneof![
        Just(ConsentAction::Cancel),
        Just(ConsentAction::Request),
        vec(select(POOL.key_packages.clone()), 0..3).prop_map(|client_key_packages| {
            ConsentAction::Grant {
                client_key_packages,
            }
        }),
        Just(ConsentAction::Revoke),
    ];
    (action, consent_scope(), select(POOL.dictionaries.clone())).prop_map(
        |(action, scope, consent_extensions)| ConsentEntry {
            action,
            scope,
            consent_extensions,
        },
    )
}

pub fn query_element() -> impl Strategy<Value = QueryElement> {
    let search = prop_oneof![
        Just(SearchField::Handle),
        Just(SearchField::Nick),
        Just(SearchField::Email),
        Just(SearchField::Phone),
        Just(SearchField::PartialName),
        Just(SearchField::WholeProfile),
        text().prop_map(|claim_name| SearchField::OidcStdClaim { claim_name }),
        text().prop_map(|property_name| SearchField::VcardField { property_name }),
    ];
    (search, text()).prop_map(|(search, search_value)| QueryElement {
        search,
        search_value,
    })
}

pub fn identifier_request() -> impl Strategy<Value = IdentifierRequest> {
    (
        vec(query_element(), 0..4),
        select(POOL.dictionaries.clone()),
    )
        .prop_map(
            |(query_elements, id_request_extensions)| IdentifierRequest {
                query_elements,
                id_request_extensions,
            },
        )
}

pub fn profile_field() -> impl Strategy<Value = ProfileField> {
    (select(FieldSource::ALL), text(), bytes()).prop_map(
        |(field_source, field_name, field_value)| ProfileField {
            field_source,
            field_name,
            field_value,
        },
    )
}

pub fn user_profile() -> impl Strategy<Value = UserProfile> {
    (user(), vec(profile_field(), 0..4))
        .prop_map(|(stable_uri, fields)| UserProfile { stable_uri, fields })
}

pub fn identifier_response() -> impl Strategy<Value = IdentifierResponse> {
    (
        select(IdentifierQueryCode::ALL),
        vec(user(), 0..4),
        vec(user_profile(), 0..3),
        select(POOL.dictionaries.clone()),
    )
        .prop_map(
            |(response_code, uri, found_profiles, id_response_extensions)| IdentifierResponse {
                response_code,
                uri,
                found_profiles,
                id_response_extensions,
            },
        )
}

pub fn abusive_message() -> impl Strategy<Value = AbusiveMessage> {
    (bytes(), frank(), any::<u64>()).prop_map(|(message_content, frank, accepted_timestamp)| {
        AbusiveMessage {
            message_content,
            frank,
            accepted_timestamp,
        }
    })
}

pub fn abuse_report() -> impl Strategy<Value = AbuseReport> {
    (
        proptest::option::of(participant()),
        participant(),
        any::<u8>().prop_map(AbuseType),
        text(),
        vec(abusive_message(), 0..3),
        select(POOL.dictionaries.clone()),
    )
        .prop_map(
            |(
                reporting_user,
                alleged_abuser_uri,
                reason_code,
                note,
                messages,
                abuse_extensions,
            )| {
                AbuseReport {
                    reporting_user,
                    alleged_abuser_uri,
                    reason_code,
                    note,
                    messages,
                    abuse_extensions,
                }
            },
        )
}
