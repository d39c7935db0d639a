//! The `groupInfo` endpoint's logic (protocol-06 §5.6): a client that wants to
//! join by external commit gets the room's GroupInfo, ratchet tree and pending
//! proposals, encrypted to it and signed by the hub.

use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, RatchetTreeIn};

use mimi_proto::messages::{
    GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoResponse, GroupInfoResponseTbs,
    PendingProposal, ProposalMessage, RatchetTreeOption,
};
use mimi_proto::mls_profile::CIPHERSUITE;

use crate::error::HubError;
use crate::hub::Hub;
use crate::room::Room;

impl Room {
    /// Answers a GroupInfoRequest: verifies its signature, authorizes the
    /// requester through the room policy (own new device, preauthorization,
    /// open join or join code), records it as a pending joiner, and returns the
    /// encrypted, hub-signed GroupInfo — or `notAuthorized`.
    ///
    /// # Errors
    /// [`HubError::Malformed`] for a request whose signature does not verify or
    /// whose credential is not a mimi client; [`HubError::Internal`] if
    /// encryption or signing fails.
    pub fn answer_group_info(
        &mut self,
        hub: &Hub,
        request: &GroupInfoRequest,
    ) -> Result<GroupInfoResponse, HubError> {
        request
            .verify(hub.crypto())
            .map_err(|_| HubError::Malformed("GroupInfoRequest signature does not verify"))?;
        let tbs = &request.tbs;
        let (client, claims) = mimi_mls::claims_of(&tbs.requesting_credential)?;
        let code = (!tbs.joining_code.is_empty()).then_some(tbs.joining_code.as_slice());
        let material = match self.join_material(
            hub.crypto(),
            &client,
            &claims,
            tbs.requesting_signature_key.as_slice(),
            code,
        ) {
            Ok(m) => m,
            Err(HubError::Denied { denial, .. }) => {
                tracing::info!(room = %self.id, %client, %denial, "groupInfo refused");
                return Ok(GroupInfoResponse::NotAuthorized {
                    room_id: self.id.clone(),
                });
            }
            Err(e) => return Err(e),
        };

        let MlsMessageBodyIn::GroupInfo(group_info) =
            MlsMessageIn::tls_deserialize_exact(&material.group_info)
                .map_err(|_| HubError::Internal("stored GroupInfo does not decode"))?
                .extract()
        else {
            return Err(HubError::Internal("stored GroupInfo is not a GroupInfo"));
        };
        let tree = RatchetTreeIn::tls_deserialize_exact(&material.ratchet_tree)
            .map_err(|_| HubError::Internal("ratchet tree does not decode"))?;
        let mut pending_proposals = Vec::with_capacity(material.pending_proposals.len());
        for (bytes, time) in &material.pending_proposals {
            let message = MlsMessageIn::tls_deserialize_exact(bytes)
                .map_err(|_| HubError::Internal("queued proposal does not decode"))?;
            pending_proposals.push(PendingProposal {
                proposal: ProposalMessage::try_from(message)
                    .map_err(|_| HubError::Internal("queued message is not a proposal"))?,
                hub_accepted_time: *time,
            });
        }
        let tbe = GroupInfoRatchetTreeTbe {
            group_info: Box::new(group_info),
            ratchet_tree_option: RatchetTreeOption::Full(tree),
            pending_proposals,
        };
        let encrypted = tbe
            .encrypt(
                hub.crypto(),
                tbs.cipher_suite,
                tbs.group_info_public_key.as_slice(),
                &self.id,
            )
            .map_err(|_| HubError::Malformed("groupInfoPublicKey is not usable"))?;
        GroupInfoResponseTbs {
            room_id: self.id.clone(),
            cipher_suite: CIPHERSUITE,
            hub_sender: hub.keys().external_sender(),
            encrypted_groupinfo_and_tree: encrypted,
        }
        .sign(hub.keys().signer())
        .map_err(|_| HubError::Internal("signing the GroupInfoResponse failed"))
    }
}
