//! Per-client mailboxes with a resumable cursor.
//!
//! Cursors come from a per-client counter row that the writing transaction updates, so a
//! second transaction writing to the same client waits for the first to commit: cursors
//! become visible in increasing order, and a client that resumes after cursor `n` never
//! misses an entry that commits later with a smaller cursor (which a shared sequence would
//! allow on PostgreSQL).

use std::collections::BTreeSet;

use mimi_proto::ClientId;

use crate::backend::{
    BulkInsert, Conn, LazyBulkInsert, from_db, id_from_db, to_db, ts_from_db, ts_to_db, with_conn,
    with_reader,
};
use crate::error::{Record, StoreError};
use crate::model::{MailboxDelivery, MailboxEntry, Timestamp};
use crate::rooms::group_in_order;
use crate::store::{PendingWakes, Store};

/// Most entries one mailbox read returns. Bounds the memory of a page.
pub const MAX_MAILBOX_PAGE: u32 = 1000;

impl Store {
    /// Writes mailbox entries outside of any room event (for example a Welcome routed by
    /// KeyPackageRef on a follower), waking the clients' streams.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if a client does not exist; nothing is written then.
    pub async fn deliver_local(
        &self,
        deliveries: &[MailboxDelivery],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let clients = enqueue_mailbox(tx.conn(), deliveries, now).await?;
        let wakes = PendingWakes {
            clients,
            outbox: None,
        };
        self.commit_waking(tx, wakes).await
    }

    /// Entries of `client` with a cursor above `after`, oldest first, at most `limit`
    /// (capped at [`MAX_MAILBOX_PAGE`]).
    ///
    /// # Errors
    /// [`StoreError::Backend`] or [`StoreError::Corrupt`].
    pub async fn mailbox(
        &self,
        client: &ClientId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<MailboxEntry>, StoreError> {
        let rows: Vec<(i64, Option<String>, Vec<u8>, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT cursor, room_id, payload, enqueued_at FROM mailbox \
                 WHERE client_id = $1 AND cursor > $2 ORDER BY cursor LIMIT $3")
            .bind(client.as_str())
            .bind(to_db(after, "cursor above i64::MAX")?)
            .bind(i64::from(limit.min(MAX_MAILBOX_PAGE)))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|(cursor, room, payload, enqueued_at)| {
                Ok(MailboxEntry {
                    cursor: from_db(cursor, "cursor")?,
                    room: room.map(|r| id_from_db(&r, "room id")).transpose()?,
                    payload,
                    enqueued_at: ts_from_db(enqueued_at)?,
                })
            })
            .collect()
    }

    /// Deletes the entries of `client` up to and including `through` (the client has
    /// processed them). Returns how many were deleted. Cursors keep increasing afterwards.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn ack_mailbox(&self, client: &ClientId, through: u64) -> Result<u64, StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let done = with_conn!(tx.conn(), c => sqlx::query(
                "DELETE FROM mailbox WHERE client_id = $1 AND cursor <= $2")
            .bind(client.as_str())
            .bind(to_db(through, "cursor above i64::MAX")?)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(done)
    }
}

/// Writes `deliveries` inside the caller's transaction, in order per client, and returns the
/// clients to wake. Clients are processed in id order so counter rows are always locked in the
/// same order.
pub(crate) async fn enqueue_mailbox(
    mut conn: Conn<'_>,
    deliveries: &[MailboxDelivery],
    now: Timestamp,
) -> Result<BTreeSet<ClientId>, StoreError> {
    static INSERT: LazyBulkInsert = LazyBulkInsert::new(|| {
        BulkInsert::new(
            "INSERT INTO mailbox (client_id, cursor, room_id, payload, enqueued_at)",
            5,
        )
    });
    let now = ts_to_db(now)?;
    let by_client = group_in_order(deliveries.iter().map(|d| (&d.client, d)));
    for (client, entries) in &by_client {
        let count = i64::try_from(entries.len())
            .map_err(|_| StoreError::InvalidInput("too many mailbox entries"))?;
        let (last,): (i64,) = with_conn!(&mut conn, c => sqlx::query_as(
                "INSERT INTO mailbox_cursors (client_id, last_cursor) VALUES ($1, $2) \
                 ON CONFLICT (client_id) \
                 DO UPDATE SET last_cursor = mailbox_cursors.last_cursor + excluded.last_cursor \
                 RETURNING last_cursor")
            .bind(client.as_str())
            .bind(count)
            .fetch_one(&mut **c)
            .await)
        .map_err(|e| StoreError::insert(e, Record::Client, Record::Client))?;
        let first = last - count + 1;
        let rows: Vec<(i64, &MailboxDelivery)> = (first..).zip(entries.iter().copied()).collect();
        for (sql, chunk) in INSERT.chunks(&rows) {
            with_conn!(&mut conn, c => {
                let mut query = sqlx::query(sql);
                for (cursor, entry) in chunk {
                    query = query
                        .bind(client.as_str())
                        .bind(*cursor)
                        .bind(entry.room.as_ref().map(|r| r.as_str()))
                        .bind(&entry.payload)
                        .bind(now);
                }
                query.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
    }
    Ok(by_client.into_keys().collect())
}
