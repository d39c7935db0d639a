//! Outbox, inbox dedup, mailboxes and wake-ups.

use std::time::Duration;

use mimi_store::{
    Conflict, Fanout, MailboxDelivery, NotifyOutcome, NotifyReceipt, Record, StoreError, Wake,
};

use crate::common::{
    TestDb, add_client, at, create_room, followers, message, on_both_backends, provider, room, user,
};

on_both_backends!(
    outbox_keeps_order_per_destination,
    leases_expire_and_failures_back_off,
    a_held_queue_continues_and_settles_in_one_write,
    inbox_dedups_per_hub,
    mailbox_cursor_resumes,
    wakes_follow_commits,
    room_members_are_shared_and_idempotent,
);

const LEASE_MS: u64 = 30_000;

/// Times after the events' acceptance (`at(1)`), when their queues are due.
fn later(ms: u64) -> mimi_store::Timestamp {
    at(100 + ms)
}

async fn outbox_keeps_order_per_destination(db: &TestDb) {
    let store = &db.store;
    let r = room("clubhouse");
    create_room(store, &r).await;
    let dests = followers();
    for i in 1..=3 {
        let txn = store.lock_room(&r).await.unwrap();
        let mut event = message(txn.version(), &format!("m{i}"), &dests);
        if i == 2 {
            // Commit + Welcome to the same follower: two parts of one event.
            event.fanout.push(Fanout {
                destination: dests[0].clone(),
                payload: b"welcome>b.example".to_vec(),
            });
        }
        txn.commit(&event).await.unwrap();
    }
    assert_eq!(store.outbox_len().await.unwrap(), 10);

    let mut delivered = std::collections::BTreeMap::<String, Vec<String>>::new();
    while let Some(batch) = store.claim_outbox(at(100), LEASE_MS, 2).await.unwrap() {
        assert_eq!(batch.room, r);
        assert!(batch.entries.len() <= 2);
        let seen = delivered
            .entry(batch.destination.domain().to_owned())
            .or_default();
        for entry in &batch.entries {
            seen.push(String::from_utf8(entry.payload.clone()).unwrap());
        }
        store.ack_outbox(&batch, at(100)).await.unwrap();
    }
    assert_eq!(store.outbox_len().await.unwrap(), 0);
    assert_eq!(
        delivered["b.example"],
        [
            "m1>b.example",
            "m2>b.example",
            "welcome>b.example",
            "m3>b.example"
        ]
    );
    assert_eq!(
        delivered["c.example"],
        ["m1>c.example", "m2>c.example", "m3>c.example"]
    );
    assert_eq!(
        delivered["d.example"],
        ["m1>d.example", "m2>d.example", "m3>d.example"]
    );
    assert!(matches!(
        store.claim_outbox(at(100), LEASE_MS, 0).await,
        Err(StoreError::InvalidInput(_))
    ));
}

async fn leases_expire_and_failures_back_off(db: &TestDb) {
    let store = &db.store;
    let r = room("clubhouse");
    let b = provider("b.example");
    create_room(store, &r).await;
    for i in 1..=2 {
        let txn = store.lock_room(&r).await.unwrap();
        let event = message(txn.version(), &format!("m{i}"), std::slice::from_ref(&b));
        txn.commit(&event).await.unwrap();
    }

    // One queue: while it is leased nobody else gets it.
    let first = store
        .claim_outbox(later(0), LEASE_MS, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.entries.len(), 2);
    assert!(
        store
            .claim_outbox(later(1), LEASE_MS, 10)
            .await
            .unwrap()
            .is_none()
    );

    // The worker "crashed": after the lease the queue is claimed again, from the head.
    let second = store
        .claim_outbox(later(LEASE_MS), LEASE_MS, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.entries, first.entries);
    assert!(matches!(
        store.ack_outbox(&first, later(LEASE_MS)).await,
        Err(StoreError::Conflict(Conflict::LeaseLost))
    ));
    assert_eq!(
        store.outbox_len().await.unwrap(),
        2,
        "a lost lease removes nothing"
    );

    // A failed delivery keeps the entries and waits until the retry time.
    let long_error = "é".repeat(1000);
    store
        .fail_outbox(&second, &long_error, later(LEASE_MS + 5_000))
        .await
        .unwrap();
    let (attempts, last_error) = store.outbox_queue_state(&r, &b).await.unwrap().unwrap();
    assert_eq!(attempts, 1);
    assert!(last_error.unwrap().len() <= mimi_store::MAX_LAST_ERROR_LEN);
    assert!(
        store
            .claim_outbox(later(LEASE_MS + 4_999), LEASE_MS, 10)
            .await
            .unwrap()
            .is_none()
    );
    let retry = store
        .claim_outbox(later(LEASE_MS + 5_000), LEASE_MS, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retry.attempts, 1);
    assert_eq!(retry.entries.len(), 1);
    assert_eq!(retry.entries[0].payload, b"m1>b.example");
    assert!(matches!(
        store.fail_outbox(&second, "late", later(0)).await,
        Err(StoreError::Conflict(Conflict::LeaseLost))
    ));
    store
        .ack_outbox(&retry, later(LEASE_MS + 5_000))
        .await
        .unwrap();
    assert_eq!(
        store.outbox_queue_state(&r, &b).await.unwrap(),
        Some((0, None))
    );
    let last = store
        .claim_outbox(later(LEASE_MS + 5_000), LEASE_MS, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.entries[0].payload, b"m2>b.example");
    store
        .ack_outbox(&last, later(LEASE_MS + 5_001))
        .await
        .unwrap();
    assert_eq!(store.outbox_len().await.unwrap(), 0);
}

