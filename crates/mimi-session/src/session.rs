//! A [`Session`]: a persistent [`Client`] and the transport to its provider,
//! opened from (or registered into) a home directory; registration,
//! KeyPackages and the event sync live here, room operations in `rooms` and
//! `send`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mimi_client::{Client, RoomEvent};
use mimi_client_api::{
    EventsPage, KeyPackageCount, KeyPackagesUpload, RegisterProof, RegisterRequest, routes,
};
use mimi_proto::messages::RawFanoutMessage;
use mimi_proto::{ClientId, WireMessage as _};
use openmls::prelude::tls_codec::Serialize as _;
use openmls_basic_credential::SignatureKeyPair;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::config::SessionConfig;
use crate::error::SessionError;
use crate::transport::{Body, Transport, unix_now};

/// Events asked for per page.
const PAGE_WAIT_SLACK: Duration = Duration::from_secs(10);

/// What registering needs.
#[derive(Debug, Clone)]
pub struct RegisterOptions {
    /// The new client's URI (`mimi://<domain>/d/<user>/<device>`).
    pub client: ClientId,
    /// The provider's client API, `https://<domain>:<port>`.
    pub server: String,
    /// The CA the server certificate chains to.
    pub ca: PathBuf,
    /// Connect here instead of resolving the server's host.
    pub connect: Option<std::net::SocketAddr>,
    /// The provider's registration token, if it requires one.
    pub token: Option<String>,
    /// KeyPackages to upload.
    pub key_packages: usize,
}

/// What one [`Session::sync`] did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Events fetched.
    pub fetched: usize,
    /// What processing them did, in order.
    pub events: Vec<RoomEvent>,
    /// Events that could not be processed and were skipped: their cursor and
    /// why (a message of an epoch we never had, a malformed payload).
    pub skipped: Vec<(u64, String)>,
    /// KeyPackages uploaded because the stock ran low.
    pub refilled: usize,
}

/// A client bound to its provider.
#[derive(Debug)]
pub struct Session {
    home: PathBuf,
    config: SessionConfig,
    pub(crate) client: Client,
    pub(crate) transport: Transport,
}

impl Session {
    /// Creates `home` (if needed), a new client in it, registers the client
    /// with its provider and uploads KeyPackages. A home whose earlier
    /// registration did not complete (client database, no `session.toml`) is
    /// resumed with the same key, which the provider accepts again.
    ///
    /// # Errors
    /// [`SessionError::State`] if `home` holds a registered client already;
    /// the transport's errors; [`SessionError::Refused`] if the provider
    /// refuses the registration.
    pub fn register(home: &Path, options: RegisterOptions) -> Result<Self, SessionError> {
        if home.join(crate::config::SESSION_FILE).exists() {
            return Err(SessionError::State(format!(
                "{} holds a registered client already",
                home.display()
            )));
        }
        std::fs::create_dir_all(home)
            .map_err(|e| SessionError::State(format!("creating {}: {e}", home.display())))?;
        let client = if home.join(mimi_client::DATABASE_FILE).exists() {
            let client = Client::open(home)?;
            if client.client_id() != &options.client {
                return Err(SessionError::State(format!(
                    "{} holds the unregistered client {}",
                    home.display(),
                    client.client_id()
                )));
            }
            client
        } else {
            Client::create(home, options.client.clone())?
        };
        let config = SessionConfig {
            client: options.client.as_str().to_owned(),
            server: options.server.clone(),
            ca: SessionConfig::absolute_ca(&options.ca),
            connect: options.connect,
            key_packages: crate::config::KeyPackageStock::default(),
        };
        let transport = Transport::new(&config)?;
        let mut session = Self {
            home: home.to_path_buf(),
            config,
            client,
            transport,
        };
        session.register_with_provider(options.token)?;
        session.upload_key_packages(options.key_packages, true)?;
        session.config.save(home)?;
        Ok(session)
    }

    /// Opens the registered client in `home`.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] if `home` holds no registered client;
    /// [`SessionError::State`] if its files are unreadable.
    pub fn open(home: &Path) -> Result<Self, SessionError> {
        let config = SessionConfig::load(home)?;
        let client = Client::open(home)?;
        if client.client_id().as_str() != config.client {
            return Err(SessionError::State(format!(
                "{}: session.toml names {} but the database holds {}",
                home.display(),
                config.client,
                client.client_id()
            )));
        }
        let transport = Transport::new(&config)?;
        Ok(Self {
            home: home.to_path_buf(),
            config,
            client,
            transport,
        })
    }

