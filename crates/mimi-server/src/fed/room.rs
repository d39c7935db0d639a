//! The hub's room endpoints: `POST /v1/update/{roomId}` (§5.3),
//! `POST /v1/submitMessage/{roomId}` (§5.4) and `POST /v1/groupInfo/{roomId}`
//! (§5.6).
//!
//! Each decodes its body (400 if it does not decode), checks the room is one we
//! host (404 otherwise), and queues the request on the room's lane, which runs
//! the hub step and stores the result before the answer is sent.

use axum::response::Response;
use mimi_proto::directory::PathTarget;
use mimi_proto::messages::{
    GroupInfoRequest, GroupInfoResponse, KeyMaterialRequest, SubmitMessageRequest,
    SubmitMessageResponse, UpdateRequest, UpdateRoomResponse,
};
use mimi_proto::{ProviderId, RoomId, WireMessage};
use tokio::sync::oneshot;

use crate::fed::mimi_body;
use crate::lanes::sequencer::{self, Job};
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// `POST /v1/update/{roomId}`: a commit or proposal bundle from a follower.
pub(super) async fn update(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let room = hosted_room(state, target)?;
    encoded(run_update(state, peer, room, UpdateRequest::decode(body)?).await?)
}

/// `POST /v1/submitMessage/{roomId}`: an application message from a follower.
pub(super) async fn submit_message(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let room = hosted_room(state, target)?;
    encoded(run_submit(state, peer, room, SubmitMessageRequest::decode(body)?).await?)
}

/// `POST /v1/groupInfo/{roomId}`: a joiner's request for the room's GroupInfo.
pub(super) async fn group_info(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let room = hosted_room(state, target)?;
    encoded(run_group_info(state, peer, room, GroupInfoRequest::decode(body)?).await?)
}

/// Runs a decoded update request for `room` (hosted here) on its lane, as
/// sent by `peer`: the federation endpoint, and the client API for a room we
/// host (then `peer` is ourselves).
pub(crate) async fn run_update(
    state: &AppState,
    peer: &ProviderId,
    room: RoomId,
    request: UpdateRequest,
) -> Result<UpdateRoomResponse, ApiError> {
    let peer = peer.clone();
    run_on_lane(state, room, |reply| Job::Update {
        request,
        peer,
        reply,
    })
    .await
}

/// As [`run_update`], for an application message.
pub(crate) async fn run_submit(
    state: &AppState,
    peer: &ProviderId,
    room: RoomId,
    request: SubmitMessageRequest,
) -> Result<SubmitMessageResponse, ApiError> {
    let peer = peer.clone();
    run_on_lane(state, room, |reply| Job::Submit {
        request,
        peer,
        reply,
    })
    .await
}

/// As [`run_update`], for a GroupInfo request.
pub(crate) async fn run_group_info(
    state: &AppState,
    peer: &ProviderId,
    room: RoomId,
    request: GroupInfoRequest,
) -> Result<GroupInfoResponse, ApiError> {
    let peer = peer.clone();
    run_on_lane(state, room, |reply| Job::GroupInfo {
        request,
        peer,
        reply,
    })
    .await
}

/// As [`run_update`], for the hub's check of a keyMaterial request that
/// names `room` (decisions KP-1).
pub(crate) async fn run_authorize_claim(
    state: &AppState,
    room: RoomId,
    request: KeyMaterialRequest,
) -> Result<(), ApiError> {
    run_on_lane(state, room, |reply| Job::AuthorizeClaim {
        request: Box::new(request),
        reply,
    })
    .await
}

/// Enqueues the job `make` builds on `room`'s lane and waits for its answer.
async fn run_on_lane<T>(
    state: &AppState,
    room: RoomId,
    make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> Job,
) -> Result<T, ApiError> {
    let (reply, answer) = oneshot::channel();
    sequencer::enqueue(state, room, make(reply))?;
    answer
        .await
        .map_err(|_| ApiError::Internal("room lane dropped the request"))?
}

/// The room named by the path, if this provider is its hub.
fn hosted_room(state: &AppState, target: PathTarget) -> Result<RoomId, ApiError> {
    match target {
        PathTarget::Room(room) if room.hub_domain() == state.provider().domain() => Ok(room),
        PathTarget::Room(_) => Err(ApiError::NotFound("this provider does not host the room")),
        _ => Err(ApiError::NotFound("no such room")),
    }
}

/// A MIMI response as a 200 answer.
pub(crate) fn encoded<T: WireMessage>(body: T) -> Result<Response, ApiError> {
    let bytes = body
        .encode()
        .map_err(|_| ApiError::Internal("response does not encode"))?;
    Ok(mimi_body(bytes))
}
