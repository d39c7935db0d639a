//! Provider-local setup operations: registering clients and KeyPackages,
//! creating hosted rooms, local room membership, peer addresses.
//!
//! The client API and the admin API ([`crate::client_api`]) expose them over
//! HTTPS; embedders (benchmarks) call them directly.

use std::net::SocketAddr;

use mimi_hub::Room;
use mimi_policy::Preset;
use mimi_proto::{ClientId, ProviderId, RoomId};
use mimi_store::{Conflict, NewClient, NewKeyPackage, NewRoom, StoreError, Timestamp};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{KeyPackageIn, MlsMessageIn, ProtocolVersion, RatchetTreeIn};

use crate::setup::state::AppState;

/// Why a provisioning operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The input is malformed or refused (names the problem).
    #[error("bad input: {0}")]
    BadInput(String),
    /// A referenced record does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The record exists already.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Our failure.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ProvisionError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound(_) => Self::NotFound(e.to_string()),
            StoreError::Conflict(Conflict::AlreadyExists(_)) => Self::Conflict(e.to_string()),
            StoreError::InvalidInput(_) => Self::BadInput(e.to_string()),
            _ => Self::Internal(e.to_string()),
        }
    }
}

fn bad(what: impl std::fmt::Display) -> ProvisionError {
    ProvisionError::BadInput(what.to_string())
}

