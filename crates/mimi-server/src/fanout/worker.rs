//! The outbound fan-out worker: delivers the store's outbox to followers with
//! `POST /v1/notify/{roomId}` (protocol-06 §5.5).
//!
//! Ordering: each (room, follower) queue is claimed under a store lease, so it
//! has at most one POST in flight, and a POST carries the queue's head entries
//! concatenated in order (decisions FED-6). Retries resend the same entries
//! (byte-identical, so the follower's dedup answers 201 without reprocessing),
//! after an exponential backoff with jitter, or later if the follower's
//! `Retry-After` says so (decisions FED-7). Entries leave the outbox only on a
//! 2xx; a restart resumes from the store, after any lease a killed process held
//! has expired.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::fanout::MAX_FANOUT_MESSAGES_PER_NOTIFY;
use mimi_proto::{ProviderId, RoomId};
use mimi_store::{Conflict, OutboxBatch, StoreError, Subscription, Timestamp, Wake};
use rand::Rng as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::setup::state::AppState;

/// Queues delivered at once. Each holds one HTTP/2 stream on its follower's
/// connection; the cap bounds memory and the store's claim traffic.
pub const MAX_PARALLEL_QUEUES: usize = 64;

/// Longest a notify POST may take. A follower stores a batch in one
/// transaction, so this is generous; it must stay below [`LEASE_MS`].
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a claimed queue stays ours. After a crash, the queue is claimable
/// again once this expires, so it bounds how long a restart delays delivery.
const LEASE_MS: u64 = 15_000;

/// How often the worker looks for queues whose retry time has come (new
/// entries wake it immediately).
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How long a worker keeps sending a busy queue's next batches under one
/// claim. Well below [`LEASE_MS`]: past the lease, another worker could claim
/// the queue and send the same entries again.
const MAX_HOLD: Duration = Duration::from_secs(5);

/// How long shutdown waits for POSTs in flight to be acknowledged or failed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Retry timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure.
    pub initial: Duration,
    /// Longest delay between attempts.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempts + 1`: doubling from `initial`, capped
    /// at `max`, with "equal jitter" (half fixed, half random) so followers
    /// coming back are not hit by every queue at once.
    pub fn delay(&self, attempts: u32, random: f64) -> Duration {
        let exponential = self
            .initial
            .saturating_mul(1_u32 << attempts.min(20))
            .min(self.max);
        exponential.mul_f64(0.5 + 0.5 * random.clamp(0.0, 1.0))
    }
}

/// A running worker.
#[derive(Debug)]
pub struct Worker {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Starts delivering. A queue that ran empty keeps its hold for `linger` more, waiting for
    /// its room's next accepted event: a room with steady traffic then keeps its hold instead
    /// of paying a claim and an acknowledgement (two durable writes on the hub's single
    /// writer) per batch (decisions FED-19).
    pub fn spawn(state: AppState, retry: RetryPolicy, linger: Duration) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(state, Timing { retry, linger }, stopped));
        Self { stop, task }
    }

    /// Stops claiming, waits for POSTs in flight to finish and their outcome to
    /// be stored, so no lease outlives the process.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "fan-out worker ended abnormally");
        }
    }
}

/// How a delivery retries and lingers.
#[derive(Clone, Copy)]
struct Timing {
    retry: RetryPolicy,
    linger: Duration,
}

/// Last entry of a failed attempt per queue, so its retry sends the same bytes.
type Attempted = Arc<Mutex<HashMap<(RoomId, ProviderId), (u64, u32)>>>;

