//! One ordered lane per hosted room: requests are queued per room and a single
//! task per busy room runs them in arrival order, in store transactions.
//!
//! Why a lane instead of each handler locking the room itself: consecutive
//! application messages are accepted together, in one transaction ("group
//! commit"), so a busy room pays one durable commit per batch instead of one per
//! message (decisions FED-5). Each message still gets its own timestamp-ordered
//! place in the fan-out, its own `accepted` answer, and nothing is answered
//! before its transaction commits. Handshakes (commits, proposals) and GroupInfo
//! requests run alone. Rooms run in parallel; a lane task exists only while its
//! room has work.
//!
//! Per batch: lock the room in the store, take its [`Room`] from the hot cache
//! (valid only at the locked version) or restore the snapshot, run the hub steps
//! on the blocking pool, write state + event log + outbox + local mailboxes in
//! the same transaction, commit, then answer.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use mimi_hub::{Delivery, Room};
use mimi_proto::messages::{
    GroupInfoRequest, GroupInfoResponse, HandshakeBundle, KeyMaterialRequest, RawFanoutMessage,
    SubmitMessageRequest, SubmitMessageResponse, UpdateRequest, UpdateRoomResponse,
};
use mimi_proto::{ProviderId, RoomId, WireMessage as _};
use mimi_store::{
    AcceptedEvent, Conflict, EventKind, Fanout, RoomTxn, RoomVersion, StoreError, Timestamp,
};
use openmls::prelude::tls_codec::Serialize as _;
use tokio::sync::oneshot;

use crate::fanout::local::{self, LocalEvent};
use crate::lanes::hub_steps::{self, AcceptedHandshake, StepContext};
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// Most application messages accepted in one transaction. Bounds the latency
/// of the first message of a batch and the size of one write.
pub const MAX_MESSAGES_PER_BATCH: usize = 256;

/// Most requests waiting in one room's lane; beyond it new requests get 503.
/// Bounds the memory one hot room can hold while the store catches up.
pub const MAX_QUEUED_PER_ROOM: usize = 4096;

/// How long a caller is told to wait when a lane is full.
const FULL_LANE_RETRY: Duration = Duration::from_secs(1);

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// A request for a hosted room, with where to send its answer.
#[derive(Debug)]
pub(crate) enum Job {
    Submit {
        request: SubmitMessageRequest,
        peer: ProviderId,
        reply: Reply<SubmitMessageResponse>,
    },
    Update {
        request: UpdateRequest,
        peer: ProviderId,
        reply: Reply<UpdateRoomResponse>,
    },
    GroupInfo {
        request: GroupInfoRequest,
        peer: ProviderId,
        reply: Reply<GroupInfoResponse>,
    },
    /// May a keyMaterial request's requester add its target here? Asked
    /// before the hub relays the request (decisions KP-1); changes nothing.
    AuthorizeClaim {
        request: Box<KeyMaterialRequest>,
        reply: Reply<()>,
    },
}

/// The per-room lanes.
#[derive(Debug, Default)]
pub(crate) struct Sequencer {
    /// `std` mutex: held only to push or pop jobs, never across `.await`.
    lanes: Mutex<HashMap<RoomId, VecDeque<Job>>>,
}

