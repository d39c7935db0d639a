//! `accept_commit` and `accept_proposals` are all-or-nothing: a failure
//! injected at each step after staging (`mimi_hub::fault`) leaves the room as
//! it was, and the same event is then accepted (decisions HUB-8).

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

mod support;

use mimi_hub::fault::{self, Fault};
use mimi_hub::{HubError, ProposalBundle, Room};
use mimi_policy::Preset;
use mimi_proto::ProviderId;
use mimi_proto::messages::RawFanoutMessage;
use support::*;

/// What a failed event must leave exactly as it was.
#[derive(Debug, PartialEq)]
struct Observed {
    snapshot: Vec<u8>,
    epoch: u64,
    members: usize,
    queued: Vec<Vec<u8>>,
    group_info: Vec<u8>,
}

fn observe(room: &Room) -> Observed {
    Observed {
        snapshot: room.snapshot().unwrap(),
        epoch: room.epoch(),
        members: room.members().count(),
        queued: room.queued().iter().map(|q| q.reference.clone()).collect(),
        group_info: room.group_info().to_vec(),
    }
}

fn injected(result: Result<impl std::fmt::Debug, HubError>) {
    let err = result.unwrap_err();
    assert!(
        matches!(err, HubError::Internal("injected fault")),
        "expected the injected fault, got {err:?}"
    );
}

#[test]
fn a_commit_that_fails_at_any_step_after_staging_leaves_the_room_unchanged() {
    let mut w = world_named(
        Preset::PrivateGroup.template(),
        Some(Preset::PrivateGroup),
        "adds",
    );
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let out = add_bob_commit(&mut w, &bob);
    let before = observe(&w.room);
    for point in [Fault::Staged, Fault::Merged, Fault::TreeBytes] {
        fault::arm(w.room.id(), point, 0);
        injected(w.room.accept_commit(&w.hub, bundle(&out), NOW));
        assert_eq!(observe(&w.room), before, "after a failure at {point:?}");
    }
    // The same commit is then accepted, and its Welcome still routed to
    // bob's provider (the route was not consumed by the failed tries).
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    assert_eq!(w.room.epoch(), 1);
    let welcome_to: Vec<_> = accepted
        .deliveries
        .iter()
        .filter(|d| matches!(d.event, RawFanoutMessage::Welcome { .. }))
        .map(|d| d.to.clone())
        .collect();
    assert_eq!(
        welcome_to,
        vec![ProviderId::from_domain("b.example").unwrap()]
    );
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    let (message, tree) = welcome_of(&accepted.deliveries);
    let mut bob_group = join(&bob, &message, &tree);
    // And the room moves on: bob's next commit is accepted too.
    let update = self_update(&bob, &mut bob_group);
    w.room.accept_commit(&w.hub, bundle(&update), NOW).unwrap();
    assert_eq!(w.room.epoch(), 2);
}

#[test]
fn an_external_commit_whose_reissued_removes_fail_leaves_the_room_unchanged() {
    let mut w = world_named(private_group_with_enforcer(), None, "reissue");
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let _bob_group = add_bob(&mut w, &bob);
    w.room
        .propose_remove(&w.hub, bob.identity.client(), NOW)
        .unwrap();
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let (_, out) = external_join(&mut w, &tablet);
    let before = observe(&w.room);
    for point in [Fault::Staged, Fault::Merged, Fault::Reissued] {
        fault::arm(w.room.id(), point, 0);
        injected(w.room.accept_commit(&w.hub, bundle(&out), NOW));
        assert_eq!(observe(&w.room), before, "after a failure at {point:?}");
    }
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    assert_eq!(w.room.epoch(), 2);
    assert_eq!(w.room.members().count(), 3);
    let RawFanoutMessage::Commit {
        external_proposals, ..
    } = &accepted.deliveries[0].event
    else {
        panic!("expected the commit first")
    };
    assert_eq!(external_proposals.len(), 1, "the hub's Remove is re-issued");
    assert_eq!(external_proposals[0], w.room.queued()[0].message);
}

#[test]
fn a_bundle_that_fails_while_queueing_leaves_the_room_unchanged() {
    let mut w = world_named(
        Preset::PrivateGroup.template(),
        Some(Preset::PrivateGroup),
        "leave",
    );
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut w, &bob);
    let (list_msg, leave) = bob_leaves(&bob, &mut bob_group);
    let bundle = || ProposalBundle {
        proposal: wire(&list_msg),
        more: vec![wire(&leave)],
    };
    let before = observe(&w.room);
    // The first proposal fails to queue: nothing was written.
    fault::arm(w.room.id(), Fault::Queue, 0);
    injected(w.room.accept_proposals(&w.hub, bundle(), NOW));
    assert_eq!(observe(&w.room), before);
    // The second fails: the first is taken back. (OpenMLS's in-memory store
    // then keeps an empty proposal list where it had none, so the snapshot
    // bytes differ; everything the room holds is as before.)
    fault::arm(w.room.id(), Fault::Queue, 1);
    injected(w.room.accept_proposals(&w.hub, bundle(), NOW));
    let after = observe(&w.room);
    assert_eq!(
        Observed {
            snapshot: Vec::new(),
            ..after
        },
        Observed {
            snapshot: Vec::new(),
            ..before
        }
    );
    let accepted = w.room.accept_proposals(&w.hub, bundle(), NOW).unwrap();
    assert_eq!(w.room.queued().len(), 2);
    assert!(!accepted.deliveries.is_empty());
}
