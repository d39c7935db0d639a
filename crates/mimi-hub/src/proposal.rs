//! Standalone proposals (protocol-06 §5.3 proposal case, digest §7.2): leave,
//! remove-own-client, follower and hub external proposals.
//!
//! Accepted proposals are queued for the epoch, applied to the room's
//! effective state at once, fanned out with identical `moreProposals`, and
//! must be included by the epoch's commit (see [`Room::accept_commit`]).

use openmls::framing::{ProcessedMessageContent, ProtocolMessage};
use openmls::group::QueuedProposal;
use openmls::prelude::hash_ref::ProposalRef;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{ContentType, MlsMessageIn, WireFormat};

use mimi_policy::{Context, RoomState, Staged};
use mimi_proto::ClientId;
use mimi_proto::messages::RawFanoutMessage;

use crate::commit::Accepted;
use crate::error::HubError;
use crate::fanout::Delivery;
use crate::fault::{self, Fault};
use crate::hub::Hub;
use crate::room::{QueuedEntry, Room};
use mimi_mls::RoomGroup as _;

/// Most proposals one bundle may carry. A leave is one Remove per client plus
/// one participant-list update; this leaves room for users with many devices
/// while bounding the work of one request.
pub const MAX_BUNDLE_PROPOSALS: usize = 256;

/// A proposal bundle as it arrives in a `HandshakeBundle` (protocol-06 §5.3).
#[derive(Debug)]
pub struct ProposalBundle {
    /// The first proposal.
    pub proposal: MlsMessageIn,
    /// The rest of the bundle (`moreProposals`).
    pub more: Vec<MlsMessageIn>,
}

/// A proposal bundle that passed every check, ready to queue.
pub(crate) struct StagedBundle {
    /// The validated proposals, for the group's proposal store.
    proposals: Vec<QueuedProposal>,
    /// Their queue entries, in bundle order.
    entries: Vec<QueuedEntry>,
    /// The policy's verdict on the bundle, to apply to the effective state.
    verdict: Staged,
}

impl StagedBundle {
    /// The proposals, their queue entries and the verdict.
    pub(crate) fn into_parts(self) -> (Vec<QueuedProposal>, Vec<QueuedEntry>, Staged) {
        (self.proposals, self.entries, self.verdict)
    }
}

impl Room {
    /// Validates every proposal of a bundle and, only if all pass MLS
    /// validation and the room policy together, queues them for the epoch,
    /// applies them to the effective state and plans their fan-out.
    ///
    /// # Errors
    /// [`HubError::WrongEpoch`] for another epoch, [`HubError::InvalidMls`]
    /// when OpenMLS rejects a proposal, [`HubError::Denied`] when the policy
    /// refuses the bundle, [`HubError::Malformed`] for a non-proposal or an
    /// oversized bundle.
    pub fn accept_proposals(
        &mut self,
        hub: &Hub,
        bundle: ProposalBundle,
        now: u64,
    ) -> Result<Accepted, HubError> {
        if bundle.more.len() >= MAX_BUNDLE_PROPOSALS {
            return Err(HubError::Malformed("too many proposals in one bundle"));
        }
        let messages: Vec<MlsMessageIn> = std::iter::once(bundle.proposal)
            .chain(bundle.more)
            .collect();
        self.queue_bundle(hub, messages, now, None)
    }

    /// Validates and queues `messages` as one bundle. `hub_removes` marks the
    /// hub's own Remove proposal. On any error the room is unchanged: every
    /// check runs first, then the proposals are queued, and a failed queueing
    /// takes back the ones queued before it.
    pub(crate) fn queue_bundle(
        &mut self,
        hub: &Hub,
        messages: Vec<MlsMessageIn>,
        now: u64,
        hub_removes: Option<ClientId>,
    ) -> Result<Accepted, HubError> {
        let staged = self.stage_bundle(
            hub,
            messages,
            now,
            hub_removes,
            &self.effective,
            &self.queue,
        )?;
        let (first, more) = staged
            .entries
            .split_first()
            .map(|(first, more)| {
                (
                    first.message.clone(),
                    more.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
                )
            })
            .ok_or(HubError::Internal("empty bundle"))?;
        let deliveries = self
            .member_providers(hub.keys().provider())
            .into_iter()
            .map(|to| Delivery {
                to,
                event: RawFanoutMessage::Proposal {
                    timestamp: now,
                    message: first.clone(),
                    more_proposals: more.clone(),
                },
            })
            .collect();

        let (proposals, entries, verdict) = staged.into_parts();
        let mut queued: Vec<ProposalRef> = Vec::with_capacity(proposals.len());
        for qp in proposals {
            let reference = qp.proposal_reference_ref().clone();
            let added = fault::hit(&self.id, Fault::Queue).and_then(|()| {
                self.group
                    .add_proposal(&self.storage, qp)
                    .map_err(|_| HubError::Internal("queueing a proposal failed"))
            });
            if let Err(e) = added {
                for r in &queued {
                    // In-memory storage: removing what was just added fails
                    // only if OpenMLS cannot serialize its own refs.
                    if self.group.remove_proposal(&self.storage, r).is_err() {
                        return Err(HubError::Internal("unqueueing a proposal failed"));
                    }
                }
                return Err(e);
            }
            queued.push(reference);
        }
        self.queue.extend(entries);
        self.effective.apply(verdict);
        Ok(Accepted {
            timestamp: now,
            epoch: self.epoch(),
            deliveries,
        })
    }

