//! Follower inbox: dedup of received `notify` bodies (draft §5.5: a byte-identical body from
//! the same hub gets 201 and is processed once).
//!
//! Recording the hash and writing the body's mailbox entries happen in one transaction, so a
//! crash can neither lose a body that was acknowledged nor deliver one twice.

use sha2::{Digest, Sha256};

use crate::backend::{Pools, ts_to_db, with_conn};
use crate::error::StoreError;
use crate::mailbox::enqueue_mailbox;
use crate::model::{NotifyOutcome, NotifyReceipt, Timestamp};
use crate::store::{PendingWakes, Store};

impl Store {
    /// Records a received `notify` body and, if it is new, writes its deliveries.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if a delivery names an unknown client; nothing is recorded
    /// then, so a retry of the same body is processed again.
    pub async fn accept_notify(
        &self,
        receipt: &NotifyReceipt,
    ) -> Result<NotifyOutcome, StoreError> {
        let hash = Sha256::digest(&receipt.body).to_vec();
        // SQLite: one command for the whole write; a duplicate or a failure falls through to
        // the statement path below, which tells them apart.
        if matches!(self.pools(), Pools::Sqlite { .. })
            && crate::script::accept_notify(self, receipt, &hash).await?
        {
            return Ok(NotifyOutcome::New);
        }
        let now = ts_to_db(receipt.received_at)?;
        let mut tx = self.pools().begin_write().await?;
        let inserted = with_conn!(tx.conn(), c => sqlx::query(
                "INSERT INTO inbox_seen (hub, body_hash, seen_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (hub, body_hash) DO NOTHING")
            .bind(receipt.hub.as_str())
            .bind(hash)
            .bind(now)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(NotifyOutcome::Duplicate);
        }
        let clients = enqueue_mailbox(tx.conn(), &receipt.deliveries, receipt.received_at).await?;
        self.commit_waking(
            tx,
            PendingWakes {
                clients,
                outbox: None,
            },
        )
        .await?;
        Ok(NotifyOutcome::New)
    }

    /// Forgets hashes recorded before `before` (the rolling window of draft §5.5). Returns
    /// how many were forgotten.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn prune_inbox(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let done = with_conn!(tx.conn(), c => sqlx::query("DELETE FROM inbox_seen WHERE seen_at < $1")
            .bind(ts_to_db(before)?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(done)
    }
}
