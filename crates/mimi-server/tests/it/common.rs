//! A local federation of real `mimi-server` processes, and real MLS clients
//! that use it.
//!
//! Each provider is a child process with its own SQLite store, certificate
//! (from `init_pki`) and ports (`127.0.0.1:0`); the harness learns the bound
//! addresses from the process's ready line. Clients are `mimi_client::Client`s
//! that encrypt for real; their traffic reaches the hub through their own
//! provider's admin relay, which is the follower → hub path over mutual TLS.
//! The client listener speaks HTTPS with the provider's certificate; the
//! harness trusts the development CA.

pub use mimi_proto::directory::percent_encode;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mimi_client::{Client, OutgoingCommit, RoomEvent};
use mimi_policy::Preset;
use mimi_proto::components::ParticipantId;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::{
    ApplicationMessage, CommitMessage, GroupInfoOption, HandshakeBundle, KeyMaterialRequestTbs,
    KeyMaterialResponse, RatchetTreeOption, RawFanoutMessage, SubmitMessageRequest,
    SubmitMessageResponse, UpdateOutcome, UpdateRequest, UpdateRoomResponse,
};
use mimi_proto::mls_profile::{CIPHERSUITE, required_capabilities};
use mimi_proto::{ClientId, RoomId, UserId, WireMessage as _};
use mimi_server::{Config, PkiFiles, ProviderFiles, READY_PREFIX, TlsIdentity, TlsPaths, init_pki};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    ExternalSender, KeyPackage, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, ProtocolVersion,
};
use openmls_traits::OpenMlsProvider as _;
use reqwest::StatusCode;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

pub const TOKEN: &str = "test-admin-token";

/// How long any wait for a condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// A PKI for a.example, b.example, c.example in a temporary directory.
pub struct Federation {
    pub dir: TempDir,
    pub pki: PkiFiles,
}

impl Federation {
    pub fn new() -> Self {
        // reqwest needs a process-wide rustls provider for its plain-HTTP
        // client too; another test may have installed it already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let pki = init_pki(
            &dir.path().join("pki"),
            &["a.example".into(), "b.example".into(), "c.example".into()],
        )
        .unwrap();
        Self { dir, pki }
    }

    fn cert(&self, domain: &str) -> &ProviderFiles {
        self.pki
            .providers
            .iter()
            .find(|p| p.domain == domain)
            .unwrap()
    }

    /// The TLS identity of `domain`, for the harness to call servers as that
    /// provider.
    pub fn identity(&self, domain: &str) -> TlsIdentity {
        let p = self.cert(domain);
        TlsIdentity::load(&p.cert, &p.key, &self.pki.ca_cert).unwrap()
    }

    /// The configuration of `domain`'s server run in the test's own process
    /// (`mimi_server::start`), with its data in `dir` and defaults elsewhere.
    pub fn config(&self, domain: &str, dir: &str) -> Config {
        let files = self.cert(domain);
        Config::loopback(
            domain,
            self.dir.path().join(dir),
            TlsPaths {
                cert: files.cert.clone(),
                key: files.key.clone(),
                ca: self.pki.ca_cert.clone(),
            },
        )
        .unwrap()
    }

    /// Starts `domain`'s server with `peers`.
    pub async fn start(&self, domain: &str, peers: &[(&str, SocketAddr)]) -> Server {
        self.start_on(domain, "127.0.0.1:0".parse().unwrap(), peers)
            .await
    }

    /// Starts `domain`'s server with `peers` and `extra` TOML appended to its
    /// configuration (sections such as `[consent]`).
    pub async fn start_with(
        &self,
        domain: &str,
        peers: &[(&str, SocketAddr)],
        extra: &str,
    ) -> Server {
        self.start_on_with(domain, "127.0.0.1:0".parse().unwrap(), peers, extra)
            .await
    }

    /// Starts `domain`'s server with its federation listener on `listen`, so
    /// that providers can be configured with each other's addresses up front.
    pub async fn start_on(
        &self,
        domain: &str,
        listen: SocketAddr,
        peers: &[(&str, SocketAddr)],
    ) -> Server {
        self.start_on_with(domain, listen, peers, "").await
    }

    async fn start_on_with(
        &self,
        domain: &str,
        listen: SocketAddr,
        peers: &[(&str, SocketAddr)],
        extra: &str,
    ) -> Server {
        let mut server = Server {
            listen,
            extra: extra.to_owned(),
            domain: domain.to_owned(),
            home: self.dir.path().join(domain),
            cert: self.cert(domain).clone(),
            ca: self.pki.ca_cert.clone(),
            peers: peers.iter().map(|(d, a)| ((*d).to_owned(), *a)).collect(),
            child: None,
            fed: "0.0.0.0:0".parse().unwrap(),
            client: "0.0.0.0:0".parse().unwrap(),
            http: reqwest::Client::new(),
        };
        server.launch().await;
        server
    }
}

