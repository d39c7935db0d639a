//! Building and running one server: configuration, keys, TLS and the
//! development PKI, the two listeners, the state every handler shares, and
//! the cross-cutting parts they all use (metrics, the HTTP error mapping;
//! the clock is `mimi_proto::Clock`, shared with the client).
//!
//! Nothing here knows a MIMI endpoint: [`server`] wires the routers of
//! [`crate::fed`], [`crate::client_api`] and [`crate::admin`] to the
//! listeners, and starts the fan-out worker.

pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod http_error;
pub mod hub_keys;
pub mod listener;
pub mod metrics;
pub mod pki;
pub mod server;
pub mod server_error;
pub(crate) mod state;
pub mod tls;
