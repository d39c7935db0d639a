//! Hub acceptance of add, update and remove commits at 10/100/1000 members,
//! beside raw OpenMLS `PublicGroup::process_message` + `merge_commit` on the
//! same commits in the same run. The ratio is the hub's overhead.
//!
//! `cargo bench -p mimi-hub --bench hub_commit`

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mimi_client::Identity;
use mimi_client::room::{OutgoingCommit, add_members, create_group, export_for_hub};
use mimi_hub::{CommitBundle, HubKeys, Room, group_id_of};
use mimi_proto::{ClientId, ProviderId, RoomId};
use openmls::framing::ProcessedMessageContent;
use openmls::group::PublicGroup;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    AppDataDictionary, LeafNodeIndex, LeafNodeParameters, MlsGroup, MlsMessageIn, MlsMessageOut,
    RatchetTreeIn,
};
use openmls_memory_storage::MemoryStorage;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;

struct Fixture {
    hub: HubKeys,
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
    let provider = OpenMlsRustCrypto::default();
    let hub = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
    let alice =
        Identity::generate(ClientId::parse("mimi://a.example/d/alice/phone").unwrap()).unwrap();
    let room_id = RoomId::parse("mimi://a.example/r/bench").unwrap();
    let mut group = create_group(
        &provider,
        &alice,
        &room_id,
        hub.external_sender(),
        AppDataDictionary::new(),
    )
    .unwrap();
    let (gi, tree) = export_for_hub(&provider, &alice, &group).unwrap();
    let mut room = Room::create(
        provider.crypto(),
        &hub,
        room_id,
        alice.client(),
        MlsMessageIn::tls_deserialize_exact(gi.tls_serialize_detached().unwrap()).unwrap(),
        RatchetTreeIn::from(tree),
    )
    .unwrap();
    let others: Vec<_> = (1..members)
        .map(|i| {
            let id =
                Identity::generate(ClientId::parse(&format!("mimi://b.example/d/u{i}/d")).unwrap())
                    .unwrap();
            id.key_package(&provider).unwrap()
        })
        .collect();
    let out = add_members(&provider, &alice, &mut group, others).unwrap();
    room.accept_commit(
        provider.crypto(),
        &hub,
        parse_bundle(&bundle_bytes(&out)),
        0,
    )
    .unwrap();
    group.merge_pending_commit(&provider).unwrap();

    // Three competing commits on the same epoch; each iteration applies one
    // to a fresh copy of the room.
    let newcomer =
        Identity::generate(ClientId::parse("mimi://c.example/d/new/d").unwrap()).unwrap();
    let add = add_members(
        &provider,
        &alice,
        &mut group,
        vec![newcomer.key_package(&provider).unwrap()],
    )
    .unwrap();
    group.clear_pending_commit(provider.storage()).unwrap();
    let update = self_update(&provider, &alice, &mut group);
    group.clear_pending_commit(provider.storage()).unwrap();
    let remove = remove_last(&provider, &alice, &mut group, members);
    group.clear_pending_commit(provider.storage()).unwrap();
    Fixture {
        hub,
        snapshot: room.snapshot().unwrap(),
        add: bundle_bytes(&add),
        update: bundle_bytes(&update),
        remove: bundle_bytes(&remove),
        provider,
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

fn remove_last(
    provider: &OpenMlsRustCrypto,
    id: &Identity,
    group: &mut MlsGroup,
    members: usize,
) -> OutgoingCommit {
    let b = group
        .commit_builder()
        .propose_removals([LeafNodeIndex::new(members as u32 - 1)])
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

/// The raw OpenMLS baseline: the same PublicGroup state, process + merge.
fn raw(f: &Fixture, bundle: &[u8]) -> (PublicGroup, MemoryStorage, MlsMessageIn) {
    let room = Room::restore(&f.snapshot).unwrap();
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
                    || (Room::restore(&f.snapshot).unwrap(), parse_bundle(bundle)),
                    |(mut room, bundle)| {
                        room.accept_commit(f.provider.crypto(), &f.hub, bundle, 1)
                            .unwrap()
                    },
                    BatchSize::LargeInput,
                )
            });
            g.bench_function(format!("openmls/{kind}"), |b| {
                b.iter_batched(
                    || raw(&f, bundle),
                    |(mut group, storage, commit)| {
                        let msg = commit.try_into_protocol_message().unwrap();
                        let processed = group.process_message(f.provider.crypto(), msg).unwrap();
                        let ProcessedMessageContent::StagedCommitMessage(staged) =
                            processed.into_content()
                        else {
                            unreachable!()
                        };
                        group.merge_commit(&storage, *staged).unwrap();
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
