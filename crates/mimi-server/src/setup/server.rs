//! Starting and stopping a whole server: store, keys, listeners, fan-out worker.
//!
//! [`start`] binds both listeners before returning, so a caller (a test, the
//! `mimi server` command) can print or read the bound addresses and know the
//! server is reachable. [`Running::shutdown`] stops accepting, drains requests
//! in flight, lets the fan-out worker record the outcome of its POSTs in
//! flight, and closes the store.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mimi_hub::Hub;
use mimi_policy::PolicyEnvelope;
use mimi_proto::directory::{Directory, Endpoint};
use mimi_store::{Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fanout::peer_client::PeerClient;
use crate::fanout::peers::PeerMap;
use crate::fanout::worker::{RetryPolicy, Worker};
use crate::lanes::room_cache::RoomCache;
use crate::lanes::sequencer::Sequencer;
use crate::setup::config::Config;
use crate::setup::hub_keys;
use crate::setup::metrics::Metrics;
use crate::setup::server_error::ServerError;
use crate::setup::state::{AppState, Inner, ROOM_CACHE_CAPACITY, RegistrationPolicy};
use crate::setup::tls::TlsIdentity;
use crate::{client_api, fed};
use mimi_proto::{Clock, SystemClock};

/// What a server is started with besides its configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where acceptance timestamps come from.
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
        }
    }
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// Where the federation listener is bound.
    pub federation_addr: SocketAddr,
    /// Where the client-API listener is bound.
    pub client_addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    federation: JoinHandle<std::io::Result<()>>,
    client_api: JoinHandle<std::io::Result<()>>,
    maintenance: JoinHandle<()>,
    worker: Worker,
}

impl Running {
    /// The shared state (store, metrics…), for embedding and benchmarks.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops gracefully: no new connections, requests in flight drained, the
    /// fan-out worker's POSTs in flight recorded, the store closed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for (name, task) in [
            ("federation", self.federation),
            ("client API", self.client_api),
        ] {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(listener = name, error = %e, "listener failed"),
                Err(e) => tracing::error!(listener = name, error = %e, "listener task failed"),
            }
        }
        let _ = self.maintenance.await;
        self.worker.shutdown().await;
        self.state.store.close().await;
        tracing::info!("server stopped");
    }
}

/// Starts a server for `config`.
///
/// # Errors
/// [`ServerError`] if the store, keys, TLS material or listeners cannot be set up.
pub async fn start(config: &Config, options: Options) -> Result<Running, ServerError> {
    let provider = config.provider();
    std::fs::create_dir_all(&config.data_dir).map_err(|e| ServerError::io(&config.data_dir, e))?;
    let store = Store::open(&StoreConfig::new(config.storage_url()))
        .await
        .map_err(|e| ServerError::Config(format!("storage: {e}")))?;
    let keys = hub_keys::load_or_create(&config.data_dir, &provider)?;
    let identity = TlsIdentity::load(&config.tls.cert, &config.tls.key, &config.tls.ca)?;
    let (tls, peer_check) = identity.server_config_reporting()?;
    let peers = PeerClient::new(
        &provider,
        &identity,
        Arc::new(PeerMap::new(&config.peers)),
        config.limits.max_body_bytes,
    )?;
    let client_tls = identity.server_config_without_client_auth()?;
    let registration = match (config.registration, &config.registration_token) {
        (crate::setup::config::Registration::Token, Some(token)) => {
            RegistrationPolicy::Token(token.clone())
        }
        (crate::setup::config::Registration::Token, None) => {
            return Err(ServerError::Config(
                "registration = \"token\" needs a registration_token".into(),
            ));
        }
        (crate::setup::config::Registration::Open, _) => {
            tracing::warn!(
                "client registration is open: anyone reaching the client listener may register clients"
            );
            RegistrationPolicy::Open
        }
    };

    let federation_listener = bind(config.listen).await?;
    let client_listener = bind(config.client_listen).await?;
    let federation_addr = local_addr(&federation_listener)?;
    let client_addr = local_addr(&client_listener)?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("https://{}:{}", provider.domain(), federation_addr.port()));
    let directory_json = directory(&public_url)?.to_json();

    let (stop, stopped) = watch::channel(false);
    let state = AppState(Arc::new(Inner {
        provider,
        store,
        hub: Hub::new(keys, PolicyEnvelope::permissive()),
        rooms: RoomCache::new(ROOM_CACHE_CAPACITY),
        sequencer: Sequencer::default(),
        peers,
        metrics: Metrics::default(),
        clock: options.clock,
        limits: config.limits,
        directory_json,
        registration,
        replay: std::sync::Mutex::new(mimi_client_api::auth::ReplayGuard::new(
            client_api::REPLAY_CAPACITY,
        )),
        shutdown: stopped.clone(),
        acked: std::sync::Mutex::default(),
        consent: config.consent,
        identifier: fed::identifier::IdentifierService::new(&config.identifier_query),
        key_packages: config.key_packages,
        claim_limits: fed::claim_limits::ClaimLimits::new(&config.key_packages),
        assets: fed::proxy::AssetProxy::new(&config.asset_hosts, &identity)?,
    }));

    let federation = tokio::spawn(crate::setup::listener::serve_mtls_checked(
        federation_listener,
        tls,
        peer_check,
        fed::router(state.clone()),
        stop_signal(stopped.clone()),
    ));
    let client_api = tokio::spawn(crate::setup::listener::serve_tls(
        client_listener,
        client_tls,
        client_api::router(state.clone(), config.admin_token.clone()),
        stop_signal(stopped),
    ));
    let maintenance = tokio::spawn(maintain(state.clone(), stop_signal(stop.subscribe())));
    let worker = Worker::spawn(
        state.clone(),
        RetryPolicy {
            initial: Duration::from_millis(config.fanout.retry_initial_ms.max(1)),
            max: Duration::from_millis(config.fanout.retry_max_ms.max(1)),
        },
        Duration::from_millis(config.fanout.linger_ms),
    );
    tracing::info!(%federation_addr, %client_addr, %public_url, domain = %state.provider(), "server started");
    Ok(Running {
        federation_addr,
        client_addr,
        state,
        stop,
        federation,
        client_api,
        maintenance,
        worker,
    })
}

