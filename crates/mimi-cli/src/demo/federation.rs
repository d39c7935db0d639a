//! The demo's federation: a development PKI and one `mimi server` child
//! process per provider, each with its own SQLite store, certificate and
//! ports, started by re-executing this binary.
//!
//! Federation ports are picked free up front so every server's peer map is
//! complete at start. Client-API ports are picked in the same call: left to
//! the kernel (`:0`), an early server's client listener could take a later
//! server's federation port, free again by then, and that server would not
//! start. Each child's ready line still says where it listens. Children are killed when the [`Federation`] is
//! dropped (a panic or an early return included); [`Federation::shutdown`]
//! stops them gracefully.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mimi_server::READY_PREFIX;

/// How long a child may take to print its ready line, or to exit after
/// SIGTERM.
const PATIENCE: Duration = Duration::from_secs(30);

/// A provider of the demo.
#[derive(Debug)]
pub struct Provider {
    /// Its domain.
    pub domain: String,
    /// The federation listener.
    pub federation: SocketAddr,
    /// The client-API listener.
    pub client: SocketAddr,
    /// Its directory (configuration, store, log).
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Provider {
    /// The client API's base URL: the host is the domain its certificate
    /// names; connect to [`Provider::client`].
    pub fn url(&self) -> String {
        format!("https://{}:{}", self.domain, self.client.port())
    }

    /// The server log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("server.log")
    }
}

/// The running providers.
#[derive(Debug)]
pub struct Federation {
    /// The CA every certificate chains to.
    pub ca: PathBuf,
    /// The providers, by domain.
    pub providers: BTreeMap<String, Provider>,
}

impl Federation {
    /// Creates a PKI for `domains` under `dir` and starts one server per
    /// domain, each knowing all the others.
    ///
    /// # Errors
    /// A sentence saying which step failed (and where the log is).
    pub fn start(dir: &Path, domains: &[&str]) -> Result<Self, String> {
        let names: Vec<String> = domains.iter().map(|d| (*d).to_owned()).collect();
        let pki = mimi_server::init_pki(&dir.join("pki"), &names)
            .map_err(|e| format!("pki init: {e}"))?;
        let ports = free_ports(2 * domains.len())?;
        let (federation_ports, client_ports) = ports.split_at(domains.len());
        let peers: BTreeMap<&str, SocketAddr> = domains
            .iter()
            .copied()
            .zip(federation_ports.iter().copied())
            .collect();
        let client_listen: BTreeMap<&str, SocketAddr> = domains
            .iter()
            .copied()
            .zip(client_ports.iter().copied())
            .collect();
        let exe = std::env::current_exe().map_err(|e| format!("locating this binary: {e}"))?;
        let mut federation = Self {
            ca: pki.ca_cert.clone(),
            providers: BTreeMap::new(),
        };
        for files in &pki.providers {
            let domain = files.domain.as_str();
            let home = dir.join(domain);
            std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
            let mut peer_lines = String::new();
            for (d, addr) in &peers {
                if *d != domain {
                    peer_lines.push_str(&format!("\"{d}\" = \"{addr}\"\n"));
                }
            }
            let config = format!(
                "domain = \"{domain}\"\nlisten = \"{listen}\"\nclient_listen = \"{client}\"\n\
                 data_dir = \"{data}\"\n\
                 [tls]\ncert = \"{cert}\"\nkey = \"{key}\"\nca = \"{ca}\"\n\
                 [fanout]\nretry_initial_ms = 50\nretry_max_ms = 1000\n\
                 [peers]\n{peer_lines}",
                listen = peers[domain],
                client = client_listen[domain],
                data = toml_path(&home.join("data")),
                cert = toml_path(&files.cert),
                key = toml_path(&files.key),
                ca = toml_path(&pki.ca_cert),
            );
            let config_path = home.join("config.toml");
            std::fs::write(&config_path, config)
                .map_err(|e| format!("{}: {e}", config_path.display()))?;
            let provider = launch(&exe, domain, &home, &config_path)?;
            federation.providers.insert(domain.to_owned(), provider);
        }
        Ok(federation)
    }

    /// One provider.
    ///
    /// # Panics
    /// Never for the demo's own domains; the map is built from them.
    pub fn provider(&self, domain: &str) -> Option<&Provider> {
        self.providers.get(domain)
    }

    /// Stops every server with SIGTERM and waits for them to exit; a server
    /// that does not exit in time is killed. Returns the servers that did not
    /// stop cleanly.
    pub fn shutdown(&mut self) -> Vec<String> {
        let mut unclean = Vec::new();
        for p in self.providers.values_mut() {
            if let Some(child) = p.child.as_ref() {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
        }
        for p in self.providers.values_mut() {
            let Some(child) = p.child.take() else {
                continue;
            };
            match wait_with_deadline(child, PATIENCE) {
                Ok(status) if status.success() => {}
                Ok(status) => unclean.push(format!("{} exited with {status}", p.domain)),
                Err(e) => unclean.push(format!("{}: {e}", p.domain)),
            }
        }
        unclean
    }
}

impl Drop for Federation {
    fn drop(&mut self) {
        for p in self.providers.values_mut() {
            if let Some(mut child) = p.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Starts one server and waits for its ready line.
fn launch(exe: &Path, domain: &str, home: &Path, config: &Path) -> Result<Provider, String> {
    let log_path = home.join("server.log");
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut child = Command::new(exe)
        .arg("server")
        .arg("--config")
        .arg(config)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("starting {domain}'s server: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| format!("{domain}: no stdout"))?;
    // A thread reads the child's stdout to its end (so the child never blocks
    // on a full pipe) and hands over the ready line.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent && line.starts_with(READY_PREFIX) {
                let _ = tx.send(line);
                sent = true;
            }
        }
    });
    let guard = KillOnDrop(Some(child));
    let ready = rx.recv_timeout(PATIENCE).map_err(|_| {
        format!(
            "{domain}'s server did not become ready; see {}",
            log_path.display()
        )
    })?;
    let field = |name: &str| -> Result<SocketAddr, String> {
        ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("{domain}: ready line without {name}: {ready}"))
    };
    let federation = field("federation")?;
    let client = field("client")?;
    Ok(Provider {
        domain: domain.to_owned(),
        federation,
        client,
        dir: home.to_path_buf(),
        child: guard.take(),
    })
}

/// Kills a child unless taken back.
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn take(mut self) -> Option<Child> {
        self.0.take()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `count` loopback ports that were free a moment ago.
fn free_ports(count: usize) -> Result<Vec<SocketAddr>, String> {
    // All are held open together, so the kernel hands out distinct ports.
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("finding free ports: {e}"))?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map_err(|e| format!("finding free ports: {e}"))
        })
        .collect()
}

/// Waits for a child to exit, killing it after `patience`.
fn wait_with_deadline(
    mut child: Child,
    patience: Duration,
) -> Result<std::process::ExitStatus, String> {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    if rx.recv_timeout(patience).is_err() {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    waiter
        .join()
        .map_err(|_| "waiting for the server failed".to_owned())?
        .map_err(|e| e.to_string())
}

/// A path as a TOML basic string's content.
fn toml_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}
