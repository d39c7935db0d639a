//! Client-to-client tests over real OpenMLS groups. Events travel through a
//! minimal ordering log (one commit per epoch, franks signed with a hub key):
//! enough to exercise the library's own logic without the hub engine, whose
//! end-to-end runs are in `tests/it`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac as _};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, ProtocolMessage};
use openmls_traits::OpenMlsProvider as _;
use sha2::Sha256;

use mimi_content::franking::SafeAad;
use mimi_hub::HubKeys;
use mimi_policy::Preset;
use mimi_proto::components::{BANNED_ROLE, ParticipantId};
use mimi_proto::messages::crypto::sign_with_label;
use mimi_proto::messages::{Frank, RawFanoutMessage, UpdateOutcome};
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{ClientId, ProviderId, RoomId, UserId};

use super::*;
use mimi_proto::franking::{FRANKING_INTEGRITY_LABEL, ServerFrankingContext};

const T0: u64 = 1_800_000_000_000;

#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The room's total order of accepted events.
struct Bus {
    hub: HubKeys,
    room: RoomId,
    epoch: u64,
    log: Vec<RawFanoutMessage>,
    clock: TestClock,
}

impl Bus {
    fn tick(&self) -> u64 {
        self.clock.0.fetch_add(1000, Ordering::SeqCst) + 1000
    }

    fn epoch_of(bytes: &[u8]) -> u64 {
        let m: ProtocolMessage = MlsMessageIn::tls_deserialize_exact(bytes)
            .unwrap()
            .try_into_protocol_message()
            .unwrap();
        m.epoch().as_u64()
    }
}

struct Net {
    bus: Bus,
    clients: Vec<Client>,
    cursors: Vec<usize>,
}

impl Net {
    fn new() -> Self {
        let clock = TestClock(Arc::new(AtomicU64::new(T0)));
        Self {
            bus: Bus {
                hub: HubKeys::generate(ProviderId::from_domain("hub.example").unwrap()).unwrap(),
                room: RoomId::parse("mimi://hub.example/r/club").unwrap(),
                epoch: 0,
                log: Vec::new(),
                clock,
            },
            clients: Vec::new(),
            cursors: Vec::new(),
        }
    }

    fn add_client(&mut self, mut client: Client) -> usize {
        client.set_clock(Box::new(self.bus.clock.clone()));
        self.clients.push(client);
        self.cursors.push(self.bus.log.len());
        self.clients.len() - 1
    }

    fn client(&mut self, uri: &str) -> usize {
        let c = Client::in_memory(ClientId::parse(uri).unwrap()).unwrap();
        self.add_client(c)
    }

    fn room(&self) -> RoomId {
        self.bus.room.clone()
    }

    fn create(&mut self, who: usize, preset: Preset) {
        let room = self.room();
        let hub = self.bus.hub.external_sender();
        self.clients[who].create_room(&room, preset, hub).unwrap();
        self.cursors[who] = self.bus.log.len();
    }

    /// Submits a commit (accepted iff it is for the current epoch) and hands
    /// the answer to the committer.
    fn commit(&mut self, who: usize, out: &OutgoingCommit) -> UpdateOutcome {
        let room = self.room();
        let bytes = out.commit.tls_serialize_detached().unwrap();
        if Bus::epoch_of(&bytes) != self.bus.epoch {
            let outcome = UpdateOutcome::WrongEpoch {
                current_epoch: self.bus.epoch,
            };
            self.clients[who].commit_answered(&room, &outcome).unwrap();
            return outcome;
        }
        let ts = self.bus.tick();
        let outcome = UpdateOutcome::Success {
            accepted_timestamp: ts,
        };
        self.bus.epoch += 1;
        self.bus.log.push(RawFanoutMessage::Commit {
            timestamp: ts,
            message: bytes,
            external_proposals: Vec::new(),
        });
        self.clients[who].commit_answered(&room, &outcome).unwrap();
        if let Some(w) = &out.welcome {
            // The new epoch's tree, as the hub would serve it.
            let tree = self.tree(who);
            self.bus.log.push(RawFanoutMessage::Welcome {
                timestamp: ts,
                message: w.tls_serialize_detached().unwrap(),
                ratchet_tree: tree,
            });
        }
        outcome
    }

    fn tree(&self, who: usize) -> Vec<u8> {
        self.clients[who]
            .room(&self.room())
            .unwrap()
            .group()
            .export_ratchet_tree()
            .tls_serialize_detached()
            .unwrap()
    }

