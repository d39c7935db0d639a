//! Test support: real OpenMLS members that build MIMI-valid commits, and a hub
//! room created from a preset. The member side is OpenMLS's `MlsGroup` through
//! the shared bridge (`mimi-mls`), as the client library uses it; the hub's
//! tests do not depend on the client library.

#![allow(clippy::unwrap_used, dead_code)]

use mimi_hub::{CommitBundle, Hub, HubError, HubKeys, JoinMaterial, Room};
use mimi_mls::member::{create_group, export_for_hub, join_config};
use mimi_mls::{Identity, OutgoingCommit, RoomGroup as _};
use mimi_policy::{
    Actor, Change, Claims, Commit, Context, PolicyEnvelope, Preset, Proposal as PolicyProposal,
    RoomState, RoomTemplate,
};
use mimi_proto::ClientId;
use mimi_proto::components::{ComponentId, ParticipantId, ParticipantListUpdate, UserRolePair};
use mimi_proto::messages::RawFanoutMessage;
use mimi_proto::{ProviderId, RoomId, UserId};
use openmls::messages::proposals::{AppDataUpdateProposal, Proposal};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    AppDataDictionary, KeyPackage, LeafNodeIndex, MlsGroup, MlsMessageBodyIn, MlsMessageIn,
    MlsMessageOut, RatchetTreeIn, StagedWelcome,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;

/// "Now" for every test event, in ms.
pub const NOW: u64 = 1_800_000_000_000;

pub struct Client {
    pub provider: OpenMlsRustCrypto,
    pub identity: Identity,
}

impl Client {
    pub fn new(uri: &str) -> Self {
        Self {
            provider: OpenMlsRustCrypto::default(),
            identity: Identity::generate(ClientId::parse(uri).unwrap()).unwrap(),
        }
    }

    pub fn user(&self) -> ParticipantId {
        self.identity.user().clone().into()
    }

    pub fn key_package(&self) -> (KeyPackage, Vec<u8>) {
        let kp = self.identity.key_package(&self.provider).unwrap();
        let r = kp
            .hash_ref(self.provider.crypto())
            .unwrap()
            .tls_serialize_detached()
            .unwrap();
        (kp, r)
    }
}

pub fn wire(m: &MlsMessageOut) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(m.tls_serialize_detached().unwrap()).unwrap()
}

pub fn bundle(out: &OutgoingCommit) -> CommitBundle {
    CommitBundle {
        commit: wire(&out.commit),
        welcome: out.welcome.as_ref().map(wire),
        group_info: wire(&out.group_info),
    }
}

pub struct World {
    pub hub: Hub,
    pub room: Room,
    pub template: RoomTemplate,
    pub alice: Client,
    pub alice_group: MlsGroup,
}

/// A room on hub a.example created by alice from `preset`, with the hub's user
/// in the enforcer role when the preset has one.
pub fn world(preset: Preset) -> World {
    world_from(preset.template(), Some(preset))
}

/// `private-group` plus an enforcer role for the hub (index 4).
pub fn private_group_with_enforcer() -> RoomTemplate {
    mimi_mls::test_support::private_group_with_enforcer()
}

/// A room created by alice from `template`.
pub fn world_from(template: RoomTemplate, preset: Option<Preset>) -> World {
    world_named(template, preset, "clubhouse")
}

/// A room named `name` created by alice from `template` (tests that run in
/// parallel and arm faults by room need rooms of their own).
pub fn world_named(template: RoomTemplate, preset: Option<Preset>, name: &str) -> World {
    let keys = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
    let hub_user: ParticipantId = keys.identity().into();
    let hub = Hub::new(keys, PolicyEnvelope::permissive());
    let alice = Client::new("mimi://a.example/d/alice/phone");
    let room_id = RoomId::parse(&format!("mimi://a.example/r/{name}")).unwrap();
    let mut participants = vec![UserRolePair {
        user: alice.user(),
        role_index: template.creator_role,
    }];
    if let Some(role) = template.enforcer_role {
        participants.push(UserRolePair {
            user: hub_user,
            role_index: role,
        });
    }
    let components = template.components(room_id.clone(), participants);
    let mut dictionary = AppDataDictionary::new();
    for entry in components.to_entries().unwrap() {
        dictionary.insert(entry.component_id.0, entry.data);
    }
    let alice_group = create_group(
        &alice.provider,
        &alice.identity,
        &room_id,
        hub.keys().external_sender(),
        dictionary,
    )
    .unwrap();
    let (gi, tree) = export_for_hub(&alice.provider, &alice.identity, &alice_group).unwrap();
    let room = Room::create(
        &hub,
        room_id,
        alice.identity.client(),
        wire(&gi),
        RatchetTreeIn::from(tree),
        preset,
        NOW,
    )
    .unwrap();
    World {
        hub,
        room,
        template,
        alice,
        alice_group,
    }
}

