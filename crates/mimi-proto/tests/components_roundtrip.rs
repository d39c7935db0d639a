//! Property tests: every component value encodes and decodes back to itself,
//! the encoding is the only one accepted (re-encoding gives the same bytes),
//! and trailing bytes are rejected. Also cross-checks our vector length prefix
//! against `tls_codec`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use mimi_proto::Utf8String;
use mimi_proto::components::*;
use mimi_proto::{DecodeError, RoomId};
use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use tls_codec::{DeserializeBytes, Serialize as _, VLBytes};

fn text() -> impl Strategy<Value = Utf8String> {
    "[a-zA-Z0-9 _\u{e9}\u{4e2d}-]{0,24}".prop_map(|s| Utf8String::new(s).unwrap())
}

fn uri() -> impl Strategy<Value = Uri> {
    prop_oneof![
        Just(Uri::empty()),
        "https://[a-z]{1,8}\\.example/[a-z0-9/]{0,16}".prop_map(|s| Uri::new(s).unwrap()),
    ]
}

fn participant() -> impl Strategy<Value = ParticipantId> {
    ("[a-z]{1,8}", prop::bool::ANY, "[a-z0-9._-]{1,16}").prop_map(|(host, pseudo, local)| {
        let kind = if pseudo { "p" } else { "u" };
        ParticipantId::parse(&format!("mimi://{host}.example/{kind}/{local}")).unwrap()
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn capability() -> impl Strategy<Value = CapabilityType> {
    prop_oneof![
        prop::sample::select(CapabilityType::REGISTRY.to_vec()),
        any::<u16>().prop_map(CapabilityType),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    (
        any::<u32>(),
        text(),
        text(),
        vec(capability(), 0..8),
        any::<u32>(),
        any::<Option<u32>>(),
        any::<u32>(),
        any::<Option<u32>>(),
        vec(
            (any::<u32>(), vec(any::<u32>(), 0..5)).prop_map(
                |(from_role_index, target_role_indexes)| SingleSourceRoleChangeTargets {
                    from_role_index,
                    target_role_indexes,
                },
            ),
            0..5,
        ),
    )
        .prop_map(
            |(
                role_index,
                role_name,
                role_description,
                role_capabilities,
                min_p,
                max_p,
                min_a,
                max_a,
                arc,
            )| Role {
                role_index,
                role_name,
                role_description,
                role_capabilities,
                minimum_participants_constraint: min_p,
                maximum_participants_constraint: max_p,
                minimum_active_participants_constraint: min_a,
                maximum_active_participants_constraint: max_a,
                authorized_role_changes: arc,
            },
        )
}

fn pair() -> impl Strategy<Value = UserRolePair> {
    (participant(), any::<u32>()).prop_map(|(user, role_index)| UserRolePair { user, role_index })
}

fn participant_list() -> impl Strategy<Value = ParticipantListData> {
    vec(pair(), 0..20).prop_map(|participants| ParticipantListData { participants })
}

fn participant_update() -> impl Strategy<Value = ParticipantListUpdate> {
    (
        vec(
            (any::<u32>(), any::<u32>()).prop_map(|(user_index, role_index)| UserindexRolePair {
                user_index,
                role_index,
            }),
            0..6,
        ),
        vec(any::<u32>(), 0..6),
        vec(pair(), 0..6),
    )
        .prop_map(
            |(changed_role_participants, removed_indices, added_participants)| {
                ParticipantListUpdate {
                    changed_role_participants,
                    removed_indices,
                    added_participants,
                }
            },
        )
}

fn metadata() -> impl Strategy<Value = RoomMetaData> {
    (
        "[a-z]{1,8}",
        text(),
        vec(
            (text(), text(), bytes(40)).prop_map(
                |(media_type, language_tag, description_content)| RichDescription {
                    media_type,
                    language_tag,
                    description_content,
                },
            ),
            0..3,
        ),
        uri(),
        text(),
        text(),
    )
        .prop_map(
            |(room, room_name, room_descriptions, room_avatar, room_subject, room_mood)| {
                RoomMetaData {
                    room_uri: RoomId::parse(&format!("mimi://hub.example/r/{room}")).unwrap(),
                    room_name,
                    room_descriptions,
                    room_avatar,
                    room_subject,
                    room_mood,
                }
            },
        )
}

fn claim() -> impl Strategy<Value = Claim> {
    (any::<u16>(), bytes(12), bytes(24))
        .prop_map(|(t, id, value)| Claim::new(CredentialType(t), id, value))
}

fn preauth() -> impl Strategy<Value = PreAuthData> {
    vec(
        (vec(claim(), 0..4), role()).prop_map(|(claimset, target_role)| PreAuthRoleEntry {
            claimset,
            target_role,
        }),
        0..4,
    )
    .prop_map(|preauthorized_entries| PreAuthData {
        preauthorized_entries,
    })
}

fn base_policy() -> impl Strategy<Value = BaseRoomPolicy> {
    (
        prop::array::uniform6(any::<bool>()),
        uri(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        vec(any::<u16>().prop_map(ComponentId), 0..6),
    )
        .prop_map(
            |(flags, parent_room, max_clients, max_users, ids)| BaseRoomPolicy {
                fixed_membership: flags[0],
                parent_dependant: flags[1],
                parent_room,
                multi_device: flags[2],
                max_clients,
                max_users,
                pseudonyms_allowed: flags[3],
                persistent_room: flags[4],
                discoverable: flags[5],
                policy_component_ids: ids,
            },
        )
}

fn franking() -> impl Strategy<Value = FrankingAgentData> {
    (bytes(64), any::<u16>(), bytes(80)).prop_map(|(key, t, content)| FrankingAgentData {
        franking_signature_key: key,
        credential: MlsCredential {
            credential_type: CredentialType(t),
            content,
        },
    })
}

fn optionality() -> impl Strategy<Value = Optionality> {
    prop::sample::select(vec![
        Optionality::Optional,
        Optionality::Required,
        Optionality::Forbidden,
    ])
}

fn gated<T: std::fmt::Debug + Clone>(
    fields: impl Strategy<Value = T>,
) -> impl Strategy<Value = Gated<T>> {
    (0u8..3, fields).prop_map(|(k, f)| match k {
        0 => Gated::Optional(f),
        1 => Gated::Required(f),
        _ => Gated::Forbidden,
    })
}

fn join_link() -> impl Strategy<Value = JoinLink> {
    bytes(30).prop_map(|join_link| JoinLink { join_link })
}

fn media_type() -> impl Strategy<Value = MediaType> {
    (
        "[a-z]{1,6}/[a-z0-9.+-]{1,10}",
        vec(
            ("[a-z]{1,8}", "[a-zA-Z0-9-]{0,8}").prop_map(|(parameter_name, parameter_value)| {
                Parameter {
                    parameter_name,
                    parameter_value,
                }
            }),
            0..3,
        ),
    )
        .prop_map(|(media_type, parameters)| MediaType {
            media_type,
            parameters,
        })
}

fn asset_policy() -> impl Strategy<Value = AssetPolicy> {
    let domains = vec(
        ("[a-z]{1,8}\\.example", vec("[a-z]{1,8}\\.example", 0..3)).prop_map(
            |(provider, asset_upload_destinations)| ProviderAssetUploadDomains {
                provider,
                asset_upload_destinations,
            },
        ),
        0..3,
    );
    let privacy =
        (vec(any::<u8>(), 0..3), vec(any::<u8>(), 0..3), any::<u8>()).prop_map(|(a, f, d)| {
            DownloadPrivacy {
                allowed_download_types: a.into_iter().map(DownloadPrivacyType).collect(),
                forbidden_download_types: f.into_iter().map(DownloadPrivacyType).collect(),
                default_download_type: DownloadPrivacyType(d),
            }
        });
    (
        any::<u8>(),
        domains,
        privacy,
        prop::array::uniform4(any::<u64>()),
        vec(media_type(), 0..3),
        prop::option::of(vec(media_type(), 0..3)),
    )
        .prop_map(
            |(loc, upload_domains, download_privacy, max, forbidden, permitted)| AssetPolicy {
                asset_upload_location: AssetUploadLocation(loc),
                upload_domains,
                download_privacy,
                max_image: max[0],
                max_audio: max[1],
                max_video: max[2],
                max_attachment: max[3],
                forbidden_media_types: forbidden,
                permitted_media_types: permitted,
            },
        )
}

fn bot() -> impl Strategy<Value = Bot> {
    (
        text(),
        text(),
        uri(),
        prop::array::uniform3(any::<bool>()),
        any::<u32>(),
    )
        .prop_map(|(name, description, homepage, flags, bot_role_index)| Bot {
            name,
            description,
            homepage,
            local_client_bot: flags[0],
            bot_role_index,
            can_target_message_in_group: flags[1],
            per_user_content: flags[2],
        })
}

fn ban_list() -> impl Strategy<Value = BanList> {
    btree_map(participant(), (text(), any::<Option<u64>>()), 0..6).prop_map(|m| {
        let mut records: Vec<BanRecord> = m
            .into_iter()
            .map(|(user, (reason, expires_at))| BanRecord {
                user,
                reason,
                expires_at,
            })
            .collect();
        records.sort_by(|a, b| a.user.as_bytes().cmp(b.user.as_bytes()));
        BanList { bans: records }
    })
}

/// Any interpreted component, as the value the dictionary holds.
fn component_value() -> impl Strategy<Value = ComponentValue> {
    prop_oneof![
        franking().prop_map(ComponentValue::FrankingAgent),
        participant_list().prop_map(ComponentValue::ParticipantList),
        metadata().prop_map(ComponentValue::RoomMetadata),
        bytes(40).prop_map(|raw| ComponentValue::OperationalPolicy(OperationalParameters { raw })),
        vec(role(), 0..4).prop_map(|roles| ComponentValue::Roles(RoleData { roles })),
        preauth().prop_map(ComponentValue::Preauth),
        base_policy().prop_map(ComponentValue::BasePolicy),
        (optionality(), optionality()).prop_map(|(d, r)| ComponentValue::StatusNotifications(
            StatusNotificationPolicy {
                delivery_notifications: d,
                read_receipts: r
            }
        )),
        (any::<bool>(), uri(), any::<bool>(), any::<u32>()).prop_map(
            |(on_request, join_link, multiuser, expiration)| {
                ComponentValue::JoinLinkPolicy(JoinLinkPolicy {
                    on_request,
                    join_link,
                    multiuser,
                    expiration,
                })
            }
        ),
        vec(join_link(), 0..5).prop_map(|links| ComponentValue::JoinLinks(JoinLinksData { links })),
        (
            optionality(),
            optionality(),
            optionality(),
            gated(vec(uri(), 0..3).prop_map(LinkPreviewProxies))
        )
            .prop_map(
                |(a, s, r, p)| ComponentValue::LinkPreview(LinkPreviewPolicy {
                    autodetect_hyperlinks_in_text: a,
                    send_link_previews: s,
                    automatic_link_previews: r,
                    link_preview_proxy_use: p,
                })
            ),
        asset_policy().prop_map(ComponentValue::Assets),
        gated(
            (vec(uri(), 0..3), uri(), uri()).prop_map(|(logging_clients, m, h)| LoggingDetails {
                logging_clients,
                machine_readable_policy: m,
                human_readable_policy: h,
            })
        )
        .prop_map(|logging| ComponentValue::Logging(LoggingPolicy { logging })),
        gated(
            (vec(any::<u32>(), 0..4), any::<bool>(), any::<u32>()).prop_map(
                |(roles, auto, period)| HistorySharing {
                    roles_that_can_share: roles,
                    automatically_share: auto,
                    max_time_period: period,
                }
            )
        )
        .prop_map(|history_sharing| ComponentValue::History(HistoryPolicy { history_sharing })),
        vec(bot(), 0..3).prop_map(|allowed_bots| ComponentValue::Bots(BotPolicy { allowed_bots })),
        gated((any::<u32>(), any::<u32>(), any::<Option<u32>>()).prop_map(
            |(min, max, default)| ExpirationBounds {
                min_expiration_duration: min,
                max_expiration_duration: max,
                default_expiration_duration: default,
            }
        ))
        .prop_map(|expiring_messages| ComponentValue::MessageExpiration(
            MessageExpiration { expiring_messages }
        )),
        ban_list().prop_map(ComponentValue::Bans),
        btree_set(any::<u32>(), 0..6).prop_map(|s| ComponentValue::OrgScopedRoles(
            OrgScopedRoles {
                role_indexes: s.into_iter().collect()
            }
        )),
    ]
}

/// Encodes, decodes, compares, and checks that one more byte is rejected.
fn check<T: PartialEq + std::fmt::Debug>(
    value: &T,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Result<T, DecodeError>,
) -> Result<(), TestCaseError> {
    let bytes = encode(value);
    let back = decode(&bytes).map_err(|e| TestCaseError::fail(format!("decode failed: {e}")))?;
    prop_assert_eq!(&back, value);
    prop_assert_eq!(encode(&back), bytes.clone());
    let mut longer = bytes;
    longer.push(0);
    prop_assert_eq!(decode(&longer).err(), Some(DecodeError::TrailingBytes));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_component_round_trips(value in component_value()) {
        let id = value.id();
        prop_assert!(ComponentValue::is_interpreted(id));
        let bytes = value.encode().unwrap();
        let back = ComponentValue::decode(id, &bytes).unwrap();
        prop_assert_eq!(&back, &value);
        prop_assert_eq!(back.encode().unwrap(), bytes.clone());
        // Trailing bytes: every component except the opaque operational one.
        if id != ComponentId::MLS_OPERATIONAL_POLICY {
            let mut longer = bytes;
            longer.push(0);
            prop_assert_eq!(ComponentValue::decode(id, &longer).err(), Some(DecodeError::TrailingBytes));
        }
    }

    #[test]
    fn participant_list_update_round_trips(update in participant_update()) {
        check(&update, |v| v.encode().unwrap(), ParticipantListUpdate::decode)?;
    }

    #[test]
    fn join_links_update_round_trips(
        removed_indices in vec(any::<u32>(), 0..5),
        added_links in vec(join_link(), 0..5),
    ) {
        check(&JoinLinksUpdate { removed_indices, added_links }, |v| v.encode().unwrap(), JoinLinksUpdate::decode)?;
    }

    #[test]
    fn app_data_update_round_trips(id in any::<u16>(), update in prop::option::of(bytes(100))) {
        let op = update.map_or(AppDataUpdateOperation::Remove, AppDataUpdateOperation::Update);
        check(&AppDataUpdate { component_id: ComponentId(id), op }, |v| v.encode().unwrap(), AppDataUpdate::decode)?;
    }

    #[test]
    fn room_components_round_trip(
        values in vec(component_value(), 0..8),
        other in btree_map(prop_oneof![0x0001u16..0x0006, 0x9000u16..0x9010], bytes(20), 0..3),
    ) {
        let mut state = RoomComponents::default();
        for v in values {
            state.insert(v);
        }
        for (id, data) in &other {
            state.insert(ComponentValue::Other(ComponentId(*id), data.clone()));
        }
        let entries = state.to_entries().unwrap();
        prop_assert!(entries.windows(2).all(|w| w[0].component_id < w[1].component_id));
        let dict = state.encode_dictionary().unwrap();
        let back = RoomComponents::decode_dictionary(&dict).unwrap();
        prop_assert_eq!(&back, &state);
        prop_assert_eq!(back.encode_dictionary().unwrap(), dict);
        let reordered: BTreeMap<_, _> = entries.iter().map(|c| (c.component_id, c.data.clone())).collect();
        prop_assert_eq!(reordered.len(), entries.len());
    }

    #[test]
    fn tls_codec_bridge_agrees(list in participant_list()) {
        let ours = list.encode().unwrap();
        let theirs = list.tls_serialize_detached().unwrap();
        prop_assert_eq!(&ours, &theirs);
        let (back, rest) = ParticipantListData::tls_deserialize_bytes(&ours).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, list);
    }

    /// Our `opaque<V>` prefix is byte-identical to `tls_codec`'s `VLBytes`
    /// across the 1-, 2- and 4-byte boundaries.
    #[test]
    fn length_prefix_matches_tls_codec(len in prop_oneof![0usize..70, 16370usize..16400, 60usize..20000]) {
        let raw = vec![0xa5u8; len];
        let theirs = VLBytes::new(raw.clone()).tls_serialize_detached().unwrap();
        let link = JoinLink { join_link: raw };
        prop_assert_eq!(link.encode().unwrap(), theirs);
    }
}

#[test]
fn dictionary_rejects_unsorted_or_duplicate_ids() {
    let entry = |id: u16| ComponentData {
        component_id: ComponentId(id),
        data: vec![],
    };
    for ids in [[0x9001u16, 0x9000], [0x9000, 0x9000]] {
        let dict = AppDataDictionary {
            component_data: ids.iter().map(|i| entry(*i)).collect(),
        };
        let bytes = dict.encode().unwrap();
        assert!(matches!(
            AppDataDictionary::decode(&bytes),
            Err(DecodeError::Invalid {
                what: "AppDataDictionary",
                ..
            })
        ));
        let pairs = [
            (ComponentId(ids[0]), &[][..]),
            (ComponentId(ids[1]), &[][..]),
        ];
        assert!(RoomComponents::from_entries(pairs).is_err());
    }
}
