//! The provider-internal listener: `/metrics`, `/healthz`, and a small admin
//! API (decisions FED-11).
//!
//! The admin API stands in for the provider's client API (issue #9) so that a
//! local federation can be driven end to end: it registers clients and their
//! KeyPackages, creates rooms from a creator's GroupInfo and ratchet tree (room
//! creation is local to the hub, protocol-06 §3.1), reads client mailboxes,
//! relays a client's request to a room's hub with our certificate (what a
//! follower does for its clients), and updates a peer's address. It is mounted
//! only when `admin_token` is configured, and every call must carry
//! `Authorization: Bearer <token>`.
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

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mimi_hub::Room;
use mimi_policy::Preset;
use mimi_proto::directory::{Endpoint, PathTarget, parse_request_path};
use mimi_proto::messages::KeyMaterialRequest;
use mimi_proto::{ClientId, ProviderId, RoomId, WireMessage as _};
use mimi_store::{Conflict, NewClient, NewKeyPackage, NewRoom, StoreError, Timestamp};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{KeyPackageIn, MlsMessageIn, ProtocolVersion, RatchetTreeIn};
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// The client-API router. `admin_token` enables the admin routes.
pub fn router(state: AppState, admin_token: Option<String>) -> Router {
    let mut app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }));
    if let Some(token) = admin_token {
        let admin = Router::new()
            .route("/admin/v1/hub", get(hub))
            .route("/admin/v1/clients", post(add_client))
            .route("/admin/v1/key-packages", post(publish_key_packages))
            .route("/admin/v1/rooms", post(create_room))
            .route("/admin/v1/members", post(add_member))
            .route("/admin/v1/mailbox", get(mailbox))
            .route("/admin/v1/peers", put(set_peer))
            .route("/admin/v1/relay/{*target}", post(relay))
            .layer(axum::middleware::from_fn_with_state(
                std::sync::Arc::<str>::from(token),
                require_token,
            ));
        app = app.merge(admin);
    }
    app.layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .with_state(state)
}

/// A failed admin call: status and a text for the operator.
#[derive(Debug)]
struct AdminError(StatusCode, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        let status = match &e {
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Conflict(Conflict::AlreadyExists(_)) => StatusCode::CONFLICT,
            StoreError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self(status, e.to_string())
    }
}

fn bad(what: impl std::fmt::Display) -> AdminError {
    AdminError(StatusCode::BAD_REQUEST, what.to_string())
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, AdminError> {
    B64.decode(text)
        .map_err(|_| bad(format!("{field}: not base64")))
}

async fn require_token(
    State(token): State<std::sync::Arc<str>>,
    req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "admin token required").into_response()
    }
}

