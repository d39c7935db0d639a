//! Hub rooms: creation, the per-room lock, and accepting an event in one transaction.
//!
//! [`Store::lock_room`] starts a write transaction and locks the room (PostgreSQL: `SELECT …
//! FOR UPDATE` on the room row, which works across instances and on distributed engines that
//! lack advisory locks; SQLite: the single writer under `BEGIN IMMEDIATE`). The caller reads
//! what it needs, runs its hub step, and hands the result to [`RoomTxn::commit`], which writes
//! the new state, the event log entry, the fan-out outbox rows and the local mailbox entries
//! in that same transaction. Dropping a [`RoomTxn`] rolls everything back.

use std::collections::BTreeMap;

use mimi_proto::{ProviderId, RoomId};

use crate::backend::{
    Conn, Pools, Tx, from_db, id_from_db, to_db, ts_from_db, ts_to_db, with_conn,
};
use crate::error::{Conflict, Record, StoreError};
use crate::mailbox::enqueue_mailbox;
use crate::model::{
    Accepted, AcceptedEvent, EventKind, NewRoom, QueuedProposal, RoomSnapshot, RoomVersion,
    StateChange,
};
use crate::outbox::enqueue_fanout;
use crate::store::{PendingWakes, Store};

impl Store {
    /// Creates a room at its first epoch.
    ///
    /// # Errors
    /// [`Conflict::AlreadyExists`] if the room exists.
    pub async fn create_room(&self, room: &NewRoom) -> Result<(), StoreError> {
        let now = ts_to_db(room.created_at)?;
        let epoch = to_db(room.epoch, "epoch above i64::MAX")?;
        let mut tx = self.pools().begin_write().await?;
        with_conn!(tx.conn(), c => sqlx::query(
                "INSERT INTO rooms (room_id, hub, epoch, revision, last_seq, created_at, updated_at) \
                 VALUES ($1, $2, $3, 0, 0, $4, $4)")
            .bind(room.room.as_str())
            .bind(room.hub.as_str())
            .bind(epoch)
            .bind(now)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| StoreError::unique(e, Record::Room))?;
        with_conn!(tx.conn(), c => sqlx::query(
                "INSERT INTO room_epochs (room_id, epoch, mls_state, group_info, room_state) \
                 VALUES ($1, $2, $3, $4, $5)")
            .bind(room.room.as_str())
            .bind(epoch)
            .bind(&room.mls_state)
            .bind(&room.group_info)
            .bind(&room.room_state)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// Locks a room for one accepted event. Other writers to the same room, in this process
    /// or another, wait until the returned transaction commits or is dropped.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the room does not exist.
    pub async fn lock_room(&self, room: &RoomId) -> Result<RoomTxn, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let sql = match tx {
            Tx::Postgres(_) => {
                "SELECT hub, epoch, revision, last_seq FROM rooms WHERE room_id = $1 FOR UPDATE"
            }
            Tx::Sqlite(_) => "SELECT hub, epoch, revision, last_seq FROM rooms WHERE room_id = $1",
        };
        let row: Option<(String, i64, i64, i64)> = with_conn!(tx.conn(), c => sqlx::query_as(sql)
            .bind(room.as_str())
            .fetch_optional(&mut *c)
            .await)?;
        let Some((hub, epoch, revision, last_seq)) = row else {
            return Err(StoreError::NotFound(Record::Room));
        };
        Ok(RoomTxn {
            store: self.clone(),
            tx,
            room: room.clone(),
            hub: id_from_db(&hub, "hub")?,
            version: RoomVersion {
                epoch: from_db(epoch, "epoch")?,
                revision: from_db(revision, "revision")?,
            },
            last_seq: from_db(last_seq, "sequence number")?,
        })
    }

    /// Locks `room` and commits `event`: [`lock_room`](Self::lock_room) followed by
    /// [`RoomTxn::commit`], for a writer that needs nothing read under the lock. On SQLite an
    /// event that leaves the room state unchanged (application messages) is written by one
    /// multi-statement command instead of a round trip per statement (`script`).
    ///
    /// # Errors
    /// As [`lock_room`](Self::lock_room) and [`RoomTxn::commit`].
    pub async fn append_event(
        &self,
        room: &RoomId,
        event: &AcceptedEvent,
    ) -> Result<Accepted, StoreError> {
        if matches!(self.pools(), Pools::Sqlite { .. })
            && crate::script::fits(event)
            && let Some(accepted) = crate::script::append(self, room, event).await?
        {
            return Ok(accepted);
        }
        self.lock_room(room).await?.commit(event).await
    }
}

/// A locked room inside an open write transaction. Dropping it rolls back.
#[derive(Debug)]
pub struct RoomTxn {
    store: Store,
    tx: Tx,
    room: RoomId,
    hub: ProviderId,
    version: RoomVersion,
    last_seq: u64,
}

impl RoomTxn {
    /// The locked room.
    pub fn room(&self) -> &RoomId {
        &self.room
    }

