//! The commit pipeline (protocol-06 §5.3, digest §7.1), steps numbered as there:
//! check, stage, plan, then merge (decision HUB-8).

use std::collections::{BTreeMap, BTreeSet};

use openmls::framing::{ProcessedMessageContent, ProtocolMessage};
use openmls::group::{PublicGroup, StagedCommit};
use openmls::messages::proposals_in::ProposalOrRefIn;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{ContentType, MlsMessageBodyIn, MlsMessageIn, Sender, WireFormat};

use mimi_mls::{RoomGroup as _, claims_of, client_of, group_id_of};
use mimi_policy::{Actor, Context, RoomState, Staged};
use mimi_proto::messages::{RawFanoutMessage, parse_commit};
use mimi_proto::{ClientId, ProviderId};
use openmls_memory_storage::MemoryStorage;

use crate::error::HubError;
use crate::fanout::Delivery;
use crate::fault::{self, Fault};
use crate::hub::Hub;
use crate::room::{QueuedEntry, Room};
use crate::tree::ratchet_tree_bytes;

/// A commit as it arrives in a `HandshakeBundle` (protocol-06 §5.3).
#[derive(Debug)]
pub struct CommitBundle {
    /// The commit `MLSMessage` (must be a PublicMessage).
    pub commit: MlsMessageIn,
    /// The Welcome for added members, if any.
    pub welcome: Option<MlsMessageIn>,
    /// The new epoch's GroupInfo, as the committer signed it.
    pub group_info: MlsMessageIn,
}

/// What the hub committed to when it accepted an event.
#[derive(Debug)]
pub struct Accepted {
    /// Acceptance time, ms since the UNIX epoch (`success(accepted_timestamp)`).
    pub timestamp: u64,
    /// The room's epoch after the event.
    pub epoch: u64,
    /// Deliveries, in order.
    pub deliveries: Vec<Delivery>,
}

impl Room {
    /// Validates a commit and, if every check passes, applies it and plans its
    /// fan-out. On any error the room is unchanged.
    ///
    /// Check → stage → plan → merge: the checks and the policy read the room;
    /// the commit is staged; everything that can fail (the fan-out plan, the
    /// next epoch's group with the Welcome's tree and the hub's re-issued
    /// Removes, computed beside the current epoch) runs before the merge; the
    /// merge only moves the planned values into the room and cannot fail.
    ///
    /// # Errors
    /// [`HubError::WrongEpoch`] when the commit is for another epoch (the
    /// conflict rule: the first valid commit of an epoch wins),
    /// [`HubError::InvalidMls`] when OpenMLS rejects it,
    /// [`HubError::MissingQueuedProposals`] when it omits queued proposals,
    /// [`HubError::Denied`] when the room policy refuses it,
    /// [`HubError::Malformed`] for a bad GroupInfo or Welcome.
    pub fn accept_commit(
        &mut self,
        hub: &Hub,
        bundle: CommitBundle,
        now: u64,
    ) -> Result<Accepted, HubError> {
        let crypto = hub.crypto();
        let commit_bytes = bundle
            .commit
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("commit does not serialize"))?;

        // 1–2. A PublicMessage commit for this group.
        if bundle.commit.wire_format() != WireFormat::PublicMessage {
            return Err(HubError::Malformed(
                "handshake messages must be PublicMessage",
            ));
        }
        let message: ProtocolMessage = bundle
            .commit
            .try_into_protocol_message()
            .map_err(|_| HubError::Malformed("not a protocol message"))?;
        if message.content_type() != ContentType::Commit {
            return Err(HubError::Malformed("expected a commit"));
        }
        if message.group_id() != self.group.group_id() {
            return Err(HubError::Malformed("commit is for another group"));
        }
        // 3. One commit per epoch.
        if message.epoch() != self.group.group_context().epoch() {
            return Err(HubError::WrongEpoch {
                current: self.epoch(),
            });
        }
        // 4. Full MLS validation (everything but membership and confirmation tags).
        let processed =
            self.group
                .process_message(crypto, message)
                .map_err(|e| HubError::InvalidMls {
                    refs: Vec::new(),
                    reason: e.to_string(),
                })?;
        let sender = processed.sender().clone();
        let external = matches!(sender, Sender::NewMemberCommit);

