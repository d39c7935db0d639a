//! The hub's room endpoints: `POST /v1/update/{roomId}` (§5.3),
//! `POST /v1/submitMessage/{roomId}` (§5.4) and `POST /v1/groupInfo/{roomId}`
//! (§5.6).
//!
//! Each decodes its body (400 if it does not decode), checks the room is one we
//! host (404 otherwise), and queues the request on the room's lane, which runs
//! the hub step and stores the result before the answer is sent.

use axum::response::Response;
use mimi_proto::directory::PathTarget;
use mimi_proto::messages::{GroupInfoRequest, SubmitMessageRequest, UpdateRequest};
use mimi_proto::{ProviderId, RoomId, WireMessage};
use tokio::sync::oneshot;

use crate::api_error::ApiError;
use crate::fed::mimi_body;
use crate::sequencer::{self, Job};
use crate::state::AppState;

/// `POST /v1/update/{roomId}`: a commit or proposal bundle from a follower.
pub(super) async fn update(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let room = hosted_room(state, target)?;
    let request = UpdateRequest::decode(body)?;
    let (reply, answer) = oneshot::channel();
    sequencer::enqueue(
        state,
        room,
        Job::Update {
            request,
            peer: peer.clone(),
            reply,
        },
    )?;
    respond(answer.await)
}

/// `POST /v1/submitMessage/{roomId}`: an application message from a follower.
pub(super) async fn submit_message(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let room = hosted_room(state, target)?;
    let request = SubmitMessageRequest::decode(body)?;
    let (reply, answer) = oneshot::channel();
    sequencer::enqueue(
        state,
        room,
        Job::Submit {
            request,
            peer: peer.clone(),
            reply,
        },
    )?;
    respond(answer.await)
}

/// `POST /v1/groupInfo/{roomId}`: a joiner's request for the room's GroupInfo.
pub(super) async fn group_info(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let room = hosted_room(state, target)?;
    let request = GroupInfoRequest::decode(body)?;
    let (reply, answer) = oneshot::channel();
    sequencer::enqueue(
        state,
        room,
        Job::GroupInfo {
            request,
            peer: peer.clone(),
            reply,
        },
    )?;
    respond(answer.await)
}

/// The room named by the path, if this provider is its hub.
fn hosted_room(state: &AppState, target: PathTarget) -> Result<RoomId, ApiError> {
    match target {
        PathTarget::Room(room) if room.hub_domain() == state.provider().domain() => Ok(room),
        PathTarget::Room(_) => Err(ApiError::NotFound("this provider does not host the room")),
        _ => Err(ApiError::NotFound("no such room")),
    }
}

/// Encodes the lane's answer; a lane that dropped the job is our failure.
fn respond<T: WireMessage>(
    answer: Result<Result<T, ApiError>, oneshot::error::RecvError>,
) -> Result<Response, ApiError> {
    let body = answer.map_err(|_| ApiError::Internal("room lane dropped the request"))??;
    let bytes = body
        .encode()
        .map_err(|_| ApiError::Internal("response does not encode"))?;
    Ok(mimi_body(bytes))
}
