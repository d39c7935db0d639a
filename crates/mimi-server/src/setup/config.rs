//! Server configuration: a TOML file, then `MIMI_*` environment overrides.
//!
//! ```toml
//! domain = "a.example"                 # our provider domain (must match our certificate)
//! listen = "127.0.0.1:8443"            # federation listener (HTTPS, mutual TLS)
//! client_listen = "127.0.0.1:8080"     # provider-internal client API and /metrics
//! data_dir = "/var/lib/mimi/a"         # SQLite database and local state
//! storage_url = "postgres://…"         # optional; default sqlite://<data_dir>/mimi.db
//! log_format = "text"                  # or "json"
//! public_url = "https://a.example:8443" # optional; default https://<domain>:<listen port>
//! admin_token = "…"                    # optional; enables the admin API on client_listen
//! registration = "token"               # "open" (default: anyone reaching client_listen) or "token"
//! registration_token = "…"             # required with registration = "token"
//!
//! [tls]
//! cert = "pki/a.example.pem"
//! key = "pki/a.example.key"
//! ca = "pki/ca.pem"
//!
//! [peers]                              # static map: domain → socket address
//! "b.example" = "127.0.0.1:9443"
//!
//! [limits]
//! max_body_bytes = 16777216
//! requests_per_second_per_peer = 2000
//!
//! [fanout]                             # notify retry timing
//! retry_initial_ms = 250
//! retry_max_ms = 60000
//! linger_ms = 25                       # a delivered queue waits this long for more
//!
//! [consent]                            # who may fetch our users' KeyPackages
//! policy = "open"                      # or "contacts-only", "explicit"
//! uniform_refusals = false             # true: answer noConsent for every refusal
//!
//! [key_packages]                       # claims of our users' KeyPackages by others
//! claims_per_user = 10                 # per requesting user, per target, per window
//! claims_per_provider = 50             # per requesting provider, per target, per window
//! claim_window_secs = 3600
//! claimed_ttl_secs = 604800            # a claimed, unused KeyPackage expires after this
//!
//! [identifier_query]
//! queries_per_minute_per_peer = 60
//!
//! [asset_hosts]                        # proxyDownload: peers' asset hosts
//! "assets.b.example" = { provider = "b.example" }   # optional addr = "ip:port"
//! ```
//!
//! Environment overrides (useful in containers): `MIMI_DOMAIN`, `MIMI_LISTEN`,
//! `MIMI_CLIENT_LISTEN`, `MIMI_DATA_DIR`, `MIMI_STORAGE_URL`, `MIMI_LOG_FORMAT`,
//! `MIMI_TLS_CERT`, `MIMI_TLS_KEY`, `MIMI_TLS_CA`, `MIMI_PUBLIC_URL`,
//! `MIMI_ADMIN_TOKEN`, `MIMI_REGISTRATION`, `MIMI_REGISTRATION_TOKEN`, and
//! `MIMI_PEERS` as `domain=addr,domain=addr`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mimi_proto::ProviderId;
use serde::Deserialize;

use crate::setup::server_error::ServerError;

/// A fully resolved server configuration.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Our provider domain.
    pub domain: String,
    /// Federation listener address.
    pub listen: SocketAddr,
    /// Client-API listener address.
    pub client_listen: SocketAddr,
    /// Directory for the embedded database and other local state.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to SQLite under `data_dir`.
    #[serde(default)]
    pub storage_url: Option<String>,
    /// `text` (default) or `json` logs.
    #[serde(default)]
    pub log_format: LogFormat,
    /// Certificate, key and trusted CA for mutual TLS.
    pub tls: TlsPaths,
    /// Known peer providers: domain → address.
    #[serde(default)]
    pub peers: BTreeMap<String, SocketAddr>,
    /// Resource limits.
    #[serde(default)]
    pub limits: Limits,
    /// The base URL peers reach our federation endpoints at (our directory's
    /// URLs start with it). Defaults to `https://<domain>:<listen port>`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Bearer token of the admin API on the client listener; the admin API is
    /// off without one.
    #[serde(default)]
    pub admin_token: Option<String>,
    /// Fan-out retry timing.
    #[serde(default)]
    pub fanout: FanoutSettings,
    /// Who may register clients through the client API (decisions CAPI-3).
    #[serde(default)]
    pub registration: Registration,
    /// The token a registration must carry when `registration = "token"`.
    #[serde(default)]
    pub registration_token: Option<String>,
    /// Consent policy (protocol-06 §8).
    #[serde(default)]
    pub consent: crate::fed::consent::ConsentSettings,
    /// KeyPackage claim limits and the claimed KeyPackages' lifetime
    /// (decisions KP-3, KP-6).
    #[serde(default)]
    pub key_packages: crate::fed::claim_limits::KeyPackageSettings,
    /// Identifier query settings (protocol-06 §5.8).
    #[serde(default)]
    pub identifier_query: crate::fed::identifier::IdentifierSettings,
    /// Asset hosts of peer providers the hub may fetch from for
    /// `proxyDownload` (protocol-06 §5.10): host → provider (and an address
    /// that overrides DNS).
    #[serde(default)]
    pub asset_hosts: BTreeMap<String, crate::fed::proxy::AssetHost>,
}