impl Sequencer {
    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, VecDeque<Job>>> {
        // Each critical section is one map operation; a panic cannot leave a
        // lane half-updated.
        self.lanes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Queues `job` on `room`'s lane, starting the lane's task if it is idle.
///
/// # Errors
/// [`ApiError::Overloaded`] if the lane is full (the job is dropped).
pub(crate) fn enqueue(state: &AppState, room: RoomId, job: Job) -> Result<(), ApiError> {
    let start = {
        let mut lanes = state.sequencer.lanes();
        match lanes.get_mut(&room) {
            // A lane exists: its task is running and will reach this job.
            Some(queue) => {
                if queue.len() >= MAX_QUEUED_PER_ROOM {
                    return Err(ApiError::Overloaded(FULL_LANE_RETRY));
                }
                queue.push_back(job);
                false
            }
            None => {
                lanes.insert(room.clone(), VecDeque::from([job]));
                true
            }
        }
    };
    if start {
        tokio::spawn(run_lane(state.clone(), room));
    }
    Ok(())
}

/// Runs a room's lane until it is empty. The lane entry exists exactly while
/// this task runs; if the task panics, the guard removes the entry (dropping
/// the queued jobs, whose callers then answer 500) so the room is not stuck.
async fn run_lane(state: AppState, room: RoomId) {
    struct Guard<'a>(&'a AppState, &'a RoomId);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.sequencer.lanes().remove(self.1);
        }
    }
    let _guard = Guard(&state, &room);
    // The previous message batch's commit, still running: the next message
    // batch's hub step overlaps with it (decisions FED-16); every commit and
    // every other job waits for it, so writes stay in order.
    let mut writing: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        let batch = {
            let mut lanes = state.sequencer.lanes();
            let Some(queue) = lanes.get_mut(&room) else {
                return;
            };
            if queue.is_empty() && writing.is_none() {
                // Removed under the same lock that enqueue checks: a job pushed
                // after this starts a new task.
                lanes.remove(&room);
                return;
            }
            (!queue.is_empty()).then(|| take_batch(queue))
        };
        let Some(batch) = batch else {
            finish(&mut writing).await;
            continue;
        };
        let (inputs, replies) = split(batch);
        if !inputs.iter().all(|i| matches!(i, Input::Submit(..))) {
            finish(&mut writing).await;
            answer(process(&state, &room, inputs).await, replies);
            continue;
        }
        match stage_messages(&state, &room, inputs).await {
            Ok(Staged::Answered(outputs)) => answer(Ok(outputs), replies),
            Ok(Staged::Write { event, outputs }) => {
                finish(&mut writing).await;
                writing = Some(tokio::spawn(commit_and_answer(
                    state.clone(),
                    room.clone(),
                    event,
                    outputs,
                    replies,
                )));
            }
            Ok(Staged::Uncached(inputs)) => {
                finish(&mut writing).await;
                answer(process(&state, &room, inputs).await, replies);
            }
            Err(error) => answer(Err(error), replies),
        }
    }
}

async fn finish(writing: &mut Option<tokio::task::JoinHandle<()>>) {
    if let Some(task) = writing.take()
        && let Err(e) = task.await
    {
        tracing::error!(error = %e, "a room write task failed");
    }
}

/// The next batch: consecutive messages (up to the cap), or one other job.
fn take_batch(queue: &mut VecDeque<Job>) -> Vec<Job> {
    let mut batch = Vec::new();
    while let Some(job) = queue.front() {
        let is_message = matches!(job, Job::Submit { .. });
        if !batch.is_empty() && (!is_message || batch.len() >= MAX_MESSAGES_PER_BATCH) {
            break;
        }
        if let Some(job) = queue.pop_front() {
            batch.push(job);
        }
        if !is_message {
            break;
        }
    }
    batch
}

/// Inputs of a batch, moved to the blocking pool; the replies stay here.
enum Input {
    Submit(SubmitMessageRequest, ProviderId),
    Update(UpdateRequest, ProviderId, Vec<(Vec<u8>, ProviderId)>),
    GroupInfo(GroupInfoRequest, ProviderId),
    AuthorizeClaim(Box<KeyMaterialRequest>),
}

enum Output {
    Submit(Result<(SubmitMessageResponse, Option<Vec<Delivery>>), ApiError>),
    Update(Result<(UpdateRoomResponse, Option<AcceptedHandshake>), ApiError>),
    GroupInfo(Result<GroupInfoResponse, ApiError>),
    AuthorizeClaim(Result<(), ApiError>),
}

enum AnyReply {
    Submit(Reply<SubmitMessageResponse>),
    Update(Reply<UpdateRoomResponse>),
    GroupInfo(Reply<GroupInfoResponse>),
    AuthorizeClaim(Reply<()>),
}

impl AnyReply {
    fn fail(self, error: ApiError) {
        // A caller that went away no longer needs an answer.
        let _ = match self {
            Self::Submit(r) => r.send(Err(error)).map_err(drop),
            Self::Update(r) => r.send(Err(error)).map_err(drop),
            Self::GroupInfo(r) => r.send(Err(error)).map_err(drop),
            Self::AuthorizeClaim(r) => r.send(Err(error)).map_err(drop),
        };
    }
}

