//! The hub as an actor: its own external proposals (protocol-06 §6.9) and the
//! bookkeeping that ties an external commit to its GroupInfo request (§5.6).

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{ExternalProposal, MlsMessageIn, OpenMlsCrypto, SenderExtensionIndex};
use openmls_rust_crypto::OpenMlsRustCrypto;

use mimi_policy::{Claims, JoinPath};
use mimi_proto::ClientId;

use crate::commit::Accepted;
use crate::error::HubError;
use crate::hub::Hub;
use crate::room::{PendingJoiner, Room};
use crate::tree::ratchet_tree_bytes;

/// Most clients that may hold a fetched GroupInfo without having joined yet.
/// Bounds the bookkeeping a flood of groupInfo requests can cause.
pub const MAX_PENDING_JOINERS: usize = 1024;

/// What a joiner needs to build its external commit (protocol-06 §5.6
/// `GroupInfoRatchetTreeTBE`, before encryption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinMaterial {
    /// How the policy lets this client in.
    pub path: JoinPath,
    /// The current GroupInfo `MLSMessage` (without the ratchet tree).
    pub group_info: Vec<u8>,
    /// The current ratchet tree (`ratchet_tree<V>`).
    pub ratchet_tree: Vec<u8>,
    /// Proposals accepted this epoch, with their acceptance times.
    pub pending_proposals: Vec<(Vec<u8>, u64)>,
}

impl Room {
    /// Proposes, as the hub, to remove a member client (a lost device or a
    /// deleted user), queues the proposal and plans its fan-out. The room
    /// policy must authorize the hub (e.g. as its policy enforcer).
    ///
    /// # Errors
    /// [`HubError::NotAllowed`] if the client is not a member,
    /// [`HubError::Denied`] if the policy refuses the hub, or the errors of
    /// proposal validation.
    pub fn propose_remove(
        &mut self,
        hub: &Hub,
        client: &ClientId,
        now: u64,
    ) -> Result<Accepted, HubError> {
        let message = self.hub_remove_message(hub, client)?;
        self.queue_bundle(hub, vec![message], now, Some(client.clone()))
    }

    /// Authorizes `client` (with credential `claims`) to join by external
    /// commit — as a listed user adding a device, by preauthorization, open
    /// join or a join code — records that it fetched the GroupInfo with
    /// `signature_key`, and returns what it needs.
    ///
    /// # Errors
    /// [`HubError::Denied`] when the policy refuses the join,
    /// [`HubError::NotAllowed`] when too many joins are pending,
    /// [`HubError::GroupInfoUnverified`] when the epoch's GroupInfo does not
    /// verify.
    pub fn join_material(
        &mut self,
        crypto: &impl OpenMlsCrypto,
        client: &ClientId,
        claims: &Claims,
        signature_key: &[u8],
        join_code: Option<&[u8]>,
    ) -> Result<JoinMaterial, HubError> {
        let path = self
            .effective
            .authorize_join(client, claims, join_code)
            .map_err(HubError::denied)?;
        self.verify_group_info(crypto)?;
        if self.pending_joiners.len() >= MAX_PENDING_JOINERS
            && !self.pending_joiners.contains_key(client)
        {
            return Err(HubError::NotAllowed(
                "too many pending external joins".into(),
            ));
        }
        self.pending_joiners.insert(
            client.clone(),
            PendingJoiner {
                signature_key: signature_key.to_vec(),
                join_code: join_code.map(<[u8]>::to_vec),
            },
        );
        let ratchet_tree = ratchet_tree_bytes(self.group.treesync())?;
        Ok(JoinMaterial {
            path,
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
    fn hub_sender_index(&self, hub: &Hub) -> Result<SenderExtensionIndex, HubError> {
        let ours = hub.keys().external_sender();
        self.group
            .group_context()
            .extensions()
            .external_senders()
            .and_then(|senders| senders.iter().position(|s| s == &ours))
            .and_then(|i| u32::try_from(i).ok())
            .map(SenderExtensionIndex::new)
            .ok_or(HubError::Internal(
                "the hub is missing from external_senders",
            ))
    }

    pub(crate) fn hub_remove_message(
        &self,
        hub: &Hub,
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
            hub.keys().signer(),
            self.hub_sender_index(hub)?,
        )
        .map_err(|_| HubError::Internal("signing a hub proposal failed"))?;
        let bytes = out
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("hub proposal does not serialize"))?;
        MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|_| HubError::Internal("hub proposal does not decode"))
    }
}
