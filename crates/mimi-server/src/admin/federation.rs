//! Admin routes for consent, discovery, abuse reports and asset hosts, on the
//! internal listener behind the admin token (merged into
//! [`super`]'s router). Users see and answer their own
//! consent through the client API (decisions CAPI-8); these routes let the
//! operator act for any local user.
//!
//! | method and path | body | answer |
//! | --- | --- | --- |
//! | `GET /admin/v1/consent?user=U` | – | `{consents: [{requester, target, room, state, updated_at}]}` |
//! | `POST /admin/v1/consent/{request,cancel,grant,revoke}` | `{requester, target, room?}` | 204 |
//! | `PUT /admin/v1/profiles` | `{user, fields: [{source: "oidc"\|"vcard", name, value, searchable}]}` | 204 |
//! | `POST /admin/v1/identifier-query/{domain}` | MIMI `IdentifierRequest` | the peer's status and body |
//! | `GET /admin/v1/abuse-reports?after=N` | – | `{reports: [`[`ReportJson`]`]}` |
//! | `PUT /admin/v1/asset-hosts` | `{host, provider, addr?}` | 204 |

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::{ProviderId, RoomId, UserId};
use mimi_store::{AbuseReportRecord, ConsentScope, ConsentState, ProfileFieldRecord};
use serde::{Deserialize, Serialize};

use super::{AdminError, bad};
use crate::fed::proxy::AssetHost;
use crate::setup::http_error::Done;
use crate::setup::state::AppState;

/// The routes; the caller adds the admin-token layer.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/consent", get(list_consent))
        .route("/admin/v1/consent/{operation}", post(change_consent))
        .route("/admin/v1/profiles", put(set_profile))
        .route(
            "/admin/v1/identifier-query/{domain}",
            post(identifier_query),
        )
        .route("/admin/v1/abuse-reports", get(abuse_reports))
        .route("/admin/v1/asset-hosts", put(set_asset_host))
}

#[derive(Deserialize)]
struct UserQuery {
    user: String,
}

/// One scope as JSON.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsentJson {
    /// Who fetches.
    pub requester: String,
    /// Whose KeyPackages.
    pub target: String,
    /// The room, or none for any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// `requested`, `granted` or `revoked` (ignored in requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Last change, ms since the UNIX epoch (ignored in requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<u64>,
}

#[derive(Serialize)]
struct ConsentList {
    consents: Vec<ConsentJson>,
}

async fn list_consent(
    State(state): State<AppState>,
    Query(q): Query<UserQuery>,
) -> Result<axum::Json<ConsentList>, AdminError> {
    let user = UserId::parse(&q.user).map_err(bad)?;
    let consents = state
        .consents(&user)
        .await?
        .into_iter()
        .map(|r| ConsentJson {
            requester: r.scope.requester.as_str().to_owned(),
            target: r.scope.target.as_str().to_owned(),
            room: r.scope.room.map(|room| room.as_str().to_owned()),
            state: Some(
                match r.state {
                    ConsentState::Granted => "granted",
                    ConsentState::Requested => "requested",
                    ConsentState::Revoked => "revoked",
                }
                .to_owned(),
            ),
            updated_at: Some(r.updated_at.0),
        })
        .collect();
    Ok(axum::Json(ConsentList { consents }))
}

async fn change_consent(
    State(state): State<AppState>,
    Path(operation): Path<String>,
    axum::Json(body): axum::Json<ConsentJson>,
) -> Result<Done, AdminError> {
    let scope = ConsentScope {
        requester: UserId::parse(&body.requester).map_err(bad)?,
        target: UserId::parse(&body.target).map_err(bad)?,
        room: body
            .room
            .as_deref()
            .map(RoomId::parse)
            .transpose()
            .map_err(bad)?,
    };
    match operation.as_str() {
        "request" => state.ask_consent(&scope).await?,
        "cancel" => state.cancel_consent(&scope).await?,
        "grant" => state.grant_consent(&scope).await?,
        "revoke" => state.revoke_consent(&scope).await?,
        _ => {
            return Err(AdminError::not_found("no such operation"));
        }
    }
    Ok(Done::NoContent)
}

#[derive(Deserialize)]
struct ProfileBody {
    user: String,
    fields: Vec<ProfileFieldJson>,
}

#[derive(Deserialize)]
struct ProfileFieldJson {
    /// `oidc` (OIDC standard claim) or `vcard` (vCard property).
    source: String,
    name: String,
    value: String,
    #[serde(default)]
    searchable: bool,
}

