//! Room flows at the hub with real clients: an eight-way commit race that
//! converges, kick versus ban, and a banned user's refused rejoin.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

mod support;

use mimi_hub::HubError;
use mimi_mls::OutgoingCommit;
use mimi_policy::Preset;
use mimi_proto::components::{BANNED_ROLE, ParticipantListUpdate, UserindexRolePair};
use openmls::prelude::{LeafNodeIndex, MlsGroup};
use openmls_traits::OpenMlsProvider as _;
use support::*;

const MEMBER: u32 = 2;

/// Adds `users` (one client each) in one commit; returns their groups.
fn add_all(w: &mut World, users: &[Client]) -> Vec<MlsGroup> {
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: users.iter().map(|c| c.key_package().0).collect(),
            app: vec![list_update(ParticipantListUpdate {
                added_participants: users
                    .iter()
                    .map(|c| mimi_proto::components::UserRolePair {
                        user: c.user(),
                        role_index: MEMBER,
                    })
                    .collect(),
                ..Default::default()
            })],
            ..Default::default()
        },
        Vec::new(),
    );
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    let (welcome, tree) = welcome_of(&accepted.deliveries);
    users.iter().map(|c| join(c, &welcome, &tree)).collect()
}

#[test]
fn eight_concurrent_committers_one_wins_per_epoch_and_all_converge() {
    let mut w = world(Preset::PrivateGroup);
    let users: Vec<Client> = (0..7)
        .map(|i| Client::new(&format!("mimi://b.example/d/user{i}/phone")))
        .collect();
    let mut groups = add_all(&mut w, &users);
    let mut clients: Vec<(&Client, &mut MlsGroup)> = vec![(&w.alice, &mut w.alice_group)];
    clients.extend(users.iter().zip(groups.iter_mut()));

    // Everyone commits on the same epoch; the hub sees them in some order.
    let mut pending: Vec<usize> = (0..clients.len()).collect();
    let mut accepted_log: Vec<OutgoingCommit> = Vec::new();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        let epoch = w.room.epoch();
        let outs: Vec<(usize, OutgoingCommit)> = pending
            .iter()
            .map(|&i| {
                let (c, g) = &mut clients[i];
                (i, self_update(c, g))
            })
            .collect();
        let mut winner = None;
        let mut losers = Vec::new();
        for (i, out) in outs {
            match w.room.accept_commit(&w.hub, bundle(&out), NOW) {
                Ok(_) => {
                    assert!(winner.is_none(), "two commits accepted for epoch {epoch}");
                    winner = Some((i, out));
                }
                Err(HubError::WrongEpoch { current }) => {
                    assert_eq!(current, epoch + 1);
                    losers.push(i);
                }
                Err(e) => panic!("unexpected refusal: {e}"),
            }
        }
        let (wi, wout) = winner.expect("exactly one commit per epoch wins");
        // The winner merges; every other client drops its commit and resyncs.
        {
            let (c, g) = &mut clients[wi];
            g.merge_pending_commit(&c.provider).unwrap();
        }
        for (i, (c, g)) in clients.iter_mut().enumerate() {
            if i != wi {
                g.clear_pending_commit(c.provider.storage()).unwrap();
                process_commit(c, g, &wout);
            }
        }
        accepted_log.push(wout);
        pending = losers;
    }
    assert_eq!(rounds, 8, "one winner per round");
    assert_eq!(w.room.epoch(), 1 + 8);
    let auth = clients[0].1.epoch_authenticator().as_slice().to_vec();
    for (_, g) in &clients {
        assert_eq!(g.epoch_authenticator().as_slice(), auth.as_slice());
        assert_eq!(
            g.public_group().group_context(),
            w.room.public_group().group_context()
        );
    }
}

#[test]
fn kick_keeps_the_user_listed_ban_removes_and_blocks_rejoin() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let _groups = add_all(&mut w, &[bob, carol]);
    let bob_user = user("mimi://b.example/u/bob").into();
    let carol_user = user("mimi://c.example/u/carol").into();

    // Kick bob (leaf 1): his client goes, he stays listed as a member.
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            removes: vec![LeafNodeIndex::new(1)],
            ..Default::default()
        },
        Vec::new(),
    );
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    assert_eq!(w.room.committed_state().role_of(&bob_user), Some(MEMBER));
    assert_eq!(w.room.committed_state().client_count(&bob_user), 0);

    // Ban carol (list entry 2, leaf 2): role 1 and her client removed together.
    let ban = list_update(ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: 2,
            role_index: BANNED_ROLE,
        }],
        ..Default::default()
    });
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            app: vec![ban],
            removes: vec![LeafNodeIndex::new(2)],
            ..Default::default()
        },
        Vec::new(),
    );
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    assert_eq!(
        w.room.committed_state().role_of(&carol_user),
        Some(BANNED_ROLE)
    );

    // Carol's new device cannot get the GroupInfo to rejoin; kicked bob can.
    let carol2 = Client::new("mimi://c.example/d/carol/tablet");
    let err = ask_join_material(&mut w, &carol2).unwrap_err();
    assert!(matches!(err, HubError::Denied { .. }), "{err}");
    let bob2 = Client::new("mimi://b.example/d/bob/tablet");
    ask_join_material(&mut w, &bob2).unwrap();
}
