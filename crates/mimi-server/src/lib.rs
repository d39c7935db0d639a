//! The MIMI server: federation over HTTPS with mutual TLS, the durable fan-out
//! worker, and the provider's own client API.
//!
//! Protocol logic lives in `mimi-hub`; this crate only loads state, calls it,
//! stores the result and moves bytes.
//!
//! # Layout
//! The tree follows the request paths; the modules are private and this
//! file re-exports the few items embedders use.
//! - `fed/`: the federation API other providers call over mutual TLS
//!   (directory, keyMaterial, update, submitMessage, groupInfo, notify, …),
//!   behind `fed/peer_auth.rs` and `fed/limits.rs`.
//! - `client_api/`: the provider client API (HTTPS, signed requests), plus
//!   `/metrics` and `/healthz` on the same listener; `provisioning.rs` holds
//!   the operations behind it and the admin API.
//! - `admin/`: the operator's admin API on the client listener, its two
//!   routers and one error type.
//! - `lanes/`: per-room ordered lanes running the hub and writing each result
//!   in one store transaction.
//! - `fanout/`: the outbox worker delivering to followers in order with
//!   retries, local mailboxes, and the client that calls peers by domain
//!   (the events themselves are `mimi_proto`'s `RawFanoutMessage`).
//! - `setup/`: [`start`] a whole server, [`Running::shutdown`] it; config,
//!   keys, TLS, PKI, listeners, shared state, metrics, and `http_error.rs`,
//!   where every HTTP status is chosen.

#![forbid(unsafe_code)]

mod admin;
mod client_api;
mod fanout;
mod fed;
mod lanes;
mod setup;

pub use admin::federation::stored_reports;
pub use client_api::provisioning::ProvisionError;
pub use fed::claim_limits::KeyPackageSettings;
pub use fed::consent::ConsentError;
pub use mimi_proto::{Clock, SystemClock};
pub use setup::config::{Config, FanoutSettings, Limits, LogFormat, Registration, TlsPaths};
#[doc(hidden)]
pub use setup::fuzzing;
pub use setup::listener::{PeerIdentity, serve_mtls};
pub use setup::metrics::Metrics;
pub use setup::pki::{PkiFiles, ProviderFiles, init as init_pki};
pub use setup::server::{Options, READY_PREFIX, Running, run_from_file, start};
pub use setup::server_error::ServerError;
pub use setup::state::AppState;
pub use setup::tls::TlsIdentity;