async fn set_profile(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<ProfileBody>,
) -> Result<Done, AdminError> {
    let user = UserId::parse(&body.user).map_err(bad)?;
    if user.domain() != state.provider().domain() {
        return Err(bad("not a user of this provider"));
    }
    if !state.store.user_exists(&user).await? {
        return Err(AdminError::not_found("no such user"));
    }
    let fields = body
        .fields
        .into_iter()
        .map(|f| {
            let source = match f.source.as_str() {
                "oidc" => 7,
                "vcard" => 8,
                _ => return Err(bad("source must be oidc or vcard")),
            };
            Ok(ProfileFieldRecord {
                source,
                name: f.name,
                value: f.value,
                searchable: f.searchable,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    state.store.set_profile(&user, &fields).await?;
    Ok(Done::NoContent)
}

/// Sends a user's identifier query to `domain` with our certificate and
/// returns the answer unchanged.
async fn identifier_query(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    body: Bytes,
) -> Result<Response, AdminError> {
    let provider = ProviderId::from_domain(&domain).map_err(bad)?;
    let answer = state
        .peers
        .post(
            &provider,
            Endpoint::IdentifierQuery,
            &PathTarget::Domain(provider.clone()),
            body.to_vec(),
        )
        .await
        .map_err(AdminError::upstream)?;
    Ok((answer.status, answer.body).into_response())
}

#[derive(Deserialize)]
struct ReportsQuery {
    #[serde(default)]
    after: u64,
}

/// One stored abuse report, as the admin API and `mimi admin reports` show it.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReportJson {
    /// Increasing id; page with `after`.
    pub id: u64,
    /// The room.
    pub room: String,
    /// The provider that sent the report.
    pub reporter: String,
    /// The reporting user, unless anonymous.
    pub reporting_user: Option<String>,
    /// Who is reported.
    pub alleged_abuser: String,
    /// The wire `AbuseType`.
    pub reason_code: u8,
    /// The reporter's note.
    pub note: String,
    /// How many (verified) messages it quotes.
    pub message_count: u32,
    /// When it was received, ms since the UNIX epoch.
    pub received_at: u64,
}

impl From<&AbuseReportRecord> for ReportJson {
    fn from(r: &AbuseReportRecord) -> Self {
        let report = &r.report;
        Self {
            id: r.id,
            room: report.room.as_str().to_owned(),
            reporter: report.reporter.domain().to_owned(),
            reporting_user: report.reporting_user.clone(),
            alleged_abuser: report.alleged_abuser.clone(),
            reason_code: report.reason_code,
            note: report.note.clone(),
            message_count: report.message_count,
            received_at: report.received_at.0,
        }
    }
}

#[derive(Serialize)]
struct ReportList {
    reports: Vec<ReportJson>,
}

async fn abuse_reports(
    State(state): State<AppState>,
    Query(q): Query<ReportsQuery>,
) -> Result<axum::Json<ReportList>, AdminError> {
    let reports = state
        .store
        .abuse_reports(q.after, mimi_store::MAX_REPORT_PAGE)
        .await?;
    Ok(axum::Json(ReportList {
        reports: reports.iter().map(ReportJson::from).collect(),
    }))
}

#[derive(Deserialize)]
struct AssetHostBody {
    host: String,
    #[serde(flatten)]
    entry: AssetHost,
}

async fn set_asset_host(
    State(state): State<AppState>,
    axum::Json(body): axum::Json<AssetHostBody>,
) -> Result<Done, AdminError> {
    ProviderId::from_domain(&body.host.to_ascii_lowercase()).map_err(bad)?;
    ProviderId::from_domain(&body.entry.provider.to_ascii_lowercase()).map_err(bad)?;
    state.assets.set(&body.host, body.entry);
    Ok(Done::NoContent)
}

/// Every stored abuse report with an id above `after`, read from the store of
/// `config` directly (what `mimi admin reports --config FILE` prints; works
/// while the server runs).
///
/// # Errors
/// [`crate::ServerError::Config`] if the store cannot be opened or read.
pub async fn stored_reports(
    config: &crate::Config,
    after: u64,
) -> Result<Vec<ReportJson>, crate::ServerError> {
    let store = mimi_store::Store::open(&mimi_store::StoreConfig::new(config.storage_url()))
        .await
        .map_err(|e| crate::ServerError::Config(format!("storage: {e}")))?;
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let page = store
            .abuse_reports(cursor, mimi_store::MAX_REPORT_PAGE)
            .await
            .map_err(|e| crate::ServerError::Config(format!("storage: {e}")))?;
        let Some(last) = page.last() else { break };
        cursor = last.id;
        out.extend(page.iter().map(ReportJson::from));
    }
    store.close().await;
    Ok(out)
}