/// A batch's inputs, and the replies that stay with the lane.
fn split(batch: Vec<Job>) -> (Vec<Input>, Vec<AnyReply>) {
    let mut inputs = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        match job {
            Job::Submit {
                request,
                peer,
                reply,
            } => {
                inputs.push(Input::Submit(request, peer));
                replies.push(AnyReply::Submit(reply));
            }
            Job::Update {
                request,
                peer,
                reply,
            } => {
                inputs.push(Input::Update(request, peer, Vec::new()));
                replies.push(AnyReply::Update(reply));
            }
            Job::GroupInfo {
                request,
                peer,
                reply,
            } => {
                inputs.push(Input::GroupInfo(request, peer));
                replies.push(AnyReply::GroupInfo(reply));
            }
            Job::AuthorizeClaim { request, reply } => {
                inputs.push(Input::AuthorizeClaim(request));
                replies.push(AnyReply::AuthorizeClaim(reply));
            }
        }
    }
    (inputs, replies)
}

/// Sends each job its answer (or the batch's failure).
fn answer(result: Result<Vec<Output>, ApiError>, replies: Vec<AnyReply>) {
    match result {
        Ok(outputs) => {
            for (output, reply) in outputs.into_iter().zip(replies) {
                // A caller that went away no longer needs an answer.
                let _ = match (output, reply) {
                    (Output::Submit(r), AnyReply::Submit(tx)) => {
                        tx.send(r.map(|(resp, _)| resp)).map_err(drop)
                    }
                    (Output::Update(r), AnyReply::Update(tx)) => {
                        tx.send(r.map(|(resp, _)| resp)).map_err(drop)
                    }
                    (Output::GroupInfo(r), AnyReply::GroupInfo(tx)) => tx.send(r).map_err(drop),
                    (Output::AuthorizeClaim(r), AnyReply::AuthorizeClaim(tx)) => {
                        tx.send(r).map_err(drop)
                    }
                    (_, reply) => {
                        reply.fail(ApiError::Internal("sequencer output mismatch"));
                        Ok(())
                    }
                };
            }
        }
        Err(error) => {
            for reply in replies {
                reply.fail(clone_error(&error));
            }
        }
    }
}

/// A message batch after its hub step, before its write.
enum Staged {
    /// The room is not cached at its current version: run the locked path.
    Uncached(Vec<Input>),
    /// Nothing was accepted: nothing to write.
    Answered(Vec<Output>),
    /// Accepted messages, to be written after the lane's previous write.
    Write {
        event: Box<AcceptedEvent>,
        outputs: Vec<Output>,
    },
}

/// Runs a batch of application messages against the cached room without
/// locking it. Accepting messages changes no stored room state (the event is
/// `StateChange::Unchanged`, which keeps the room version), so the room goes
/// straight back into the cache at the same version and the next batch can run
/// while this one is written.
async fn stage_messages(
    state: &AppState,
    room_id: &RoomId,
    inputs: Vec<Input>,
) -> Result<Staged, ApiError> {
    let version = state.store.room_version(room_id).await?;
    let Some(room) = state.rooms.take(room_id, version) else {
        return Ok(Staged::Uncached(inputs));
    };
    let now = state.now_ms();
    let (room, outputs) = run_steps(state, room, inputs, now).await?;
    state.rooms.put(room_id.clone(), version, room);
    Ok(
        match build_event(state, room_id, version, now, &outputs).await? {
            Some(event) => Staged::Write {
                event: Box::new(event),
                outputs,
            },
            None => Staged::Answered(outputs),
        },
    )
}

/// Writes a staged message batch and answers its jobs.
async fn commit_and_answer(
    state: AppState,
    room_id: RoomId,
    event: Box<AcceptedEvent>,
    outputs: Vec<Output>,
    replies: Vec<AnyReply>,
) {
    let result = async {
        match state.store.append_event(&room_id, &event).await {
            Ok(_) => {
                record_metrics(&state, &event, &outputs);
                Ok(outputs)
            }
            // Another instance moved the room since the step: nothing was
            // written; the caller retries against the new state.
            Err(StoreError::Conflict(Conflict::Stale { .. })) => {
                Err(ApiError::Overloaded(Duration::from_secs(1)))
            }
            Err(e) => Err(ApiError::from(e)),
        }
    }
    .await;
    answer(result, replies);
}