    /// The room's hub provider.
    pub fn hub(&self) -> &ProviderId {
        &self.hub
    }

    /// The version of the locked row: compare a cached state's version with this before
    /// trusting it (see [`EpochCache`](crate::EpochCache)).
    pub fn version(&self) -> RoomVersion {
        self.version
    }

    /// The current MLS epoch.
    pub fn epoch(&self) -> u64 {
        self.version.epoch
    }

    /// Loads the current state (skip it when the cache holds this version).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the epoch's state row is missing.
    pub async fn snapshot(&mut self) -> Result<RoomSnapshot, StoreError> {
        let epoch = to_db(self.version.epoch, "epoch above i64::MAX")?;
        let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = with_conn!(self.tx.conn(), c => sqlx::query_as(
                "SELECT mls_state, group_info, room_state FROM room_epochs \
                 WHERE room_id = $1 AND epoch = $2")
            .bind(self.room.as_str())
            .bind(epoch)
            .fetch_optional(&mut *c)
            .await)?;
        let (mls_state, group_info, room_state) =
            row.ok_or(StoreError::Corrupt("room has no state for its epoch"))?;
        let proposals = self.proposals().await?;
        Ok(RoomSnapshot {
            room: self.room.clone(),
            hub: self.hub.clone(),
            version: self.version,
            mls_state,
            group_info,
            room_state,
            proposals,
        })
    }

    /// The current epoch's proposal queue, in acceptance order.
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn proposals(&mut self) -> Result<Vec<QueuedProposal>, StoreError> {
        load_proposals(self.tx.conn(), &self.room, self.version.epoch).await
    }

    /// The provider a KeyPackageRef was fetched from for this room (Welcome routing).
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn key_package_route(
        &mut self,
        key_package_ref: &[u8],
    ) -> Result<Option<ProviderId>, StoreError> {
        crate::history::load_route(self.tx.conn(), &self.room, key_package_ref).await
    }

