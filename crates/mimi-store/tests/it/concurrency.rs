//! Two store handles on one database stand in for two server instances.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use mimi_store::{
    AcceptedEvent, Conflict, EventKind, MailboxDelivery, StateChange, Store, StoreError,
};

use crate::common::{
    TestDb, add_client, at, create_room, followers, message, on_both_backends, room, user,
};

on_both_backends!(
    racing_commits_one_winner_per_epoch,
    lock_serializes_read_modify_write,
    two_instances_drain_the_outbox_once_in_order,
    concurrent_mailbox_writers_get_distinct_cursors,
);

const EPOCHS: u64 = 24;

/// Payloads per (room, destination), in delivery order.
type Deliveries = BTreeMap<(String, String), Vec<String>>;

/// Each contender reads the epoch without the lock (as a client building a commit would),
/// then submits a commit for it. Exactly one commit wins per epoch; the others conflict.
async fn racing_commits_one_winner_per_epoch(db: &TestDb) {
    let r = room("race");
    create_room(&db.store, &r).await;
    let instances = [db.store.clone(), db.second_instance().await];
    let mut tasks = Vec::new();
    for contender in 0..6_u32 {
        let store = instances[contender as usize % 2].clone();
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            let (mut wins, mut losses) = (Vec::new(), 0_u32);
            loop {
                let base = store.room_version(&r).await.unwrap();
                if base.epoch >= EPOCHS {
                    return (wins, losses);
                }
                let mut event = AcceptedEvent::new(base, EventKind::Commit, at(base.epoch));
                event.log_payload = format!("{contender}").into_bytes();
                event.change = StateChange::NewEpoch {
                    epoch: base.epoch + 1,
                    mls_state: vec![],
                    group_info: vec![],
                    room_state: vec![],
                };
                let txn = store.lock_room(&r).await.unwrap();
                match txn.commit(&event).await {
                    Ok(accepted) => wins.push((accepted.version.epoch, contender)),
                    Err(StoreError::Conflict(Conflict::Stale { .. })) => losses += 1,
                    Err(other) => panic!("unexpected: {other:?}"),
                }
            }
        }));
    }
    let mut winners = BTreeMap::new();
    for task in tasks {
        let (wins, _losses) = task.await.unwrap();
        for (epoch, contender) in wins {
            assert!(
                winners.insert(epoch, contender).is_none(),
                "two commits won epoch {epoch}"
            );
        }
    }
    assert_eq!(
        winners.keys().copied().collect::<Vec<_>>(),
        (1..=EPOCHS).collect::<Vec<_>>()
    );
    // The log agrees with what the winners were told.
    let log = db.store.room_events(&r, 0, 1000).await.unwrap();
    assert_eq!(log.len() as u64, EPOCHS);
    for event in log {
        let contender: u32 = String::from_utf8(event.payload).unwrap().parse().unwrap();
        assert_eq!(winners[&event.epoch], contender);
    }
}

