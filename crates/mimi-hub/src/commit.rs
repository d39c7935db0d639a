//! The commit pipeline (protocol-06 §5.3, digest §7.1), steps numbered as there.

use std::collections::BTreeSet;

use openmls::framing::{ProcessedMessageContent, ProtocolMessage};
use openmls::group::StagedCommit;
use openmls::messages::proposals_in::ProposalOrRefIn;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{ContentType, MlsMessageBodyIn, MlsMessageIn, Sender, WireFormat};

use mimi_mls::{RoomGroup as _, claims_of, client_of};
use mimi_policy::{Actor, Context};
use mimi_proto::messages::{RawFanoutMessage, parse_commit};
use mimi_proto::{ClientId, ProviderId};

use crate::error::HubError;
use crate::fanout::Delivery;
use crate::hub::Hub;
use crate::room::Room;
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
        self.group
            .merge_commit(&self.storage, staged)
            .map_err(|_| HubError::Internal("merging a validated commit failed"))?;
        self.group_info = group_info;
        self.group_info_signer = Some(committer_leaf);
        // Drop the effective state first so applying does not copy shared maps.
        self.effective = empty_state()?;
        self.committed.apply(verdict);
        self.effective = self.committed.clone();
        let hub_intents: Vec<ClientId> = std::mem::take(&mut self.queue)
            .into_iter()
            .filter_map(|q| q.hub_removes)
            .collect();
        if external
            && let Some(joiner) = self
                .group
                .leaf(committer_leaf)
                .and_then(|l| client_of(l.credential()))
        {
            self.pending_joiners.remove(&joiner);
        }
        // After an external commit, re-issue the hub's still-needed Removes in
        // the new epoch and staple them to the commit (issue #128).
        let mut external_proposals = Vec::new();
        if external {
            for client in hub_intents {
                if self.committed.member(&client).is_some() {
                    let message = self.hub_remove_message(hub, &client)?;
                    let accepted = self.queue_bundle(hub, vec![message], now, Some(client))?;
                    external_proposals.extend(accepted.deliveries.into_iter().take(1).filter_map(
                        |d| match d.event {
                            RawFanoutMessage::Proposal { message, .. } => Some(message),
                            _ => None,
                        },
                    ));
                }
            }
        }

        // Fan-out: the commit to every provider with members (after the commit)
        // and to the providers of removed clients, so they learn of it.
        let own = hub.keys().provider().clone();
        let mut destinations = self.member_providers(&own);
        destinations.extend(removed_providers);
        let mut deliveries: Vec<Delivery> = destinations
            .into_iter()
            .map(|to| Delivery {
                to,
                event: RawFanoutMessage::Commit {
                    timestamp: now,
                    message: commit_bytes.clone(),
                    external_proposals: external_proposals.clone(),
                },
            })
            .collect();
        if let Some((message, welcome_refs)) = welcome {
            let ratchet_tree = ratchet_tree_bytes(self.group.treesync())?;
            let mut owners = BTreeSet::new();
            for r in &welcome_refs {
                // A KeyPackage not fetched through this hub routes nowhere; the
                // hub's own provider (local clients) is the fallback.
                owners.insert(self.kp_routes.remove(r).unwrap_or_else(|| own.clone()));
            }
            for to in owners {
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
        Ok(Accepted {
            timestamp: now,
            epoch: self.epoch(),
            deliveries,
        })
    }
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