        // The commit's proposals, in order, with their senders, as the policy
        // engine sees them (re-read from the now verified bytes).
        let parsed = parse_commit(&commit_bytes).map_err(mimi_mls::Error::from)?;
        let joiner = match (&sender, &parsed.path_leaf) {
            (Sender::NewMemberCommit, Some(leaf)) => {
                let (signature_key, credential) = (&leaf.signature_key, &leaf.credential);
                // 7. An external commit must come from a client that fetched the
                // GroupInfo, with the key it signed that request with (§5.6).
                let (client, claims) = claims_of(credential)?;
                let pending = self.pending_joiners.get(&client).ok_or_else(|| {
                    HubError::NotAllowed(format!("{client} did not request the GroupInfo"))
                })?;
                if pending.signature_key != *signature_key {
                    return Err(HubError::NotAllowed(
                        "external commit signed with another key than the GroupInfo request".into(),
                    ));
                }
                Some(Actor::Joiner {
                    client,
                    claims,
                    join_code: pending.join_code.clone(),
                })
            }
            (Sender::NewMemberCommit, None) => {
                return Err(HubError::Malformed(
                    "an external commit needs an update path",
                ));
            }
            _ => None,
        };
        let queued = self
            .group
            .queued_proposals(&self.storage)
            .map_err(|_| HubError::Internal("reading queued proposals failed"))?;
        let commit = self.group.policy_commit(&parsed, joiner, |reference| {
            queued
                .iter()
                .find(|(r, _)| r == reference)
                .map(|(_, qp)| qp)
        })?;

