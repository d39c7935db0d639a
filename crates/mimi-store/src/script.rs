//! The two hottest writes, a hub appending accepted messages and a follower storing a `notify`
//! body, as one multi-statement command to SQLite.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own, and every statement is a round
//! trip to it (a channel send, a thread wake-up, a reply). Under load each round trip waits for
//! a core while the write holds the database's only writer connection: the fan-out bench
//! measured a message batch's write at ~11 round trips and ~4.4 ms, the busiest room's
//! bottleneck. Here the statements are one constant script, prepared once per connection, whose
//! rows travel as a JSON document (`json_each`) and one blob of concatenated payloads
//! (`substr`), and which opens and commits its own transaction: one round trip per write.
//!
//! A script that fails part-way leaves its transaction open on the connection, which sqlx does
//! not know about. So the connection is driven by a task of its own, which the caller going
//! away cannot cancel: after a failure it rolls back, or closes the connection if even that
//! fails, before the connection goes back to the pool.
//!
//! Every statement binds `$1` (the JSON document) and at most `$2` (the blob): sqlx binds a
//! statement's unnamed parameter slots positionally, so a statement that skipped a number
//! could have its later parameters silently left NULL.
//!
//! The statement-by-statement path stays the reference. A script that fails for any reason is
//! rolled back and the write is done again by that path, which reports the precise error; the
//! tests check that both paths write the same rows.

use std::collections::BTreeSet;

use mimi_proto::{ClientId, RoomId};
use serde_json::{Value, json};

use crate::backend::{Pools, to_db, ts_to_db};
use crate::error::StoreError;
use crate::model::{Accepted, AcceptedEvent, MailboxDelivery, NotifyReceipt, StateChange};
use crate::rooms::{group_in_order, kind_to_db};
use crate::store::{PendingWakes, Store};

/// The room row as the event's base version saw it; every statement of [`APPEND`] is guarded by
/// it, so a stale event writes nothing.
macro_rules! at_base {
    () => {
        "r.room_id = $1 ->> 'room' AND r.epoch = $1 ->> 'epoch' AND r.revision = $1 ->> 'revision'"
    };
}

/// Writes the entries of `$1 -> 'mailbox'` after advancing each client's cursor by its count in
/// `$1 -> 'cursors'`; `$guard` limits both to when the write applies.
macro_rules! mailbox_statements {
    ($from:literal, $guard:expr) => {
        concat!(
            "INSERT INTO mailbox_cursors (client_id, last_cursor) \
             SELECT c.value ->> 0, c.value ->> 1 FROM ",
            $from,
            " json_each($1, '$.cursors') AS c \
             WHERE ",
            $guard,
            " \
             ON CONFLICT (client_id) \
             DO UPDATE SET last_cursor = mailbox_cursors.last_cursor + excluded.last_cursor;
             INSERT INTO mailbox (client_id, cursor, room_id, payload, enqueued_at) \
             SELECT m.value ->> 0, k.last_cursor - (m.value ->> 1), m.value ->> 2, \
                    substr($2, m.value ->> 3, m.value ->> 4), $1 ->> 'at' \
             FROM ",
            $from,
            " json_each($1, '$.mailbox') AS m \
             JOIN mailbox_cursors AS k ON k.client_id = m.value ->> 0 \
             WHERE ",
            $guard,
            ";"
        )
    };
}

