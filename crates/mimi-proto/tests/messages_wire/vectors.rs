//! mimi's published MIMI test vectors (decision W-22), `docs/test-vectors/*.json` (format in
//! docs/test-vectors/README.md).
//!
//! - `write_test_vectors` (ignored) writes the files from fixed values, reusing
//!   the known-answer builders: rerun it with
//!   `cargo test -p mimi-proto --test messages_wire -- --ignored write_test_vectors`.
//! - `test_vectors_decode_from_json` checks the files from the JSON alone: it
//!   picks the decoder by `struct`, decodes `hex`, compares the rendering with
//!   `values` and re-encodes byte for byte. It fails if the directory is
//!   missing or empty, so a lost directory cannot pass silently.
//! - `test_vectors_are_current` checks the files equal what the generator
//!   writes, so a codec change cannot leave stale vectors behind.
//!
//! Values hold no randomness (MLS objects are hand-built bytes), so a rerun
//! gives the same files.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::PathBuf;

use mimi_proto::Utf8String;
use mimi_proto::codec::decode_exact;
use mimi_proto::components::*;
use mimi_proto::messages::*;
use mimi_proto::{ClientId, RoomId};

use openmls::prelude::{
    AppDataDictionary, BasicCredential, Capabilities, Ciphersuite, ExternalSender, HpkePublicKey,
    SignaturePublicKey,
};
use openmls_traits::types::HpkeCiphertext;
use serde_json::{Map, Value, json};
use tls_codec::{DeserializeBytes, Serialize};

use crate::debug_json::render;
use crate::{hand_mls, kat};

#[path = "../common/component_values.rs"]
mod component_values;

/// The drafts the encodings follow.
const DRAFTS: &str = "draft-ietf-mimi-protocol-06, draft-ietf-mimi-room-policy-03, \
                      draft-ietf-mls-extensions-08 (AppDataDictionary, AppDataUpdate), RFC 9420";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/test-vectors")
}

/// One vector as written to a file.
fn vector<T: Debug + Serialize>(name: &str, struct_name: &str, value: &T) -> Value {
    json!({
        "name": name,
        "struct": struct_name,
        "values": render(value),
        "hex": hex::encode(value.tls_serialize_detached().unwrap()),
    })
}

/// A component vector: also names the dictionary id it is stored under.
fn component<T: Component + Debug>(name: &str, struct_name: &str, value: &T) -> Value {
    json!({
        "name": name,
        "struct": struct_name,
        "component_id": T::ID.0,
        "values": render(value),
        "hex": hex::encode(value.encode_data().unwrap()),
    })
}

fn text(s: &str) -> Utf8String {
    Utf8String::new(s).unwrap()
}

fn uri(s: &str) -> Uri {
    Uri::new(s).unwrap()
}

