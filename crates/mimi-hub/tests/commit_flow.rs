//! The hub's commit and proposal pipeline with real OpenMLS clients and the
//! room policy, in-process.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

mod support;

use mimi_hub::{HubError, ProposalBundle, Room};
use mimi_mls::OutgoingCommit;
use mimi_mls::member::{export_for_hub, join_external};
use mimi_policy::{Actor, Change, Claims, Preset, Proposal as PolicyProposal};
use mimi_proto::messages::RawFanoutMessage;
use mimi_proto::{ProviderId, RoomId};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    AppDataDictionary, MlsMessageBodyIn, MlsMessageIn, ProcessedMessageContent, RatchetTreeIn,
};
use openmls_traits::OpenMlsProvider as _;
use support::*;

const MEMBER: u32 = 2;

#[test]
fn follower_user_is_added_and_welcome_goes_only_to_its_provider() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let (kp, kp_ref) = bob.key_package();
    w.room
        .record_key_packages(&ProviderId::from_domain("b.example").unwrap(), [kp_ref]);
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![kp],
            app: vec![add_user(bob.user(), MEMBER)],
            ..Default::default()
        },
        Vec::new(),
    );
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    assert_eq!(accepted.epoch, 1);

    let mut commit_to = Vec::new();
    for d in &accepted.deliveries {
        match &d.event {
            RawFanoutMessage::Commit { .. } => commit_to.push(d.to.domain().to_owned()),
            RawFanoutMessage::Welcome { .. } => assert_eq!(d.to.domain(), "b.example"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(commit_to, ["a.example", "b.example"]);
    let (message, tree) = welcome_of(&accepted.deliveries);
    let bob_group = join(&bob, &message, &tree);

    // Hub, alice and bob agree on the epoch, the tree and the room state.
    assert_eq!(
        bob_group.epoch_authenticator().as_slice(),
        w.alice_group.epoch_authenticator().as_slice()
    );
    assert_eq!(
        w.room.public_group().group_context(),
        w.alice_group.public_group().group_context(),
        "the hub computed the same GroupContext (room state included) as the committer"
    );
    assert_eq!(w.room.committed_state().role_of(&bob.user()), Some(MEMBER));
    let MlsMessageBodyIn::GroupInfo(gi) = MlsMessageIn::tls_deserialize_exact(w.room.group_info())
        .unwrap()
        .extract()
    else {
        panic!("stored GroupInfo is not a GroupInfo")
    };
    assert_eq!(gi.epoch().as_u64(), 1);
}

#[test]
fn a_member_cannot_add_and_an_unlisted_users_client_cannot_be_added() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut w, &bob);

    // Bob is a member: adding carol is refused with the rule that fired.
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let mut commit_as_bob = || {
        // Bob's client thinks it may; the hub's policy says no.
        let out = bob_group
            .commit_builder()
            .propose_adds(vec![carol.key_package().0])
            .load_psks(bob.provider.storage())
            .unwrap()
            .create_group_info(true)
            .build(
                bob.provider.rand(),
                bob.provider.crypto(),
                bob.identity.signer(),
                |_| true,
            )
            .unwrap()
            .stage_commit(&bob.provider)
            .unwrap()
            .into_contents();
        OutgoingCommit {
            commit: out.0,
            welcome: out.1.map(|x| {
                openmls::prelude::MlsMessageOut::from_welcome(
                    x,
                    openmls::prelude::ProtocolVersion::Mls10,
                )
            }),
            group_info: out.2.unwrap().into(),
        }
    };
    let out = commit_as_bob();
    let err = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap_err();
    assert!(matches!(err, HubError::Denied { .. }), "{err}");
    assert_eq!(err.update_code(), mimi_hub::UpdateCode::NotAllowed);
    assert_eq!(
        w.room.epoch(),
        1,
        "refused commits leave the room unchanged"
    );

    // Alice adds dave's client without listing dave: refused too.
    let dave = Client::new("mimi://c.example/d/dave/phone");
    w.alice_group
        .clear_pending_commit(w.alice.provider.storage())
        .unwrap();
    let out = w
        .alice_group
        .commit_builder()
        .propose_adds(vec![dave.key_package().0])
        .load_psks(w.alice.provider.storage())
        .unwrap()
        .create_group_info(true)
        .build(
            w.alice.provider.rand(),
            w.alice.provider.crypto(),
            w.alice.identity.signer(),
            |_| true,
        )
        .unwrap()
        .stage_commit(&w.alice.provider)
        .unwrap()
        .into_contents();
    let out = OutgoingCommit {
        commit: out.0,
        welcome: out.1.map(|x| {
            openmls::prelude::MlsMessageOut::from_welcome(
                x,
                openmls::prelude::ProtocolVersion::Mls10,
            )
        }),
        group_info: out.2.unwrap().into(),
    };
    let err = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap_err();
    assert!(matches!(err, HubError::Denied { .. }), "{err}");
    assert_eq!(w.room.epoch(), 1);
}