    fn propose(&mut self, out: &OutgoingProposals) {
        let ts = self.bus.tick();
        self.bus.log.push(RawFanoutMessage::Proposal {
            timestamp: ts,
            message: out.proposal.tls_serialize_detached().unwrap(),
            more_proposals: out
                .more
                .iter()
                .map(|m| m.tls_serialize_detached().unwrap())
                .collect(),
        });
    }

    /// Accepts an application message, franking it like the hub.
    fn message(&mut self, out: &OutgoingMessage) -> (u64, Option<Frank>) {
        let bytes = out.message.tls_serialize_detached().unwrap();
        let MlsMessageBodyIn::PrivateMessage(pm) = MlsMessageIn::tls_deserialize_exact(&bytes)
            .unwrap()
            .extract()
        else {
            panic!("not a PrivateMessage")
        };
        let ts = self.bus.tick();
        let frank = SafeAad::split(pm.aad())
            .ok()
            .and_then(|(aad, _)| aad.frank_aad().unwrap())
            .map(|item| {
                let context = ServerFrankingContext {
                    sender_uri: ParticipantId::from(out.sending_uri.clone())
                        .as_uri()
                        .clone(),
                    room_uri: self.bus.room.clone(),
                    accepted_timestamp: ts,
                };
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(&self.bus.hub.franking_key(&self.bus.room))
                        .unwrap();
                mac.update(
                    &context
                        .mac_input(&item.franking_tag.as_bytes().clone())
                        .unwrap(),
                );
                let server_frank: [u8; 32] = mac.finalize().into_bytes().into();
                let tbs = context.integrity_tbs(&server_frank, CIPHERSUITE).unwrap();
                Frank {
                    server_frank,
                    franking_signature_ciphersuite: CIPHERSUITE,
                    franking_integrity_signature: sign_with_label(
                        self.bus.hub.signer(),
                        FRANKING_INTEGRITY_LABEL,
                        &tbs,
                    )
                    .unwrap(),
                }
            });
        self.bus.log.push(RawFanoutMessage::Application {
            timestamp: ts,
            message: bytes,
            frank: frank.as_ref().map(|f| f.tls_serialize_detached().unwrap()),
        });
        (ts, frank)
    }

    fn send(&mut self, who: usize, text: &str) -> mimi_content::MessageId {
        let room = self.room();
        let out = self.clients[who].send_text(&room, text).unwrap();
        let (ts, frank) = self.message(&out);
        self.clients[who]
            .message_accepted(&room, &out.message_id, ts, frank)
            .unwrap();
        out.message_id
    }

    /// Processes every event the client has not seen.
    fn sync(&mut self, who: usize) -> Vec<RoomEvent> {
        let mut events = Vec::new();
        while self.cursors[who] < self.bus.log.len() {
            let i = self.cursors[who];
            let e = self.bus.log[i].clone();
            events.extend(
                self.clients[who]
                    .process_at(e, Some(i as u64))
                    .unwrap_or_else(|err| panic!("client {who} event {i}: {err}")),
            );
            self.cursors[who] += 1;
        }
        events
    }

    fn sync_all(&mut self) {
        for i in 0..self.clients.len() {
            self.sync(i);
        }
    }

    fn kp(&mut self, who: usize) -> openmls::prelude::KeyPackage {
        self.clients[who].key_packages(1).unwrap().remove(0)
    }

    fn user(&self, who: usize) -> UserId {
        self.clients[who].user().clone()
    }

    /// Every active member agrees on epoch, authenticator and room state.
    fn assert_agree(&self, members: &[usize]) {
        let room = self.room();
        let first = self.clients[members[0]].room(&room).unwrap();
        for &m in members {
            let r = self.clients[m].room(&room).unwrap();
            assert_eq!(r.status(), RoomStatus::Active, "client {m}");
            assert_eq!(r.epoch(), first.epoch(), "client {m} epoch");
            assert_eq!(
                r.epoch_authenticator(),
                first.epoch_authenticator(),
                "client {m} authenticator"
            );
            assert_eq!(r.participants(), first.participants(), "client {m} list");
        }
        assert_eq!(first.epoch(), self.bus.epoch);
    }

    /// Alice's private group with Bob added: the clients and the room.
    fn alice_and_bob() -> (Self, usize, usize, RoomId) {
        let mut net = Self::new();
        let alice = net.client("mimi://a.example/d/alice/phone");
        let bob = net.client("mimi://b.example/d/bob/laptop");
        net.create(alice, Preset::PrivateGroup);
        net.add(alice, &[bob]);
        let room = net.room();
        (net, alice, bob, room)
    }

