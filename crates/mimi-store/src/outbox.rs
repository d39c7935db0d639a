//! The durable fan-out outbox, one ordered queue per (room, destination).
//!
//! Entries are written by [`RoomTxn::commit`](crate::RoomTxn::commit) in the same
//! transaction as the event they deliver. A worker [claims](Store::claim_outbox) the head of
//! one queue under a lease, delivers it (and, while the queue stays busy, [the next
//! batches](Store::next_outbox_batch) under the same lease), then [acknowledges](Store::ack_outbox) it (or
//! [records a failure](Store::fail_outbox) with the retry time). Only one worker, across all
//! instances, holds a queue at a time, so a destination never sees entries out of order; a
//! crashed worker's lease expires and the queue is claimed again (draft §5.5: the follower
//! answers 201 to a duplicate).
//!
//! PostgreSQL picks the queue with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
//! different queues instead of waiting on each other; SQLite claims in the single writer.

use mimi_proto::{ProviderId, RoomId};

use crate::backend::{
    BulkInsert, Conn, LazyBulkInsert, Tx, from_db, id_from_db, to_db, ts_from_db, ts_to_db,
    u32_from_db, with_conn, with_reader,
};
use crate::error::{Conflict, StoreError};
use crate::model::{Fanout, OutboxBatch, OutboxEntry, Timestamp};
use crate::rooms::group_in_order;
use crate::store::Store;

/// Most entries one claim returns. Bounds the memory of a batch.
pub const MAX_OUTBOX_BATCH: u32 = 256;

/// Longest `last_error` kept, in bytes. Bounds what a misbehaving peer's error text costs.
pub const MAX_LAST_ERROR_LEN: usize = 512;