#[test]
fn concurrent_commits_first_wins_others_get_wrong_epoch() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut w, &bob);

    // Both commit on epoch 1: alice adds carol, bob updates his leaf.
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let from_alice = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![carol.key_package().0],
            app: vec![add_user(carol.user(), MEMBER)],
            ..Default::default()
        },
        Vec::new(),
    );
    let from_bob = self_update(&bob, &mut bob_group);

    w.room
        .accept_commit(&w.hub, bundle(&from_bob), NOW)
        .unwrap();
    let err = w
        .room
        .accept_commit(&w.hub, bundle(&from_alice), NOW)
        .unwrap_err();
    assert!(matches!(err, HubError::WrongEpoch { current: 2 }), "{err}");

    // Alice resyncs (processes bob's commit) and retries on the new epoch.
    w.alice_group
        .clear_pending_commit(w.alice.provider.storage())
        .unwrap();
    process_commit(&w.alice, &mut w.alice_group, &from_bob);
    let retry = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![carol.key_package().0],
            app: vec![add_user(carol.user(), MEMBER)],
            ..Default::default()
        },
        Vec::new(),
    );
    w.room.accept_commit(&w.hub, bundle(&retry), NOW).unwrap();
    assert_eq!(w.room.epoch(), 3);
}

#[test]
fn stale_group_info_is_refused_and_room_unchanged() {
    let mut w = world(Preset::PrivateGroup);
    let old_group_info = w.room.group_info().to_vec();
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![bob.key_package().0],
            app: vec![add_user(bob.user(), MEMBER)],
            ..Default::default()
        },
        Vec::new(),
    );
    let mut b = bundle(&out);
    b.group_info = MlsMessageIn::tls_deserialize_exact(&old_group_info).unwrap();
    let err = w.room.accept_commit(&w.hub, b, NOW).unwrap_err();
    assert!(matches!(err, HubError::Malformed(_)), "{err}");
    assert_eq!(w.room.epoch(), 0);
    assert_eq!(w.room.group_info(), old_group_info);
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    assert_eq!(w.room.epoch(), 1);
}

