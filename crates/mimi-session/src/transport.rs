//! HTTPS to the provider's client API: one blocking HTTP/2-capable client
//! trusting the configured CA, every request signed with the client's MLS key
//! (`mimi_client_api::auth`), and answers sorted into the error families of
//! [`SessionError`].

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mimi_client_api::{AuthHeader, ErrorBody, auth};
use openmls_traits::signatures::Signer;
use reqwest::Url;
use reqwest::blocking::Client as Http;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::config::SessionConfig;
use crate::error::SessionError;

/// How long a request may take, long-polls excepted.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a request carries.
#[derive(Debug)]
pub(crate) enum Body {
    /// Nothing (GET, DELETE).
    Empty,
    /// A JSON document.
    Json(Vec<u8>),
    /// A MIMI protocol body (TLS-encoded).
    Mimi(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Empty => &[],
            Self::Json(b) | Self::Mimi(b) => b,
        }
    }
}

/// The HTTP side of a session.
pub(crate) struct Transport {
    http: Http,
    base: Url,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for `config`'s server, connecting to `config.connect`
    /// (address and port) when it is set.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] for a URL that is not `https://host[:port]`,
    /// [`SessionError::State`] for an unreadable CA file.
    pub(crate) fn new(config: &SessionConfig) -> Result<Self, SessionError> {
        let mut base = Url::parse(&config.server)
            .map_err(|e| SessionError::BadInput(format!("server URL {}: {e}", config.server)))?;
        if base.scheme() != "https" {
            return Err(SessionError::BadInput(format!(
                "server URL {} must be https://",
                config.server
            )));
        }
        let host = base
            .host_str()
            .ok_or_else(|| {
                SessionError::BadInput(format!("server URL {} has no host", config.server))
            })?
            .to_owned();
        let mut builder = Http::builder()
            .use_preconfigured_tls(tls_config(&config.ca)?)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(None::<Duration>)
            .pool_idle_timeout(Duration::from_secs(30));
        if let Some(addr) = config.connect {
            // reqwest's resolver override takes only the IP: the port comes
            // from the URL. `connect` names the whole address, so its port
            // goes into the URL; the host stays, for SNI and the certificate.
            base.set_port(Some(addr.port())).map_err(|()| {
                SessionError::BadInput(format!("server URL {} takes no port", config.server))
            })?;
            builder = builder.resolve(&host, addr);
        }
        let http = builder
            .build()
            .map_err(|e| SessionError::State(format!("HTTP client: {e}")))?;
        Ok(Self { http, base })
    }

    /// Sends a request, signed by `signer` as `client` unless `signer` is
    /// `None` (registration), and returns the 2xx answer's body.
    ///
    /// # Errors
    /// [`SessionError::Network`] for transport failures and 5xx answers; the
    /// other families for 4xx answers (see [`classify`]).
    pub(crate) fn call<S: Signer>(
        &self,
        signer: Option<(&S, &str)>,
        method: reqwest::Method,
        path: &str,
        body: Body,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, SessionError> {
        let (status, bytes) = self.exchange(signer, method, path, body, timeout)?;
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(classify(status.as_u16(), &bytes))
        }
    }

    fn exchange<S: Signer>(
        &self,
        signer: Option<(&S, &str)>,
        method: reqwest::Method,
        path: &str,
        body: Body,
        timeout: Option<Duration>,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), SessionError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| SessionError::BadInput(format!("request path {path}: {e}")))?;
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(timeout.unwrap_or(REQUEST_TIMEOUT));
        match &body {
            Body::Empty => {}
            Body::Json(_) => {
                request = request.header(CONTENT_TYPE, "application/json");
            }
            Body::Mimi(_) => {
                request = request.header(CONTENT_TYPE, "application/octet-stream");
            }
        }
        if let Some((signer, client)) = signer {
            let mut path_and_query = url.path().to_owned();
            if let Some(q) = url.query() {
                path_and_query.push('?');
                path_and_query.push_str(q);
            }
            let header = AuthHeader::sign(
                signer,
                client,
                method.as_str(),
                &path_and_query,
                body.bytes(),
                unix_now(),
                rand::random(),
            )
            .map_err(|e| SessionError::State(format!("signing the request: {e}")))?;
            let value = HeaderValue::from_str(&header.to_header_value())
                .map_err(|_| SessionError::State("authorization header is not ASCII".into()))?;
            request = request.header(auth::HEADER, value);
        }
        let request = match body {
            Body::Empty => request,
            Body::Json(b) | Body::Mimi(b) => request.body(b),
        };
        let response = request.send().map_err(|e| network(&self.base, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .map_err(|e| network(&self.base, &e))?
            .to_vec();
        Ok((status, bytes))
    }
}

