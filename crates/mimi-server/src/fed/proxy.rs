//! `GET /v1/proxyDownload/{downloadUrl}` (protocol-06 §5.10): the hub fetches
//! an asset for a peer provider, so the downloading client's address stays
//! hidden from the asset host.
//!
//! Never an open proxy: the URL's host must be a configured asset host of a
//! peer provider (or of ours), and when the request names its room
//! (`?room=<roomId>`, an extension: the draft's request carries no room), the
//! room must be hosted here and its `asset_policy` must list that host for that
//! provider and not forbid `hubProxy` (decisions RA-8). Redirects are not
//! followed, since they could lead anywhere. The OHTTP gateway of §5.10 is not
//! implemented yet (decisions RA-9).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use mimi_proto::components::{AssetPolicy, DownloadPrivacyType, RoomComponents};
use mimi_proto::{ProviderId, RoomId};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Deserialize;

use crate::setup::http_error::ApiError;
use crate::setup::server_error::ServerError;
use crate::setup::state::AppState;
use crate::setup::tls::TlsIdentity;

/// Bound on one asset fetch, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The port asset URLs without one use.
const HTTPS_PORT: u16 = 443;

/// One allowed asset host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetHost {
    /// The peer provider (or our own domain) whose clients upload there.
    pub provider: String,
    /// Where to connect instead of resolving the name (development and tests).
    #[serde(default)]
    pub addr: Option<SocketAddr>,
}

/// The allowed asset hosts and the client that fetches from them.
#[derive(Debug)]
pub struct AssetProxy {
    hosts: Arc<RwLock<BTreeMap<String, AssetHost>>>,
    http: reqwest::Client,
}

impl AssetProxy {
    /// A proxy for `hosts`; fetches present our certificate and trust the CA
    /// bundle of our configuration (asset hosts are provider infrastructure).
    ///
    /// # Errors
    /// [`ServerError::Tls`] if the HTTP client cannot be built.
    pub fn new(
        hosts: &BTreeMap<String, AssetHost>,
        identity: &TlsIdentity,
    ) -> Result<Self, ServerError> {
        let hosts = Arc::new(RwLock::new(
            hosts
                .iter()
                .map(|(h, e)| (h.to_ascii_lowercase(), e.clone()))
                .collect(),
        ));
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(identity.client_config()?)
            .dns_resolver(AssetResolver(hosts.clone()))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| ServerError::Tls(format!("asset HTTP client: {e}")))?;
        Ok(Self { hosts, http })
    }

    /// Adds an asset host or replaces its entry (admin API).
    pub fn set(&self, host: &str, entry: AssetHost) {
        self.hosts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(host.to_ascii_lowercase(), entry);
    }

    fn get(&self, host: &str) -> Option<AssetHost> {
        self.hosts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(host)
            .cloned()
    }
}

/// Why a download is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not an `https://host[:port]/…` URL with a domain name.
    BadUrl,
    /// The host is not an asset host of a peer provider.
    NotAllowed,
    /// The room's `asset_policy` does not list the host for its provider, or
    /// forbids downloads through the hub.
    RoomPolicy,
}

/// The host of an asset URL, lower-cased: `https://`, no user info, a domain
/// name (an IP literal names no provider's asset domain).
///
/// # Errors
/// [`Refusal::BadUrl`].
pub fn asset_host(url: &str) -> Result<String, Refusal> {
    let rest = url.strip_prefix("https://").ok_or(Refusal::BadUrl)?;
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .filter(|a| !a.is_empty() && !a.contains('@'))
        .ok_or(Refusal::BadUrl)?;
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        Some(_) => return Err(Refusal::BadUrl),
        None => authority,
    };
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return Err(Refusal::BadUrl);
    }
    ProviderId::from_domain(&host.to_ascii_lowercase())
        .map(|d| d.domain().to_owned())
        .map_err(|_| Refusal::BadUrl)
}

/// Whether `policy` lets clients of `provider` download from `host` through
/// the hub (room-policy §6.4).
pub fn room_allows(policy: &AssetPolicy, provider: &str, host: &str) -> bool {
    let listed = policy.upload_domains.iter().any(|d| {
        d.provider.eq_ignore_ascii_case(provider)
            && d.asset_upload_destinations
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    });
    let forbidden = policy
        .download_privacy
        .forbidden_download_types
        .contains(&DownloadPrivacyType::HUB_PROXY);
    listed && !forbidden
}