/// A GroupInfo whose signature was tampered with (say, by a relaying
/// follower) is never served: the commit itself is valid and accepted, but
/// external joins are refused until the next commit brings a good GroupInfo.
/// The unverified mark survives a snapshot.
#[test]
fn a_group_info_with_a_bad_signature_is_never_served() {
    let mut w = world(Preset::PrivateGroup);
    let out = self_update(&w.alice, &mut w.alice_group);
    let mut b = bundle(&out);
    let mut bytes = b.group_info.tls_serialize_detached().unwrap();
    // The signature is the last field: flip its last byte.
    *bytes.last_mut().unwrap() ^= 1;
    b.group_info = MlsMessageIn::tls_deserialize_exact(&bytes).unwrap();
    w.room.accept_commit(&w.hub, b, NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    assert_eq!(w.room.epoch(), 1);

    let mut w_room = Room::restore(&w.hub, &w.room.snapshot().unwrap()).unwrap();
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let ask = |room: &mut Room, hub: &mimi_hub::Hub| {
        room.join_material(
            hub.crypto(),
            tablet.identity.client(),
            &Claims::basic(tablet.user()),
            tablet.identity.signer().public(),
            None,
        )
    };
    for room in [&mut w.room, &mut w_room] {
        let err = ask(room, &w.hub).unwrap_err();
        assert!(matches!(err, HubError::GroupInfoUnverified), "{err}");
    }

    // The next commit's GroupInfo is good: joins work again.
    let out = self_update(&w.alice, &mut w.alice_group);
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    let material = ask(&mut w.room, &w.hub).unwrap();
    assert_eq!(material.group_info, w.room.group_info());
}

#[test]
fn room_creation_requires_the_hub_and_a_valid_room_state() {
    let w = world(Preset::PrivateGroup);
    let other_hub =
        mimi_hub::HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
    let make = |name: &str, sender, dictionary| {
        let alice = Client::new("mimi://a.example/d/alice/phone");
        let room_id = RoomId::parse(&format!("mimi://a.example/r/{name}")).unwrap();
        let group = mimi_mls::member::create_group(
            &alice.provider,
            &alice.identity,
            &room_id,
            sender,
            dictionary,
        )
        .unwrap();
        let (gi, tree) = export_for_hub(&alice.provider, &alice.identity, &group).unwrap();
        Room::create(
            &w.hub,
            room_id,
            alice.identity.client(),
            wire(&gi),
            RatchetTreeIn::from(tree),
            None,
            NOW,
        )
    };
    let err = make("x", other_hub.external_sender(), AppDataDictionary::new()).unwrap_err();
    assert!(
        matches!(err, HubError::Malformed(m) if m.contains("external_senders")),
        "{err}"
    );
    // The right hub, but a room state without roles or participants: refused.
    let err = make(
        "y",
        w.hub.keys().external_sender(),
        AppDataDictionary::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, HubError::Denied { .. } | HubError::NotAllowed(_)),
        "{err}"
    );
}

#[test]
fn snapshot_restores_a_room_that_keeps_accepting() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let _bob_group = add_bob(&mut w, &bob);

    let bytes = w.room.snapshot().unwrap();
    assert_eq!(
        bytes,
        w.room.snapshot().unwrap(),
        "snapshots are deterministic"
    );
    let mut restored = Room::restore(&w.hub, &bytes).unwrap();
    assert_eq!(restored.epoch(), 1);
    assert_eq!(restored.group_info(), w.room.group_info());
    assert_eq!(
        restored.committed_state().role_of(&bob.user()),
        Some(MEMBER)
    );

    let carol = Client::new("mimi://c.example/d/carol/phone");
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![carol.key_package().0],
            app: vec![add_user(carol.user(), MEMBER)],
            ..Default::default()
        },
        Vec::new(),
    );
    restored.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    assert_eq!(restored.epoch(), 2);

    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(
            Room::restore(&w.hub, &bytes[..cut]),
            Err(HubError::Internal(_))
        ));
    }
}

