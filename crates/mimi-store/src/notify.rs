//! Wake-ups for connected clients and fan-out workers.
//!
//! A write that adds mailbox or outbox entries wakes subscribers after it commits. With
//! PostgreSQL the wake travels through `NOTIFY` (sent inside the transaction, so PostgreSQL
//! delivers it only on commit) to every instance's `LISTEN` connection, so an instance learns
//! of entries another instance wrote. With SQLite there is one process, and the store
//! broadcasts after its own commit.
//!
//! A wake is only a hint: the data is in the tables. When the listener connection drops,
//! notifications may be lost, so subscribers get [`Wake::Lagged`] and should re-read.

use mimi_proto::{ClientId, RoomId};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::backend::id_from_db;
use crate::error::StoreError;

/// PostgreSQL channel for mailbox wakes; the payload is the client id.
pub(crate) const MAILBOX_CHANNEL: &str = "mimi_mailbox";
/// PostgreSQL channel for outbox wakes; the payload is the room id.
pub(crate) const OUTBOX_CHANNEL: &str = "mimi_outbox";

/// Wakes buffered per subscriber before it is told it lagged. Bounds memory when a subscriber
/// stops reading.
pub(crate) const WAKE_BUFFER: usize = 1024;

/// Something changed that a subscriber may care about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    /// New mailbox entries for this client.
    Mailbox(ClientId),
    /// New outbox entries for this room (any destination).
    Outbox(RoomId),
    /// Some wakes were missed; re-read everything of interest.
    Lagged,
}

/// A stream of [`Wake`]s from one store.
#[derive(Debug)]
pub struct Subscription {
    pub(crate) rx: broadcast::Receiver<Wake>,
}

impl Subscription {
    /// The next wake; `None` once the store is dropped.
    pub async fn recv(&mut self) -> Option<Wake> {
        match self.rx.recv().await {
            Ok(wake) => Some(wake),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Wake::Lagged),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// Listens on the PostgreSQL channels and forwards to `wakes`. `LISTEN` has completed when
/// this returns, so a subscriber that exists now sees every later commit's wake.
pub(crate) async fn spawn_pg_listener(
    pool: &PgPool,
    wakes: broadcast::Sender<Wake>,
) -> Result<JoinHandle<()>, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all([MAILBOX_CHANNEL, OUTBOX_CHANNEL])
        .await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let wake = match notification.channel() {
                        MAILBOX_CHANNEL => {
                            match id_from_db::<ClientId>(notification.payload(), "client id") {
                                Ok(client) => Wake::Mailbox(client),
                                Err(_) => {
                                    tracing::warn!("ignoring mailbox wake with a bad client id");
                                    continue;
                                }
                            }
                        }
                        _ => match id_from_db::<RoomId>(notification.payload(), "room id") {
                            Ok(room) => Wake::Outbox(room),
                            // A wake we cannot place: everyone re-reads.
                            Err(_) => Wake::Lagged,
                        },
                    };
                    // No subscribers is fine: nobody is connected.
                    let _ = wakes.send(wake);
                }
                // The connection dropped; `try_recv` reconnects on the next call. Anything
                // sent in between is lost.
                Ok(None) => {
                    let _ = wakes.send(Wake::Lagged);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "store listener failed; retrying");
                    let _ = wakes.send(Wake::Lagged);
                    // Reconnection failed; don't spin on a database that is down.
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }))
}