/// The line printed on stdout once both listeners are bound; tests and
/// scripts wait for it instead of sleeping.
pub const READY_PREFIX: &str = "mimi-server ready";

/// Runs a server from a configuration file (plus `MIMI_*` environment
/// overrides) until SIGINT or SIGTERM: what `mimi server` does.
///
/// Prints `mimi-server ready domain=<d> federation=<addr> client=<addr>` once
/// listening. Exit status 0 after a clean shutdown, 78 (EX_CONFIG) when the
/// configuration or setup fails, 70 (EX_SOFTWARE) if the runtime fails.
pub fn run_from_file(path: &std::path::Path) -> std::process::ExitCode {
    use std::io::Write as _;
    use std::process::ExitCode;

    let config = match Config::load(path, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mimi server: {e}");
            return ExitCode::from(78);
        }
    };
    init_tracing(config.log_format);
    // Our own TLS configs name their provider; this covers any library that
    // builds one from the process default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mimi server: runtime: {e}");
            return ExitCode::from(70);
        }
    };
    runtime.block_on(async {
        let running = match start(&config, Options::default()).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mimi server: {e}");
                return ExitCode::from(78);
            }
        };
        println!(
            "{READY_PREFIX} domain={} federation={} client={}",
            config.domain, running.federation_addr, running.client_addr
        );
        let _ = std::io::stdout().flush();
        wait_for_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Installs the global `tracing` subscriber: human-readable or JSON lines on
/// stderr, filtered by `RUST_LOG` (default `info`). A second call is a no-op.
/// Text is coloured only when stderr is a terminal: a log file or a pipe
/// gets plain lines, which `grep` and log shippers read as written.
pub fn init_tracing(format: crate::setup::config::LogFormat) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::setup::config::LogFormat::Json => builder.json().try_init(),
        crate::setup::config::LogFormat::Text => builder.try_init(),
    };
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// How often expired bookkeeping is removed.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(600);

/// How long a received notify body's hash is remembered for dedup (the
/// "rolling hash list" of protocol-06 §5.5). A hub retries within its backoff
/// cap while it runs; a week also covers a hub that was down for days.
const INBOX_DEDUP_WINDOW_MS: u64 = 7 * 24 * 3600 * 1000;

/// Periodically forgets old notify hashes, expired KeyPackages (and claimed
/// ones past `[key_packages] claimed_ttl_secs`, decisions KP-6) and expired
/// KeyPackageRef routes, until `stop`.
async fn maintain(state: AppState, stop: impl std::future::Future<Output = ()>) {
    use mimi_store::Timestamp;
    tokio::pin!(stop);
    loop {
        let now = state.now_ms();
        let store = &state.store;
        let pruned = store
            .prune_inbox(Timestamp(now.saturating_sub(INBOX_DEDUP_WINDOW_MS)))
            .await;
        let claimed_before = now.saturating_sub(state.key_packages.claimed_ttl_ms());
        let packages = store
            .purge_expired_key_packages(Timestamp(now), Timestamp(claimed_before))
            .await;
        let routes = store.purge_key_package_routes(Timestamp(now)).await;
        for (what, result) in [
            ("inbox", pruned),
            ("key packages", packages),
            ("routes", routes),
        ] {
            match result {
                Ok(0) => {}
                Ok(n) => tracing::info!(what, removed = n, "maintenance"),
                Err(e) => tracing::warn!(what, error = %e, "maintenance failed"),
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(MAINTENANCE_INTERVAL) => {}
        }
    }
}

/// Our directory: every endpoint we implement under `public_url`.
fn directory(public_url: &str) -> Result<Directory, ServerError> {
    let mut directory = Directory::for_base_url(public_url)
        .map_err(|e| ServerError::Config(format!("public_url {public_url:?}: {e}")))?;
    // Advertise only what we serve: a peer must not discover an endpoint that
    // answers 501.
    for endpoint in Endpoint::ALL {
        if !fed::IMPLEMENTED.contains(&endpoint) {
            match endpoint {
                Endpoint::RequestConsent => directory.request_consent = None,
                Endpoint::UpdateConsent => directory.update_consent = None,
                Endpoint::IdentifierQuery => directory.identifier_query = None,
                Endpoint::ReportAbuse => directory.report_abuse = None,
                Endpoint::ProxyDownload => directory.proxy_download = None,
                _ => {}
            }
        }
    }
    Ok(directory)
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| ServerError::Config(format!("bind {addr}: {e}")))
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, ServerError> {
    listener
        .local_addr()
        .map_err(|e| ServerError::Config(format!("listener address: {e}")))
}

async fn stop_signal(mut stopped: watch::Receiver<bool>) {
    // Resolves on `true`, or when the sender is gone (nothing can stop us
    // more explicitly than dropping the handle).
    let _ = stopped.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_lists_only_implemented_endpoints() {
        let d = directory("https://a.example:8443").unwrap();
        for e in Endpoint::ALL {
            assert_eq!(
                d.template(e).is_some(),
                fed::IMPLEMENTED.contains(&e),
                "{e}"
            );
        }
        assert_eq!(
            d.template(Endpoint::Notify).unwrap().as_str(),
            "https://a.example:8443/v1/notify/{roomId}"
        );
    }
}