    fn add(&mut self, adder: usize, added: &[usize]) {
        let user = self.user(added[0]);
        let kps = added.iter().map(|&i| self.kp(i)).collect();
        let room = self.room();
        let out = self.clients[adder]
            .add_user(&room, &user, None, kps)
            .unwrap();
        assert!(matches!(
            self.commit(adder, &out),
            UpdateOutcome::Success { .. }
        ));
        self.sync_all();
    }
}

fn text_of(event: &RoomEvent) -> String {
    match event {
        RoomEvent::Message(m) => match &m.content.body.part {
            mimi_content::Part::Single(s) => String::from_utf8(s.content.clone()).unwrap(),
            other => panic!("unexpected body {other:?}"),
        },
        other => panic!("expected a message, got {other:?}"),
    }
}

fn messages(events: &[RoomEvent]) -> Vec<&ReceivedMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            RoomEvent::Message(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

#[test]
fn create_add_user_with_two_devices_and_exchange_franked_messages() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob1 = net.client("mimi://b.example/d/bob/laptop");
    let bob2 = net.client("mimi://b.example/d/bob/phone");
    net.create(alice, Preset::PrivateGroup);
    let room = net.room();
    {
        let r = net.clients[alice].room(&room).unwrap();
        assert_eq!(r.epoch(), 0);
        assert_eq!(r.participants().len(), 1);
        assert!(r.state().components().franking_agent.is_some());
    }
    net.add(alice, &[bob1, bob2]);
    net.assert_agree(&[alice, bob1, bob2]);
    let r = net.clients[bob1].room(&room).unwrap();
    assert_eq!(r.members().len(), 3);
    assert_eq!(
        r.state().role_of(&ParticipantId::from(net.user(bob1))),
        Some(2),
        "bob is a member"
    );

    let hello = net.send(alice, "hello **bob**");
    let events = net.sync(bob1);
    assert_eq!(text_of(&events[0]), "hello **bob**");
    let m = messages(&events)[0];
    assert_eq!(m.message_id, hello);
    assert!(
        matches!(m.frank, FrankStatus::Verified(_)),
        "frank verified"
    );
    assert_eq!(m.sender.as_str(), "mimi://a.example/u/alice");
    // Alice's own echo is skipped; her history has the message with its frank.
    let echo = net.sync(alice);
    assert!(matches!(echo[0], RoomEvent::Ignored { .. }), "{echo:?}");
    assert!(
        net.clients[alice].room(&room).unwrap().history()[0]
            .frank
            .is_some()
    );

    // A reply and a reaction from bob's phone.
    net.sync(bob2);
    let reply = net.clients[bob2]
        .compose(&room)
        .unwrap()
        .reply(hello, "hi alice")
        .unwrap();
    let out = net.clients[bob2].send(&room, reply).unwrap();
    net.message(&out);
    let like = net.clients[bob2]
        .compose(&room)
        .unwrap()
        .reaction(hello, "👍")
        .unwrap();
    let out = net.clients[bob2].send(&room, like).unwrap();
    net.message(&out);
    let events = net.sync(alice);
    let got = messages(&events);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].content.in_reply_to, Some(hello));
    assert_eq!(
        got[1].content.body.disposition,
        mimi_content::Disposition::REACTION
    );
    // Bob's laptop sees its phone's messages (same user, other client).
    assert_eq!(messages(&net.sync(bob1)).len(), 2);
}

#[test]
fn remove_kick_ban_and_refused_re_add() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob = net.client("mimi://b.example/d/bob/laptop");
    let carol = net.client("mimi://c.example/d/carol/phone");
    let dave = net.client("mimi://c.example/d/dave/phone");
    net.create(alice, Preset::PrivateGroup);
    net.add(alice, &[bob]);
    net.add(alice, &[carol]);
    net.add(alice, &[dave]);
    let room = net.room();

    // Kick carol: clients go, the list entry stays.
    let user = net.user(carol);
    let out = net.clients[alice].kick(&room, &user).unwrap();
    net.commit(alice, &out);
    let events = net.sync(carol);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoomEvent::Removed { .. }))
    );
    net.sync_all();
    net.assert_agree(&[alice, bob, dave]);
    let r = net.clients[bob].room(&room).unwrap();
    assert!(
        r.state()
            .role_of(&ParticipantId::from(user.clone()))
            .is_some()
    );
    assert_eq!(r.members().len(), 3);

    // Remove dave: list entry and clients.
    let user = net.user(dave);
    let out = net.clients[alice].remove_user(&room, &user).unwrap();
    net.commit(alice, &out);
    net.sync_all();
    assert_eq!(
        net.clients[dave].room(&room).unwrap().status(),
        RoomStatus::Removed
    );
    net.assert_agree(&[alice, bob]);
    assert!(
        net.clients[bob]
            .room(&room)
            .unwrap()
            .state()
            .role_of(&ParticipantId::from(user))
            .is_none()
    );

    // Ban bob; then re-adding him is refused before anything is sent.
    let user = net.user(bob);
    let out = net.clients[alice].ban(&room, &user).unwrap();
    net.commit(alice, &out);
    net.sync_all();
    assert_eq!(
        net.clients[bob].room(&room).unwrap().status(),
        RoomStatus::Removed
    );
    let r = net.clients[alice].room(&room).unwrap();
    assert_eq!(
        r.state().role_of(&ParticipantId::from(user.clone())),
        Some(BANNED_ROLE)
    );
    let kp = net.kp(bob);
    let err = net.clients[alice]
        .add_user(&room, &user, None, vec![kp])
        .unwrap_err();
    assert!(err.is_policy(), "{err}");
    // A removed client cannot send.
    assert!(matches!(
        net.clients[bob].send_text(&room, "still here?"),
        Err(ClientError::State(_))
    ));
    // Unban, then add again: bob is back.
    let out = net.clients[alice].unban(&room, &user, None).unwrap();
    net.commit(alice, &out);
    net.sync_all();
    net.add(alice, &[bob]);
    net.assert_agree(&[alice, bob]);
}

