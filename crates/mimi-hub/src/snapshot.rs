//! A room's persistent form: everything [`Room`] holds, as one versioned blob
//! the store keeps per epoch (the hot cache avoids decoding it on every event).
//!
//! The layout is ours, not a MIMI wire format, but it is decoded with the same
//! care: a corrupt blob is a typed error, never a panic.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use openmls::group::PublicGroup;
use openmls_memory_storage::MemoryStorage;
use tls_codec::{
    DeserializeBytes as _, Serialize as _, TlsDeserializeBytes, TlsSerialize, TlsSize, VLBytes,
};

use mimi_proto::{ClientId, ProviderId, RoomId};

use crate::error::HubError;
use crate::room::{QueuedEntry, Room, group_id_of};

/// Bumped whenever the layout changes; older blobs are refused, not misread.
const SNAPSHOT_VERSION: u8 = 1;

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct Snapshot {
    version: u8,
    room: VLBytes,
    group_info: VLBytes,
    /// OpenMLS's key/value records for the public group, sorted by key so the
    /// same state always gives the same bytes.
    storage: Vec<Record>,
    queue: Vec<QueuedWire>,
    routes: Vec<Route>,
    joiners: Vec<Joiner>,
}

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct Record {
    key: VLBytes,
    value: VLBytes,
}

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct QueuedWire {
    reference: VLBytes,
    message: VLBytes,
    accepted_at: u64,
    /// Empty, or the client a hub Remove targets.
    hub_removes: VLBytes,
}

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct Joiner {
    client: VLBytes,
    signature_key: VLBytes,
}

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct Route {
    key_package_ref: VLBytes,
    provider: VLBytes,
}

impl Room {
    /// Serializes the room for storage.
    ///
    /// # Errors
    /// [`HubError::Internal`] if the state cannot be read or encoded.
    pub fn snapshot(&self) -> Result<Vec<u8>, HubError> {
        let values = self
            .storage
            .values
            .read()
            .map_err(|_| HubError::Internal("room storage lock poisoned"))?;
        let sorted: BTreeMap<&Vec<u8>, &Vec<u8>> = values.iter().collect();
        let snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            room: self.id.as_bytes().into(),
            group_info: self.group_info.as_slice().into(),
            storage: sorted
                .into_iter()
                .map(|(k, v)| Record {
                    key: k.as_slice().into(),
                    value: v.as_slice().into(),
                })
                .collect(),
            queue: self
                .queue
                .iter()
                .map(|q| QueuedWire {
                    reference: q.reference.as_slice().into(),
                    message: q.message.as_slice().into(),
                    accepted_at: q.accepted_at,
                    hub_removes: q
                        .hub_removes
                        .as_ref()
                        .map_or(&[][..], |c| c.as_bytes())
                        .into(),
                })
                .collect(),
            routes: self
                .kp_routes
                .iter()
                .map(|(r, p)| Route {
                    key_package_ref: r.as_slice().into(),
                    provider: p.as_bytes().into(),
                })
                .collect(),
            joiners: self
                .pending_joiners
                .iter()
                .map(|(c, k)| Joiner {
                    client: c.as_bytes().into(),
                    signature_key: k.as_slice().into(),
                })
                .collect(),
        };
        snapshot
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("snapshot too large"))
    }

    /// Rebuilds a room from [`Room::snapshot`] bytes.
    ///
    /// # Errors
    /// [`HubError::Internal`] naming what is corrupt: a snapshot is our own
    /// data, so a bad one is never the peer's fault.
    pub fn restore(bytes: &[u8]) -> Result<Self, HubError> {
        let corrupt = |what| HubError::Internal(what);
        let (s, rest) = Snapshot::tls_deserialize_bytes(bytes)
            .map_err(|_| corrupt("room snapshot does not decode"))?;
        if !rest.is_empty() {
            return Err(corrupt("room snapshot has trailing bytes"));
        }
        if s.version != SNAPSHOT_VERSION {
            return Err(corrupt("room snapshot has an unknown version"));
        }
        let id = RoomId::parse_canonical(s.room.as_slice())
            .map_err(|_| corrupt("room snapshot names an invalid room"))?;
        let values: HashMap<Vec<u8>, Vec<u8>> = s
            .storage
            .into_iter()
            .map(|r| (r.key.into(), r.value.into()))
            .collect();
        let storage = MemoryStorage {
            values: RwLock::new(values),
        };
        let group = PublicGroup::load(&storage, &group_id_of(&id))
            .map_err(|_| corrupt("room snapshot's MLS state does not load"))?
            .ok_or(corrupt("room snapshot holds no MLS group"))?;
        let mut kp_routes = BTreeMap::new();
        for r in s.routes {
            let provider = ProviderId::parse_canonical(r.provider.as_slice())
                .map_err(|_| corrupt("room snapshot has an invalid route"))?;
            kp_routes.insert(r.key_package_ref.into(), provider);
        }
        let mut queue = Vec::with_capacity(s.queue.len());
        for q in s.queue {
            let hub_removes = match q.hub_removes.as_slice() {
                [] => None,
                raw => Some(
                    ClientId::parse_canonical(raw)
                        .map_err(|_| corrupt("room snapshot has an invalid hub proposal target"))?,
                ),
            };
            queue.push(QueuedEntry {
                reference: q.reference.into(),
                message: q.message.into(),
                accepted_at: q.accepted_at,
                hub_removes,
            });
        }
        let mut pending_joiners = BTreeMap::new();
        for j in s.joiners {
            let client = ClientId::parse_canonical(j.client.as_slice())
                .map_err(|_| corrupt("room snapshot has an invalid joiner"))?;
            pending_joiners.insert(client, j.signature_key.into());
        }
        Ok(Self {
            id,
            group,
            storage,
            group_info: s.group_info.into(),
            queue,
            kp_routes,
            pending_joiners,
        })
    }
}
