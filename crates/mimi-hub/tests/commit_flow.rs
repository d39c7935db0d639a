//! The hub's commit pipeline with real OpenMLS clients, in-process.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

use mimi_client::Identity;
use mimi_client::room::{
    OutgoingCommit, add_members, commit_pending, create_group, export_for_hub, join_config,
    join_external,
};
use mimi_hub::{CommitBundle, Event, HubError, HubKeys, ProposalBundle, Room};
use mimi_proto::{ClientId, ProviderId, RoomId};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    AppDataDictionary, MlsGroup, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut,
    ProcessedMessageContent, RatchetTreeIn, StagedWelcome,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;

struct Client {
    provider: OpenMlsRustCrypto,
    identity: Identity,
}

impl Client {
    fn new(uri: &str) -> Self {
        Self {
            provider: OpenMlsRustCrypto::default(),
            identity: Identity::generate(ClientId::parse(uri).unwrap()).unwrap(),
        }
    }
}

fn wire(m: &MlsMessageOut) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(m.tls_serialize_detached().unwrap()).unwrap()
}

fn bundle(out: &OutgoingCommit) -> CommitBundle {
    CommitBundle {
        commit: wire(&out.commit),
        welcome: out.welcome.as_ref().map(wire),
        group_info: wire(&out.group_info),
    }
}

fn key_package_ref(client: &Client) -> (openmls::prelude::KeyPackage, Vec<u8>) {
    let kp = client.identity.key_package(&client.provider).unwrap();
    let r = kp
        .hash_ref(client.provider.crypto())
        .unwrap()
        .tls_serialize_detached()
        .unwrap();
    (kp, r)
}

struct Setup {
    hub: HubKeys,
    room: Room,
    alice: Client,
    alice_group: MlsGroup,
}

fn setup() -> Setup {
    let hub = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
    let alice = Client::new("mimi://a.example/d/alice/phone");
    let room_id = RoomId::parse("mimi://a.example/r/clubhouse").unwrap();
    let mut dictionary = AppDataDictionary::new();
    dictionary.insert(0x8123, b"room state".to_vec());
    let alice_group = create_group(
        &alice.provider,
        &alice.identity,
        &room_id,
        hub.external_sender(),
        dictionary,
    )
    .unwrap();
    let (gi, tree) = export_for_hub(&alice.provider, &alice.identity, &alice_group).unwrap();
    let room = Room::create(
        alice.provider.crypto(),
        &hub,
        room_id,
        alice.identity.client(),
        wire(&gi),
        RatchetTreeIn::from(tree),
    )
    .unwrap();
    Setup {
        hub,
        room,
        alice,
        alice_group,
    }
}