        // 6. The room policy, against the committed state: authorization, the
        // exclusivity rules and the post-commit invariants. It also computes
        // the new component data, which must be exactly what the committer put
        // in the GroupContext (checked below through the GroupInfo).
        let ctx = Context::new(now / 1000, hub.envelope());
        let verdict =
            self.committed
                .evaluate_commit(&ctx, &commit)
                .map_err(|r| HubError::Denied {
                    proposal: r.proposal.and_then(|i| proposal_ref(&parsed.proposals, i)),
                    denial: Box::new(r.denial),
                })?;
        let staged: StagedCommit = match processed.into_content() {
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                if !verdict.component_updates().is_empty() {
                    return Err(HubError::Internal(
                        "policy updated components of a plain commit",
                    ));
                }
                *staged
            }
            ProcessedMessageContent::UnresolvedAppDataCommit(unresolved) => {
                let updates = mimi_mls::app_data_updates(verdict.component_updates());
                self.group
                    .stage_app_data_commit(crypto, *unresolved, updates)
                    .map_err(|e| HubError::InvalidMls {
                        refs: Vec::new(),
                        reason: e.to_string(),
                    })?
            }
            _ => return Err(HubError::Malformed("expected a commit")),
        };

        if !external {
            // 5. Every proposal queued this epoch must be included. (External
            // commits cannot include proposals by reference; the hub re-issues
            // its own below instead.)
            let included: BTreeSet<Vec<u8>> = staged
                .queued_proposals()
                .filter_map(|p| p.proposal_reference_ref().tls_serialize_detached().ok())
                .collect();
            let missing = self
                .queue
                .iter()
                .filter(|q| !included.contains(&q.reference))
                .count();
            if missing > 0 {
                return Err(HubError::MissingQueuedProposals(missing));
            }
        }
        // Removed clients: by Remove, and leavers by SelfRemove (whose
        // provider may have no member left to learn of it otherwise).
        let self_removed =
            staged
                .queued_proposals()
                .filter_map(|p| match (p.proposal(), p.sender()) {
                    (openmls::prelude::Proposal::SelfRemove, Sender::Member(leaf)) => Some(*leaf),
                    _ => None,
                });
        let removed_providers: BTreeSet<ProviderId> = staged
            .remove_proposals()
            .map(|r| r.remove_proposal().removed())
            .chain(self_removed)
            .filter_map(|leaf| self.group.leaf(leaf))
            .filter_map(|leaf| client_of(leaf.credential()))
            .map(|c| c.as_uri().provider())
            .collect();
        let welcome = bundle.welcome.map(welcome_parts).transpose()?;
        let welcome_refs = welcome.as_ref().map_or(&[][..], |(_, refs)| refs);
        if staged.add_proposals().next().is_some() && welcome_refs.is_empty() {
            return Err(HubError::Malformed(
                "a commit that adds members needs a Welcome",
            ));
        }
        let committer_leaf = match sender {
            Sender::Member(leaf) => leaf,
            Sender::NewMemberCommit => self
                .group
                .ext_commit_sender_index(&staged)
                .map_err(|_| HubError::Internal("external committer leaf missing"))?,
            _ => return Err(HubError::Malformed("commit from an external sender")),
        };

        // The GroupInfo must match the new epoch, which exists only after the
        // merge, so check it against the staged commit: this also proves the
        // committer computed the same room state as the hub.
        let group_info = Self::check_group_info_context(&staged, bundle.group_info)?;
        fault::hit(&self.id, Fault::Staged)?;

        // Plan, with the room unchanged. Fan-out: the commit to every provider
        // with members after the commit and to the providers of removed
        // clients, so they learn of it; that is every provider with members
        // before it, plus those of added clients (and an external joiner).
        let own = hub.keys().provider().clone();
        let joiner = match &commit.committer {
            Actor::Joiner { client, .. } => Some(client.clone()),
            _ => None,
        };
        let mut destinations = self.member_providers(&own);
        destinations.extend(removed_providers);
        let mut added_domains = BTreeMap::new();
        for client in staged
            .add_proposals()
            .filter_map(|a| client_of(a.add_proposal().key_package().leaf_node().credential()))
            .chain(joiner.clone())
        {
            added_domains
                .entry(client.domain().to_owned())
                .or_insert(client);
        }
        destinations.extend(added_domains.into_values().map(|c| c.as_uri().provider()));
        let welcome_owners: BTreeSet<ProviderId> = welcome_refs
            .iter()
            // A KeyPackage not fetched through this hub routes nowhere; the
            // hub's own provider (local clients) is the fallback.
            .map(|r| {
                self.kp_routes
                    .get(r)
                    .cloned()
                    .unwrap_or_else(|| own.clone())
            })
            .collect();
        // After an external commit, the hub re-issues its still-needed Removes
        // in the new epoch (issue #128): judged against the new committed state.
        let hub_intents: Vec<ClientId> = if external {
            self.queue
                .iter()
                .filter_map(|q| q.hub_removes.clone())
                .collect()
        } else {
            Vec::new()
        };
        let next_state = if hub_intents.is_empty() {
            NextState::Apply(verdict)
        } else {
            let mut committed = self.committed.clone();
            committed.apply(verdict);
            NextState::Computed(committed)
        };
        // Swapped out of the effective state at the merge, so applying the
        // verdict does not copy maps the two share.
        let empty = empty_state()?;

        // The next epoch, computed beside the current one: OpenMLS merges the
        // group into a fresh storage, so `self.storage` keeps the current
        // epoch and the group is reloaded from it if a step below fails.
        let next_storage = MemoryStorage::default();
        let next = self.plan_next_epoch(
            hub,
            staged,
            &next_storage,
            welcome.is_some(),
            hub_intents,
            &next_state,
            now,
        );
        let next = match next {
            Ok(next) => next,
            Err(e) => {
                self.reload_group()?;
                return Err(e);
            }
        };

        // Merge: nothing below can fail.
        let mut deliveries: Vec<Delivery> = destinations
            .into_iter()
            .map(|to| Delivery {
                to,
                event: RawFanoutMessage::Commit {
                    timestamp: now,
                    message: commit_bytes.clone(),
                    external_proposals: next.reissued.iter().map(|q| q.message.clone()).collect(),
                },
            })
            .collect();
        if let (Some((message, welcome_refs)), Some(ratchet_tree)) = (welcome, next.ratchet_tree) {
            for r in &welcome_refs {
                self.kp_routes.remove(r);
            }
            for to in welcome_owners {
                deliveries.push(Delivery {
                    to,
                    event: RawFanoutMessage::Welcome {
                        timestamp: now,
                        message: message.clone(),
                        ratchet_tree: ratchet_tree.clone(),
                    },
                });
            }
        }
        self.storage = next_storage;
        self.group_info = group_info;
        self.group_info_signer = Some(committer_leaf);
        match (next_state, next.effective) {
            (NextState::Computed(committed), Some(effective)) => {
                self.committed = committed;
                self.effective = effective;
            }
            (NextState::Computed(committed), None) => {
                self.committed = committed;
                self.effective = self.committed.clone();
            }
            (NextState::Apply(verdict), _) => {
                self.effective = empty;
                self.committed.apply(verdict);
                self.effective = self.committed.clone();
            }
        }
        self.queue = next.reissued;
        if let Some(joiner) = joiner {
            self.pending_joiners.remove(&joiner);
        }
        Ok(Accepted {
            timestamp: now,
            epoch: self.epoch(),
            deliveries,
        })
    }

    /// Moves the group to the next epoch beside the current one (into
    /// `storage`) and plans what needs it: the Welcome's ratchet tree and the
    /// hub's re-issued Removes, judged against the next committed state and
    /// queued in `storage`. On error the caller reloads the group.
    #[allow(clippy::too_many_arguments)]
    fn plan_next_epoch(
        &mut self,
        hub: &Hub,
        staged: StagedCommit,
        storage: &MemoryStorage,
        welcome: bool,
        hub_intents: Vec<ClientId>,
        next_state: &NextState,
        now: u64,
    ) -> Result<NextEpoch, HubError> {
        self.group
            .merge_commit(storage, staged)
            .map_err(|_| HubError::Internal("merging a validated commit failed"))?;
        fault::hit(&self.id, Fault::Merged)?;
        let ratchet_tree = if welcome {
            Some(ratchet_tree_bytes(self.group.treesync())?)
        } else {
            None
        };
        fault::hit(&self.id, Fault::TreeBytes)?;
        let mut reissued = Vec::new();
        let mut effective = None;
        if let NextState::Computed(committed) = next_state {
            let mut state = committed.clone();
            for client in hub_intents {
                if committed.member(&client).is_none() {
                    continue;
                }
                let message = self.hub_remove_message(hub, &client)?;
                let bundle =
                    self.stage_bundle(hub, vec![message], now, Some(client), &state, &reissued)?;
                fault::hit(&self.id, Fault::Reissued)?;
                let (proposals, entries, verdict) = bundle.into_parts();
                for qp in proposals {
                    self.group
                        .add_proposal(storage, qp)
                        .map_err(|_| HubError::Internal("queueing a proposal failed"))?;
                }
                reissued.extend(entries);
                state.apply(verdict);
            }
            effective = Some(state);
        }
        Ok(NextEpoch {
            ratchet_tree,
            reissued,
            effective,
        })
    }

    /// Reloads the group from `self.storage` after a failed plan moved it to
    /// the next epoch in memory: the storage still holds the current epoch.
    fn reload_group(&mut self) -> Result<(), HubError> {
        self.group = PublicGroup::load(&self.storage, &group_id_of(&self.id))
            .ok()
            .flatten()
            .ok_or(HubError::Internal("the current epoch does not reload"))?;
        Ok(())
    }
}

