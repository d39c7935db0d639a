//! Signed requests (decisions CAPI-1): every client-API route but
//! registration carries `Authorization: MIMI-Sig …`
//! ([`mimi_client_api::auth`]).
//!
//! The check, in order: the header parses; the named client is registered
//! here; the timestamp is within the allowed skew and the signature verifies
//! under the client's registered key over the method, the path and query
//! exactly as received, and the body; only then is the nonce recorded in the
//! replay guard, so forged requests cannot fill it. The authenticated client
//! goes into the request's extensions as [`Caller`]. Any failure is a 401
//! with an `ErrorBody` and is counted by reason.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use mimi_client_api::{AuthError, AuthHeader};
use mimi_proto::ClientId;
use mimi_store::{Record, StoreError};

use super::ClientError;
use crate::setup::state::AppState;

/// The client that signed the request, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub ClientId);

/// The signature-check middleware. The body is read (up to the body limit
/// and the request timeout) only once the header names a registered client.
pub(crate) async fn require_signature(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let identified = match identify(&state, header).await {
        Ok(identified) => identified,
        Err(failure) => return failure.into_response(&state),
    };
    // Bounded in time too: the routes' own timeout starts after this layer,
    // and a client trickling its body must not hold the connection forever.
    let read = axum::body::to_bytes(body, state.limits.max_body_bytes);
    let body = match tokio::time::timeout(super::REQUEST_TIMEOUT, read).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return ClientError::too_large().into_response(),
        Err(_) => {
            return ClientError::bad_request("request body not received in time").into_response();
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |pq| pq.as_str());
    let verified = verify(
        &state,
        identified,
        parts.method.as_str(),
        path_and_query,
        &body,
    );
    match verified {
        Ok(client) => {
            parts.extensions.insert(Caller(client));
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(failure) => failure.into_response(&state),
    }
}

enum Failure {
    /// 401, with the metric label.
    Refused(&'static str, AuthError),
    /// Our failure (500/503), not the client's.
    Store(StoreError),
}

impl Failure {
    fn into_response(self, state: &AppState) -> Response {
        match self {
            Self::Refused(reason, error) => {
                state.metrics.client_auth_failure(reason);
                ClientError::from(error).into_response()
            }
            Self::Store(e) => ClientError::from(e).into_response(),
        }
    }
}

/// A parsed header and the registered key of the client it names.
struct Identified {
    header: AuthHeader,
    client: ClientId,
    key: Vec<u8>,
}

async fn identify(state: &AppState, header: Option<&str>) -> Result<Identified, Failure> {
    let header = AuthHeader::parse(header.unwrap_or_default()).map_err(|e| match e {
        AuthError::Missing => Failure::Refused("missing", e),
        e => Failure::Refused("malformed", e),
    })?;
    let client = ClientId::parse(&header.client).map_err(|_| {
        Failure::Refused(
            "malformed",
            AuthError::Malformed("client is not a client URI"),
        )
    })?;
    match state.store.client(&client).await {
        Ok(record) => Ok(Identified {
            header,
            client,
            key: record.signature_key,
        }),
        // Indistinguishable from a bad signature to the caller.
        Err(StoreError::NotFound(Record::Client)) => {
            Err(Failure::Refused("unknown_client", AuthError::BadSignature))
        }
        Err(e) => Err(Failure::Store(e)),
    }
}

fn verify(
    state: &AppState,
    identified: Identified,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> Result<ClientId, Failure> {
    let Identified {
        header,
        client,
        key,
    } = identified;
    let now = state.now_ms() / 1000;
    header
        .verify(state.hub.crypto(), &key, method, path_and_query, body, now)
        .map_err(|e| match e {
            AuthError::Stale => Failure::Refused("stale", e),
            e => Failure::Refused("bad_signature", e),
        })?;
    state
        .replay
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .check(&header, now)
        .map_err(|e| Failure::Refused("replayed", e))?;
    Ok(client)
}
