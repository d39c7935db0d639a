//! The federation API: the MIMI endpoints other providers call over mutual TLS
//! (protocol-06 §5).
//!
//! Layers, outermost first: request timeout, body size limit, then (for the
//! `/v1/` endpoints) peer authentication ([`crate::fed::peer_auth::require_peer`]: the
//! certificate's domain must match `From`, and `Host` must name us), then the
//! per-peer rate limit and the global in-flight limit ([`limits`]). The
//! directory is public: any TLS client may read it.
//!
//! One module per endpoint family: [`room`] (update, submitMessage,
//! groupInfo), `notify`, `key_material`, [`consent`], [`identifier`],
//! `abuse` (reportAbuse) and [`proxy`] (proxyDownload); [`crate::admin`] holds the
//! operator routes of the last four.

mod abuse;
pub mod claim_limits;
pub mod consent;
pub mod identifier;
pub(crate) mod key_material;
pub mod limits;
mod notify;
pub mod peer_auth;
pub mod proxy;
pub(crate) mod room;

use std::sync::Arc;
use std::time::Duration;

use crate::setup::http_error;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mimi_proto::directory::{DIRECTORY_PATH, Endpoint, PathTarget, parse_request_path};

use crate::fed::peer_auth::{Peer, require_peer};
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// Longest a federation request may take before it is answered 503. A hub
/// step plus one durable commit takes milliseconds; this only cuts off
/// requests stuck behind a store outage.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The endpoints this server implements; the directory lists only these.
pub const IMPLEMENTED: [Endpoint; 10] = [
    Endpoint::KeyMaterial,
    Endpoint::Update,
    Endpoint::Notify,
    Endpoint::SubmitMessage,
    Endpoint::GroupInfo,
    Endpoint::RequestConsent,
    Endpoint::UpdateConsent,
    Endpoint::IdentifierQuery,
    Endpoint::ReportAbuse,
    Endpoint::ProxyDownload,
];

/// The federation router.
pub fn router(state: AppState) -> Router {
    let limiter = Arc::new(limits::Limiter::new(&state.limits));
    let domain: Arc<str> = Arc::from(state.provider().domain());
    let endpoints = Router::new()
        .route("/v1/{*target}", post(dispatch).get(download))
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            limits::enforce,
        ))
        .layer(axum::middleware::from_fn_with_state(domain, require_peer));
    Router::new()
        .route(DIRECTORY_PATH, get(directory))
        .merge(endpoints)
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(http_error::timeout_layer(REQUEST_TIMEOUT))
        .with_state(state)
}

/// `GET /.well-known/mimi-protocol-directory` (protocol-06 §5.1).
async fn directory(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.directory_json.clone(),
    )
        .into_response()
}

/// `POST /v1/{endpoint}/{target}`: decodes the path leniently (decisions W-1)
/// and hands the body to the endpoint.
async fn dispatch(
    State(state): State<AppState>,
    Extension(Peer(peer)): Extension<Peer>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (endpoint, target) = match parse_request_path(uri.path()) {
        Ok(parsed) => parsed,
        Err(e) => {
            state.metrics.request("invalid", 400);
            return ApiError::Decode(e).into_response();
        }
    };
    let response = match endpoint {
        Endpoint::Update => room::update(&state, &peer, target, &body).await,
        Endpoint::SubmitMessage => room::submit_message(&state, &peer, target, &body).await,
        Endpoint::GroupInfo => room::group_info(&state, &peer, target, &body).await,
        Endpoint::Notify => notify::notify(&state, &peer, target, body).await,
        Endpoint::KeyMaterial => key_material::key_material(&state, &peer, target, &body).await,
        Endpoint::RequestConsent => consent::request_consent(&state, &peer, target, &body).await,
        Endpoint::UpdateConsent => consent::update_consent(&state, &peer, target, &body).await,
        Endpoint::IdentifierQuery => {
            identifier::identifier_query(&state, &peer, target, &body).await
        }
        Endpoint::ReportAbuse => abuse::report_abuse(&state, &peer, target, &body).await,
        Endpoint::ProxyDownload => Err(ApiError::MethodNotAllowed {
            allow: "GET",
            why: "proxyDownload is a GET",
        }),
    };
    let response = response.unwrap_or_else(IntoResponse::into_response);
    state
        .metrics
        .request(endpoint.key(), response.status().as_u16());
    response
}

/// `GET /v1/proxyDownload/{downloadUrl}[?room=<roomId>]` (protocol-06
/// §5.10); the only GET endpoint besides the directory.
async fn download(
    State(state): State<AppState>,
    Extension(Peer(peer)): Extension<Peer>,
    uri: Uri,
) -> Response {
    let response = match parse_request_path(uri.path()) {
        Ok((Endpoint::ProxyDownload, PathTarget::DownloadUrl(url))) => {
            match room_hint(uri.query()) {
                Ok(room) => proxy::proxy_download(&state, &url, room).await,
                Err(e) => Err(e),
            }
        }
        Ok(_) => Err(ApiError::NotFound("only proxyDownload answers GET")),
        Err(e) => Err(ApiError::Decode(e)),
    };
    let response = response.unwrap_or_else(IntoResponse::into_response);
    tracing::debug!(%peer, status = %response.status(), "proxyDownload");
    state
        .metrics
        .request(Endpoint::ProxyDownload.key(), response.status().as_u16());
    response
}

/// The optional `room` query parameter of proxyDownload, percent-decoded.
fn room_hint(query: Option<&str>) -> Result<Option<mimi_proto::RoomId>, ApiError> {
    let Some(value) = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("room="))
    else {
        return Ok(None);
    };
    // Reuse the path decoder: the room is one percent-encoded segment.
    match parse_request_path(&format!("/v1/reportAbuse/{value}"))? {
        (_, PathTarget::Room(room)) => Ok(Some(room)),
        _ => Err(ApiError::NotFound("no such room")),
    }
}

/// A 200 answer carrying a MIMI body.
pub(crate) fn mimi_body(bytes: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            crate::fanout::peer_client::MIMI_MEDIA_TYPE,
        )],
        bytes,
    )
        .into_response()
}
