//! Malformed input gives a typed error, never a panic: truncation at every
//! offset, bad booleans and presence bytes, bad varints, unknown enum values,
//! non-canonical identifiers, caps, and random mutations of valid encodings.

#![allow(clippy::unwrap_used)]

use mimi_proto::components::*;
use mimi_proto::{DecodeError, IdError, RoomId, Utf8String};
use proptest::prelude::*;

fn user(s: &str) -> ParticipantId {
    ParticipantId::parse(s).unwrap()
}

fn sample_role() -> Role {
    Role {
        role_index: 3,
        role_name: Utf8String::new("admin").unwrap(),
        role_description: Utf8String::new("runs the room").unwrap(),
        role_capabilities: vec![CapabilityType::CAN_KICK, CapabilityType(0x7777)],
        minimum_participants_constraint: 1,
        maximum_participants_constraint: Some(5),
        minimum_active_participants_constraint: 0,
        maximum_active_participants_constraint: None,
        authorized_role_changes: vec![SingleSourceRoleChangeTargets {
            from_role_index: 2,
            target_role_indexes: vec![0, 1, 3],
        }],
    }
}

/// One value of every interpreted component, none of them trivially empty.
fn samples() -> Vec<ComponentValue> {
    let room = RoomId::parse("mimi://hub.example/r/r1").unwrap();
    let mut meta = RoomMetaData::new(room);
    meta.room_name = Utf8String::new("Room").unwrap();
    meta.room_descriptions.push(RichDescription {
        media_type: Utf8String::new("text/plain").unwrap(),
        language_tag: Utf8String::new("en").unwrap(),
        description_content: b"hello".to_vec(),
    });
    vec![
        ComponentValue::FrankingAgent(FrankingAgentData {
            franking_signature_key: vec![1; 32],
            credential: MlsCredential {
                credential_type: CredentialType::BASIC,
                content: b"mimi://hub.example".to_vec(),
            },
        }),
        ComponentValue::ParticipantList(ParticipantListData {
            participants: vec![
                UserRolePair {
                    user: user("mimi://a.example/u/alice"),
                    role_index: 3,
                },
                UserRolePair {
                    user: user("mimi://b.example/p/koala"),
                    role_index: 2,
                },
            ],
        }),
        ComponentValue::RoomMetadata(meta),
        ComponentValue::Roles(RoleData {
            roles: vec![sample_role(), sample_role()],
        }),
        ComponentValue::Preauth(PreAuthData {
            preauthorized_entries: vec![PreAuthRoleEntry {
                claimset: vec![Claim::new(
                    CredentialType::BASIC,
                    "mimi:domain",
                    "a.example",
                )],
                target_role: sample_role(),
            }],
        }),
        ComponentValue::BasePolicy(BaseRoomPolicy {
            max_users: Some(10),
            policy_component_ids: vec![ComponentId::ROLES_LIST],
            ..BaseRoomPolicy::default()
        }),
        ComponentValue::StatusNotifications(StatusNotificationPolicy {
            delivery_notifications: Optionality::Required,
            read_receipts: Optionality::Forbidden,
        }),
        ComponentValue::JoinLinkPolicy(JoinLinkPolicy {
            on_request: true,
            join_link: Uri::new("https://hub.example/join").unwrap(),
            multiuser: false,
            expiration: 3600,
        }),
        ComponentValue::JoinLinks(JoinLinksData {
            links: vec![JoinLink {
                join_link: b"code-1".to_vec(),
            }],
        }),
        ComponentValue::LinkPreview(LinkPreviewPolicy {
            autodetect_hyperlinks_in_text: Optionality::Optional,
            send_link_previews: Optionality::Optional,
            automatic_link_previews: Optionality::Forbidden,
            link_preview_proxy_use: Gated::Required(LinkPreviewProxies(vec![
                Uri::new("https://proxy.example").unwrap(),
            ])),
        }),
        ComponentValue::Assets(AssetPolicy {
            asset_upload_location: AssetUploadLocation::LOCAL_PROVIDER,
            upload_domains: vec![ProviderAssetUploadDomains {
                provider: "a.example".into(),
                asset_upload_destinations: vec!["cdn.a.example".into()],
            }],
            download_privacy: DownloadPrivacy {
                allowed_download_types: vec![DownloadPrivacyType::DIRECT],
                forbidden_download_types: vec![],
                default_download_type: DownloadPrivacyType::DIRECT,
            },
            max_image: 1 << 20,
            max_audio: 1 << 21,
            max_video: 1 << 22,
            max_attachment: 1 << 23,
            forbidden_media_types: vec![],
            permitted_media_types: Some(vec![MediaType {
                media_type: "image/png".into(),
                parameters: vec![],
            }]),
        }),
        ComponentValue::Logging(LoggingPolicy {
            logging: Gated::Optional(LoggingDetails {
                logging_clients: vec![Uri::new("mimi://a.example/d/logger").unwrap()],
                machine_readable_policy: Uri::empty(),
                human_readable_policy: Uri::empty(),
            }),
        }),
        ComponentValue::History(HistoryPolicy {
            history_sharing: Gated::Required(HistorySharing {
                roles_that_can_share: vec![2, 3],
                automatically_share: true,
                max_time_period: 86400,
            }),
        }),
        ComponentValue::Bots(BotPolicy {
            allowed_bots: vec![Bot {
                name: Utf8String::new("dealer").unwrap(),
                bot_role_index: 2,
                per_user_content: true,
                ..Bot::default()
            }],
        }),
        ComponentValue::MessageExpiration(MessageExpiration {
            expiring_messages: Gated::Optional(ExpirationBounds {
                min_expiration_duration: 60,
                max_expiration_duration: 3600,
                default_expiration_duration: Some(600),
            }),
        }),
        ComponentValue::Bans(BanList {
            bans: vec![BanRecord {
                user: user("mimi://a.example/u/eve"),
                reason: Utf8String::new("spam").unwrap(),
                expires_at: Some(1_900_000_000),
            }],
        }),
        ComponentValue::OrgScopedRoles(OrgScopedRoles {
            role_indexes: vec![3, 6],
        }),
    ]
}