/// One provider's server process.
pub struct Server {
    pub domain: String,
    listen: SocketAddr,
    home: PathBuf,
    cert: ProviderFiles,
    ca: PathBuf,
    peers: BTreeMap<String, SocketAddr>,
    child: Option<Child>,
    /// TOML appended to the configuration.
    extra: String,
    /// The federation listener.
    pub fed: SocketAddr,
    /// The client-API listener.
    pub client: SocketAddr,
    http: reqwest::Client,
}

impl Server {
    async fn launch(&mut self) {
        std::fs::create_dir_all(&self.home).unwrap();
        let mut peers = String::new();
        for (d, a) in &self.peers {
            peers.push_str(&format!("\"{d}\" = \"{a}\"\n"));
        }
        let config = format!(
            "domain = \"{domain}\"\nlisten = \"{listen}\"\nclient_listen = \"127.0.0.1:0\"\n\
             data_dir = \"{data}\"\nadmin_token = \"{TOKEN}\"\n\
             [tls]\ncert = \"{cert}\"\nkey = \"{key}\"\nca = \"{ca}\"\n\
             [peers]\n{peers}\n\
             [fanout]\nretry_initial_ms = 50\nretry_max_ms = 500\n{extra}",
            domain = self.domain,
            listen = self.listen,
            data = self.home.join("data").display(),
            cert = self.cert.cert.display(),
            key = self.cert.key.display(),
            ca = self.ca.display(),
            extra = self.extra,
        );
        let path = self.home.join("config.toml");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("server.log"))
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mimi-server"))
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.starts_with(READY_PREFIX) {
                    return line;
                }
            }
            panic!(
                "{} exited before it was ready; see {}",
                self.domain,
                self.log_path().display()
            )
        })
        .await
        .expect("server ready line");
        let field = |name: &str| -> SocketAddr {
            ready
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap()
                .parse()
                .unwrap()
        };
        self.fed = field("federation");
        self.client = field("client");
        self.http = client_http(&self.ca, &self.domain, self.client);
        self.child = Some(child);
    }

    pub fn log_path(&self) -> PathBuf {
        self.home.join("server.log")
    }

    /// Kills the process with SIGKILL: no shutdown code runs.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    /// Stops the process with SIGTERM and waits for its graceful exit.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().unwrap().to_string();
            let status = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap();
            assert!(status.success());
            let exit = tokio::time::timeout(PATIENCE, child.wait())
                .await
                .expect("graceful shutdown")
                .unwrap();
            assert!(exit.success(), "{} exited with {exit}", self.domain);
        }
    }

    /// Starts the process again on the same data (new ports).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill first");
        self.launch().await;
    }

    /// Tells this server where `domain` is now, in its running process and in
    /// its configuration for later restarts.
    pub async fn set_peer(&mut self, domain: &str, addr: SocketAddr) {
        self.peers.insert(domain.to_owned(), addr);
        let body = serde_json::json!({ "domain": domain, "addr": addr.to_string() });
        let status = self
            .admin(reqwest::Method::PUT, "/admin/v1/peers")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::NO_CONTENT);
    }

    /// The client listener's base URL (`https://<domain>:<port>`).
    pub fn client_url(&self) -> String {
        format!("https://{}:{}", self.domain, self.client.port())
    }

    /// An HTTPS client for the client listener, trusting the development CA.
    pub fn https(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.client_url()))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
    }

    async fn admin_post(&self, path: &str, body: serde_json::Value) -> StatusCode {
        self.admin(reqwest::Method::POST, path)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The hub's `external_senders` entry.
    pub async fn hub_sender(&self) -> ExternalSender {
        let text = self
            .admin(reqwest::Method::GET, "/admin/v1/hub")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let bytes = B64.decode(v["external_sender"].as_str().unwrap()).unwrap();
        ExternalSender::tls_deserialize_exact(bytes).unwrap()
    }

    /// Registers `user`'s client here.
    pub async fn register(&self, user: &User) {
        let cwk = user.client.identity().credential_with_key();
        let body = serde_json::json!({
            "client": user.id.as_str(),
            "credential": B64.encode(cwk.credential.tls_serialize_detached().unwrap()),
            "signature_key": B64.encode(cwk.signature_key.as_slice()),
        });
        assert_eq!(
            self.admin_post("/admin/v1/clients", body).await,
            StatusCode::CREATED
        );
    }

    /// Publishes KeyPackages of `user` here.
    pub async fn publish(&self, user: &mut User, count: usize) {
        let kps: Vec<String> = user
            .client
            .key_packages(count)
            .unwrap()
            .iter()
            .map(|kp| B64.encode(kp.tls_serialize_detached().unwrap()))
            .collect();
        let body = serde_json::json!({ "client": user.id.as_str(), "key_packages": kps });
        assert_eq!(
            self.admin_post("/admin/v1/key-packages", body).await,
            StatusCode::CREATED
        );
    }

    /// Publishes a last-resort KeyPackage of `user` here.
    pub async fn publish_last_resort(&self, user: &mut User) {
        let kp = user.client.last_resort_key_package().unwrap();
        let body = serde_json::json!({
            "client": user.id.as_str(),
            "key_packages": [B64.encode(kp.tls_serialize_detached().unwrap())],
        });
        assert_eq!(
            self.admin_post("/admin/v1/key-packages", body).await,
            StatusCode::CREATED
        );
    }

    /// Creates `room` on this (hub) server from `creator`'s new group.
    pub async fn create_room(&self, creator: &mut User, room: &RoomId) {
        let created = creator
            .client
            .create_room(room, Preset::PrivateGroup, self.hub_sender().await)
            .unwrap();
        let body = serde_json::json!({
            "room": room.as_str(),
            "creator": creator.id.as_str(),
            "group_info": B64.encode(created.group_info.tls_serialize_detached().unwrap()),
            "ratchet_tree": B64.encode(created.ratchet_tree.tls_serialize_detached().unwrap()),
            "preset": Preset::PrivateGroup.name(),
        });
        assert_eq!(
            self.admin_post("/admin/v1/rooms", body).await,
            StatusCode::CREATED
        );
    }

    /// Records here that our `user` is in `room` (a creator on a follower).
    pub async fn add_member(&self, room: &RoomId, user: &User) {
        let body = serde_json::json!({ "room": room.as_str(), "client": user.id.as_str() });
        assert_eq!(
            self.admin_post("/admin/v1/members", body).await,
            StatusCode::CREATED
        );
    }

    /// The mailbox of `client` after `cursor`: (cursor, FanoutMessage bytes).
    pub async fn mailbox(&self, client: &ClientId, after: u64) -> Vec<(u64, Vec<u8>)> {
        let text = self
            .admin(
                reqwest::Method::GET,
                &format!(
                    "/admin/v1/mailbox?client={}&after={after}",
                    percent_encode(client.as_str())
                ),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["cursor"].as_u64().unwrap(),
                    B64.decode(e["payload"].as_str().unwrap()).unwrap(),
                )
            })
            .collect()
    }

    /// Relays a MIMI request through this server to whoever must answer it.
    pub async fn relay(
        &self,
        endpoint: Endpoint,
        target: &PathTarget,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let encoded = percent_encode(target.as_str());
        let response = self
            .admin(
                reqwest::Method::POST,
                &format!("/admin/v1/relay/{}/{encoded}", endpoint.key()),
            )
            .header("content-type", "application/mimi+tls")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.bytes().await.unwrap().to_vec())
    }

    /// A Prometheus metric's value (first sample whose line starts with `name`).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.client_url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }
}