/// Runs the batch and stores the result. Returns one output per input; an
/// `Err` fails the whole batch (nothing was stored).
///
/// The hub step runs before the room is locked, and the lock is held only to
/// write (decisions FED-16); the commit's version check refuses the write if
/// the room moved meanwhile. A room not cached at its current version is first
/// restored from its snapshot under a short lock. Nothing else is written while
/// the lock is held: building the write may record room membership (a
/// Welcome's recipients), and SQLite has a single writer.
async fn process(
    state: &AppState,
    room_id: &RoomId,
    mut inputs: Vec<Input>,
) -> Result<Vec<Output>, ApiError> {
    add_welcome_routes(state, room_id, &mut inputs).await?;
    let version = state.store.room_version(room_id).await?;
    let (room, version) = match state.rooms.take(room_id, version) {
        Some(room) => (room, version),
        None => load(state, room_id).await?,
    };
    let now = state.now_ms();
    let (room, outputs) = run_steps(state, room, inputs, now).await?;
    let Some(event) = build_event(state, room_id, version, now, &outputs).await? else {
        // Nothing accepted: nothing to write. The room is unchanged except
        // for soft state (a GroupInfo request's pending joiner), which stays
        // cached at this version (decisions FED-10).
        state.rooms.put(room_id.clone(), version, room);
        return Ok(outputs);
    };
    match state.store.append_event(room_id, &event).await {
        Ok(accepted) => {
            state.rooms.put(room_id.clone(), accepted.version, room);
            record_metrics(state, &event, &outputs);
            Ok(outputs)
        }
        // Another instance moved the room since we read its version: nothing
        // was written; the caller retries against the new state.
        Err(StoreError::Conflict(Conflict::Stale { .. })) => {
            Err(ApiError::Overloaded(Duration::from_secs(1)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The room restored from its stored snapshot, with the version it is at.
async fn load(state: &AppState, room_id: &RoomId) -> Result<(Room, RoomVersion), ApiError> {
    let mut txn = state.store.lock_room(room_id).await?;
    if txn.hub() != state.provider() {
        return Err(ApiError::NotFound("this provider does not host the room"));
    }
    let room = restore(state, &mut txn).await?;
    let version = txn.version();
    txn.rollback().await?;
    Ok((room, version))
}

/// Welcome routing: the store remembers which provider answered each
/// keyMaterial request; the routes go to the hub with the commit.
async fn add_welcome_routes(
    state: &AppState,
    room_id: &RoomId,
    inputs: &mut [Input],
) -> Result<(), ApiError> {
    for input in inputs {
        if let Input::Update(request, _, routes) = input
            && let HandshakeBundle::Commit {
                welcome: Some(welcome),
                ..
            } = &request.bundle
        {
            for secret in welcome.secrets() {
                let Ok(reference) = secret.new_member().tls_serialize_detached() else {
                    continue;
                };
                if let Some(provider) = state.store.key_package_route(room_id, &reference).await? {
                    routes.push((reference, provider));
                }
            }
        }
    }
    Ok(())
}

/// Runs the hub steps of a batch, in order, on the blocking pool.
async fn run_steps(
    state: &AppState,
    room: Room,
    inputs: Vec<Input>,
    now: u64,
) -> Result<(Room, Vec<Output>), ApiError> {
    let step_state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut room = room;
        let ctx = StepContext {
            hub: &step_state.hub,
            now,
        };
        let outputs: Vec<Output> = inputs
            .into_iter()
            .map(|input| match input {
                Input::Submit(request, peer) => {
                    Output::Submit(hub_steps::submit(&mut room, ctx, &request, &peer))
                }
                Input::Update(request, peer, routes) => {
                    Output::Update(hub_steps::update(&mut room, ctx, request, &routes, &peer))
                }
                Input::GroupInfo(request, peer) => {
                    Output::GroupInfo(hub_steps::group_info(&mut room, ctx, &request, &peer))
                }
                Input::AuthorizeClaim(request) => {
                    Output::AuthorizeClaim(hub_steps::authorize_claim(&room, ctx, &request))
                }
            })
            .collect();
        (room, outputs)
    })
    .await
    .map_err(|_| ApiError::Internal("hub step panicked"))
}

/// The room at the locked version, restored from its stored snapshot.
async fn restore(state: &AppState, txn: &mut RoomTxn) -> Result<Room, ApiError> {
    let snapshot = txn.snapshot().await?;
    let hub_state = state.clone();
    tokio::task::spawn_blocking(move || Room::restore(&hub_state.hub, &snapshot.mls_state))
        .await
        .map_err(|_| ApiError::Internal("room restore panicked"))?
        .map_err(|e| {
            tracing::error!(error = %e, "stored room does not restore");
            ApiError::Internal("stored room does not restore")
        })
}

/// The store write for a batch's accepted outputs, or `None` if nothing was
/// accepted.
async fn build_event(
    state: &AppState,
    room_id: &RoomId,
    base: mimi_store::RoomVersion,
    now: u64,
    outputs: &[Output],
) -> Result<Option<AcceptedEvent>, ApiError> {
    let ours = state.provider();
    let mut local_events = Vec::new();
    let mut event: Option<AcceptedEvent> = None;
    for output in outputs {
        match output {
            Output::Submit(Ok((_, Some(deliveries)))) => {
                let e = event.get_or_insert_with(|| {
                    AcceptedEvent::new(base, EventKind::Application, Timestamp(now))
                });
                // Every destination gets the same FanoutMessage: encode once.
                let Some(first) = deliveries.first() else {
                    continue;
                };
                let payload = encode(&first.event)?;
                e.log_payload.extend_from_slice(&payload);
                for d in deliveries {
                    if &d.to == ours {
                        local_events.push(LocalEvent {
                            payload: payload.clone(),
                            welcome_refs: None,
                        });
                    } else {
                        e.fanout.push(Fanout {
                            destination: d.to.clone(),
                            payload: payload.clone(),
                        });
                    }
                }
            }
            Output::Update(Ok((_, Some(accepted)))) => {
                let kind = if accepted.commit {
                    EventKind::Commit
                } else {
                    EventKind::Proposal
                };
                let mut e = AcceptedEvent::new(base, kind, Timestamp(now));
                e.change = accepted.change.clone();
                e.new_proposals = accepted.new_proposals.clone();
                e.forget_key_package_refs = accepted.welcome_refs.clone();
                let mut logged = false;
                for d in &accepted.deliveries {
                    let payload = encode(&d.event)?;
                    let is_welcome = matches!(d.event, RawFanoutMessage::Welcome { .. });
                    if !is_welcome && !logged {
                        // The log holds the handshake itself; Welcomes are
                        // per-recipient and stay out of history.
                        e.log_payload = payload.clone();
                        logged = true;
                    }
                    if &d.to == ours {
                        local_events.push(LocalEvent {
                            payload,
                            welcome_refs: is_welcome.then(|| accepted.welcome_refs.clone()),
                        });
                    } else {
                        e.fanout.push(Fanout {
                            destination: d.to.clone(),
                            payload,
                        });
                    }
                }
                event = Some(e);
            }
            _ => {}
        }
    }
    let Some(mut event) = event else {
        return Ok(None);
    };
    event.local = local::deliveries(state, room_id, &local_events).await?;
    Ok(Some(event))
}

/// A delivery's `FanoutMessage` bytes.
fn encode(event: &RawFanoutMessage) -> Result<Vec<u8>, ApiError> {
    event
        .encode()
        .map_err(|_| ApiError::Internal("FanoutMessage too large"))
}

fn record_metrics(state: &AppState, event: &AcceptedEvent, outputs: &[Output]) {
    use std::sync::atomic::Ordering::Relaxed;
    let m = &state.metrics;
    m.accept_transactions.fetch_add(1, Relaxed);
    match event.kind {
        EventKind::Application => {
            let n = outputs
                .iter()
                .filter(|o| matches!(o, Output::Submit(Ok((_, Some(_))))))
                .count();
            m.accepted_messages.fetch_add(n as u64, Relaxed);
        }
        EventKind::Commit => {
            m.accepted_commits.fetch_add(1, Relaxed);
        }
        EventKind::Proposal => {
            m.accepted_proposals.fetch_add(1, Relaxed);
        }
    }
}

/// The same failure for every job of a failed batch.
fn clone_error(error: &ApiError) -> ApiError {
    match error {
        ApiError::NotFound(what) => ApiError::NotFound(what),
        ApiError::UnknownProvider(domain) => ApiError::UnknownProvider(domain.clone()),
        ApiError::Forbidden(what) => ApiError::Forbidden(what),
        ApiError::MethodNotAllowed { allow, why } => ApiError::MethodNotAllowed { allow, why },
        ApiError::NotAllowed(what) => ApiError::NotAllowed(what.clone()),
        ApiError::ClaimLimited { after, detail } => ApiError::ClaimLimited {
            after: *after,
            detail: detail.clone(),
        },
        ApiError::Overloaded(after) => ApiError::Overloaded(*after),
        ApiError::RateLimited(after) => ApiError::RateLimited(*after),
        ApiError::Internal(what) => ApiError::Internal(what),
        // Storage failures are transient as far as the caller can tell: it
        // retries, and nothing was written.
        ApiError::Store(_) | ApiError::Upstream(_) | ApiError::Decode(_) => {
            ApiError::Overloaded(Duration::from_secs(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use mimi_client::Identity;
    use mimi_mls::member::create_group;
    use mimi_proto::ClientId;
    use mimi_proto::components::ParticipantId;
    use mimi_proto::messages::{ApplicationMessage, GroupInfoRequestTbs};
    use mimi_proto::mls_profile::CIPHERSUITE;
    use openmls::prelude::tls_codec::Deserialize as _;
    use openmls::prelude::{AppDataDictionary, MlsMessageIn};
    use openmls_rust_crypto::OpenMlsRustCrypto;

    use super::*;

    /// A real application message and GroupInfo request; batching looks only
    /// at the job kind, but the jobs must be real values.
    fn requests() -> (SubmitMessageRequest, GroupInfoRequest) {
        let provider = OpenMlsRustCrypto::default();
        let alice =
            Identity::generate(ClientId::parse("mimi://b.example/d/alice/1").unwrap()).unwrap();
        let hub =
            mimi_hub::HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
        let room = RoomId::parse("mimi://a.example/r/x").unwrap();
        let mut group = create_group(
            &provider,
            &alice,
            &room,
            hub.external_sender(),
            AppDataDictionary::new(),
        )
        .unwrap();
        let out = group
            .create_message(&provider, alice.signer(), b"x")
            .unwrap();
        let message =
            MlsMessageIn::tls_deserialize_exact(out.tls_serialize_detached().unwrap()).unwrap();
        let submit = SubmitMessageRequest {
            app_message: ApplicationMessage::try_from(message).unwrap(),
            sending_uri: ParticipantId::parse("mimi://b.example/u/alice").unwrap(),
        };
        let cwk = alice.credential_with_key();
        let group_info = GroupInfoRequestTbs {
            cipher_suite: CIPHERSUITE,
            requesting_signature_key: cwk.signature_key,
            requesting_credential: cwk.credential,
            group_info_public_key: vec![1; 32].into(),
            joining_code: Vec::new(),
        }
        .sign(alice.signer())
        .unwrap();
        (submit, group_info)
    }

    #[test]
    fn batches_consecutive_messages_and_isolates_other_jobs() {
        let (submit, group_info) = requests();
        let peer = ProviderId::from_domain("b.example").unwrap();
        let make = |kind: char| -> Job {
            if kind == 'm' {
                Job::Submit {
                    request: submit.clone(),
                    peer: peer.clone(),
                    reply: oneshot::channel().0,
                }
            } else {
                Job::GroupInfo {
                    request: group_info.clone(),
                    peer: peer.clone(),
                    reply: oneshot::channel().0,
                }
            }
        };
        let mut queue: VecDeque<Job> = "mmmgmmg".chars().map(make).collect();
        let sizes: Vec<usize> = std::iter::from_fn(|| {
            let b = take_batch(&mut queue);
            (!b.is_empty()).then_some(b.len())
        })
        .collect();
        assert_eq!(sizes, vec![3, 1, 2, 1]);

        let mut long: VecDeque<Job> = (0..MAX_MESSAGES_PER_BATCH + 5).map(|_| make('m')).collect();
        assert_eq!(take_batch(&mut long).len(), MAX_MESSAGES_PER_BATCH);
        assert_eq!(take_batch(&mut long).len(), 5);
    }
}