impl Store {
    /// Claims the head of the queue that has waited longest and is due at `now`, for
    /// `lease_ms` milliseconds. `None` when nothing is due.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a zero `max_entries`.
    pub async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_ms: u64,
        max_entries: u32,
    ) -> Result<Option<OutboxBatch>, StoreError> {
        if max_entries == 0 {
            return Err(StoreError::InvalidInput("max_entries must be positive"));
        }
        let limit = i64::from(max_entries.min(MAX_OUTBOX_BATCH));
        let now_db = ts_to_db(now)?;
        let lease_until = ts_to_db(now.plus_millis(lease_ms))?;
        let mut tx = self.pools().begin_write().await?;
        let sql = match tx {
            Tx::Postgres(_) => concat!(
                "SELECT room_id, destination, attempts FROM outbox_queues ",
                "WHERE pending > 0 AND next_attempt_at <= $1 ",
                "AND (lease_until IS NULL OR lease_until <= $1) ",
                "ORDER BY next_attempt_at, room_id, destination LIMIT 1 ",
                "FOR UPDATE SKIP LOCKED"
            ),
            Tx::Sqlite(_) => concat!(
                "SELECT room_id, destination, attempts FROM outbox_queues ",
                "WHERE pending > 0 AND next_attempt_at <= $1 ",
                "AND (lease_until IS NULL OR lease_until <= $1) ",
                "ORDER BY next_attempt_at, room_id, destination LIMIT 1"
            ),
        };
        let queue: Option<(String, String, i64)> = with_conn!(tx.conn(), c => sqlx::query_as(sql)
            .bind(now_db)
            .fetch_optional(&mut *c)
            .await)?;
        let Some((room, destination, attempts)) = queue else {
            return Ok(None);
        };
        let lease: i64 = rand::random();
        with_conn!(tx.conn(), c => sqlx::query(
                "UPDATE outbox_queues SET lease_token = $1, lease_until = $2 \
                 WHERE room_id = $3 AND destination = $4")
            .bind(lease)
            .bind(lease_until)
            .bind(&room)
            .bind(&destination)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        let rows: Vec<(i64, i64, Vec<u8>, i64)> = with_conn!(tx.conn(), c => sqlx::query_as(
                "SELECT event_seq, part, payload, enqueued_at FROM outbox \
                 WHERE room_id = $1 AND destination = $2 \
                 ORDER BY event_seq, part LIMIT $3")
            .bind(&room)
            .bind(&destination)
            .bind(limit)
            .fetch_all(&mut *c)
            .await)?;
        tx.commit().await?;
        let entries = entries_from_rows(rows)?;
        Ok(Some(OutboxBatch {
            room: id_from_db(&room, "room id")?,
            destination: id_from_db(&destination, "destination")?,
            attempts: u32_from_db(attempts, "attempts")?,
            entries,
            lease,
        }))
    }

    /// The queue's entries after `delivered` (a batch of this queue, POSTed and answered but
    /// not yet acknowledged), under the same lease: the worker holding a busy queue sends its
    /// next batch without a write in between, and one [`Store::ack_outbox`] of the last batch
    /// then removes every batch before it too. Reads only (no transaction on the writer).
    /// `None` when nothing follows.
    ///
    /// The caller must still hold the lease: stop continuing well before `lease_ms` of the
    /// claim has passed, or another worker may claim the queue and send the same entries.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a zero `max_entries`.
    pub async fn next_outbox_batch(
        &self,
        delivered: &OutboxBatch,
        max_entries: u32,
    ) -> Result<Option<OutboxBatch>, StoreError> {
        if max_entries == 0 {
            return Err(StoreError::InvalidInput("max_entries must be positive"));
        }
        let Some(last) = delivered.entries.last() else {
            return Ok(None);
        };
        let limit = i64::from(max_entries.min(MAX_OUTBOX_BATCH));
        let rows: Vec<(i64, i64, Vec<u8>, i64)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT event_seq, part, payload, enqueued_at FROM outbox \
                 WHERE room_id = $1 AND destination = $2 \
                 AND (event_seq > $3 OR (event_seq = $3 AND part > $4)) \
                 ORDER BY event_seq, part LIMIT $5")
            .bind(delivered.room.as_str())
            .bind(delivered.destination.as_str())
            .bind(to_db(last.event_seq, "event sequence number above i64::MAX")?)
            .bind(i64::from(last.part))
            .bind(limit)
            .fetch_all(p)
            .await)?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(OutboxBatch {
            room: delivered.room.clone(),
            destination: delivered.destination.clone(),
            attempts: 0,
            entries: entries_from_rows(rows)?,
            lease: delivered.lease,
        }))
    }

    /// Removes a delivered batch (and every entry before it) and releases its queue.
    ///
    /// # Errors
    /// [`Conflict::LeaseLost`] if the lease expired and another worker claimed the queue;
    /// nothing is removed then.
    pub async fn ack_outbox(&self, batch: &OutboxBatch, now: Timestamp) -> Result<(), StoreError> {
        self.release_outbox(batch, Some(batch), Release::Delivered(now))
            .await
    }

    /// Records a failed delivery: the queue keeps its entries, counts the attempt, and is not
    /// claimed again before `retry_at`. `error` is truncated to [`MAX_LAST_ERROR_LEN`] bytes.
    ///
    /// # Errors
    /// [`Conflict::LeaseLost`] if the lease is no longer held.
    pub async fn fail_outbox(
        &self,
        batch: &OutboxBatch,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.release_outbox(batch, None, Release::Failed { error, retry_at })
            .await
    }

    /// As [`Store::fail_outbox`] for `failed`, a batch from [`Store::next_outbox_batch`],
    /// after `delivered` (an earlier batch under the same lease) was answered: `delivered` and
    /// everything before it leave the outbox in the same transaction.
    ///
    /// # Errors
    /// [`Conflict::LeaseLost`] if the lease is no longer held; nothing is removed then.
    pub async fn fail_outbox_after(
        &self,
        delivered: &OutboxBatch,
        failed: &OutboxBatch,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.release_outbox(failed, Some(delivered), Release::Failed { error, retry_at })
            .await
    }

    /// Removes the entries up to `delivered`'s last, then releases `held`'s lease as `how`.
    async fn release_outbox(
        &self,
        held: &OutboxBatch,
        delivered: Option<&OutboxBatch>,
        how: Release<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pools().begin_write().await?;
        let deleted = match delivered.and_then(|d| d.entries.last()) {
            None => 0,
            Some(last) => with_conn!(tx.conn(), c => sqlx::query(
                        "DELETE FROM outbox WHERE room_id = $1 AND destination = $2 \
                         AND (event_seq < $3 OR (event_seq = $3 AND part <= $4))")
                    .bind(held.room.as_str())
                    .bind(held.destination.as_str())
                    .bind(to_db(last.event_seq, "event sequence number above i64::MAX")?)
                    .bind(i64::from(last.part))
                    .execute(&mut *c)
                    .await.map(|r| r.rows_affected()))?,
        };
        let deleted = to_db(deleted, "count")?;
        // A delivery clears the retry state; a failure counts the attempt and keeps the error.
        let (error, next_attempt_at) = match how {
            Release::Delivered(now) => (None, now),
            Release::Failed { error, retry_at } => {
                (Some(truncate_utf8(error, MAX_LAST_ERROR_LEN)), retry_at)
            }
        };
        let released = with_conn!(tx.conn(), c => sqlx::query(
                "UPDATE outbox_queues SET pending = pending - $1, lease_token = NULL, \
                 lease_until = NULL, \
                 attempts = CASE WHEN $2 IS NULL THEN 0 ELSE attempts + 1 END, \
                 last_error = $2, next_attempt_at = $3 \
                 WHERE room_id = $4 AND destination = $5 AND lease_token = $6")
            .bind(deleted)
            .bind(error)
            .bind(ts_to_db(next_attempt_at)?)
            .bind(held.room.as_str())
            .bind(held.destination.as_str())
            .bind(held.lease)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        if released != 1 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(Conflict::LeaseLost));
        }
        tx.commit().await
    }

    /// Entries waiting for delivery, over all queues.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn outbox_len(&self) -> Result<u64, StoreError> {
        let (count,): (i64,) = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT COUNT(*) FROM outbox")
            .fetch_one(p)
            .await)?;
        from_db(count, "count")
    }

    /// The retry state of one queue: `(attempts, last_error)`, or `None` if it never existed.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub async fn outbox_queue_state(
        &self,
        room: &RoomId,
        destination: &ProviderId,
    ) -> Result<Option<(u32, Option<String>)>, StoreError> {
        let row: Option<(i64, Option<String>)> = with_reader!(self.pools(), p => sqlx::query_as(
                "SELECT attempts, last_error FROM outbox_queues \
                 WHERE room_id = $1 AND destination = $2")
            .bind(room.as_str())
            .bind(destination.as_str())
            .fetch_optional(p)
            .await)?;
        row.map(|(attempts, last_error)| Ok((u32_from_db(attempts, "attempts")?, last_error)))
            .transpose()
    }
}

