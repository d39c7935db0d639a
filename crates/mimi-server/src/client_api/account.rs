//! Registration, the hub's external sender, and the caller's KeyPackages.

use axum::response::Response;

use crate::setup::http_error::Done;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use mimi_client_api::{
    Base64, HubInfo, KeyPackageCount, KeyPackagesUpload, RegisterProof, RegisterRequest,
};
use mimi_proto::ClientId;
use mimi_store::{Record, StoreError, Timestamp};
use openmls::prelude::Credential;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};

use super::auth::Caller;
use super::error::{ClientError, json};
use crate::admin::constant_time_eq;
use crate::client_api::provisioning::ProvisionError;
use crate::setup::state::{AppState, RegistrationPolicy};

/// `POST /client/v1/register` (decisions CAPI-2, CAPI-3).
///
/// Checks, in order: the client is one of ours (403 otherwise), the
/// registration token when one is required (403), the proof of possession of
/// the signature key (401), the credential is a basic credential naming the
/// client (400). Registering the same client with the same key again answers
/// 201 (a client that lost the first answer retries); with another key, 409.
pub(super) async fn register(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Done, ClientError> {
    let request: RegisterRequest = json(&body)?;
    let client = ClientId::parse(&request.client)
        .map_err(|e| ClientError::bad_request(format!("client: {e}")))?;
    if client.as_uri().provider() != *state.provider() {
        return Err(ClientError::forbidden(
            "this provider registers only clients of its own domain",
        ));
    }
    if let RegistrationPolicy::Token(expected) = &state.registration {
        let presented = request.token.as_deref().unwrap_or_default();
        if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
            return Err(ClientError::forbidden(
                "registration needs this provider's registration token",
            ));
        }
    }
    RegisterProof::verify(state.hub.crypto(), &request, state.now_ms() / 1000)?;
    let credential = Credential::tls_deserialize_exact(&request.credential.0)
        .map_err(|_| ClientError::bad_request("credential: not a TLS-encoded Credential"))?;
    if mimi_hub::client_of(&credential).as_ref() != Some(&client) {
        return Err(ClientError::bad_request(
            "credential: must be a basic credential naming the client",
        ));
    }
    let key = request.signature_key.0;
    match state
        .register_client(&client, request.credential.0, key.clone())
        .await
    {
        Ok(()) => {
            tracing::info!(%client, "client registered");
            Ok(Done::Created)
        }
        Err(ProvisionError::Conflict(_)) => match state.store.client(&client).await {
            Ok(existing) if existing.signature_key == key => Ok(Done::Created),
            Ok(_) => Err(ClientError::conflict(
                "this client is registered with another signature key",
            )),
            // The key, not the client id, is taken.
            Err(StoreError::NotFound(Record::Client)) => Err(ClientError::conflict(
                "this signature key belongs to another client",
            )),
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// `GET /client/v1/hub`.
pub(super) async fn hub(State(state): State<AppState>) -> Result<Json<HubInfo>, ClientError> {
    let sender = state
        .keys()
        .external_sender()
        .tls_serialize_detached()
        .map_err(ClientError::internal)?;
    Ok(Json(HubInfo {
        domain: state.provider().domain().to_owned(),
        external_sender: Base64(sender),
    }))
}

/// `POST /client/v1/key-packages`: the caller's own KeyPackages only (each
/// must name the caller, see [`AppState::publish_key_packages`]).
pub(super) async fn upload_key_packages(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ClientError> {
    let upload: KeyPackagesUpload = json(&body)?;
    let packages: Vec<Vec<u8>> = upload.key_packages.into_iter().map(|k| k.0).collect();
    state.publish_key_packages(&client, &packages).await?;
    Ok(Done::Created.with(Json(remaining(&state, &client).await?)))
}

/// `GET /client/v1/key-packages`.
pub(super) async fn count_key_packages(
    State(state): State<AppState>,
    Extension(Caller(client)): Extension<Caller>,
) -> Result<Json<KeyPackageCount>, ClientError> {
    Ok(Json(remaining(&state, &client).await?))
}

async fn remaining(state: &AppState, client: &ClientId) -> Result<KeyPackageCount, ClientError> {
    let stock = state
        .store
        .key_package_stock(client, Timestamp(state.now_ms()))
        .await?;
    Ok(KeyPackageCount {
        remaining: stock.available,
        last_resort: stock.last_resort,
    })
}
