//! Every HTTP status this server answers with is chosen here (decisions
//! FED-1): each error family maps to a [`Failure`], and each [`Failure`] to
//! one status, so a reader finds the whole mapping, and its table test, in one
//! file.
//!
//! The families: the federation API's [`ApiError`] and peer authentication's
//! [`AuthFailure`] (plain-text bodies), the client API's [`ClientError`] (an
//! `ErrorBody` with a stable code), the admin API's [`AdminError`] (plain
//! text), and the domain errors they carry, [`ConsentError`] and
//! [`ProvisionError`], which map to the same status on every listener. A peer's
//! failure status that we pass on goes through [`Failure::from_upstream`].
//! The two body-less successes are [`Done`], and a request timeout answers
//! [`timeout_layer`]'s status.
//!
//! Protocol outcomes (`wrongEpoch`, `notAllowed`, `epochTooOld`, …) are not
//! errors here: they are 200 answers whose body carries the code. What remains
//! is what the caller cannot express in a body: it sent bytes we cannot decode
//! (400), it is not allowed to call this (403), the room does not exist (404),
//! we are overloaded (429/503 with `Retry-After`), or we failed (500/502).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_client_api::{ErrorBody, ErrorCode};
use mimi_proto::{DecodeError, ProviderId};
use mimi_store::{Conflict, Record, StoreError};
use tower_http::timeout::TimeoutLayer;

use crate::admin::AdminError;
use crate::client_api::ClientError;
use crate::client_api::provisioning::ProvisionError;
use crate::fanout::peer_client::PeerError;
use crate::fed::consent::ConsentError;
use crate::fed::peer_auth::AuthFailure;

/// What kind of failure an answer reports: one variant per status, and per
/// client-API code where one status has two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// 400: the body, path or a parameter does not parse.
    BadRequest,
    /// 401: the request is not authentic.
    Unauthenticated,
    /// 403: authentic, but not allowed.
    Forbidden,
    /// 404: no such record or route.
    NotFound,
    /// 404: the request needs a provider that is not among our peers
    /// (decisions FED-20).
    UnknownProvider,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 409: it exists already.
    Conflict,
    /// 413: a body above the limit.
    TooLarge,
    /// 421: the request names another provider as its target.
    Misdirected,
    /// 403 `not_allowed`: the room's hub refuses a keyMaterial request
    /// (decisions KP-1, KP-2).
    NotAllowed,
    /// 429: this caller sent too much; retry after the time given.
    RateLimited(Duration),
    /// 429 `rate_limited`: the target's provider limits KeyPackage claims;
    /// retry after the time given (decisions KP-3).
    ClaimLimited(Duration),
    /// 503: we (or the provider we relay to) are overloaded; retry after the
    /// time given.
    Unavailable(Duration),
    /// 502: a provider we called failed.
    Upstream,
    /// 500: we failed.
    Internal,
}

impl Failure {
    /// The HTTP status.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::NotAllowed => StatusCode::FORBIDDEN,
            Self::NotFound | Self::UnknownProvider => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            // RFC 9110 §15.5.20: sent to a server that will not answer for
            // that authority.
            Self::Misdirected => StatusCode::MISDIRECTED_REQUEST,
            Self::RateLimited(_) | Self::ClaimLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream => StatusCode::BAD_GATEWAY,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `Retry-After` the answer carries, for throttling answers.
    fn retry_after(self) -> Option<Duration> {
        match self {
            Self::RateLimited(after) | Self::ClaimLimited(after) | Self::Unavailable(after) => {
                Some(after)
            }
            _ => None,
        }
    }