/// How a held queue is let go.
enum Release<'a> {
    /// Its batch was delivered at this time.
    Delivered(Timestamp),
    /// Its batch failed; retry after `retry_at`.
    Failed { error: &'a str, retry_at: Timestamp },
}

/// Outbox rows `(event_seq, part, payload, enqueued_at)` as entries.
fn entries_from_rows(rows: Vec<(i64, i64, Vec<u8>, i64)>) -> Result<Vec<OutboxEntry>, StoreError> {
    rows.into_iter()
        .map(|(event_seq, part, payload, enqueued_at)| {
            Ok(OutboxEntry {
                event_seq: from_db(event_seq, "event sequence number")?,
                part: u32_from_db(part, "outbox part")?,
                payload,
                enqueued_at: ts_from_db(enqueued_at)?,
            })
        })
        .collect()
}

/// Enqueues `fanout` for event `seq` of `room`. Called inside the accepting transaction, which
/// holds the room lock, so sequence numbers reach each queue in commit order.
pub(crate) async fn enqueue_fanout(
    mut conn: Conn<'_>,
    room: &RoomId,
    seq: u64,
    fanout: &[Fanout],
    now: Timestamp,
) -> Result<(), StoreError> {
    let seq = to_db(seq, "sequence number above i64::MAX")?;
    let now = ts_to_db(now)?;
    static INSERT: LazyBulkInsert = LazyBulkInsert::new(|| {
        BulkInsert::new(
            "INSERT INTO outbox (room_id, destination, event_seq, part, payload, enqueued_at)",
            6,
        )
    });
    let by_destination = group_in_order(fanout.iter().map(|f| (&f.destination, &f.payload)));
    for (destination, payloads) in &by_destination {
        let rows: Vec<(i64, &Vec<u8>)> = (0_i64..).zip(payloads.iter().copied()).collect();
        for (sql, chunk) in INSERT.chunks(&rows) {
            with_conn!(&mut conn, c => {
                let mut query = sqlx::query(sql);
                for (part, payload) in chunk {
                    query = query
                        .bind(room.as_str())
                        .bind(destination.as_str())
                        .bind(seq)
                        .bind(*part)
                        .bind(*payload)
                        .bind(now);
                }
                query.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        let count = i64::try_from(payloads.len())
            .map_err(|_| StoreError::InvalidInput("fan-out too large"))?;
        with_conn!(&mut conn, c => sqlx::query(
                "INSERT INTO outbox_queues (room_id, destination, pending, next_attempt_at, attempts) \
                 VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (room_id, destination) \
                 DO UPDATE SET pending = outbox_queues.pending + excluded.pending")
            .bind(room.as_str())
            .bind(destination.as_str())
            .bind(count)
            .bind(now)
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate_utf8(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate_utf8;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}
