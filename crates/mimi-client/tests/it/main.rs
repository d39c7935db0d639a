//! `mimi-client` against the real hub engine, in-process (no HTTP): the
//! protocol's example flow on the architecture's Figure 1 — provider X (Alice,
//! Bob; follower), Y (Charlie; hub), Z (Diana, Evelyn; follower).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use mimi_client::{Client, ClientError, DiscardReason, FrankStatus, RoomEvent, RoomStatus};
use mimi_policy::Preset;
use mimi_proto::ClientId;
use mimi_proto::components::{BANNED_ROLE, ParticipantId};
use mimi_proto::messages::UpdateOutcome;

use world::World;

fn messages(events: &[RoomEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RoomEvent::Message(m) => match &m.content.body.part {
                mimi_content::Part::Single(s) => {
                    Some(String::from_utf8(s.content.clone()).unwrap())
                }
                _ => Some(String::new()),
            },
            _ => None,
        })
        .collect()
}

struct Cast {
    alice: usize,
    alice2: usize,
    bob: usize,
    charlie: usize,
    diana: usize,
    evelyn: usize,
}

/// Charlie (hub provider Y) creates a private group and adds Alice (two
/// devices) and Bob from X, Diana and Evelyn from Z. Alice becomes an admin.
fn figure_one(w: &mut World) -> Cast {
    let charlie = w.client("mimi://y.example/d/charlie/phone");
    let alice = w.client("mimi://x.example/d/alice/phone");
    let alice2 = w.client("mimi://x.example/d/alice/laptop");
    let bob = w.client("mimi://x.example/d/bob/phone");
    let diana = w.client("mimi://z.example/d/diana/phone");
    let evelyn = w.client("mimi://z.example/d/evelyn/phone");
    w.create(charlie, Preset::PrivateGroup);
    let admin = w.clients[charlie]
        .room(&w.room_id)
        .unwrap()
        .role_by_name("admin");
    w.add(charlie, &[alice, alice2], admin);
    w.add(charlie, &[bob], None);
    w.add(charlie, &[diana], None);
    w.add(charlie, &[evelyn], None);
    w.assert_converged(&[charlie, alice, alice2, bob, diana, evelyn]);
    Cast {
        alice,
        alice2,
        bob,
        charlie,
        diana,
        evelyn,
    }
}