#[test]
fn truncation_at_every_offset_is_truncated() {
    for value in samples() {
        let id = value.id();
        let bytes = value.encode().unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(
                ComponentValue::decode(id, &bytes[..cut]).err(),
                Some(DecodeError::Truncated),
                "{id:?} cut at {cut} of {}",
                bytes.len()
            );
        }
    }
    let update = ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: 1,
            role_index: 2,
        }],
        removed_indices: vec![0],
        added_participants: vec![UserRolePair {
            user: user("mimi://a.example/u/x"),
            role_index: 2,
        }],
    };
    let bytes = update.encode().unwrap();
    for cut in 0..bytes.len() {
        assert_eq!(
            ParticipantListUpdate::decode(&bytes[..cut]),
            Err(DecodeError::Truncated),
            "cut {cut}"
        );
    }
}

#[test]
fn bad_bools_and_presence_bytes() {
    let base = BaseRoomPolicy::default().encode().unwrap();
    let mut bad = base.clone();
    bad[0] = 2;
    assert_eq!(
        BaseRoomPolicy::decode(&bad),
        Err(DecodeError::InvalidBool("BaseRoomPolicy.fixed_membership"))
    );
    // fixed, parent, empty parent_room, multi_device, max_clients presence.
    let mut bad = base.clone();
    bad[4] = 0xff;
    assert_eq!(
        BaseRoomPolicy::decode(&bad),
        Err(DecodeError::InvalidBool("BaseRoomPolicy.max_clients"))
    );

    let role = Role {
        role_index: 1,
        ..Role::default()
    };
    let bytes = role.encode().unwrap();
    // index(4) name(1) description(1) capabilities(1) min(4) -> presence byte at 11.
    let mut bad = bytes.clone();
    assert_eq!(bad[11], 0);
    bad[11] = 2;
    assert_eq!(
        Role::decode(&bad),
        Err(DecodeError::InvalidBool(
            "Role.maximum_participants_constraint"
        ))
    );

    let policy = JoinLinkPolicy {
        on_request: false,
        join_link: Uri::empty(),
        multiuser: true,
        expiration: 0,
    };
    let mut bad = policy.encode().unwrap();
    bad[2] = 7;
    assert_eq!(
        JoinLinkPolicy::decode(&bad),
        Err(DecodeError::InvalidBool("JoinLinkPolicy.multiuser"))
    );
}

#[test]
fn bad_varints() {
    // ParticipantListData whose vector length 0 is written in two bytes.
    assert_eq!(
        ParticipantListData::decode(&[0x40, 0x00]),
        Err(DecodeError::InvalidLength)
    );
    // Four-byte form of a length below 16384.
    assert_eq!(
        ParticipantListData::decode(&[0x80, 0x00, 0x00, 0x01, 0x00]),
        Err(DecodeError::InvalidLength)
    );
    // The reserved 0b11 prefix.
    assert_eq!(
        RoleData::decode(&[0xc0, 0, 0, 0, 0, 0, 0, 0]),
        Err(DecodeError::InvalidLength)
    );
    // A length far larger than the input.
    assert_eq!(
        RoleData::decode(&[0xbf, 0xff, 0xff, 0xff]),
        Err(DecodeError::Truncated)
    );
}

