//! The provider client API (issue #9): how this provider's own clients reach
//! it, over HTTPS with the server's certificate (no client certificate), on
//! the client listener. The contract — routes, JSON bodies, signed requests —
//! is the `mimi-client-api` crate; this module serves it.
//!
//! The same listener serves `/metrics`, `/healthz` and, when `admin_token` is
//! configured, the operator's admin API ([`crate::admin`], decisions FED-11).
//!
//! Layers, outermost first: per-route metrics, body size limit, a request
//! timeout (except the event routes, which wait on purpose), then for every
//! route but registration the signature check ([`auth`]) that names the
//! calling client. Handlers:
//! - [`account`]: registration, the hub's external sender, KeyPackages;
//! - [`rooms`]: room creation, leaving a room's delivery;
//! - [`consent`]: the caller's user's consent scopes: list, request, cancel,
//!   grant, revoke;
//! - [`relay`]: MIMI requests, answered here for rooms we host or relayed to
//!   the room's hub over mutual TLS;
//! - [`events`]: the caller's mailbox as long-poll pages or server-sent events.
//!
//! Every error answers an [`ErrorBody`](mimi_client_api::ErrorBody)
//! ([`error`]).

mod account;
pub mod auth;
mod consent;
mod error;
mod events;
pub mod provisioning;
mod relay;
mod rooms;

use std::time::Duration;

use crate::setup::http_error;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use mimi_client_api::routes;

pub(crate) use error::ClientError;

use crate::setup::state::AppState;

/// Recent request nonces remembered per server for replay protection. Each
/// costs about 200 bytes, so the guard stays near 50 MB when full; that is
/// about 400 signed requests per second sustained over the guard's window
/// (twice the allowed clock skew). Beyond it new requests are refused rather
/// than old nonces forgotten (see `ReplayGuard`).
pub const REPLAY_CAPACITY: usize = 1 << 18;

/// Longest a client-API request other than the event routes may take.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The client-listener router. `admin_token` enables the admin routes.
pub fn router(state: AppState, admin_token: Option<String>) -> Router {
    let signed = Router::new()
        .route(routes::HUB, get(account::hub))
        .route(
            routes::KEY_PACKAGES,
            post(account::upload_key_packages).get(account::count_key_packages),
        )
        .route(routes::ROOMS, post(rooms::create))
        .route(MEMBERSHIP_ROUTE, delete(rooms::leave))
        .route(MIMI_ROUTE, post(relay::mimi))
        .route(routes::CONSENT, get(consent::list))
        .route(routes::CONSENT_REQUEST, post(consent::request))
        .route(routes::CONSENT_CANCEL, post(consent::cancel))
        .route(routes::CONSENT_GRANT, post(consent::grant))
        .route(routes::CONSENT_REVOKE, post(consent::revoke))
        .layer(http_error::timeout_layer(REQUEST_TIMEOUT))
        .merge(
            Router::new()
                .route(routes::EVENTS, get(events::page))
                .route(routes::EVENTS_STREAM, get(events::stream)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_signature,
        ));
    let mut app = Router::new()
        .route(routes::METRICS, get(metrics))
        .route(routes::HEALTHZ, get(|| async { "ok" }))
        .route(
            routes::REGISTER,
            post(account::register).layer(http_error::timeout_layer(REQUEST_TIMEOUT)),
        )
        .merge(signed)
        .method_not_allowed_fallback(|| async { ClientError::method_not_allowed() })
        .fallback(|| async { ClientError::not_found("no such route") });
    if let Some(token) = admin_token {
        app = app.merge(crate::admin::router(token));
    }
    app.layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

/// The route pattern of `DELETE …/rooms/{room}/membership`.
const MEMBERSHIP_ROUTE: &str = "/client/v1/rooms/{room}/membership";
/// The route pattern of relayed MIMI requests.
const MIMI_ROUTE: &str = "/client/v1/mimi/{endpoint}/{target}";

/// Counts every answer by route pattern and status. Patterns are a fixed set,
/// so the label cannot grow with what clients send.
async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| route_label(p.as_str()));
    let response = next.run(req).await;
    if !route.starts_with("/admin/") {
        state
            .metrics
            .client_request(route, response.status().as_u16());
    }
    response
}

fn route_label(pattern: &str) -> &'static str {
    [
        routes::REGISTER,
        routes::HUB,
        routes::KEY_PACKAGES,
        routes::ROOMS,
        MEMBERSHIP_ROUTE,
        MIMI_ROUTE,
        routes::CONSENT,
        routes::CONSENT_REQUEST,
        routes::CONSENT_CANCEL,
        routes::CONSENT_GRANT,
        routes::CONSENT_REVOKE,
        routes::EVENTS,
        routes::EVENTS_STREAM,
        routes::HEALTHZ,
        routes::METRICS,
    ]
    .into_iter()
    .find(|r| *r == pattern)
    .unwrap_or(if pattern.starts_with("/admin/") {
        "/admin/"
    } else {
        "other"
    })
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(state): State<AppState>) -> Response {
    let depth = state.store.outbox_len().await.ok();
    let mut text = state.metrics.render(depth);
    match state
        .store
        .key_package_stock_by_user(mimi_store::Timestamp(state.now_ms()))
        .await
    {
        Ok(rows) => crate::setup::metrics::render_key_package_stock(&mut text, &rows),
        // The rest of the page is still worth serving.
        Err(e) => tracing::warn!(error = %e, "KeyPackage stock for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
