//! The federation client: calls a peer provider's MIMI endpoints over mutual
//! TLS, finding their URLs in the peer's directory (protocol-06 §5.1).
//!
//! One `reqwest` client serves all peers, so each peer gets one pooled HTTP/2
//! connection that carries every concurrent request. Directories are cached;
//! a transport failure drops the peer's cached directory, so a peer that came
//! back on another port is found again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use mimi_proto::ProviderId;
use mimi_proto::directory::{DIRECTORY_PATH, Directory, Endpoint, MAX_DIRECTORY_LEN, PathTarget};

use crate::fanout::peers::{PeerMap, PeerResolver};
use crate::setup::server_error::ServerError;
use crate::setup::tls::TlsIdentity;

/// Media type we send on MIMI bodies (decisions FED-2); we accept any.
pub const MIMI_MEDIA_TYPE: &str = "application/mimi+tls";

/// How long a peer's directory is trusted before it is fetched again.
const DIRECTORY_TTL: Duration = Duration::from_secs(3600);

/// Bound on connecting to a peer: a dead peer must not hold a fan-out slot long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bound on one whole request, including the peer's processing.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call to a peer failed before it produced an HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The provider is not in our peer map.
    #[error("{0} is not a configured peer")]
    UnknownPeer(String),
    /// Connection, TLS or HTTP failure, or a timeout.
    #[error("transport: {0}")]
    Transport(String),
    /// The peer's directory is malformed or lacks the endpoint.
    #[error("directory of {peer}: {reason}")]
    Directory {
        /// The peer.
        peer: String,
        /// What is wrong.
        reason: String,
    },
    /// The answer is larger than we accept.
    #[error("answer exceeds {0} bytes")]
    TooLarge(usize),
}

/// A peer's HTTP answer.
#[derive(Debug)]
pub struct PeerResponse {
    /// The status.
    pub status: StatusCode,
    /// `Retry-After`, when given in seconds.
    pub retry_after: Option<Duration>,
    /// The body.
    pub body: Bytes,
}

/// Calls peers as this provider.
#[derive(Debug)]
pub struct PeerClient {
    http: reqwest::Client,
    from: HeaderValue,
    peers: Arc<PeerMap>,
    max_body: usize,
    directories: Mutex<HashMap<String, (Arc<Directory>, Instant)>>,
}

impl PeerClient {
    /// A client presenting `identity`'s certificate, reaching peers through `peers`.
    ///
    /// # Errors
    /// [`ServerError::Tls`] if the TLS configuration or HTTP client cannot be built.
    pub fn new(
        our: &ProviderId,
        identity: &TlsIdentity,
        peers: Arc<PeerMap>,
        max_body: usize,
    ) -> Result<Self, ServerError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(identity.client_config()?)
            .dns_resolver(PeerResolver(peers.clone()))
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // Detect a peer that vanished without closing the connection, so
            // the next request does not wait on a dead socket.
            .http2_keep_alive_interval(Duration::from_secs(20))
            .http2_keep_alive_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ServerError::Tls(format!("HTTP client: {e}")))?;
        let from = HeaderValue::from_str(&format!("mimi@{}", our.domain()))
            .map_err(|_| ServerError::Config("domain is not a valid header value".into()))?;
        Ok(Self {
            http,
            from,
            peers,
            max_body,
            directories: Mutex::new(HashMap::new()),
        })
    }

    /// The peer map this client resolves with.
    pub fn peers(&self) -> &Arc<PeerMap> {
        &self.peers
    }

    /// POSTs `body` to `endpoint` for `target` at `peer`.
    ///
    /// # Errors
    /// [`PeerError`] when no HTTP answer was obtained; any status is an `Ok`.
    pub async fn post(
        &self,
        peer: &ProviderId,
        endpoint: Endpoint,
        target: &PathTarget,
        body: Vec<u8>,
    ) -> Result<PeerResponse, PeerError> {
        let directory = self.directory(peer).await?;
        let url = directory
            .url(endpoint, target)
            .ok_or_else(|| PeerError::Directory {
                peer: peer.domain().to_owned(),
                reason: format!("no {endpoint} endpoint"),
            })?;
        let sent = self
            .http
            .post(&url)
            .header(header::FROM, self.from.clone())
            .header(header::CONTENT_TYPE, MIMI_MEDIA_TYPE)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                self.forget_directory(peer);
                return Err(PeerError::Transport(error_chain(&e)));
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = read_capped(response, self.max_body).await?;
        Ok(PeerResponse {
            status,
            retry_after,
            body,
        })
    }

    /// The peer's directory, from the cache or fetched.
    ///
    /// # Errors
    /// [`PeerError`] if the peer is unknown, unreachable or its document is bad.
    pub async fn directory(&self, peer: &ProviderId) -> Result<Arc<Directory>, PeerError> {
        let domain = peer.domain();
        if let Some((directory, fetched)) = self.cache().get(domain)
            && fetched.elapsed() < DIRECTORY_TTL
        {
            return Ok(directory.clone());
        }
        let addr = self
            .peers
            .get(domain)
            .ok_or_else(|| PeerError::UnknownPeer(domain.to_owned()))?;
        let url = format!("https://{domain}:{}{DIRECTORY_PATH}", addr.port());
        let response = self
            .http
            .get(&url)
            .header(header::FROM, self.from.clone())
            .send()
            .await
            .map_err(|e| PeerError::Transport(error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(PeerError::Directory {
                peer: domain.to_owned(),
                reason: format!("status {}", response.status()),
            });
        }
        let body = read_capped(response, MAX_DIRECTORY_LEN).await?;
        let parsed = Directory::from_json(&body).map_err(|e| PeerError::Directory {
            peer: domain.to_owned(),
            reason: e.to_string(),
        })?;
        // One malformed entry costs only that endpoint (decisions W-23).
        for skipped in &parsed.skipped {
            tracing::warn!(
                peer = %domain,
                endpoint = %skipped.endpoint,
                error = %skipped.error,
                "skipping a malformed entry of the peer's directory"
            );
        }
        let directory = Arc::new(parsed.directory);
        self.cache()
            .insert(domain.to_owned(), (directory.clone(), Instant::now()));
        Ok(directory)
    }

    /// Drops a peer's cached directory (after a transport failure).
    pub fn forget_directory(&self, peer: &ProviderId) {
        self.cache().remove(peer.domain());
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<Directory>, Instant)>> {
        // One map operation per critical section: never left half-updated.
        self.directories
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads a response body, failing once it exceeds `cap` bytes instead of
/// buffering whatever a peer sends.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Bytes, PeerError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(PeerError::TooLarge(cap));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| PeerError::Transport(error_chain(&e)))?
    {
        if out.len() + chunk.len() > cap {
            return Err(PeerError::TooLarge(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}

/// The error with its causes, for logs (reqwest's `Display` hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