    /// Writes an accepted event and everything it causes, then commits. On any error nothing
    /// is written.
    ///
    /// # Errors
    /// [`Conflict::Stale`] if `event.base` is not the locked version;
    /// [`StoreError::InvalidInput`] if a new epoch is not the next one;
    /// [`Conflict::AlreadyExists`] for a proposal already queued in the epoch;
    /// [`StoreError::NotFound`] for a mailbox entry to an unknown client.
    pub async fn commit(mut self, event: &AcceptedEvent) -> Result<Accepted, StoreError> {
        if event.base != self.version {
            return Err(StoreError::Conflict(Conflict::Stale {
                expected: event.base,
                actual: self.version,
            }));
        }
        let old = self.version;
        let epoch = match &event.change {
            StateChange::NewEpoch { epoch, .. } if Some(*epoch) != old.epoch.checked_add(1) => {
                return Err(StoreError::InvalidInput(
                    "a commit must open the next epoch",
                ));
            }
            StateChange::NewEpoch { epoch, .. } => *epoch,
            StateChange::Unchanged | StateChange::Update { .. } => old.epoch,
        };
        let changes_state =
            !matches!(event.change, StateChange::Unchanged) || !event.new_proposals.is_empty();
        let new = RoomVersion {
            epoch,
            revision: old.revision + u64::from(changes_state),
        };
        let seq = self.last_seq + 1;
        let room = self.room.as_str();
        let db_epoch = to_db(epoch, "epoch above i64::MAX")?;
        let accepted_at = ts_to_db(event.accepted_at)?;

        // Guarded by the old version as well as by the lock, so a write based on anything but
        // the locked row can never land.
        let updated = with_conn!(self.tx.conn(), c => sqlx::query(
                "UPDATE rooms SET epoch = $1, revision = $2, last_seq = $3, updated_at = $4 \
                 WHERE room_id = $5 AND epoch = $6 AND revision = $7")
            .bind(db_epoch)
            .bind(to_db(new.revision, "revision above i64::MAX")?)
            .bind(to_db(seq, "sequence number above i64::MAX")?)
            .bind(accepted_at)
            .bind(room)
            .bind(to_db(old.epoch, "epoch above i64::MAX")?)
            .bind(to_db(old.revision, "revision above i64::MAX")?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        if updated != 1 {
            return Err(StoreError::Conflict(Conflict::Stale {
                expected: old,
                actual: old,
            }));
        }

        write_state(
            &mut self.tx,
            &self.room,
            &event.change,
            self.store.inner.config.epoch_retention,
        )
        .await?;
        append_proposals(self.tx.conn(), &self.room, epoch, &event.new_proposals).await?;

        with_conn!(self.tx.conn(), c => sqlx::query(
                "INSERT INTO room_events (room_id, seq, epoch, kind, accepted_at, payload) \
                 VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(room)
            .bind(to_db(seq, "sequence number above i64::MAX")?)
            .bind(db_epoch)
            .bind(kind_to_db(event.kind))
            .bind(accepted_at)
            .bind(&event.log_payload)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;

        let mut wakes = PendingWakes::default();
        if !event.fanout.is_empty() {
            enqueue_fanout(
                self.tx.conn(),
                &self.room,
                seq,
                &event.fanout,
                event.accepted_at,
            )
            .await?;
            wakes.outbox = Some(self.room.clone());
        }
        wakes.clients = enqueue_mailbox(self.tx.conn(), &event.local, event.accepted_at).await?;
        for key_package_ref in &event.forget_key_package_refs {
            with_conn!(self.tx.conn(), c => sqlx::query(
                    "DELETE FROM room_kp_routes WHERE room_id = $1 AND kp_ref = $2")
                .bind(room)
                .bind(key_package_ref)
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))?;
        }
        self.store.commit_waking(self.tx, wakes).await?;
        Ok(Accepted { seq, version: new })
    }

    /// Rolls back explicitly (dropping does the same, without reporting errors).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await
    }
}

/// Writes the serialized state for `change` and, for a new epoch, drops the old epoch's
/// proposals and snapshots beyond the retention.
async fn write_state(
    tx: &mut Tx,
    room: &RoomId,
    change: &StateChange,
    retention: u64,
) -> Result<(), StoreError> {
    match change {
        StateChange::Unchanged => {}
        StateChange::Update {
            mls_state,
            room_state,
        } => {
            // The epoch did not change, so the row being updated is the locked epoch's.
            with_conn!(tx.conn(), c => sqlx::query(
                    "UPDATE room_epochs SET mls_state = $1, room_state = $2 \
                     WHERE room_id = $3 AND epoch = (SELECT epoch FROM rooms WHERE room_id = $3)")
                .bind(mls_state)
                .bind(room_state)
                .bind(room.as_str())
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))?;
        }
        StateChange::NewEpoch {
            epoch,
            mls_state,
            group_info,
            room_state,
        } => {
            let db_epoch = to_db(*epoch, "epoch above i64::MAX")?;
            with_conn!(tx.conn(), c => sqlx::query(
                    "INSERT INTO room_epochs (room_id, epoch, mls_state, group_info, room_state) \
                     VALUES ($1, $2, $3, $4, $5)")
                .bind(room.as_str())
                .bind(db_epoch)
                .bind(mls_state)
                .bind(group_info)
                .bind(room_state)
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))?;
            // A new epoch invalidates the old epoch's proposals (draft §7.2).
            with_conn!(tx.conn(), c => sqlx::query(
                    "DELETE FROM room_proposals WHERE room_id = $1 AND epoch < $2")
                .bind(room.as_str())
                .bind(db_epoch)
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))?;
            let keep_from = epoch.saturating_sub(retention.saturating_sub(1));
            with_conn!(tx.conn(), c => sqlx::query(
                    "DELETE FROM room_epochs WHERE room_id = $1 AND epoch < $2")
                .bind(room.as_str())
                .bind(to_db(keep_from, "epoch above i64::MAX")?)
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))?;
        }
    }
    Ok(())
}