    /// Validates `messages` as one bundle against `state` (OpenMLS, then the
    /// policy on the bundle as a whole), refusing proposals already in
    /// `queue`. Reads the room only.
    pub(crate) fn stage_bundle(
        &self,
        hub: &Hub,
        messages: Vec<MlsMessageIn>,
        now: u64,
        hub_removes: Option<ClientId>,
        state: &RoomState,
        queue: &[QueuedEntry],
    ) -> Result<StagedBundle, HubError> {
        let mut wire = Vec::with_capacity(messages.len());
        let mut queued: Vec<QueuedProposal> = Vec::with_capacity(messages.len());
        let mut policy = Vec::with_capacity(messages.len());
        for message in messages {
            wire.push(
                message
                    .tls_serialize_detached()
                    .map_err(|_| HubError::Internal("proposal does not serialize"))?,
            );
            let qp = self.validate_proposal(hub, message)?;
            policy.push(self.group.policy_proposal(&qp)?);
            queued.push(qp);
        }
        // The policy judges the bundle as a whole, against the effective state.
        let ctx = Context::new(now / 1000, hub.envelope());
        let verdict = state
            .evaluate_proposals(&ctx, &policy)
            .map_err(|r| HubError::Denied {
                proposal: r
                    .proposal
                    .and_then(|i| queued.get(i))
                    .map(|qp| qp.proposal_reference_ref().clone()),
                denial: Box::new(r.denial),
            })?;
        let mut entries: Vec<QueuedEntry> = Vec::with_capacity(queued.len());
        for (qp, message) in queued.iter().zip(wire) {
            let reference = qp
                .proposal_reference_ref()
                .tls_serialize_detached()
                .map_err(|_| HubError::Internal("proposal ref does not serialize"))?;
            if queue
                .iter()
                .chain(&entries)
                .any(|q| q.reference == reference)
            {
                return Err(HubError::Malformed("proposal already queued"));
            }
            entries.push(QueuedEntry {
                reference,
                message,
                accepted_at: now,
                hub_removes: hub_removes.clone(),
                bundle_start: entries.is_empty(),
            });
        }
        Ok(StagedBundle {
            proposals: queued,
            entries,
            verdict,
        })
    }

    fn validate_proposal(
        &self,
        hub: &Hub,
        message: MlsMessageIn,
    ) -> Result<QueuedProposal, HubError> {
        if message.wire_format() != WireFormat::PublicMessage {
            return Err(HubError::Malformed(
                "handshake messages must be PublicMessage",
            ));
        }
        let message: ProtocolMessage = message
            .try_into_protocol_message()
            .map_err(|_| HubError::Malformed("not a protocol message"))?;
        if message.content_type() != ContentType::Proposal {
            return Err(HubError::Malformed("expected a proposal"));
        }
        if message.group_id() != self.group.group_id() {
            return Err(HubError::Malformed("proposal is for another group"));
        }
        if message.epoch() != self.group.group_context().epoch() {
            return Err(HubError::WrongEpoch {
                current: self.epoch(),
            });
        }
        let processed = self
            .group
            .process_message(hub.crypto(), message)
            .map_err(|e| HubError::InvalidMls {
                refs: Vec::new(),
                reason: e.to_string(),
            })?;
        match processed.into_content() {
            ProcessedMessageContent::ProposalMessage(qp)
            | ProcessedMessageContent::ExternalJoinProposalMessage(qp) => Ok(*qp),
            _ => Err(HubError::Malformed("expected a proposal")),
        }
    }
}