/// A loopback address with a port that was free a moment ago (bound, read,
/// released), for a federation listener that peers must know in advance.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A reqwest client for a client listener: server authentication against the
/// development CA `ca`, no client certificate, `domain` resolved to `addr`.
pub fn client_http(ca: &std::path::Path, domain: &str, addr: SocketAddr) -> reqwest::Client {
    let mut config = client_tls(ca);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    peer_http(config, domain, addr)
}

/// TLS for a client of a client listener: trusts the development CA `ca`.
pub fn client_tls(ca: &std::path::Path) -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(der.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth()
}

/// A reqwest client presenting `identity` (or nothing), resolving `domain` to `addr`.
pub fn peer_http(config: rustls::ClientConfig, domain: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .resolve(domain, addr)
        .build()
        .unwrap()
}

/// One user's single client, with its mailbox cursor on its provider.
pub struct User {
    pub client: Client,
    pub id: ClientId,
    pub cursor: u64,
}

impl User {
    pub fn new(uri: &str) -> Self {
        let id = ClientId::parse(uri).unwrap();
        Self {
            client: Client::in_memory(id.clone()).unwrap(),
            id,
            cursor: 0,
        }
    }

    pub fn user_id(&self) -> UserId {
        self.id.user().unwrap()
    }

    /// Fetches and processes everything new in our mailbox on `home`.
    pub async fn sync(&mut self, home: &Server) -> Vec<RoomEvent> {
        let mut events = Vec::new();
        for (cursor, payload) in home.mailbox(&self.id, self.cursor).await {
            events.extend(
                self.client
                    .process(RawFanoutMessage::decode(&payload).unwrap())
                    .unwrap(),
            );
            self.cursor = cursor;
        }
        events
    }