#[test]
fn leave_by_proposals_then_another_member_commits() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob1 = net.client("mimi://b.example/d/bob/laptop");
    let bob2 = net.client("mimi://b.example/d/bob/phone");
    net.create(alice, Preset::PrivateGroup);
    net.add(alice, &[bob1, bob2]);
    let room = net.room();

    let out = net.clients[bob1].leave(&room).unwrap();
    assert_eq!(out.more.len(), 2, "Remove of the phone + own SelfRemove");
    net.propose(&out);
    let events = net.sync(alice);
    assert!(
        matches!(events[0], RoomEvent::ProposalsQueued { count: 3, .. }),
        "{events:?}"
    );
    assert!(matches!(net.sync(bob1)[0], RoomEvent::Ignored { .. }));
    net.sync(bob2);
    // Alice commits the queued leave.
    let out = net.clients[alice].commit_pending(&room).unwrap();
    net.commit(alice, &out);
    for b in [bob1, bob2] {
        let events = net.sync(b);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, RoomEvent::Removed { .. })),
            "{events:?}"
        );
    }
    net.assert_agree(&[alice]);
    let r = net.clients[alice].room(&room).unwrap();
    assert_eq!(r.participants().len(), 1);
    assert_eq!(r.members().len(), 1);
}

#[test]
fn last_admin_cannot_leave() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    net.create(alice, Preset::PrivateGroup);
    let room = net.room();
    let err = net.clients[alice].leave(&room).unwrap_err();
    assert!(err.is_policy(), "{err}");
    assert_eq!(
        net.clients[alice]
            .room(&net.room())
            .unwrap()
            .group()
            .pending_proposals()
            .count(),
        0,
        "nothing proposed"
    );
}

