//! Hub acceptance of add, update and remove commits at 10/100/1000 members,
//! beside raw OpenMLS `PublicGroup::process_message` + `merge_commit` on the
//! same commits in the same run. The ratio is the hub's overhead.
//!
//! `cargo bench -p mimi-hub --bench hub_commit`

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mimi_hub::{CommitBundle, Hub, Room, group_id_of};
use mimi_mls::Identity;
use mimi_mls::OutgoingCommit;
use openmls::component::ComponentData;
use openmls::framing::ProcessedMessageContent;
use openmls::group::PublicGroup;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    LeafNodeIndex, LeafNodeParameters, MlsGroup, MlsMessageIn, MlsMessageOut, RatchetTreeIn,
};
use openmls_memory_storage::MemoryStorage;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;

struct Fixture {
    hub: Hub,
    snapshot: Vec<u8>,
    add: Vec<u8>,
    update: Vec<u8>,
    remove: Vec<u8>,
    provider: OpenMlsRustCrypto,
}

/// The parts of one commit bundle, serialized.
fn bundle_bytes(out: &OutgoingCommit) -> Vec<u8> {
    let mut v = Vec::new();
    for m in [
        Some(&out.commit),
        out.welcome.as_ref(),
        Some(&out.group_info),
    ] {
        let bytes = m
            .map(|m| m.tls_serialize_detached().unwrap())
            .unwrap_or_default();
        v.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        v.extend_from_slice(&bytes);
    }
    v
}

fn parse_bundle(mut b: &[u8]) -> CommitBundle {
    let mut parts = Vec::new();
    for _ in 0..3 {
        let len = u32::from_be_bytes(b[..4].try_into().unwrap()) as usize;
        parts.push(b[4..4 + len].to_vec());
        b = &b[4 + len..];
    }
    let msg = |p: &Vec<u8>| MlsMessageIn::tls_deserialize_exact(p).unwrap();
    CommitBundle {
        commit: msg(&parts[0]),
        welcome: (!parts[1].is_empty()).then(|| msg(&parts[1])),
        group_info: msg(&parts[2]),
    }
}

fn fixture(members: usize) -> Fixture {
    let mut w = support::world(mimi_policy::Preset::PrivateGroup);
    let others: Vec<_> = (1..members)
        .map(|i| support::Client::new(&format!("mimi://b.example/d/u{i}/d")))
        .collect();
    let out = support::commit(
        &w.alice,
        &mut w.alice_group,
        support::Inline {
            adds: others.iter().map(|c| c.key_package().0).collect(),
            app: vec![support::list_update(
                mimi_proto::components::ParticipantListUpdate {
                    added_participants: others
                        .iter()
                        .map(|c| mimi_proto::components::UserRolePair {
                            user: c.user(),
                            role_index: 2,
                        })
                        .collect(),
                    ..Default::default()
                },
            )],
            ..Default::default()
        },
        Vec::new(),
    );
    w.room
        .accept_commit(&w.hub, parse_bundle(&bundle_bytes(&out)), support::NOW)
        .unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();

    // Three competing commits on the same epoch; each iteration applies one
    // to a fresh copy of the room. Adds and removes change the participant
    // list too, so the policy engine and the AppDataUpdate path are measured.
    let newcomer = support::Client::new("mimi://c.example/d/new/d");
    let add = support::commit(
        &w.alice,
        &mut w.alice_group,
        support::Inline {
            adds: vec![newcomer.key_package().0],
            app: vec![support::add_user(newcomer.user(), 2)],
            ..Default::default()
        },
        Vec::new(),
    );
    w.alice_group
        .clear_pending_commit(w.alice.provider.storage())
        .unwrap();
    let update = self_update(&w.alice.provider, &w.alice.identity, &mut w.alice_group);
    w.alice_group
        .clear_pending_commit(w.alice.provider.storage())
        .unwrap();
    // Remove the last user (list entry `members`: alice, then u1.., so the
    // last added user is at index members - 1) with their client.
    let remove = support::commit(
        &w.alice,
        &mut w.alice_group,
        support::Inline {
            removes: vec![LeafNodeIndex::new(members as u32 - 1)],
            app: vec![support::remove_user_at(members as u32 - 1)],
            ..Default::default()
        },
        Vec::new(),
    );
    w.alice_group
        .clear_pending_commit(w.alice.provider.storage())
        .unwrap();
    Fixture {
        snapshot: w.room.snapshot().unwrap(),
        hub: w.hub,
        add: bundle_bytes(&add),
        update: bundle_bytes(&update),
        remove: bundle_bytes(&remove),
        provider: w.alice.provider,
    }
}

