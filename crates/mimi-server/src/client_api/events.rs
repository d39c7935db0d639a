//! The caller's events: its mailbox on this provider, as long-poll pages
//! (`GET /client/v1/events`) or server-sent events
//! (`GET /client/v1/events/stream`).
//!
//! Both resume after a cursor (mailbox cursors only grow, and an entry becomes
//! readable only after every smaller cursor has, see `mimi_store`'s mailbox),
//! so a client that remembers the last cursor it processed misses nothing and
//! sees nothing twice. Waiting is driven by the store's wakes
//! (`Store::subscribe`, which on PostgreSQL also carries other instances'
//! writes); the subscription starts before the first read, so an entry
//! committed in between wakes the waiter. Asking for events after cursor `n`
//! acknowledges the entries up to `n`: the server deletes them (decisions
//! CAPI-7).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use mimi_client_api::routes::MAX_WAIT_SECS;
use mimi_client_api::{Base64, Event, EventsPage};
use mimi_proto::ClientId;
use mimi_store::{MailboxEntry, Subscription, Wake};
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::auth::Caller;
use super::error::ClientError;
use crate::setup::state::AppState;

/// Entries per page unless the client asks for fewer (or more, up to the
/// store's page cap).
const DEFAULT_PAGE: u32 = 100;

/// A page stops growing past this many payload bytes (it always holds at
/// least one entry), so one answer stays a reasonable size.
const MAX_PAGE_BYTES: usize = 4 << 20;

/// How often an idle event stream sends a comment, so proxies and clients see
/// the connection is alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Clients whose acknowledged cursor is remembered, to skip deletes that
/// would find nothing. Past this the memory is cleared (deletes repeat, that
/// is all).
const MAX_REMEMBERED_ACKS: usize = 100_000;

#[derive(Debug, Deserialize)]
pub(super) struct EventsQuery {
    #[serde(default)]
    after: u64,
    #[serde(default)]
    wait: u64,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /client/v1/events?after=N&wait=S&limit=L`.
pub(super) async fn page(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventsPage>, ClientError> {
    let Query(query) = query.map_err(ClientError::bad_request)?;
    let limit = query
        .limit
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, mimi_store::MAX_MAILBOX_PAGE);
    acknowledge(&state, &client, query.after).await;
    let deadline = Instant::now() + Duration::from_secs(query.wait.min(MAX_WAIT_SECS));
    let mut wakes = state.store.subscribe();
    let mut shutdown = state.shutdown.clone();
    loop {
        let entries = state.store.mailbox(&client, query.after, limit).await?;
        if !entries.is_empty() || Instant::now() >= deadline || *shutdown.borrow() {
            return Ok(Json(EventsPage {
                events: bounded(entries).map(event).collect(),
            }));
        }
        tokio::select! {
            woken = wait_for_mail(&mut wakes, &client) => {
                if !woken {
                    // The store is closing: answer what there is (nothing).
                    return Ok(Json(EventsPage::default()));
                }
            }
            () = tokio::time::sleep_until(deadline) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    // The server is gone without saying so: stop waiting.
                    return Ok(Json(EventsPage::default()));
                }
            }
        }
    }
}

/// `GET /client/v1/events/stream?after=N`, resuming after `Last-Event-ID`
/// when the client sends one (a reconnecting `EventSource` does).
pub(super) async fn stream(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ClientError> {
    let Query(query) = query.map_err(ClientError::bad_request)?;
    let after = match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| ClientError::bad_request("Last-Event-ID must be a cursor"))?,
        None => query.after,
    };
    acknowledge(&state, &client, after).await;
    let open = OpenStream::new(&state);
    let reader = Reader {
        wakes: state.store.subscribe(),
        shutdown: state.shutdown.clone(),
        state,
        client,
        cursor: after,
        buffer: VecDeque::new(),
        _open: open,
    };
    let events = futures::stream::unfold(reader, |mut reader| async move {
        let entry = reader.next().await?;
        let sse = SseEvent::default()
            .id(entry.cursor.to_string())
            .event("fanout")
            .json_data(event(entry))
            .unwrap_or_else(|_| SseEvent::default().comment("unencodable event"));
        Some((Ok(sse), reader))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One SSE connection's position in the caller's mailbox.
struct Reader {
    state: AppState,
    client: ClientId,
    cursor: u64,
    buffer: VecDeque<MailboxEntry>,
    wakes: Subscription,
    shutdown: watch::Receiver<bool>,
    _open: OpenStream,
}

impl Reader {
    /// The next entry, waiting for one; `None` ends the stream (shutdown, or
    /// a store failure the client recovers from by reconnecting).
    async fn next(&mut self) -> Option<MailboxEntry> {
        loop {
            if let Some(entry) = self.buffer.pop_front() {
                self.cursor = entry.cursor;
                return Some(entry);
            }
            if *self.shutdown.borrow() {
                return None;
            }
            match self
                .state
                .store
                .mailbox(&self.client, self.cursor, DEFAULT_PAGE)
                .await
            {
                Ok(entries) if !entries.is_empty() => {
                    self.buffer.extend(entries);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(client = %self.client, error = %e, "event stream read failed");
                    return None;
                }
            }
            tokio::select! {
                woken = wait_for_mail(&mut self.wakes, &self.client) => {
                    if !woken {
                        return None;
                    }
                }
                _ = self.shutdown.changed() => return None,
            }
        }
    }
}

/// Counts an open event stream for as long as it lives.
struct OpenStream(AppState);

impl OpenStream {
    fn new(state: &AppState) -> Self {
        state
            .metrics
            .event_streams_open
            .fetch_add(1, Ordering::Relaxed);
        Self(state.clone())
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0
            .metrics
            .event_streams_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Waits until the store says `client`'s mailbox may have grown (or that
/// wakes were lost). `false` when the store is gone.
async fn wait_for_mail(wakes: &mut Subscription, client: &ClientId) -> bool {
    loop {
        match wakes.recv().await {
            Some(Wake::Mailbox(c)) if &c == client => return true,
            Some(Wake::Lagged) => return true,
            Some(_) => {}
            None => return false,
        }
    }
}

/// Deletes the caller's entries up to `through`, which it has processed
/// (decisions CAPI-7). Failure only delays the cleanup, so it is logged.
async fn acknowledge(state: &AppState, client: &ClientId, through: u64) {
    if through == 0 {
        return;
    }
    {
        let mut acked = state
            .acked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if acked.get(client).is_some_and(|a| *a >= through) {
            return;
        }
        if acked.len() >= MAX_REMEMBERED_ACKS {
            acked.clear();
        }
        acked.insert(client.clone(), through);
    }
    if let Err(e) = state.store.ack_mailbox(client, through).await {
        tracing::warn!(%client, error = %e, "mailbox acknowledgement failed");
    }
}

/// The leading entries of a page within [`MAX_PAGE_BYTES`] (at least one).
fn bounded(entries: Vec<MailboxEntry>) -> impl Iterator<Item = MailboxEntry> {
    let mut total = 0usize;
    entries
        .into_iter()
        .enumerate()
        .take_while(move |(i, e)| {
            total = total.saturating_add(e.payload.len());
            *i == 0 || total <= MAX_PAGE_BYTES
        })
        .map(|(_, e)| e)
}

fn event(entry: MailboxEntry) -> Event {
    Event {
        cursor: entry.cursor,
        room: entry.room.map(|r| r.as_str().to_owned()),
        payload: Base64(entry.payload),
    }
}
