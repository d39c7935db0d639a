//! Rooms: creation, the lock, accepted events, the proposal queue, routes, the state cache.

use mimi_proto::MimiUri;
use mimi_store::{
    AcceptedEvent, Conflict, EpochCache, EventKind, KeyPackageRoute, QueuedProposal, Record,
    RoomVersion, StateChange, StoreError,
};

use crate::common::{
    TestDb, at, create_room, followers, message, on_both_backends, provider, room,
};

on_both_backends!(
    room_lifecycle,
    refused_commits_write_nothing,
    key_package_routes,
    cache_trusts_only_the_locked_version,
);

fn proposal(tag: &str) -> QueuedProposal {
    QueuedProposal {
        proposal_ref: format!("pref:{tag}").into_bytes(),
        message: format!("proposal:{tag}").into_bytes(),
        accepted_at: at(5),
        sender: MimiUri::parse("mimi://b.example/d/bob/phone").unwrap(),
    }
}

fn queue_proposal(base: RoomVersion, tag: &str) -> AcceptedEvent {
    let mut event = AcceptedEvent::new(base, EventKind::Proposal, at(5));
    event.log_payload = format!("log:{tag}").into_bytes();
    event.change = StateChange::Update {
        mls_state: format!("mls+{tag}").into_bytes(),
        room_state: format!("state+{tag}").into_bytes(),
    };
    event.new_proposals = vec![proposal(tag)];
    event
}

fn commit_to(base: RoomVersion, epoch: u64) -> AcceptedEvent {
    let mut event = AcceptedEvent::new(base, EventKind::Commit, at(10));
    event.log_payload = format!("commit->{epoch}").into_bytes();
    event.change = StateChange::NewEpoch {
        epoch,
        mls_state: format!("mls@{epoch}").into_bytes(),
        group_info: format!("gi@{epoch}").into_bytes(),
        room_state: format!("state@{epoch}").into_bytes(),
    };
    event
}

async fn room_lifecycle(db: &TestDb) {
    let store = &db.store;
    let r = room("clubhouse");
    create_room(store, &r).await;
    assert!(matches!(
        store
            .create_room(&mimi_store::NewRoom {
                room: r.clone(),
                hub: provider("hub.example"),
                epoch: 0,
                mls_state: vec![],
                group_info: vec![],
                room_state: vec![],
                created_at: at(0),
            })
            .await,
        Err(StoreError::Conflict(Conflict::AlreadyExists(Record::Room)))
    ));
    assert!(matches!(
        store.lock_room(&room("nowhere")).await,
        Err(StoreError::NotFound(Record::Room))
    ));

    let v0 = RoomVersion {
        epoch: 0,
        revision: 0,
    };
    let mut txn = store.lock_room(&r).await.unwrap();
    assert_eq!(txn.version(), v0);
    assert_eq!(txn.hub(), &provider("hub.example"));
    let snap = txn.snapshot().await.unwrap();
    assert_eq!(snap.mls_state, b"mls@0");
    assert_eq!(snap.group_info, b"gi@0");
    assert_eq!(snap.room_state, b"state@0");
    assert!(snap.proposals.is_empty());
    let accepted = txn.commit(&queue_proposal(v0, "p1")).await.unwrap();
    let v1 = RoomVersion {
        epoch: 0,
        revision: 1,
    };
    assert_eq!((accepted.seq, accepted.version), (1, v1));

    // A second proposal in the same epoch queues behind the first.
    let txn = store.lock_room(&r).await.unwrap();
    let accepted = txn.commit(&queue_proposal(v1, "p2")).await.unwrap();
    let v2 = RoomVersion {
        epoch: 0,
        revision: 2,
    };
    assert_eq!((accepted.seq, accepted.version), (2, v2));

    let join = store.join_info(&r).await.unwrap();
    assert_eq!(join.version, v2);
    assert_eq!(join.group_info, b"gi@0");
    assert_eq!(join.proposals, vec![proposal("p1"), proposal("p2")]);

    let mut txn = store.lock_room(&r).await.unwrap();
    let snap = txn.snapshot().await.unwrap();
    assert_eq!(snap.mls_state, b"mls+p2");
    assert_eq!(snap.room_state, b"state+p2");
    // An application message changes no state: the version stays.
    let accepted = txn
        .commit(&message(v2, "hello", &followers()))
        .await
        .unwrap();
    assert_eq!((accepted.seq, accepted.version), (3, v2));

    // The commit opens epoch 1 and clears the queue.
    let txn = store.lock_room(&r).await.unwrap();
    let accepted = txn.commit(&commit_to(v2, 1)).await.unwrap();
    let v3 = RoomVersion {
        epoch: 1,
        revision: 3,
    };
    assert_eq!((accepted.seq, accepted.version), (4, v3));
    assert_eq!(store.room_version(&r).await.unwrap(), v3);
    let mut txn = store.lock_room(&r).await.unwrap();
    let snap = txn.snapshot().await.unwrap();
    assert_eq!(
        (snap.mls_state, snap.group_info, snap.room_state),
        (b"mls@1".to_vec(), b"gi@1".to_vec(), b"state@1".to_vec())
    );
    assert!(snap.proposals.is_empty());
    txn.rollback().await.unwrap();

    let log = store.room_events(&r, 0, 100).await.unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|e| (e.seq, e.epoch, e.kind, e.payload.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, 0, EventKind::Proposal, b"log:p1".to_vec()),
            (2, 0, EventKind::Proposal, b"log:p2".to_vec()),
            (3, 0, EventKind::Application, b"hello".to_vec()),
            (4, 1, EventKind::Commit, b"commit->1".to_vec()),
        ]
    );
    let tail = store.room_events(&r, 2, 1).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].seq, 3);
    assert_eq!(tail[0].accepted_at, at(1));
}