/// Compares without an early exit, so timing does not reveal the token prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(state): State<AppState>) -> Response {
    let depth = state.store.outbox_len().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(depth),
    )
        .into_response()
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
        .map_err(|_| AdminError(StatusCode::INTERNAL_SERVER_ERROR, "encode".into()))?;
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
) -> Result<StatusCode, AdminError> {
    let client = ClientId::parse(&body.client).map_err(bad)?;
    let user = client
        .user()
        .ok_or_else(|| bad("client id names no user"))?;
    if client.as_uri().provider() != *state.provider() {
        return Err(bad("client belongs to another provider"));
    }
    let now = Timestamp(state.now_ms());
    match state.store.add_user(&user, now).await {
        Ok(()) | Err(StoreError::Conflict(Conflict::AlreadyExists(_))) => {}
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .add_client(
            &NewClient {
                client,
                user,
                credential: b64("credential", &body.credential)?,
                signature_key: b64("signature_key", &body.signature_key)?,
            },
            now,
        )
        .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
struct KeyPackagesBody {
    client: String,
    key_packages: Vec<String>,
}

async fn publish_key_packages(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<KeyPackagesBody>,
) -> Result<StatusCode, AdminError> {
    let client = ClientId::parse(&body.client).map_err(bad)?;
    let mut new = Vec::with_capacity(body.key_packages.len());
    for text in &body.key_packages {
        let bytes = b64("key_packages", text)?;
        let kp = KeyPackageIn::tls_deserialize_exact(&bytes)
            .map_err(|_| bad("not a KeyPackage"))?
            .validate(state.hub.crypto(), ProtocolVersion::Mls10)
            .map_err(|e| bad(format!("invalid KeyPackage: {e}")))?;
        let leaf_client = mimi_hub::client_of(kp.leaf_node().credential());
        if leaf_client.as_ref() != Some(&client) {
            return Err(bad("KeyPackage credential names another client"));
        }
        let reference = kp
            .hash_ref(state.hub.crypto())
            .ok()
            .and_then(|r| r.tls_serialize_detached().ok())
            .ok_or_else(|| bad("KeyPackageRef"))?;
        new.push(NewKeyPackage {
            key_package_ref: reference,
            cipher_suite: u16::from(kp.ciphersuite()),
            not_after: kp.life_time().not_after(),
            key_package: bytes,
        });
    }
    state
        .store
        .publish_key_packages(&client, &new, Timestamp(state.now_ms()))
        .await?;
    Ok(StatusCode::CREATED)
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
) -> Result<StatusCode, AdminError> {
    let room_id = RoomId::parse(&body.room).map_err(bad)?;
    let creator = ClientId::parse(&body.creator).map_err(bad)?;
    let group_info = MlsMessageIn::tls_deserialize_exact(b64("group_info", &body.group_info)?)
        .map_err(|_| bad("group_info: not an MLSMessage"))?;
    let tree = RatchetTreeIn::tls_deserialize_exact(b64("ratchet_tree", &body.ratchet_tree)?)
        .map_err(|_| bad("ratchet_tree: not a ratchet tree"))?;
    let preset = match body.preset.as_deref() {
        Some(name) => Some(Preset::from_name(name).ok_or_else(|| bad("unknown preset"))?),
        None => None,
    };
    let step = state.clone();
    let (id, creator_for_step) = (room_id.clone(), creator.clone());
    let now = state.now_ms();
    let room = tokio::task::spawn_blocking(move || {
        Room::create(
            &step.hub,
            id,
            &creator_for_step,
            group_info,
            tree,
            preset,
            now,
        )
    })
    .await
    .map_err(|_| {
        AdminError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "room creation panicked".into(),
        )
    })?
    .map_err(|e| bad(format!("room refused: {e}")))?;
    let mls_state = room
        .snapshot()
        .map_err(|e| AdminError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    state
        .store
        .create_room(&NewRoom {
            room: room_id.clone(),
            hub: state.provider().clone(),
            epoch: room.epoch(),
            mls_state,
            group_info: room.group_info().to_vec(),
            room_state: crate::hub_steps::room_state(&room),
            created_at: Timestamp(state.now_ms()),
        })
        .await?;
    // A creator on this provider receives the room's events from now on.
    if creator.as_uri().provider() == *state.provider()
        && state.store.client(&creator).await.is_ok()
    {
        add_membership(&state, &room_id, &creator).await?;
    }
    tracing::info!(room = %room_id, %creator, "room created");
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
struct MemberBody {
    room: String,
    client: String,
}

async fn add_member(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<MemberBody>,
) -> Result<StatusCode, AdminError> {
    let room = RoomId::parse(&body.room).map_err(bad)?;
    let client = ClientId::parse(&body.client).map_err(bad)?;
    // The mailbox needs a registered client.
    state.store.client(&client).await?;
    add_membership(&state, &room, &client).await?;
    Ok(StatusCode::CREATED)
}

async fn add_membership(
    state: &AppState,
    room: &RoomId,
    client: &ClientId,
) -> Result<(), AdminError> {
    state
        .members
        .add(room, client)
        .await
        .map(drop)
        .map_err(|e| AdminError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
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
) -> Result<StatusCode, AdminError> {
    let peer = ProviderId::from_domain(&body.domain).map_err(bad)?;
    if peer == *state.provider() {
        return Err(bad("a provider is not its own peer"));
    }
    state.peers.peers().set(peer.domain(), body.addr);
    state.peers.forget_directory(&peer);
    tracing::info!(peer = %peer, addr = %body.addr, "peer address set");
    Ok(StatusCode::NO_CONTENT)
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
    let path = uri
        .path()
        .strip_prefix("/admin")
        .ok_or_else(|| bad("bad relay path"))?;
    let (endpoint, target) = parse_request_path(path).map_err(bad)?;
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
        .map_err(|e| AdminError(StatusCode::BAD_GATEWAY, e.to_string()))?;
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