/// Seconds since the UNIX epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A rustls configuration trusting only the CAs in `ca` (ring provider, so
/// the process needs no global default).
fn tls_config(ca: &Path) -> Result<rustls::ClientConfig, SessionError> {
    let bad =
        |e: &dyn std::fmt::Display| SessionError::State(format!("CA file {}: {e}", ca.display()));
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(ca).map_err(|e| bad(&e))? {
        roots.add(der.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(bad(&"no certificate"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SessionError::State(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A transport failure, with the cause chain (reqwest's own message hides
/// whether it was DNS, TCP or TLS).
fn network(base: &Url, e: &reqwest::Error) -> SessionError {
    let mut text = format!("{base}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    SessionError::Network(text)
}

/// Sorts a non-2xx answer: 5xx (and 429) are the network's or the server's
/// fault, 404 names something that does not exist, every other 4xx is a
/// refusal with the client API's error code.
pub(crate) fn classify(status: u16, body: &[u8]) -> SessionError {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => (
            serde_json::to_value(e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| status.to_string()),
            e.message,
        ),
        Err(_) => (
            match status {
                400 => "bad_request".to_owned(),
                401 => "unauthenticated".to_owned(),
                403 => "forbidden".to_owned(),
                409 => "conflict".to_owned(),
                s => format!("http_{s}"),
            },
            String::from_utf8_lossy(body).chars().take(300).collect(),
        ),
    };
    match status {
        // A provider nobody federates with is the caller's to fix: said as is.
        404 if code == "unknown_provider" => SessionError::BadInput(message),
        404 => SessionError::BadInput(format!("not found: {message}")),
        // The target's provider limits KeyPackage claims (decisions KP-3):
        // a refusal of this request, not a failure of the network.
        429 if code == "rate_limited" => SessionError::refused(code, message),
        429 | 500..=599 => {
            SessionError::Network(format!("server answered {status} ({code}): {message}"))
        }
        _ => SessionError::refused(code, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_sort_into_families() {
        let body = br#"{"code":"forbidden","message":"another user's request"}"#;
        assert_eq!(classify(403, body).refusal_code(), Some("forbidden"));
        assert_eq!(
            classify(401, b"stale").refusal_code(),
            Some("unauthenticated")
        );
        assert!(matches!(classify(404, b""), SessionError::BadInput(_)));
        let upstream = br#"{"code":"upstream","message":"hub unreachable"}"#;
        assert!(matches!(classify(502, upstream), SessionError::Network(_)));
        assert!(matches!(classify(503, b""), SessionError::Network(_)));
        let limited = br#"{"code":"rate_limited","message":"c.example refused"}"#;
        assert_eq!(classify(429, limited).refusal_code(), Some("rate_limited"));
        assert!(matches!(classify(429, b""), SessionError::Network(_)));
    }

    #[test]
    fn the_connect_address_gives_the_port() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let key = rcgen::generate_simple_self_signed(vec!["x.example".into()]).unwrap();
        std::fs::write(&ca, key.cert.pem()).unwrap();
        let config = SessionConfig {
            client: "mimi://x.example/d/a/b".into(),
            server: "https://x.example:8080".into(),
            ca,
            connect: Some("127.0.0.1:9443".parse().unwrap()),
            key_packages: crate::config::KeyPackageStock::default(),
        };
        let transport = Transport::new(&config).unwrap();
        assert_eq!(transport.base.as_str(), "https://x.example:9443/");
        let plain = Transport::new(&SessionConfig {
            connect: None,
            ..config
        })
        .unwrap();
        assert_eq!(plain.base.as_str(), "https://x.example:8080/");
    }

    #[test]
    fn only_https_urls_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let config = SessionConfig {
            client: "mimi://x.example/d/a/b".into(),
            server: "http://x.example:1".into(),
            ca: dir.path().join("ca.pem"),
            connect: None,
            key_packages: crate::config::KeyPackageStock::default(),
        };
        assert!(matches!(
            Transport::new(&config),
            Err(SessionError::BadInput(_))
        ));
        let config = SessionConfig {
            server: "https://x.example:1".into(),
            ..config
        };
        // The CA file does not exist.
        assert!(matches!(
            Transport::new(&config),
            Err(SessionError::State(_))
        ));
    }
}
