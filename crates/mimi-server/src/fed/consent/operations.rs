//! What a local user does with consent: ask another user, cancel the ask,
//! grant or revoke (protocol-06 §5.7). Each records our copy of the scope and,
//! when the other user is elsewhere, tells their provider directly.

use std::time::Duration;

use axum::http::StatusCode;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::{ConsentAction, ConsentEntry};
use mimi_proto::{UserId, WireMessage as _};
use mimi_store::{ConsentRecord, ConsentScope, ConsentState, StoreError, Timestamp};
use openmls::prelude::AppDataDictionary;

use crate::fed::consent::record_request;
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// Why a consent operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The scope does not fit the operation (names the problem).
    #[error("bad input: {0}")]
    BadInput(&'static str),
    /// The local user does not exist.
    #[error("no such user: {0}")]
    UnknownUser(UserId),
    /// The other user's provider could not be reached, or is not among our
    /// peers ([`ApiError::UnknownProvider`]).
    #[error("{0}")]
    Peer(ApiError),
    /// The other user's provider answered with a failure status: a refusal
    /// (4xx, e.g. 404 for a user it does not know), overload (429, 503) or
    /// its own failure (5xx). Callers keep the status apart because a refusal
    /// is the user's to fix and a failure is not.
    #[error("{provider} answered {status}: {text}")]
    PeerStatus {
        /// The other provider's domain.
        provider: String,
        /// Its answer's status.
        status: StatusCode,
        /// Its answer's body as text, at most `MAX_PEER_TEXT` (200) characters.
        text: String,
        /// Its `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl From<ApiError> for ConsentError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Store(s) => Self::Store(s),
            other => Self::Peer(other),
        }
    }
}

impl AppState {
    /// Our user `scope.requester` asks `scope.target` for consent.
    ///
    /// # Errors
    /// [`ConsentError`]; nothing is recorded when the target's provider refuses.
    pub async fn ask_consent(&self, scope: &ConsentScope) -> Result<(), ConsentError> {
        self.local_user(&scope.requester).await?;
        self.tell(
            &scope.target,
            Endpoint::RequestConsent,
            ConsentAction::Request,
            scope,
        )
        .await?;
        record_request(self, scope).await?;
        Ok(())
    }

    /// Our user `scope.requester` withdraws a request.
    ///
    /// # Errors
    /// [`ConsentError`].
    pub async fn cancel_consent(&self, scope: &ConsentScope) -> Result<(), ConsentError> {
        self.local_user(&scope.requester).await?;
        self.tell(
            &scope.target,
            Endpoint::RequestConsent,
            ConsentAction::Cancel,
            scope,
        )
        .await?;
        self.store.cancel_consent_request(scope).await?;
        Ok(())
    }

    /// Our user `scope.target` consents to `scope.requester` fetching their
    /// KeyPackages (for one room, or any).
    ///
    /// # Errors
    /// [`ConsentError`]. The grant is recorded (and enforced here) before the
    /// requester's provider is told; a failed notice can be retried.
    pub async fn grant_consent(&self, scope: &ConsentScope) -> Result<(), ConsentError> {
        self.answer_consent(scope, ConsentState::Granted).await
    }

    /// Our user `scope.target` withdraws consent.
    ///
    /// # Errors
    /// As [`AppState::grant_consent`].
    pub async fn revoke_consent(&self, scope: &ConsentScope) -> Result<(), ConsentError> {
        self.answer_consent(scope, ConsentState::Revoked).await
    }

    /// Every scope our `user` takes part in.
    ///
    /// # Errors
    /// [`ConsentError`].
    pub async fn consents(&self, user: &UserId) -> Result<Vec<ConsentRecord>, ConsentError> {
        self.local_user(user).await?;
        Ok(self.store.consents_of(user).await?)
    }

    async fn answer_consent(
        &self,
        scope: &ConsentScope,
        answer: ConsentState,
    ) -> Result<(), ConsentError> {
        self.local_user(&scope.target).await?;
        self.store
            .set_consent(scope, answer, Timestamp(self.now_ms()))
            .await?;
        let action = if answer == ConsentState::Granted {
            ConsentAction::Grant {
                client_key_packages: Vec::new(),
            }
        } else {
            ConsentAction::Revoke
        };
        self.tell(&scope.requester, Endpoint::UpdateConsent, action, scope)
            .await
    }

    async fn local_user(&self, user: &UserId) -> Result<(), ConsentError> {
        if user.domain() != self.provider().domain() {
            return Err(ConsentError::BadInput("the acting user is not ours"));
        }
        if !self.store.user_exists(user).await? {
            return Err(ConsentError::UnknownUser(user.clone()));
        }
        Ok(())
    }

    /// Sends a consent entry to `other`'s provider, unless `other` is ours
    /// (then our copy is the only one).
    async fn tell(
        &self,
        other: &UserId,
        endpoint: Endpoint,
        action: ConsentAction,
        scope: &ConsentScope,
    ) -> Result<(), ConsentError> {
        let provider = other.as_uri().provider();
        if provider == *self.provider() {
            return Ok(());
        }
        let entry = ConsentEntry {
            action,
            scope: mimi_proto::messages::ConsentScope {
                requester_uri: scope.requester.clone(),
                target_uri: scope.target.clone(),
                room_id: scope.room.clone(),
            },
            consent_extensions: AppDataDictionary::default(),
        };
        let body = entry
            .encode()
            .map_err(|_| ConsentError::BadInput("the consent entry does not encode"))?;
        let answer = self
            .peers
            .post(&provider, endpoint, &PathTarget::User(other.clone()), body)
            .await
            .map_err(|e| ConsentError::Peer(ApiError::from_peer(&provider, e)))?;
        if answer.status.is_success() {
            Ok(())
        } else {
            Err(ConsentError::PeerStatus {
                provider: provider.domain().to_owned(),
                status: answer.status,
                text: String::from_utf8_lossy(&answer.body)
                    .chars()
                    .take(MAX_PEER_TEXT)
                    .collect(),
                retry_after: answer.retry_after,
            })
        }
    }
}

/// Most characters of a peer's error text kept: it is shown to our user and
/// operator, and a peer must not be able to fill our logs through it.
pub const MAX_PEER_TEXT: usize = 200;
