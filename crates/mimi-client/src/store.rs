//! The client's home directory: one SQLite database (`client.db`) holding the
//! identity, OpenMLS's key/value records, the room list, the message history
//! and the event cursor, behind the [`Storage`] trait (the only module of the
//! client that does I/O). Every operation ends with one transaction that
//! writes what changed, so a restart resumes exactly where the last
//! completed operation left off (decision CL-1).
//!
//! The library is sync and its callers may or may not run an async runtime.
//! `sqlx`'s SQLite driver runs each connection on its own worker thread, so
//! its futures are driven here with a plain `block_on`: no runtime is needed,
//! and calling from inside one (e.g. a CLI on tokio) does not panic.

use std::path::Path;

use futures::executor::block_on;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection as _, Row as _, SqliteConnection};

use crate::error::ClientError;
use crate::storage::{Batch, Loaded, MessageRow, RoomRow, Storage};

/// The database file inside the home directory.
pub const DATABASE_FILE: &str = "client.db";

/// Bumped when the schema changes; a newer database is refused rather than
/// misread.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mls_kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, group_id BLOB NOT NULL, \
     status INTEGER NOT NULL, created_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS messages (room TEXT NOT NULL, seq INTEGER NOT NULL, \
     message_id BLOB NOT NULL, sender TEXT NOT NULL, timestamp INTEGER NOT NULL, \
     content BLOB NOT NULL, frank BLOB, own INTEGER NOT NULL, wire_hash BLOB, \
     PRIMARY KEY (room, seq))",
];

