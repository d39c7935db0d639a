//! The static map of peer providers (domain → address) and the resolver that
//! lets the HTTP client reach them by their domain.
//!
//! Peers come from the configuration; the admin API may replace an address at
//! run time (a peer restarted on another port). Names not in the map do not
//! resolve at all: we talk only to configured peers (DNS-based discovery is a
//! later step).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The known peers, shared by the HTTP client's resolver and the admin API.
#[derive(Debug, Default)]
pub struct PeerMap {
    /// `std` lock: held only to copy or replace one entry, never across `.await`.
    peers: RwLock<BTreeMap<String, SocketAddr>>,
}

impl PeerMap {
    /// A map with the configured peers (domains lower-cased).
    pub fn new(peers: &BTreeMap<String, SocketAddr>) -> Self {
        Self {
            peers: RwLock::new(
                peers
                    .iter()
                    .map(|(d, a)| (d.to_ascii_lowercase(), *a))
                    .collect(),
            ),
        }
    }

    /// The address of `domain`, if it is a peer.
    pub fn get(&self, domain: &str) -> Option<SocketAddr> {
        self.read().get(&domain.to_ascii_lowercase()).copied()
    }

    /// Adds a peer or changes its address.
    pub fn set(&self, domain: &str, addr: SocketAddr) {
        self.peers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(domain.to_ascii_lowercase(), addr);
    }

    /// All peers.
    pub fn all(&self) -> BTreeMap<String, SocketAddr> {
        self.read().clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, SocketAddr>> {
        // Entries are replaced whole, so a poisoned lock still holds a
        // consistent map.
        self.peers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Resolves peer domains from a [`PeerMap`] for reqwest.
#[derive(Debug, Clone)]
pub struct PeerResolver(pub Arc<PeerMap>);

impl Resolve for PeerResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let found = self.0.get(name.as_str());
        let name = name.as_str().to_owned();
        Box::pin(async move {
            match found {
                // The connector replaces the port with the URL's.
                Some(addr) => Ok(Box::new(std::iter::once(addr)) as Addrs),
                None => Err(format!("{name} is not a configured peer").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    #[tokio::test]
    async fn resolves_only_configured_peers_case_insensitively() {
        let mut config = BTreeMap::new();
        config.insert("B.example".to_owned(), "127.0.0.1:9000".parse().unwrap());
        let map = Arc::new(PeerMap::new(&config));
        let resolver = PeerResolver(map.clone());
        let addrs: Vec<_> = resolver
            .resolve(Name::from_str("b.example").unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, vec!["127.0.0.1:9000".parse().unwrap()]);
        assert!(
            resolver
                .resolve(Name::from_str("c.example").unwrap())
                .await
                .is_err()
        );
        map.set("c.example", "127.0.0.1:9001".parse().unwrap());
        assert!(
            resolver
                .resolve(Name::from_str("c.example").unwrap())
                .await
                .is_ok()
        );
    }
}
