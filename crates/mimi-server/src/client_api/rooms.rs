//! Room creation by one of our clients, and leaving a room's delivery.

use crate::setup::http_error::Done;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use mimi_client_api::CreateRoomRequest;
use mimi_policy::Preset;
use mimi_proto::RoomId;

use super::auth::Caller;
use super::error::{ClientError, json};
use crate::setup::state::AppState;

/// `MLSMessage` header of a GroupInfo: `mls10` (1), wire format
/// `mls_group_info` (4) (RFC 9420 §6).
const GROUP_INFO_MESSAGE_HEADER: [u8; 4] = [0, 1, 0, 4];

/// `POST /client/v1/rooms`: a room hosted here, created by the caller from its
/// epoch-0 GroupInfo and ratchet tree (protocol-06 §3.1: creation is local to
/// the hub). The caller becomes a local member, so it receives the room's
/// events.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    body: Bytes,
) -> Result<Done, ClientError> {
    let request: CreateRoomRequest = json(&body)?;
    let room =
        RoomId::parse(&request.room).map_err(|e| ClientError::bad_request(format!("room: {e}")))?;
    if room.hub_domain() != state.provider().domain() {
        return Err(ClientError::forbidden(
            "a room is created on its hub: this provider hosts only rooms of its own domain",
        ));
    }
    let preset = match request.preset.as_deref() {
        Some(name) => Some(
            Preset::from_name(name)
                .ok_or_else(|| ClientError::bad_request(format!("unknown preset {name:?}")))?,
        ),
        None => None,
    };
    state
        .create_room(
            &room,
            &client,
            &group_info_message(request.group_info.0),
            &request.ratchet_tree.0,
            preset,
        )
        .await?;
    Ok(Done::Created)
}

/// The contract sends a bare GroupInfo; the hub takes it as an `MLSMessage`.
/// One already wrapped is taken as is (decisions CAPI-6): the two cannot be
/// confused, a bare GroupInfo of our cipher suite starts `00 01 00 01`.
fn group_info_message(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&GROUP_INFO_MESSAGE_HEADER) {
        return bytes;
    }
    let mut message = Vec::with_capacity(bytes.len() + GROUP_INFO_MESSAGE_HEADER.len());
    message.extend_from_slice(&GROUP_INFO_MESSAGE_HEADER);
    message.extend_from_slice(&bytes);
    message
}

/// `DELETE /client/v1/rooms/{room}/membership`: this provider stops
/// delivering the room's events to the caller. Idempotent: 204 whether or not
/// it was a member.
pub(super) async fn leave(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    room: Result<Path<String>, PathRejection>,
) -> Result<Done, ClientError> {
    let Path(room) = room.map_err(ClientError::bad_request)?;
    let room = RoomId::parse(&room).map_err(|e| ClientError::bad_request(format!("room: {e}")))?;
    if state.remove_member(&room, &client).await? {
        tracing::info!(%room, %client, "client left the room's delivery");
    }
    Ok(Done::NoContent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_group_info_is_wrapped_once() {
        assert_eq!(
            group_info_message(vec![0, 1, 0, 1, 9]),
            vec![0, 1, 0, 4, 0, 1, 0, 1, 9]
        );
        assert_eq!(group_info_message(vec![0, 1, 0, 4, 9]), vec![0, 1, 0, 4, 9]);
    }
}