/// The room state a client sees in its group.
pub fn client_state(group: &MlsGroup) -> RoomState {
    group.committed_state().unwrap()
}

/// A participant-list AppDataUpdate proposal.
pub fn list_update(update: ParticipantListUpdate) -> Proposal {
    Proposal::AppDataUpdate(Box::new(AppDataUpdateProposal::update(
        ComponentId::PARTICIPANT_LIST.0,
        update.encode().unwrap(),
    )))
}

pub fn add_user(user: ParticipantId, role: u32) -> Proposal {
    list_update(ParticipantListUpdate {
        added_participants: vec![UserRolePair {
            user,
            role_index: role,
        }],
        ..Default::default()
    })
}

pub fn remove_user_at(index: u32) -> Proposal {
    list_update(ParticipantListUpdate {
        removed_indices: vec![index],
        ..Default::default()
    })
}

/// What a test commit carries inline.
#[derive(Default)]
pub struct Inline {
    pub adds: Vec<KeyPackage>,
    pub removes: Vec<LeafNodeIndex>,
    /// AppDataUpdate proposals.
    pub app: Vec<Proposal>,
}

/// Builds (not merges) a commit of `inline` proposals plus the group's
/// pending proposals (`by_ref`, with their senders as the policy sees them),
/// computing the new room-state components the way the hub will.
pub fn commit(
    c: &Client,
    group: &mut MlsGroup,
    inline: Inline,
    by_ref: Vec<PolicyProposal>,
) -> OutgoingCommit {
    let me = Actor::Client(c.identity.client().clone());
    let mut proposals = by_ref;
    for p in &inline.app {
        let Proposal::AppDataUpdate(u) = p else {
            panic!("only AppDataUpdates go in `app`")
        };
        proposals.push(PolicyProposal::new(
            me.clone(),
            mimi_mls::app_data_change(u),
        ));
    }
    for leaf in &inline.removes {
        proposals.push(PolicyProposal::new(
            me.clone(),
            Change::remove(group.client_at(*leaf).unwrap()),
        ));
    }
    for kp in &inline.adds {
        let (client, claims) = mimi_mls::claims_of(kp.leaf_node().credential()).unwrap();
        proposals.push(PolicyProposal::new(me.clone(), Change::add(client, claims)));
    }
    let envelope = PolicyEnvelope::permissive();
    let verdict = client_state(group)
        .evaluate_commit(
            &Context::new(NOW / 1000, &envelope),
            &Commit {
                committer: me,
                proposals,
            },
        )
        .expect("the client's own policy check passes");
    let mut stage = group
        .commit_builder()
        .propose_adds(inline.adds)
        .propose_removals(inline.removes)
        .add_proposals(inline.app)
        .load_psks(c.provider.storage())
        .unwrap();
    stage.with_app_data_dictionary_updates(mimi_mls::app_data_updates(verdict.component_updates()));
    let (commit, welcome, gi) = stage
        .create_group_info(true)
        .build(
            c.provider.rand(),
            c.provider.crypto(),
            c.identity.signer(),
            |_| true,
        )
        .unwrap()
        .stage_commit(&c.provider)
        .unwrap()
        .into_contents();
    OutgoingCommit {
        commit,
        welcome: welcome
            .map(|w| MlsMessageOut::from_welcome(w, openmls::prelude::ProtocolVersion::Mls10)),
        group_info: MlsMessageOut::from(gi.unwrap()),
    }
}

pub fn join(client: &Client, welcome: &[u8], tree: &[u8]) -> MlsGroup {
    let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(welcome)
        .unwrap()
        .extract()
    else {
        panic!("not a welcome")
    };
    let tree = RatchetTreeIn::tls_deserialize_exact(tree).unwrap();
    StagedWelcome::new_from_welcome(&client.provider, &join_config(), welcome, Some(tree))
        .unwrap()
        .into_group(&client.provider)
        .unwrap()
}

pub fn welcome_of(deliveries: &[mimi_hub::Delivery]) -> (Vec<u8>, Vec<u8>) {
    deliveries
        .iter()
        .find_map(|d| match &d.event {
            RawFanoutMessage::Welcome {
                message,
                ratchet_tree,
                ..
            } => Some((message.clone(), ratchet_tree.clone())),
            _ => None,
        })
        .expect("a Welcome")
}