    /// The client library state (rooms, history, identity).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The connection settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        self.client.client_id()
    }

    /// The domain of our provider.
    pub fn domain(&self) -> &str {
        self.client.user().domain()
    }

    fn register_with_provider(&mut self, token: Option<String>) -> Result<(), SessionError> {
        let identity = self.client.identity();
        let cwk = identity.credential_with_key();
        let credential = cwk
            .credential
            .tls_serialize_detached()
            .map_err(|e| SessionError::State(format!("encoding the credential: {e}")))?;
        let key = cwk.signature_key.as_slice().to_vec();
        let timestamp = unix_now();
        let client = identity.client().as_str().to_owned();
        let proof = RegisterProof::sign(identity.signer(), &client, &credential, &key, timestamp)
            .map_err(|e| SessionError::State(format!("signing the registration: {e}")))?;
        let request = RegisterRequest {
            client,
            credential: credential.into(),
            signature_key: key.into(),
            timestamp,
            proof: proof.into(),
            token,
        };
        self.transport.call(
            None::<(&SignatureKeyPair, &str)>,
            Method::POST,
            routes::REGISTER,
            Body::Json(json(&request)?),
            None,
        )?;
        Ok(())
    }

    /// Sends a signed request and returns the 2xx body.
    pub(crate) fn call(
        &self,
        method: Method,
        path: &str,
        body: Body,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, SessionError> {
        let identity = self.client.identity();
        self.transport.call(
            Some((identity.signer(), identity.client().as_str())),
            method,
            path,
            body,
            timeout,
        )
    }

    /// A signed request answered with JSON.
    pub(crate) fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Body,
        timeout: Option<Duration>,
    ) -> Result<T, SessionError> {
        let bytes = self.call(method, path, body, timeout)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            SessionError::State(format!("the server's answer to {path} does not parse: {e}"))
        })
    }

    /// Creates and uploads `count` KeyPackages, and a last-resort one when
    /// `last_resort` (decisions KP-4); returns the provider's stock after.
    ///
    /// # Errors
    /// The transport's errors; [`SessionError::State`] if they cannot be made.
    pub fn upload_key_packages(
        &mut self,
        count: usize,
        last_resort: bool,
    ) -> Result<KeyPackageCount, SessionError> {
        let mut made = self.client.key_packages(count)?;
        if last_resort {
            made.push(self.client.last_resort_key_package()?);
        }
        if made.is_empty() {
            return self.key_package_stock();
        }
        let key_packages = made
            .iter()
            .map(|kp| kp.tls_serialize_detached().map(Into::into))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SessionError::State(format!("encoding a KeyPackage: {e}")))?;
        self.call_json(
            Method::POST,
            routes::KEY_PACKAGES,
            Body::Json(json(&KeyPackagesUpload { key_packages })?),
            None,
        )
    }

    /// Our KeyPackages on the provider: how many others can still claim, and
    /// whether a last-resort one is held.
    ///
    /// # Errors
    /// The transport's errors.
    pub fn key_package_stock(&self) -> Result<KeyPackageCount, SessionError> {
        self.call_json(Method::GET, routes::KEY_PACKAGES, Body::Empty, None)
    }

    /// How many of our KeyPackages the provider still holds (not counting
    /// the last-resort one).
    ///
    /// # Errors
    /// The transport's errors.
    pub fn key_packages_left(&self) -> Result<u64, SessionError> {
        Ok(self.key_package_stock()?.remaining)
    }

    /// The stock this home keeps (`session.toml`, decisions KP-5).
    pub fn key_package_settings(&self) -> crate::config::KeyPackageStock {
        self.config.key_packages
    }

    /// Tops the provider's stock of our KeyPackages up to the configured
    /// stock when fewer than its `low` mark are left, and uploads a
    /// last-resort KeyPackage when the provider holds none (decisions KP-5);
    /// returns how many were uploaded.
    ///
    /// # Errors
    /// The transport's errors.
    pub fn refill_key_packages(&mut self) -> Result<usize, SessionError> {
        let wanted = self.config.key_packages;
        let stock = self.key_package_stock()?;
        let count = if stock.remaining < wanted.low {
            wanted
                .stock
                .saturating_sub(usize::try_from(stock.remaining).unwrap_or(usize::MAX))
        } else {
            0
        };
        let last_resort = !stock.last_resort;
        if count > 0 || last_resort {
            self.upload_key_packages(count, last_resort)?;
        }
        Ok(count + usize::from(last_resort))
    }

    /// Fetches every event after our cursor and processes it, in the hub's
    /// order, storing the cursor with each batch. With `wait`, the first
    /// request long-polls that long for something to arrive. Then the
    /// KeyPackage stock is topped up when it runs low
    /// ([`Session::refill_key_packages`]); after our removal from a room, our
    /// provider stops delivering it to us.
    ///
    /// An event that does not process (a message from an epoch we never had,
    /// a malformed payload) is skipped and reported, so one bad event cannot
    /// wedge the stream.
    ///
    /// # Errors
    /// The transport's errors; [`SessionError::State`] if the database fails.
    pub fn sync(&mut self, wait: Option<Duration>) -> Result<SyncReport, SessionError> {
        let mut report = SyncReport::default();
        let mut wait = wait.map(|w| w.min(Duration::from_secs(routes::MAX_WAIT_SECS)));
        loop {
            let after = self.client.cursor().unwrap_or(0);
            let mut path = format!("{}?after={after}", routes::EVENTS);
            if let Some(w) = wait {
                path.push_str(&format!("&wait={}", w.as_secs().max(1)));
            }
            let page: EventsPage = self.call_json(
                Method::GET,
                &path,
                Body::Empty,
                wait.map(|w| w + PAGE_WAIT_SLACK),
            )?;
            if page.events.is_empty() {
                break;
            }
            report.fetched += page.events.len();
            self.process_page(page, &mut report)?;
            wait = None;
        }
        // Every sync checks the stock: claims by others leave no trace in
        // our events (decisions KP-5).
        report.refilled = self.refill_key_packages()?;
        // A follower cannot see whom a commit removes (FED-9): tell our
        // provider to stop delivering rooms we were removed from.
        self.forget_removed(&report.events)?;
        Ok(report)
    }

    fn process_page(
        &mut self,
        page: EventsPage,
        report: &mut SyncReport,
    ) -> Result<(), SessionError> {
        let mut batch = Vec::with_capacity(page.events.len());
        let flush = |client: &mut Client,
                     batch: &mut Vec<(u64, RawFanoutMessage)>,
                     report: &mut SyncReport|
         -> Result<(), SessionError> {
            let mut pending = std::mem::take(batch);
            while !pending.is_empty() {
                let processed = client.process_batch(pending.clone())?;
                report.events.extend(processed.events);
                let Some((cursor, error)) = processed.error else {
                    break;
                };
                // Skip the failing event and go on with the ones after it.
                report.skipped.push((cursor, error.to_string()));
                client.set_cursor(cursor)?;
                pending.retain(|(c, _)| *c > cursor);
            }
            Ok(())
        };
        for event in page.events {
            match RawFanoutMessage::decode(&event.payload.0) {
                Ok(i) => batch.push((event.cursor, i)),
                Err(why) => {
                    flush(&mut self.client, &mut batch, report)?;
                    report.skipped.push((event.cursor, why.to_string()));
                    self.client.set_cursor(event.cursor)?;
                }
            }
        }
        flush(&mut self.client, &mut batch, report)
    }

    /// Syncs (long-polling) until `done` holds for the events seen so far, or
    /// `patience` runs out; returns every event seen.
    ///
    /// # Errors
    /// As [`Session::sync`]; [`SessionError::Network`] if `patience` runs out
    /// first (what we wait for did not arrive).
    pub fn sync_until(
        &mut self,
        patience: Duration,
        mut done: impl FnMut(&[RoomEvent]) -> bool,
    ) -> Result<Vec<RoomEvent>, SessionError> {
        let deadline = Instant::now() + patience;
        let mut events = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let report = self.sync(Some(
                left.min(Duration::from_secs(5)).max(Duration::from_secs(1)),
            ))?;
            events.extend(report.events);
            if done(&events) {
                return Ok(events);
            }
            if Instant::now() >= deadline {
                return Err(SessionError::Network(format!(
                    "{}: what we waited for did not arrive within {patience:?}",
                    self.client_id()
                )));
            }
        }
    }
}

pub(crate) fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, SessionError> {
    serde_json::to_vec(value).map_err(|e| SessionError::State(format!("encoding JSON: {e}")))
}