async fn run(state: AppState, timing: Timing, mut stopped: watch::Receiver<bool>) {
    let mut wakes = state.store.subscribe();
    let slots = Arc::new(Semaphore::new(MAX_PARALLEL_QUEUES));
    let attempted: Attempted = Arc::default();
    let mut deliveries = JoinSet::new();
    // Set when a claim found nothing due while deliveries were in flight: the
    // queues with work are then most likely ours already, so a wake (one per
    // accepted batch) is not worth a write transaction; a finished delivery or
    // the poll tick claims again.
    let mut saturated = false;
    loop {
        if *stopped.borrow() {
            break;
        }
        // Claim every due queue we have room for.
        while !saturated && let Ok(slot) = slots.clone().try_acquire_owned() {
            let now = Timestamp(state.now_ms());
            match state
                .store
                .claim_outbox(now, LEASE_MS, mimi_store::MAX_OUTBOX_BATCH)
                .await
            {
                Ok(Some(batch)) => {
                    state.metrics.fanout_holds.fetch_add(1, Relaxed);
                    deliveries.spawn(deliver(
                        state.clone(),
                        batch,
                        timing,
                        attempted.clone(),
                        slot,
                    ));
                }
                Ok(None) => {
                    saturated = !deliveries.is_empty();
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming the outbox failed");
                    break;
                }
            }
        }
        while deliveries.try_join_next().is_some() {
            saturated = false;
        }
        tokio::select! {
            _ = stopped.changed() => {}
            wake = wakes.recv() => if wake.is_none() { break },
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => saturated = false,
            () = tokio::time::sleep(POLL_INTERVAL) => saturated = false,
        }
    }
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while deliveries.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("shutdown: fan-out deliveries still in flight; their leases will expire");
    }
}