    /// The failure to pass on for a non-success `status` of a provider we
    /// called (with its `Retry-After`): a refusal of what the caller sent
    /// keeps its status, throttling becomes 503 with the peer's `Retry-After`
    /// (1 s without one), anything else is the peer's failure, 502.
    pub(crate) fn from_upstream(status: StatusCode, retry_after: Option<Duration>) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest,
            StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            StatusCode::FORBIDDEN => Self::Forbidden,
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::CONFLICT => Self::Conflict,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Self::Unavailable(
                retry_after.map_or(Duration::from_secs(1), |d| d.max(Duration::from_secs(1))),
            ),
            _ => Self::Upstream,
        }
    }

    /// The client API contract's code for this failure.
    fn code(self) -> ErrorCode {
        match self {
            Self::BadRequest | Self::MethodNotAllowed | Self::TooLarge | Self::Misdirected => {
                ErrorCode::BadRequest
            }
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::NotAllowed => ErrorCode::NotAllowed,
            Self::NotFound => ErrorCode::NotFound,
            Self::UnknownProvider => ErrorCode::UnknownProvider,
            Self::Conflict => ErrorCode::Conflict,
            Self::RateLimited(_) | Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::ClaimLimited(_) => ErrorCode::RateLimited,
            Self::Upstream => ErrorCode::Upstream,
            Self::Internal => ErrorCode::Internal,
        }
    }

    /// An answer with this failure's status, `body` and `Retry-After`.
    fn answer(self, body: impl IntoResponse) -> Response {
        let mut response = (self.status(), body).into_response();
        if let Some(after) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(after));
        }
        response
    }
}

/// What a keyMaterial refusal's text starts with: the hub's `notAllowed`
/// (protocol-06 has no keyMaterial body code for it) and the target
/// provider's claim limit. A relay (the hub, the requester's provider) reads
/// it back with [`ApiError::relayed_refusal`] and passes the refusal on as itself
/// (decisions KP-2).
pub const NOT_ALLOWED: &str = "notAllowed";
/// See [`NOT_ALLOWED`].
pub const CLAIM_LIMITED: &str = "claimLimited";

/// Longest refusal detail passed on from a peer: a policy denial names a
/// rule, an actor and a target, well under this; a longer text is cut.
const MAX_DETAIL: usize = 400;

/// A federation request that cannot be answered with a protocol body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body or path does not decode.
    #[error("bad request: {0}")]
    Decode(#[from] DecodeError),
    /// The caller is not allowed to make this request (not the room's hub for
    /// `notify`, or asserting another provider's user).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The room (or user) is not known here.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The request needs a provider that is not among our peers (a user of
    /// `w.example` added to a room we host): nobody to ask, so the caller's
    /// mistake, not a failing peer (decisions FED-20).
    #[error("{0} is not a known provider (not among this provider's peers)")]
    UnknownProvider(String),
    /// The endpoint exists but not with this method; `allow` names the one
    /// it takes.
    #[error("{why}")]
    MethodNotAllowed {
        /// The method to use instead (the `Allow` header).
        allow: &'static str,
        /// What the caller reads.
        why: &'static str,
    },
    /// The room's hub refuses a keyMaterial request: the requester may not
    /// add the target to the named room (protocol-06 §5.2; decisions KP-1).
    #[error("{NOT_ALLOWED}: {0}")]
    NotAllowed(String),
    /// The caller sent too many requests; retry after the given time.
    #[error("rate limited")]
    RateLimited(Duration),
    /// Too many KeyPackage claims for one target by this requesting user or
    /// provider in the current window; retry after the given time
    /// (decisions KP-3).
    #[error("{CLAIM_LIMITED}: {detail}")]
    ClaimLimited {
        /// When the requester may claim again.
        after: Duration,
        /// Which provider limits, for the requester to read.
        detail: String,
    },
    /// We are overloaded or a dependency is busy; retry after the given time.
    #[error("overloaded")]
    Overloaded(Duration),
    /// A peer we relayed to failed.
    #[error("upstream provider failed: {0}")]
    Upstream(String),
    /// Storage failed; the detail goes to the log, never to the peer.
    #[error("storage: {0}")]
    Store(StoreError),
    /// A bug or broken invariant.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(Record::Room) => Self::NotFound("no such room"),
            // The database refused because of concurrent activity: nothing was
            // written and a retry will likely succeed.
            StoreError::Conflict(Conflict::Busy) => Self::Overloaded(Duration::from_secs(1)),
            other => Self::Store(other),
        }
    }
}