async fn a_held_queue_continues_and_settles_in_one_write(db: &TestDb) {
    let store = &db.store;
    let r = room("clubhouse");
    let b = provider("b.example");
    create_room(store, &r).await;
    let commit = |i: u32| {
        let b = b.clone();
        let r = r.clone();
        async move {
            let txn = store.lock_room(&r).await.unwrap();
            let event = message(txn.version(), &format!("m{i}"), std::slice::from_ref(&b));
            txn.commit(&event).await.unwrap();
        }
    };
    let payloads = |batch: &mimi_store::OutboxBatch| -> Vec<String> {
        batch
            .entries
            .iter()
            .map(|e| String::from_utf8(e.payload.clone()).unwrap())
            .collect()
    };
    for i in 1..=3 {
        commit(i).await;
    }
    let first = store
        .claim_outbox(later(0), LEASE_MS, 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payloads(&first), ["m1>b.example", "m2>b.example"]);
    // Entries accepted while the first batch is in flight are read after it.
    commit(4).await;
    let second = store.next_outbox_batch(&first, 10).await.unwrap().unwrap();
    assert_eq!(payloads(&second), ["m3>b.example", "m4>b.example"]);
    assert!(
        store
            .next_outbox_batch(&second, 10)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.next_outbox_batch(&second, 0).await,
        Err(StoreError::InvalidInput(_))
    ));
    // Still held: nobody else claims the queue meanwhile.
    assert!(
        store
            .claim_outbox(later(1), LEASE_MS, 10)
            .await
            .unwrap()
            .is_none()
    );

    // The second batch fails after the first was delivered: the first leaves
    // the outbox, the second waits for its retry.
    commit(5).await;
    store
        .fail_outbox_after(&first, &second, "follower down", later(5_000))
        .await
        .unwrap();
    assert_eq!(store.outbox_len().await.unwrap(), 3);
    assert_eq!(
        store.outbox_queue_state(&r, &b).await.unwrap(),
        Some((1, Some("follower down".to_owned())))
    );
    let retry = store
        .claim_outbox(later(5_000), LEASE_MS, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        payloads(&retry),
        ["m3>b.example", "m4>b.example", "m5>b.example"]
    );
    // Acknowledging the last batch of a hold removes everything before it.
    let third = store.next_outbox_batch(&retry, 10).await.unwrap();
    assert!(third.is_none());
    store.ack_outbox(&retry, later(5_001)).await.unwrap();
    assert_eq!(store.outbox_len().await.unwrap(), 0);
    assert_eq!(
        store.outbox_queue_state(&r, &b).await.unwrap(),
        Some((0, None))
    );
    // A new entry makes the queue claimable again: `pending` stayed exact.
    commit(6).await;
    let next = store
        .claim_outbox(later(5_002), LEASE_MS, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payloads(&next), ["m6>b.example"]);
}

async fn inbox_dedups_per_hub(db: &TestDb) {
    let store = &db.store;
    let phone = add_client(store, &user("alice"), "phone").await;
    let receipt = |hub: &str, body: &[u8]| NotifyReceipt {
        hub: provider(hub),
        body: body.to_vec(),
        deliveries: vec![MailboxDelivery {
            client: phone.clone(),
            room: Some(room("clubhouse")),
            payload: body.to_vec(),
        }],
        received_at: at(10),
    };
    assert_eq!(
        store
            .accept_notify(&receipt("hub.example", b"n1"))
            .await
            .unwrap(),
        NotifyOutcome::New
    );
    assert_eq!(
        store
            .accept_notify(&receipt("hub.example", b"n1"))
            .await
            .unwrap(),
        NotifyOutcome::Duplicate
    );
    assert_eq!(
        store
            .accept_notify(&receipt("other.example", b"n1"))
            .await
            .unwrap(),
        NotifyOutcome::New,
        "dedup is per hub"
    );
    assert_eq!(store.mailbox(&phone, 0, 100).await.unwrap().len(), 2);

    // A body whose delivery fails is not remembered, so the hub's retry is processed.
    let ghost = user("alice").client("ghost").unwrap();
    let mut bad = receipt("hub.example", b"n2");
    bad.deliveries[0].client = ghost;
    assert!(matches!(
        store.accept_notify(&bad).await,
        Err(StoreError::NotFound(Record::Client))
    ));
    assert_eq!(
        store
            .accept_notify(&receipt("hub.example", b"n2"))
            .await
            .unwrap(),
        NotifyOutcome::New
    );

    assert_eq!(store.prune_inbox(at(11)).await.unwrap(), 3);
    assert_eq!(
        store
            .accept_notify(&receipt("hub.example", b"n1"))
            .await
            .unwrap(),
        NotifyOutcome::New,
        "forgotten after the window"
    );
}

