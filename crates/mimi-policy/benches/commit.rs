//! The engine on the hub's commit path: a 1000-participant private group
//! (one admin, 999 members, one client each) evaluating a commit that adds 10
//! users with a client each and removes 10 users with their clients, in one
//! participant-list update plus 20 MLS proposals. The figure includes
//! encoding the new participant list for OpenMLS. Target: under 100 µs.
//!
//! Run: `cargo bench -p mimi-policy --bench commit`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_policy::{
    Actor, Change, Claims, Commit, Context, Member, PolicyEnvelope, Preset, Proposal, RoomState,
};
use mimi_proto::ClientId;
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, ComponentId, ParticipantId, ParticipantListUpdate,
    UserRolePair,
};

const ROOM_SIZE: usize = 1000;
const NOW: u64 = 1_795_000_000;

fn user(i: usize) -> ParticipantId {
    ParticipantId::parse(&format!("mimi://p{}.example/u/user{i}", i % 7)).expect("valid user")
}

fn client(i: usize) -> ClientId {
    ClientId::parse(&format!("mimi://p{}.example/d/user{i}/phone", i % 7)).expect("valid client")
}

fn room() -> RoomState {
    let template = Preset::PrivateGroup.template();
    let participants = (0..ROOM_SIZE)
        .map(|i| UserRolePair {
            user: user(i),
            role_index: if i == 0 { 3 } else { 2 },
        })
        .collect();
    let components = template.components(
        mimi_proto::RoomId::parse("mimi://hub.example/r/big").expect("valid room"),
        participants,
    );
    let members = (0..ROOM_SIZE)
        .map(|i| Member::basic(client(i), user(i)))
        .collect();
    let env = PolicyEnvelope::permissive();
    RoomState::create(
        &Context::new(NOW, &env),
        Some(Preset::PrivateGroup),
        components,
        members,
    )
    .expect("valid room")
}

fn commit(state: &RoomState) -> Commit {
    let admin = Actor::Client(client(0));
    // Remove ten users spread over the list, add ten new ones.
    let removed: Vec<usize> = (1..=10).map(|k| k * 97).collect();
    let index = |u: &ParticipantId| {
        state
            .participants()
            .position(|(p, _)| p == u)
            .expect("listed") as u32
    };
    let update = ParticipantListUpdate {
        changed_role_participants: vec![],
        removed_indices: removed.iter().map(|i| index(&user(*i))).collect(),
        added_participants: (0..10)
            .map(|k| UserRolePair {
                user: user(ROOM_SIZE + k),
                role_index: 2,
            })
            .collect(),
    };
    let mut proposals = vec![Proposal::new(
        admin.clone(),
        Change::AppData(AppDataUpdate {
            component_id: ComponentId::PARTICIPANT_LIST,
            op: AppDataUpdateOperation::Update(update.encode().expect("encodes")),
        }),
    )];
    proposals.extend(
        removed
            .iter()
            .map(|i| Proposal::new(admin.clone(), Change::remove(client(*i)))),
    );
    proposals.extend((0..10).map(|k| {
        Proposal::new(
            admin.clone(),
            Change::add(client(ROOM_SIZE + k), Claims::basic(user(ROOM_SIZE + k))),
        )
    }));
    Commit {
        committer: admin,
        proposals,
    }
}

fn bench(c: &mut Criterion) {
    let state = room();
    let commit = commit(&state);
    let env = PolicyEnvelope::permissive();
    let ctx = Context::new(NOW, &env);
    let staged = state
        .evaluate_commit(&ctx, &commit)
        .expect("the commit is allowed");
    assert_eq!(staged.summary().added_users.len(), 10);
    assert_eq!(staged.summary().removed_users.len(), 10);

    let mut group = c.benchmark_group("policy_1000_participants");
    group.bench_function("evaluate_commit_add10_remove10", |b| {
        b.iter(|| black_box(&state).evaluate_commit(&ctx, black_box(&commit)))
    });
    group.bench_function("evaluate_and_apply", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                let staged = s.evaluate_commit(&ctx, &commit).expect("allowed");
                s.apply(staged);
                s
            },
            criterion::BatchSize::LargeInput,
        )
    });
    let member = user(500);
    group.bench_function("check_sender", |b| {
        b.iter(|| black_box(&state).check_sender(black_box(&member)))
    });
    let leave = vec![
        Proposal::new(
            Actor::Client(client(500)),
            Change::AppData(AppDataUpdate {
                component_id: ComponentId::PARTICIPANT_LIST,
                op: AppDataUpdateOperation::Update(
                    ParticipantListUpdate {
                        removed_indices: vec![500],
                        ..ParticipantListUpdate::default()
                    }
                    .encode()
                    .expect("encodes"),
                ),
            }),
        ),
        Proposal::new(Actor::Client(client(500)), Change::remove(client(500))),
    ];
    group.bench_function("evaluate_leave_proposal", |b| {
        b.iter(|| black_box(&state).evaluate_proposals(&ctx, black_box(&leave)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