/// Appends proposals to the queue of `epoch`, after any already there.
async fn append_proposals(
    mut conn: Conn<'_>,
    room: &RoomId,
    epoch: u64,
    proposals: &[QueuedProposal],
) -> Result<(), StoreError> {
    if proposals.is_empty() {
        return Ok(());
    }
    let db_epoch = to_db(epoch, "epoch above i64::MAX")?;
    let (last,): (i64,) = with_conn!(&mut conn, c => sqlx::query_as(
            "SELECT COALESCE(MAX(position), 0) FROM room_proposals WHERE room_id = $1 AND epoch = $2")
        .bind(room.as_str())
        .bind(db_epoch)
        .fetch_one(&mut **c)
        .await)?;
    for (offset, proposal) in (1..).zip(proposals) {
        with_conn!(&mut conn, c => sqlx::query(
                "INSERT INTO room_proposals \
                 (room_id, epoch, position, proposal_ref, message, sender, accepted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(room.as_str())
            .bind(db_epoch)
            .bind(last + offset)
            .bind(&proposal.proposal_ref)
            .bind(&proposal.message)
            .bind(proposal.sender.as_str())
            .bind(ts_to_db(proposal.accepted_at)?)
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| StoreError::unique(e, Record::Proposal))?;
    }
    Ok(())
}

/// The proposal queue of `epoch`, in order.
pub(crate) async fn load_proposals(
    conn: Conn<'_>,
    room: &RoomId,
    epoch: u64,
) -> Result<Vec<QueuedProposal>, StoreError> {
    let rows: Vec<(Vec<u8>, Vec<u8>, String, i64)> = with_conn!(conn, c => sqlx::query_as(
            "SELECT proposal_ref, message, sender, accepted_at FROM room_proposals \
             WHERE room_id = $1 AND epoch = $2 ORDER BY position")
        .bind(room.as_str())
        .bind(to_db(epoch, "epoch above i64::MAX")?)
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter()
        .map(|(proposal_ref, message, sender, accepted_at)| {
            Ok(QueuedProposal {
                proposal_ref,
                message,
                sender: id_from_db(&sender, "proposal sender")?,
                accepted_at: ts_from_db(accepted_at)?,
            })
        })
        .collect()
}

pub(crate) fn kind_to_db(kind: EventKind) -> i64 {
    match kind {
        EventKind::Application => 1,
        EventKind::Commit => 2,
        EventKind::Proposal => 3,
    }
}

pub(crate) fn kind_from_db(kind: i64) -> Result<EventKind, StoreError> {
    match kind {
        1 => Ok(EventKind::Application),
        2 => Ok(EventKind::Commit),
        3 => Ok(EventKind::Proposal),
        _ => Err(StoreError::Corrupt("event kind")),
    }
}

/// Groups items by key, keeping their order within a key; keys come out sorted so that rows
/// are always locked in the same order (no deadlocks between transactions).
pub(crate) fn group_in_order<'a, K: Ord + Clone + 'a, T: 'a>(
    items: impl IntoIterator<Item = (&'a K, T)>,
) -> BTreeMap<K, Vec<T>> {
    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
    for (key, item) in items {
        groups.entry(key.clone()).or_default().push(item);
    }
    groups
}