async fn mailbox_cursor_resumes(db: &TestDb) {
    let store = &db.store;
    let alice = user("alice");
    let phone = add_client(store, &alice, "phone").await;
    let laptop = add_client(store, &alice, "laptop").await;
    let deliver = |client: &mimi_proto::ClientId, tag: &str| MailboxDelivery {
        client: client.clone(),
        room: None,
        payload: tag.as_bytes().to_vec(),
    };
    store
        .deliver_local(
            &[
                deliver(&phone, "a"),
                deliver(&laptop, "x"),
                deliver(&phone, "b"),
            ],
            at(1),
        )
        .await
        .unwrap();
    store
        .deliver_local(&[deliver(&phone, "c")], at(2))
        .await
        .unwrap();

    let all = store.mailbox(&phone, 0, 100).await.unwrap();
    let got: Vec<_> = all.iter().map(|e| (e.cursor, e.payload.clone())).collect();
    assert_eq!(
        got,
        vec![(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"c".to_vec())]
    );
    assert_eq!(all[2].enqueued_at, at(2));
    assert_eq!(store.mailbox(&laptop, 0, 100).await.unwrap()[0].cursor, 1);

    // Resume after cursor 1, one at a time.
    let page = store.mailbox(&phone, 1, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].cursor, 2);

    assert_eq!(store.ack_mailbox(&phone, 2).await.unwrap(), 2);
    store
        .deliver_local(&[deliver(&phone, "d")], at(3))
        .await
        .unwrap();
    let rest: Vec<_> = store
        .mailbox(&phone, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.cursor)
        .collect();
    assert_eq!(rest, vec![3, 4], "cursors keep increasing after an ack");
}

async fn wakes_follow_commits(db: &TestDb) {
    let store = &db.store;
    let other = db.second_instance().await;
    let phone = add_client(store, &user("alice"), "phone").await;
    let r = room("clubhouse");
    create_room(store, &r).await;
    let mut here = store.subscribe();
    let mut there = other.subscribe();

    let txn = store.lock_room(&r).await.unwrap();
    let mut event = message(txn.version(), "m", &followers());
    event.local = vec![MailboxDelivery {
        client: phone.clone(),
        room: Some(r.clone()),
        payload: b"m".to_vec(),
    }];
    txn.commit(&event).await.unwrap();

    let expect = |mut wakes: Vec<Wake>| {
        wakes.sort_by_key(|w| format!("{w:?}"));
        wakes
    };
    let want = expect(vec![Wake::Mailbox(phone.clone()), Wake::Outbox(r.clone())]);
    let got = expect(vec![next(&mut here).await, next(&mut here).await]);
    assert_eq!(got, want);
    if store.backend() == mimi_store::BackendKind::Postgres {
        // Another instance hears of it through LISTEN/NOTIFY.
        let got = expect(vec![next(&mut there).await, next(&mut there).await]);
        assert_eq!(got, want);
    }
}

async fn room_members_are_shared_and_idempotent(db: &TestDb) {
    let store = &db.store;
    let other = db.second_instance().await;
    let alice = user("alice");
    let phone = add_client(store, &alice, "phone").await;
    let laptop = add_client(store, &alice, "laptop").await;
    let r = room("clubhouse");
    assert!(store.add_room_member(&r, &phone, at(1)).await.unwrap());
    assert!(!store.add_room_member(&r, &phone, at(2)).await.unwrap());
    assert!(other.is_room_member(&r, &phone).await.unwrap());
    assert!(!other.is_room_member(&r, &laptop).await.unwrap());
    assert!(
        !other
            .is_room_member(&room("elsewhere"), &phone)
            .await
            .unwrap()
    );
    assert!(other.add_room_member(&r, &laptop, at(3)).await.unwrap());
    assert_eq!(
        other.room_members(&r).await.unwrap(),
        vec![laptop.clone(), phone.clone()]
    );
    assert!(
        store
            .room_members(&room("elsewhere"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .add_room_member(&r, &alice.client("ghost").unwrap(), at(4))
            .await,
        Err(StoreError::NotFound(Record::Client))
    ));
    assert!(store.remove_room_member(&r, &phone).await.unwrap());
    assert!(!store.remove_room_member(&r, &phone).await.unwrap());
    assert!(!other.is_room_member(&r, &phone).await.unwrap());
    // Removing a client removes its memberships.
    store.remove_client(&laptop).await.unwrap();
    assert!(store.room_members(&r).await.unwrap().is_empty());
}

/// The next wake; the timeout only bounds a failing test, it does not synchronize.
async fn next(sub: &mut mimi_store::Subscription) -> Wake {
    tokio::time::timeout(Duration::from_secs(10), sub.recv())
        .await
        .expect("no wake within 10 s")
        .expect("store dropped")
}
