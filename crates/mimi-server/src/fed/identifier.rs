//! `POST /v1/identifierQuery/{domain}` (protocol-06 §5.8): another provider
//! looks up one of our users by handle, nickname, email, phone or profile
//! fields. Only fields the user made searchable are matched, every query
//! element must hold (AND), and each peer has its own, low, rate limit:
//! the endpoint is an enumeration risk (decisions RA-6).

pub mod matching;

use std::time::Instant;

use axum::response::Response;
use mimi_proto::directory::PathTarget;
use mimi_proto::messages::{
    FieldSource, IdentifierQueryCode, IdentifierRequest, IdentifierResponse, ProfileField,
    UserProfile,
};
use mimi_proto::{ProviderId, UserId, Utf8String, WireMessage as _};
use openmls::prelude::AppDataDictionary;
use serde::Deserialize;

use crate::fed::limits::Limiter;
use crate::fed::mimi_body;
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

pub use matching::{MAX_MATCHES, Plan, plan};

/// The `[identifier_query]` section of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentifierSettings {
    /// Queries each peer may make per minute before 429 (a burst of this
    /// many, then evenly spread).
    pub queries_per_minute_per_peer: u32,
}

impl Default for IdentifierSettings {
    fn default() -> Self {
        Self {
            // A person looks up a few contacts at a time; an enumerating peer
            // gets one guess a second at most.
            queries_per_minute_per_peer: 60,
        }
    }
}

/// Identifier-query state shared by all requests: the per-peer limiter.
#[derive(Debug)]
pub struct IdentifierService {
    limiter: Limiter,
}

impl IdentifierService {
    /// The service for `settings`.
    pub fn new(settings: &IdentifierSettings) -> Self {
        let per_minute = settings.queries_per_minute_per_peer.max(1);
        Self {
            limiter: Limiter::with_rate(f64::from(per_minute) / 60.0, f64::from(per_minute)),
        }
    }
}

/// Handles one identifier query.
pub(super) async fn identifier_query(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    match target {
        PathTarget::Domain(domain) if domain == *state.provider() => {}
        _ => return Err(ApiError::NotFound("not a domain served here")),
    }
    if let Err(wait) = state.identifier.limiter.take(peer.domain(), Instant::now()) {
        return Err(ApiError::RateLimited(wait));
    }
    let request = IdentifierRequest::decode(body)?;
    let response = answer(state, &request).await?;
    let bytes = response
        .encode()
        .map_err(|_| ApiError::Internal("IdentifierResponse does not encode"))?;
    Ok(mimi_body(bytes))
}

async fn answer(
    state: &AppState,
    request: &IdentifierRequest,
) -> Result<IdentifierResponse, ApiError> {
    let respond = |code, uri, found_profiles| IdentifierResponse {
        response_code: code,
        uri,
        found_profiles,
        id_response_extensions: AppDataDictionary::default(),
    };
    let conditions = match plan(&request.query_elements) {
        Plan::Search(conditions) => conditions,
        Plan::Refuse(code) => return Ok(respond(code, Vec::new(), Vec::new())),
    };
    // One more than we answer with tells "too many" from "exactly enough".
    let found = state
        .store
        .search_profiles(&conditions, MAX_MATCHES as u32 + 1)
        .await?;
    if found.is_empty() {
        return Ok(respond(
            IdentifierQueryCode::NotFound,
            Vec::new(),
            Vec::new(),
        ));
    }
    if found.len() > MAX_MATCHES {
        return Ok(respond(
            IdentifierQueryCode::Ambiguous,
            Vec::new(),
            Vec::new(),
        ));
    }
    let mut profiles = Vec::with_capacity(found.len());
    for user in &found {
        profiles.push(visible_profile(state, user).await?);
    }
    Ok(respond(IdentifierQueryCode::Success, found, profiles))
}

/// The user's searchable fields: what they chose to be found by is what a
/// querier may see.
async fn visible_profile(state: &AppState, user: &UserId) -> Result<UserProfile, ApiError> {
    let mut fields = Vec::new();
    for field in state.store.profile(user).await? {
        let source = match field.source {
            7 => FieldSource::OidcStdClaim,
            8 => FieldSource::VcardField,
            _ => continue,
        };
        if !field.searchable {
            continue;
        }
        let Ok(name) = Utf8String::new(field.name) else {
            continue;
        };
        fields.push(ProfileField {
            field_source: source,
            field_name: name,
            field_value: field.value.into_bytes(),
        });
    }
    Ok(UserProfile {
        stable_uri: user.clone(),
        fields,
    })
}
