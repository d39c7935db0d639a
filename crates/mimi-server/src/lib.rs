//! The MIMI server: federation over HTTPS with mutual TLS, the durable fan-out
//! worker, and the provider's own client API.
//!
//! Protocol logic lives in `mimi-hub`; this crate only loads state, calls it,
//! stores the result and moves bytes.
//!
//! # Layout
//! The tree follows the request paths:
//! - [`fed`]: the federation API other providers call over mutual TLS
//!   (directory, keyMaterial, update, submitMessage, groupInfo, notify, …),
//!   behind [`fed::peer_auth`] and [`fed::limits`].
//! - [`client_api`]: the provider client API (HTTPS, signed requests), plus
//!   `/metrics` and `/healthz` on the same listener;
//!   [`client_api::provisioning`]: the operations behind it, for embedders.
//! - [`admin`]: the operator's admin API on the client listener.
//! - [`lanes`]: per-room ordered lanes running the hub and writing each
//!   result in one store transaction.
//! - [`fanout`]: the outbox worker delivering to followers in order with
//!   retries, the `FanoutMessage` wire form, local mailboxes, and the client
//!   that calls peers by domain.
//! - [`setup`]: [`start`] a whole server, [`Running::shutdown`] it; config,
//!   keys, TLS, PKI, listeners, shared state, metrics.

#![forbid(unsafe_code)]

pub mod admin;
pub mod client_api;
pub mod fanout;
pub mod fed;
pub mod lanes;
pub mod setup;

#[doc(hidden)]
pub use setup::fuzzing;
pub use setup::{config, pki, server};

pub use setup::clock::{Clock, SystemClock};
pub use setup::config::Config;
pub use setup::error::ServerError;
pub use setup::http_error::ApiError;
pub use setup::listener::{PeerIdentity, serve_mtls, serve_mtls_checked};
pub use setup::server::{Options, Running, start};
pub use setup::state::AppState;
pub use setup::tls::TlsIdentity;