async fn refused_commits_write_nothing(db: &TestDb) {
    let store = &db.store;
    let r = room("clubhouse");
    create_room(store, &r).await;
    let v0 = RoomVersion {
        epoch: 0,
        revision: 0,
    };
    let stale = RoomVersion {
        epoch: 0,
        revision: 7,
    };

    let txn = store.lock_room(&r).await.unwrap();
    let refused = txn.commit(&commit_to(stale, 1)).await;
    assert!(matches!(
        refused,
        Err(StoreError::Conflict(Conflict::Stale { expected, actual })) if expected == stale && actual == v0
    ));

    let txn = store.lock_room(&r).await.unwrap();
    assert!(matches!(
        txn.commit(&commit_to(v0, 2)).await,
        Err(StoreError::InvalidInput(_))
    ));

    // A duplicate proposal ref fails the whole event, including its fan-out.
    let txn = store.lock_room(&r).await.unwrap();
    txn.commit(&queue_proposal(v0, "p1")).await.unwrap();
    let v1 = RoomVersion {
        epoch: 0,
        revision: 1,
    };
    let mut dup = queue_proposal(v1, "p1");
    dup.fanout = message(v1, "x", &followers()).fanout;
    let txn = store.lock_room(&r).await.unwrap();
    assert!(matches!(
        txn.commit(&dup).await,
        Err(StoreError::Conflict(Conflict::AlreadyExists(
            Record::Proposal
        )))
    ));

    // Dropping a transaction rolls back.
    {
        let _txn = store.lock_room(&r).await.unwrap();
    }
    // An event to an unknown local client fails as a whole.
    let mut to_ghost = message(v1, "ghost", &followers());
    to_ghost.local = vec![mimi_store::MailboxDelivery {
        client: crate::common::user("ghost").client("phone").unwrap(),
        room: Some(r.clone()),
        payload: vec![1],
    }];
    let txn = store.lock_room(&r).await.unwrap();
    assert!(matches!(
        txn.commit(&to_ghost).await,
        Err(StoreError::NotFound(Record::Client))
    ));

    assert_eq!(store.room_version(&r).await.unwrap(), v1);
    assert_eq!(store.room_events(&r, 0, 100).await.unwrap().len(), 1);
    assert_eq!(store.outbox_len().await.unwrap(), 0);
}