fn components() -> Vec<Value> {
    use component_values::*;
    let roles = RoleData {
        roles: vec![banned_role(), ordinary_role()],
    };
    vec![
        component(
            "franking agent",
            "FrankingAgentData",
            &FrankingAgentData {
                franking_signature_key: (0u8..32).collect(),
                credential: MlsCredential {
                    credential_type: CredentialType::BASIC,
                    content: b"mimi://a.example".to_vec(),
                },
            },
        ),
        component(
            "participant list of two",
            "ParticipantListData",
            &ParticipantListData {
                participants: vec![
                    UserRolePair {
                        user: user("mimi://a.example/u/alice"),
                        role_index: 3,
                    },
                    UserRolePair {
                        user: user("mimi://example.com/u/bob-jones"),
                        role_index: 2,
                    },
                ],
            },
        ),
        component(
            "room metadata",
            "RoomMetaData",
            &RoomMetaData {
                room_uri: RoomId::parse("mimi://a.example/r/clubhouse").unwrap(),
                room_name: text("Clubhouse"),
                room_descriptions: vec![RichDescription {
                    media_type: text("text/plain"),
                    language_tag: text("en"),
                    description_content: b"Members only".to_vec(),
                }],
                room_avatar: uri("https://a.example/avatar.png"),
                room_subject: text("Weekly meeting"),
                room_mood: Utf8String::default(),
            },
        ),
        component(
            "operational policy, opaque",
            "OperationalParameters",
            &OperationalParameters {
                raw: vec![1, 2, 3, 4],
            },
        ),
        component("roles of A.11", "RoleData", &roles),
        component(
            "preauthorization by claim",
            "PreAuthData",
            &PreAuthData {
                preauthorized_entries: vec![PreAuthRoleEntry {
                    claimset: vec![Claim::new(CredentialType::BASIC, b"domain", b"a.example")],
                    target_role: ordinary_role(),
                }],
            },
        ),
        component("base policy", "BaseRoomPolicy", &base_policy()),
        component(
            "status notifications",
            "StatusNotificationPolicy",
            &StatusNotificationPolicy {
                delivery_notifications: Optionality::Optional,
                read_receipts: Optionality::Forbidden,
            },
        ),
        component(
            "join link policy",
            "JoinLinkPolicy",
            &JoinLinkPolicy {
                on_request: true,
                join_link: uri("https://a.example/join/xyz"),
                multiuser: false,
                expiration: 86_400,
            },
        ),
        component(
            "join links",
            "JoinLinksData",
            &JoinLinksData {
                links: vec![JoinLink {
                    join_link: b"https://a.example/join/xyz".to_vec(),
                }],
            },
        ),
        component(
            "link previews through a proxy",
            "LinkPreviewPolicy",
            &LinkPreviewPolicy {
                autodetect_hyperlinks_in_text: Optionality::Optional,
                send_link_previews: Optionality::Required,
                automatic_link_previews: Optionality::Forbidden,
                link_preview_proxy_use: Gated::Required(LinkPreviewProxies(vec![uri(
                    "https://proxy.a.example",
                )])),
            },
        ),
        component(
            "asset policy",
            "AssetPolicy",
            &AssetPolicy {
                asset_upload_location: AssetUploadLocation::HUB,
                upload_domains: vec![ProviderAssetUploadDomains {
                    provider: "b.example".into(),
                    asset_upload_destinations: vec!["upload.b.example".into()],
                }],
                download_privacy: DownloadPrivacy {
                    allowed_download_types: vec![
                        DownloadPrivacyType::DIRECT,
                        DownloadPrivacyType::HUB_PROXY,
                    ],
                    forbidden_download_types: vec![DownloadPrivacyType::OHTTP],
                    default_download_type: DownloadPrivacyType::HUB_PROXY,
                },
                max_image: 10_000_000,
                max_audio: 20_000_000,
                max_video: 100_000_000,
                max_attachment: 50_000_000,
                forbidden_media_types: vec![MediaType {
                    media_type: "application/x-msdownload".into(),
                    parameters: vec![],
                }],
                permitted_media_types: Some(vec![MediaType {
                    media_type: "text/plain".into(),
                    parameters: vec![Parameter {
                        parameter_name: "charset".into(),
                        parameter_value: "utf-8".into(),
                    }],
                }]),
            },
        ),
        component(
            "logging forbidden",
            "LoggingPolicy",
            &LoggingPolicy {
                logging: Gated::Forbidden,
            },
        ),
        component(
            "history shared by role 3",
            "HistoryPolicy",
            &HistoryPolicy {
                history_sharing: Gated::Optional(HistorySharing {
                    roles_that_can_share: vec![3],
                    automatically_share: false,
                    max_time_period: 604_800,
                }),
            },
        ),
        component(
            "one bot",
            "BotPolicy",
            &BotPolicy {
                allowed_bots: vec![Bot {
                    name: text("scheduler"),
                    description: text("books rooms"),
                    homepage: uri("https://bots.a.example/scheduler"),
                    local_client_bot: false,
                    bot_role_index: 2,
                    can_target_message_in_group: true,
                    per_user_content: false,
                }],
            },
        ),
        component(
            "expiring messages required",
            "MessageExpiration",
            &MessageExpiration {
                expiring_messages: Gated::Required(ExpirationBounds {
                    min_expiration_duration: 60,
                    max_expiration_duration: 86_400,
                    default_expiration_duration: Some(3_600),
                }),
            },
        ),
        component("ban list (mimi private)", "BanList", &ban_list()),
        component(
            "org-scoped roles (mimi private)",
            "OrgScopedRoles",
            &OrgScopedRoles {
                role_indexes: vec![2, 3],
            },
        ),
        vector(
            "participant list update of A.11",
            "ParticipantListUpdate",
            &update_adding_bob(),
        ),
        vector(
            "participant list update, all three parts",
            "ParticipantListUpdate",
            &update_all_parts(),
        ),
        vector(
            "join links update",
            "JoinLinksUpdate",
            &JoinLinksUpdate {
                removed_indices: vec![0],
                added_links: vec![JoinLink {
                    join_link: b"https://a.example/join/abc".to_vec(),
                }],
            },
        ),
        vector(
            "AppDataUpdate adding bob (A.11)",
            "AppDataUpdate",
            &AppDataUpdate {
                component_id: ComponentId::PARTICIPANT_LIST,
                op: AppDataUpdateOperation::Update(update_adding_bob().encode().unwrap()),
            },
        ),
        vector(
            "AppDataUpdate removing the ban list",
            "AppDataUpdate",
            &AppDataUpdate {
                component_id: ComponentId::MIMI_BAN_LIST,
                op: AppDataUpdateOperation::Remove,
            },
        ),
    ]
}