#[test]
fn leave_is_proposed_queued_and_must_be_committed() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut w, &bob);

    // Bob leaves: removal from the list (he is entry 1) + SelfRemove of his
    // client, as mimi clients leave: its sender's provider (with no other
    // member here) must still get the commit that removes it.
    let (list_msg, leave) = bob_leaves(&bob, &mut bob_group);
    let accepted = w
        .room
        .accept_proposals(
            &w.hub,
            ProposalBundle {
                proposal: wire(&list_msg),
                more: vec![wire(&leave)],
            },
            NOW,
        )
        .unwrap();
    assert_eq!(w.room.queued().len(), 2);
    assert_eq!(
        w.room.effective_state().role_of(&bob.user()),
        None,
        "bob is off the effective list"
    );
    assert_eq!(w.room.committed_state().role_of(&bob.user()), Some(MEMBER));
    let RawFanoutMessage::Proposal {
        message,
        more_proposals,
        ..
    } = &accepted.deliveries[0].event
    else {
        panic!("expected a proposal delivery")
    };
    assert_eq!(more_proposals.len(), 1);

    // Alice commits without them: refused.
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![carol.key_package().0],
            app: vec![add_user(carol.user(), MEMBER)],
            ..Default::default()
        },
        Vec::new(),
    );
    let err = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap_err();
    assert!(matches!(err, HubError::MissingQueuedProposals(2)), "{err}");
    w.alice_group
        .clear_pending_commit(w.alice.provider.storage())
        .unwrap();

    // Alice stores the fanned-out proposals and commits them by reference.
    let bob_actor = Actor::Client(bob.identity.client().clone());
    let mut by_ref = Vec::new();
    for m in std::iter::once(message).chain(more_proposals) {
        let protocol = MlsMessageIn::tls_deserialize_exact(m)
            .unwrap()
            .try_into_protocol_message()
            .unwrap();
        let ProcessedMessageContent::ProposalMessage(qp) = w
            .alice_group
            .process_message(&w.alice.provider, protocol)
            .unwrap()
            .into_content()
        else {
            panic!("expected a proposal")
        };
        let change = match qp.proposal() {
            openmls::messages::proposals::Proposal::SelfRemove => {
                Change::remove(bob.identity.client().clone())
            }
            openmls::messages::proposals::Proposal::AppDataUpdate(u) => {
                let openmls::messages::proposals::AppDataUpdateOperation::Update(b) = u.operation()
                else {
                    panic!()
                };
                Change::AppData(mimi_proto::components::AppDataUpdate {
                    component_id: mimi_proto::components::ComponentId(u.component_id()),
                    op: mimi_proto::components::AppDataUpdateOperation::Update(
                        b.as_slice().to_vec(),
                    ),
                })
            }
            other => panic!("unexpected {other:?}"),
        };
        by_ref.push(PolicyProposal::new(bob_actor.clone(), change));
        w.alice_group
            .store_pending_proposal(w.alice.provider.storage(), *qp)
            .unwrap();
    }
    let out = commit(&w.alice, &mut w.alice_group, Inline::default(), by_ref);
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    assert_eq!(w.room.epoch(), 2);
    assert!(w.room.queued().is_empty());
    assert_eq!(w.room.committed_state().role_of(&bob.user()), None);
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
    assert_eq!(
        w.room.public_group().group_context(),
        w.alice_group.public_group().group_context()
    );
    let _ = Claims::basic(bob.user());
}

#[test]
fn new_device_joins_by_external_commit_and_hub_removes_are_reissued() {
    let mut w = world_from(private_group_with_enforcer(), None);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let _bob_group = add_bob(&mut w, &bob);

    // The hub (the room's enforcer) proposes removing bob's lost laptop; then
    // alice's tablet joins externally before anyone commits that proposal.
    w.room
        .propose_remove(&w.hub, bob.identity.client(), NOW)
        .unwrap();
    assert_eq!(w.room.queued().len(), 1);
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let (mut tablet_group, out) = external_join(&mut w, &tablet);
    let accepted = w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    tablet_group.merge_pending_commit(&tablet.provider).unwrap();
    assert_eq!(w.room.epoch(), 2);
    assert_eq!(w.room.members().count(), 3);

    // The hub's Remove was re-issued in the new epoch and stapled to the commit.
    assert_eq!(w.room.queued().len(), 1);
    let RawFanoutMessage::Commit {
        external_proposals, ..
    } = &accepted.deliveries[0].event
    else {
        panic!("expected the commit first")
    };
    assert_eq!(external_proposals.len(), 1);
    assert_eq!(external_proposals[0], w.room.queued()[0].message);

    // Alice processes the external commit, then commits the re-issued Remove.
    process_commit(&w.alice, &mut w.alice_group, &out);
    let removal = MlsMessageIn::tls_deserialize_exact(&external_proposals[0])
        .unwrap()
        .try_into_protocol_message()
        .unwrap();
    let ProcessedMessageContent::ProposalMessage(qp) = w
        .alice_group
        .process_message(&w.alice.provider, removal)
        .unwrap()
        .into_content()
    else {
        panic!("expected a proposal")
    };
    w.alice_group
        .store_pending_proposal(w.alice.provider.storage(), *qp)
        .unwrap();
    let hub_actor = Actor::Server {
        sender_index: 0,
        claims: Claims::basic(w.hub.keys().identity().into()),
    };
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline::default(),
        vec![PolicyProposal::new(
            hub_actor,
            Change::remove(bob.identity.client().clone()),
        )],
    );
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    w.alice_group
        .merge_pending_commit(&w.alice.provider)
        .unwrap();
    assert_eq!(w.room.members().count(), 2, "bob's laptop is gone");
    assert_eq!(
        w.room.committed_state().role_of(&bob.user()),
        Some(MEMBER),
        "kicked, still listed"
    );
}