/// [`RoomTxn::commit`](crate::RoomTxn::commit) of an event that leaves the room state as it
/// is. Returns the new sequence number, or no row (and writes nothing) if the room is not at
/// the base version.
const APPEND: &str = concat!(
    "BEGIN IMMEDIATE;
     UPDATE rooms SET last_seq = last_seq + 1, updated_at = $1 ->> 'at' \
     WHERE room_id = $1 ->> 'room' AND epoch = $1 ->> 'epoch' AND revision = $1 ->> 'revision' \
     RETURNING last_seq;
     INSERT INTO room_events (room_id, seq, epoch, kind, accepted_at, payload) \
     SELECT r.room_id, r.last_seq, r.epoch, $1 ->> 'kind', $1 ->> 'at', \
            substr($2, $1 ->> '$.log[0]', $1 ->> '$.log[1]') \
     FROM rooms AS r WHERE ",
    at_base!(),
    ";
     INSERT INTO outbox (room_id, destination, event_seq, part, payload, enqueued_at) \
     SELECT r.room_id, f.value ->> 0, r.last_seq, f.value ->> 1, \
            substr($2, f.value ->> 2, f.value ->> 3), $1 ->> 'at' \
     FROM rooms AS r, json_each($1, '$.fanout') AS f WHERE ",
    at_base!(),
    ";
     INSERT INTO outbox_queues (room_id, destination, pending, next_attempt_at, attempts) \
     SELECT r.room_id, q.value ->> 0, q.value ->> 1, $1 ->> 'at', 0 \
     FROM rooms AS r, json_each($1, '$.queues') AS q WHERE ",
    at_base!(),
    " ON CONFLICT (room_id, destination) \
     DO UPDATE SET pending = outbox_queues.pending + excluded.pending;",
    mailbox_statements!("rooms AS r,", at_base!()),
    "COMMIT;"
);

/// [`Store::accept_notify`]. A duplicate body fails the first insert (no `ON CONFLICT`), so
/// the script stops and is rolled back before the mailbox statements run.
const NOTIFY: &str = concat!(
    "BEGIN IMMEDIATE;
     INSERT INTO inbox_seen (hub, body_hash, seen_at) \
     VALUES ($1 ->> 'hub', unhex($1 ->> 'hash'), $1 ->> 'at') RETURNING 1;",
    mailbox_statements!("", "true"),
    "COMMIT;"
);

/// Whether [`append`] can write `event`: it changes no room state, queues no proposals and
/// forgets no KeyPackage routes (messages do none of these).
pub(crate) fn fits(event: &AcceptedEvent) -> bool {
    matches!(event.change, StateChange::Unchanged)
        && event.new_proposals.is_empty()
        && event.forget_key_package_refs.is_empty()
}

/// Appends `event` (which must [`fit`](fits)) to `room` in one transaction. `Ok(None)`: nothing
/// was written, because the room is not at `event.base` or the script failed; the caller
/// retries on the statement-by-statement path.
pub(crate) async fn append(
    store: &Store,
    room: &RoomId,
    event: &AcceptedEvent,
) -> Result<Option<Accepted>, StoreError> {
    let mut blob = Blob::default();
    let log = blob.push(&event.log_payload);
    let by_destination = group_in_order(event.fanout.iter().map(|f| (&f.destination, &f.payload)));
    let mut fanout = Vec::with_capacity(event.fanout.len());
    let mut queues = Vec::with_capacity(by_destination.len());
    for (destination, payloads) in &by_destination {
        for (part, payload) in payloads.iter().enumerate() {
            let (offset, len) = blob.push(payload);
            fanout.push(json!([destination.as_str(), part, offset, len]));
        }
        queues.push(json!([destination.as_str(), payloads.len()]));
    }
    let (cursors, mailbox, clients) = mailbox_rows(&event.local, &mut blob);
    let document = json!({
        "room": room.as_str(),
        "epoch": to_db(event.base.epoch, "epoch above i64::MAX")?,
        "revision": to_db(event.base.revision, "revision above i64::MAX")?,
        "at": ts_to_db(event.accepted_at)?,
        "kind": kind_to_db(event.kind),
        "log": [log.0, log.1],
        "fanout": fanout,
        "queues": queues,
        "cursors": cursors,
        "mailbox": mailbox,
    });
    let Some(seq) = run(store, APPEND, document, blob.0).await? else {
        return Ok(None);
    };
    store.wake(PendingWakes {
        clients,
        outbox: (!event.fanout.is_empty()).then(|| room.clone()),
    });
    Ok(Some(Accepted {
        seq: crate::backend::from_db(seq, "sequence number")?,
        version: event.base,
    }))
}

