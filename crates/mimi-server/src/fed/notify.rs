//! `POST /v1/notify/{roomId}` (protocol-06 §5.5): the room's hub delivers one
//! or more FanoutMessages to us as a follower.
//!
//! Only the room's hub may call it (the hub is the authority of the room id):
//! anyone else gets 403. The body is decoded whole before anything is stored
//! (400 if it does not decode), then the body's hash and its local mailbox
//! entries are recorded in one transaction: a byte-identical retry is answered
//! 201 and not processed again. Processing per room is in arrival order, and
//! the hub sends one POST per (room, follower) at a time, so order holds.

use crate::setup::http_error::Done;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use mimi_proto::directory::PathTarget;
use mimi_proto::messages::{FanoutEvent, FanoutMessage, NotifyBody};
use mimi_proto::{ProviderId, WireMessage as _};
use mimi_store::{NotifyOutcome, NotifyReceipt, Timestamp};
use openmls::prelude::tls_codec::Serialize as _;
use tls_codec::Size as _;

use crate::fanout::local::{self, LocalEvent};
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// Handles one notify body.
pub(super) async fn notify(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: Bytes,
) -> Result<Response, ApiError> {
    let PathTarget::Room(room) = target else {
        return Err(ApiError::NotFound("no such room"));
    };
    if room.hub_domain() != peer.domain() || peer == state.provider() {
        return Err(ApiError::Forbidden(
            "notify is accepted only from the room's hub",
        ));
    }
    let notify = NotifyBody::decode(&body)?;
    // Each FanoutMessage's own bytes, sliced from the body (the decoder
    // accepted exactly these bytes, and their encoding is canonical).
    let mut offset = 0;
    let mut events = Vec::with_capacity(notify.messages.len());
    for message in &notify.messages {
        let len = message.tls_serialized_len();
        let payload = body.get(offset..offset + len).ok_or(ApiError::Internal(
            "FanoutMessage length disagrees with the body",
        ))?;
        offset += len;
        events.push(local_event(message, payload.to_vec()));
    }
    if offset != body.len() {
        return Err(ApiError::Internal(
            "FanoutMessage lengths disagree with the body",
        ));
    }
    let deliveries = local::deliveries(state, &room, &events).await?;
    let receipt = NotifyReceipt {
        hub: peer.clone(),
        body: body.to_vec(),
        deliveries,
        received_at: Timestamp(state.now_ms()),
    };
    let outcome = state.store.accept_notify(&receipt).await?;
    let counter = match outcome {
        NotifyOutcome::New => &state.metrics.notify_new,
        NotifyOutcome::Duplicate => &state.metrics.notify_duplicate,
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // 201 for a duplicate too: the hub must stop retrying (§5.5).
    Ok(Done::Created.into_response())
}

/// One FanoutMessage as a local delivery: its own bytes, and for a Welcome the
/// KeyPackageRefs that say which of our clients it is for.
fn local_event(message: &FanoutMessage, payload: Vec<u8>) -> LocalEvent {
    let welcome_refs = match &message.event {
        FanoutEvent::Welcome { welcome, .. } => Some(
            welcome
                .secrets()
                .iter()
                .filter_map(|s| s.new_member().tls_serialize_detached().ok())
                .collect(),
        ),
        _ => None,
    };
    LocalEvent {
        payload,
        welcome_refs,
    }
}
