//! The operator's admin API on the client listener (decisions FED-11).
//!
//! It acts for any of our clients without their signature, which the client
//! API never does: it registers clients and their KeyPackages, creates rooms
//! from a creator's GroupInfo and ratchet tree (room creation is local to the
//! hub, protocol-06 §3.1), records room membership, reads client mailboxes,
//! relays a request to a room's hub with our certificate, and updates a
//! peer's address. Tests and benchmarks drive a federation with it. It is
//! mounted only when `admin_token` is configured, and every call must carry
//! `Authorization: Bearer <token>`.
//!
//! Everything the operator can do lives in this group, apart from the
//! federation and client APIs it resembles, because it answers to a different
//! caller (the token holder, not a peer or a signed client): this router, and
//! [`federation`]'s routes for consent, discovery, abuse reports and asset
//! hosts, merged into it. Both answer with one [`AdminError`], whose status
//! [`crate::setup::http_error`] chooses.
//!
//! | method and path | body | answer |
//! | --- | --- | --- |
//! | `GET /admin/v1/hub` | – | `{domain, external_sender}` (base64 TLS `ExternalSender`) |
//! | `POST /admin/v1/clients` | `{client, credential, signature_key}` | 201 |
//! | `POST /admin/v1/key-packages` | `{client, key_packages: [..]}` (base64 `KeyPackage`) | 201 |
//! | `POST /admin/v1/rooms` | `{room, creator, group_info, ratchet_tree}` (base64) | 201 |
//! | `POST /admin/v1/members` | `{room, client}` | 201 |
//! | `GET /admin/v1/mailbox?client=…&after=N` | – | `{entries: [{cursor, room, payload}]}` |
//! | `PUT /admin/v1/peers` | `{domain, addr}` | 204 |
//! | `POST /admin/v1/relay/{endpoint}/{target}` | MIMI body | the peer's status and body |

pub mod federation;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mimi_policy::Preset;
use mimi_proto::directory::{Endpoint, PathTarget, parse_request_path};
use mimi_proto::messages::KeyMaterialRequest;
use mimi_proto::{ClientId, ProviderId, RoomId, WireMessage as _};
use mimi_store::StoreError;
use openmls::prelude::tls_codec::Serialize as _;
use serde::{Deserialize, Serialize};

use crate::client_api::provisioning::ProvisionError;
use crate::fed::consent::ConsentError;
use crate::setup::http_error::{Done, Failure};
use crate::setup::state::AppState;

/// The admin routes, behind the bearer `token`.
pub(crate) fn router(token: String) -> Router<AppState> {
    Router::new()
        .route("/admin/v1/hub", get(hub))
        .route("/admin/v1/clients", post(add_client))
        .route("/admin/v1/key-packages", post(publish_key_packages))
        .route("/admin/v1/rooms", post(create_room))
        .route("/admin/v1/members", post(add_member))
        .route("/admin/v1/mailbox", get(mailbox))
        .route("/admin/v1/peers", put(set_peer))
        .route("/admin/v1/relay/{*target}", post(relay))
        .merge(federation::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::<str>::from(token),
            require_token,
        ))
}

/// A failed admin call: what kind of failure, and a text for the operator.
/// Both admin routers answer with it; [`crate::setup::http_error`] decides the
/// status.
#[derive(Debug)]
pub(crate) struct AdminError {
    /// Its kind, which decides the status.
    pub(crate) failure: Failure,
    /// What the operator reads.
    pub(crate) message: String,
}

impl AdminError {
    fn new(failure: Failure, message: impl std::fmt::Display) -> Self {
        Self {
            failure,
            message: message.to_string(),
        }
    }

    /// The request does not parse or is refused.
    pub(crate) fn bad(what: impl std::fmt::Display) -> Self {
        Self::new(Failure::BadRequest, what)
    }

    /// No admin token, or the wrong one.
    pub(crate) fn unauthenticated(what: impl std::fmt::Display) -> Self {
        Self::new(Failure::Unauthenticated, what)
    }

    /// No such record or operation.
    pub(crate) fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(Failure::NotFound, what)
    }

    /// The peer we called for the operator failed.
    pub(crate) fn upstream(what: impl std::fmt::Display) -> Self {
        Self::new(Failure::Upstream, what)
    }

    /// Our failure.
    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        Self::new(Failure::Internal, what)
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        ProvisionError::from(e).into()
    }
}

impl From<ProvisionError> for AdminError {
    fn from(e: ProvisionError) -> Self {
        Self::new(Failure::from(&e), e)
    }
}

impl From<ConsentError> for AdminError {
    fn from(e: ConsentError) -> Self {
        Self::new(Failure::from(&e), e)
    }
}

fn bad(what: impl std::fmt::Display) -> AdminError {
    AdminError::bad(what)
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, AdminError> {
    B64.decode(text)
        .map_err(|_| bad(format!("{field}: not base64")))
}

async fn require_token(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        next.run(req).await
    } else {
        AdminError::unauthenticated("admin token required").into_response()
    }
}

/// Compares without an early exit, so timing does not reveal the token prefix.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
struct HubInfo {
    domain: String,
    external_sender: String,
}

