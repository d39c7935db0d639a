//! The MIMI server: federation over HTTPS with mutual TLS, the durable fan-out
//! worker, and the provider's own client API.
//!
//! Protocol logic lives in `mimi-hub`; this crate only loads state, calls it,
//! stores the result and moves bytes.
//!
//! # Layout
//! - [`server`]: [`start`] a whole server, [`Running::shutdown`] it.
//! - [`fed`]: the federation endpoints (directory, keyMaterial, update,
//!   submitMessage, groupInfo, notify) behind [`auth`] and [`fed::limits`].
//! - `sequencer` + `hub_steps`: per-room ordered lanes running the hub and
//!   writing each result in one store transaction.
//! - [`fanout_worker`]: delivers the outbox to followers, in order, with retries.
//! - [`peer_client`] + [`peers`]: calling peers by domain, their directories.
//! - [`client_api`]: the provider client API (HTTPS, signed requests), plus
//!   `/metrics`, `/healthz` and the admin API on the same listener;
//!   [`provisioning`]: the operations behind it, for embedders.
//! - `local`: which of our clients get a room's events (room membership in
//!   the store, shared by every instance).
//! - [`pki`], [`tls`], [`listener`], [`config`]: setup.

#![forbid(unsafe_code)]

mod api_error;
pub mod auth;
pub mod client_api;
pub mod clock;
pub mod config;
pub mod error;
pub mod fanout_wire;
pub mod fanout_worker;
pub mod fed;
#[doc(hidden)]
pub mod fuzzing;
pub mod hub_keys;
mod hub_steps;
pub mod listener;
mod local;
pub mod metrics;
pub mod peer_client;
pub mod peers;
pub mod pki;
pub mod provisioning;
pub mod room_cache;
mod sequencer;
pub mod server;
mod state;
pub mod tls;

pub use api_error::ApiError;
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use error::ServerError;
pub use listener::{PeerIdentity, serve_mtls, serve_mtls_checked};
pub use server::{Options, Running, start};
pub use state::AppState;
pub use tls::TlsIdentity;