impl ApiError {
    /// A call to the peer `to` that produced no HTTP answer: a provider we
    /// do not know is [`ApiError::UnknownProvider`], anything else
    /// [`ApiError::Upstream`].
    pub(crate) fn from_peer(to: &ProviderId, e: PeerError) -> Self {
        match e {
            PeerError::UnknownPeer(domain) => Self::UnknownProvider(domain),
            other => Self::Upstream(format!("{to}: {other}")),
        }
    }

    /// What kind of failure this is.
    pub(crate) fn failure(&self) -> Failure {
        match self {
            Self::Decode(_) => Failure::BadRequest,
            Self::Forbidden(_) => Failure::Forbidden,
            Self::NotFound(_) => Failure::NotFound,
            Self::UnknownProvider(_) => Failure::UnknownProvider,
            Self::MethodNotAllowed { .. } => Failure::MethodNotAllowed,
            Self::NotAllowed(_) => Failure::NotAllowed,
            Self::RateLimited(after) => Failure::RateLimited(*after),
            Self::ClaimLimited { after, .. } => Failure::ClaimLimited(*after),
            Self::Overloaded(after) => Failure::Unavailable(*after),
            Self::Upstream(_) => Failure::Upstream,
            Self::Store(_) | Self::Internal(_) => Failure::Internal,
        }
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        self.failure().status()
    }

    /// A peer's refusal that names a keyMaterial refusal of ours
    /// ([`NOT_ALLOWED`], [`CLAIM_LIMITED`]), rebuilt so a relay answers with
    /// the same refusal; `None` for anything else.
    pub fn relayed_refusal(
        status: StatusCode,
        text: &str,
        retry_after: Option<Duration>,
    ) -> Option<Self> {
        match status {
            StatusCode::FORBIDDEN => text
                .strip_prefix(NOT_ALLOWED)
                .and_then(|rest| rest.strip_prefix(": "))
                .map(|detail| Self::NotAllowed(detail.chars().take(MAX_DETAIL).collect())),
            StatusCode::TOO_MANY_REQUESTS => text
                .strip_prefix(CLAIM_LIMITED)
                .and_then(|rest| rest.strip_prefix(": "))
                .map(|detail| Self::ClaimLimited {
                    after: retry_after.unwrap_or(Duration::from_secs(1)),
                    detail: detail.chars().take(MAX_DETAIL).collect(),
                }),
            _ => None,
        }
    }

