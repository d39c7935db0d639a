//! `session.toml`: where a home's client talks to. The client database
//! (`mimi_client::DATABASE_FILE`) holds everything else, the event cursor
//! included.
//!
//! ```toml
//! client = "mimi://x.example/d/alice/laptop"
//! server = "https://x.example:8080"   # the provider's client API; the host is checked against its certificate
//! ca = "/path/to/ca.pem"              # the CA the server certificate must chain to
//! connect = "127.0.0.1:8080"          # optional: the address to connect to instead of resolving the host
//!
//! [key_packages]                      # optional: the KeyPackage stock kept on the provider
//! stock = 8                           # a top-up uploads up to this many
//! low = 3                             # every sync tops up when fewer than this many are left
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SessionError;

/// The file name inside a home directory.
pub const SESSION_FILE: &str = "session.toml";

/// A home's connection settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// The client's `mimi://<domain>/d/<user>/<device>` URI.
    pub client: String,
    /// Base URL of the provider's client API, `https://<domain>:<port>`.
    pub server: String,
    /// PEM CA bundle trusted for the server certificate.
    pub ca: PathBuf,
    /// Connect here instead of resolving the URL's host (a loopback
    /// federation whose certificates name `x.example`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<SocketAddr>,
    /// The KeyPackage stock kept on the provider (decisions KP-5).
    #[serde(default, skip_serializing_if = "KeyPackageStock::is_default")]
    pub key_packages: KeyPackageStock,
}

/// How many KeyPackages a client keeps on its provider, and when it tops up
/// (decisions KP-5). A last-resort KeyPackage is kept besides (KP-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyPackageStock {
    /// A top-up uploads up to this many.
    pub stock: usize,
    /// Every sync tops up when fewer than this many are left.
    pub low: u64,
}

/// The default stock: eight adds between syncs, far more than a person
/// makes, few enough that unused KeyPackages do not pile up for weeks.
pub const KEY_PACKAGE_STOCK: usize = 8;
/// The default low mark: topping up at three leaves room for a few adds
/// racing a sync.
pub const KEY_PACKAGE_LOW: u64 = 3;

impl Default for KeyPackageStock {
    fn default() -> Self {
        Self {
            stock: KEY_PACKAGE_STOCK,
            low: KEY_PACKAGE_LOW,
        }
    }
}

impl KeyPackageStock {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl SessionConfig {
    /// Reads `session.toml` from `home`.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] if the home holds no session (the caller
    /// named a home that was never registered: a usage error, not broken
    /// local state); [`SessionError::State`] if the file cannot be read or
    /// does not parse.
    pub fn load(home: &Path) -> Result<Self, SessionError> {
        let path = home.join(SESSION_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let text = format!(
                "{} holds no registered client ({}: {e}); run `register` first",
                home.display(),
                path.display()
            );
            if e.kind() == std::io::ErrorKind::NotFound {
                SessionError::BadInput(text)
            } else {
                SessionError::State(text)
            }
        })?;
        toml::from_str(&text).map_err(|e| SessionError::State(format!("{}: {e}", path.display())))
    }

    /// Writes `session.toml` into `home` (atomically: a crash leaves the old
    /// file or the new one).
    ///
    /// # Errors
    /// [`SessionError::State`] if it cannot be written.
    pub fn save(&self, home: &Path) -> Result<(), SessionError> {
        let text = toml::to_string(self)
            .map_err(|e| SessionError::State(format!("encoding {SESSION_FILE}: {e}")))?;
        let tmp = home.join(format!("{SESSION_FILE}.tmp"));
        let io = |e: std::io::Error| SessionError::State(format!("writing {SESSION_FILE}: {e}"));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, home.join(SESSION_FILE)).map_err(io)
    }

    /// The CA path as written, made absolute against the current directory so
    /// the home works from anywhere.
    pub fn absolute_ca(ca: &Path) -> PathBuf {
        std::path::absolute(ca).unwrap_or_else(|_| ca.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_home() {
        let home = tempfile::tempdir().unwrap();
        let config = SessionConfig {
            client: "mimi://x.example/d/alice/laptop".into(),
            server: "https://x.example:8080".into(),
            ca: "/tmp/ca.pem".into(),
            connect: Some("127.0.0.1:8080".parse().unwrap()),
            key_packages: KeyPackageStock::default(),
        };
        config.save(home.path()).unwrap();
        assert_eq!(SessionConfig::load(home.path()).unwrap(), config);
        let text = std::fs::read_to_string(home.path().join(SESSION_FILE)).unwrap();
        assert!(
            !text.contains("key_packages"),
            "defaults are not written: {text}"
        );
        std::fs::write(
            home.path().join(SESSION_FILE),
            format!("{text}\n[key_packages]\nstock = 20\nlow = 5\n"),
        )
        .unwrap();
        let loaded = SessionConfig::load(home.path()).unwrap();
        assert_eq!(loaded.key_packages, KeyPackageStock { stock: 20, low: 5 });
    }

    #[test]
    fn a_home_without_a_session_is_bad_input_and_a_broken_one_a_state_error() {
        let home = tempfile::tempdir().unwrap();
        assert!(matches!(
            SessionConfig::load(home.path()),
            Err(SessionError::BadInput(_))
        ));
        std::fs::write(home.path().join(SESSION_FILE), "client = 3").unwrap();
        assert!(matches!(
            SessionConfig::load(home.path()),
            Err(SessionError::State(_))
        ));
    }
}
