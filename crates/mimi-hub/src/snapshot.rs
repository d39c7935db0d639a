//! A room's persistent form: everything [`Room`] holds, as one versioned blob
//! the store keeps per epoch (the hot cache avoids decoding it on every event).
//!
//! The layout is ours, not a MIMI wire format, but it is decoded with the same
//! care: a corrupt blob is a typed error, never a panic.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use openmls::group::PublicGroup;
use openmls::prelude::LeafNodeIndex;
use openmls_memory_storage::MemoryStorage;
use tls_codec::{
    DeserializeBytes as _, Serialize as _, TlsDeserializeBytes, TlsSerialize, TlsSize, VLBytes,
};

use mimi_proto::{ClientId, ProviderId, RoomId};

use crate::error::HubError;
use crate::hub::Hub;
use crate::room::{PendingJoiner, QueuedEntry, Room};
use mimi_mls::{RoomGroup as _, group_id_of};

/// Bumped whenever the layout changes; older blobs are refused, not misread.
const SNAPSHOT_VERSION: u8 = 2;

/// `group_info_signer` of a GroupInfo already verified.
const VERIFIED: u32 = u32::MAX;

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct Snapshot {
    version: u8,
    room: VLBytes,
    group_info: VLBytes,
    /// The committer leaf whose GroupInfo signature is not yet verified, or
    /// [`VERIFIED`].
    group_info_signer: u32,
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
    /// 1 for the first proposal of a bundle.
    bundle_start: u8,
}

#[derive(Debug, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct Joiner {
    client: VLBytes,
    signature_key: VLBytes,
    /// Empty when no code was presented (codes are never empty).
    join_code: VLBytes,
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
            group_info_signer: self.group_info_signer.map_or(VERIFIED, |l| l.u32()),
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
                    bundle_start: u8::from(q.bundle_start),
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
                    signature_key: k.signature_key.as_slice().into(),
                    join_code: k.join_code.as_deref().unwrap_or_default().into(),
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
    pub fn restore(hub: &Hub, bytes: &[u8]) -> Result<Self, HubError> {
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
                bundle_start: q.bundle_start == 1,
            });
        }
        let mut pending_joiners = BTreeMap::new();
        for j in s.joiners {
            let client = ClientId::parse_canonical(j.client.as_slice())
                .map_err(|_| corrupt("room snapshot has an invalid joiner"))?;
            let join_code: Vec<u8> = j.join_code.into();
            pending_joiners.insert(
                client,
                PendingJoiner {
                    signature_key: j.signature_key.into(),
                    join_code: (!join_code.is_empty()).then_some(join_code),
                },
            );
        }
        // The committed state is in the GroupContext; the effective one adds
        // this epoch's queued proposals, bundle by bundle as they were judged.
        let committed = group.committed_state()?;
        let mut room = Self {
            id,
            group,
            storage,
            group_info: s.group_info.into(),
            group_info_signer: (s.group_info_signer != VERIFIED)
                .then(|| LeafNodeIndex::new(s.group_info_signer)),
            queue,
            kp_routes,
            pending_joiners,
            effective: committed.clone(),
            committed,
        };
        room.replay_queue(hub)?;
        Ok(room)
    }
}

impl Room {
    /// Rebuilds the effective state from the committed one and the queue.
    fn replay_queue(&mut self, hub: &Hub) -> Result<(), HubError> {
        let stored = self
            .group
            .queued_proposals(&self.storage)
            .map_err(|_| HubError::Internal("reading queued proposals failed"))?;
        let mut bundle: Vec<mimi_policy::Proposal> = Vec::new();
        let mut bundle_time = 0;
        let entries: Vec<(bool, Vec<u8>, u64)> = self
            .queue
            .iter()
            .map(|q| (q.bundle_start, q.reference.clone(), q.accepted_at))
            .collect();
        for (start, reference, accepted_at) in entries {
            if start && !bundle.is_empty() {
                self.replay_bundle(hub, &std::mem::take(&mut bundle), bundle_time)?;
            }
            if start {
                bundle_time = accepted_at;
            }
            let (_, qp) = stored
                .iter()
                .find(|(r, _)| r.tls_serialize_detached().ok().as_deref() == Some(&reference[..]))
                .ok_or(HubError::Internal(
                    "room snapshot queue and MLS queue disagree",
                ))?;
            bundle.push(self.group.policy_proposal(qp)?);
        }
        if !bundle.is_empty() {
            self.replay_bundle(hub, &bundle, bundle_time)?;
        }
        Ok(())
    }

    fn replay_bundle(
        &mut self,
        hub: &Hub,
        bundle: &[mimi_policy::Proposal],
        accepted_at: u64,
    ) -> Result<(), HubError> {
        let ctx = mimi_policy::Context::new(accepted_at / 1000, hub.envelope());
        let verdict = self
            .effective
            .evaluate_proposals(&ctx, bundle)
            .map_err(|_| HubError::Internal("a queued proposal no longer passes the policy"))?;
        self.effective.apply(verdict);
        Ok(())
    }
}
