//! One room's state at the hub: the OpenMLS `PublicGroup` (tree, GroupContext,
//! no secrets), the GroupInfo committers uploaded, the epoch's proposal queue
//! and the KeyPackageRef → provider routes for Welcomes.

use std::collections::{BTreeMap, BTreeSet};

use openmls::group::PublicGroup;
use openmls::group::StagedCommit;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    LeafNodeIndex, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, OpenMlsSignaturePublicKey,
    ProposalStore, RatchetTreeIn, Verifiable as _,
};
use openmls_memory_storage::MemoryStorage;
use openmls_traits::crypto::OpenMlsCrypto;

use mimi_proto::mls_profile;
use mimi_proto::{ClientId, ProviderId, RoomId};

use mimi_mls::{RoomGroup as _, client_of, group_id_of};
use mimi_policy::{Context, Preset, RoomState};

use crate::error::HubError;
use crate::hub::Hub;

/// A proposal the hub accepted this epoch; the next commit must include it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEntry {
    /// The proposal's reference (RFC 9420 §5.2).
    pub reference: Vec<u8>,
    /// The proposal `MLSMessage`, as fanned out.
    pub message: Vec<u8>,
    /// Hub acceptance time, ms since the UNIX epoch.
    pub accepted_at: u64,
    /// For the hub's own Remove proposals: the client to remove. An external
    /// commit cannot include queued proposals by reference, so after one the
    /// hub re-issues these in the new epoch (protocol-06 issue #128).
    pub hub_removes: Option<ClientId>,
    /// True for the first proposal of a bundle: the policy judged each bundle
    /// as a whole, and restoring a snapshot replays them the same way.
    pub bundle_start: bool,
}

/// A room hosted by this hub.
pub struct Room {
    pub(crate) id: RoomId,
    pub(crate) group: PublicGroup,
    /// Backs `group`: OpenMLS writes the tree, context and proposal queue here
    /// on every merge, and the hub persists it as the room snapshot.
    pub(crate) storage: MemoryStorage,
    /// The current epoch's GroupInfo (`MLSMessage`), as the committer sent it.
    /// Its GroupContext was checked against the epoch's when it came in.
    pub(crate) group_info: Vec<u8>,
    /// `Some(leaf)` while `group_info`'s signature (by that committer leaf) is
    /// not yet verified: it is checked before the GroupInfo is first served,
    /// not on the commit path (decisions HUB-2).
    pub(crate) group_info_signer: Option<LeafNodeIndex>,
    pub(crate) queue: Vec<QueuedEntry>,
    /// KeyPackageRef → provider that answered the keyMaterial request.
    pub(crate) kp_routes: BTreeMap<Vec<u8>, ProviderId>,
    /// Clients that fetched the GroupInfo for an external join: an external
    /// commit must come from one of them (protocol-06 §5.6).
    pub(crate) pending_joiners: BTreeMap<ClientId, PendingJoiner>,
    /// The room state as committed in the GroupContext.
    pub(crate) committed: RoomState,
    /// The committed state plus every proposal accepted this epoch: what new
    /// events are judged against (protocol-06 §7.1 "Room state").
    pub(crate) effective: RoomState,
}