/// Who may register a client of this provider through the client API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone who reaches the client listener (development federations).
    #[default]
    Open,
    /// Only a registration carrying `registration_token`.
    Token,
}

/// Timing of `notify` retries (exponential backoff between the two bounds), and how long a
/// queue keeps its hold after it ran empty (decisions FED-19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FanoutSettings {
    /// Delay after the first failed attempt, in milliseconds.
    pub retry_initial_ms: u64,
    /// Longest delay between attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How long a queue whose entries were all delivered waits for its room's next accepted
    /// event before releasing its lease, in milliseconds (capped at the 5 s hold).
    pub linger_ms: u64,
}

impl Default for FanoutSettings {
    fn default() -> Self {
        Self {
            // A follower restart takes seconds: start retrying soon, then back
            // off to a minute so a long outage costs little.
            retry_initial_ms: 250,
            retry_max_ms: 60_000,
            // Longer than the gap between messages of a busy room, short enough that a quiet
            // room's lease is released almost at once.
            linger_ms: 25,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Paths of the TLS material.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsPaths {
    /// PEM certificate chain naming our domain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// PEM bundle of CAs trusted for peers.
    pub ca: PathBuf,
}

/// Limits that protect the server from one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Sustained requests per second allowed per peer provider before 429.
    pub requests_per_second_per_peer: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: mimi_proto::MAX_MESSAGE_LEN,
            // Well above the fan-out target (5,000 msg/s spread over peers,
            // batched), low enough to blunt a flood from one peer.
            requests_per_second_per_peer: 2_000,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("domain", &self.domain)
            .field("listen", &self.listen)
            .field("client_listen", &self.client_listen)
            .field("data_dir", &self.data_dir)
            .field("storage_url", &self.storage_url.as_deref().map(redact_url))
            .field("log_format", &self.log_format)
            .field("tls", &self.tls)
            .field("peers", &self.peers)
            .field("limits", &self.limits)
            .field("public_url", &self.public_url)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
            .field("fanout", &self.fanout)
            .field("registration", &self.registration)
            .field(
                "registration_token",
                &self.registration_token.as_ref().map(|_| "***"),
            )
            .field("consent", &self.consent)
            .field("identifier_query", &self.identifier_query)
            .field("asset_hosts", &self.asset_hosts)
            .finish()
    }
}

impl Config {
    /// Reads `path`, applies environment overrides from `env`, resolves
    /// relative paths against the file's directory, and validates.
    ///
    /// # Errors
    /// [`ServerError::Io`] if the file cannot be read, [`ServerError::Config`]
    /// naming the bad key otherwise.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServerError::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, env, base)
    }

