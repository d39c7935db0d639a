//! `POST /v1/reportAbuse/{roomId}` (protocol-06 §5.9): a participant's
//! provider reports messages of a room we host. Each reported message must
//! carry the frank we issued for it, over the same content, sender, room and
//! acceptance time ([`mimi_hub::Hub::verify_reported`]); a report with one
//! message that does not verify is refused whole, and nothing is stored.
//! Accepted reports are kept for the operator (`mimi admin reports`).

use crate::setup::http_error::Done;
use axum::response::{IntoResponse as _, Response};
use mimi_proto::directory::PathTarget;
use mimi_proto::messages::AbuseReport;
use mimi_proto::{DecodeError, ProviderId, WireMessage as _};
use mimi_store::{NewAbuseReport, Timestamp};

use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// Handles one abuse report.
pub(super) async fn report_abuse(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let PathTarget::Room(room) = target else {
        return Err(ApiError::NotFound("no such room"));
    };
    if room.hub_domain() != state.provider().domain() {
        return Err(ApiError::NotFound("this provider does not host the room"));
    }
    state.store.room_version(&room).await?;
    let report = AbuseReport::decode(body)?;
    if report.messages.is_empty() {
        return Err(ApiError::Decode(DecodeError::Invalid {
            what: "AbuseReport.messages",
            reason: "a report quotes at least one message",
        }));
    }
    // A provider names only its own users as reporters.
    if let Some(reporter) = &report.reporting_user
        && reporter.domain() != peer.domain()
    {
        return Err(ApiError::Forbidden(
            "reportingUser must be a user of the calling provider",
        ));
    }
    for (index, message) in report.messages.iter().enumerate() {
        if let Err(reason) = state
            .hub
            .verify_reported(&room, &report.alleged_abuser_uri, message)
        {
            tracing::info!(%room, %peer, index, %reason, "abuse report refused");
            return Err(ApiError::Forbidden(
                "a reported message does not match the frank the hub issued",
            ));
        }
    }
    let id = state
        .store
        .add_abuse_report(&NewAbuseReport {
            room: room.clone(),
            reporter: peer.clone(),
            reporting_user: report
                .reporting_user
                .as_ref()
                .map(|u| u.as_str().to_owned()),
            alleged_abuser: report.alleged_abuser_uri.as_str().to_owned(),
            reason_code: report.reason_code.0,
            note: report.note.as_str().to_owned(),
            message_count: u32::try_from(report.messages.len())
                .map_err(|_| ApiError::Internal("message count"))?,
            body: body.to_vec(),
            received_at: Timestamp(state.now_ms()),
        })
        .await?;
    tracing::warn!(%room, %peer, id, abuser = %report.alleged_abuser_uri, "abuse report stored");
    Ok(Done::Created.into_response())
}