/// A client that fetched the GroupInfo to join externally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingJoiner {
    /// The key it signed its GroupInfoRequest with.
    pub signature_key: Vec<u8>,
    /// The join code it presented, if any.
    pub join_code: Option<Vec<u8>>,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("id", &self.id)
            .field("epoch", &self.epoch())
            .field("members", &self.group.members().count())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Room {
    /// Accepts a creator's new group as a room (protocol-06 §3.1: creation is
    /// local to the hub).
    ///
    /// The group must be at epoch 0 with the creator as its only member, use
    /// the room's group id, list the hub in `external_senders`, carry the MIMI
    /// `required_capabilities`, and hold in `app_data_dictionary` a room state
    /// that the policy accepts within the hub's envelope, with the creator
    /// listed.
    ///
    /// # Errors
    /// [`HubError::Malformed`], [`HubError::InvalidMls`] or
    /// [`HubError::Denied`] naming the first requirement the group breaks.
    pub fn create(
        hub: &Hub,
        id: RoomId,
        creator: &ClientId,
        group_info: MlsMessageIn,
        ratchet_tree: RatchetTreeIn,
        preset: Option<Preset>,
        now: u64,
    ) -> Result<Self, HubError> {
        let keys = hub.keys();
        if id.hub_domain() != keys.provider().domain() {
            return Err(HubError::Malformed("room id names another hub"));
        }
        let MlsMessageBodyIn::GroupInfo(verifiable) = group_info.extract() else {
            return Err(HubError::Malformed("expected a GroupInfo"));
        };
        let storage = MemoryStorage::default();
        let (group, verified) = PublicGroup::from_external(
            hub.crypto(),
            &storage,
            ratchet_tree,
            verifiable,
            ProposalStore::new(),
        )
        .map_err(|e| HubError::InvalidMls {
            refs: Vec::new(),
            reason: e.to_string(),
        })?;

        if group.group_id() != &group_id_of(&id) {
            return Err(HubError::Malformed("group id is not the room's group URI"));
        }
        if group.group_context().epoch().as_u64() != 0 {
            return Err(HubError::Malformed("a new room starts at epoch 0"));
        }
        if group.ciphersuite() != mls_profile::CIPHERSUITE {
            return Err(HubError::Malformed("ciphersuite is not the MIMI profile's"));
        }
        let members: Vec<_> = group.members().collect();
        if members.len() != 1 || client_of(&members[0].credential).as_ref() != Some(creator) {
            return Err(HubError::Malformed("the creator must be the only member"));
        }
        let extensions = group.group_context().extensions();
        let hub_sender = keys.external_sender();
        let lists_hub = extensions
            .external_senders()
            .is_some_and(|senders| senders.iter().any(|s| s == &hub_sender));
        if !lists_hub {
            return Err(HubError::Malformed("external_senders must list the hub"));
        }
        let required = mls_profile::required_capabilities();
        let has_required = extensions.required_capabilities().is_some_and(|have| {
            required
                .extension_types()
                .iter()
                .all(|t| have.extension_types().contains(t))
                && required
                    .proposal_types()
                    .iter()
                    .all(|t| have.proposal_types().contains(t))
        });
        if !has_required {
            return Err(HubError::Malformed(
                "required_capabilities lacks the MIMI profile",
            ));
        }
        // The initial room state must satisfy the policy and the envelope.
        let loaded = group.committed_state()?;
        let ctx = Context::new(now / 1000, hub.envelope());
        let committed = RoomState::create(
            &ctx,
            preset,
            loaded.to_components(),
            group.policy_members()?,
        )
        .map_err(HubError::denied)?;
        if committed.role_of(&mimi_mls::user_of(creator)?).is_none() {
            return Err(HubError::NotAllowed(
                "the creator must be on the participant list".into(),
            ));
        }
        let group_info = MlsMessageOut::from(verified)
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("GroupInfo does not serialize"))?;
        Ok(Self {
            id,
            group,
            storage,
            group_info,
            group_info_signer: None,
            queue: Vec::new(),
            kp_routes: BTreeMap::new(),
            pending_joiners: BTreeMap::new(),
            effective: committed.clone(),
            committed,
        })
    }

    /// The room id.
    pub fn id(&self) -> &RoomId {
        &self.id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.group.group_context().epoch().as_u64()
    }

    /// The OpenMLS public group, read-only.
    pub fn public_group(&self) -> &PublicGroup {
        &self.group
    }

    /// The current GroupInfo `MLSMessage`, for external joiners.
    pub fn group_info(&self) -> &[u8] {
        &self.group_info
    }

    /// Proposals accepted this epoch, in acceptance order.
    pub fn queued(&self) -> &[QueuedEntry] {
        &self.queue
    }

    /// Records that KeyPackages with these refs came from `provider`, so their
    /// Welcome is routed there (protocol-06 §4.3.1).
    pub fn record_key_packages(
        &mut self,
        provider: &ProviderId,
        refs: impl IntoIterator<Item = Vec<u8>>,
    ) {
        for r in refs {
            self.kp_routes.insert(r, provider.clone());
        }
    }

    /// Every member client, by leaf index. A leaf whose credential is not a
    /// valid client URI is reported as `None` (the hub refuses to add such
    /// leaves, so this happens only for groups accepted before a rule change).
    pub fn members(&self) -> impl Iterator<Item = (LeafNodeIndex, Option<ClientId>)> + '_ {
        self.group
            .members()
            .map(|m| (m.index, client_of(&m.credential)))
    }

    /// Providers with at least one member client, plus the hub itself.
    pub fn member_providers(&self, hub: &ProviderId) -> BTreeSet<ProviderId> {
        // Many clients share a provider: find the distinct domains first, and
        // build a `ProviderId` (which parses a URI) once per provider.
        let mut domains: BTreeMap<&str, &ClientId> = BTreeMap::new();
        for (client, _) in self.committed.members() {
            domains.entry(client.domain()).or_insert(client);
        }
        let mut out: BTreeSet<ProviderId> = domains
            .into_values()
            .map(|c| c.as_uri().provider())
            .collect();
        out.insert(hub.clone());
        out
    }

    /// The room state as committed in the current epoch.
    pub fn committed_state(&self) -> &RoomState {
        &self.committed
    }

    /// The committed state plus this epoch's accepted proposals.
    pub fn effective_state(&self) -> &RoomState {
        &self.effective
    }

    /// Checks a committer's GroupInfo against the staged epoch: same
    /// GroupContext (which proves the committer computed the room state the
    /// hub did, decisions HUB-6). Returns its bytes, to keep until the next
    /// commit. Its signature is verified later, by [`Room::verify_group_info`],
    /// before it is first served.
    pub(crate) fn check_group_info_context(
        staged: &StagedCommit,
        group_info: MlsMessageIn,
    ) -> Result<Vec<u8>, HubError> {
        // Serialized first, so the message is then taken apart by value.
        let bytes = group_info
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("GroupInfo does not serialize"))?;
        let MlsMessageBodyIn::GroupInfo(verifiable) = group_info.extract() else {
            return Err(HubError::Malformed(
                "groupInfoOption does not hold a GroupInfo",
            ));
        };
        if verifiable.group_context() != staged.group_context() {
            return Err(HubError::Malformed(
                "GroupInfo does not match the new epoch",
            ));
        }
        Ok(bytes)
    }

    /// Verifies the current GroupInfo's signature with its committer's leaf
    /// key, once per epoch (the epoch's tree holds that key until the next
    /// commit replaces both).
    ///
    /// Deferred from the commit path because most epochs never serve their
    /// GroupInfo (only external joins need it), and a bad signature harms only
    /// those joins; joiners verify it themselves too. The hub still never hands
    /// out a GroupInfo it has not verified.
    ///
    /// # Errors
    /// [`HubError::GroupInfoUnverified`] if it does not verify: external joins
    /// wait for the next commit's GroupInfo.
    pub(crate) fn verify_group_info(
        &mut self,
        crypto: &impl OpenMlsCrypto,
    ) -> Result<(), HubError> {
        let Some(signer) = self.group_info_signer else {
            return Ok(());
        };
        let MlsMessageBodyIn::GroupInfo(verifiable) =
            MlsMessageIn::tls_deserialize_exact(&self.group_info)
                .map_err(|_| HubError::Internal("stored GroupInfo does not decode"))?
                .extract()
        else {
            return Err(HubError::Internal("stored GroupInfo is not a GroupInfo"));
        };
        let leaf = self
            .group
            .leaf(signer)
            .ok_or(HubError::Internal("GroupInfo signer leaf missing"))?;
        let key = OpenMlsSignaturePublicKey::new(
            leaf.signature_key().as_slice().to_vec().into(),
            self.group.ciphersuite().signature_algorithm(),
        )
        .map_err(|_| HubError::Internal("leaf signature key unusable"))?;
        if verifiable.verify(crypto, &key).is_err() {
            tracing::warn!(room = %self.id, committer = signer.u32(), "the epoch's GroupInfo signature does not verify");
            return Err(HubError::GroupInfoUnverified);
        }
        self.group_info_signer = None;
        Ok(())
    }
}