#[test]
fn external_commit_without_a_group_info_request_is_refused() {
    let mut w = world(Preset::PrivateGroup);
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let material = ask_join_material(&mut w, &tablet).unwrap();
    let phone = Client::new("mimi://a.example/d/alice/phone2");
    let join = |c: &Client| join_from(c, &material).1;
    let err = w
        .room
        .accept_commit(&w.hub, bundle(&join(&phone)), NOW)
        .unwrap_err();
    assert!(
        matches!(err, HubError::NotAllowed(ref m) if m.contains("did not request")),
        "{err}"
    );
    assert_eq!(w.room.epoch(), 0);
    w.room
        .accept_commit(&w.hub, bundle(&join(&tablet)), NOW)
        .unwrap();
    assert_eq!(w.room.epoch(), 1);

    // A user who is not listed cannot even get the GroupInfo of a private group.
    let stranger = Client::new("mimi://c.example/d/eve/phone");
    let err = ask_join_material(&mut w, &stranger).unwrap_err();
    assert!(matches!(err, HubError::Denied { .. }), "{err}");
}

#[test]
fn group_info_endpoint_encrypts_to_the_joiner_and_authorizes_it() {
    use mimi_proto::messages::{
        GroupInfoRatchetTreeTbe, GroupInfoRequestTbs, GroupInfoResponse, RatchetTreeOption,
    };
    use mimi_proto::mls_profile::CIPHERSUITE;
    use openmls::prelude::OpenMlsCrypto as _;

    let mut w = world(Preset::PrivateGroup);
    let request_for = |c: &Client| {
        let keys = c
            .provider
            .crypto()
            .derive_hpke_keypair(CIPHERSUITE.hpke_config(), &[7; 32])
            .unwrap();
        let request = GroupInfoRequestTbs {
            cipher_suite: CIPHERSUITE,
            requesting_signature_key: c.identity.signer().to_public_vec().into(),
            requesting_credential: c.identity.credential_with_key().credential,
            group_info_public_key: keys.public.clone().into(),
            joining_code: Vec::new(),
        }
        .sign(c.identity.signer())
        .unwrap();
        (request, keys.private)
    };

    // A stranger is told notAuthorized.
    let eve = Client::new("mimi://c.example/d/eve/phone");
    let (request, _) = request_for(&eve);
    assert!(matches!(
        w.room.answer_group_info(&w.hub, &request).unwrap(),
        GroupInfoResponse::NotAuthorized { .. }
    ));

    // Alice's tablet gets the GroupInfo, decrypts it and joins.
    let tablet = Client::new("mimi://a.example/d/alice/tablet");
    let (request, private) = request_for(&tablet);
    let GroupInfoResponse::Success { tbs, signature } =
        w.room.answer_group_info(&w.hub, &request).unwrap()
    else {
        panic!("expected success")
    };
    tbs.verify(tablet.provider.crypto(), &signature).unwrap();
    assert_eq!(tbs.hub_sender, w.hub.keys().external_sender());
    let tbe = GroupInfoRatchetTreeTbe::decrypt(
        tablet.provider.crypto(),
        CIPHERSUITE,
        private.as_ref(),
        w.room.id(),
        &tbs.encrypted_groupinfo_and_tree,
    )
    .unwrap();
    let RatchetTreeOption::Full(tree) = tbe.ratchet_tree_option else {
        panic!("expected the full tree")
    };
    let (mut group, out) =
        join_external(&tablet.provider, &tablet.identity, *tbe.group_info, tree).unwrap();
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    group.merge_pending_commit(&tablet.provider).unwrap();
    assert_eq!(
        w.room.public_group().group_context(),
        group.public_group().group_context()
    );

    // A forged request (signature over other bytes) is malformed.
    let (mut forged, _) = request_for(&tablet);
    forged.tbs.joining_code = b"x".to_vec();
    assert!(matches!(
        w.room.answer_group_info(&w.hub, &forged),
        Err(HubError::Malformed(_))
    ));
}