#[test]
fn race_loser_resyncs_and_retries() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob = net.client("mimi://b.example/d/bob/laptop");
    let carol = net.client("mimi://c.example/d/carol/phone");
    let dave = net.client("mimi://d.example/d/dave/phone");
    net.create(alice, Preset::PrivateGroup);
    let room = net.room();
    // Bob joins as a second admin, so both may add users.
    let admin = net.clients[alice]
        .room(&room)
        .unwrap()
        .role_by_name("admin");
    let bob_user = net.user(bob);
    let kp = net.kp(bob);
    let out = net.clients[alice]
        .add_user(&room, &bob_user, admin, vec![kp])
        .unwrap();
    net.commit(alice, &out);
    net.sync_all();

    // Both commit on the same epoch; bob's arrives first.
    let carol_user = net.user(carol);
    let dave_user = net.user(dave);
    let kp_c = net.kp(carol);
    let kp_d = net.kp(dave);
    let from_alice = net.clients[alice]
        .add_user(&room, &carol_user, None, vec![kp_c])
        .unwrap();
    let from_bob = net.clients[bob]
        .add_user(&room, &dave_user, None, vec![kp_d])
        .unwrap();
    assert!(matches!(
        net.commit(bob, &from_bob),
        UpdateOutcome::Success { .. }
    ));
    let lost = net.commit(alice, &from_alice);
    assert!(matches!(
        lost,
        UpdateOutcome::WrongEpoch { current_epoch: 2 }
    ));
    assert!(!net.clients[alice].room(&room).unwrap().has_pending_commit());

    // Alice resyncs and retries (with a fresh KeyPackage for carol): her
    // first attempt is still built on the old epoch and loses.
    let cursor = net.cursors[alice];
    let missed: Vec<RawFanoutMessage> = net.bus.log[cursor..].to_vec();
    net.cursors[alice] = net.bus.log.len();
    let kp_c = net.kp(carol);
    let mut log = std::mem::take(&mut net.bus.log);
    let bus_epoch = &mut net.bus.epoch;
    let retried = net.clients[alice]
        .commit_with_retry(
            &room,
            3,
            |c| c.add_user(&room, &carol_user, None, vec![kp_c.clone()]),
            |out| {
                let bytes = out.commit.tls_serialize_detached().unwrap();
                if Bus::epoch_of(&bytes) != *bus_epoch {
                    return Ok::<_, std::io::Error>(UpdateOutcome::WrongEpoch {
                        current_epoch: *bus_epoch,
                    });
                }
                *bus_epoch += 1;
                log.push(RawFanoutMessage::Commit {
                    timestamp: T0 + 50_000,
                    message: bytes,
                    external_proposals: Vec::new(),
                });
                log.push(RawFanoutMessage::Welcome {
                    timestamp: T0 + 50_000,
                    message: out
                        .welcome
                        .as_ref()
                        .unwrap()
                        .tls_serialize_detached()
                        .unwrap(),
                    ratchet_tree: Vec::new(),
                });
                Ok(UpdateOutcome::Success {
                    accepted_timestamp: T0 + 50_000,
                })
            },
            |_| Ok(missed.clone()),
        )
        .unwrap();
    net.bus.log = log;
    assert_eq!(retried.attempts, 2);
    assert!(
        retried
            .events
            .iter()
            .any(|e| matches!(e, RoomEvent::OwnCommitLost { .. })
                || matches!(e, RoomEvent::Committed { own: false, .. }))
    );
    assert!(
        retried
            .events
            .iter()
            .any(|e| matches!(e, RoomEvent::Committed { own: true, .. }))
    );
    net.cursors[alice] = net.bus.log.len();
    // The Welcome carries the tree of the epoch alice's commit opened.
    let tree = net.tree(alice);
    if let Some(RawFanoutMessage::Welcome { ratchet_tree, .. }) = net.bus.log.last_mut() {
        *ratchet_tree = tree;
    }
    net.sync_all();
    net.assert_agree(&[alice, bob, carol, dave]);
    assert_eq!(
        net.clients[dave].room(&room).unwrap().participants().len(),
        4
    );
}

#[test]
fn external_join_of_a_new_own_device() {
    let (mut net, alice, bob, room) = Net::alice_and_bob();
    let tablet = net.client("mimi://a.example/d/alice/tablet");
    net.cursors[tablet] = net.bus.log.len();

    // What the hub serves: the GroupInfo of the current epoch and the tree.
    let (gi, tree) = {
        let r = net.clients[alice].room(&room).unwrap();
        let gi = r
            .group()
            .export_group_info(
                net.clients[alice].provider().crypto(),
                net.clients[alice].identity().signer(),
                false,
            )
            .unwrap();
        (
            gi.tls_serialize_detached().unwrap(),
            r.group()
                .export_ratchet_tree()
                .tls_serialize_detached()
                .unwrap(),
        )
    };
    let out = net.clients[tablet]
        .join_by_external_commit(&room, &gi, &tree)
        .unwrap();
    assert_eq!(
        net.clients[tablet].room(&room).unwrap().status(),
        RoomStatus::Joining
    );
    net.commit(tablet, &out);
    net.sync_all();
    net.assert_agree(&[alice, bob, tablet]);
    assert_eq!(net.clients[bob].room(&room).unwrap().members().len(), 3);

    // A stranger cannot join by external commit.
    let eve = net.client("mimi://e.example/d/eve/phone");
    let gi = {
        let r = net.clients[alice].room(&room).unwrap();
        r.group()
            .export_group_info(
                net.clients[alice].provider().crypto(),
                net.clients[alice].identity().signer(),
                false,
            )
            .unwrap()
            .tls_serialize_detached()
            .unwrap()
    };
    let tree = net.clients[alice]
        .room(&room)
        .unwrap()
        .group()
        .export_ratchet_tree()
        .tls_serialize_detached()
        .unwrap();
    let err = net.clients[eve]
        .join_by_external_commit(&room, &gi, &tree)
        .unwrap_err();
    assert!(err.is_policy(), "{err}");
    assert!(
        net.clients[eve].room(&room).is_err(),
        "no half-joined room left"
    );
}