fn bodies() -> Vec<Value> {
    let alice = || kat::user("mimi://a.example/u/alice");
    let client = |s: &str| ClientId::parse(s).unwrap();
    let request_tbs = kat::key_material_request_tbs(true);
    let mut capabilities_tbs = kat::key_material_request_tbs(false);
    capabilities_tbs.acceptable_ciphersuites = vec![
        Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519.into(),
        Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519.into(),
    ];
    let mut notify_extensions = AppDataDictionary::new();
    notify_extensions.insert(0x8001, vec![9]);
    vec![
        vector(
            "key material request in a room",
            "KeyMaterialRequest",
            &KeyMaterialRequest {
                tbs: request_tbs,
                signature: vec![0xaa, 0xbb, 0xcc],
            },
        ),
        vector(
            "key material request, no room, two suites",
            "KeyMaterialRequest",
            &KeyMaterialRequest {
                tbs: capabilities_tbs,
                signature: vec![0x11; 64],
            },
        ),
        vector(
            "key material response, no client has material",
            "KeyMaterialResponse",
            &KeyMaterialResponse {
                user_status: KeyMaterialUserCode::NoCompatibleMaterial,
                user_uri: kat::user("mimi://b.example/u/bob"),
                clients: vec![
                    ClientKeyMaterial {
                        client_uri: client("mimi://b.example/d/bob/laptop"),
                        status: ClientStatus::KeyMaterialExhausted,
                    },
                    ClientKeyMaterial {
                        client_uri: client("mimi://b.example/d/bob/phone"),
                        status: ClientStatus::NothingCompatible(None),
                    },
                    ClientKeyMaterial {
                        client_uri: client("mimi://b.example/d/bob/tab"),
                        status: ClientStatus::NothingCompatible(Some(Capabilities::default())),
                    },
                ],
            },
        ),
        vector(
            "key material response, one KeyPackage",
            "KeyMaterialResponse",
            &KeyMaterialResponse {
                user_status: KeyMaterialUserCode::PartialSuccess,
                user_uri: kat::user("mimi://b.example/u/bob"),
                clients: vec![
                    ClientKeyMaterial {
                        client_uri: client("mimi://b.example/d/bob/laptop"),
                        status: ClientStatus::Success(Box::new(hand_mls::key_package())),
                    },
                    ClientKeyMaterial {
                        client_uri: client("mimi://b.example/d/bob/phone"),
                        status: ClientStatus::KeyMaterialExhausted,
                    },
                ],
            },
        ),
        vector(
            "key material response, user unknown",
            "KeyMaterialResponse",
            &KeyMaterialResponse {
                user_status: KeyMaterialUserCode::UserUnknown,
                user_uri: kat::user("mimi://b.example/u/nobody"),
                clients: vec![],
            },
        ),
        vector(
            "update request, one proposal",
            "UpdateRequest",
            &UpdateRequest {
                bundle: HandshakeBundle::Proposal {
                    proposal: hand_mls::remove_proposal(),
                    more_proposals: vec![],
                },
            },
        ),
        vector(
            "update request, commit with a full GroupInfo, tree from the hub",
            "UpdateRequest",
            &UpdateRequest {
                bundle: HandshakeBundle::Commit {
                    commit: hand_mls::remove_commit(),
                    welcome: None,
                    group_info_option: GroupInfoOption::Full(Box::new(hand_mls::group_info())),
                    ratchet_tree_option: RatchetTreeOption::DistributionService,
                },
            },
        ),
        vector(
            "update request, commit with a Welcome and a partial GroupInfo",
            "UpdateRequest",
            &UpdateRequest {
                bundle: HandshakeBundle::Commit {
                    commit: hand_mls::remove_commit(),
                    welcome: Some(Box::new(hand_mls::welcome())),
                    group_info_option: GroupInfoOption::Partial(PartialGroupInfo {
                        ratchet_tree_presence: RatchetTreePresence::Removed,
                        group_info_extensions: vec![],
                        signature: vec![0x33; 64],
                    }),
                    ratchet_tree_option: RatchetTreeOption::OutOfBand {
                        tree_signature: vec![0x34; 8],
                    },
                },
            },
        ),
        vector(
            "update response, invalid proposal",
            "UpdateRoomResponse",
            &UpdateRoomResponse {
                error_description: text("unknown member"),
                outcome: UpdateOutcome::InvalidProposal {
                    invalid_proposals: vec![hand_mls::proposal_ref()],
                },
            },
        ),
        vector(
            "update response, wrong epoch",
            "UpdateRoomResponse",
            &kat::update_wrong_epoch(),
        ),
        vector(
            "update response, success",
            "UpdateRoomResponse",
            &UpdateRoomResponse {
                error_description: Utf8String::default(),
                outcome: UpdateOutcome::Success {
                    accepted_timestamp: 1_700_000_000_000,
                },
            },
        ),
        vector(
            "update response, not allowed",
            "UpdateRoomResponse",
            &UpdateRoomResponse {
                error_description: text("role forbids adding users"),
                outcome: UpdateOutcome::NotAllowed,
            },
        ),
        vector(
            "submit a message",
            "SubmitMessageRequest",
            &SubmitMessageRequest {
                app_message: kat::application_message(),
                sending_uri: ParticipantId::parse("mimi://a.example/u/alice").unwrap(),
            },
        ),
        vector(
            "submit response, accepted",
            "SubmitMessageResponse",
            &kat::submit_accepted(),
        ),
        vector(
            "submit response, accepted with a frank",
            "SubmitMessageResponse",
            &SubmitMessageResponse::Accepted {
                accepted_timestamp: 1_700_000_000_000,
                frank: Some(kat::frank()),
            },
        ),
        vector(
            "submit response, epoch too old",
            "SubmitMessageResponse",
            &SubmitMessageResponse::EpochTooOld { current_epoch: 8 },
        ),
        vector(
            "fanout of an application message with a frank",
            "FanoutMessage",
            &kat::fanout_application(true),
        ),
        vector(
            "notify body of two messages",
            "NotifyBody",
            &NotifyBody {
                messages: vec![
                    kat::fanout_application(true),
                    kat::fanout_application(false),
                ],
            },
        ),
        vector(
            "fanout of a commit",
            "FanoutMessage",
            &FanoutMessage {
                timestamp: 1_700_000_000_001,
                event: FanoutEvent::Commit {
                    commit: hand_mls::remove_commit(),
                    external_proposals: vec![],
                },
            },
        ),
        vector(
            "fanout of a proposal",
            "FanoutMessage",
            &FanoutMessage {
                timestamp: 1_700_000_000_002,
                event: FanoutEvent::Proposal {
                    proposal: hand_mls::remove_proposal(),
                    more_proposals: vec![],
                },
            },
        ),
        vector(
            "fanout of a Welcome, tree from the hub",
            "FanoutMessage",
            &FanoutMessage {
                timestamp: 1_700_000_000_003,
                event: FanoutEvent::Welcome {
                    welcome: Box::new(hand_mls::welcome()),
                    ratchet_tree_option: RatchetTreeOption::HttpsUri {
                        ratchet_tree_url: text("https://a.example/tree/8"),
                        tree_signature: vec![0x35; 8],
                    },
                },
            },
        ),
        vector(
            "group info response, success",
            "GroupInfoResponse",
            &GroupInfoResponse::Success {
                tbs: Box::new(GroupInfoResponseTbs {
                    room_id: kat::room(),
                    cipher_suite: Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
                    hub_sender: ExternalSender::new(
                        SignaturePublicKey::from(vec![0x48; 32]),
                        BasicCredential::new(b"mimi://a.example".to_vec()).into(),
                    ),
                    encrypted_groupinfo_and_tree: HpkeCiphertext {
                        kem_output: vec![0x45; 32].into(),
                        ciphertext: vec![0x43; 24].into(),
                    },
                }),
                signature: vec![0x36; 64],
            },
        ),
        vector(
            "group info and tree, the plaintext of a GroupInfoResponse",
            "GroupInfoRatchetTreeTbe",
            &GroupInfoRatchetTreeTbe {
                group_info: Box::new(hand_mls::group_info()),
                ratchet_tree_option: RatchetTreeOption::DistributionService,
                pending_proposals: vec![PendingProposal {
                    proposal: hand_mls::remove_proposal(),
                    hub_accepted_time: 1_700_000_000_004,
                }],
            },
        ),
        vector(
            "group info request",
            "GroupInfoRequest",
            &GroupInfoRequest {
                tbs: GroupInfoRequestTbs {
                    cipher_suite: Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
                    requesting_signature_key: SignaturePublicKey::from(
                        (0u8..32).collect::<Vec<_>>(),
                    ),
                    requesting_credential: openmls::prelude::BasicCredential::new(
                        b"mimi://b.example/d/bob/laptop".to_vec(),
                    )
                    .into(),
                    group_info_public_key: HpkePublicKey::from(vec![0x42; 32]),
                    joining_code: b"xyz".to_vec(),
                },
                signature: vec![0x22; 64],
            },
        ),
        vector(
            "group info response, not authorized",
            "GroupInfoResponse",
            &GroupInfoResponse::NotAuthorized {
                room_id: kat::room(),
            },
        ),
        vector(
            "group info response, no such room",
            "GroupInfoResponse",
            &GroupInfoResponse::NoSuchRoom {
                room_id: kat::room(),
            },
        ),
        vector("consent request", "ConsentEntry", &kat::consent_request()),
        vector(
            "consent grant with a KeyPackage",
            "ConsentEntry",
            &ConsentEntry {
                action: ConsentAction::Grant {
                    client_key_packages: vec![hand_mls::key_package()],
                },
                scope: ConsentScope {
                    requester_uri: alice(),
                    target_uri: kat::user("mimi://b.example/u/bob"),
                    room_id: None,
                },
                consent_extensions: notify_extensions.clone(),
            },
        ),
        vector(
            "identifier request by handle",
            "IdentifierRequest",
            &IdentifierRequest {
                query_elements: vec![
                    QueryElement {
                        search: SearchField::Handle,
                        search_value: text("@bob"),
                    },
                    QueryElement {
                        search: SearchField::VcardField {
                            property_name: text("EMAIL"),
                        },
                        search_value: text("bob@b.example"),
                    },
                ],
                id_request_extensions: AppDataDictionary::new(),
            },
        ),
        vector(
            "identifier response, found",
            "IdentifierResponse",
            &IdentifierResponse {
                response_code: IdentifierQueryCode::Success,
                uri: vec![kat::user("mimi://b.example/u/bob")],
                found_profiles: vec![UserProfile {
                    stable_uri: kat::user("mimi://b.example/u/bob"),
                    fields: vec![ProfileField {
                        field_source: FieldSource::OidcStdClaim,
                        field_name: text("name"),
                        field_value: b"Bob".to_vec(),
                    }],
                }],
                id_response_extensions: notify_extensions,
            },
        ),
        vector(
            "abuse report, anonymous",
            "AbuseReport",
            &kat::abuse_report_anonymous(),
        ),
    ]
}

