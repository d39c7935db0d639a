//! Every way a federation request can fail at the HTTP level, and the one
//! function that maps them to a status (decisions FED-1).
//!
//! Protocol outcomes (`wrongEpoch`, `notAllowed`, `epochTooOld`, …) are not
//! errors here: they are 200 answers whose body carries the code. What remains
//! is what the peer cannot express in a body: it sent bytes we cannot decode
//! (400), it is not allowed to call this (403), the room does not exist (404),
//! we are overloaded (429/503 with `Retry-After`), or we failed (500/502).

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_proto::DecodeError;
use mimi_store::{Conflict, Record, StoreError};

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
    /// The caller sent too many requests; retry after the given time.
    #[error("rate limited")]
    RateLimited(Duration),
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
    /// The HTTP status for this error: the single place the mapping lives.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Decode(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Store(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "federation request failed");
        } else {
            tracing::info!(error = %self, "federation request refused");
        }
        let mut response = (status, self.public_text()).into_response();
        if let Self::RateLimited(after) | Self::Overloaded(after) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(after));
        }
        response
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1 (RFC 9110 §10.2.3
/// has no sub-second form).
pub fn retry_after_value(after: Duration) -> HeaderValue {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    HeaderValue::from(secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_has_its_status() {
        let cases: [(ApiError, u16); 8] = [
            (ApiError::Decode(DecodeError::TrailingBytes), 400),
            (ApiError::Forbidden("x"), 403),
            (ApiError::from(StoreError::NotFound(Record::Room)), 404),
            (ApiError::RateLimited(Duration::from_millis(1)), 429),
            (ApiError::from(StoreError::Conflict(Conflict::Busy)), 503),
            (ApiError::Upstream("x".into()), 502),
            (ApiError::from(StoreError::Corrupt("x")), 500),
            (ApiError::Internal("x"), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn throttling_answers_carry_retry_after_and_internals_stay_hidden() {
        let r = ApiError::RateLimited(Duration::from_millis(1500)).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::Overloaded(Duration::ZERO).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            ApiError::Store(StoreError::Corrupt("secret column")).public_text(),
            "internal error"
        );
    }
}