    /// The text the peer sees. Storage and internal details stay in our logs.
    fn public_text(&self) -> String {
        match self {
            Self::Store(_) | Self::Internal(_) => "internal error".to_owned(),
            Self::Upstream(_) => "upstream provider failed".to_owned(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let failure = self.failure();
        if failure.status().is_server_error() {
            tracing::warn!(error = %self, "federation request failed");
        } else {
            tracing::info!(error = %self, "federation request refused");
        }
        let mut response = failure.answer(self.public_text());
        if let Self::MethodNotAllowed { allow, .. } = self {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

impl AuthFailure {
    /// What kind of failure this is.
    fn failure(self) -> Failure {
        match self {
            Self::NoCertificate | Self::BadFrom | Self::FromMismatch => Failure::Forbidden,
            Self::NotForUs => Failure::Misdirected,
        }
    }
}

impl IntoResponse for AuthFailure {
    fn into_response(self) -> Response {
        self.failure().answer(self.text())
    }
}

impl From<&ConsentError> for Failure {
    fn from(e: &ConsentError) -> Self {
        match e {
            ConsentError::BadInput(_) => Self::BadRequest,
            // The caller's own user: registered clients have one, so this is
            // a user removed since.
            ConsentError::UnknownUser(_) => Self::NotFound,
            ConsentError::Peer(e) => e.failure(),
            ConsentError::PeerStatus {
                status,
                retry_after,
                ..
            } => Self::from_upstream(*status, *retry_after),
            ConsentError::Store(e) => store_failure(e),
        }
    }
}

impl From<&ProvisionError> for Failure {
    fn from(e: &ProvisionError) -> Self {
        match e {
            ProvisionError::BadInput(_) => Self::BadRequest,
            ProvisionError::NotFound(_) => Self::NotFound,
            ProvisionError::Conflict(_) => Self::Conflict,
            ProvisionError::Internal(_) => Self::Internal,
        }
    }
}

/// A storage failure's kind, by the same rule as `ApiError::from`.
fn store_failure(e: &StoreError) -> Failure {
    match e {
        StoreError::NotFound(Record::Room) => Failure::NotFound,
        StoreError::Conflict(Conflict::Busy) => Failure::Unavailable(Duration::from_secs(1)),
        _ => Failure::Internal,
    }
}

impl IntoResponse for ClientError {
    fn into_response(self) -> Response {
        let failure = self.failure;
        if failure.status().is_client_error() {
            tracing::debug!(status = %failure.status(), message = %self.message, "client API request refused");
        }
        failure.answer(Json(ErrorBody {
            code: failure.code(),
            message: self.message,
        }))
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        self.failure.answer(self.message)
    }
}

/// A success without a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    /// 201: stored.
    Created,
    /// 204: done, nothing to say.
    NoContent,
}

impl Done {
    /// This status with `body`.
    pub(crate) fn with(self, body: impl IntoResponse) -> Response {
        (self.status(), body).into_response()
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Created => StatusCode::CREATED,
            Self::NoContent => StatusCode::NO_CONTENT,
        }
    }
}

impl IntoResponse for Done {
    fn into_response(self) -> Response {
        self.status().into_response()
    }
}

/// A layer answering 503 to a request not done within `limit`: our slowness,
/// so the caller may retry.
pub(crate) fn timeout_layer(limit: Duration) -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, limit)
}

/// `Retry-After` in whole seconds, rounded up and at least 1 (RFC 9110 §10.2.3
/// has no sub-second form).
pub fn retry_after_value(after: Duration) -> HeaderValue {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    HeaderValue::from(secs.max(1))
}

#[cfg(test)]
mod tests {
    use mimi_client_api::AuthError;
    use mimi_proto::UserId;

    use super::*;

    fn limited(secs: u64) -> ApiError {
        ApiError::ClaimLimited {
            after: Duration::from_secs(secs),
            detail: "c.example limits claims of this user's KeyPackages".into(),
        }
    }

    fn consent_peer(status: StatusCode) -> ConsentError {
        ConsentError::PeerStatus {
            provider: "y.example".into(),
            status,
            text: "no".into(),
            retry_after: None,
        }
    }

    /// Every error family, on every listener, and the status it answers.
    #[test]
    fn each_error_answers_its_status() {
        let cases: Vec<(&str, Response, u16)> = vec![
            // federation
            (
                "decode",
                ApiError::Decode(DecodeError::TrailingBytes).into_response(),
                400,
            ),
            ("forbidden", ApiError::Forbidden("x").into_response(), 403),
            (
                "unknown provider",
                ApiError::UnknownProvider("w.example".into()).into_response(),
                404,
            ),
            (
                "not allowed",
                ApiError::NotAllowed("x".into()).into_response(),
                403,
            ),
            ("claim limited", limited(5).into_response(), 429),
            (
                "room store",
                ApiError::from(StoreError::NotFound(Record::Room)).into_response(),
                404,
            ),
            (
                "method",
                ApiError::MethodNotAllowed {
                    allow: "GET",
                    why: "x",
                }
                .into_response(),
                405,
            ),
            (
                "rate",
                ApiError::RateLimited(Duration::from_millis(1)).into_response(),
                429,
            ),
            (
                "busy",
                ApiError::from(StoreError::Conflict(Conflict::Busy)).into_response(),
                503,
            ),
            (
                "upstream",
                ApiError::Upstream("x".into()).into_response(),
                502,
            ),
            (
                "corrupt",
                ApiError::from(StoreError::Corrupt("x")).into_response(),
                500,
            ),
            ("internal", ApiError::Internal("x").into_response(), 500),
            // peer authentication
            ("no cert", AuthFailure::NoCertificate.into_response(), 403),
            ("bad from", AuthFailure::BadFrom.into_response(), 403),
            ("mismatch", AuthFailure::FromMismatch.into_response(), 403),
            ("not for us", AuthFailure::NotForUs.into_response(), 421),
            // client API
            ("c bad", ClientError::bad_request("x").into_response(), 400),
            (
                "c auth",
                ClientError::from(AuthError::Replayed).into_response(),
                401,
            ),
            (
                "c forbidden",
                ClientError::forbidden("x").into_response(),
                403,
            ),
            (
                "c missing",
                ClientError::not_found("x").into_response(),
                404,
            ),
            (
                "c method",
                ClientError::method_not_allowed().into_response(),
                405,
            ),
            (
                "c conflict",
                ClientError::conflict("x").into_response(),
                409,
            ),
            ("c large", ClientError::too_large().into_response(), 413),
            (
                "c internal",
                ClientError::internal("x").into_response(),
                500,
            ),
            (
                "c overload",
                ClientError::from(ApiError::Overloaded(Duration::ZERO)).into_response(),
                503,
            ),
            (
                "c rate",
                ClientError::from(ApiError::RateLimited(Duration::ZERO)).into_response(),
                503,
            ),
            (
                "c not allowed",
                ClientError::from(ApiError::NotAllowed("x".into())).into_response(),
                403,
            ),
            (
                "c claim limited",
                ClientError::from(limited(0)).into_response(),
                429,
            ),
            (
                "c relay",
                ClientError::from(ApiError::Upstream("x".into())).into_response(),
                502,
            ),
            // admin API
            ("a bad", AdminError::bad("x").into_response(), 400),
            (
                "a token",
                AdminError::unauthenticated("x").into_response(),
                401,
            ),
            ("a missing", AdminError::not_found("x").into_response(), 404),
            ("a peer", AdminError::upstream("x").into_response(), 502),
            ("a internal", AdminError::internal("x").into_response(), 500),
        ];
        for (name, response, status) in cases {
            assert_eq!(response.status().as_u16(), status, "{name}");
        }
    }

