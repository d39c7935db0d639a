//! `GET /client/v1/consent` and `POST /client/v1/consent/{request,cancel,grant,revoke}`
//! (protocol-06 §5.7): a user sees and answers consent through their own
//! client, not only through the operator's admin API.
//!
//! The acting user is always the caller's: the requester of a request or a
//! cancel, the target of a grant or a revoke. The body names only the other
//! user (and the room), so a client cannot act for anyone else (decisions
//! CAPI-8). The work is [`AppState`]'s consent operations, shared with the
//! admin routes: record our copy of the scope, tell the other user's
//! provider directly.

use crate::setup::http_error::Done;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use mimi_client_api::{
    Consent, ConsentChange, ConsentList, ConsentOperation, ConsentState as ApiConsentState,
};
use mimi_proto::{ClientId, RoomId, UserId};
use mimi_store::{ConsentRecord, ConsentScope, ConsentState};

use super::auth::Caller;
use super::error::{ClientError, json};
use crate::setup::state::AppState;

/// `GET /client/v1/consent`: every scope the caller's user takes part in.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
) -> Result<Json<ConsentList>, ClientError> {
    let user = user_of(&client)?;
    let consents = state
        .consents(&user)
        .await?
        .into_iter()
        .map(to_json)
        .collect();
    Ok(Json(ConsentList { consents }))
}

/// `POST /client/v1/consent/request`: the caller's user asks `user`.
pub(super) async fn request(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    body: Bytes,
) -> Result<Done, ClientError> {
    change(&state, &client, ConsentOperation::Request, &body).await
}

/// `POST /client/v1/consent/cancel`: the caller's user withdraws a request.
pub(super) async fn cancel(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    body: Bytes,
) -> Result<Done, ClientError> {
    change(&state, &client, ConsentOperation::Cancel, &body).await
}

/// `POST /client/v1/consent/grant`: the caller's user consents to `user`.
pub(super) async fn grant(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    body: Bytes,
) -> Result<Done, ClientError> {
    change(&state, &client, ConsentOperation::Grant, &body).await
}

/// `POST /client/v1/consent/revoke`: the caller's user withdraws consent.
pub(super) async fn revoke(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    body: Bytes,
) -> Result<Done, ClientError> {
    change(&state, &client, ConsentOperation::Revoke, &body).await
}

/// The scope with the caller's user `me` in the operation's role.
fn scope(
    operation: ConsentOperation,
    me: UserId,
    other: UserId,
    room: Option<RoomId>,
) -> ConsentScope {
    let (requester, target) = operation.roles(me, other);
    ConsentScope {
        requester,
        target,
        room,
    }
}

async fn change(
    state: &AppState,
    client: &ClientId,
    operation: ConsentOperation,
    body: &[u8],
) -> Result<Done, ClientError> {
    let change: ConsentChange = json(body)?;
    let me = user_of(client)?;
    let other =
        UserId::parse(&change.user).map_err(|e| ClientError::bad_request(format!("user: {e}")))?;
    if other == me {
        return Err(ClientError::bad_request(
            "user: consent is between two users, and this names the caller's own",
        ));
    }
    let room = change
        .room
        .as_deref()
        .map(RoomId::parse)
        .transpose()
        .map_err(|e| ClientError::bad_request(format!("room: {e}")))?;
    let scope = scope(operation, me, other, room);
    match operation {
        ConsentOperation::Request => state.ask_consent(&scope).await?,
        ConsentOperation::Cancel => state.cancel_consent(&scope).await?,
        ConsentOperation::Grant => state.grant_consent(&scope).await?,
        ConsentOperation::Revoke => state.revoke_consent(&scope).await?,
    }
    tracing::info!(
        operation = operation.name(),
        requester = %scope.requester,
        target = %scope.target,
        room = scope.room.as_ref().map_or("any", RoomId::as_str),
        %client,
        "consent changed by a client"
    );
    Ok(Done::NoContent)
}

/// The caller's user. Registration accepts only clients of a user, so a
/// client without one is our bug.
fn user_of(client: &ClientId) -> Result<UserId, ClientError> {
    client
        .user()
        .ok_or_else(|| ClientError::internal("registered client without a user"))
}

fn to_json(record: ConsentRecord) -> Consent {
    Consent {
        requester: record.scope.requester.as_str().to_owned(),
        target: record.scope.target.as_str().to_owned(),
        room: record.scope.room.map(|r| r.as_str().to_owned()),
        state: match record.state {
            ConsentState::Granted => ApiConsentState::Granted,
            ConsentState::Requested => ApiConsentState::Requested,
            ConsentState::Revoked => ApiConsentState::Revoked,
        },
        updated_at: record.updated_at.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_takes_the_role_of_the_operation() {
        let me = UserId::parse("mimi://b.example/u/bob").unwrap();
        let other = UserId::parse("mimi://c.example/u/cathy").unwrap();
        for operation in [ConsentOperation::Request, ConsentOperation::Cancel] {
            let scope = scope(operation, me.clone(), other.clone(), None);
            assert_eq!((&scope.requester, &scope.target), (&me, &other));
        }
        for operation in [ConsentOperation::Grant, ConsentOperation::Revoke] {
            let scope = scope(operation, me.clone(), other.clone(), None);
            assert_eq!((&scope.requester, &scope.target), (&other, &me));
        }
    }
}
