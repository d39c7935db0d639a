//! The session layer's one error enum. Its families are what a caller (the
//! CLI, the demo) must tell apart: the other side said no
//! ([`SessionError::Refused`]), the other side could not be reached or failed
//! ([`SessionError::Network`]), the caller asked for something that does not
//! exist or does not parse ([`SessionError::BadInput`]), or the local client
//! state is in the way ([`SessionError::State`]).

use mimi_client::ClientError;

/// What went wrong in a session operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Refused by room policy, by the hub, or by our provider. `code` is the
    /// MIMI response code (`notAllowed`, `wrongEpoch`, `notAuthorized`, …),
    /// `policy` for a local room-policy check, or the client API's error code
    /// (`forbidden`, `unauthenticated`, …).
    #[error("refused ({code}): {message}")]
    Refused {
        /// The machine-readable code.
        code: String,
        /// What was refused, for humans.
        message: String,
    },
    /// The provider or the room's hub could not be reached, the TLS handshake
    /// failed, or the server failed (5xx, 502 upstream, 503 overloaded).
    #[error("network: {0}")]
    Network(String),
    /// An argument does not parse, or names a room, user or message that does
    /// not exist.
    #[error("bad input: {0}")]
    BadInput(String),
    /// The local client state does not allow the operation (no home, not
    /// registered, a commit pending, storage failure, a protocol object that
    /// does not verify).
    #[error("{0}")]
    State(String),
}

impl SessionError {
    /// A refusal with a code and message.
    pub fn refused(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Refused {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The refusal code, if this is a refusal.
    pub fn refusal_code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl From<mimi_mls::Error> for SessionError {
    fn from(e: mimi_mls::Error) -> Self {
        ClientError::from(e).into()
    }
}

impl From<ClientError> for SessionError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Denied(r) => Self::refused("policy", r.to_string()),
            ClientError::UnknownRoom(room) => Self::BadInput(format!("unknown room {room}")),
            ClientError::NoUser => Self::BadInput(e.to_string()),
            ClientError::Content(c) => Self::BadInput(format!("content: {c}")),
            other => Self::State(other.to_string()),
        }
    }
}

impl From<mimi_proto::DecodeError> for SessionError {
    fn from(e: mimi_proto::DecodeError) -> Self {
        Self::State(format!("the server's answer does not decode: {e}"))
    }
}

impl From<mimi_content::Error> for SessionError {
    fn from(e: mimi_content::Error) -> Self {
        Self::BadInput(format!("content: {e}"))
    }
}
