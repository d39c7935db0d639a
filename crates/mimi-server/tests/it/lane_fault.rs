//! A commit the hub fails after staging changes nothing on the server: the
//! lane's cached room and the stored room stay as they were, and the same
//! commit is then accepted and fanned out (issue #15, decisions HUB-8,
//! FED-16).
//!
//! The hub's fault points (`mimi_hub::fault`, feature `fault-injection`, on
//! for this crate's tests only) can be armed only in the process that runs
//! the hub, so the two servers run in this test's process
//! (`mimi_server::start`), over real mutual TLS with real OpenMLS clients.
//! Faults are armed per room, so other tests in this binary are not touched.

use mimi_hub::fault::{self, Fault};
use mimi_policy::Preset;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::{RawFanoutMessage, UpdateOutcome, UpdateRoomResponse};
use mimi_proto::{ProviderId, RoomId, WireMessage as _};
use mimi_server::{Config, Running};
use openmls::prelude::tls_codec::Serialize as _;

use crate::common::{Federation, PATIENCE, User, update_body};

async fn start(fed: &Federation, domain: &str, peers: &[(&str, std::net::SocketAddr)]) -> Running {
    let config = Config {
        peers: peers.iter().map(|(d, a)| ((*d).to_owned(), *a)).collect(),
        ..fed.config(domain, &format!("{domain}-lane-fault"))
    };
    mimi_server::start(&config, mimi_server::Options::default())
        .await
        .unwrap()
}

async fn register(server: &Running, user: &User) {
    let cwk = user.client.identity().credential_with_key();
    server
        .state()
        .register_client(
            &user.id,
            cwk.credential.tls_serialize_detached().unwrap(),
            cwk.signature_key.as_slice().to_vec(),
        )
        .await
        .unwrap();
}

/// The room as the hub's store holds it: its version and snapshot bytes.
async fn stored(hub: &Running, room: &RoomId) -> (mimi_store::RoomVersion, Vec<u8>) {
    let store = hub.state().store();
    let mut txn = store.lock_room(room).await.unwrap();
    let snapshot = txn.snapshot().await.unwrap();
    let version = txn.version();
    txn.rollback().await.unwrap();
    assert_eq!(store.room_version(room).await.unwrap(), version);
    (version, snapshot.mls_state)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_the_hub_fails_after_staging_leaves_cache_and_store_unchanged() {
    let fed = Federation::new();
    let a = start(&fed, "a.example", &[]).await;
    let b = start(&fed, "b.example", &[("a.example", a.federation_addr)]).await;
    a.state().set_peer("b.example", b.federation_addr).unwrap();
    let a_id = ProviderId::from_domain("a.example").unwrap();

    // Bob (b.example) creates the room on hub a.example; he adds Carol, a
    // client of the hub's own provider (her Welcome goes to a.example).
    let mut bob = User::new("mimi://b.example/d/bob/laptop");
    let mut carol = User::new("mimi://a.example/d/carol/phone");
    register(&b, &bob).await;
    register(&a, &carol).await;
    let room = RoomId::parse("mimi://a.example/r/lane-fault").unwrap();
    let created = bob
        .client
        .create_room(
            &room,
            Preset::PrivateGroup,
            a.state().keys().external_sender(),
        )
        .unwrap();
    a.state()
        .create_room(
            &room,
            &bob.id,
            &created.group_info.tls_serialize_detached().unwrap(),
            &created.ratchet_tree.tls_serialize_detached().unwrap(),
            Some(Preset::PrivateGroup),
        )
        .await
        .unwrap();
    b.state().add_member(&room, &bob.id).await.unwrap();

    // Published on a.example, so the hub's provider knows whose Welcome it is.
    let key_packages = carol.client.key_packages(1).unwrap();
    let published: Vec<_> = key_packages
        .iter()
        .map(|kp| kp.tls_serialize_detached().unwrap())
        .collect();
    a.state()
        .publish_key_packages(&carol.id, &published)
        .await
        .unwrap();
    let out = bob
        .client
        .add_user(&room, &carol.user_id(), None, key_packages)
        .unwrap();
    let target = PathTarget::Room(room.clone());
    let update = || {
        b.state()
            .peer_client()
            .post(&a_id, Endpoint::Update, &target, update_body(&out))
    };

    // The first request restores the room and leaves it cached; each failed
    // one puts the room back in the cache at the same version. Had the hub
    // changed the room before failing, the cache would hold the next epoch
    // under the old version and the final retry would be refused.
    let before = stored(&a, &room).await;
    for point in [Fault::Staged, Fault::Merged, Fault::TreeBytes] {
        fault::arm(&room, point, 0);
        let answer = update().await.unwrap();
        assert_eq!(
            answer.status.as_u16(),
            500,
            "a failure at {point:?} is refused: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(
            stored(&a, &room).await,
            before,
            "the store after a failure at {point:?}"
        );
    }
    assert!(
        a.state()
            .store()
            .mailbox(&carol.id, 0, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was fanned out"
    );

    // Unarmed, the same commit is accepted, stored and fanned out: Carol
    // finds her Welcome in her mailbox on the hub and joins.
    let mut wakes = a.state().store().subscribe();
    let answer = update().await.unwrap();
    assert_eq!(answer.status.as_u16(), 200);
    let response = UpdateRoomResponse::decode(&answer.body).unwrap();
    assert!(
        matches!(response.outcome, UpdateOutcome::Success { .. }),
        "{:?}",
        response.outcome
    );
    bob.client
        .commit_answered(&room, &response.outcome)
        .unwrap();
    let (version, snapshot) = stored(&a, &room).await;
    assert!(version > before.0, "{version:?} after {:?}", before.0);
    assert_ne!(snapshot, before.1);

    let entries = tokio::time::timeout(PATIENCE, async {
        loop {
            let entries = a.state().store().mailbox(&carol.id, 0, 10).await.unwrap();
            if !entries.is_empty() {
                return entries;
            }
            wakes.recv().await.unwrap();
        }
    })
    .await
    .expect("carol's Welcome is fanned out");
    let mut joined = false;
    for entry in entries {
        let event = RawFanoutMessage::decode(&entry.payload).unwrap();
        joined |= !carol.client.process(event).unwrap().is_empty();
    }
    assert!(joined, "carol processed her Welcome");
    let carol_room = carol.client.rooms().find(|r| r.id() == &room).unwrap();
    assert_eq!(carol_room.epoch(), 1);

    a.shutdown().await;
    b.shutdown().await;
}