/// Delivers one claimed batch and, while its queue has more and the claim is
/// young, the batches after it under the same lease; then records the outcome
/// in one write. A busy queue thus costs one claim and one acknowledgement per
/// hold instead of per POST, and its next POST leaves as soon as the follower
/// answers the previous one (decisions FED-17).
async fn deliver(
    state: AppState,
    mut batch: OutboxBatch,
    Timing { retry, linger }: Timing,
    attempted: Attempted,
    _slot: OwnedSemaphorePermit,
) {
    let key = (batch.room.clone(), batch.destination.clone());
    let previous = lock(&attempted).get(&key).copied();
    if batch.attempts > 0
        && let Some(end) = previous
    {
        batch.entries.retain(|e| (e.event_seq, e.part) <= end);
    }
    let held_since = Instant::now();
    // Subscribed before the first read of the queue, so no entry can be accepted unseen.
    let mut wakes = state.store.subscribe();
    // The last batch the follower took, not yet acknowledged in the store.
    let mut delivered: Option<OutboxBatch> = None;
    loop {
        limit_batch(&mut batch, state.limits.max_body_bytes);
        let Some(last) = batch.entries.last().map(|e| (e.event_seq, e.part)) else {
            break;
        };
        match post(&state, &batch).await {
            Ok(()) => {
                lock(&attempted).remove(&key);
                record_delivery(&state, &batch);
                let next = next_batch(&state, &batch, &mut wakes, held_since, linger).await;
                delivered = Some(batch);
                match next {
                    Ok(Some(next)) => batch = next,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the next outbox batch failed");
                        break;
                    }
                }
            }
            Err((error, retry_after)) => {
                lock(&attempted).insert(key, last);
                state.metrics.fanout_retries.fetch_add(1, Relaxed);
                let backoff = retry.delay(batch.attempts, rand::thread_rng().r#gen::<f64>());
                let wait = retry_after.map_or(backoff, |after| after.max(backoff));
                let retry_at = Timestamp(state.now_ms())
                    .plus_millis(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
                tracing::info!(
                    room = %batch.room,
                    destination = %batch.destination,
                    attempts = batch.attempts + 1,
                    retry_in_ms = wait.as_millis() as u64,
                    %error,
                    "notify failed; will retry"
                );
                let failed = match &delivered {
                    Some(done) => {
                        state
                            .store
                            .fail_outbox_after(done, &batch, &error, retry_at)
                            .await
                    }
                    None => state.store.fail_outbox(&batch, &error, retry_at).await,
                };
                if let Err(e) = failed {
                    log_store_outcome(&batch, &e);
                }
                return;
            }
        }
    }
    if let Some(done) = delivered
        && let Err(e) = state
            .store
            .ack_outbox(&done, Timestamp(state.now_ms()))
            .await
    {
        log_store_outcome(&done, &e);
    }
}

/// The entries after `batch` in its queue while the hold is young. When there are none yet,
/// waits up to `linger` for the room's next accepted event and looks again.
async fn next_batch(
    state: &AppState,
    batch: &OutboxBatch,
    wakes: &mut Subscription,
    held_since: Instant,
    linger: Duration,
) -> Result<Option<OutboxBatch>, StoreError> {
    let linger_until = tokio::time::Instant::now() + linger;
    while held_since.elapsed() < MAX_HOLD {
        if let Some(next) = state
            .store
            .next_outbox_batch(batch, mimi_store::MAX_OUTBOX_BATCH)
            .await?
        {
            return Ok(Some(next));
        }
        // Entries for other rooms, or mailbox wakes, are not ours to look for.
        loop {
            match tokio::time::timeout_at(linger_until, wakes.recv()).await {
                Ok(Some(Wake::Outbox(room))) if room == batch.room => break,
                Ok(Some(Wake::Lagged)) => break,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Ok(None),
            }
        }
    }
    Ok(None)
}

/// POSTs `batch` to its follower as one notify body: `Err` holds what went
/// wrong and the follower's `Retry-After`, if any.
async fn post(state: &AppState, batch: &OutboxBatch) -> Result<(), (String, Option<Duration>)> {
    let mut body = Vec::with_capacity(batch.entries.iter().map(|e| e.payload.len()).sum());
    for entry in &batch.entries {
        body.extend_from_slice(&entry.payload);
    }
    let target = PathTarget::Room(batch.room.clone());
    let sent = tokio::time::timeout(
        NOTIFY_TIMEOUT,
        state
            .peers
            .post(&batch.destination, Endpoint::Notify, &target, body),
    )
    .await;
    match sent {
        Ok(Ok(response)) if response.status.is_success() => Ok(()),
        Ok(Ok(response)) => Err((
            format!("{} answered {}", batch.destination, response.status),
            response.retry_after,
        )),
        Ok(Err(e)) => Err((e.to_string(), None)),
        Err(_) => Err(("notify timed out".to_owned(), None)),
    }
}

/// Counts a batch the follower took, and how long each entry waited.
fn record_delivery(state: &AppState, batch: &OutboxBatch) {
    let now_ms = state.now_ms();
    let metrics = &state.metrics;
    metrics.fanout_posts.fetch_add(1, Relaxed);
    metrics
        .fanout_delivered
        .fetch_add(batch.entries.len() as u64, Relaxed);
    for e in &batch.entries {
        let waited = now_ms.saturating_sub(e.enqueued_at.0);
        metrics
            .fanout_latency
            .observe(Duration::from_millis(waited));
    }
}

/// Keeps the batch within what one notify body may hold: the draft-derived
/// message cap and the follower's body limit (assumed equal to ours).
fn limit_batch(batch: &mut OutboxBatch, max_body: usize) {
    let mut size = 0;
    let mut keep = 0;
    for entry in &batch.entries {
        if keep == MAX_FANOUT_MESSAGES_PER_NOTIFY
            || (keep > 0 && size + entry.payload.len() > max_body)
        {
            break;
        }
        size += entry.payload.len();
        keep += 1;
    }
    batch.entries.truncate(keep);
}

fn log_store_outcome(batch: &OutboxBatch, e: &StoreError) {
    if matches!(e, StoreError::Conflict(Conflict::LeaseLost)) {
        // Our lease expired and another worker took over: it will deliver.
        tracing::warn!(room = %batch.room, destination = %batch.destination, "outbox lease lost");
    } else {
        tracing::error!(room = %batch.room, destination = %batch.destination, error = %e,
            "recording a notify outcome failed; the lease will expire and the batch be resent");
    }
}

fn lock(
    attempted: &Attempted,
) -> std::sync::MutexGuard<'_, HashMap<(RoomId, ProviderId), (u64, u32)>> {
    // One map operation per critical section.
    attempted
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_bounded_jitter() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(p.delay(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.delay(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(2, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay(4, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(u32::MAX, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(u32::MAX, 0.0), Duration::from_millis(500));
    }
}
