//! The commit pipeline (protocol-06 §5.3, digest §7.1), steps numbered as there.

use std::collections::BTreeSet;

use openmls::framing::{ProcessedMessageContent, ProtocolMessage};
use openmls::group::StagedCommit;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{ContentType, MlsMessageBodyIn, MlsMessageIn, Sender, WireFormat};
use openmls_traits::crypto::OpenMlsCrypto;

use mimi_proto::{ClientId, ProviderId};

use crate::error::HubError;
use crate::fanout::{Delivery, Event};
use crate::keys::HubKeys;
use crate::room::{Room, client_of};

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
    /// [`HubError::Malformed`] for a bad GroupInfo or Welcome.
    pub fn accept_commit(
        &mut self,
        crypto: &impl OpenMlsCrypto,
        keys: &HubKeys,
        bundle: CommitBundle,
        now: u64,
    ) -> Result<Accepted, HubError> {
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
        let staged: StagedCommit = match processed.into_content() {
            ProcessedMessageContent::StagedCommitMessage(staged) => *staged,
            ProcessedMessageContent::UnresolvedAppDataCommit(_) => {
                return Err(HubError::NotAllowed(
                    "room-state (AppDataUpdate) commits need the policy engine".into(),
                ));
            }
            _ => return Err(HubError::Malformed("expected a commit")),
        };
        let external = matches!(sender, Sender::NewMemberCommit);
        if external {
            // 7. An external commit must come from a client that fetched the
            // GroupInfo, with the key it signed that request with (§5.6).
            let leaf = staged.update_path_leaf_node().ok_or(HubError::Malformed(
                "an external commit needs an update path",
            ))?;
            let joiner = client_of(leaf.credential()).ok_or(HubError::NotAllowed(
                "joiner credential is not a mimi client URI".into(),
            ))?;
            let expected = self.pending_joiners.get(&joiner).ok_or_else(|| {
                HubError::NotAllowed(format!("{joiner} did not request the GroupInfo"))
            })?;
            if expected.as_slice() != leaf.signature_key().as_slice() {
                return Err(HubError::NotAllowed(
                    "external commit signed with another key than the GroupInfo request".into(),
                ));
            }
        } else {
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
        // Every added client must name a user (decision ID-3).
        for add in staged.add_proposals() {
            let credential = add.add_proposal().key_package().leaf_node().credential();
            if client_of(credential).is_none() {
                return Err(HubError::NotAllowed(
                    "an added client's credential is not a mimi client URI".into(),
                ));
            }
        }
        let removed_providers: BTreeSet<ProviderId> = staged
            .remove_proposals()
            .filter_map(|r| self.group.leaf(r.remove_proposal().removed()))
            .filter_map(|leaf| client_of(leaf.credential()))
            .map(|c| c.as_uri().provider())
            .collect();
        let welcome_refs = match &bundle.welcome {
            Some(w) => welcome_new_members(w)?,
            None => Vec::new(),
        };
        if staged.add_proposals().next().is_some() && welcome_refs.is_empty() {
            return Err(HubError::Malformed(
                "a commit that adds members needs a Welcome",
            ));
        }

        let committer = match sender {
            Sender::Member(leaf) => leaf,
            Sender::NewMemberCommit => self
                .group
                .ext_commit_sender_index(&staged)
                .map_err(|_| HubError::Internal("external committer leaf missing"))?,
            _ => return Err(HubError::Malformed("commit from an external sender")),
        };

        // The GroupInfo must match the new epoch, which exists only after the
        // merge. Check it on a copy of the storage first, so that a bad GroupInfo
        // leaves the room untouched.
        let group_info =
            self.check_group_info_after(crypto, &staged, bundle.group_info, committer)?;
        self.group
            .merge_commit(&self.storage, staged)
            .map_err(|_| HubError::Internal("merging a validated commit failed"))?;
        self.group_info = group_info;
        let hub_intents: Vec<ClientId> = std::mem::take(&mut self.queue)
            .into_iter()
            .filter_map(|q| q.hub_removes)
            .collect();
        if external
            && let Some(joiner) = self
                .group
                .leaf(committer)
                .and_then(|l| client_of(l.credential()))
        {
            self.pending_joiners.remove(&joiner);
        }
        // After an external commit, re-issue the hub's still-needed Removes in
        // the new epoch and staple them to the commit (issue #128).
        let mut external_proposals = Vec::new();
        if external {
            for client in hub_intents {
                if self.members().any(|(_, c)| c.as_ref() == Some(&client)) {
                    let message = self.hub_remove_message(keys, &client)?;
                    let accepted =
                        self.queue_bundle(crypto, keys, vec![message], now, Some(client))?;
                    external_proposals.extend(accepted.deliveries.into_iter().take(1).filter_map(
                        |d| match d.event {
                            Event::Proposal { message, .. } => Some(message),
                            _ => None,
                        },
                    ));
                }
            }
        }

        // Fan-out: the commit to every provider with members (after the commit)
        // and to the providers of removed clients, so they learn of it.
        let hub = keys.provider().clone();
        let mut destinations = self.member_providers(&hub);
        destinations.extend(removed_providers);
        let mut deliveries: Vec<Delivery> = destinations
            .into_iter()
            .map(|to| Delivery {
                to,
                event: Event::Commit {
                    timestamp: now,
                    message: commit_bytes.clone(),
                    external_proposals: external_proposals.clone(),
                },
            })
            .collect();
        if let Some(welcome) = bundle.welcome {
            let message = welcome
                .tls_serialize_detached()
                .map_err(|_| HubError::Internal("Welcome does not serialize"))?;
            let ratchet_tree = self
                .group
                .export_ratchet_tree()
                .tls_serialize_detached()
                .map_err(|_| HubError::Internal("ratchet tree does not serialize"))?;
            let mut owners = BTreeSet::new();
            for r in &welcome_refs {
                // A KeyPackage not fetched through this hub routes nowhere; the
                // adder's own provider (local clients) is the fallback.
                owners.insert(self.kp_routes.remove(r).unwrap_or_else(|| hub.clone()));
            }
            for to in owners {
                deliveries.push(Delivery {
                    to,
                    event: Event::Welcome {
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

/// The KeyPackageRefs a Welcome is encrypted to (`secrets[*].new_member`).
fn welcome_new_members(welcome: &MlsMessageIn) -> Result<Vec<Vec<u8>>, HubError> {
    let MlsMessageBodyIn::Welcome(w) = welcome.clone().extract() else {
        return Err(HubError::Malformed("welcome field does not hold a Welcome"));
    };
    w.secrets()
        .iter()
        .map(|s| {
            s.new_member()
                .tls_serialize_detached()
                .map_err(|_| HubError::Internal("KeyPackageRef does not serialize"))
        })
        .collect()
}