/// Every task reads a counter under the lock and writes it back incremented. With a correct
/// lock no update is lost and no commit conflicts.
async fn lock_serializes_read_modify_write(db: &TestDb) {
    let r = room("counter");
    create_room(&db.store, &r).await;
    let instances = [db.store.clone(), db.second_instance().await];
    let mut tasks = Vec::new();
    for worker in 0..6_usize {
        let store = instances[worker % 2].clone();
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..8 {
                let mut txn = store.lock_room(&r).await.unwrap();
                let snap = txn.snapshot().await.unwrap();
                let count: u64 = std::str::from_utf8(&snap.room_state)
                    .unwrap()
                    .strip_prefix("state@")
                    .map_or(0, |n| n.parse().unwrap());
                let mut event = AcceptedEvent::new(txn.version(), EventKind::Proposal, at(1));
                event.change = StateChange::Update {
                    mls_state: snap.mls_state,
                    room_state: format!("state@{}", count + 1).into_bytes(),
                };
                txn.commit(&event).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut txn = db.store.lock_room(&r).await.unwrap();
    assert_eq!(txn.snapshot().await.unwrap().room_state, b"state@48");
    assert_eq!(txn.version().revision, 48);
}

/// Acceptance: both instances drain one outbox concurrently; every entry is delivered once,
/// in order per destination.
async fn two_instances_drain_the_outbox_once_in_order(db: &TestDb) {
    let rooms = [room("one"), room("two")];
    let dests = followers();
    let mut expected = Deliveries::new();
    for r in &rooms {
        create_room(&db.store, r).await;
        for i in 0..20 {
            let txn = db.store.lock_room(r).await.unwrap();
            let tag = format!("{}#{i}", r.as_str());
            let event = message(txn.version(), &tag, &dests);
            txn.commit(&event).await.unwrap();
            for d in &dests {
                expected
                    .entry((r.as_str().to_owned(), d.domain().to_owned()))
                    .or_default()
                    .push(format!("{tag}>{}", d.domain()));
            }
        }
    }
    let total: usize = expected.values().map(Vec::len).sum();
    assert_eq!(db.store.outbox_len().await.unwrap(), total as u64);

    let delivered: Arc<Mutex<Deliveries>> = Arc::default();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let instances = [db.store.clone(), db.second_instance().await];
    let mut workers = Vec::new();
    for worker in 0..4_usize {
        let store: Store = instances[worker % 2].clone();
        let delivered = delivered.clone();
        let count = count.clone();
        workers.push(tokio::spawn(async move {
            let mut idle_polls = 0_u32;
            while count.load(std::sync::atomic::Ordering::SeqCst) < total {
                let Some(batch) = store.claim_outbox(at(10), 600_000, 3).await.unwrap() else {
                    // Everything left is leased by another worker; let it finish. Bounded so
                    // a bug fails the test instead of hanging it.
                    idle_polls += 1;
                    assert!(idle_polls < 100_000, "outbox not drained");
                    tokio::task::yield_now().await;
                    continue;
                };
                {
                    let mut delivered = delivered.lock().unwrap();
                    let queue = delivered
                        .entry((
                            batch.room.as_str().to_owned(),
                            batch.destination.domain().to_owned(),
                        ))
                        .or_default();
                    for entry in &batch.entries {
                        queue.push(String::from_utf8(entry.payload.clone()).unwrap());
                    }
                }
                store.ack_outbox(&batch, at(10)).await.unwrap();
                count.fetch_add(batch.entries.len(), std::sync::atomic::Ordering::SeqCst);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(*delivered.lock().unwrap(), expected);
    assert_eq!(db.store.outbox_len().await.unwrap(), 0);
}

/// Two instances write to one client's mailbox at once (as two rooms would): cursors are
/// distinct and gapless, and each writer's entries keep their order.
async fn concurrent_mailbox_writers_get_distinct_cursors(db: &TestDb) {
    let phone = add_client(&db.store, &user("alice"), "phone").await;
    let instances = [db.store.clone(), db.second_instance().await];
    let mut tasks = Vec::new();
    for (writer, store) in instances.iter().enumerate() {
        let store = store.clone();
        let phone = phone.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                let entry = MailboxDelivery {
                    client: phone.clone(),
                    room: None,
                    payload: format!("{writer}:{i:02}").into_bytes(),
                };
                store.deliver_local(&[entry], at(1)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let entries = db.store.mailbox(&phone, 0, 100).await.unwrap();
    let cursors: Vec<u64> = entries.iter().map(|e| e.cursor).collect();
    assert_eq!(cursors, (1..=30).collect::<Vec<_>>());
    for writer in ["0:", "1:"] {
        let mine: Vec<_> = entries
            .iter()
            .map(|e| String::from_utf8(e.payload.clone()).unwrap())
            .filter(|p| p.starts_with(writer))
            .collect();
        let mut sorted = mine.clone();
        sorted.sort();
        assert_eq!(mine, sorted);
    }
}