/// The committed state after a commit: the verdict to apply at the merge, or,
/// when the hub re-issues Removes that must be judged against it, the state
/// computed ahead.
#[allow(
    clippy::large_enum_variant,
    reason = "one value per commit, on the stack; boxing would add an allocation"
)]
enum NextState {
    Apply(Staged),
    Computed(RoomState),
}

/// What the next epoch's group gave the plan.
struct NextEpoch {
    /// The Welcome's ratchet tree, when the commit has a Welcome.
    ratchet_tree: Option<Vec<u8>>,
    /// The hub's re-issued Removes, queued in the next epoch.
    reissued: Vec<QueuedEntry>,
    /// The effective state with them applied, when any were judged.
    effective: Option<RoomState>,
}

/// The ProposalRef of the `index`th proposal of a commit, when it was sent by
/// reference (inline proposals have no reference to report).
fn proposal_ref(
    proposals: &[ProposalOrRefIn],
    index: usize,
) -> Option<openmls::prelude::hash_ref::ProposalRef> {
    match proposals.get(index)? {
        ProposalOrRefIn::Reference(r) => Some((**r).clone()),
        ProposalOrRefIn::Proposal(_) => None,
    }
}

/// A Welcome's bytes, as fanned out, and the KeyPackageRefs it is encrypted
/// to (`secrets[*].new_member`). Serialized first, so the message is then
/// taken apart by value rather than cloned.
fn welcome_parts(welcome: MlsMessageIn) -> Result<(Vec<u8>, Vec<Vec<u8>>), HubError> {
    let bytes = welcome
        .tls_serialize_detached()
        .map_err(|_| HubError::Internal("Welcome does not serialize"))?;
    let MlsMessageBodyIn::Welcome(w) = welcome.extract() else {
        return Err(HubError::Malformed("welcome field does not hold a Welcome"));
    };
    let refs = w
        .secrets()
        .iter()
        .map(|s| {
            s.new_member()
                .tls_serialize_detached()
                .map_err(|_| HubError::Internal("KeyPackageRef does not serialize"))
        })
        .collect::<Result<_, _>>()?;
    Ok((bytes, refs))
}

/// A state holding nothing, to drop the old effective state cheaply.
fn empty_state() -> Result<mimi_policy::RoomState, HubError> {
    mimi_policy::RoomState::from_committed(Default::default(), Vec::new())
        .map_err(|_| HubError::Internal("an empty room state is inconsistent"))
}