    /// The hub's and the claim limit's refusals survive relays with their
    /// text, status and client-API code (decisions KP-2).
    #[test]
    fn key_material_refusals_survive_a_relay() {
        // The hub that refused is the one we asked; the limit names the
        // target's provider, which may be further along.
        for (error, code, who) in [
            (
                ApiError::NotAllowed("POL-10 client x may not add y".into()),
                ErrorCode::NotAllowed,
                "the hub y.example refused (notAllowed): POL-10",
            ),
            (
                limited(30),
                ErrorCode::RateLimited,
                "refused (claimLimited): c.example limits",
            ),
        ] {
            let status = error.status();
            let text = error.public_text();
            let back = ApiError::relayed_refusal(status, &text, Some(Duration::from_secs(30)))
                .unwrap_or_else(|| panic!("{text} is not recognised"));
            assert_eq!(back.public_text(), text);
            assert_eq!(back.status(), status);
            let client = ClientError::from_upstream("y.example", status, &text, None);
            assert_eq!(client.failure.code(), code);
            assert!(client.message.contains(who), "{}", client.message);
        }
        assert!(ApiError::relayed_refusal(StatusCode::FORBIDDEN, "forbidden: x", None).is_none());
        assert!(
            ApiError::relayed_refusal(StatusCode::TOO_MANY_REQUESTS, "rate limited", None)
                .is_none()
        );
    }

    proptest::proptest! {
        /// A peer's refusal text is read, never trusted to be well formed:
        /// any text under any status gives an answer or `None`, a refusal's
        /// detail comes back whole (up to the cap), and nothing panics.
        #[test]
        fn any_peer_text_is_read_without_panicking(
            status in proptest::sample::select(vec![403u16, 429, 400, 502]),
            text in ".{0,600}",
            detail in "[ -~]{0,300}",
        ) {
            let status = StatusCode::from_u16(status).expect("a valid status");
            let _ = ApiError::relayed_refusal(status, &text, None);
            for error in [
                ApiError::NotAllowed(detail.clone()),
                ApiError::ClaimLimited { after: Duration::from_secs(1), detail: detail.clone() },
            ] {
                let back = ApiError::relayed_refusal(error.status(), &error.public_text(), None);
                proptest::prop_assert_eq!(
                    back.map(|b| b.public_text()),
                    Some(error.public_text())
                );
            }
        }
    }

