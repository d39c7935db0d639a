//! `POST /client/v1/mimi/{endpoint}/{target}`: a client's MIMI request, checked
//! against who the client is, then answered here when this provider must
//! answer it (the room's hub, or the target user's provider without a room)
//! through the same code as the federation endpoint, or relayed with our
//! certificate to the provider that must (decisions CAPI-4). The caller gets
//! the MIMI response unchanged.
//!
//! Room requests (update, submitMessage, groupInfo) also make the caller a
//! local member of the room, so the room's events reach it; the membership is
//! recorded before the request goes out (its fanned-out result may arrive
//! before the answer does) and withdrawn again if the request is refused and
//! the caller was not a member before (decisions CAPI-5).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use mimi_client_api::routes;
use mimi_proto::directory::{Endpoint, PathTarget, parse_request_path};
use mimi_proto::messages::{
    GroupInfoRequest, GroupInfoResponse, KeyMaterialRequest, SubmitMessageRequest,
    SubmitMessageResponse, UpdateOutcome, UpdateRequest, UpdateRoomResponse,
};
use mimi_proto::{ClientId, ProviderId, RoomId, UserId, WireMessage};

use super::auth::Caller;
use super::error::ClientError;
use crate::fanout::peer_client::MIMI_MEDIA_TYPE;
use crate::fed::key_material::key_material;
use crate::fed::room::{encoded, run_group_info, run_submit, run_update};
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// The handler.
pub(super) async fn mimi(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ClientError> {
    let rest = uri
        .path()
        .strip_prefix(routes::MIMI)
        .ok_or_else(|| ClientError::not_found("no such route"))?;
    let (endpoint, target) =
        parse_request_path(&format!("/v1{rest}")).map_err(ClientError::bad_request)?;
    let user = client
        .user()
        .ok_or_else(|| ClientError::internal("registered client without a user"))?;
    match (endpoint, target) {
        (Endpoint::KeyMaterial, PathTarget::User(target)) => {
            claim(&state, &user, target, body).await
        }
        (
            Endpoint::Update | Endpoint::SubmitMessage | Endpoint::GroupInfo,
            PathTarget::Room(room),
        ) => room_request(&state, &client, &user, endpoint, room, body).await,
        (Endpoint::KeyMaterial, _) => Err(ClientError::bad_request(
            "keyMaterial takes a user URI as its target",
        )),
        (Endpoint::Update | Endpoint::SubmitMessage | Endpoint::GroupInfo, _) => Err(
            ClientError::bad_request("this endpoint takes a room URI as its target"),
        ),
        (other, _) => Err(ClientError::not_found(format!(
            "{} is not available through the client API",
            other.key()
        ))),
    }
}

/// keyMaterial: the requester must be the caller's user. Answered by the
/// room's hub when the request names a room, else by the target's provider.
async fn claim(
    state: &AppState,
    user: &UserId,
    target: UserId,
    body: Bytes,
) -> Result<Response, ClientError> {
    let request = KeyMaterialRequest::decode(&body).map_err(ClientError::bad_request)?;
    if request.tbs.requesting_user != *user {
        return Err(ClientError::forbidden(
            "requestingUser must be the caller's own user",
        ));
    }
    let answerer = match &request.tbs.room_id {
        Some(room) => room.hub_domain(),
        None => target.domain(),
    };
    if answerer == state.provider().domain() {
        return key_material(state, state.provider(), PathTarget::User(target), &body)
            .await
            .map_err(|e| ClientError::answered_by(state.provider().domain(), e));
    }
    let to = ProviderId::from_domain(answerer).map_err(ClientError::bad_request)?;
    let answer = forward(
        state,
        &to,
        Endpoint::KeyMaterial,
        &PathTarget::User(target),
        body,
    )
    .await?;
    Ok(answer.into_response())
}

/// A decoded room request.
enum RoomRequest {
    Update(UpdateRequest),
    Submit(SubmitMessageRequest),
    GroupInfo(GroupInfoRequest),
}

async fn room_request(
    state: &AppState,
    client: &ClientId,
    user: &UserId,
    endpoint: Endpoint,
    room: RoomId,
    body: Bytes,
) -> Result<Response, ClientError> {
    let request = match endpoint {
        Endpoint::Update => {
            RoomRequest::Update(UpdateRequest::decode(&body).map_err(ClientError::bad_request)?)
        }
        Endpoint::SubmitMessage => {
            let request = SubmitMessageRequest::decode(&body).map_err(ClientError::bad_request)?;
            // The client library names the user; a client URI would name
            // the device (pseudonymous senders are not ours to vouch for).
            let sender = request.sending_uri.as_uri();
            if sender != user.as_uri() && sender != client.as_uri() {
                return Err(ClientError::forbidden(
                    "sendingUri must be the caller's own user",
                ));
            }
            RoomRequest::Submit(request)
        }
        _ => {
            let request = GroupInfoRequest::decode(&body).map_err(ClientError::bad_request)?;
            let registered = state.store.client(client).await?.signature_key;
            if request.tbs.requesting_signature_key.as_slice() != registered.as_slice() {
                return Err(ClientError::forbidden(
                    "requestingSignatureKey must be the caller's registered key",
                ));
            }
            RoomRequest::GroupInfo(request)
        }
    };
    let joined = state.add_member(&room, client).await?;
    let answer = if room.hub_domain() == state.provider().domain() {
        run_here(state, room.clone(), request).await
    } else {
        match ProviderId::from_domain(room.hub_domain()) {
            Ok(hub) => forward(state, &hub, endpoint, &PathTarget::Room(room.clone()), body)
                .await
                .map(|answer| {
                    let accepted = answer.accepted(endpoint);
                    (answer.into_response(), accepted)
                }),
            Err(e) => Err(ClientError::bad_request(e)),
        }
    };
    let accepted = matches!(answer, Ok((_, true)));
    if joined && !accepted {
        // Best effort: a leftover membership only delivers ciphertext.
        if let Err(e) = state.remove_member(&room, client).await {
            tracing::warn!(%room, %client, error = %e, "could not withdraw a membership");
        }
    }
    answer.map(|(response, _)| response)
}

/// Runs a room request for a room we host on its lane, as our own provider;
/// returns the answer and whether the hub accepted it.
async fn run_here(
    state: &AppState,
    room: RoomId,
    request: RoomRequest,
) -> Result<(Response, bool), ClientError> {
    let ours = state.provider();
    let (response, accepted) = match request {
        RoomRequest::Update(r) => {
            let answer = run_update(state, ours, room, r).await?;
            let accepted = update_accepted(&answer);
            (encoded(answer), accepted)
        }
        RoomRequest::Submit(r) => {
            let answer = run_submit(state, ours, room, r).await?;
            let accepted = matches!(answer, SubmitMessageResponse::Accepted { .. });
            (encoded(answer), accepted)
        }
        RoomRequest::GroupInfo(r) => {
            let answer = run_group_info(state, ours, room, r).await?;
            let accepted = matches!(answer, GroupInfoResponse::Success { .. });
            (encoded(answer), accepted)
        }
    };
    Ok((response.map_err(ClientError::from)?, accepted))
}

fn update_accepted(answer: &UpdateRoomResponse) -> bool {
    matches!(answer.outcome, UpdateOutcome::Success { .. })
}

/// A peer's successful answer, passed on unchanged.
struct Forwarded {
    status: StatusCode,
    body: Bytes,
}

impl Forwarded {
    /// Whether the MIMI response says the hub accepted the request.
    fn accepted(&self, endpoint: Endpoint) -> bool {
        match endpoint {
            Endpoint::Update => {
                UpdateRoomResponse::decode(&self.body).is_ok_and(|r| update_accepted(&r))
            }
            Endpoint::SubmitMessage => SubmitMessageResponse::decode(&self.body)
                .is_ok_and(|r| matches!(r, SubmitMessageResponse::Accepted { .. })),
            Endpoint::GroupInfo => GroupInfoResponse::decode(&self.body)
                .is_ok_and(|r| matches!(r, GroupInfoResponse::Success { .. })),
            _ => true,
        }
    }
}

impl IntoResponse for Forwarded {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, MIMI_MEDIA_TYPE)],
            self.body,
        )
            .into_response()
    }
}

/// Sends the request to `to` over mutual TLS as this provider. A non-success
/// answer becomes an `ErrorBody` (see [`ClientError::from_upstream`]).
async fn forward(
    state: &AppState,
    to: &ProviderId,
    endpoint: Endpoint,
    target: &PathTarget,
    body: Bytes,
) -> Result<Forwarded, ClientError> {
    if to == state.provider() {
        // Never an mTLS call to ourselves; callers answer locally first.
        return Err(ClientError::internal("relay to ourselves"));
    }
    let answer = state
        .peers
        .post(to, endpoint, target, body.to_vec())
        .await
        .map_err(|e| ApiError::from_peer(to, e))?;
    if answer.status.is_success() {
        return Ok(Forwarded {
            status: answer.status,
            body: answer.body,
        });
    }
    Err(ClientError::from_upstream(
        to.domain(),
        answer.status,
        &String::from_utf8_lossy(&answer.body),
        answer.retry_after,
    ))
}
