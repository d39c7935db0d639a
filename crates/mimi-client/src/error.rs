//! The client library's one error enum, in families: what the caller asked for
//! cannot be done now ([`ClientError::State`], [`ClientError::UnknownRoom`]),
//! room policy refuses it ([`ClientError::Denied`]), a peer sent something
//! malformed or invalid ([`ClientError::Malformed`], [`ClientError::Mls`]),
//! local storage failed ([`ClientError::Storage`]), or a bug ([`ClientError::Internal`]).

use mimi_proto::RoomId;

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
    /// OpenMLS refused an operation or a received message.
    #[error("MLS: {0}")]
    Mls(String),
    /// A message or state could not be encoded.
    #[error("encoding: {0}")]
    Encode(String),
    /// The client holds no room with this id.
    #[error("unknown room {0}")]
    UnknownRoom(RoomId),
    /// Room policy refuses the change: our own operation (checked before
    /// anything is sent), or a peer's commit or proposal the hub let through
    /// (a malicious or buggy hub; the client does not apply it).
    #[error("refused by room policy: {0}")]
    Denied(Box<mimi_policy::Rejection>),
    /// Received bytes or a received object is not what MIMI allows.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// The operation does not fit the room's current state (e.g. a commit is
    /// already pending, the user is not listed, the client was removed).
    #[error("not possible now: {0}")]
    State(&'static str),
    /// Message content could not be built or decoded.
    #[error("content: {0}")]
    Content(#[from] mimi_content::Error),
    /// The local database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// A bug or broken invariant inside the client; never a peer's fault.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl From<mimi_policy::Rejection> for ClientError {
    fn from(r: mimi_policy::Rejection) -> Self {
        Self::Denied(Box::new(r))
    }
}

impl From<mimi_mls::Error> for ClientError {
    /// A group, sender or proposal the bridge could not read: for a client,
    /// an identity that is not a mimi one is malformed input.
    fn from(e: mimi_mls::Error) -> Self {
        use mimi_mls::Error as E;
        match e {
            E::Malformed(what) | E::NotMimiIdentity(what) => Self::Malformed(what),
            E::Denied(denial) => Self::Denied(Box::new(mimi_policy::Rejection {
                denial: *denial,
                proposal: None,
            })),
            E::NoUser => Self::NoUser,
            E::Crypto(e) => Self::Crypto(e),
            E::Mls(e) => Self::Mls(e),
            E::Internal(what) => Self::Internal(what),
            _ => Self::Internal("unknown bridge error"),
        }
    }
}

impl ClientError {
    /// True when room policy refused the operation (the CLI maps this to its
    /// own exit code, apart from network and input errors).
    pub fn is_policy(&self) -> bool {
        matches!(self, Self::Denied(_))
    }
}