fn self_update(
    provider: &OpenMlsRustCrypto,
    id: &Identity,
    group: &mut MlsGroup,
) -> OutgoingCommit {
    let b = group
        .commit_builder()
        .leaf_node_parameters(LeafNodeParameters::default())
        .load_psks(provider.storage())
        .unwrap()
        .create_group_info(true)
        .build(provider.rand(), provider.crypto(), id.signer(), |_| true)
        .unwrap()
        .stage_commit(provider)
        .unwrap();
    let (commit, _, gi) = b.into_contents();
    OutgoingCommit {
        commit,
        welcome: None,
        group_info: MlsMessageOut::from(gi.unwrap()),
    }
}

/// The new dictionary entries a commit produces, as the hub computed them:
/// the raw baseline stages with these, precomputed.
fn expected_dictionary(f: &Fixture, bundle: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut room = Room::restore(&f.hub, &f.snapshot).unwrap();
    let before: Vec<(u16, Vec<u8>)> = dictionary(&room);
    room.accept_commit(&f.hub, parse_bundle(bundle), support::NOW)
        .unwrap();
    dictionary(&room)
        .into_iter()
        .filter(|e| !before.contains(e))
        .collect()
}

fn dictionary(room: &Room) -> Vec<(u16, Vec<u8>)> {
    room.public_group()
        .group_context()
        .extensions()
        .app_data_dictionary()
        .unwrap()
        .dictionary()
        .entries()
        .map(|c| (c.id(), c.data().to_vec()))
        .collect()
}

/// The raw OpenMLS baseline: the same PublicGroup state, process + merge.
fn raw(f: &Fixture, bundle: &[u8]) -> (PublicGroup, MemoryStorage, MlsMessageIn) {
    let room = Room::restore(&f.hub, &f.snapshot).unwrap();
    let storage = MemoryStorage::default();
    // Rebuild a standalone PublicGroup from the room's exported tree + GroupInfo.
    let gi = MlsMessageIn::tls_deserialize_exact(room.group_info()).unwrap();
    let openmls::prelude::MlsMessageBodyIn::GroupInfo(vgi) = gi.extract() else {
        unreachable!()
    };
    let tree = RatchetTreeIn::from(room.public_group().export_ratchet_tree());
    let (group, _) = PublicGroup::from_external(
        f.provider.crypto(),
        &storage,
        tree,
        vgi,
        openmls::group::ProposalStore::new(),
    )
    .unwrap();
    assert_eq!(group.group_id(), &group_id_of(room.id()));
    (group, storage, parse_bundle(bundle).commit)
}

fn bench(c: &mut Criterion) {
    for members in [10usize, 100, 1000] {
        let f = fixture(members);
        let mut g = c.benchmark_group(format!("commit/{members}"));
        g.sample_size(if members >= 1000 { 10 } else { 30 });
        for (kind, bundle) in [
            ("add", &f.add),
            ("update", &f.update),
            ("remove", &f.remove),
        ] {
            g.bench_function(format!("hub/{kind}"), |b| {
                b.iter_batched(
                    || {
                        (
                            Room::restore(&f.hub, &f.snapshot).unwrap(),
                            parse_bundle(bundle),
                        )
                    },
                    |(mut room, bundle)| room.accept_commit(&f.hub, bundle, support::NOW).unwrap(),
                    BatchSize::LargeInput,
                )
            });
            let changed = expected_dictionary(&f, bundle);
            g.bench_function(format!("openmls/{kind}"), |b| {
                b.iter_batched(
                    || raw(&f, bundle),
                    |(mut group, storage, commit)| {
                        let msg = commit.try_into_protocol_message().unwrap();
                        let processed = group.process_message(f.provider.crypto(), msg).unwrap();
                        let staged = match processed.into_content() {
                            ProcessedMessageContent::StagedCommitMessage(staged) => *staged,
                            ProcessedMessageContent::UnresolvedAppDataCommit(u) => {
                                let mut updater = group.app_data_dictionary_updater();
                                for (id, data) in &changed {
                                    updater
                                        .set(ComponentData::from_parts(*id, data.clone().into()));
                                }
                                group
                                    .stage_app_data_commit(
                                        f.provider.crypto(),
                                        *u,
                                        updater.changes(),
                                    )
                                    .unwrap()
                            }
                            _ => unreachable!(),
                        };
                        group.merge_commit(&storage, staged).unwrap();
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
