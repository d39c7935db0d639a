//! The one error enum of the storage layer.
//!
//! `Display` never shows SQL text, connection strings or row contents: the server may log it and
//! map it to a status, but the peer only ever learns the family. The backend's own error stays
//! reachable through [`std::error::Error::source`] for operators' logs.

use std::fmt;

/// What a storage operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A backend failure: connection, I/O, timeout, migration, or a database error that is not
    /// one of the typed outcomes below. The detail is in `source()`, never in `Display`.
    #[error("storage backend error ({0})")]
    Backend(#[source] BackendError),
    /// The write lost a race or would break a uniqueness rule; see [`Conflict`].
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// A value read back from the database does not decode (for example an identifier that no
    /// longer parses). Names the column family, never the value.
    #[error("stored data is corrupt: {0}")]
    Corrupt(&'static str),
    /// No usable KeyPackage is left (all reserved or expired).
    #[error("key material exhausted")]
    Exhausted,
    /// The caller passed a value the store cannot hold (for example a number above `i64::MAX`).
    #[error("invalid input: {0}")]
    InvalidInput(&'static str),
    /// The record does not exist.
    #[error("not found: {0}")]
    NotFound(Record),
}

/// What conflicted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conflict {
    /// The record already exists (unique key taken).
    AlreadyExists(Record),
    /// The database refused the transaction because of concurrent activity (PostgreSQL
    /// serialization failure or deadlock, SQLite busy). Nothing was written; retry.
    Busy,
    /// An outbox lease expired and another worker claimed the queue; the batch must not be
    /// acknowledged by this worker.
    LeaseLost,
    /// The room moved on since the state the caller ran its hub step against: the write is
    /// refused (draft §7.1 step 3: one commit per epoch). `expected` is what the caller based
    /// its work on, `actual` what the locked row holds.
    Stale {
        /// The version the caller's event was computed against.
        expected: crate::RoomVersion,
        /// The version in the database.
        actual: crate::RoomVersion,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyExists(record) => write!(f, "{record} already exists"),
            Self::Busy => f.write_str("database busy, retry"),
            Self::LeaseLost => f.write_str("outbox lease lost"),
            Self::Stale { expected, actual } => write!(
                f,
                "room is at epoch {} revision {}, event was computed for epoch {} revision {}",
                actual.epoch, actual.revision, expected.epoch, expected.revision
            ),
        }
    }
}

/// The kind of record an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// A client (device).
    Client,
    /// A consent scope.
    Consent,
    /// A KeyPackage.
    KeyPackage,
    /// A queued proposal.
    Proposal,
    /// A room.
    Room,
    /// A user.
    User,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Client => "client",
            Self::Consent => "consent scope",
            Self::KeyPackage => "key package",
            Self::Proposal => "proposal",
            Self::Room => "room",
            Self::User => "user",
        })
    }
}

/// An opaque backend failure. `Display` gives only the [`BackendErrorKind`].
pub struct BackendError {
    kind: BackendErrorKind,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl BackendError {
    /// Which family of failure this is.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug is for operators' logs; it may show the database's message (never a password:
        // sqlx does not echo connection strings in its errors).
        f.debug_struct("BackendError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Families of backend failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// The configuration (URL, options) was rejected.
    Configuration,
    /// Could not connect, or the connection broke.
    Connection,
    /// The database returned an error.
    Database,
    /// Applying migrations failed.
    Migration,
    /// No connection became free in time.
    Timeout,
    /// Anything else.
    Other,
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Configuration => "configuration",
            Self::Connection => "connection",
            Self::Database => "database",
            Self::Migration => "migration",
            Self::Timeout => "timeout",
            Self::Other => "other",
        })
    }
}

impl StoreError {
    /// A backend error of `kind` wrapping `source`.
    pub(crate) fn backend(
        kind: BackendErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Backend(BackendError {
            kind,
            source: source.into(),
        })
    }

    /// Maps a sqlx error, turning a unique violation into `AlreadyExists(record)`.
    pub(crate) fn unique(err: sqlx::Error, record: Record) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return Self::Conflict(Conflict::AlreadyExists(record));
        }
        err.into()
    }

    /// Maps the error of an insert: a unique violation becomes `AlreadyExists(record)`, a
    /// foreign-key violation `NotFound(parent)` (the row the new record points at is missing).
    pub(crate) fn insert(err: sqlx::Error, record: Record, parent: Record) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_foreign_key_violation()
        {
            return Self::NotFound(parent);
        }
        Self::unique(err, record)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        let kind = match &err {
            sqlx::Error::Configuration(_) => BackendErrorKind::Configuration,
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => {
                BackendErrorKind::Connection
            }
            sqlx::Error::PoolTimedOut => BackendErrorKind::Timeout,
            sqlx::Error::Migrate(_) => BackendErrorKind::Migration,
            sqlx::Error::Database(db) => {
                if is_busy(db.code().as_deref()) {
                    return Self::Conflict(Conflict::Busy);
                }
                BackendErrorKind::Database
            }
            _ => BackendErrorKind::Other,
        };
        Self::backend(kind, err)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::backend(BackendErrorKind::Migration, err)
    }
}

/// Whether a database error code means "concurrent activity, retry": PostgreSQL
/// `serialization_failure` (40001), `deadlock_detected` (40P01), `lock_not_available` (55P03);
/// SQLite `SQLITE_BUSY` (5, and extended 261/517/773) and `SQLITE_LOCKED` (6, 262).
fn is_busy(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("40001" | "40P01" | "55P03" | "5" | "261" | "517" | "773" | "6" | "262")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_backend_detail() {
        let err = StoreError::backend(
            BackendErrorKind::Database,
            "syntax error at or near \"SELECT secret FROM users\"",
        );
        let shown = err.to_string();
        assert_eq!(shown, "storage backend error (database)");
        assert!(!shown.contains("SELECT"));
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("database"));
    }

    #[test]
    fn busy_codes_are_retryable_others_are_not() {
        assert!(is_busy(Some("40001")));
        assert!(is_busy(Some("5")));
        assert!(!is_busy(Some("23505")));
        assert!(!is_busy(None));
    }
}
