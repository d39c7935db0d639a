//! SQLite's one-command writes (`Store::append_event` for messages, `Store::accept_notify`)
//! against the statement-by-statement path they stand in for: the same events must leave the
//! same rows behind, and the same failures must be reported.

use std::collections::BTreeMap;

use mimi_proto::ClientId;
use mimi_store::{
    AcceptedEvent, Conflict, EventKind, Fanout, MailboxDelivery, NotifyOutcome, NotifyReceipt,
    Record, RoomVersion, Store, StoreError,
};
use proptest::prelude::*;
use sqlx::Connection as _;

use crate::common::{TestDb, add_client, at, create_room, followers, room, sqlite, user};

/// One generated message event: fan-out `(destination index, payload)` and local deliveries
/// `(client index, with room, payload)`; client index 3 is not registered.
#[derive(Clone, Debug)]
struct Spec {
    fanout: Vec<(usize, Vec<u8>)>,
    local: Vec<(usize, bool, Vec<u8>)>,
    stale: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    let payload = proptest::collection::vec(any::<u8>(), 0..24);
    (
        proptest::collection::vec((0..3_usize, payload.clone()), 0..7),
        proptest::collection::vec((0..4_usize, any::<bool>(), payload), 0..5),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(fanout, local, stale)| Spec {
            fanout,
            local,
            stale,
        })
}

async fn clients(store: &Store) -> Vec<ClientId> {
    let mut clients = Vec::new();
    for name in ["ann", "bo", "cy"] {
        clients.push(add_client(store, &user(name), "phone").await);
    }
    clients.push(user("ghost").client("phone").unwrap());
    clients
}

fn event(base: RoomVersion, spec: &Spec, clients: &[ClientId]) -> AcceptedEvent {
    let destinations = followers();
    let base = if spec.stale {
        RoomVersion {
            revision: base.revision + 1,
            ..base
        }
    } else {
        base
    };
    let mut event = AcceptedEvent::new(base, EventKind::Application, at(5));
    event.log_payload = spec.fanout.iter().flat_map(|(_, p)| p.clone()).collect();
    event.fanout = spec
        .fanout
        .iter()
        .map(|(d, payload)| Fanout {
            destination: destinations[*d].clone(),
            payload: payload.clone(),
        })
        .collect();
    event.local = spec
        .local
        .iter()
        .map(|(c, with_room, payload)| MailboxDelivery {
            client: clients[*c].clone(),
            room: with_room.then(|| room("clubhouse")),
            payload: payload.clone(),
        })
        .collect();
    event
}

/// What a failed write reported, comparable across the two paths.
fn outcome(result: Result<mimi_store::Accepted, StoreError>) -> Result<u64, String> {
    match result {
        Ok(accepted) => Ok(accepted.seq),
        Err(StoreError::Conflict(Conflict::Stale { .. })) => Err("stale".into()),
        Err(StoreError::NotFound(Record::Client)) => Err("unknown client".into()),
        Err(e) => Err(format!("other: {e}")),
    }
}

