//! The MIMI server: federation over HTTPS with mutual TLS, the durable fan-out
//! worker, and the provider's own client API.
//!
//! Protocol logic lives in `mimi-hub`; this crate only loads state, calls it,
//! stores the result and moves bytes.

#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod error;
pub mod listener;
pub mod pki;
pub mod tls;

pub use config::Config;
pub use error::ServerError;
pub use listener::{PeerIdentity, serve_mtls};
pub use tls::TlsIdentity;