impl AppState {
    /// Registers one of our clients (and its user, if new) with its MLS
    /// credential and signature key, so it can publish KeyPackages and
    /// receive mailbox entries.
    ///
    /// # Errors
    /// [`ProvisionError::BadInput`] for a client of another provider or
    /// without a user, [`ProvisionError::Conflict`] if it exists.
    pub async fn register_client(
        &self,
        client: &ClientId,
        credential: Vec<u8>,
        signature_key: Vec<u8>,
    ) -> Result<(), ProvisionError> {
        let user = client
            .user()
            .ok_or_else(|| bad("client id names no user"))?;
        if client.as_uri().provider() != *self.provider() {
            return Err(bad("client belongs to another provider"));
        }
        let now = Timestamp(self.now_ms());
        match self.store.add_user(&user, now).await {
            Ok(()) | Err(StoreError::Conflict(Conflict::AlreadyExists(_))) => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .add_client(
                &NewClient {
                    client: client.clone(),
                    user,
                    credential,
                    signature_key,
                },
                now,
            )
            .await?;
        Ok(())
    }

    /// Publishes serialized `KeyPackage`s of one of our clients, after
    /// checking each verifies and names that client.
    ///
    /// # Errors
    /// [`ProvisionError::BadInput`] for a KeyPackage that does not decode,
    /// verify, or belong to `client`.
    pub async fn publish_key_packages(
        &self,
        client: &ClientId,
        key_packages: &[Vec<u8>],
    ) -> Result<(), ProvisionError> {
        let crypto = self.hub.crypto();
        let mut new = Vec::with_capacity(key_packages.len());
        for bytes in key_packages {
            let kp = KeyPackageIn::tls_deserialize_exact(bytes)
                .map_err(|_| bad("not a KeyPackage"))?
                .validate(crypto, ProtocolVersion::Mls10)
                .map_err(|e| bad(format!("invalid KeyPackage: {e}")))?;
            if mimi_hub::client_of(kp.leaf_node().credential()).as_ref() != Some(client) {
                return Err(bad("KeyPackage credential names another client"));
            }
            let reference = kp
                .hash_ref(crypto)
                .ok()
                .and_then(|r| r.tls_serialize_detached().ok())
                .ok_or_else(|| ProvisionError::Internal("KeyPackageRef".into()))?;
            new.push(NewKeyPackage {
                key_package_ref: reference,
                cipher_suite: u16::from(kp.ciphersuite()),
                not_after: kp.life_time().not_after(),
                key_package: bytes.clone(),
                last_resort: kp.last_resort(),
            });
        }
        self.store
            .publish_key_packages(client, &new, Timestamp(self.now_ms()))
            .await?;
        Ok(())
    }

    /// Creates a room hosted here from its creator's epoch-0 GroupInfo
    /// (`MLSMessage`) and ratchet tree (protocol-06 §3.1: creation is local to
    /// the hub). A creator that is one of our registered clients becomes a
    /// local member.
    ///
    /// # Errors
    /// [`ProvisionError::BadInput`] if the hub refuses the group,
    /// [`ProvisionError::Conflict`] if the room exists.
    pub async fn create_room(
        &self,
        room_id: &RoomId,
        creator: &ClientId,
        group_info: &[u8],
        ratchet_tree: &[u8],
        preset: Option<Preset>,
    ) -> Result<(), ProvisionError> {
        let group_info = MlsMessageIn::tls_deserialize_exact(group_info)
            .map_err(|_| bad("group_info: not an MLSMessage"))?;
        let tree = RatchetTreeIn::tls_deserialize_exact(ratchet_tree)
            .map_err(|_| bad("ratchet_tree: not a ratchet tree"))?;
        let step = self.clone();
        let (id, creator_for_step) = (room_id.clone(), creator.clone());
        let now = self.now_ms();
        let room = tokio::task::spawn_blocking(move || {
            Room::create(
                &step.hub,
                id,
                &creator_for_step,
                group_info,
                tree,
                preset,
                now,
            )
        })
        .await
        .map_err(|_| ProvisionError::Internal("room creation panicked".into()))?
        .map_err(|e| bad(format!("room refused: {e}")))?;
        let mls_state = room
            .snapshot()
            .map_err(|e| ProvisionError::Internal(e.to_string()))?;
        self.store
            .create_room(&NewRoom {
                room: room_id.clone(),
                hub: self.provider().clone(),
                epoch: room.epoch(),
                mls_state,
                group_info: room.group_info().to_vec(),
                room_state: crate::lanes::hub_steps::room_state(&room),
                created_at: Timestamp(now),
            })
            .await?;
        if creator.as_uri().provider() == *self.provider()
            && self.store.client(creator).await.is_ok()
        {
            self.add_member(room_id, creator).await?;
        }
        tracing::info!(room = %room_id, %creator, "room created");
        Ok(())
    }

    /// Records that our registered `client` is in `room`, so it receives the
    /// room's events (the store's room membership, shared by every instance).
    /// Returns whether it was new. A membership already recorded costs one
    /// read, no write (the client API calls this on every room request).
    ///
    /// # Errors
    /// [`ProvisionError::NotFound`] for an unregistered client.
    pub async fn add_member(
        &self,
        room: &RoomId,
        client: &ClientId,
    ) -> Result<bool, ProvisionError> {
        if self.store.is_room_member(room, client).await? {
            return Ok(false);
        }
        self.store.client(client).await?;
        Ok(self
            .store
            .add_room_member(room, client, Timestamp(self.now_ms()))
            .await?)
    }

    /// Stops delivering `room`'s events to `client`. Returns whether it was a
    /// member.
    ///
    /// # Errors
    /// [`ProvisionError::Internal`] if the store fails.
    pub async fn remove_member(
        &self,
        room: &RoomId,
        client: &ClientId,
    ) -> Result<bool, ProvisionError> {
        Ok(self.store.remove_room_member(room, client).await?)
    }

    /// Sets where peer `domain` is reached (a peer that moved).
    ///
    /// # Errors
    /// [`ProvisionError::BadInput`] for an invalid domain or our own.
    pub fn set_peer(&self, domain: &str, addr: SocketAddr) -> Result<(), ProvisionError> {
        let peer = ProviderId::from_domain(domain).map_err(bad)?;
        if peer == *self.provider() {
            return Err(bad("a provider is not its own peer"));
        }
        self.peers.peers().set(peer.domain(), addr);
        self.peers.forget_directory(&peer);
        tracing::info!(peer = %peer, %addr, "peer address set");
        Ok(())
    }

    /// The federation client, to call peers as this provider.
    pub fn peer_client(&self) -> &crate::fanout::peer_client::PeerClient {
        &self.peers
    }
}
