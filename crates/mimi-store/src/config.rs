//! Store configuration: which database, and the few knobs that matter for durability and load.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::error::StoreError;

/// File name of the embedded SQLite database inside the data directory.
pub const SQLITE_FILE_NAME: &str = "mimi.db";

/// How to open a [`Store`](crate::Store).
///
/// `Debug` redacts any password in the URL, so the config can be logged.
#[derive(Clone)]
pub struct StoreConfig {
    /// `sqlite://<path>` (the default backend: one file under the data directory) or
    /// `postgres://user[:password]@host[:port]/database`.
    pub url: String,
    /// PostgreSQL pool size, or the number of SQLite *reader* connections (SQLite always has
    /// exactly one writer connection: see [`Store`](crate::Store)).
    pub max_connections: u32,
    /// How long an operation waits for a free connection (and, on SQLite, for the single
    /// writer) before failing with a timeout.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a connection waits on a file lock held by another process.
    pub busy_timeout: Duration,
    /// How many epochs of serialized MLS state to keep per room, counting the current one.
    /// Older snapshots are deleted by the commit that opens a new epoch; they are only kept for
    /// inspection, since the hub works on the current epoch. At least 1.
    pub epoch_retention: u64,
}

impl StoreConfig {
    /// A configuration for `url` with defaults for everything else.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(10),
            epoch_retention: 4,
        }
    }

    /// The default backend: SQLite in `data_dir`/[`SQLITE_FILE_NAME`].
    pub fn sqlite_in(data_dir: &Path) -> Self {
        Self::new(format!(
            "sqlite://{}",
            data_dir.join(SQLITE_FILE_NAME).display()
        ))
    }

    /// Which backend the URL names.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for any other scheme.
    pub fn backend(&self) -> Result<BackendKind, StoreError> {
        let scheme = self.url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            Some("sqlite") => Ok(BackendKind::Sqlite),
            Some("postgres" | "postgresql") => Ok(BackendKind::Postgres),
            _ => Err(StoreError::InvalidInput(
                "store URL must start with sqlite: or postgres:",
            )),
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("busy_timeout", &self.busy_timeout)
            .field("epoch_retention", &self.epoch_retention)
            .finish()
    }
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// PostgreSQL (or a wire-compatible engine).
    Postgres,
    /// Embedded SQLite.
    Sqlite,
}

/// `url` with the password of its userinfo and any `password=` query parameter replaced by
/// `***`.
pub fn redact_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let (before_query, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    match before_query.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            // The authority ends at the first '/'; userinfo ends at its last '@'.
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        None => out.push_str(userinfo),
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(query) = query {
        out.push('?');
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_passwords() {
        let config =
            StoreConfig::new("postgres://mimi:hunter2@db.example:5432/mimi?sslmode=require");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://mimi:***@db.example:5432/mimi?sslmode=require"));

        let query = redact_url("postgres://db.example/mimi?user=a&password=hunter2&x=1");
        assert_eq!(query, "postgres://db.example/mimi?user=a&password=***&x=1");

        let at_in_password = redact_url("postgres://u:p@ss@h/db");
        assert_eq!(at_in_password, "postgres://u:***@h/db");
    }

    #[test]
    fn urls_without_secrets_are_unchanged() {
        for url in [
            "sqlite:///var/lib/mimi/mimi.db",
            "postgres://postgres@127.0.0.1:5432/postgres",
            "sqlite::memory:",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn backend_follows_scheme() {
        assert_eq!(
            StoreConfig::new("sqlite:///x.db").backend().ok(),
            Some(BackendKind::Sqlite)
        );
        assert_eq!(
            StoreConfig::new("postgresql://h/db").backend().ok(),
            Some(BackendKind::Postgres)
        );
        assert!(StoreConfig::new("mysql://h/db").backend().is_err());
    }

    proptest::proptest! {
        #[test]
        fn redaction_never_shows_the_password(
            user in "[a-z]{1,8}",
            password in "[A-Z!$%~]{1,16}",
            host in "[a-z]{1,10}\\.example",
            query_password in "[A-Z]{1,16}",
        ) {
            let url = format!("postgres://{user}:{password}@{host}:5432/db?password={query_password}&a=b");
            // Uppercase and punctuation only appear in the URL through the secrets.
            let shown = redact_url(&url);
            let debug = format!("{:?}", StoreConfig::new(url));
            proptest::prop_assert!(debug.contains(&shown), "{}", debug);
            proptest::prop_assert!(!shown.contains(&password), "{}", shown);
            proptest::prop_assert!(!shown.contains(&query_password), "{}", shown);
            proptest::prop_assert!(shown.contains(&host), "{}", shown);
        }
    }
}