/// An open client database.
pub(crate) struct SqliteStore {
    conn: SqliteConnection,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `home`.
    ///
    /// # Errors
    /// [`ClientError::Storage`] if the directory or database cannot be opened,
    /// or the schema is newer than this library.
    pub fn open(home: &Path) -> Result<Self, ClientError> {
        std::fs::create_dir_all(home).map_err(|e| ClientError::Storage(e.to_string()))?;
        // WAL with full sync: each operation's transaction is durable once
        // `persist` returns, which is what "resume after a crash" relies on.
        // A file name, not a URL, so any path works (spaces, `?`, `#`).
        let options = SqliteConnectOptions::new()
            .filename(home.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let mut conn = block_on(SqliteConnection::connect_with(&options))?;
        block_on(async {
            for statement in SCHEMA {
                sqlx::query(*statement).execute(&mut conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        let mut store = Self { conn };
        match store.meta_i64("schema")? {
            None => store.commit(&Batch {
                meta: vec![("schema", SCHEMA_VERSION.to_be_bytes().to_vec())],
                ..Batch::default()
            })?,
            Some(SCHEMA_VERSION) => {}
            Some(_) => return Err(ClientError::Storage("database schema is newer".into())),
        }
        Ok(store)
    }

    fn meta_i64(&mut self, key: &str) -> Result<Option<i64>, ClientError> {
        let row = block_on(
            sqlx::query("SELECT value FROM meta WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut self.conn),
        )?;
        row.map(|r| {
            let bytes: Vec<u8> = r.try_get(0)?;
            let array: [u8; 8] = bytes
                .try_into()
                .map_err(|_| ClientError::Storage(format!("meta {key} is not 8 bytes")))?;
            Ok(i64::from_be_bytes(array))
        })
        .transpose()
    }
}

impl Storage for SqliteStore {
    /// Reads everything.
    ///
    /// # Errors
    /// [`ClientError::Storage`] if the database cannot be read.
    fn load(&mut self) -> Result<Loaded, ClientError> {
        block_on(async {
            let mut out = Loaded::default();
            for r in sqlx::query("SELECT key, value FROM meta")
                .fetch_all(&mut self.conn)
                .await?
            {
                out.meta.insert(r.try_get(0)?, r.try_get(1)?);
            }
            for r in sqlx::query("SELECT key, value FROM mls_kv")
                .fetch_all(&mut self.conn)
                .await?
            {
                out.kv.insert(r.try_get(0)?, r.try_get(1)?);
            }
            for r in
                sqlx::query("SELECT room, group_id, status, created_ms FROM rooms ORDER BY room")
                    .fetch_all(&mut self.conn)
                    .await?
            {
                out.rooms.push(RoomRow {
                    room: r.try_get(0)?,
                    group_id: r.try_get(1)?,
                    status: r.try_get(2)?,
                    created_ms: r.try_get(3)?,
                });
            }
            for r in sqlx::query(
                "SELECT room, seq, message_id, sender, timestamp, content, frank, own, wire_hash \
                 FROM messages ORDER BY room, seq",
            )
            .fetch_all(&mut self.conn)
            .await?
            {
                out.messages.push(MessageRow {
                    room: r.try_get(0)?,
                    seq: r.try_get(1)?,
                    message_id: r.try_get(2)?,
                    sender: r.try_get(3)?,
                    timestamp: r.try_get(4)?,
                    content: r.try_get(5)?,
                    frank: r.try_get(6)?,
                    own: r.try_get::<i64, _>(7)? != 0,
                    wire_hash: r.try_get(8)?,
                });
            }
            Ok::<_, sqlx::Error>(out)
        })
        .map_err(ClientError::from)
    }

    /// Writes a batch in one transaction: all of it or nothing.
    ///
    /// # Errors
    /// [`ClientError::Storage`]; the database is then unchanged.
    fn commit(&mut self, batch: &Batch) -> Result<(), ClientError> {
        if batch.is_empty() {
            return Ok(());
        }
        block_on(async {
            let mut tx = self.conn.begin().await?;
            for (key, value) in &batch.kv_put {
                sqlx::query("INSERT OR REPLACE INTO mls_kv (key, value) VALUES (?, ?)")
                    .bind(key.as_slice())
                    .bind(value.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            for key in &batch.kv_delete {
                sqlx::query("DELETE FROM mls_kv WHERE key = ?")
                    .bind(key.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            for (key, value) in &batch.meta {
                sqlx::query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                    .bind(*key)
                    .bind(value.as_slice())
                    .execute(&mut *tx)
                    .await?;
            }
            for r in &batch.rooms {
                sqlx::query(
                    "INSERT OR REPLACE INTO rooms (room, group_id, status, created_ms) \
                     VALUES (?, ?, ?, ?)",
                )
                .bind(r.room.as_str())
                .bind(r.group_id.as_slice())
                .bind(r.status)
                .bind(r.created_ms)
                .execute(&mut *tx)
                .await?;
            }
            for room in &batch.rooms_delete {
                sqlx::query("DELETE FROM rooms WHERE room = ?")
                    .bind(room.as_str())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM messages WHERE room = ?")
                    .bind(room.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            for m in &batch.messages {
                sqlx::query(
                    "INSERT OR REPLACE INTO messages \
                     (room, seq, message_id, sender, timestamp, content, frank, own, wire_hash) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(m.room.as_str())
                .bind(m.seq)
                .bind(m.message_id.as_slice())
                .bind(m.sender.as_str())
                .bind(m.timestamp)
                .bind(m.content.as_slice())
                .bind(m.frank.as_deref())
                .bind(i64::from(m.own))
                .bind(m.wire_hash.as_deref())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })
        .map_err(ClientError::from)
    }
}

impl From<sqlx::Error> for ClientError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn message_row() -> impl Strategy<Value = MessageRow> {
        (
            0i64..1000,
            proptest::collection::vec(any::<u8>(), 32),
            "[a-z]{1,12}",
            any::<i64>(),
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)),
            any::<bool>(),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 32)),
        )
            .prop_map(
                |(seq, message_id, who, timestamp, content, frank, own, wire_hash)| MessageRow {
                    room: "mimi://hub.example/r/x".into(),
                    seq,
                    message_id,
                    sender: format!("mimi://a.example/u/{who}"),
                    timestamp,
                    content,
                    frank,
                    own,
                    wire_hash,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// What a batch writes is exactly what a reopen reads back.
        #[test]
        fn rows_round_trip(
            kv in proptest::collection::hash_map(
                proptest::collection::vec(any::<u8>(), 1..40),
                proptest::collection::vec(any::<u8>(), 0..200),
                0..20,
            ),
            messages in proptest::collection::vec(message_row(), 0..10),
            cursor in any::<u64>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = SqliteStore::open(dir.path()).unwrap();
            let mut unique = HashMap::new();
            for m in messages {
                unique.insert(m.seq, m);
            }
            let mut messages: Vec<MessageRow> = unique.into_values().collect();
            messages.sort_by_key(|m| m.seq);
            store
                .commit(&Batch {
                    kv_put: kv.clone().into_iter().collect(),
                    meta: vec![("cursor", cursor.to_be_bytes().to_vec())],
                    messages: messages.clone(),
                    ..Batch::default()
                })
                .unwrap();
            drop(store);
            let loaded = SqliteStore::open(dir.path()).unwrap().load().unwrap();
            prop_assert_eq!(loaded.kv, kv);
            prop_assert_eq!(loaded.messages, messages);
            prop_assert_eq!(loaded.meta.get("cursor"), Some(&cursor.to_be_bytes().to_vec()));
        }
    }

    #[test]
    fn batch_is_atomic_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store
            .commit(&Batch {
                kv_put: vec![
                    (b"k1".to_vec(), b"v1".to_vec()),
                    (b"k2".to_vec(), b"v2".to_vec()),
                ],
                meta: vec![("cursor", 7u64.to_be_bytes().to_vec())],
                rooms: vec![RoomRow {
                    room: "mimi://a.example/r/x".into(),
                    group_id: b"g".to_vec(),
                    status: 1,
                    created_ms: 5,
                }],
                ..Batch::default()
            })
            .unwrap();
        store
            .commit(&Batch {
                kv_delete: vec![b"k1".to_vec()],
                ..Batch::default()
            })
            .unwrap();
        drop(store);
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let loaded = store.load().unwrap();
        assert_eq!(loaded.kv.len(), 1);
        assert_eq!(loaded.kv.get(b"k2".as_slice()), Some(&b"v2".to_vec()));
        assert_eq!(
            loaded.meta.get("cursor"),
            Some(&7u64.to_be_bytes().to_vec())
        );
        assert_eq!(loaded.rooms.len(), 1);
    }

    #[test]
    fn any_directory_name_works() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a home?#with spaces");
        SqliteStore::open(&home).unwrap();
        assert!(home.join(DATABASE_FILE).exists());
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store
            .commit(&Batch {
                meta: vec![("schema", 99i64.to_be_bytes().to_vec())],
                ..Batch::default()
            })
            .unwrap();
        drop(store);
        assert!(matches!(
            SqliteStore::open(dir.path()),
            Err(ClientError::Storage(_))
        ));
    }
}
