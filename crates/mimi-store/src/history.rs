//! Unlocked reads of hub rooms: version, join information, the event log for history sync,
//! and the KeyPackageRef → provider routes the hub keeps for Welcome routing.

use mimi_proto::{ProviderId, RoomId};

use crate::backend::{Conn, from_db, id_from_db, to_db, ts_from_db, with_conn, with_reader};
use crate::error::{Record, StoreError};
use crate::model::{JoinInfo, KeyPackageRoute, LoggedEvent, RoomVersion, Timestamp};
use crate::rooms::{kind_from_db, load_proposals};
use crate::store::Store;

/// Most events one history read returns. Bounds the memory of a page.
pub const MAX_HISTORY_PAGE: u32 = 1000;

impl Store {
    /// The room's current version, without locking. Stale as soon as it is returned: use it
    /// for hints, and [`Store::lock_room`] for decisions.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the room does not exist.
    pub async fn room_version(&self, room: &RoomId) -> Result<RoomVersion, StoreError> {
        let row: Option<(i64, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT epoch, revision FROM rooms WHERE room_id = $1")
            .bind(room.as_str())
            .fetch_optional(p)
            .await)?;
        let (epoch, revision) = row.ok_or(StoreError::NotFound(Record::Room))?;
        Ok(RoomVersion {
            epoch: from_db(epoch, "epoch")?,
            revision: from_db(revision, "revision")?,
        })
    }

    /// The room-state bytes (the GroupContext `app_data_dictionary`) of the room's current
    /// epoch, without locking: for read-only policy checks outside the room's lane
    /// (proxyDownload's `asset_policy`).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the room does not exist.
    pub async fn current_room_state(&self, room: &RoomId) -> Result<Vec<u8>, StoreError> {
        let row: Option<(Vec<u8>,)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT e.room_state FROM rooms r \
                 JOIN room_epochs e ON e.room_id = r.room_id AND e.epoch = r.epoch \
                 WHERE r.room_id = $1")
            .bind(room.as_str())
            .fetch_optional(p)
            .await)?;
        row.map(|(state,)| state)
            .ok_or(StoreError::NotFound(Record::Room))
    }

    /// The current GroupInfo and proposal queue, read consistently without taking the room
    /// lock (draft §5.6 groupInfo).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the room does not exist.
    pub async fn join_info(&self, room: &RoomId) -> Result<JoinInfo, StoreError> {
        // One read transaction, so the GroupInfo and the queue belong to the same version.
        let mut tx = self.pools().begin_read().await?;
        let row: Option<(i64, i64, Vec<u8>)> = with_conn!(tx.conn(), c => sqlx::query_as(
                "SELECT r.epoch, r.revision, e.group_info FROM rooms r \
                 JOIN room_epochs e ON e.room_id = r.room_id AND e.epoch = r.epoch \
                 WHERE r.room_id = $1")
            .bind(room.as_str())
            .fetch_optional(&mut *c)
            .await)?;
        let (epoch, revision, group_info) = row.ok_or(StoreError::NotFound(Record::Room))?;
        let version = RoomVersion {
            epoch: from_db(epoch, "epoch")?,
            revision: from_db(revision, "revision")?,
        };
        let proposals = load_proposals(tx.conn(), room, version.epoch).await?;
        tx.rollback().await?;
        Ok(JoinInfo {
            version,
            group_info,
            proposals,
        })
    }

    /// Room events with a sequence number above `after`, oldest first, at most `limit`
    /// (capped at [`MAX_HISTORY_PAGE`]).
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn room_events(
        &self,
        room: &RoomId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let rows: Vec<(i64, i64, i64, i64, Vec<u8>)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT seq, epoch, kind, accepted_at, payload FROM room_events \
                 WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(room.as_str())
            .bind(to_db(after, "sequence number above i64::MAX")?)
            .bind(i64::from(limit.min(MAX_HISTORY_PAGE)))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(seq, epoch, kind, accepted_at, payload)| {
                Ok(LoggedEvent {
                    seq: from_db(seq, "sequence number")?,
                    epoch: from_db(epoch, "epoch")?,
                    kind: kind_from_db(kind)?,
                    accepted_at: ts_from_db(accepted_at)?,
                    payload,
                })
            })
            .collect()
    }

    /// Remembers which provider each KeyPackageRef was fetched from for `room` (draft
    /// §4.3.1), replacing earlier entries for the same refs.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the room does not exist.
    pub async fn record_key_package_routes(
        &self,
        room: &RoomId,
        routes: &[KeyPackageRoute],
    ) -> Result<(), StoreError> {
        let mut tx = self.pools().begin_write().await?;
        for route in routes {
            with_conn!(tx.conn(), c => sqlx::query(
                    "INSERT INTO room_kp_routes (room_id, kp_ref, provider, not_after) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (room_id, kp_ref) \
                     DO UPDATE SET provider = excluded.provider, not_after = excluded.not_after")
                .bind(room.as_str())
                .bind(&route.key_package_ref)
                .bind(route.provider.as_str())
                .bind(to_db(route.not_after, "not_after above i64::MAX")?)
                .execute(&mut *c)
                .await.map(|r| r.rows_affected()))
            .map_err(|e| StoreError::insert(e, Record::KeyPackage, Record::Room))?;
        }
        tx.commit().await
    }

    /// The provider a KeyPackageRef was fetched from for `room`, if known.
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn key_package_route(
        &self,
        room: &RoomId,
        key_package_ref: &[u8],
    ) -> Result<Option<ProviderId>, StoreError> {
        let mut conn = self.pools().acquire_read().await?;
        load_route(conn.conn(), room, key_package_ref).await
    }

    /// Deletes routes whose `not_after` (seconds) is at or before `now`.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn purge_key_package_routes(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let done = with_conn!(tx.conn(), c => sqlx::query("DELETE FROM room_kp_routes WHERE not_after <= $1")
            .bind(to_db(now.as_secs(), "timestamp above i64::MAX")?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(done)
    }
}

pub(crate) async fn load_route(
    conn: Conn<'_>,
    room: &RoomId,
    key_package_ref: &[u8],
) -> Result<Option<ProviderId>, StoreError> {
    let row: Option<(String,)> = with_conn!(conn, c => sqlx::query_as(
            "SELECT provider FROM room_kp_routes WHERE room_id = $1 AND kp_ref = $2")
        .bind(room.as_str())
        .bind(key_package_ref)
        .fetch_optional(&mut *c)
        .await)?;
    row.map(|(provider,)| id_from_db(&provider, "provider"))
        .transpose()
}