/// Handles one proxyDownload request.
pub(super) async fn proxy_download(
    state: &AppState,
    url: &str,
    room: Option<RoomId>,
) -> Result<Response, ApiError> {
    let host = asset_host(url).map_err(refuse)?;
    let entry = state.assets.get(&host).ok_or(refuse(Refusal::NotAllowed))?;
    let ours = entry
        .provider
        .eq_ignore_ascii_case(state.provider().domain());
    if !ours && state.peers.peers().get(&entry.provider).is_none() {
        return Err(refuse(Refusal::NotAllowed));
    }
    if let Some(room) = room {
        if room.hub_domain() != state.provider().domain() {
            return Err(ApiError::NotFound("no room hosted here"));
        }
        let bytes = state.store.current_room_state(&room).await?;
        let components = RoomComponents::decode_dictionary(&bytes)
            .map_err(|_| ApiError::Internal("stored room state does not decode"))?;
        if let Some(policy) = &components.assets
            && !room_allows(policy, &entry.provider, &host)
        {
            return Err(refuse(Refusal::RoomPolicy));
        }
    }
    fetch(state, url).await
}

async fn fetch(state: &AppState, url: &str) -> Result<Response, ApiError> {
    let answer = state
        .assets
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| ApiError::Upstream(format!("asset host: {e}")))?;
    let status = answer.status();
    // Only a whole asset is passed on.
    if status.as_u16() != 200 {
        return Err(ApiError::Upstream(format!("asset host answered {status}")));
    }
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let cap = state.limits.max_body_bytes;
    if answer.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ApiError::Upstream("asset too large".into()));
    }
    let body = read_capped(answer, cap).await?;
    let mut response = body.into_response();
    if let Some(value) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
}

async fn read_capped(mut answer: reqwest::Response, cap: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| ApiError::Upstream(format!("asset host: {e}")))?
    {
        if out.len() + chunk.len() > cap {
            return Err(ApiError::Upstream("asset too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}

fn refuse(refusal: Refusal) -> ApiError {
    ApiError::Forbidden(match refusal {
        Refusal::BadUrl => "downloadUrl must be https:// on a domain name",
        Refusal::NotAllowed => "not an asset host of a peer provider",
        Refusal::RoomPolicy => "the room's asset policy does not allow this host",
    })
}

/// Resolves only allowed asset hosts: their configured address, or DNS.
#[derive(Debug, Clone)]
struct AssetResolver(Arc<RwLock<BTreeMap<String, AssetHost>>>);

impl Resolve for AssetResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let entry = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&name.as_str().to_ascii_lowercase())
            .cloned();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            match entry {
                Some(AssetHost {
                    addr: Some(addr), ..
                }) => Ok(Box::new(std::iter::once(addr)) as Addrs),
                Some(_) => {
                    let found: Vec<SocketAddr> =
                        tokio::net::lookup_host((name.as_str(), HTTPS_PORT))
                            .await?
                            .collect();
                    Ok(Box::new(found.into_iter()) as Addrs)
                }
                None => Err(format!("{name} is not an allowed asset host").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use mimi_proto::components::{
        AssetUploadLocation, DownloadPrivacy, ProviderAssetUploadDomains,
    };

    use super::*;

    #[test]
    fn only_https_urls_on_domain_names() {
        assert_eq!(
            asset_host("https://Assets.B.example/x/y.png"),
            Ok("assets.b.example".into())
        );
        assert_eq!(
            asset_host("https://assets.b.example:8443?x"),
            Ok("assets.b.example".into())
        );
        for bad in [
            "http://assets.b.example/x",
            "https://user@assets.b.example/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https:///x",
            "https://assets.b.example:port/x",
        ] {
            assert_eq!(asset_host(bad), Err(Refusal::BadUrl), "{bad}");
        }
    }

    #[test]
    fn room_policy_lists_the_host_for_its_provider() {
        let policy = |forbidden: Vec<DownloadPrivacyType>| AssetPolicy {
            asset_upload_location: AssetUploadLocation::LOCAL_PROVIDER,
            upload_domains: vec![ProviderAssetUploadDomains {
                provider: "b.example".into(),
                asset_upload_destinations: vec!["assets.b.example".into()],
            }],
            download_privacy: DownloadPrivacy {
                allowed_download_types: vec![DownloadPrivacyType::HUB_PROXY],
                forbidden_download_types: forbidden,
                default_download_type: DownloadPrivacyType::HUB_PROXY,
            },
            max_image: 0,
            max_audio: 0,
            max_video: 0,
            max_attachment: 0,
            forbidden_media_types: vec![],
            permitted_media_types: None,
        };
        let p = policy(vec![]);
        assert!(room_allows(&p, "b.example", "assets.b.example"));
        assert!(!room_allows(&p, "c.example", "assets.b.example"));
        assert!(!room_allows(&p, "b.example", "evil.example"));
        let p = policy(vec![DownloadPrivacyType::HUB_PROXY]);
        assert!(!room_allows(&p, "b.example", "assets.b.example"));
    }
}