/// Every file: name, what it holds, its vectors.
fn files() -> Vec<(&'static str, &'static str, Vec<Value>)> {
    vec![
        (
            "components.json",
            "room-state components (AppDataDictionary data) and their updates",
            components(),
        ),
        (
            "bodies.json",
            "protocol bodies (HTTP request and response bodies)",
            bodies(),
        ),
    ]
}

/// The text of one file, with arrays of scalars on one line.
fn file_text(description: &str, vectors: Vec<Value>) -> String {
    let doc = json!({
        "description": description,
        "drafts": DRAFTS,
        "vectors": vectors,
    });
    let mut out = String::new();
    pretty(&doc, 0, &mut out);
    out.push('\n');
    out
}

/// The order of the files' own keys; values' keys (struct fields) stay sorted.
const KEY_ORDER: &[&str] = &[
    "description",
    "drafts",
    "vectors",
    "name",
    "struct",
    "component_id",
    "values",
    "hex",
];

fn pretty(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
            out.push_str(&Value::Array(items.clone()).to_string().replace(',', ", "));
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (n, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                pretty(item, indent + 1, out);
                out.push_str(if n + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            // A vector's own keys in reading order, then the rest sorted.
            let rank = |k: &str| {
                KEY_ORDER
                    .iter()
                    .position(|o| *o == k)
                    .unwrap_or(KEY_ORDER.len())
            };
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by_key(|(k, _)| rank(k));
            for (n, (k, item)) in entries.into_iter().enumerate() {
                out.push_str(&pad(indent + 1));
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                pretty(item, indent + 1, out);
                out.push_str(if n + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[test]
#[ignore = "writes docs/test-vectors; rerun after a codec change"]
fn write_test_vectors() {
    std::fs::create_dir_all(dir()).unwrap();
    for (name, description, vectors) in files() {
        std::fs::write(dir().join(name), file_text(description, vectors)).unwrap();
    }
}

#[test]
fn test_vectors_are_current() {
    for (name, description, vectors) in files() {
        let on_disk = std::fs::read_to_string(dir().join(name))
            .unwrap_or_else(|e| panic!("docs/test-vectors/{name}: {e}"));
        assert!(
            on_disk == file_text(description, vectors),
            "docs/test-vectors/{name} is stale: rerun write_test_vectors"
        );
    }
}

/// A decoded vector: its `values` rendering and its re-encoding.
type Decoded = Result<(Value, Vec<u8>), String>;

/// Decodes `bytes` as `T`, and gives the rendering and the re-encoding.
fn decode<T: DeserializeBytes + Serialize + Debug>(bytes: &[u8]) -> Decoded {
    let value: T = decode_exact(bytes, "vector").map_err(|e| e.to_string())?;
    let again = value.tls_serialize_detached().map_err(|e| e.to_string())?;
    Ok((render(&value), again))
}

/// The decoder of each `struct` name the vectors use.
fn decoder(struct_name: &str) -> Option<fn(&[u8]) -> Decoded> {
    Some(match struct_name {
        "FrankingAgentData" => decode::<FrankingAgentData>,
        "ParticipantListData" => decode::<ParticipantListData>,
        "RoomMetaData" => decode::<RoomMetaData>,
        "OperationalParameters" => decode::<OperationalParameters>,
        "RoleData" => decode::<RoleData>,
        "PreAuthData" => decode::<PreAuthData>,
        "BaseRoomPolicy" => decode::<BaseRoomPolicy>,
        "StatusNotificationPolicy" => decode::<StatusNotificationPolicy>,
        "JoinLinkPolicy" => decode::<JoinLinkPolicy>,
        "JoinLinksData" => decode::<JoinLinksData>,
        "LinkPreviewPolicy" => decode::<LinkPreviewPolicy>,
        "AssetPolicy" => decode::<AssetPolicy>,
        "LoggingPolicy" => decode::<LoggingPolicy>,
        "HistoryPolicy" => decode::<HistoryPolicy>,
        "BotPolicy" => decode::<BotPolicy>,
        "MessageExpiration" => decode::<MessageExpiration>,
        "BanList" => decode::<BanList>,
        "OrgScopedRoles" => decode::<OrgScopedRoles>,
        "ParticipantListUpdate" => decode::<ParticipantListUpdate>,
        "JoinLinksUpdate" => decode::<JoinLinksUpdate>,
        "AppDataUpdate" => decode::<AppDataUpdate>,
        "KeyMaterialRequest" => decode::<KeyMaterialRequest>,
        "KeyMaterialResponse" => decode::<KeyMaterialResponse>,
        "UpdateRequest" => decode::<UpdateRequest>,
        "UpdateRoomResponse" => decode::<UpdateRoomResponse>,
        "SubmitMessageRequest" => decode::<SubmitMessageRequest>,
        "SubmitMessageResponse" => decode::<SubmitMessageResponse>,
        "FanoutMessage" => decode::<FanoutMessage>,
        "NotifyBody" => decode::<NotifyBody>,
        "GroupInfoRequest" => decode::<GroupInfoRequest>,
        "GroupInfoResponse" => decode::<GroupInfoResponse>,
        "GroupInfoRatchetTreeTbe" => decode::<GroupInfoRatchetTreeTbe>,
        "ConsentEntry" => decode::<ConsentEntry>,
        "IdentifierRequest" => decode::<IdentifierRequest>,
        "IdentifierResponse" => decode::<IdentifierResponse>,
        "AbuseReport" => decode::<AbuseReport>,
        _ => return None,
    })
}

/// Checks one vector from its JSON alone.
fn check(vector: &Map<String, Value>) -> Result<(), String> {
    let field = |k: &str| vector.get(k).ok_or(format!("no {k:?}"));
    let struct_name = field("struct")?.as_str().ok_or("struct is not text")?;
    let bytes =
        hex::decode(field("hex")?.as_str().ok_or("hex is not text")?).map_err(|e| e.to_string())?;
    let decode = decoder(struct_name).ok_or(format!("no decoder for {struct_name}"))?;
    let (rendered, again) = decode(&bytes)?;
    if &rendered != field("values")? {
        return Err(format!("decoded values differ: {rendered}"));
    }
    if again != bytes {
        return Err(format!("re-encodes as {}", hex::encode(again)));
    }
    if let Some(id) = vector.get("component_id") {
        let id = id
            .as_u64()
            .and_then(|id| u16::try_from(id).ok())
            .ok_or("component_id is not a u16")?;
        // The dictionary's own decoder picks the same struct for the id.
        let value = ComponentValue::decode(ComponentId(id), &bytes).map_err(|e| e.to_string())?;
        let inner = match render(&value) {
            Value::Object(map) if map.len() == 1 => map.into_iter().next().map(|(_, v)| v),
            _ => None,
        };
        if inner.as_ref() != Some(field("values")?) {
            return Err(format!("component {id:#06x} decodes as {value:?}"));
        }
        if value.encode().map_err(|e| e.to_string())? != bytes {
            return Err("the component re-encodes differently".into());
        }
    }
    Ok(())
}

#[test]
fn test_vectors_decode_from_json() {
    let entries = std::fs::read_dir(dir())
        .unwrap_or_else(|e| panic!("docs/test-vectors must exist: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect::<Vec<_>>();
    assert!(!entries.is_empty(), "docs/test-vectors holds no .json file");
    let mut structs = BTreeSet::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for path in entries {
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let vectors = doc["vectors"].as_array().expect("a vectors array");
        assert!(!vectors.is_empty(), "{} holds no vector", path.display());
        for v in vectors {
            let v = v.as_object().expect("a vector is an object");
            count += 1;
            structs.insert(v["struct"].as_str().unwrap_or_default().to_owned());
            if let Err(e) = check(v) {
                failures.push(format!("{} {:?}: {e}", path.display(), v["name"]));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Every struct with a decoder has at least one vector.
    let missing: Vec<_> = ALL_STRUCTS
        .iter()
        .filter(|s| !structs.contains(**s))
        .collect();
    assert!(missing.is_empty(), "no vector for {missing:?}");
    assert!(count > 0);
}

/// Every body and component the vectors must cover.
const ALL_STRUCTS: &[&str] = &[
    "FrankingAgentData",
    "ParticipantListData",
    "RoomMetaData",
    "OperationalParameters",
    "RoleData",
    "PreAuthData",
    "BaseRoomPolicy",
    "StatusNotificationPolicy",
    "JoinLinkPolicy",
    "JoinLinksData",
    "LinkPreviewPolicy",
    "AssetPolicy",
    "LoggingPolicy",
    "HistoryPolicy",
    "BotPolicy",
    "MessageExpiration",
    "BanList",
    "OrgScopedRoles",
    "ParticipantListUpdate",
    "JoinLinksUpdate",
    "AppDataUpdate",
    "KeyMaterialRequest",
    "KeyMaterialResponse",
    "UpdateRequest",
    "UpdateRoomResponse",
    "SubmitMessageRequest",
    "SubmitMessageResponse",
    "FanoutMessage",
    "NotifyBody",
    "GroupInfoRequest",
    "GroupInfoResponse",
    "GroupInfoRatchetTreeTbe",
    "ConsentEntry",
    "IdentifierRequest",
    "IdentifierResponse",
    "AbuseReport",
];
