//! `POST /v1/keyMaterial/{targetUser}` (protocol-06 §5.2): claims one
//! KeyPackage per client of a user.
//!
//! Two roles. As the **target provider** (the user is ours) we reserve one
//! KeyPackage per client, never handing one out twice or expired. As the
//! **hub** of the request's room (the user is elsewhere) we relay the request
//! to the target provider and remember, from its answer, which provider owns
//! each KeyPackageRef, so the Welcome of the later commit reaches it (§4.3.1).
//! Either way the requester's signature must verify. The hub first asks the
//! room's policy whether the requester may add the target there, so a refused
//! add claims nothing (decisions KP-1). The target provider also checks
//! consent ([`crate::fed::consent::policy`]).

use axum::response::Response;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::{
    ClientKeyMaterial, ClientStatus, KeyMaterialRequest, KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_proto::{DecodeError, ProviderId, UserId, WireMessage as _};
use mimi_store::{ClaimRequest, ClientClaim, KeyPackageRoute, Timestamp};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{Ciphersuite, KeyPackageIn, ProtocolVersion};

use crate::fed::consent::policy::{self, ConsentPolicy, Decision};
use crate::fed::mimi_body;
use crate::fed::room::run_authorize_claim;
use crate::setup::http_error::ApiError;
use crate::setup::state::AppState;

/// Handles one keyMaterial request from `peer` (ourselves when one of our
/// clients asks through the client API).
pub(crate) async fn key_material(
    state: &AppState,
    peer: &ProviderId,
    target: PathTarget,
    body: &[u8],
) -> Result<Response, ApiError> {
    let PathTarget::User(target_user) = target else {
        return Err(ApiError::NotFound("no such user"));
    };
    let request = KeyMaterialRequest::decode(body)?;
    if request.tbs.target_user != target_user {
        return Err(ApiError::Decode(DecodeError::Invalid {
            what: "KeyMaterialRequest.targetUser",
            reason: "does not match the request path",
        }));
    }
    if request.verify(state.hub.crypto()).is_err() {
        return Err(ApiError::Forbidden("the request signature does not verify"));
    }
    let requester_domain = request.tbs.requesting_user.domain();
    let room_hub = request.tbs.room_id.as_ref().map(|r| r.hub_domain());
    let ours = state.provider().domain();
    let target_is_ours = target_user.domain() == ours;
    let hosted = request
        .tbs
        .room_id
        .clone()
        .filter(|r| r.hub_domain() == ours);
    if target_is_ours {
        // The requester's own provider, or the hub of the room it adds to.
        if requester_domain != peer.domain() && room_hub != Some(peer.domain()) {
            return Err(ApiError::Forbidden(
                "only the requester's provider or the room's hub may ask",
            ));
        }
    } else {
        // Relay as the hub: only for a room we host, and only for the
        // requester's own provider (it vouches for its user).
        if hosted.is_none() {
            return Err(ApiError::NotFound("no room hosted here for this request"));
        }
        if requester_domain != peer.domain() {
            return Err(ApiError::Forbidden(
                "requestingUser must be a user of the calling provider",
            ));
        }
    }
    if let Some(room) = &hosted {
        // As the room's hub: nothing is claimed, here or at the target's
        // provider, for an add the room would refuse (decisions KP-1).
        state.store.room_version(room).await?;
        run_authorize_claim(state, room.clone(), request.clone()).await?;
    }
    match hosted {
        Some(room) if !target_is_ours => relay(state, room, target_user, body).await,
        _ => {
            let response = answer(state, &request).await?;
            let bytes = response
                .encode()
                .map_err(|_| ApiError::Internal("KeyMaterialResponse does not encode"))?;
            Ok(mimi_body(bytes))
        }
    }
}

/// The target provider's answer: one reserved KeyPackage per client.
async fn answer(
    state: &AppState,
    request: &KeyMaterialRequest,
) -> Result<KeyMaterialResponse, ApiError> {
    let user = request.tbs.target_user.clone();
    let respond = |user_status, clients| KeyMaterialResponse {
        user_status,
        user_uri: user.clone(),
        clients,
    };
    if !state.store.user_exists(&user).await? {
        return Ok(respond(
            state.consent.refusal(KeyMaterialUserCode::UserUnknown),
            Vec::new(),
        ));
    }
    // Consent before claiming: a refused request must not use up KeyPackages.
    match consent_decision(state, request).await? {
        Decision::Allow => {}
        Decision::NoConsent => return Ok(respond(KeyMaterialUserCode::NoConsent, Vec::new())),
        Decision::NoConsentForThisRoom => {
            return Ok(respond(
                state
                    .consent
                    .refusal(KeyMaterialUserCode::NoConsentForThisRoom),
                Vec::new(),
            ));
        }
    }
    // Counted only for requests that would claim (decisions KP-3).
    state
        .claim_limits
        .take(&request.tbs.requesting_user, &user, state.now_ms())
        .map_err(|wait| {
            state
                .metrics
                .key_package_claims_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ApiError::ClaimLimited {
                after: wait,
                detail: format!(
                    "{} limits claims of this user's KeyPackages by one requester",
                    state.provider().domain()
                ),
            }
        })?;
    let cipher_suites = request
        .tbs
        .acceptable_ciphersuites
        .iter()
        .filter_map(|s| Ciphersuite::try_from(*s).ok().map(u16::from))
        .collect();
    let claims = state
        .store
        .claim_key_packages(
            &user,
            &ClaimRequest {
                requester: request.tbs.requesting_user.clone(),
                cipher_suites,
                now: Timestamp(state.now_ms()),
            },
        )
        .await?;
    let mut clients = Vec::with_capacity(claims.len());
    for claim in claims {
        clients.push(match claim {
            ClientClaim::Claimed(claimed) => {
                let key_package = KeyPackageIn::tls_deserialize_exact(&claimed.key_package)
                    .map_err(|_| ApiError::Internal("stored KeyPackage does not decode"))?;
                ClientKeyMaterial {
                    client_uri: claimed.client,
                    status: ClientStatus::Success(Box::new(key_package)),
                }
            }
            ClientClaim::Exhausted(client) => ClientKeyMaterial {
                client_uri: client,
                status: ClientStatus::KeyMaterialExhausted,
            },
        });
    }
    let claimed = clients
        .iter()
        .filter(|c| matches!(c.status, ClientStatus::Success(_)))
        .count();
    let status = match claimed {
        0 if clients.is_empty() => KeyMaterialUserCode::UserUnknown,
        0 => KeyMaterialUserCode::NoCompatibleMaterial,
        n if n == clients.len() => KeyMaterialUserCode::Success,
        _ => KeyMaterialUserCode::PartialSuccess,
    };
    let clients = if status == KeyMaterialUserCode::UserUnknown {
        Vec::new()
    } else {
        clients
    };
    Ok(respond(state.consent.refusal(status), clients))
}

/// Whether the target consented to the requester fetching, under our policy
/// (protocol-06 §5.2: "the target provider verifies the requester is
/// authorized").
async fn consent_decision(
    state: &AppState,
    request: &KeyMaterialRequest,
) -> Result<Decision, ApiError> {
    let policy = state.consent.policy;
    if policy == ConsentPolicy::Open {
        return Ok(Decision::Allow);
    }
    let (requester, target) = (&request.tbs.requesting_user, &request.tbs.target_user);
    let forward = state.store.consents_between(requester, target).await?;
    let reverse = if policy == ConsentPolicy::ContactsOnly {
        state.store.consents_between(target, requester).await?
    } else {
        Vec::new()
    };
    Ok(policy::decide(
        policy,
        request.tbs.room_id.as_ref(),
        &forward,
        &reverse,
    ))
}

/// Relays the request to the target's provider and records where each
/// returned KeyPackage came from.
async fn relay(
    state: &AppState,
    room: mimi_proto::RoomId,
    target_user: UserId,
    body: &[u8],
) -> Result<Response, ApiError> {
    let target_provider = target_user.as_uri().provider();
    let answer = state
        .peers
        .post(
            &target_provider,
            Endpoint::KeyMaterial,
            &PathTarget::User(target_user),
            body.to_vec(),
        )
        .await
        .map_err(|e| ApiError::from_peer(&target_provider, e))?;
    if !answer.status.is_success() {
        // The target's own refusal (its claim limit) goes back as itself.
        if let Some(refusal) = ApiError::relayed_refusal(
            answer.status,
            &String::from_utf8_lossy(&answer.body),
            answer.retry_after,
        ) {
            return Err(refusal);
        }
        return Err(ApiError::Upstream(format!(
            "{target_provider} answered {}",
            answer.status
        )));
    }
    let response = KeyMaterialResponse::decode(&answer.body)
        .map_err(|e| ApiError::Upstream(format!("{target_provider} answered garbage: {e}")))?;
    let mut routes = Vec::new();
    for client in &response.clients {
        let ClientStatus::Success(key_package) = &client.status else {
            continue;
        };
        // Validate before remembering: a route for a KeyPackage that does not
        // verify would only misroute a Welcome.
        let Ok(valid) = (**key_package)
            .clone()
            .validate(state.hub.crypto(), ProtocolVersion::Mls10)
        else {
            return Err(ApiError::Upstream(format!(
                "{target_provider} returned an invalid KeyPackage"
            )));
        };
        let reference = valid
            .hash_ref(state.hub.crypto())
            .ok()
            .and_then(|r| r.tls_serialize_detached().ok())
            .ok_or(ApiError::Internal("KeyPackageRef"))?;
        routes.push(KeyPackageRoute {
            key_package_ref: reference,
            provider: target_provider.clone(),
            not_after: valid.life_time().not_after(),
        });
    }
    state
        .store
        .record_key_package_routes(&room, &routes)
        .await?;
    Ok(mimi_body(answer.body.to_vec()))
}