/// Records a new `notify` body and writes its deliveries in one transaction. `Ok(true)`: the
/// body was new and is stored; `Ok(false)`: nothing was written (a duplicate, or the script
/// failed), and the caller decides on the statement-by-statement path.
pub(crate) async fn accept_notify(
    store: &Store,
    receipt: &NotifyReceipt,
    hash: &[u8],
) -> Result<bool, StoreError> {
    let mut blob = Blob::default();
    let (cursors, mailbox, clients) = mailbox_rows(&receipt.deliveries, &mut blob);
    let document = json!({
        "hub": receipt.hub.as_str(),
        "hash": hex(hash),
        "at": ts_to_db(receipt.received_at)?,
        "cursors": cursors,
        "mailbox": mailbox,
    });
    if run(store, NOTIFY, document, blob.0).await?.is_none() {
        return Ok(false);
    }
    store.wake(PendingWakes {
        clients,
        outbox: None,
    });
    Ok(true)
}

/// Runs `script` on the writer connection and returns the value of its first returned row:
/// `Some` only if the script ran to its `COMMIT`. A failed script is rolled back (see the module
/// comment); its error is left to the statement path to report.
///
/// # Errors
/// Only if the writer connection cannot be had.
async fn run(
    store: &Store,
    script: &'static str,
    document: Value,
    blob: Vec<u8>,
) -> Result<Option<i64>, StoreError> {
    let Pools::Sqlite { writer, .. } = store.pools() else {
        return Ok(None);
    };
    let mut conn = writer.acquire().await?;
    let driven = tokio::spawn(async move {
        let rows: Result<Vec<(i64,)>, sqlx::Error> = sqlx::query_as(script)
            .bind(document.to_string())
            .bind(blob)
            .fetch_all(&mut *conn)
            .await;
        match rows {
            Ok(rows) => rows.first().map(|(value,)| *value),
            Err(e) => {
                tracing::debug!(error = %e, "SQLite write script failed; writing statement by statement");
                // Fails harmlessly if SQLite already rolled back (it does after some errors).
                if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err()
                    && let Err(e) = conn.close().await
                {
                    tracing::warn!(error = %e, "closing the SQLite writer after a failed script");
                }
                None
            }
        }
    });
    Ok(driven.await.unwrap_or(None))
}

/// Mailbox rows for `deliveries`: per client its count, per entry its distance from the
/// client's new last cursor; entries keep their order per client (as [`enqueue_mailbox`]).
///
/// [`enqueue_mailbox`]: crate::mailbox::enqueue_mailbox
fn mailbox_rows(
    deliveries: &[MailboxDelivery],
    blob: &mut Blob,
) -> (Vec<Value>, Vec<Value>, BTreeSet<ClientId>) {
    let by_client = group_in_order(deliveries.iter().map(|d| (&d.client, d)));
    let mut cursors = Vec::with_capacity(by_client.len());
    let mut mailbox = Vec::with_capacity(deliveries.len());
    for (client, entries) in &by_client {
        cursors.push(json!([client.as_str(), entries.len()]));
        for (index, entry) in entries.iter().enumerate() {
            let (offset, len) = blob.push(&entry.payload);
            let back = entries.len() - 1 - index;
            let room = entry.room.as_ref().map(RoomId::as_str);
            mailbox.push(json!([client.as_str(), back, room, offset, len]));
        }
    }
    (cursors, mailbox, by_client.into_keys().collect())
}

/// Payloads concatenated into one bound blob, addressed by SQL `substr` (1-based offsets).
#[derive(Default)]
struct Blob(Vec<u8>);

