//! Client-API failures: every one answers an [`ErrorBody`](mimi_client_api::ErrorBody)
//! with a stable [`ErrorCode`](mimi_client_api::ErrorCode) and the status the
//! contract gives it (`mimi_client_api::routes`). Which status and code each
//! failure gets is decided in [`crate::setup::http_error`]; this module names
//! the failure and the text the client reads.

use std::time::Duration;

use axum::http::StatusCode;
use mimi_client_api::AuthError;
use mimi_store::StoreError;

use crate::client_api::provisioning::ProvisionError;
use crate::fed::consent::ConsentError;
use crate::setup::http_error::{ApiError, CLAIM_LIMITED, Failure, NOT_ALLOWED};

/// A refused or failed client-API request.
#[derive(Debug)]
pub(crate) struct ClientError {
    /// Its kind, which decides status, code and `Retry-After`.
    pub(crate) failure: Failure,
    /// What the client reads.
    pub(crate) message: String,
}

impl ClientError {
    fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
        }
    }

    /// The body or a parameter does not parse.
    pub(crate) fn bad_request(message: impl std::fmt::Display) -> Self {
        Self::new(Failure::BadRequest, message.to_string())
    }

    /// The request is not authentic.
    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(Failure::Unauthenticated, message)
    }

    /// Authentic, but not allowed.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Failure::Forbidden, message)
    }

    /// No such record or route.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(Failure::NotFound, message)
    }

    /// The route exists, the method does not.
    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            Failure::MethodNotAllowed,
            "method not allowed on this route",
        )
    }

    /// It exists already.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(Failure::Conflict, message)
    }

    /// A body above the server's limit.
    pub(crate) fn too_large() -> Self {
        Self::new(Failure::TooLarge, "request body too large")
    }

    /// Our failure; the detail goes to the log, not to the client.
    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %detail, "client API request failed");
        Self::new(Failure::Internal, "internal error")
    }

    /// A non-success answer of the peer `from` (a domain) a request went to
    /// ([`Failure::from_upstream`] decides what we answer).
    pub(crate) fn from_upstream(
        from: &str,
        status: StatusCode,
        text: &str,
        retry_after: Option<Duration>,
    ) -> Self {
        if let Some(refusal) = ApiError::relayed_refusal(status, text, retry_after) {
            return Self::answered_by(from, refusal);
        }
        let text: String = text.chars().take(200).collect();
        Self::new(
            Failure::from_upstream(status, retry_after),
            format!("{from} answered {status}: {text}"),
        )
    }

    /// A keyMaterial refusal, with its own code (decisions KP-2): the hub's
    /// `notAllowed` names `by` (a domain: the hub, when it answered us or
    /// through us), the claim limit names the target's provider itself.
    pub(crate) fn answered_by(by: &str, refusal: ApiError) -> Self {
        let failure = refusal.failure();
        match refusal {
            ApiError::NotAllowed(detail) => Self::new(
                failure,
                format!("the hub {by} refused ({NOT_ALLOWED}): {detail}"),
            ),
            ApiError::ClaimLimited { after, detail } => Self::new(
                failure,
                format!(
                    "refused ({CLAIM_LIMITED}): {detail}; retry in {} s",
                    after.as_secs().max(1)
                ),
            ),
            other => other.into(),
        }
    }
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> Self {
        match e.failure() {
            // Answered here: we are the room's hub or the target's provider.
            Failure::NotAllowed | Failure::ClaimLimited(_) => Self::answered_by("this provider", e),
            // Throttling on our side, or by the provider we relayed to, is
            // for our client the service being unavailable: the contract
            // has no 429 but the claim limit's.
            Failure::RateLimited(after) | Failure::Unavailable(after) => {
                Self::new(Failure::Unavailable(after), "overloaded, retry later")
            }
            Failure::Upstream => {
                tracing::info!(error = %e, "relay failed");
                Self::new(
                    Failure::Upstream,
                    "the room's hub or a peer provider failed",
                )
            }
            Failure::Internal => Self::internal(e),
            failure => Self::new(
                failure,
                match e {
                    ApiError::Decode(e) => e.to_string(),
                    ApiError::Forbidden(what) | ApiError::NotFound(what) => what.to_owned(),
                    other => other.to_string(),
                },
            ),
        }
    }
}

impl From<ConsentError> for ClientError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::PeerStatus {
                provider,
                status,
                text,
                retry_after,
            } => Self::from_upstream(&provider, status, &text, retry_after),
            ConsentError::Peer(e) => e.into(),
            ConsentError::Store(e) => e.into(),
            ConsentError::BadInput(what) => Self::new(Failure::from(&e), what),
            ConsentError::UnknownUser(ref user) => {
                Self::new(Failure::from(&e), format!("no such user: {user}"))
            }
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
        let failure = Failure::from(&e);
        match e {
            ProvisionError::Internal(what) => Self::internal(what),
            ProvisionError::BadInput(what)
            | ProvisionError::NotFound(what)
            | ProvisionError::Conflict(what) => Self::new(failure, what),
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
