//! The hub as an actor: its own external proposals (protocol-06 §6.9) and the
//! bookkeeping that ties an external commit to its GroupInfo request (§5.6).

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{ExternalProposal, MlsMessageIn, SenderExtensionIndex};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;

use mimi_proto::ClientId;

use crate::commit::Accepted;
use crate::error::HubError;
use crate::keys::HubKeys;
use crate::room::Room;

/// Most clients that may hold a fetched GroupInfo without having joined yet.
/// Bounds the bookkeeping a flood of groupInfo requests can cause.
pub const MAX_PENDING_JOINERS: usize = 1024;

/// What a joiner needs to build its external commit (protocol-06 §5.6
/// `GroupInfoRatchetTreeTBE`, before encryption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinMaterial {
    /// The current GroupInfo `MLSMessage` (without the ratchet tree).
    pub group_info: Vec<u8>,
    /// The current ratchet tree (`ratchet_tree<V>`).
    pub ratchet_tree: Vec<u8>,
    /// Proposals accepted this epoch, with their acceptance times.
    pub pending_proposals: Vec<(Vec<u8>, u64)>,
}

impl Room {
    /// Proposes, as the hub, to remove a member client (a lost device or a
    /// deleted user), queues the proposal and plans its fan-out.
    ///
    /// # Errors
    /// [`HubError::NotAllowed`] if the client is not a member, or the errors of
    /// proposal validation.
    pub fn propose_remove(
        &mut self,
        crypto: &impl OpenMlsCrypto,
        keys: &HubKeys,
        client: &ClientId,
        now: u64,
    ) -> Result<Accepted, HubError> {
        let message = self.hub_remove_message(keys, client)?;
        self.queue_bundle(crypto, keys, vec![message], now, Some(client.clone()))
    }

    /// Records that `client` fetched the GroupInfo to join externally with
    /// `signature_key`, and returns what it needs. Authorization (the user's
    /// role, preauthorization, open join, join codes) is the caller's.
    ///
    /// # Errors
    /// [`HubError::NotAllowed`] when too many joins are pending.
    pub fn join_material(
        &mut self,
        client: &ClientId,
        signature_key: &[u8],
    ) -> Result<JoinMaterial, HubError> {
        if self.pending_joiners.len() >= MAX_PENDING_JOINERS
            && !self.pending_joiners.contains_key(client)
        {
            return Err(HubError::NotAllowed(
                "too many pending external joins".into(),
            ));
        }
        self.pending_joiners
            .insert(client.clone(), signature_key.to_vec());
        let ratchet_tree = self
            .group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("ratchet tree does not serialize"))?;
        Ok(JoinMaterial {
            group_info: self.group_info.clone(),
            ratchet_tree,
            pending_proposals: self
                .queue
                .iter()
                .map(|q| (q.message.clone(), q.accepted_at))
                .collect(),
        })
    }

    /// The hub's index in the group's `external_senders`.
    fn hub_sender_index(&self, keys: &HubKeys) -> Result<SenderExtensionIndex, HubError> {
        let ours = keys.external_sender();
        self.group
            .group_context()
            .extensions()
            .external_senders()
            .and_then(|senders| senders.iter().position(|s| s == &ours))
            .map(|i| SenderExtensionIndex::new(i as u32))
            .ok_or(HubError::Internal(
                "the hub is missing from external_senders",
            ))
    }

    pub(crate) fn hub_remove_message(
        &self,
        keys: &HubKeys,
        client: &ClientId,
    ) -> Result<MlsMessageIn, HubError> {
        let leaf = self
            .members()
            .find_map(|(leaf, c)| (c.as_ref() == Some(client)).then_some(leaf))
            .ok_or_else(|| HubError::NotAllowed(format!("{client} is not a member")))?;
        let out = ExternalProposal::new_remove::<OpenMlsRustCrypto>(
            leaf,
            self.group.group_id().clone(),
            self.group.group_context().epoch(),
            keys.signer(),
            self.hub_sender_index(keys)?,
        )
        .map_err(|_| HubError::Internal("signing a hub proposal failed"))?;
        let bytes = out
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("hub proposal does not serialize"))?;
        MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|_| HubError::Internal("hub proposal does not decode"))
    }
}
