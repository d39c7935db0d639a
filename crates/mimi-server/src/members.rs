//! Which of our own clients are in which room, as far as this provider knows:
//! the recipients of a room's fanned-out events on a follower.
//!
//! A follower never sees a room's ratchet tree evolve (it only forwards), so it
//! learns membership from what passes through it: a Welcome routed by
//! KeyPackageRef to one of its clients, and room creation through the admin
//! API. Removals are not tracked; a removed client receives ciphertexts it can
//! no longer decrypt, which reveals nothing its own provider does not already
//! see (decisions FED-9).
//!
//! `mimi-store` has no table for this yet, so it lives in its own small SQLite
//! file in the data directory (`members.db`). Adding a member is idempotent and
//! made durable before the delivery that depends on it commits, so a crash in
//! between only causes a redelivery.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Mutex;

use mimi_proto::{ClientId, RoomId};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::ServerError;

/// File name inside the data directory.
pub const MEMBERS_FILE: &str = "members.db";

/// Most members remembered per room. Bounds the fan-out to local mailboxes one
/// event can cause here; far above any real room's clients on one provider.
pub const MAX_LOCAL_MEMBERS_PER_ROOM: usize = 10_000;

/// Local room membership, durable, with an in-memory read cache.
#[derive(Debug)]
pub struct Members {
    pool: SqlitePool,
    /// Rooms read so far; the file is only written through this struct, so the
    /// cache is never stale.
    cache: Mutex<HashMap<RoomId, Vec<ClientId>>>,
}

impl Members {
    /// Opens (creating if needed) the membership file in `dir`.
    ///
    /// # Errors
    /// [`ServerError::Config`] if the file cannot be opened or initialized.
    pub async fn open(dir: &Path) -> Result<Self, ServerError> {
        let path = dir.join(MEMBERS_FILE);
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS room_members (\
             room_id TEXT NOT NULL, client_id TEXT NOT NULL, PRIMARY KEY (room_id, client_id))",
        )
        .execute(&pool)
        .await
        .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        Ok(Self {
            pool,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Records that `client` is in `room`. Returns whether it was new.
    ///
    /// # Errors
    /// The database error; nothing is recorded then.
    pub async fn add(&self, room: &RoomId, client: &ClientId) -> Result<bool, sqlx::Error> {
        let current = self.of_room(room).await?;
        if current.contains(client) {
            return Ok(false);
        }
        if current.len() >= MAX_LOCAL_MEMBERS_PER_ROOM {
            return Err(sqlx::Error::Protocol(
                "too many local members in one room".into(),
            ));
        }
        sqlx::query("INSERT OR IGNORE INTO room_members (room_id, client_id) VALUES ($1, $2)")
            .bind(room.as_str())
            .bind(client.as_str())
            .execute(&self.pool)
            .await?;
        self.lock()
            .entry(room.clone())
            .or_default()
            .push(client.clone());
        Ok(true)
    }

    /// The local clients in `room`, in the order they were added.
    ///
    /// # Errors
    /// The database error.
    pub async fn of_room(&self, room: &RoomId) -> Result<Vec<ClientId>, sqlx::Error> {
        if let Some(members) = self.lock().get(room) {
            return Ok(members.clone());
        }
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT client_id FROM room_members WHERE room_id = $1 ORDER BY rowid")
                .bind(room.as_str())
                .fetch_all(&self.pool)
                .await?;
        let members: Vec<ClientId> = rows
            .into_iter()
            .filter_map(|(c,)| ClientId::parse(&c).ok())
            .collect();
        self.lock().insert(room.clone(), members.clone());
        Ok(members)
    }

    /// Closes the file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Vec<ClientId>>> {
        // Every critical section is one map operation, so a panic elsewhere
        // cannot leave the map half-updated.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn membership_is_durable_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let room = RoomId::parse("mimi://a.example/r/x").unwrap();
        let bob = ClientId::parse("mimi://b.example/d/bob/1").unwrap();
        let bob2 = ClientId::parse("mimi://b.example/d/bob/2").unwrap();
        {
            let m = Members::open(dir.path()).await.unwrap();
            assert!(m.add(&room, &bob).await.unwrap());
            assert!(!m.add(&room, &bob).await.unwrap());
            assert!(m.add(&room, &bob2).await.unwrap());
            m.close().await;
        }
        let m = Members::open(dir.path()).await.unwrap();
        assert_eq!(m.of_room(&room).await.unwrap(), vec![bob, bob2]);
        let other = RoomId::parse("mimi://a.example/r/y").unwrap();
        assert!(m.of_room(&other).await.unwrap().is_empty());
    }
}
