//! Follower-side room membership: which of this provider's clients are in which room, learned
//! from Welcomes it routed and rooms it created. It decides who receives a room's fanned-out
//! events. Stored with everything else so that several instances on one PostgreSQL database
//! agree on it.

use mimi_proto::{ClientId, RoomId};

use crate::backend::{id_from_db, ts_to_db, with_conn, with_reader};
use crate::error::{Record, StoreError};
use crate::model::Timestamp;
use crate::store::Store;

impl Store {
    /// Records that `client` is in `room`. Idempotent: returns whether it was new.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if the client does not exist.
    pub async fn add_room_member(
        &self,
        room: &RoomId,
        client: &ClientId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let added = with_conn!(tx.conn(), c => sqlx::query(
                "INSERT INTO room_members (room_id, client_id, added_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (room_id, client_id) DO NOTHING")
            .bind(room.as_str())
            .bind(client.as_str())
            .bind(ts_to_db(now)?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))
        .map_err(|e| StoreError::insert(e, Record::Client, Record::Client))?;
        tx.commit().await?;
        Ok(added > 0)
    }

    /// Forgets that `client` is in `room`. Returns whether it was recorded.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn remove_room_member(
        &self,
        room: &RoomId,
        client: &ClientId,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let removed = with_conn!(tx.conn(), c => sqlx::query(
                "DELETE FROM room_members WHERE room_id = $1 AND client_id = $2")
            .bind(room.as_str())
            .bind(client.as_str())
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Whether `client` is recorded in `room`: a read, so a caller can skip the write of
    /// [`Store::add_room_member`] on a hot path.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn is_room_member(
        &self,
        room: &RoomId,
        client: &ClientId,
    ) -> Result<bool, StoreError> {
        let (count,): (i64,) = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT COUNT(*) FROM room_members WHERE room_id = $1 AND client_id = $2")
            .bind(room.as_str())
            .bind(client.as_str())
            .fetch_one(p)
            .await)?;
        Ok(count > 0)
    }

    /// This provider's clients in `room`, ordered by client id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn room_members(&self, room: &RoomId) -> Result<Vec<ClientId>, StoreError> {
        let rows: Vec<(String,)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT client_id FROM room_members WHERE room_id = $1 ORDER BY client_id")
            .bind(room.as_str())
            .fetch_all(p)
            .await)?;
        rows.iter()
            .map(|(client,)| id_from_db(client, "client id"))
            .collect()
    }
}