fn join(client: &Client, welcome: &[u8], tree: &[u8]) -> MlsGroup {
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

#[test]
fn follower_user_is_added_and_welcome_goes_only_to_its_provider() {
    let Setup {
        hub,
        mut room,
        alice,
        mut alice_group,
    } = setup();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let (kp, kp_ref) = key_package_ref(&bob);
    room.record_key_packages(&ProviderId::from_domain("b.example").unwrap(), [kp_ref]);

    let out = add_members(&alice.provider, &alice.identity, &mut alice_group, vec![kp]).unwrap();
    let accepted = room
        .accept_commit(alice.provider.crypto(), &hub, bundle(&out), 1000)
        .unwrap();
    alice_group.merge_pending_commit(&alice.provider).unwrap();
    assert_eq!(accepted.epoch, 1);

    // The commit goes to every provider with members (a.example local, b.example),
    // the Welcome only to b.example, with the new epoch's tree.
    let mut commit_to = Vec::new();
    let mut welcome = None;
    for d in &accepted.deliveries {
        match &d.event {
            Event::Commit { .. } => commit_to.push(d.to.domain().to_owned()),
            Event::Welcome {
                message,
                ratchet_tree,
                ..
            } => {
                assert_eq!(d.to.domain(), "b.example");
                welcome = Some((message.clone(), ratchet_tree.clone()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(commit_to, ["a.example", "b.example"]);
    let (message, tree) = welcome.expect("a Welcome for bob");
    let bob_group = join(&bob, &message, &tree);

    // Hub, alice and bob agree on the epoch and the tree.
    assert_eq!(
        bob_group.epoch_authenticator().as_slice(),
        alice_group.epoch_authenticator().as_slice()
    );
    assert_eq!(
        room.public_group().group_context().tree_hash(),
        alice_group.public_group().group_context().tree_hash()
    );
    // The hub now serves the new epoch's GroupInfo to external joiners.
    let MlsMessageBodyIn::GroupInfo(gi) = MlsMessageIn::tls_deserialize_exact(room.group_info())
        .unwrap()
        .extract()
    else {
        panic!("stored GroupInfo is not a GroupInfo")
    };
    assert_eq!(gi.epoch().as_u64(), 1);
}

#[test]
fn concurrent_commits_first_wins_others_get_wrong_epoch() {
    let Setup {
        hub,
        mut room,
        alice,
        mut alice_group,
    } = setup();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let (kp, _) = key_package_ref(&bob);
    let out = add_members(&alice.provider, &alice.identity, &mut alice_group, vec![kp]).unwrap();
    let accepted = room
        .accept_commit(alice.provider.crypto(), &hub, bundle(&out), 1)
        .unwrap();
    alice_group.merge_pending_commit(&alice.provider).unwrap();
    let welcome = accepted
        .deliveries
        .iter()
        .find_map(|d| match &d.event {
            Event::Welcome {
                message,
                ratchet_tree,
                ..
            } => Some((message.clone(), ratchet_tree.clone())),
            _ => None,
        })
        .unwrap();
    let mut bob_group = join(&bob, &welcome.0, &welcome.1);

    // Both members commit on epoch 1.
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let dave = Client::new("mimi://c.example/d/dave/phone");
    let from_alice = add_members(
        &alice.provider,
        &alice.identity,
        &mut alice_group,
        vec![key_package_ref(&carol).0],
    )
    .unwrap();
    let from_bob = add_members(
        &bob.provider,
        &bob.identity,
        &mut bob_group,
        vec![key_package_ref(&dave).0],
    )
    .unwrap();
    room.accept_commit(alice.provider.crypto(), &hub, bundle(&from_bob), 2)
        .unwrap();
    let err = room
        .accept_commit(alice.provider.crypto(), &hub, bundle(&from_alice), 3)
        .unwrap_err();
    assert!(matches!(err, HubError::WrongEpoch { current: 2 }), "{err}");
    assert_eq!(room.epoch(), 2);
}

#[test]
fn stale_or_forged_group_info_is_refused_and_room_unchanged() {
    let Setup {
        hub,
        mut room,
        alice,
        mut alice_group,
    } = setup();
    let old_group_info = room.group_info().to_vec();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let out = add_members(
        &alice.provider,
        &alice.identity,
        &mut alice_group,
        vec![key_package_ref(&bob).0],
    )
    .unwrap();
    let mut b = bundle(&out);
    b.group_info = MlsMessageIn::tls_deserialize_exact(&old_group_info).unwrap();
    let err = room
        .accept_commit(alice.provider.crypto(), &hub, b, 1)
        .unwrap_err();
    assert!(matches!(err, HubError::Malformed(_)), "{err}");
    assert_eq!(
        room.epoch(),
        0,
        "a refused commit leaves the room unchanged"
    );
    assert_eq!(room.group_info(), old_group_info);
    // The same commit with its real GroupInfo is still acceptable afterwards.
    room.accept_commit(alice.provider.crypto(), &hub, bundle(&out), 2)
        .unwrap();
    assert_eq!(room.epoch(), 1);
}

#[test]
fn room_creation_requires_the_hub_as_external_sender() {
    let hub = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
    let other_hub = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
    let alice = Client::new("mimi://a.example/d/alice/phone");
    let room_id = RoomId::parse("mimi://a.example/r/clubhouse").unwrap();
    let group = create_group(
        &alice.provider,
        &alice.identity,
        &room_id,
        other_hub.external_sender(),
        AppDataDictionary::new(),
    )
    .unwrap();
    let (gi, tree) = export_for_hub(&alice.provider, &alice.identity, &group).unwrap();
    let err = Room::create(
        alice.provider.crypto(),
        &hub,
        room_id,
        alice.identity.client(),
        wire(&gi),
        RatchetTreeIn::from(tree),
    )
    .unwrap_err();
    assert!(
        matches!(err, HubError::Malformed(m) if m.contains("external_senders")),
        "{err}"
    );
}

#[test]
fn snapshot_restores_a_room_that_keeps_accepting() {
    let Setup {
        hub,
        mut room,
        alice,
        mut alice_group,
    } = setup();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let out = add_members(
        &alice.provider,
        &alice.identity,
        &mut alice_group,
        vec![key_package_ref(&bob).0],
    )
    .unwrap();
    room.accept_commit(alice.provider.crypto(), &hub, bundle(&out), 1)
        .unwrap();
    alice_group.merge_pending_commit(&alice.provider).unwrap();

    let bytes = room.snapshot().unwrap();
    assert_eq!(
        bytes,
        room.snapshot().unwrap(),
        "snapshots are deterministic"
    );
    let mut restored = Room::restore(&bytes).unwrap();
    assert_eq!(restored.epoch(), 1);
    assert_eq!(restored.group_info(), room.group_info());
    assert_eq!(restored.members().count(), 2);

    // The restored room validates the next commit like the original.
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let out = add_members(
        &alice.provider,
        &alice.identity,
        &mut alice_group,
        vec![key_package_ref(&carol).0],
    )
    .unwrap();
    restored
        .accept_commit(alice.provider.crypto(), &hub, bundle(&out), 2)
        .unwrap();
    assert_eq!(restored.epoch(), 2);

    // Corrupt snapshots are typed errors, not panics.
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(
            Room::restore(&bytes[..cut]),
            Err(HubError::Internal(_))
        ));
    }
}

/// Adds bob (b.example) to alice's room and returns bob's group.
fn add_bob(s: &mut Setup, bob: &Client) -> MlsGroup {
    let (kp, kp_ref) = key_package_ref(bob);
    s.room
        .record_key_packages(&ProviderId::from_domain("b.example").unwrap(), [kp_ref]);
    let out = add_members(
        &s.alice.provider,
        &s.alice.identity,
        &mut s.alice_group,
        vec![kp],
    )
    .unwrap();
    let accepted = s
        .room
        .accept_commit(s.alice.provider.crypto(), &s.hub, bundle(&out), 1)
        .unwrap();
    s.alice_group
        .merge_pending_commit(&s.alice.provider)
        .unwrap();
    let (message, tree) = accepted
        .deliveries
        .iter()
        .find_map(|d| match &d.event {
            Event::Welcome {
                message,
                ratchet_tree,
                ..
            } => Some((message.clone(), ratchet_tree.clone())),
            _ => None,
        })
        .unwrap();
    join(bob, &message, &tree)
}

#[test]
fn leave_proposal_is_queued_and_a_commit_omitting_it_is_refused() {
    let mut s = setup();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut s, &bob);

    // Bob leaves: a Remove proposal for his own client, relayed to the hub.
    let leave = bob_group
        .leave_group(&bob.provider, bob.identity.signer())
        .unwrap();
    let accepted = s
        .room
        .accept_proposals(
            bob.provider.crypto(),
            &s.hub,
            ProposalBundle {
                proposal: wire(&leave),
                more: Vec::new(),
            },
            5,
        )
        .unwrap();
    assert_eq!(s.room.queued().len(), 1);
    let fanned: Vec<_> = accepted
        .deliveries
        .iter()
        .map(|d| d.to.domain().to_owned())
        .collect();
    assert_eq!(fanned, ["a.example", "b.example"]);
    let Event::Proposal {
        message,
        more_proposals,
        ..
    } = &accepted.deliveries[0].event
    else {
        panic!("expected a proposal delivery")
    };
    assert!(more_proposals.is_empty());

    // Alice commits without it: refused, room unchanged.
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let out = add_members(
        &s.alice.provider,
        &s.alice.identity,
        &mut s.alice_group,
        vec![key_package_ref(&carol).0],
    )
    .unwrap();
    let err = s
        .room
        .accept_commit(s.alice.provider.crypto(), &s.hub, bundle(&out), 6)
        .unwrap_err();
    assert!(matches!(err, HubError::MissingQueuedProposals(1)), "{err}");
    assert_eq!(s.room.epoch(), 1);
    s.alice_group
        .clear_pending_commit(s.alice.provider.storage())
        .unwrap();

    // Alice processes the fanned-out proposal and commits it: accepted, and the
    // commit also goes to b.example so bob learns he is out.
    let protocol = MlsMessageIn::tls_deserialize_exact(message)
        .unwrap()
        .try_into_protocol_message()
        .unwrap();
    let processed = s
        .alice_group
        .process_message(&s.alice.provider, protocol)
        .unwrap();
    let ProcessedMessageContent::ProposalMessage(qp) = processed.into_content() else {
        panic!("expected a proposal")
    };
    s.alice_group
        .store_pending_proposal(s.alice.provider.storage(), *qp)
        .unwrap();
    let out = commit_pending(&s.alice.provider, &s.alice.identity, &mut s.alice_group).unwrap();
    let accepted = s
        .room
        .accept_commit(s.alice.provider.crypto(), &s.hub, bundle(&out), 7)
        .unwrap();
    s.alice_group
        .merge_pending_commit(&s.alice.provider)
        .unwrap();
    assert_eq!(s.room.epoch(), 2);
    assert!(s.room.queued().is_empty());
    assert_eq!(s.room.members().count(), 1);
    let to: Vec<_> = accepted
        .deliveries
        .iter()
        .map(|d| d.to.domain().to_owned())
        .collect();
    assert_eq!(
        to,
        ["a.example", "b.example"],
        "the removed member's provider gets the commit"
    );
}

fn external_join(s: &mut Setup, device: &Client) -> (MlsGroup, OutgoingCommit) {
    let material = s
        .room
        .join_material(device.identity.client(), device.identity.signer().public())
        .unwrap();
    let MlsMessageBodyIn::GroupInfo(gi) = MlsMessageIn::tls_deserialize_exact(&material.group_info)
        .unwrap()
        .extract()
    else {
        panic!("not a GroupInfo")
    };
    let tree = RatchetTreeIn::tls_deserialize_exact(&material.ratchet_tree).unwrap();
    join_external(&device.provider, &device.identity, gi, tree).unwrap()
}

#[test]
fn new_device_joins_by_external_commit_and_hub_removes_are_reissued() {
    let mut s = setup();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let _bob_group = add_bob(&mut s, &bob);

    // The hub proposes removing bob's (lost) laptop; then alice's tablet joins
    // externally before anyone commits that proposal.
    s.room
        .propose_remove(bob.provider.crypto(), &s.hub, bob.identity.client(), 10)
        .unwrap();
    assert_eq!(s.room.queued().len(), 1);
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let (mut tablet_group, out) = external_join(&mut s, &tablet);
    let accepted = s
        .room
        .accept_commit(tablet.provider.crypto(), &s.hub, bundle(&out), 11)
        .unwrap();
    tablet_group.merge_pending_commit(&tablet.provider).unwrap();
    assert_eq!(s.room.epoch(), 2);
    assert_eq!(s.room.members().count(), 3);

    // The hub's Remove was re-issued in the new epoch and stapled to the commit.
    assert_eq!(s.room.queued().len(), 1);
    let Event::Commit {
        external_proposals, ..
    } = &accepted.deliveries[0].event
    else {
        panic!("expected the commit first")
    };
    assert_eq!(external_proposals.len(), 1);
    assert_eq!(external_proposals[0], s.room.queued()[0].message);

    // Alice processes the external commit and then commits the re-issued Remove.
    let commit = MlsMessageIn::tls_deserialize_exact(out.commit.tls_serialize_detached().unwrap())
        .unwrap()
        .try_into_protocol_message()
        .unwrap();
    let processed = s
        .alice_group
        .process_message(&s.alice.provider, commit)
        .unwrap();
    let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
        panic!("expected a commit")
    };
    s.alice_group
        .merge_staged_commit(&s.alice.provider, *staged)
        .unwrap();
    let removal = MlsMessageIn::tls_deserialize_exact(&external_proposals[0])
        .unwrap()
        .try_into_protocol_message()
        .unwrap();
    let processed = s
        .alice_group
        .process_message(&s.alice.provider, removal)
        .unwrap();
    let ProcessedMessageContent::ProposalMessage(qp) = processed.into_content() else {
        panic!("expected a proposal")
    };
    s.alice_group
        .store_pending_proposal(s.alice.provider.storage(), *qp)
        .unwrap();
    let out = commit_pending(&s.alice.provider, &s.alice.identity, &mut s.alice_group).unwrap();
    s.room
        .accept_commit(s.alice.provider.crypto(), &s.hub, bundle(&out), 12)
        .unwrap();
    s.alice_group
        .merge_pending_commit(&s.alice.provider)
        .unwrap();
    assert_eq!(s.room.members().count(), 2, "bob's laptop is gone");
}

#[test]
fn external_commit_without_a_group_info_request_is_refused() {
    let mut s = setup();
    // The tablet asks for the GroupInfo; a phone reuses that material without
    // asking: its external commit is refused, the tablet's is accepted.
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let material = s
        .room
        .join_material(tablet.identity.client(), tablet.identity.signer().public())
        .unwrap();
    let phone = Client::new("mimi://a.example/d/alice/phone2");
    let join = |c: &Client| {
        let MlsMessageBodyIn::GroupInfo(gi) =
            MlsMessageIn::tls_deserialize_exact(&material.group_info)
                .unwrap()
                .extract()
        else {
            panic!("not a GroupInfo")
        };
        let tree = RatchetTreeIn::tls_deserialize_exact(&material.ratchet_tree).unwrap();
        join_external(&c.provider, &c.identity, gi, tree).unwrap().1
    };
    let err = s
        .room
        .accept_commit(phone.provider.crypto(), &s.hub, bundle(&join(&phone)), 1)
        .unwrap_err();
    assert!(
        matches!(err, HubError::NotAllowed(ref m) if m.contains("did not request")),
        "{err}"
    );
    assert_eq!(s.room.epoch(), 0);
    s.room
        .accept_commit(tablet.provider.crypto(), &s.hub, bundle(&join(&tablet)), 2)
        .unwrap();
    assert_eq!(s.room.epoch(), 1);
}