/// Every row the writes touch, in a fixed order.
async fn dump(db: &TestDb) -> BTreeMap<&'static str, Vec<String>> {
    let mut conn = sqlx::SqliteConnection::connect(&db.config.url)
        .await
        .unwrap();
    let mut tables = BTreeMap::new();
    for (table, sql) in [
        (
            "rooms",
            "SELECT room_id, epoch, revision, last_seq, updated_at FROM rooms",
        ),
        (
            "room_events",
            "SELECT room_id, seq, epoch, kind, accepted_at, hex(payload) FROM room_events \
             ORDER BY room_id, seq",
        ),
        (
            "outbox",
            "SELECT room_id, destination, event_seq, part, hex(payload), enqueued_at FROM outbox \
             ORDER BY room_id, destination, event_seq, part",
        ),
        (
            "outbox_queues",
            "SELECT room_id, destination, pending, next_attempt_at, attempts FROM outbox_queues \
             ORDER BY room_id, destination",
        ),
        (
            "mailbox",
            "SELECT client_id, cursor, room_id, hex(payload), typeof(payload), enqueued_at \
             FROM mailbox ORDER BY client_id, cursor",
        ),
        (
            "mailbox_cursors",
            "SELECT client_id, last_cursor FROM mailbox_cursors ORDER BY client_id",
        ),
    ] {
        let rows: Vec<sqlx::sqlite::SqliteRow> =
            sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        let text = rows
            .iter()
            .map(|row| {
                use sqlx::Row as _;
                (0..row.len())
                    .map(|i| {
                        row.try_get::<Option<String>, _>(i)
                            .or_else(|_| {
                                row.try_get::<Option<i64>, _>(i)
                                    .map(|v| v.map(|v| v.to_string()))
                            })
                            .unwrap()
                            .unwrap_or_else(|| "NULL".into())
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        tables.insert(table, text);
    }
    tables
}

async fn compare_paths(specs: Vec<Spec>) {
    let (one, statements) = (sqlite().await, sqlite().await);
    let r = room("clubhouse");
    let mut clients_of = Vec::new();
    for db in [&one, &statements] {
        create_room(&db.store, &r).await;
        clients_of.push(clients(&db.store).await);
    }
    for spec in &specs {
        let version = one.store.room_version(&r).await.unwrap();
        let fast = one
            .store
            .append_event(&r, &event(version, spec, &clients_of[0]))
            .await;
        let txn = statements.store.lock_room(&r).await.unwrap();
        let slow = txn.commit(&event(version, spec, &clients_of[1])).await;
        assert_eq!(outcome(fast), outcome(slow), "{spec:?}");
    }
    assert_eq!(dump(&one).await, dump(&statements).await);
}

#[test]
fn message_writes_match_the_statement_path() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    proptest!(ProptestConfig::with_cases(24), |(specs in proptest::collection::vec(spec(), 1..6))| {
        runtime.block_on(compare_paths(specs));
    });
}

/// Many rows in one event: more than one statement's worth on the statement path's chunks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_matches_the_statement_path() {
    let spec = Spec {
        fanout: (0..300).map(|i| (i % 3, vec![i as u8; 40])).collect(),
        local: (0..150)
            .map(|i| (i % 3, i % 2 == 0, vec![i as u8; 30]))
            .collect(),
        stale: false,
    };
    compare_paths(vec![spec.clone(), spec]).await;
}

/// The notify write against a model: new bodies append their deliveries in order, with
/// consecutive cursors per client; duplicates and failures write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_writes_deliveries_in_order_once() {
    let db = sqlite().await;
    let clients = clients(&db.store).await;
    let mut expected: BTreeMap<ClientId, Vec<Vec<u8>>> = BTreeMap::new();
    let bodies: [(&[u8], &[usize]); 6] = [
        (b"one", &[0, 1, 0]),
        (b"two", &[1, 2]),
        (b"one", &[0, 1, 0]),
        (b"ghost", &[0, 3]),
        (b"three", &[]),
        (b"four", &[2, 2, 2, 0]),
    ];
    for (body, to) in bodies {
        let deliveries: Vec<MailboxDelivery> = to
            .iter()
            .enumerate()
            .map(|(i, c)| MailboxDelivery {
                client: clients[*c].clone(),
                room: (i % 2 == 0).then(|| room("clubhouse")),
                payload: [body, &[i as u8]].concat(),
            })
            .collect();
        let receipt = NotifyReceipt {
            hub: crate::common::provider("hub.example"),
            body: body.to_vec(),
            deliveries: deliveries.clone(),
            received_at: at(9),
        };
        let result = db.store.accept_notify(&receipt).await;
        match body {
            b"ghost" => assert!(matches!(result, Err(StoreError::NotFound(Record::Client)))),
            _ if body == b"one" && expected.values().flatten().any(|p| p.starts_with(b"one")) => {
                assert_eq!(result.unwrap(), NotifyOutcome::Duplicate);
            }
            _ => {
                assert_eq!(result.unwrap(), NotifyOutcome::New);
                for d in deliveries {
                    expected.entry(d.client).or_default().push(d.payload);
                }
            }
        }
    }
    for client in &clients[..3] {
        let entries = db.store.mailbox(client, 0, 100).await.unwrap();
        let cursors: Vec<u64> = entries.iter().map(|e| e.cursor).collect();
        let want = expected.get(client).cloned().unwrap_or_default();
        assert_eq!(
            cursors,
            (1..=want.len() as u64).collect::<Vec<_>>(),
            "{client}"
        );
        let payloads: Vec<Vec<u8>> = entries.into_iter().map(|e| e.payload).collect();
        assert_eq!(payloads, want, "{client}");
    }
}
