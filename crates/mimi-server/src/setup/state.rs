//! What every handler and background task of one server shares.

use std::sync::{Arc, Mutex};

use mimi_client_api::auth::ReplayGuard;
use mimi_hub::{Hub, HubKeys, Room};
use mimi_proto::ProviderId;
use mimi_store::Store;

use crate::fanout::peer_client::PeerClient;
use crate::lanes::room_cache::RoomCache;
use crate::lanes::sequencer::Sequencer;
use crate::setup::config::Limits;
use crate::setup::metrics::Metrics;
use mimi_proto::Clock;

/// Rooms whose deserialized state stays in memory. A hot room then costs no
/// snapshot decode per event; the cap bounds memory (a 1000-member room's
/// state is a few hundred KB).
pub const ROOM_CACHE_CAPACITY: usize = 1024;

/// Shared server state. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(pub(crate) Arc<Inner>);

/// The shared state's fields (reached through [`AppState`]'s `Deref`; opaque
/// outside this crate).
#[derive(Debug)]
pub struct Inner {
    pub(crate) provider: ProviderId,
    pub(crate) store: Store,
    /// The hub engine's shared part: keys, policy envelope, crypto.
    pub(crate) hub: Hub,
    pub(crate) rooms: RoomCache<Room>,
    pub(crate) sequencer: Sequencer,
    pub(crate) peers: PeerClient,
    pub(crate) metrics: Metrics,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) limits: Limits,
    /// Our directory document, served at the well-known path.
    pub(crate) directory_json: String,
    /// Who may register clients through the client API.
    pub(crate) registration: RegistrationPolicy,
    /// Client-API request nonces seen recently (decisions CAPI-1).
    pub(crate) replay: Mutex<ReplayGuard>,
    /// Becomes `true` when the server shuts down: long-lived client-API
    /// answers (event streams, long polls) end so the drain can finish.
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    /// The mailbox cursor each client last acknowledged, to skip deletes that
    /// would find nothing (see `client_api::events`).
    pub(crate) acked: Mutex<std::collections::HashMap<mimi_proto::ClientId, u64>>,
    /// Consent policy for keyMaterial and the consent endpoints.
    pub(crate) consent: crate::fed::consent::ConsentSettings,
    /// Identifier queries: settings and the per-peer limiter.
    pub(crate) identifier: crate::fed::identifier::IdentifierService,
    /// KeyPackage claim limits and the claimed KeyPackages' lifetime
    /// (decisions KP-3, KP-6).
    pub(crate) key_packages: crate::fed::claim_limits::KeyPackageSettings,
    /// Claims counted per requester and target (decisions KP-3).
    pub(crate) claim_limits: crate::fed::claim_limits::ClaimLimits,
    /// proxyDownload: allowed asset hosts and the fetching client.
    pub(crate) assets: crate::fed::proxy::AssetProxy,
}

/// Registration as configured, with the token when one is required.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum RegistrationPolicy {
    Open,
    Token(String),
}

impl std::fmt::Debug for RegistrationPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.write_str(match self {
            Self::Open => "Open",
            Self::Token(_) => "Token(***)",
        })
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Our provider.
    pub fn provider(&self) -> &ProviderId {
        &self.0.provider
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The hub keys.
    pub fn keys(&self) -> &HubKeys {
        self.0.hub.keys()
    }

    /// The current time from the server's clock, ms since the UNIX epoch.
    pub fn now_ms(&self) -> u64 {
        self.0.clock.now_ms()
    }
}