#[test]
fn role_change_metadata_edit_and_policy_refusals() {
    let (mut net, alice, bob, room) = Net::alice_and_bob();

    // Bob (member) may not rename the room or remove alice.
    let err = net.clients[bob]
        .edit_metadata(&room, |m| {
            m.room_name = mimi_proto::Utf8String::new("bob's").unwrap();
        })
        .unwrap_err();
    assert!(err.is_policy(), "{err}");
    let alice_user = net.user(alice);
    assert!(
        net.clients[bob]
            .remove_user(&room, &alice_user)
            .unwrap_err()
            .is_policy()
    );

    // Alice promotes bob to admin; now bob can rename.
    let bob_user = net.user(bob);
    let admin = net.clients[alice]
        .room(&room)
        .unwrap()
        .role_by_name("admin")
        .unwrap();
    let out = net.clients[alice]
        .change_role(&room, &bob_user, admin)
        .unwrap();
    net.commit(alice, &out);
    net.sync_all();
    let out = net.clients[bob]
        .edit_metadata(&room, |m| {
            m.room_name = mimi_proto::Utf8String::new("The Club").unwrap();
        })
        .unwrap();
    net.commit(bob, &out);
    net.sync_all();
    net.assert_agree(&[alice, bob]);
    assert_eq!(
        net.clients[alice]
            .room(&room)
            .unwrap()
            .metadata()
            .unwrap()
            .room_name
            .as_str(),
        "The Club"
    );
}

#[test]
fn a_commit_that_breaks_policy_is_refused_by_receivers() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob = net.client("mimi://b.example/d/bob/laptop");
    let eve = net.client("mimi://e.example/d/eve/phone");
    net.create(alice, Preset::PrivateGroup);
    net.add(alice, &[bob]);
    let room = net.room();
    // Bob bypasses his library and adds eve without listing her.
    let kp = net.kp(eve);
    let out = {
        let Client {
            rooms,
            provider,
            identity,
            ..
        } = &mut net.clients[bob];
        let r = rooms.get_mut(&room).unwrap();
        mimi_mls::member::add_members(provider, identity, &mut r.group, vec![kp]).unwrap()
    };
    net.commit(bob, &out);
    let before = net.clients[alice].room(&room).unwrap().epoch();
    let i = net.cursors[alice];
    let e = net.bus.log[i].clone();
    let err = net.clients[alice].process(e).unwrap_err();
    assert!(err.is_policy(), "{err}");
    assert_eq!(
        net.clients[alice].room(&room).unwrap().epoch(),
        before,
        "not applied"
    );
}

