//! The bridge's one error enum. The hub's and the client's errors convert from
//! it, each into its own families (the hub answers a peer with a protocol
//! code, the client reports to its user).

/// Why an OpenMLS object could not be read as, or built for, a MIMI room.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bytes or an MLS object are not what MIMI allows (a missing room-state
    /// dictionary, a component that does not decode, an empty leaf).
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// A credential is not a basic credential naming a canonical `mimi://`
    /// client (or, for an external sender, user) URI (decision ID-3). The hub
    /// refuses such a change as `notAllowed`; a client treats it as malformed.
    #[error("not a mimi identity: {0}")]
    NotMimiIdentity(&'static str),
    /// The committed room state is inconsistent (e.g. a user listed twice).
    #[error("room state refused: {0}")]
    Denied(Box<mimi_policy::Denial>),
    /// A client id names no user (`mimi://d/x` one-segment form).
    #[error("client id must be of the form mimi://<domain>/d/<user>/<device>")]
    NoUser,
    /// Key generation or another crypto primitive failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// OpenMLS refused to build or stage a group object.
    #[error("MLS: {0}")]
    Mls(String),
    /// A bug or broken invariant; never a peer's fault.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<mimi_proto::DecodeError> for Error {
    /// A commit that does not read back ([`mimi_proto::messages::parse_commit`]).
    fn from(e: mimi_proto::DecodeError) -> Self {
        match e {
            mimi_proto::DecodeError::Invalid { reason, .. } => Self::Malformed(reason),
            _ => Self::Malformed("commit does not parse"),
        }
    }
}