async fn key_package_routes(db: &TestDb) {
    let store = &db.store;
    let r = room("clubhouse");
    create_room(store, &r).await;
    let route = |tag: &str, domain: &str, not_after: u64| KeyPackageRoute {
        key_package_ref: tag.as_bytes().to_vec(),
        provider: provider(domain),
        not_after,
    };
    store
        .record_key_package_routes(
            &r,
            &[
                route("k1", "b.example", 1_700_000_100),
                route("k2", "c.example", 1_700_000_100),
                route("k3", "c.example", 1_800_000_000),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        store.key_package_route(&r, b"k1").await.unwrap(),
        Some(provider("b.example"))
    );
    assert_eq!(store.key_package_route(&r, b"zz").await.unwrap(), None);
    assert!(matches!(
        store
            .record_key_package_routes(&room("nowhere"), &[route("k9", "b.example", 1)])
            .await,
        Err(StoreError::NotFound(Record::Room))
    ));

    let mut txn = store.lock_room(&r).await.unwrap();
    assert_eq!(
        txn.key_package_route(b"k2").await.unwrap(),
        Some(provider("c.example"))
    );
    let mut welcome = message(txn.version(), "welcome", &[provider("c.example")]);
    welcome.forget_key_package_refs = vec![b"k2".to_vec()];
    txn.commit(&welcome).await.unwrap();
    assert_eq!(store.key_package_route(&r, b"k2").await.unwrap(), None);

    assert_eq!(
        store
            .purge_key_package_routes(mimi_store::Timestamp(1_700_000_100_000))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.key_package_route(&r, b"k1").await.unwrap(), None);
    assert!(store.key_package_route(&r, b"k3").await.unwrap().is_some());
}

async fn cache_trusts_only_the_locked_version(db: &TestDb) {
    let store = &db.store;
    let other = db.second_instance().await;
    let r = room("clubhouse");
    create_room(store, &r).await;
    let cache: EpochCache<String> = EpochCache::new(8);

    let txn = store.lock_room(&r).await.unwrap();
    assert_eq!(cache.take(&txn), None);
    let accepted = txn
        .commit(&commit_to(
            RoomVersion {
                epoch: 0,
                revision: 0,
            },
            1,
        ))
        .await
        .unwrap();
    cache.put(r.clone(), accepted.version, "state@1".to_owned());

    // Same version under the lock: the cache is trusted.
    let txn = store.lock_room(&r).await.unwrap();
    assert_eq!(cache.take(&txn).as_deref(), Some("state@1"));
    cache.put(r.clone(), txn.version(), "state@1".to_owned());
    txn.rollback().await.unwrap();

    // Another instance queues a proposal: same epoch, new revision. The entry is stale.
    let txn = other.lock_room(&r).await.unwrap();
    let base = txn.version();
    txn.commit(&queue_proposal(base, "p")).await.unwrap();
    let txn = store.lock_room(&r).await.unwrap();
    assert_eq!(txn.epoch(), 1);
    assert_eq!(cache.take(&txn), None);
    assert!(cache.is_empty(), "a stale entry is dropped");
    txn.rollback().await.unwrap();

    // Capacity bound: least recently used goes first.
    let small: EpochCache<u32> = EpochCache::new(2);
    let v = RoomVersion {
        epoch: 0,
        revision: 0,
    };
    small.put(room("a"), v, 1);
    small.put(room("b"), v, 2);
    small.put(room("a"), v, 3);
    small.put(room("c"), v, 4);
    assert_eq!(small.len(), 2);
    small.invalidate(&room("a"));
    assert_eq!(small.len(), 1);
}
