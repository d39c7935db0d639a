//! Client-API failures: every one answers an [`ErrorBody`] with a stable
//! [`ErrorCode`] and the status the contract gives it (`mimi_client_api::routes`).

use std::time::Duration;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_client_api::{AuthError, ErrorBody, ErrorCode};
use mimi_store::StoreError;

use crate::client_api::provisioning::ProvisionError;
use crate::fed::consent::ConsentError;
use crate::setup::http_error::{ApiError, retry_after_value};

/// A refused or failed client-API request.
#[derive(Debug)]
pub(crate) struct ClientError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    retry_after: Option<Duration>,
}

impl ClientError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the body or a parameter does not parse.
    pub(crate) fn bad_request(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            message.to_string(),
        )
    }

    /// 401: the request is not authentic.
    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            message,
        )
    }

    /// 403: authentic, but not allowed.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    /// 404.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 405: the route exists, the method does not.
    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadRequest,
            "method not allowed on this route",
        )
    }

    /// 409.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// 413: a body above the server's limit.
    pub(crate) fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadRequest,
            "request body too large",
        )
    }

    /// 500; the detail goes to the log, not to the client.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %detail, "client API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
    }

    /// A non-success answer of the peer `from` (a domain) a request went to:
    /// its 4xx status is kept (the caller sent something the peer refuses),
    /// 429 and 503 become 503 with its `Retry-After`, any other failure is a
    /// 502.
    pub(crate) fn from_upstream(
        from: &str,
        status: StatusCode,
        text: &str,
        retry_after: Option<u64>,
    ) -> Self {
        let text: String = text.chars().take(200).collect();
        let message = format!("{from} answered {status}: {text}");
        let code = match status {
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BadRequest,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    message,
                );
                e.retry_after = Some(Duration::from_secs(retry_after.unwrap_or(1)));
                return e;
            }
            _ => return Self::new(StatusCode::BAD_GATEWAY, ErrorCode::Upstream, message),
        };
        Self::new(status, code, message)
    }

    /// The error's code, for tests and metrics.
    #[cfg(test)]
    pub(crate) fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ClientError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::debug!(status = %self.status, message = %self.message, "client API request refused");
        }
        let mut response = (
            self.status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if let Some(after) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(after));
        }
        response
    }
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Decode(e) => Self::bad_request(e),
            ApiError::Forbidden(what) => Self::forbidden(what),
            ApiError::NotFound(what) => Self::not_found(what),
            ApiError::RateLimited(after) | ApiError::Overloaded(after) => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "overloaded, retry later",
                );
                e.retry_after = Some(after);
                e
            }
            ApiError::Upstream(detail) => {
                tracing::info!(error = %detail, "relay failed");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::Upstream,
                    "the room's hub or a peer provider failed",
                )
            }
            e @ (ApiError::Store(_) | ApiError::Internal(_)) => Self::internal(e),
        }
    }
}

impl From<ConsentError> for ClientError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::BadInput(what) => Self::bad_request(what),
            // The caller's own user: registered clients have one, so this is
            // a user removed since.
            ConsentError::UnknownUser(user) => Self::not_found(format!("no such user: {user}")),
            ConsentError::PeerStatus {
                provider,
                status,
                text,
                retry_after,
            } => Self::from_upstream(
                &provider,
                status,
                &text,
                retry_after.map(|d| d.as_secs().max(1)),
            ),
            ConsentError::Peer(detail) => ApiError::Upstream(detail).into(),
            ConsentError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ClientError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<ProvisionError> for ClientError {
    fn from(e: ProvisionError) -> Self {
        match e {
            ProvisionError::BadInput(what) => Self::bad_request(what),
            ProvisionError::NotFound(what) => Self::not_found(what),
            ProvisionError::Conflict(what) => Self::conflict(what),
            ProvisionError::Internal(what) => Self::internal(what),
        }
    }
}

impl From<AuthError> for ClientError {
    fn from(e: AuthError) -> Self {
        Self::unauthenticated(e.to_string())
    }
}

/// A JSON body, or 400 naming what does not parse.
pub(crate) fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| ClientError::bad_request(format!("body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_follow_the_contract() {
        let cases: [(ClientError, u16, ErrorCode); 6] = [
            (
                ApiError::Overloaded(Duration::from_millis(10)).into(),
                503,
                ErrorCode::Unavailable,
            ),
            (
                ApiError::Upstream("x".into()).into(),
                502,
                ErrorCode::Upstream,
            ),
            (
                ProvisionError::Conflict("x".into()).into(),
                409,
                ErrorCode::Conflict,
            ),
            (AuthError::Replayed.into(), 401, ErrorCode::Unauthenticated),
            (
                ClientError::from_upstream("y.example", StatusCode::FORBIDDEN, "no", None),
                403,
                ErrorCode::Forbidden,
            ),
            (
                ClientError::from_upstream(
                    "y.example",
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "boom",
                    None,
                ),
                502,
                ErrorCode::Upstream,
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.code(), code, "{error:?}");
            assert_eq!(error.into_response().status().as_u16(), status);
        }
        let r =
            ClientError::from(ApiError::Overloaded(Duration::from_millis(1500))).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
    }
}