    /// As [`Config::load`], from text.
    ///
    /// # Errors
    /// [`ServerError::Config`] naming the bad key.
    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
        base: &Path,
    ) -> Result<Self, ServerError> {
        let mut value: toml::Table =
            toml::from_str(text).map_err(|e| ServerError::Config(e.to_string()))?;
        for (key, val) in env {
            apply_env(&mut value, &key, val)?;
        }
        let mut config: Config = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| ServerError::Config(e.to_string()))?;
        config.resolve_paths(base);
        config.validate()?;
        Ok(config)
    }

    /// A provider listening on loopback with ephemeral ports and every other
    /// setting at its default, as a config file naming only `domain`,
    /// `data_dir` and `tls` would give: what a server started in-process (the
    /// fan-out bench, tests) runs with. Callers change fields before starting.
    ///
    /// # Errors
    /// [`ServerError::Config`] if `domain` is not a valid provider domain.
    pub fn loopback(domain: &str, data_dir: PathBuf, tls: TlsPaths) -> Result<Self, ServerError> {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        let config = Self {
            domain: domain.into(),
            listen: any_port,
            client_listen: any_port,
            data_dir,
            storage_url: None,
            log_format: LogFormat::default(),
            tls,
            peers: BTreeMap::new(),
            limits: Limits::default(),
            public_url: None,
            admin_token: None,
            fanout: FanoutSettings::default(),
            registration: Registration::default(),
            registration_token: None,
            consent: Default::default(),
            key_packages: Default::default(),
            identifier_query: Default::default(),
            asset_hosts: BTreeMap::new(),
        };
        config.validate()?;
        Ok(config)
    }

    /// The storage URL, defaulting to a SQLite file under `data_dir`.
    pub fn storage_url(&self) -> String {
        self.storage_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("mimi.db").display()
            )
        })
    }

    /// Our provider id.
    ///
    /// # Panics
    /// Never: `Config::validate` checked the domain.
    pub fn provider(&self) -> ProviderId {
        ProviderId::from_domain(&self.domain).expect("domain validated when the config was loaded")
    }

    fn resolve_paths(&mut self, base: &Path) {
        for p in [
            &mut self.data_dir,
            &mut self.tls.cert,
            &mut self.tls.key,
            &mut self.tls.ca,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    fn validate(&self) -> Result<(), ServerError> {
        ProviderId::from_domain(&self.domain)
            .map_err(|e| ServerError::Config(format!("domain {:?}: {e}", self.domain)))?;
        for peer in self.peers.keys() {
            ProviderId::from_domain(peer)
                .map_err(|e| ServerError::Config(format!("peers: {peer:?}: {e}")))?;
        }
        if self.peers.contains_key(&self.domain) {
            return Err(ServerError::Config(
                "peers: must not list our own domain".into(),
            ));
        }
        if let Some(url) = &self.storage_url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres:"))
        {
            return Err(ServerError::Config(format!(
                "storage_url must start with sqlite: or postgres:, got {}",
                redact_url(url)
            )));
        }
        if self.registration == Registration::Token
            && self.registration_token.as_deref().is_none_or(str::is_empty)
        {
            return Err(ServerError::Config(
                "registration = \"token\" needs a non-empty registration_token".into(),
            ));
        }
        if self.limits.max_body_bytes == 0 || self.limits.requests_per_second_per_peer == 0 {
            return Err(ServerError::Config("limits must be positive".into()));
        }
        Ok(())
    }
}

/// Applies one `MIMI_*` variable; other variables are ignored.
fn apply_env(table: &mut toml::Table, key: &str, val: String) -> Result<(), ServerError> {
    let set = |table: &mut toml::Table, path: &[&str], v: toml::Value| {
        let mut t = table;
        for part in &path[..path.len() - 1] {
            t = t
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| ServerError::Config(format!("{part} must be a table")))?;
        }
        t.insert(path[path.len() - 1].to_string(), v);
        Ok::<(), ServerError>(())
    };
    let s = toml::Value::String;
    match key {
        "MIMI_DOMAIN" => set(table, &["domain"], s(val)),
        "MIMI_LISTEN" => set(table, &["listen"], s(val)),
        "MIMI_CLIENT_LISTEN" => set(table, &["client_listen"], s(val)),
        "MIMI_DATA_DIR" => set(table, &["data_dir"], s(val)),
        "MIMI_STORAGE_URL" => set(table, &["storage_url"], s(val)),
        "MIMI_LOG_FORMAT" => set(table, &["log_format"], s(val)),
        "MIMI_TLS_CERT" => set(table, &["tls", "cert"], s(val)),
        "MIMI_TLS_KEY" => set(table, &["tls", "key"], s(val)),
        "MIMI_TLS_CA" => set(table, &["tls", "ca"], s(val)),
        "MIMI_PUBLIC_URL" => set(table, &["public_url"], s(val)),
        "MIMI_ADMIN_TOKEN" => set(table, &["admin_token"], s(val)),
        "MIMI_REGISTRATION" => set(table, &["registration"], s(val)),
        "MIMI_REGISTRATION_TOKEN" => set(table, &["registration_token"], s(val)),
        "MIMI_PEERS" => {
            let mut peers = toml::Table::new();
            for pair in val.split(',').filter(|p| !p.trim().is_empty()) {
                let (domain, addr) = pair.split_once('=').ok_or_else(|| {
                    ServerError::Config(format!("MIMI_PEERS: expected domain=addr, got {pair:?}"))
                })?;
                peers.insert(domain.trim().to_owned(), s(addr.trim().to_owned()));
            }
            set(table, &["peers"], toml::Value::Table(peers))
        }
        _ => Ok(()),
    }
}