    /// Syncs until `done` holds for the events seen so far, or fails after
    /// [`PATIENCE`].
    pub async fn sync_until(
        &mut self,
        home: &Server,
        mut done: impl FnMut(&[RoomEvent]) -> bool,
    ) -> Vec<RoomEvent> {
        let deadline = Instant::now() + PATIENCE;
        let mut events = Vec::new();
        loop {
            events.extend(self.sync(home).await);
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not get what it waited for; got {events:#?}",
                self.id
            );
            // Polling the mailbox, not waiting for something to happen.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Claims one KeyPackage per client of `target` for `room` through our
    /// provider (which relays it to the room's hub, which relays it to the
    /// target's provider).
    pub async fn fetch_key_packages(
        &self,
        home: &Server,
        target: &UserId,
        room: &RoomId,
    ) -> Vec<KeyPackage> {
        let response = self.key_material(home, target, room).await;
        response
            .clients
            .into_iter()
            .filter_map(|c| match c.status {
                mimi_proto::messages::ClientStatus::Success(kp) => Some(
                    kp.validate(self.client.provider().crypto(), ProtocolVersion::Mls10)
                        .unwrap(),
                ),
                _ => None,
            })
            .collect()
    }

    /// Our signed keyMaterial request for one KeyPackage per client of
    /// `target`, for `room`, through our provider; its decoded answer.
    pub async fn key_material(
        &self,
        home: &Server,
        target: &UserId,
        room: &RoomId,
    ) -> KeyMaterialResponse {
        let (status, body) = home
            .relay(
                Endpoint::KeyMaterial,
                &PathTarget::User(target.clone()),
                self.key_material_request(target, Some(room)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        KeyMaterialResponse::decode(&body).unwrap()
    }

    /// Our signed keyMaterial request for `target`'s KeyPackages, for `room`
    /// or outside any room.
    pub fn key_material_request(&self, target: &UserId, room: Option<&RoomId>) -> Vec<u8> {
        let cwk = self.client.identity().credential_with_key();
        KeyMaterialRequestTbs {
            requesting_user: self.user_id(),
            target_user: target.clone(),
            room_id: room.cloned(),
            acceptable_ciphersuites: vec![CIPHERSUITE.into()],
            required_capabilities: required_capabilities(),
            requester_signature_key: cwk.signature_key,
            requester_credential: cwk.credential,
        }
        .sign(self.client.identity().signer())
        .unwrap()
        .encode()
        .unwrap()
    }

    /// Sends a commit to the room's hub through our provider and applies the
    /// answer.
    pub async fn send_commit(
        &mut self,
        home: &Server,
        room: &RoomId,
        out: &OutgoingCommit,
    ) -> UpdateOutcome {
        let (status, body) = home
            .relay(
                Endpoint::Update,
                &PathTarget::Room(room.clone()),
                update_body(out),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let response = UpdateRoomResponse::decode(&body).unwrap();
        self.client
            .commit_answered(room, &response.outcome)
            .unwrap();
        response.outcome
    }

    /// Sends a text message through our provider; returns its message id.
    pub async fn send_text(
        &mut self,
        home: &Server,
        room: &RoomId,
        text: &str,
    ) -> mimi_content::MessageId {
        let out = self.client.send_text(room, text).unwrap();
        let request = SubmitMessageRequest {
            app_message: ApplicationMessage::try_from(wire(&out.message)).unwrap(),
            sending_uri: ParticipantId::from(out.sending_uri.clone()),
        };
        let (status, body) = home
            .relay(
                Endpoint::SubmitMessage,
                &PathTarget::Room(room.clone()),
                request.encode().unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        match SubmitMessageResponse::decode(&body).unwrap() {
            SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            } => {
                self.client
                    .message_accepted(room, &out.message_id, accepted_timestamp, frank)
                    .unwrap();
            }
            other => panic!("message refused: {other:?}"),
        }
        out.message_id
    }
}

/// The ids of received messages, in order.
pub fn received(events: &[RoomEvent]) -> Vec<mimi_content::MessageId> {
    events
        .iter()
        .filter_map(|e| match e {
            RoomEvent::Message(m) => Some(m.message_id),
            _ => None,
        })
        .collect()
}

pub fn wire(m: &MlsMessageOut) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(m.tls_serialize_detached().unwrap()).unwrap()
}

/// The `update` body for a commit.
pub fn update_body(out: &OutgoingCommit) -> Vec<u8> {
    let commit = CommitMessage::try_from(wire(&out.commit)).unwrap();
    let welcome = out.welcome.as_ref().map(|w| match wire(w).extract() {
        MlsMessageBodyIn::Welcome(w) => Box::new(w),
        _ => panic!("not a Welcome"),
    });
    let MlsMessageBodyIn::GroupInfo(group_info) = wire(&out.group_info).extract() else {
        panic!("not a GroupInfo")
    };
    UpdateRequest {
        bundle: HandshakeBundle::Commit {
            commit,
            welcome,
            group_info_option: GroupInfoOption::Full(Box::new(group_info)),
            ratchet_tree_option: RatchetTreeOption::DistributionService,
        },
    }
    .encode()
    .unwrap()
}

/// A federation of three providers where bob (on b.example) and cathy (on
/// c.example) share `mimi://a.example/r/club`, hosted on a.example. B and C
/// are configured with a.example only: they do not know each other.
pub struct Club {
    pub fed: Federation,
    pub a: Server,
    pub b: Server,
    pub c: Server,
    pub bob: User,
    pub cathy: User,
    pub room: RoomId,
}

impl Club {
    pub async fn new() -> Self {
        Self::with_hub_config("").await
    }

    /// As [`new`](Self::new), with `extra` TOML in the hub's configuration (keys before any
    /// table header belong to `[fanout]`).
    pub async fn with_hub_config(extra: &str) -> Self {
        let fed = Federation::new();
        let mut a = fed.start_with("a.example", &[], extra).await;
        let b = fed.start("b.example", &[("a.example", a.fed)]).await;
        let c = fed.start("c.example", &[("a.example", a.fed)]).await;
        a.set_peer("b.example", b.fed).await;
        a.set_peer("c.example", c.fed).await;

        let mut bob = User::new("mimi://b.example/d/bob/laptop");
        let mut cathy = User::new("mimi://c.example/d/cathy/phone");
        b.register(&bob).await;
        c.register(&cathy).await;
        c.publish(&mut cathy, 2).await;

        let room = RoomId::parse("mimi://a.example/r/club").unwrap();
        a.create_room(&mut bob, &room).await;
        b.add_member(&room, &bob).await;

        // Bob adds Cathy: KeyPackage via the hub, commit with Welcome via the hub.
        let kps = bob.fetch_key_packages(&b, &cathy.user_id(), &room).await;
        assert_eq!(kps.len(), 1);
        let out = bob
            .client
            .add_user(&room, &cathy.user_id(), None, kps)
            .unwrap();
        let outcome = bob.send_commit(&b, &room, &out).await;
        assert!(
            matches!(outcome, UpdateOutcome::Success { .. }),
            "{outcome:?}"
        );
        cathy
            .sync_until(&c, |events| {
                events.iter().any(|e| matches!(e, RoomEvent::Joined { .. }))
            })
            .await;
        Self {
            fed,
            a,
            b,
            c,
            bob,
            cathy,
            room,
        }
    }
}