#[test]
fn wrong_enum_values() {
    assert_eq!(
        StatusNotificationPolicy::decode(&[0, 3]),
        Err(DecodeError::UnknownValue {
            field: "Optionality",
            value: 3
        })
    );
    assert_eq!(
        LoggingPolicy::decode(&[9]),
        Err(DecodeError::UnknownValue {
            field: "Optionality",
            value: 9
        })
    );
    for op in [0u8, 3, 255] {
        assert_eq!(
            AppDataUpdate::decode(&[0x00, 0x22, op]),
            Err(DecodeError::UnknownValue {
                field: "AppDataUpdateOperation",
                value: u64::from(op)
            })
        );
    }
}

#[test]
fn open_code_points_round_trip() {
    // Unknown asset location and download types are kept, not rejected.
    let mut bytes = vec![0x09, 0x00];
    bytes.extend([0x02, 0x07, 0x08, 0x00, 0x09]);
    bytes.extend([0u8; 32]);
    bytes.extend([0x00, 0x00]);
    let policy = AssetPolicy::decode(&bytes).unwrap();
    assert_eq!(policy.asset_upload_location, AssetUploadLocation(9));
    assert_eq!(
        policy.download_privacy.default_download_type,
        DownloadPrivacyType(9)
    );
    assert_eq!(policy.encode().unwrap(), bytes);
}

#[test]
fn identifiers_must_be_canonical_participants() {
    let list = ParticipantListData {
        participants: vec![UserRolePair {
            user: user("mimi://a.example/u/alice"),
            role_index: 2,
        }],
    };
    let mut bytes = list.encode().unwrap();
    let host = bytes.windows(9).position(|w| w == b"a.example").unwrap();
    bytes[host] = b'A';
    assert_eq!(
        ParticipantListData::decode(&bytes),
        Err(DecodeError::Identifier(IdError::NotCanonical))
    );
    bytes[host] = b'a';
    let seg = bytes.windows(3).position(|w| w == b"/u/").unwrap();
    bytes[seg + 1] = b'r';
    assert!(matches!(
        ParticipantListData::decode(&bytes),
        Err(DecodeError::Identifier(IdError::WrongKind { .. }))
    ));
}

#[test]
fn caps_are_enforced() {
    let role = Role {
        role_capabilities: vec![CapabilityType(1); MAX_CAPABILITIES + 1],
        ..Role::default()
    };
    let bytes = role.encode().unwrap();
    assert_eq!(
        Role::decode(&bytes),
        Err(DecodeError::TooLarge("Role.role_capabilities"))
    );
    let long = "x".repeat(MAX_SHORT_TEXT + 1);
    let role = Role {
        role_name: Utf8String::new(long).unwrap(),
        ..Role::default()
    };
    assert_eq!(
        Role::decode(&role.encode().unwrap()),
        Err(DecodeError::TooLarge("Role.role_name"))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes under any interpreted id: an error or a canonical value.
    #[test]
    fn arbitrary_bytes_never_panic(idx in 0usize..64, data in prop::collection::vec(any::<u8>(), 0..200)) {
        let ids: Vec<ComponentId> = ComponentId::ALL.iter().copied().filter(|id| ComponentValue::is_interpreted(*id)).collect();
        let id = ids[idx % ids.len()];
        if let Ok(v) = ComponentValue::decode(id, &data) {
            prop_assert_eq!(v.encode().unwrap(), data.clone());
        }
        let _ = ParticipantListUpdate::decode(&data);
        let _ = JoinLinksUpdate::decode(&data);
        let _ = AppDataDictionary::decode(&data);
        let _ = RoomComponents::decode_dictionary(&data);
    }

    /// A single changed byte in a valid encoding: an error or a canonical value.
    #[test]
    fn mutations_never_panic(which in 0usize..64, pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let all = samples();
        let value = &all[which % all.len()];
        let mut bytes = value.encode().unwrap();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(v) = ComponentValue::decode(value.id(), &bytes) {
            prop_assert_eq!(v.encode().unwrap(), bytes.clone());
        }
    }
}
