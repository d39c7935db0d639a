//! Leaving a room (protocol-06 §3.5, digest §6.6): a member cannot commit its
//! own removal, so the leaving client proposes it — the participant-list
//! removal of its user, a SelfRemove of itself and a Remove of each other
//! client of its user — and the hub queues the bundle for the next committer.

use openmls::prelude::hash_ref::ProposalRef;
use openmls::prelude::{AppDataUpdateOperation as MlsOp, Proposal as MlsProposal, Sender};
use openmls_traits::OpenMlsProvider as _;

use mimi_policy::{Actor, Change, Proposal};
use mimi_proto::RoomId;
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, ComponentId, ParticipantId, ParticipantListUpdate,
};

use crate::client::Client;
use crate::client_room::RoomStatus;
use crate::error::ClientError;
use crate::events::OutgoingProposals;
use crate::membership::effective_state;
use crate::policy::{self, context};
use crate::storage::Batch;
use mimi_mls::client_of;

impl Client {
    /// Proposes to leave `room`: the bundle for the hub's `update` endpoint.
    /// The proposals stay in our store; withdraw them with
    /// [`Client::proposals_refused`] if the hub refuses.
    ///
    /// # Errors
    /// [`ClientError::State`] if the room is not active, a commit is pending or
    /// we are not listed; [`ClientError::Denied`] if room policy refuses the
    /// leave (e.g. the last admin, or a fixed-membership room).
    pub fn leave(&mut self, room: &RoomId) -> Result<OutgoingProposals, ClientError> {
        let now = self.clock.now_ms();
        let me_user = ParticipantId::from(self.identity.user().clone());
        let me = Actor::Client(self.identity.client().clone());
        let Self {
            rooms,
            provider,
            identity,
            ..
        } = self;
        let r = rooms
            .get_mut(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))?;
        if r.status != RoomStatus::Active {
            return Err(ClientError::State("room is not active for this client"));
        }
        if r.group.pending_commit().is_some() {
            return Err(ClientError::State("a commit is pending"));
        }
        let effective = effective_state(r, now)?;
        let index = effective
            .participants()
            .position(|(p, _)| p == &me_user)
            .ok_or(ClientError::State("we are not listed"))?;
        let update = ParticipantListUpdate {
            removed_indices: vec![
                u32::try_from(index).map_err(|_| ClientError::Internal("list index overflows"))?,
            ],
            ..ParticipantListUpdate::default()
        }
        .encode()
        .map_err(|_| ClientError::Encode("participant-list update too large".into()))?;
        let own_leaf = r.group.own_leaf_index();
        let other_leaves: Vec<_> = r
            .group
            .members()
            .filter(|m| m.index != own_leaf)
            .filter(|m| {
                client_of(&m.credential).and_then(|c| c.user()).as_ref() == Some(identity.user())
            })
            .map(|m| m.index)
            .collect();

        // Judge the bundle as the hub will, against the effective state.
        let mut proposals = policy::pending_proposals(&r.group)?;
        proposals.push(Proposal::new(
            me.clone(),
            Change::AppData(AppDataUpdate {
                component_id: ComponentId::PARTICIPANT_LIST,
                op: AppDataUpdateOperation::Update(update.clone()),
            }),
        ));
        for leaf in other_leaves.iter().copied().chain([own_leaf]) {
            let client = r
                .group
                .member_at(leaf)
                .and_then(|m| client_of(&m.credential))
                .ok_or(ClientError::Internal("own leaf is not a member"))?;
            proposals.push(Proposal::new(me.clone(), Change::remove(client)));
        }
        r.state.evaluate_proposals(&context(now), &proposals)?;

        let mls = |e: String| ClientError::Mls(e);
        let (first, first_ref) = r
            .group
            .propose_app_data_update(
                &*provider,
                identity.signer(),
                ComponentId::PARTICIPANT_LIST.0,
                MlsOp::Update(update.into()),
            )
            .map_err(|e| mls(format!("propose participant-list removal: {e}")))?;
        let mut more = Vec::new();
        let mut refs = vec![first_ref];
        for leaf in other_leaves {
            let (message, reference) = r
                .group
                .propose_remove_member(&*provider, identity.signer(), leaf)
                .map_err(|e| mls(format!("propose removal: {e}")))?;
            more.push(message);
            refs.push(reference);
        }
        more.push(
            r.group
                .leave_group_via_self_remove(&*provider, identity.signer())
                .map_err(|e| mls(format!("propose SelfRemove: {e}")))?,
        );
        refs.extend(
            r.group
                .pending_proposals()
                .filter(|qp| {
                    matches!(qp.proposal(), MlsProposal::SelfRemove)
                        && qp.sender() == &Sender::Member(own_leaf)
                })
                .map(|qp| qp.proposal_reference_ref().clone()),
        );
        self.persist(Batch::default())?;
        Ok(OutgoingProposals {
            room: room.clone(),
            proposal: first,
            more,
            refs,
        })
    }

    /// Withdraws our proposals the hub refused, so no commit of ours includes
    /// them.
    ///
    /// # Errors
    /// [`ClientError::UnknownRoom`], [`ClientError::Storage`].
    pub fn proposals_refused(
        &mut self,
        room: &RoomId,
        refs: &[ProposalRef],
    ) -> Result<(), ClientError> {
        let Self {
            rooms, provider, ..
        } = self;
        let r = rooms
            .get_mut(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))?;
        for reference in refs {
            r.group
                .remove_pending_proposal(provider.storage(), reference)
                .map_err(|e| ClientError::Storage(format!("withdrawing a proposal: {e:?}")))?;
        }
        self.persist(Batch::default())
    }
}
