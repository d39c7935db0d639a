//! `POST /v1/requestConsent/{targetUser}` and `POST /v1/updateConsent/{requesterUser}`
//! (protocol-06 §5.7, §8): consent travels directly between the requester's
//! and the target's providers, never through a hub.
//!
//! Every provider keeps its copy of a scope's state with one meaning:
//! `Requested` (the requester asked), `Granted` / `Revoked` (the target
//! answered). The target's provider enforces it on keyMaterial
//! ([`policy::decide`]); the requester's provider shows it to its user.
//! [`operations`] holds what a local user does (ask, cancel, grant, revoke).

pub mod operations;
pub mod policy;

use crate::setup::http_error::Done;
use axum::response::{IntoResponse as _, Response};
use mimi_proto::directory::PathTarget;
use mimi_proto::messages::{ConsentAction, ConsentEntry};
use mimi_proto::{DecodeError, ProviderId, UserId, WireMessage as _};
use mimi_store::{ConsentScope, ConsentState, Timestamp};

use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

pub use operations::ConsentError;
pub use policy::ConsentSettings;

/// Handles `requestConsent`: the requester's provider asks (or cancels) on
/// behalf of its user; we hold the target.
pub(super) async fn request_consent(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let entry = ConsentEntry::decode(body)?;
    let scope = to_scope(&entry);
    check_path(state, &target, &scope.target)?;
    if !matches!(entry.action, ConsentAction::Request | ConsentAction::Cancel) {
        return Err(invalid("requestConsent carries request or cancel only"));
    }
    // The sender speaks for its own users, about ours.
    if scope.requester.domain() != peer.domain() {
        return Err(ApiError::Forbidden(
            "requesterUri must be a user of the calling provider",
        ));
    }
    if scope.target.domain() != state.provider().domain() {
        return Err(ApiError::NotFound("targetUri is not a user here"));
    }
    if !state.store.user_exists(&scope.target).await? {
        return unknown_user(state);
    }
    if entry.action == ConsentAction::Cancel {
        // An unmatched cancel does nothing (§5.7).
        state.store.cancel_consent_request(&scope).await?;
    } else {
        record_request(state, &scope).await?;
    }
    Ok(Done::Created.into_response())
}

/// Handles `updateConsent`: the target's provider grants or revokes on behalf
/// of its user; we hold the requester.
pub(super) async fn update_consent(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let entry = ConsentEntry::decode(body)?;
    let scope = to_scope(&entry);
    check_path(state, &target, &scope.requester)?;
    let granted = match &entry.action {
        ConsentAction::Grant { .. } => ConsentState::Granted,
        ConsentAction::Revoke => ConsentState::Revoked,
        _ => return Err(invalid("updateConsent carries grant or revoke only")),
    };
    if scope.target.domain() != peer.domain() {
        return Err(ApiError::Forbidden(
            "targetUri must be a user of the calling provider",
        ));
    }
    if scope.requester.domain() != state.provider().domain() {
        return Err(ApiError::NotFound("requesterUri is not a user here"));
    }
    if !state.store.user_exists(&scope.requester).await? {
        return unknown_user(state);
    }
    // KeyPackages in a grant are not kept: they bypassed the room's hub, which
    // therefore could not route the Welcome (§5.2); the requester fetches
    // through the hub instead (decisions RA-4).
    state
        .store
        .set_consent(&scope, granted, Timestamp(state.now_ms()))
        .await?;
    Ok(Done::Created.into_response())
}

/// Records a request unless the scope is already granted: asking again must
/// not undo an answer.
pub(crate) async fn record_request(state: &AppState, scope: &ConsentScope) -> Result<(), ApiError> {
    if state.store.consent(scope).await? != Some(ConsentState::Granted) {
        state
            .store
            .set_consent(scope, ConsentState::Requested, Timestamp(state.now_ms()))
            .await?;
    }
    Ok(())
}

/// The store's scope of an entry.
pub(crate) fn to_scope(entry: &ConsentEntry) -> ConsentScope {
    ConsentScope {
        requester: entry.scope.requester_uri.clone(),
        target: entry.scope.target_uri.clone(),
        room: entry.scope.room_id.clone(),
    }
}

/// The path names the user the endpoint is addressed to, or (the section
/// text's `{targetDomain}` form) its provider.
fn check_path(state: &AppState, target: &PathTarget, user: &UserId) -> Result<(), ApiError> {
    let ok = match target {
        PathTarget::User(u) => u == user,
        PathTarget::Domain(d) => d.domain() == user.domain(),
        _ => false,
    };
    if ok {
        Ok(())
    } else if user.domain() != state.provider().domain() {
        Err(ApiError::NotFound("not a user here"))
    } else {
        Err(invalid("the path does not name the entry's user"))
    }
}

/// §5.7: 404 for an unknown user is optional; under the privacy option a 201
/// hides who exists.
fn unknown_user(state: &AppState) -> Result<Response, ApiError> {
    if state.consent.uniform_refusals {
        Ok(Done::Created.into_response())
    } else {
        Err(ApiError::NotFound("no such user"))
    }
}

fn invalid(reason: &'static str) -> ApiError {
    ApiError::Decode(DecodeError::Invalid {
        what: "ConsentEntry",
        reason,
    })
}