/// The user id of a client URI.
pub fn user(uri: &str) -> UserId {
    UserId::parse(uri).unwrap()
}

/// Alice's commit adding bob (b.example) as a member (role 2), with his
/// KeyPackage recorded as claimed through the hub; not yet accepted.
pub fn add_bob_commit(w: &mut World, bob: &Client) -> OutgoingCommit {
    let (kp, kp_ref) = bob.key_package();
    w.room
        .record_key_packages(&ProviderId::from_domain("b.example").unwrap(), [kp_ref]);
    commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![kp],
            app: vec![add_user(bob.user(), 2)],
            ..Default::default()
        },
        Vec::new(),
    )
}

/// Adds bob (b.example) to alice's room as a member (role 2); returns his group.
pub fn add_bob(w: &mut World, bob: &Client) -> MlsGroup {
    let out = add_bob_commit(w, bob);
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    let (message, tree) = welcome_of(&accepted.deliveries);
    join(bob, &message, &tree)
}

/// How bob leaves, as mimi clients do: a proposal removing him from the
/// participant list (he is entry 1) and a SelfRemove of his client.
pub fn bob_leaves(bob: &Client, bob_group: &mut MlsGroup) -> (MlsMessageOut, MlsMessageOut) {
    let (list_msg, _) = bob_group
        .propose_app_data_update(
            &bob.provider,
            bob.identity.signer(),
            ComponentId::PARTICIPANT_LIST.0,
            openmls::messages::proposals::AppDataUpdateOperation::Update(
                ParticipantListUpdate {
                    removed_indices: vec![1],
                    ..Default::default()
                }
                .encode()
                .unwrap()
                .into(),
            ),
        )
        .unwrap();
    let leave = bob_group
        .leave_group_via_self_remove(&bob.provider, bob.identity.signer())
        .unwrap();
    (list_msg, leave)
}

/// A self-update commit (no room-state change).
pub fn self_update(c: &Client, group: &mut MlsGroup) -> OutgoingCommit {
    let (commit, _, gi) = group
        .commit_builder()
        .leaf_node_parameters(openmls::prelude::LeafNodeParameters::default())
        .load_psks(c.provider.storage())
        .unwrap()
        .create_group_info(true)
        .build(
            c.provider.rand(),
            c.provider.crypto(),
            c.identity.signer(),
            |_| true,
        )
        .unwrap()
        .stage_commit(&c.provider)
        .unwrap()
        .into_contents();
    OutgoingCommit {
        commit,
        welcome: None,
        group_info: gi.unwrap().into(),
    }
}

/// Processes and merges a plain commit (no AppDataUpdates) fanned out by the hub.
pub fn process_commit(c: &Client, group: &mut MlsGroup, out: &OutgoingCommit) {
    let msg = wire(&out.commit).try_into_protocol_message().unwrap();
    match group
        .process_message(&c.provider, msg)
        .unwrap()
        .into_content()
    {
        openmls::prelude::ProcessedMessageContent::StagedCommitMessage(staged) => {
            group.merge_staged_commit(&c.provider, *staged).unwrap();
        }
        other => panic!("expected a plain commit, got {other:?}"),
    }
}

/// The GroupInfo and ratchet tree the hub gives `device`, a basic-credential
/// user's new client, for joining by external commit.
pub fn ask_join_material(w: &mut World, device: &Client) -> Result<JoinMaterial, HubError> {
    w.room.join_material(
        w.hub.crypto(),
        device.identity.client(),
        &Claims::basic(device.user()),
        device.identity.signer().public(),
        None,
    )
}

/// `device`'s external commit built from the hub's join material.
pub fn join_from(device: &Client, material: &JoinMaterial) -> (MlsGroup, OutgoingCommit) {
    let MlsMessageBodyIn::GroupInfo(gi) = MlsMessageIn::tls_deserialize_exact(&material.group_info)
        .unwrap()
        .extract()
    else {
        panic!("not a GroupInfo")
    };
    let tree = RatchetTreeIn::tls_deserialize_exact(&material.ratchet_tree).unwrap();
    mimi_mls::member::join_external(&device.provider, &device.identity, gi, tree).unwrap()
}

/// `device` asks for the join material and builds its external commit.
pub fn external_join(w: &mut World, device: &Client) -> (MlsGroup, OutgoingCommit) {
    let material = ask_join_material(w, device).unwrap();
    join_from(device, &material)
}
