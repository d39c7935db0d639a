//! The provider client API: how a provider's own clients talk to their
//! server (issue #9). MIMI leaves this link to each provider (architecture
//! draft §2); this crate is mimi's contract for it, shared by `mimi-server`
//! (which serves it) and client sessions (which call it), so the two cannot
//! drift apart.
//!
//! - [`routes`]: every path, with what it takes and answers.
//! - [`types`]: the JSON bodies. MLS and MIMI objects travel as standard
//!   base64 of their TLS encoding; MIMI protocol requests relayed to a hub
//!   travel as raw bytes (`application/octet-stream`).
//! - [`auth`]: signed requests. A client proves possession of its MLS signature
//!   key when it registers, and signs every later request with it.
//!
//! The API is served over HTTPS with the server's certificate (no client
//! certificate: the client's identity is its signature key).

#![forbid(unsafe_code)]

pub mod auth;
pub mod routes;
pub mod types;

pub use auth::{AuthError, AuthHeader, RegisterProof};
pub use types::*;