#[test]
fn messages_the_sender_may_not_send_are_discarded() {
    let (mut net, alice, bob, room) = Net::alice_and_bob();
    let hello = net.send(alice, "hello");
    net.sync(bob);
    // Bob may not edit alice's message: refused at the sender …
    let edit = net.clients[bob]
        .compose(&room)
        .unwrap()
        .edit(hello, mimi_content::NestedPart::plain("changed"))
        .unwrap();
    assert!(matches!(
        net.clients[bob].send(&room, edit.clone()),
        Err(ClientError::State(_))
    ));
    // … and, if sent anyway, discarded by receivers.
    let out = {
        let Client {
            rooms,
            provider,
            identity,
            ..
        } = &mut net.clients[bob];
        let r = rooms.get_mut(&room).unwrap();
        r.group
            .create_message(&*provider, identity.signer(), &edit.bytes)
            .unwrap()
    };
    net.message(&OutgoingMessage {
        room: room.clone(),
        message: out,
        sending_uri: net.user(bob),
        message_id: edit.message_id,
    });
    let events = net.sync(alice);
    assert!(
        matches!(
            events[..],
            [
                RoomEvent::Ignored { .. },
                RoomEvent::Discarded {
                    reason: DiscardReason::Edit(_),
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    // Alice may edit her own message.
    let edit = net.clients[alice]
        .compose(&room)
        .unwrap()
        .edit(hello, mimi_content::NestedPart::plain("hello, edited"))
        .unwrap();
    let out = net.clients[alice].send(&room, edit).unwrap();
    net.message(&out);
    let events = net.sync(bob);
    assert_eq!(messages(&events).len(), 1, "{events:?}");
}

#[test]
fn restart_from_disk_keeps_receiving() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob_id = ClientId::parse("mimi://b.example/d/bob/laptop").unwrap();
    let bob = net.add_client(Client::create(dir.path(), bob_id.clone()).unwrap());
    net.create(alice, Preset::PrivateGroup);
    net.add(alice, &[bob]);
    let room = net.room();
    net.send(alice, "before restart");
    net.sync(bob);
    let authenticator = net.clients[bob]
        .room(&room)
        .unwrap()
        .epoch_authenticator()
        .to_vec();
    let cursor = net.clients[bob].cursor();

    // Restart bob from the same home.
    let restarted = Client::open(dir.path()).unwrap();
    net.clients[bob] = restarted;
    net.clients[bob].set_clock(Box::new(net.bus.clock.clone()));
    assert_eq!(net.clients[bob].client_id(), &bob_id);
    assert_eq!(net.clients[bob].cursor(), cursor);
    let r = net.clients[bob].room(&room).unwrap();
    assert_eq!(r.epoch_authenticator(), authenticator);
    assert_eq!(r.history().len(), 1);

    // It keeps receiving commits and messages, and can send.
    let carol = net.client("mimi://c.example/d/carol/phone");
    net.add(alice, &[carol]);
    net.send(alice, "after restart");
    let events = net.sync(bob);
    let got: Vec<&RoomEvent> = events
        .iter()
        .filter(|e| matches!(e, RoomEvent::Message(_)))
        .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(text_of(got[0]), "after restart");
    net.send(bob, "bob is back");
    net.sync_all();
    net.assert_agree(&[alice, bob, carol]);
    // The resumable cursor points past the last processed event.
    assert_eq!(
        net.clients[bob].cursor(),
        Some(net.bus.log.len() as u64 - 1)
    );
    drop(net);
    let reopened = Client::open(dir.path()).unwrap();
    assert_eq!(reopened.room(&room).unwrap().history().len(), 3);
}

#[test]
fn every_content_kind_passes_receiver_checks() {
    use mimi_content::{
        Disposition, EncryptedAttachment, Expiration, MessageStatusReport, NestedPart,
    };
    let (mut net, alice, bob, room) = Net::alice_and_bob();
    let first = net.send(alice, "first");
    net.sync(bob);

    let file = EncryptedAttachment::encrypt(b"a small file", &mut rand::rngs::OsRng).unwrap();
    let build =
        |c: &Client, f: &dyn Fn(mimi_content::ContentBuilder) -> mimi_content::EncodedContent| {
            f(c.compose(&room).unwrap())
        };
    let mention = mimi_content::markdown::mention_link("@Bob", "mimi://b.example/u/bob").unwrap();
    let kinds: Vec<(&str, mimi_content::EncodedContent)> = vec![
        (
            "plain",
            build(&net.clients[bob], &|b| b.plain("plain text").unwrap()),
        ),
        (
            "mention",
            build(&net.clients[bob], &|b| {
                b.markdown(&format!("hi {mention}")).unwrap()
            }),
        ),
        (
            "reply",
            build(&net.clients[bob], &|b| b.reply(first, "a reply").unwrap()),
        ),
        (
            "reaction",
            build(&net.clients[bob], &|b| b.reaction(first, "👍").unwrap()),
        ),
        (
            "expiring",
            build(&net.clients[bob], &|b| {
                b.expires(Expiration::after_reading(60))
                    .markdown("gone soon")
                    .unwrap()
            }),
        ),
        (
            "attachment",
            build(&net.clients[bob], &|b| {
                b.build(NestedPart::external(
                    Disposition::ATTACHMENT,
                    file.external_part("https://files.b.example/1", "application/pdf"),
                ))
                .unwrap()
            }),
        ),
        (
            "topic",
            build(&net.clients[bob], &|b| {
                b.topic(b"release".to_vec()).markdown("new topic").unwrap()
            }),
        ),
        (
            "status",
            build(&net.clients[bob], &|b| {
                b.status_report(&MessageStatusReport::read([first]))
                    .unwrap()
            }),
        ),
    ];
    let mut ids = Vec::new();
    for (name, content) in kinds {
        ids.push((name, content.message_id));
        let out = net.clients[bob].send(&room, content).unwrap();
        net.message(&out);
    }
    // Bob edits his reply, unlikes his reaction and deletes his plain text.
    let id = |name: &str| ids.iter().find(|(n, _)| *n == name).unwrap().1;
    let edit = net.clients[bob]
        .compose(&room)
        .unwrap()
        .in_reply_to(first)
        .edit(id("reply"), NestedPart::plain("an edited reply"))
        .unwrap();
    let unlike = net.clients[bob]
        .compose(&room)
        .unwrap()
        .unlike(id("reaction"), first)
        .unwrap();
    let delete = net.clients[bob]
        .compose(&room)
        .unwrap()
        .delete(id("plain"))
        .unwrap();
    for content in [edit, unlike, delete] {
        let out = net.clients[bob].send(&room, content).unwrap();
        net.message(&out);
    }
    let events = net.sync(alice);
    let discarded: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, RoomEvent::Discarded { .. }))
        .collect();
    assert!(discarded.is_empty(), "{discarded:?}");
    assert_eq!(messages(&events).len(), 11);
    assert!(
        messages(&events)
            .iter()
            .all(|m| matches!(m.frank, FrankStatus::Verified(_)))
    );
}

#[test]
fn a_batch_stops_at_the_first_failing_event_and_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let bob_id = ClientId::parse("mimi://b.example/d/bob/laptop").unwrap();
    let bob = net.add_client(Client::create(dir.path(), bob_id).unwrap());
    net.create(alice, Preset::PrivateGroup);
    net.add(alice, &[bob]);
    let room = net.room();
    let start = net.cursors[bob];
    net.send(alice, "one");
    net.send(alice, "two");
    let carol = net.client("mimi://c.example/d/carol/phone");
    let carol_user = net.user(carol);
    let kp = net.kp(carol);
    let out = net.clients[alice]
        .add_user(&room, &carol_user, None, vec![kp])
        .unwrap();
    net.commit(alice, &out);
    net.send(alice, "three");
    // Bob's backlog: two messages, then the message of the epoch after a
    // commit he skips (events are missing).
    let log = net.bus.log.clone();
    let backlog: Vec<(u64, RawFanoutMessage)> = vec![
        (1, log[start].clone()),
        (2, log[start + 1].clone()),
        (3, log[log.len() - 1].clone()),
    ];
    let processed = net.clients[bob].process_batch(backlog).unwrap();
    assert_eq!(messages(&processed.events).len(), 2);
    let (at, err) = processed.error.unwrap();
    assert_eq!(at, 3);
    assert!(matches!(err, ClientError::Mls(_)), "{err}");
    assert_eq!(net.clients[bob].cursor(), Some(2));
    drop(net);
    let reopened = Client::open(dir.path()).unwrap();
    assert_eq!(reopened.cursor(), Some(2));
    assert_eq!(reopened.room(&room).unwrap().history().len(), 2);
}