/// Hides the password of a database URL for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        domain = "a.example"
        listen = "127.0.0.1:8443"
        client_listen = "127.0.0.1:8080"
        data_dir = "data"
        [tls]
        cert = "pki/a.example.pem"
        key = "pki/a.example.key"
        ca = "pki/ca.pem"
        [peers]
        "b.example" = "127.0.0.1:9443"
    "#;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn loads_file_and_resolves_relative_paths() {
        let c = Config::from_toml(EXAMPLE, env(&[]), Path::new("/etc/mimi")).unwrap();
        assert_eq!(c.tls.cert, Path::new("/etc/mimi/pki/a.example.pem"));
        assert_eq!(c.storage_url(), "sqlite:///etc/mimi/data/mimi.db?mode=rwc");
        assert_eq!(c.peers["b.example"], "127.0.0.1:9443".parse().unwrap());
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.provider().domain(), "a.example");
    }

    #[test]
    fn environment_overrides_file() {
        let c = Config::from_toml(
            EXAMPLE,
            env(&[
                ("MIMI_LISTEN", "0.0.0.0:1"),
                ("MIMI_PEERS", "c.example=127.0.0.1:2, d.example=127.0.0.1:3"),
                ("MIMI_STORAGE_URL", "postgres://mimi:secret@db/mimi"),
                ("UNRELATED", "x"),
            ]),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:1".parse().unwrap());
        assert_eq!(c.peers.len(), 2);
        assert!(
            !c.peers.contains_key("b.example"),
            "MIMI_PEERS replaces the map"
        );
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("secret"),
            "Debug must redact the database password: {debug}"
        );
    }

    #[test]
    fn rejects_invalid_values_with_the_key() {
        let bad_domain = EXAMPLE.replace("a.example\"\n", "not a domain\"\n");
        let err = Config::from_toml(&bad_domain, env(&[]), Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("domain"), "{err}");
        let unknown = format!("{EXAMPLE}\nbogus = 1\n");
        let err = Config::from_toml(&unknown, env(&[]), Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let err = Config::from_toml(
            EXAMPLE,
            env(&[("MIMI_STORAGE_URL", "mysql://x")]),
            Path::new("/"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("storage_url"), "{err}");
        let err = Config::from_toml(EXAMPLE, env(&[("MIMI_PEERS", "b.example")]), Path::new("/"))
            .unwrap_err();
        assert!(err.to_string().contains("MIMI_PEERS"), "{err}");
        let err = Config::from_toml(
            EXAMPLE,
            env(&[("MIMI_REGISTRATION", "token")]),
            Path::new("/"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("registration_token"), "{err}");
    }

    #[test]
    fn registration_defaults_open_and_token_comes_from_the_environment() {
        let c = Config::from_toml(EXAMPLE, env(&[]), Path::new("/")).unwrap();
        assert_eq!(c.registration, Registration::Open);
        let c = Config::from_toml(
            EXAMPLE,
            env(&[
                ("MIMI_REGISTRATION", "token"),
                ("MIMI_REGISTRATION_TOKEN", "sesame"),
            ]),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(c.registration, Registration::Token);
        assert_eq!(c.registration_token.as_deref(), Some("sesame"));
        assert!(!format!("{c:?}").contains("sesame"));
    }
}