#[test]
fn create_add_across_providers_and_franked_messages() {
    let mut w = World::new("y.example");
    let c = figure_one(&mut w);
    let room = w.room_id.clone();
    assert_eq!(
        w.clients[c.bob].room(&room).unwrap().participants().len(),
        5
    );
    assert_eq!(w.clients[c.bob].room(&room).unwrap().members().len(), 6);

    // Alice writes; Diana replies; Bob reacts.
    let hello = w.send_text(c.alice, "Hello from X");
    w.sync_all();
    let reply = w.clients[c.diana]
        .compose(&room)
        .unwrap()
        .reply(hello, "Hi Alice, from Z")
        .unwrap();
    let out = w.clients[c.diana].send(&room, reply).unwrap();
    w.submit_message(c.diana, &out).unwrap();
    let like = w.clients[c.bob]
        .compose(&room)
        .unwrap()
        .reaction(hello, "❤")
        .unwrap();
    let out = w.clients[c.bob].send(&room, like).unwrap();
    w.submit_message(c.bob, &out).unwrap();
    w.sync_all();

    // Everyone else got all three, franked and verified.
    for who in [c.charlie, c.alice2, c.evelyn] {
        let got: Vec<_> = w.seen[who]
            .iter()
            .filter_map(|e| match e {
                RoomEvent::Message(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(got.len(), 3, "client {who}");
        assert!(
            got.iter()
                .all(|m| matches!(m.frank, FrankStatus::Verified(_)))
        );
        assert_eq!(got[1].content.in_reply_to, Some(hello));
        assert_eq!(
            got[2].content.body.disposition,
            mimi_content::Disposition::REACTION
        );
    }
    // The sender's own client skipped its echo, and keeps the hub's frank.
    let history = w.clients[c.alice].room(&room).unwrap().history();
    assert!(history[0].own && history[0].frank.is_some());
    assert!(
        w.seen[c.alice]
            .iter()
            .all(|e| !matches!(e, RoomEvent::Discarded { .. }))
    );
    w.assert_converged(&[c.charlie, c.alice, c.alice2, c.bob, c.diana, c.evelyn]);
}

#[test]
fn kick_ban_refused_rejoin_leave_and_new_device() {
    let mut w = World::new("y.example");
    let c = figure_one(&mut w);
    let room = w.room_id.clone();

    // Kick Evelyn: her client goes, her entry stays.
    let evelyn = w.user(c.evelyn);
    let out = w.clients[c.charlie].kick(&room, &evelyn).unwrap();
    assert!(matches!(
        w.commit(c.charlie, &out),
        UpdateOutcome::Success { .. }
    ));
    w.sync_all();
    assert_eq!(
        w.clients[c.evelyn].room(&room).unwrap().status(),
        RoomStatus::Removed
    );
    assert!(
        w.clients[c.bob]
            .room(&room)
            .unwrap()
            .state()
            .role_of(&ParticipantId::from(evelyn.clone()))
            .is_some()
    );

    // Ban Diana (by Alice, an admin on another provider), then her rejoin is
    // refused: by the hub for a new device, by clients for a re-add.
    let diana = w.user(c.diana);
    let out = w.clients[c.alice].ban(&room, &diana).unwrap();
    assert!(matches!(
        w.commit(c.alice, &out),
        UpdateOutcome::Success { .. }
    ));
    w.sync_all();
    assert_eq!(
        w.clients[c.diana].room(&room).unwrap().status(),
        RoomStatus::Removed
    );
    let role = w.clients[c.charlie]
        .room(&room)
        .unwrap()
        .state()
        .role_of(&ParticipantId::from(diana.clone()));
    assert_eq!(role, Some(BANNED_ROLE));
    let diana2 = w.client("mimi://z.example/d/diana/tablet");
    let err = w.join_external(diana2).unwrap_err();
    assert!(matches!(err, ClientError::State(_)), "{err}");
    let kp = w.key_package(c.diana);
    let err = w.clients[c.charlie]
        .add_user(&room, &diana, None, vec![kp])
        .unwrap_err();
    assert!(err.is_policy(), "{err}");

    // A message after the removals: removed clients decrypt nothing.
    w.send_text(c.charlie, "after the kick and the ban");
    w.sync_all();
    for gone in [c.evelyn, c.diana] {
        let removed_at = w.seen[gone]
            .iter()
            .position(|e| matches!(e, RoomEvent::Removed { .. }))
            .unwrap();
        assert!(
            messages(&w.seen[gone][removed_at..]).is_empty(),
            "client {gone}"
        );
    }

    // Bob leaves by proposals; Alice (an admin) commits them.
    let out = w.clients[c.bob].leave(&room).unwrap();
    w.propose(c.bob, &out).unwrap();
    // Charlie has not seen the leave yet: his commit omits it and is refused.
    let out = w.clients[c.charlie]
        .edit_metadata(&room, |m| {
            m.room_subject = mimi_proto::Utf8String::new("after the ban").unwrap();
        })
        .unwrap();
    assert_eq!(w.commit(c.charlie, &out), UpdateOutcome::NotAllowed);
    assert!(
        !w.clients[c.charlie]
            .room(&room)
            .unwrap()
            .has_pending_commit()
    );
    w.sync_all();
    let out = w.clients[c.alice].commit_pending(&room).unwrap();
    assert!(matches!(
        w.commit(c.alice, &out),
        UpdateOutcome::Success { .. }
    ));
    w.sync_all();
    assert_eq!(
        w.clients[c.bob].room(&room).unwrap().status(),
        RoomStatus::Removed
    );

    // Charlie adds a new tablet by external commit through the groupInfo endpoint.
    let tablet = w.client("mimi://y.example/d/charlie/tablet");
    assert!(matches!(
        w.join_external(tablet).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    w.sync_all();

    // One more message reaches everyone who is still in.
    w.send_text(c.alice2, "welcome, tablet");
    w.sync_all();
    assert_eq!(
        messages(&w.seen[tablet]),
        vec!["welcome, tablet".to_owned()]
    );
    let members = [c.charlie, c.alice, c.alice2, tablet];
    w.assert_converged(&members);
    let listed = w.clients[tablet].room(&room).unwrap().participants();
    assert_eq!(
        listed.len(),
        4,
        "charlie, alice, evelyn (kicked), diana (banned)"
    );
}

#[test]
fn race_two_committers_loser_resyncs_and_retries() {
    let mut w = World::new("y.example");
    let c = figure_one(&mut w);
    let room = w.room_id.clone();
    let frank = w.client("mimi://z.example/d/frank/phone");
    let gina = w.client("mimi://x.example/d/gina/phone");

    // Charlie and Alice both build a commit on the same epoch.
    let frank_user = w.user(frank);
    let gina_user = w.user(gina);
    let kp = w.key_package(frank);
    let from_charlie = w.clients[c.charlie]
        .add_user(&room, &frank_user, None, vec![kp])
        .unwrap();
    let kp = w.key_package(gina);
    let from_alice = w.clients[c.alice]
        .add_user(&room, &gina_user, None, vec![kp])
        .unwrap();
    assert!(matches!(
        w.commit(c.charlie, &from_charlie),
        UpdateOutcome::Success { .. }
    ));
    let lost = w.submit(&from_alice);
    assert!(matches!(lost, UpdateOutcome::WrongEpoch { .. }), "{lost:?}");

    // Alice never heard the hub's answer to that one; she discards it. Then the
    // retry helper builds again on her stale epoch (losing once more), processes
    // what she missed, rebuilds and wins.
    w.clients[c.alice].commit_rejected(&room).unwrap();
    let kp = w.key_package(gina);
    let retried = retry_add(&mut w, c.alice, &gina_user, kp);
    assert_eq!(retried.attempts, 2, "first attempt loses, second wins");
    w.sync_all();
    w.assert_converged(&[
        c.charlie, c.alice, c.alice2, c.bob, c.diana, c.evelyn, frank, gina,
    ]);
}

/// Runs `commit_with_retry` for an add whose first build is on a stale epoch.
fn retry_add(
    w: &mut World,
    who: usize,
    user: &mimi_proto::UserId,
    kp: openmls::prelude::KeyPackage,
) -> mimi_client::Retried {
    let room = w.room_id.clone();
    // Make the first build stale: alice has not processed charlie's commit.
    let mut client = std::mem::replace(
        &mut w.clients[who],
        Client::in_memory(ClientId::parse("mimi://x.example/d/placeholder/x").unwrap()).unwrap(),
    );
    // Both callbacks reach the world, one at a time.
    let world = std::cell::RefCell::new(&mut *w);
    let result = client.commit_with_retry(
        &room,
        3,
        |c| c.add_user(&room, user, None, vec![kp.clone()]),
        |out| Ok::<_, std::io::Error>(world.borrow_mut().submit(out)),
        |_| Ok(std::mem::take(&mut world.borrow_mut().inbox[who])),
    );
    w.clients[who] = client;
    result.unwrap()
}

#[test]
fn restart_from_disk_keeps_receiving_and_resumes_its_cursor() {
    let mut w = World::new("y.example");
    let dir = tempfile::tempdir().unwrap();
    let charlie = w.client("mimi://y.example/d/charlie/phone");
    let bob_id = ClientId::parse("mimi://x.example/d/bob/phone").unwrap();
    let bob = w.join_client(Client::create(dir.path(), bob_id.clone()).unwrap());
    w.create(charlie, Preset::PrivateGroup);
    w.add(charlie, &[bob], None);
    w.send_text(charlie, "one");
    w.sync_all();
    let room = w.room_id.clone();

    // Events keep arriving while bob is down.
    let alice = w.client("mimi://x.example/d/alice/phone");
    w.inbox[alice].clear();
    w.add(charlie, &[alice], None);
    w.send_text(charlie, "two");
    let backlog = std::mem::take(&mut w.inbox[bob]);
    assert!(!backlog.is_empty());

    // Bob restarts from his home directory and processes the backlog.
    let mut restarted = Client::open(dir.path()).unwrap();
    restarted.set_clock(Box::new(w.clock.clone()));
    assert_eq!(restarted.client_id(), &bob_id);
    assert_eq!(restarted.room(&room).unwrap().history().len(), 1);
    w.clients[bob] = restarted;
    let n = backlog.len() as u64;
    let processed = w.clients[bob].process_batch((100..).zip(backlog)).unwrap();
    assert!(processed.error.is_none());
    assert_eq!(messages(&processed.events), vec!["two".to_owned()]);
    let cursor = w.clients[bob].cursor().unwrap();
    assert_eq!(cursor, 100 + n - 1, "the cursor of the last event");
    // He can send after the restart, and everyone converges.
    w.send_text(bob, "bob is back");
    w.sync_all();
    assert_eq!(
        messages(&w.seen[alice]),
        vec!["two".to_owned(), "bob is back".to_owned()]
    );
    w.assert_converged(&[charlie, bob, alice]);

    // A second restart resumes at the recorded cursor with the full history.
    let reopened = Client::open(dir.path()).unwrap();
    assert_eq!(reopened.cursor(), Some(cursor));
    assert_eq!(reopened.room(&room).unwrap().history().len(), 3);
    assert_eq!(
        reopened.room(&room).unwrap().epoch_authenticator(),
        w.clients[bob].room(&room).unwrap().epoch_authenticator()
    );
}

#[test]
fn a_message_the_sender_may_not_send_is_discarded() {
    let mut w = World::new("y.example");
    let c = figure_one(&mut w);
    let room = w.room_id.clone();
    let hello = w.send_text(c.charlie, "hello");
    w.sync_all();
    // Bob (a member) may not delete Charlie's message; his library refuses to
    // send it. The receivers' check is covered in the unit tests.
    let delete = w.clients[c.bob]
        .compose(&room)
        .unwrap()
        .delete(hello)
        .unwrap();
    let err = w.clients[c.bob].send(&room, delete).unwrap_err();
    assert!(err.is_policy(), "{err}");
    // Charlie (an admin, canDeleteOtherMessage) may; everyone applies it.
    let delete = w.clients[c.charlie]
        .compose(&room)
        .unwrap()
        .delete(hello)
        .unwrap();
    let out = w.clients[c.charlie].send(&room, delete).unwrap();
    w.submit_message(c.charlie, &out).unwrap();
    w.sync_all();
    for who in [c.alice, c.bob, c.diana] {
        let deletions = w.seen[who]
            .iter()
            .filter(|e| matches!(e, RoomEvent::Message(m) if m.content.replaces == Some(hello)))
            .count();
        assert_eq!(deletions, 1, "client {who}");
        assert!(
            !w.seen[who].iter().any(|e| matches!(
                e,
                RoomEvent::Discarded {
                    reason: DiscardReason::Policy(_),
                    ..
                }
            )),
            "client {who}"
        );
    }
}

use mimi_mls::test_support::private_group_with_enforcer;

#[test]
fn hub_remove_proposals_are_committed_also_after_an_external_join() {
    let mut w = World::new("y.example");
    let charlie = w.client("mimi://y.example/d/charlie/phone");
    let bob = w.client("mimi://x.example/d/bob/phone");
    let bob_laptop = w.client("mimi://x.example/d/bob/laptop");
    w.create_from(charlie, &private_group_with_enforcer(), None);
    w.add(charlie, &[bob, bob_laptop], None);
    let room = w.room_id.clone();
    let hub_user = ParticipantId::from(w.hub.keys().identity());
    assert_eq!(
        w.clients[bob]
            .room(&room)
            .unwrap()
            .state()
            .role_of(&hub_user),
        Some(4),
        "the hub is listed as the enforcer"
    );

    // The hub removes bob's lost laptop; before anyone commits it, charlie's
    // tablet joins by external commit, which cannot carry the proposal: the
    // hub re-issues it in the new epoch, stapled to the commit.
    let laptop = w.clients[bob_laptop].client_id().clone();
    w.hub_removes(&laptop);
    w.sync_all();
    assert_eq!(
        w.clients[charlie]
            .room(&room)
            .unwrap()
            .group()
            .pending_proposals()
            .count(),
        1
    );
    let tablet = w.client("mimi://y.example/d/charlie/tablet");
    assert!(matches!(
        w.join_external(tablet).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    let events = w.sync(bob);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoomEvent::ProposalsQueued { count: 1, .. })),
        "{events:?}"
    );
    w.sync_all();
    // Bob commits the re-issued removal.
    let out = w.clients[bob].commit_pending(&room).unwrap();
    assert!(matches!(w.commit(bob, &out), UpdateOutcome::Success { .. }));
    w.sync_all();
    assert_eq!(
        w.clients[bob_laptop].room(&room).unwrap().status(),
        RoomStatus::Removed
    );
    w.assert_converged(&[charlie, bob, tablet]);
    assert_eq!(w.clients[tablet].room(&room).unwrap().members().len(), 3);
}

#[test]
fn remove_a_user_with_two_devices() {
    let mut w = World::new("y.example");
    let c = figure_one(&mut w);
    let room = w.room_id.clone();
    let alice = w.user(c.alice);
    let out = w.clients[c.charlie].remove_user(&room, &alice).unwrap();
    assert!(matches!(
        w.commit(c.charlie, &out),
        UpdateOutcome::Success { .. }
    ));
    w.sync_all();
    for gone in [c.alice, c.alice2] {
        assert_eq!(
            w.clients[gone].room(&room).unwrap().status(),
            RoomStatus::Removed
        );
    }
    let remaining = [c.charlie, c.bob, c.diana, c.evelyn];
    w.assert_converged(&remaining);
    let r = w.clients[c.bob].room(&room).unwrap();
    assert!(r.state().role_of(&ParticipantId::from(alice)).is_none());
    assert_eq!(r.members().len(), 4);
    // Later messages reach only the remaining members.
    w.send_text(c.diana, "after alice left");
    w.sync_all();
    for gone in [c.alice, c.alice2] {
        let removed_at = w.seen[gone]
            .iter()
            .position(|e| matches!(e, RoomEvent::Removed { .. }))
            .unwrap();
        assert!(messages(&w.seen[gone][removed_at..]).is_empty());
    }
    assert_eq!(
        messages(&w.seen[c.evelyn]),
        vec!["after alice left".to_owned()]
    );
    // A removed client can send nothing more for the room.
    assert!(matches!(
        w.clients[c.alice].send_text(&room, "still here?"),
        Err(ClientError::State(_))
    ));
}

#[test]
fn crash_before_the_hubs_answer_then_the_fan_out_merges_the_commit() {
    let mut w = World::new("y.example");
    let dir = tempfile::tempdir().unwrap();
    let charlie_id = ClientId::parse("mimi://y.example/d/charlie/phone").unwrap();
    let charlie = w.join_client(Client::create(dir.path(), charlie_id).unwrap());
    let bob = w.client("mimi://x.example/d/bob/phone");
    w.create(charlie, Preset::PrivateGroup);
    w.add(charlie, &[bob], None);
    let room = w.room_id.clone();

    // Charlie's commit reaches the hub, which accepts it; charlie dies before
    // the answer arrives.
    let diana = w.client("mimi://z.example/d/diana/phone");
    let user = w.user(diana);
    let kp = w.key_package(diana);
    let out = w.clients[charlie]
        .add_user(&room, &user, None, vec![kp])
        .unwrap();
    assert!(matches!(w.submit(&out), UpdateOutcome::Success { .. }));
    let mut restarted = Client::open(dir.path()).unwrap();
    restarted.set_clock(Box::new(w.clock.clone()));
    assert!(restarted.room(&room).unwrap().has_pending_commit());
    w.clients[charlie] = restarted;

    // The fan-out brings the commit back: it is ours, so it is merged.
    let events = w.sync(charlie);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoomEvent::Committed { own: true, .. })),
        "{events:?}"
    );
    w.sync_all();
    w.assert_converged(&[charlie, bob, diana]);
}
