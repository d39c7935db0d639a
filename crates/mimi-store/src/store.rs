//! The store handle: opening, migrating, closing, and commit-with-wakes.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use mimi_proto::{ClientId, RoomId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::backend::{Pools, Tx};
use crate::config::{BackendKind, StoreConfig};
use crate::error::{BackendErrorKind, StoreError};
use crate::migrate;
use crate::notify::{self, MAILBOX_CHANNEL, OUTBOX_CHANNEL, Subscription, WAKE_BUFFER, Wake};

/// A handle on the database. Cheap to clone; clones share the pools.
///
/// Two `Store`s opened on the same database behave like two server instances: every
/// guarantee (one commit per epoch, once-only outbox delivery, once-only KeyPackage
/// reservation) holds across them.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) pools: Pools,
    pub(crate) config: StoreConfig,
    wakes: broadcast::Sender<Wake>,
    /// The PostgreSQL `LISTEN` task; stopped by `close` or when the last handle goes. It
    /// holds a pool connection, so the pool cannot close while it runs.
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = self.take_listener() {
            listener.abort();
        }
    }
}

impl Inner {
    fn take_listener(&self) -> Option<JoinHandle<()>> {
        self.listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Store {
    /// Connects, applies pending migrations and, on PostgreSQL, starts listening for wakes.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL`: an accepted event is a delivery
    /// commitment (draft §5.3 `success`), so it must survive power loss, not only a crash of
    /// the process (see docs/decisions.md ST-2). Foreign keys are enforced. The database file
    /// is created if missing.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an unknown URL scheme or a zero `epoch_retention`;
    /// [`StoreError::Backend`] if the database cannot be reached or migrated.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        if config.epoch_retention == 0 {
            return Err(StoreError::InvalidInput(
                "epoch_retention must be at least 1",
            ));
        }
        let (wakes, _) = broadcast::channel(WAKE_BUFFER);
        let (pools, listener) = match config.backend()? {
            BackendKind::Sqlite => (open_sqlite(config).await?, None),
            BackendKind::Postgres => {
                let options = PgConnectOptions::from_str(&config.url).map_err(|_| {
                    StoreError::backend(BackendErrorKind::Configuration, "bad PostgreSQL URL")
                })?;
                let pool = PgPoolOptions::new()
                    .max_connections(config.max_connections.max(1))
                    .acquire_timeout(config.acquire_timeout)
                    .connect_with(options)
                    .await?;
                migrate::migrator(migrate::POSTGRES).run(&pool).await?;
                let listener = notify::spawn_pg_listener(&pool, wakes.clone()).await?;
                (Pools::Postgres(pool), Some(listener))
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pools,
                config: config.clone(),
                wakes,
                listener: Mutex::new(listener),
            }),
        })
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> BackendKind {
        match self.inner.pools {
            Pools::Postgres(_) => BackendKind::Postgres,
            Pools::Sqlite { .. } => BackendKind::Sqlite,
        }
    }

    /// Stops listening for wakes and closes the pools, waiting for connections in use to be
    /// returned. Every handle sharing the pools is closed.
    pub async fn close(&self) {
        if let Some(listener) = self.inner.take_listener() {
            listener.abort();
            // Cancelled is the expected outcome; the point is that its connection is gone.
            let _ = listener.await;
        }
        self.inner.pools.close().await;
    }

    /// Wakes for new mailbox and outbox entries, from this and (on PostgreSQL) every other
    /// instance on the same database. Only wakes after this call are seen.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.inner.wakes.subscribe(),
        }
    }

    pub(crate) fn pools(&self) -> &Pools {
        &self.inner.pools
    }

    /// Commits `tx`, waking subscribers for `wakes` (PostgreSQL: `NOTIFY` inside the
    /// transaction; SQLite: a broadcast after it).
    pub(crate) async fn commit_waking(
        &self,
        mut tx: Tx,
        wakes: PendingWakes,
    ) -> Result<(), StoreError> {
        if let Tx::Postgres(pg) = &mut tx {
            if !wakes.clients.is_empty() {
                let clients: Vec<String> = wakes
                    .clients
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect();
                sqlx::query("SELECT pg_notify($1, c) FROM unnest($2::text[]) AS c")
                    .bind(MAILBOX_CHANNEL)
                    .bind(clients)
                    .execute(&mut **pg)
                    .await?;
            }
            if let Some(room) = &wakes.outbox {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(OUTBOX_CHANNEL)
                    .bind(room.as_str())
                    .execute(&mut **pg)
                    .await?;
            }
        }
        let local = matches!(tx, Tx::Sqlite(_));
        tx.commit().await?;
        if local {
            self.wake(wakes);
        }
        Ok(())
    }

    /// Wakes this process's subscribers after a SQLite transaction committed (PostgreSQL
    /// wakes travel as `NOTIFY` inside the transaction instead).
    pub(crate) fn wake(&self, wakes: PendingWakes) {
        for client in wakes.clients {
            let _ = self.inner.wakes.send(Wake::Mailbox(client));
        }
        if let Some(room) = wakes.outbox {
            let _ = self.inner.wakes.send(Wake::Outbox(room));
        }
    }
}

/// Wakes to send once a transaction commits.
#[derive(Debug, Default)]
pub(crate) struct PendingWakes {
    pub(crate) clients: BTreeSet<ClientId>,
    /// The room whose outbox entries were added, if any.
    pub(crate) outbox: Option<RoomId>,
}

async fn open_sqlite(config: &StoreConfig) -> Result<Pools, StoreError> {
    let options = SqliteConnectOptions::from_str(&config.url)
        .map_err(|_| StoreError::backend(BackendErrorKind::Configuration, "bad SQLite URL"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(config.busy_timeout)
        .foreign_keys(true);
    // No ping before each use: a connection to a local file does not go stale, and the ping
    // is one more round trip to the connection's thread per query.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(config.acquire_timeout)
        .connect_with(options.clone())
        .await?;
    migrate::migrator(migrate::SQLITE).run(&writer).await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(config.max_connections.max(1))
        .test_before_acquire(false)
        .acquire_timeout(config.acquire_timeout)
        .connect_with(options.read_only(true))
        .await?;
    Ok(Pools::Sqlite { writer, reader })
}