    /// The domain errors answer the same status on the client and the admin
    /// API.
    #[test]
    fn domain_errors_map_once_for_both_listeners() {
        let user = UserId::parse("mimi://x.example/u/alice").expect("a valid user URI");
        let consent: Vec<(fn() -> ConsentError, u16)> = vec![
            (|| ConsentError::BadInput("x"), 400),
            (|| ConsentError::Peer(ApiError::Upstream("x".into())), 502),
            (
                || ConsentError::Peer(ApiError::UnknownProvider("w.example".into())),
                404,
            ),
            (|| consent_peer(StatusCode::NOT_FOUND), 404),
            (|| consent_peer(StatusCode::FORBIDDEN), 403),
            (|| consent_peer(StatusCode::TOO_MANY_REQUESTS), 503),
            (|| consent_peer(StatusCode::INTERNAL_SERVER_ERROR), 502),
            (
                || ConsentError::Store(StoreError::Conflict(Conflict::Busy)),
                503,
            ),
            (|| ConsentError::Store(StoreError::Corrupt("x")), 500),
        ];
        for (make, status) in consent {
            let client = ClientError::from(make()).into_response();
            let admin = AdminError::from(make()).into_response();
            assert_eq!(client.status().as_u16(), status, "{:?}", make());
            assert_eq!(admin.status().as_u16(), status, "{:?}", make());
        }
        let unknown = ConsentError::UnknownUser(user.clone());
        assert_eq!(
            ClientError::from(unknown).into_response().status().as_u16(),
            404
        );
        let unknown = ConsentError::UnknownUser(user);
        assert_eq!(
            AdminError::from(unknown).into_response().status().as_u16(),
            404
        );

        let provision: Vec<(fn() -> ProvisionError, u16)> = vec![
            (|| ProvisionError::BadInput("x".into()), 400),
            (|| ProvisionError::NotFound("x".into()), 404),
            (|| ProvisionError::Conflict("x".into()), 409),
            (|| ProvisionError::Internal("x".into()), 500),
        ];
        for (make, status) in provision {
            let client = ClientError::from(make()).into_response();
            let admin = AdminError::from(make()).into_response();
            assert_eq!(client.status().as_u16(), status, "{:?}", make());
            assert_eq!(admin.status().as_u16(), status, "{:?}", make());
        }
    }

    #[test]
    fn client_answers_carry_the_contract_code() {
        let cases: [(ClientError, ErrorCode); 6] = [
            (
                ApiError::Overloaded(Duration::from_millis(10)).into(),
                ErrorCode::Unavailable,
            ),
            (ApiError::Upstream("x".into()).into(), ErrorCode::Upstream),
            (
                ProvisionError::Conflict("x".into()).into(),
                ErrorCode::Conflict,
            ),
            (AuthError::Replayed.into(), ErrorCode::Unauthenticated),
            (
                ClientError::from_upstream("y.example", StatusCode::FORBIDDEN, "no", None),
                ErrorCode::Forbidden,
            ),
            (
                ClientError::from_upstream(
                    "y.example",
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "boom",
                    None,
                ),
                ErrorCode::Upstream,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(error.failure.code(), code, "{error:?}");
        }
    }

    #[test]
    fn successes_and_timeouts_have_their_status() {
        assert_eq!(Done::Created.into_response().status().as_u16(), 201);
        assert_eq!(Done::NoContent.into_response().status().as_u16(), 204);
        assert_eq!(Done::Created.with("x").status().as_u16(), 201);
    }

    #[test]
    fn throttling_answers_carry_retry_after_and_internals_stay_hidden() {
        let r = ApiError::RateLimited(Duration::from_millis(1500)).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::Overloaded(Duration::ZERO).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        let r =
            ClientError::from(ApiError::Overloaded(Duration::from_millis(1500))).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::MethodNotAllowed {
            allow: "GET",
            why: "x",
        }
        .into_response();
        assert_eq!(r.headers()[header::ALLOW], "GET");
        assert_eq!(
            ApiError::Store(StoreError::Corrupt("secret column")).public_text(),
            "internal error"
        );
    }
}