#[test]
fn a_self_update_gives_us_a_fresh_leaf_that_every_member_merges() {
    let (mut net, alice, bob, room) = Net::alice_and_bob();
    // Bob's leaf as `viewer` sees it, and the viewer's epoch.
    let bob_leaf = |net: &Net, viewer: usize| {
        let bob_index = net.clients[bob]
            .room(&room)
            .unwrap()
            .group()
            .own_leaf_index();
        let r = net.clients[viewer].room(&room).unwrap();
        let key = r
            .group()
            .members()
            .find(|m| m.index == bob_index)
            .unwrap()
            .encryption_key;
        (r.epoch(), key)
    };
    let (epoch, before) = bob_leaf(&net, bob);

    let out = net.clients[bob].self_update(&room).unwrap();
    assert!(matches!(
        net.commit(bob, &out),
        UpdateOutcome::Success { .. }
    ));
    let events = net.sync(alice);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RoomEvent::Committed { epoch: e, .. } if *e == epoch + 1)),
        "{events:?}"
    );
    net.sync_all();
    net.assert_agree(&[alice, bob]);
    let (now, after) = bob_leaf(&net, bob);
    assert_eq!(now, epoch + 1);
    assert_ne!(after, before, "the self-update replaced bob's leaf key");
    // Alice sees bob's new leaf too.
    assert_eq!(bob_leaf(&net, alice), (now, after));
}

#[test]
fn a_removed_client_reports_the_last_epoch_it_was_a_member_of() {
    let mut net = Net::new();
    let alice = net.client("mimi://a.example/d/alice/phone");
    let carol = net.client("mimi://c.example/d/carol/phone");
    net.create(alice, Preset::PrivateGroup);
    net.add(alice, &[carol]);
    let room = net.room();
    let (epoch, authenticator) = {
        let r = net.clients[carol].room(&room).unwrap();
        (r.epoch(), r.epoch_authenticator().to_vec())
    };
    assert_eq!(
        net.clients[carol].room(&room).unwrap().member_epoch(),
        epoch
    );

    let user = net.user(carol);
    let out = net.clients[alice].kick(&room, &user).unwrap();
    net.commit(alice, &out);
    net.sync_all();
    let r = net.clients[carol].room(&room).unwrap();
    assert_eq!(r.status(), RoomStatus::Removed);
    assert_eq!(r.epoch(), epoch + 1, "the removing commit's epoch");
    assert_eq!(r.member_epoch(), epoch);
    assert_eq!(r.epoch_authenticator(), authenticator.as_slice());
    let a = net.clients[alice].room(&room).unwrap();
    assert_ne!(a.epoch_authenticator(), authenticator.as_slice());
}