impl Blob {
    /// Appends `bytes`; returns their `substr` offset and length.
    fn push(&mut self, bytes: &[u8]) -> (usize, usize) {
        let offset = self.0.len() + 1;
        self.0.extend_from_slice(bytes);
        (offset, bytes.len())
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    //! The fast path itself is taken: the integration tests compare rows, which a fallback to
    //! the statement path would also pass.

    use mimi_proto::{ProviderId, UserId};

    use super::*;
    use crate::model::{EventKind, Fanout, NewClient, NewRoom, RoomVersion, Timestamp};
    use crate::{StoreConfig, StoreError};

    async fn setup(dir: &std::path::Path) -> Result<(Store, RoomId, ClientId), StoreError> {
        let store = Store::open(&StoreConfig::sqlite_in(dir)).await?;
        let room = RoomId::parse("mimi://hub.example/r/x").unwrap();
        store
            .create_room(&NewRoom {
                room: room.clone(),
                hub: ProviderId::from_domain("hub.example").unwrap(),
                epoch: 0,
                mls_state: b"mls".to_vec(),
                group_info: b"gi".to_vec(),
                room_state: b"state".to_vec(),
                created_at: Timestamp(1),
            })
            .await?;
        let user = UserId::parse("mimi://hub.example/u/ann").unwrap();
        store.add_user(&user, Timestamp(1)).await?;
        let client = user.client("phone").unwrap();
        store
            .add_client(
                &NewClient {
                    client: client.clone(),
                    user,
                    credential: b"c".to_vec(),
                    signature_key: b"k".to_vec(),
                },
                Timestamp(1),
            )
            .await?;
        Ok((store, room, client))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_and_notify_bodies_take_one_command() {
        let dir = tempfile::tempdir().unwrap();
        let (store, room, client) = setup(dir.path()).await.unwrap();
        let base = RoomVersion {
            epoch: 0,
            revision: 0,
        };
        let mut event = AcceptedEvent::new(base, EventKind::Application, Timestamp(5));
        event.log_payload = b"m1m2".to_vec();
        event.fanout = ["b.example", "c.example", "b.example"]
            .map(|d| Fanout {
                destination: ProviderId::from_domain(d).unwrap(),
                payload: d.as_bytes().to_vec(),
            })
            .to_vec();
        event.local = vec![MailboxDelivery {
            client: client.clone(),
            room: Some(room.clone()),
            payload: b"local".to_vec(),
        }];
        assert!(fits(&event));
        let first = append(&store, &room, &event).await.unwrap().unwrap();
        let second = append(&store, &room, &event).await.unwrap().unwrap();
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(first.version, base);
        assert_eq!(store.outbox_len().await.unwrap(), 6);
        let mailbox = store.mailbox(&client, 0, 10).await.unwrap();
        assert_eq!(mailbox.len(), 2);
        assert_eq!(mailbox[1].cursor, 2);
        assert_eq!(mailbox[1].payload, b"local");

        let stale = AcceptedEvent::new(
            RoomVersion {
                epoch: 0,
                revision: 1,
            },
            EventKind::Application,
            Timestamp(6),
        );
        assert!(append(&store, &room, &stale).await.unwrap().is_none());

        let receipt = NotifyReceipt {
            hub: ProviderId::from_domain("hub.example").unwrap(),
            body: b"body".to_vec(),
            deliveries: event.local.clone(),
            received_at: Timestamp(7),
        };
        assert!(accept_notify(&store, &receipt, b"hash").await.unwrap());
        assert!(!accept_notify(&store, &receipt, b"hash").await.unwrap());
        assert_eq!(store.mailbox(&client, 0, 10).await.unwrap().len(), 3);

        // A script failing part-way (a mailbox for an unknown client) writes nothing and
        // leaves the writer usable: the duplicate above and this one were rolled back.
        let mut ghost = event.clone();
        ghost.local[0].client = ClientId::parse("mimi://hub.example/d/ghost/1").unwrap();
        assert!(append(&store, &room, &ghost).await.unwrap().is_none());
        let third = append(&store, &room, &event).await.unwrap().unwrap();
        assert_eq!(third.seq, 3);
        assert_eq!(store.outbox_len().await.unwrap(), 9);
        store.close().await;
    }
}
