//! The client library's error type.

/// What went wrong in a client operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The client id names no user (`mimi://d/x` one-segment form).
    #[error("client id must be of the form mimi://<domain>/d/<user>/<device>")]
    NoUser,
    /// Key generation or another crypto primitive failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// OpenMLS refused an operation.
    #[error("MLS: {0}")]
    Mls(String),
    /// A message or state could not be encoded.
    #[error("encoding: {0}")]
    Encode(String),
}