async fn hub(State(state): State<AppState>) -> Result<axum::Json<HubInfo>, AdminError> {
    let sender = state
        .keys()
        .external_sender()
        .tls_serialize_detached()
        .map_err(|_| AdminError::internal("encode"))?;
    Ok(axum::Json(HubInfo {
        domain: state.provider().domain().to_owned(),
        external_sender: B64.encode(sender),
    }))
}

#[derive(Deserialize)]
struct NewClientBody {
    client: String,
    credential: String,
    signature_key: String,
}

async fn add_client(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<NewClientBody>,
) -> Result<Done, AdminError> {
    let client = ClientId::parse(&body.client).map_err(bad)?;
    state
        .register_client(
            &client,
            b64("credential", &body.credential)?,
            b64("signature_key", &body.signature_key)?,
        )
        .await?;
    Ok(Done::Created)
}

#[derive(Deserialize)]
struct KeyPackagesBody {
    client: String,
    key_packages: Vec<String>,
}

async fn publish_key_packages(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<KeyPackagesBody>,
) -> Result<Done, AdminError> {
    let client = ClientId::parse(&body.client).map_err(bad)?;
    let key_packages = body
        .key_packages
        .iter()
        .map(|text| b64("key_packages", text))
        .collect::<Result<Vec<_>, _>>()?;
    state.publish_key_packages(&client, &key_packages).await?;
    Ok(Done::Created)
}

#[derive(Deserialize)]
struct NewRoomBody {
    room: String,
    creator: String,
    group_info: String,
    ratchet_tree: String,
    /// The preset the room was made from, if any (`mimi-policy` preset name):
    /// the hub then also checks the state matches it.
    #[serde(default)]
    preset: Option<String>,
}

async fn create_room(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<NewRoomBody>,
) -> Result<Done, AdminError> {
    let room = RoomId::parse(&body.room).map_err(bad)?;
    let creator = ClientId::parse(&body.creator).map_err(bad)?;
    let preset = match body.preset.as_deref() {
        Some(name) => Some(Preset::from_name(name).ok_or_else(|| bad("unknown preset"))?),
        None => None,
    };
    state
        .create_room(
            &room,
            &creator,
            &b64("group_info", &body.group_info)?,
            &b64("ratchet_tree", &body.ratchet_tree)?,
            preset,
        )
        .await?;
    Ok(Done::Created)
}

#[derive(Deserialize)]
struct MemberBody {
    room: String,
    client: String,
}

async fn add_member(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<MemberBody>,
) -> Result<Done, AdminError> {
    let room = RoomId::parse(&body.room).map_err(bad)?;
    let client = ClientId::parse(&body.client).map_err(bad)?;
    state.add_member(&room, &client).await?;
    Ok(Done::Created)
}

#[derive(Deserialize)]
struct MailboxQuery {
    client: String,
    #[serde(default)]
    after: u64,
    #[serde(default = "default_page")]
    limit: u32,
}

fn default_page() -> u32 {
    mimi_store::MAX_MAILBOX_PAGE
}

#[derive(Serialize)]
struct MailboxPage {
    entries: Vec<MailboxItem>,
}

#[derive(Serialize)]
struct MailboxItem {
    cursor: u64,
    room: Option<String>,
    payload: String,
}

async fn mailbox(
    State(state): State<AppState>,
    Query(q): Query<MailboxQuery>,
) -> Result<axum::Json<MailboxPage>, AdminError> {
    let client = ClientId::parse(&q.client).map_err(bad)?;
    let entries = state.store.mailbox(&client, q.after, q.limit).await?;
    Ok(axum::Json(MailboxPage {
        entries: entries
            .into_iter()
            .map(|e| MailboxItem {
                cursor: e.cursor,
                room: e.room.map(|r| r.as_str().to_owned()),
                payload: B64.encode(e.payload),
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
struct PeerBody {
    domain: String,
    addr: SocketAddr,
}

async fn set_peer(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<PeerBody>,
) -> Result<Done, AdminError> {
    state.set_peer(&body.domain, body.addr)?;
    Ok(Done::NoContent)
}

/// `POST /admin/v1/relay/{endpoint}/{target}`: sends a client's MIMI request
/// to the provider that must answer it, with our certificate, and returns the
/// answer unchanged. Room endpoints go to the room's hub; keyMaterial goes to
/// the hub of the request's room, or to the target's provider without one.
async fn relay(
    State(state): State<AppState>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, AdminError> {
    let rest = uri
        .path()
        .strip_prefix("/admin/v1/relay")
        .ok_or_else(|| bad("bad relay path"))?;
    let (endpoint, target) = parse_request_path(&format!("/v1{rest}")).map_err(bad)?;
    let to = match (&endpoint, &target) {
        (Endpoint::KeyMaterial, PathTarget::User(user)) => {
            let request = KeyMaterialRequest::decode(&body).map_err(bad)?;
            match &request.tbs.room_id {
                Some(room) => ProviderId::from_domain(room.hub_domain()).map_err(bad)?,
                None => user.as_uri().provider(),
            }
        }
        (_, PathTarget::Room(room)) => ProviderId::from_domain(room.hub_domain()).map_err(bad)?,
        _ => return Err(bad("this endpoint is not relayed")),
    };
    let answer = state
        .peers
        .post(&to, endpoint, &target, body.to_vec())
        .await
        .map_err(AdminError::upstream)?;
    Ok((answer.status, answer.body).into_response())
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
