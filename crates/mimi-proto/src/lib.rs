//! MIMI wire types: `mimi://` identifiers, every body of
//! draft-ietf-mimi-protocol-06 in TLS presentation language, and the room-state
//! components carried in the MLS `app_data_dictionary`.
//!
//! This crate does no I/O and holds no protocol logic. Decoding turns bytes into
//! typed values or a [`DecodeError`]; it never panics on input. MLS objects
//! inside MIMI bodies are OpenMLS types.
//!
//! # Layout
//! - [`id`]: typed identifiers.
//! - [`codec`]: decode/encode entry points, length caps, text, and the one
//!   TLS presentation language reader and writer behind every body and component.
//! - [`error`]: the one error enum of this layer.
//! - [`messages`]: the protocol bodies, one module per endpoint.
//! - [`components`]: room-state components (participant list, roles, policy…).
//! - [`directory`]: the JSON endpoint directory and percent-encoding.
//! - [`clock`]: the protocol's time source, shared by server and client.

#![forbid(unsafe_code)]

pub mod clock;
pub mod codec;
pub mod components;
pub mod directory;
pub mod error;
pub mod franking;
#[doc(hidden)]
pub mod fuzzing;
pub mod id;
pub mod messages;
pub mod mls_profile;

pub use clock::{Clock, SystemClock};
pub use codec::{MAX_MESSAGE_LEN, Utf8String, WireMessage};
pub use error::{DecodeError, EncodeError, IdError};
pub use id::{
    ClientId, GroupUri, MimiUri, ProviderId, PseudonymId, RoomId, TeamId, UriKind, UserId,
};
