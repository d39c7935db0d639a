//! Property: whatever bytes, identifiers and times the store accepts come back unchanged, on
//! both backends (row mapping at the edge loses nothing).

use mimi_store::{MailboxDelivery, Store, Timestamp};
use proptest::prelude::*;

use crate::common::{TestDb, add_client, room, user};

/// Cases per backend: each one is a few transactions, so keep the run short.
const CASES: u32 = 24;

fn arbitrary_entry() -> impl Strategy<Value = (Vec<u8>, Option<String>, u64)> {
    (
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u8>(), 0..70_000),
        ],
        proptest::option::of("[A-Za-z0-9._~-]{1,40}"),
        0..=i64::MAX as u64,
    )
}

fn check(db: &TestDb, rt: &tokio::runtime::Runtime) {
    let store: &Store = &db.store;
    let phone = rt.block_on(add_client(store, &user("alice"), "phone"));
    // Shrinking re-runs cases, so each case reads only what it wrote.
    let last_cursor = std::cell::Cell::new(0_u64);
    proptest!(ProptestConfig::with_cases(CASES), |(entries in proptest::collection::vec(arbitrary_entry(), 1..4))| {
        let deliveries: Vec<MailboxDelivery> = entries
            .iter()
            .map(|(payload, room_name, _)| MailboxDelivery {
                client: phone.clone(),
                room: room_name.as_deref().map(room),
                payload: payload.clone(),
            })
            .collect();
        let now = Timestamp(entries[0].2);
        rt.block_on(store.deliver_local(&deliveries, now)).unwrap();
        let read = rt.block_on(store.mailbox(&phone, last_cursor.get(), 100)).unwrap();
        prop_assert_eq!(read.len(), deliveries.len());
        for (got, want) in read.iter().zip(&deliveries) {
            prop_assert_eq!(&got.payload, &want.payload);
            prop_assert_eq!(&got.room, &want.room);
            prop_assert_eq!(got.enqueued_at, now);
        }
        last_cursor.set(read.last().map_or(last_cursor.get(), |e| e.cursor));
    });
    // Above i64::MAX a time is refused, not wrapped.
    let too_late = rt.block_on(store.deliver_local(
        &[MailboxDelivery {
            client: phone,
            room: None,
            payload: vec![],
        }],
        Timestamp(u64::MAX),
    ));
    assert!(matches!(
        too_late,
        Err(mimi_store::StoreError::InvalidInput(_))
    ));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn mailbox_round_trip_sqlite() {
    let rt = runtime();
    let db = rt.block_on(crate::common::sqlite());
    check(&db, &rt);
}

#[test]
fn mailbox_round_trip_postgres() {
    let rt = runtime();
    let Some(db) = rt.block_on(crate::common::postgres()) else {
        return;
    };
    check(&db, &rt);
    // The store's pools belong to this runtime: drop them before it.
    drop(db);
}
