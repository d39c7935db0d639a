//! Processing what the hub fanned out, in the hub's order: commits (checked
//! against room policy, with AppDataUpdates resolved through the engine),
//! proposals (checked and stored for the next commit), Welcomes and
//! application messages; and the hub's answers to what we sent.
//!
//! Each event is processed and persisted together with the event cursor, so a
//! restart resumes after the last event that completed.

use openmls::framing::ProcessedMessageContent;
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{MlsMessageIn, ProtocolMessage, Sender};
use openmls_traits::OpenMlsProvider as _;

use mimi_policy::{Actor, RoomState, Summary};
use mimi_proto::RoomId;
use mimi_proto::messages::{RawFanoutMessage, UpdateOutcome};

use crate::client::Client;
use crate::client_room::{ClientRoom, RoomStatus};
use crate::error::ClientError;
use crate::events::RoomEvent;
use crate::policy::{self, committed_state, context};
use crate::storage::Batch;
use mimi_mls::RoomGroup as _;

/// What [`Client::process_batch`] did.
#[derive(Debug, Default)]
pub struct Processed {
    /// The events of every event processed, in order.
    pub events: Vec<RoomEvent>,
    /// The first event that failed (its cursor and error); processing
    /// stopped there and the stored cursor is that of the event before it.
    pub error: Option<(u64, ClientError)>,
}

impl Client {
    /// Processes one fanned-out event.
    ///
    /// # Errors
    /// [`ClientError::Malformed`] or [`ClientError::Mls`] for a message that
    /// is not valid for its room, [`ClientError::Denied`] for a commit that
    /// breaks room policy (it is not applied: the hub let through what every
    /// client must refuse), [`ClientError::State`] for a commit from a future
    /// epoch (events are missing). The client is unchanged on error.
    pub fn process(&mut self, incoming: RawFanoutMessage) -> Result<Vec<RoomEvent>, ClientError> {
        self.process_at(incoming, None)
    }

    /// [`Client::process`], recording `cursor` (the event's stream position)
    /// in the same transaction as the event's effects.
    ///
    /// # Errors
    /// As [`Client::process`].
    pub fn process_at(
        &mut self,
        incoming: RawFanoutMessage,
        cursor: Option<u64>,
    ) -> Result<Vec<RoomEvent>, ClientError> {
        let mut batch = Batch::default();
        let events = self.process_one(incoming, &mut batch)?;
        let cursor = self.cursor_batch(cursor);
        batch.meta.extend(cursor.meta);
        self.persist(batch)?;
        Ok(events)
    }

    /// Processes a backlog in order and stores the result in one transaction
    /// (one disk sync instead of one per event), with the cursor of the last
    /// event processed. Processing stops at the first event that fails; what
    /// came before it is kept and stored.
    ///
    /// # Errors
    /// [`ClientError::Storage`] if the transaction fails; an event's own error
    /// is reported in [`Processed::error`].
    pub fn process_batch(
        &mut self,
        events: impl IntoIterator<Item = (u64, RawFanoutMessage)>,
    ) -> Result<Processed, ClientError> {
        let mut batch = Batch::default();
        let mut out = Processed::default();
        let mut last = None;
        for (cursor, incoming) in events {
            match self.process_one(incoming, &mut batch) {
                Ok(events) => {
                    out.events.extend(events);
                    last = Some(cursor);
                }
                Err(e) => {
                    out.error = Some((cursor, e));
                    break;
                }
            }
        }
        let cursor = self.cursor_batch(last);
        batch.meta.extend(cursor.meta);
        self.persist(batch)?;
        Ok(out)
    }

    fn process_one(
        &mut self,
        incoming: RawFanoutMessage,
        batch: &mut Batch,
    ) -> Result<Vec<RoomEvent>, ClientError> {
        Ok(match incoming {
            RawFanoutMessage::Commit {
                timestamp,
                message,
                external_proposals,
            } => {
                let mut events = self.process_commit(timestamp, &message, batch)?;
                if !external_proposals.is_empty() {
                    // The commit is merged already: a bad stapled proposal must
                    // not keep it from being stored.
                    match self.process_proposals(timestamp, &external_proposals) {
                        Ok(more) => events.extend(more),
                        Err(e) => {
                            tracing::warn!(error = %e, "stapled hub proposals refused");
                            events.push(RoomEvent::Ignored {
                                room: None,
                                reason: "stapled hub proposals are invalid",
                            });
                        }
                    }
                }
                events
            }
            RawFanoutMessage::Proposal {
                timestamp,
                message,
                more_proposals,
            } => {
                let mut all = Vec::with_capacity(1 + more_proposals.len());
                all.push(message);
                all.extend(more_proposals);
                self.process_proposals(timestamp, &all)?
            }
            RawFanoutMessage::Welcome {
                timestamp,
                message,
                ratchet_tree,
            } => vec![self.process_welcome(timestamp, &message, &ratchet_tree, batch)?],
            RawFanoutMessage::Application {
                timestamp,
                message,
                frank,
            } => {
                vec![self.process_application(timestamp, &message, frank.as_deref(), batch)?]
            }
        })
    }

    /// The hub accepted our pending commit (`success`): merge it.
    ///
    /// # Errors
    /// [`ClientError::State`] if no commit is pending.
    pub fn commit_accepted(&mut self, room: &RoomId) -> Result<Vec<RoomEvent>, ClientError> {
        let Self {
            rooms, provider, ..
        } = self;
        let r = rooms
            .get_mut(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))?;
        // OpenMLS exposes only a member's pending commit; an external
        // commit is pending whenever the room is `Joining`.
        if r.status != RoomStatus::Joining && r.group.pending_commit().is_none() {
            return Err(ClientError::State("no commit is pending"));
        }
        let summary = r.pending.take().unwrap_or_default();
        let self_removed = r
            .group
            .pending_commit()
            .is_some_and(|staged| staged.self_removed());
        r.group
            .merge_pending_commit(&*provider)
            .map_err(|e| ClientError::Mls(format!("merging our commit: {e}")))?;
        let state = committed_state(&r.group)?;
        let event = merged(r, None, summary, true, self_removed, |s| *s = state);
        let batch = Batch {
            rooms: vec![Client::room_row(r)],
            ..Batch::default()
        };
        self.persist(batch)?;
        Ok(vec![event])
    }

    /// The hub refused our pending commit (or it is lost): discard it. A
    /// refused external join forgets the room.
    ///
    /// # Errors
    /// [`ClientError::UnknownRoom`], [`ClientError::Storage`].
    pub fn commit_rejected(&mut self, room: &RoomId) -> Result<(), ClientError> {
        let r = self.room_mut(room)?;
        if r.status == RoomStatus::Joining {
            return self.forget_room(room);
        }
        r.pending = None;
        let Self {
            rooms, provider, ..
        } = self;
        if let Some(r) = rooms.get_mut(room) {
            r.group
                .clear_pending_commit(provider.storage())
                .map_err(|e| ClientError::Storage(format!("{e:?}")))?;
        }
        self.persist(Batch::default())
    }

    /// Applies the hub's answer to our pending commit: merge on `success`,
    /// discard otherwise.
    ///
    /// # Errors
    /// As [`Client::commit_accepted`] and [`Client::commit_rejected`].
    pub fn commit_answered(
        &mut self,
        room: &RoomId,
        outcome: &UpdateOutcome,
    ) -> Result<Vec<RoomEvent>, ClientError> {
        match outcome {
            UpdateOutcome::Success { .. } => self.commit_accepted(room),
            _ => self.commit_rejected(room).map(|()| Vec::new()),
        }
    }

    fn process_commit(
        &mut self,
        timestamp: u64,
        bytes: &[u8],
        batch: &mut Batch,
    ) -> Result<Vec<RoomEvent>, ClientError> {
        let message = protocol_message(bytes)?;
        let Some(room) = self.room_of(&message) else {
            return Ok(vec![RoomEvent::Ignored {
                room: None,
                reason: "commit for a room we do not hold",
            }]);
        };
        let Self {
            rooms, provider, ..
        } = self;
        let r = rooms
            .get_mut(&room)
            .ok_or(ClientError::Internal("room vanished"))?;
        if r.status == RoomStatus::Removed {
            return Ok(vec![ignored(
                &room,
                "commit in a room we were removed from",
            )]);
        }
        let epoch = r.group.epoch();
        if message.epoch() < epoch {
            // Our own commit fanned back after we merged it on `success`, or a
            // duplicate delivery.
            return Ok(vec![ignored(&room, "commit of an epoch already processed")]);
        }
        if message.epoch() > epoch {
            return Err(ClientError::State(
                "commit from a future epoch: events are missing",
            ));
        }
        let mut events = Vec::new();
        if r.status == RoomStatus::Joining {
            // Another commit won the epoch our external commit was built on.
            let room_id = r.id.clone();
            self.forget_room(&room_id)?;
            return Ok(vec![RoomEvent::OwnCommitLost { room: room_id }]);
        }
        let processed = r
            .group
            .process_message(&*provider, message)
            .map_err(|e| ClientError::Mls(format!("processing commit: {e}")))?;
        let sender = processed.sender().clone();
        let content = processed.into_content();
        // Check, stage, then merge: everything that can fail runs before the
        // merge, and nothing after it can. The commit is judged first, as
        // every member judges it: the new room state is the verdict applied.
        let commit = policy::commit_from_bytes(&r.group, bytes)?;
        let judged = r.state.evaluate_commit(&context(timestamp), &commit)?;
        if matches!(content, ProcessedMessageContent::OwnPendingCommit) {
            // Our commit, fanned back before we heard the hub's answer (e.g.
            // after a restart): the hub accepted it.
            let self_removed = r
                .group
                .pending_commit()
                .is_some_and(|staged| staged.self_removed());
            r.group
                .merge_pending_commit(&*provider)
                .map_err(|e| ClientError::Mls(format!("merging our commit: {e}")))?;
            let summary = r.pending.take().unwrap_or_default();
            events.push(merged(r, None, summary, true, self_removed, |state| {
                state.apply(judged);
            }));
            batch.rooms.push(Client::room_row(r));
            return Ok(events);
        }

        // Someone else's commit: the hub chose it for this epoch, so ours (if
        // any) lost.
        let updates = mimi_mls::app_data_updates(judged.component_updates());
        let staged = match content {
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                if updates.is_some() {
                    return Err(ClientError::Internal(
                        "policy computed component updates for a commit without AppDataUpdates",
                    ));
                }
                *staged
            }
            ProcessedMessageContent::UnresolvedAppDataCommit(unresolved) => r
                .group
                .stage_app_data_commit(&*provider, *unresolved, updates)
                .map_err(|e| ClientError::Mls(format!("staging room-state commit: {e}")))?,
            _ => return Err(ClientError::Malformed("expected a commit")),
        };
        let self_removed = staged.self_removed();
        let committer = match (&sender, &commit.committer) {
            (Sender::Member(_) | Sender::NewMemberCommit, Actor::Client(c))
            | (Sender::NewMemberCommit, Actor::Joiner { client: c, .. }) => Some(c.clone()),
            _ => None,
        };
        let summary = judged.summary().clone();
        // The merge, OpenMLS's: drop our lost commit, merge this one.
        let lost = r.group.pending_commit().is_some();
        if lost {
            r.group
                .clear_pending_commit(provider.storage())
                .map_err(|e| ClientError::Storage(format!("{e:?}")))?;
        }
        r.group
            .merge_staged_commit(&*provider, staged)
            .map_err(|e| ClientError::Mls(format!("merging commit: {e}")))?;
        if lost {
            r.pending = None;
            events.push(RoomEvent::OwnCommitLost { room: room.clone() });
        }
        events.push(merged(
            r,
            committer,
            summary,
            false,
            self_removed,
            |state| {
                state.apply(judged);
            },
        ));
        batch.rooms.push(Client::room_row(r));
        Ok(events)
    }

    /// Processes one proposal bundle: every proposal is verified, the bundle
    /// is judged as a whole against the effective state (as the hub judged
    /// it), and only then stored.
    fn process_proposals(
        &mut self,
        timestamp: u64,
        messages: &[Vec<u8>],
    ) -> Result<Vec<RoomEvent>, ClientError> {
        let Some(first) = messages.first() else {
            return Ok(Vec::new());
        };
        let first = protocol_message(first)?;
        let Some(room) = self.room_of(&first) else {
            return Ok(vec![RoomEvent::Ignored {
                room: None,
                reason: "proposal for a room we do not hold",
            }]);
        };
        let Self {
            rooms, provider, ..
        } = self;
        let r = rooms
            .get_mut(&room)
            .ok_or(ClientError::Internal("room vanished"))?;
        if r.status != RoomStatus::Active {
            return Ok(vec![ignored(
                &room,
                "proposal in a room we are not active in",
            )]);
        }
        let mut queued = Vec::with_capacity(messages.len());
        for (i, bytes) in messages.iter().enumerate() {
            let message = if i == 0 {
                first.clone()
            } else {
                protocol_message(bytes)?
            };
            if message.group_id() != r.group.group_id() {
                return Err(ClientError::Malformed("bundle mixes rooms"));
            }
            if message.epoch() < r.group.epoch() {
                return Ok(vec![ignored(
                    &room,
                    "proposal of an epoch already processed",
                )]);
            }
            if message.epoch() > r.group.epoch() {
                return Err(ClientError::State(
                    "proposal from a future epoch: events are missing",
                ));
            }
            let processed = r
                .group
                .process_message(&*provider, message)
                .map_err(|e| ClientError::Mls(format!("processing proposal: {e}")))?;
            match processed.into_content() {
                ProcessedMessageContent::ProposalMessage(qp)
                | ProcessedMessageContent::ExternalJoinProposalMessage(qp) => queued.push(*qp),
                _ => return Err(ClientError::Malformed("expected a proposal")),
            }
        }
        // Our own bundle fanned back: its proposals are in our store already.
        let known = |qp: &openmls::group::QueuedProposal| {
            r.group
                .pending_proposals()
                .any(|p| p.proposal_reference_ref() == qp.proposal_reference_ref())
        };
        if queued.iter().all(known) {
            return Ok(vec![ignored(&room, "our own proposals")]);
        }
        let mut proposals = policy::pending_proposals(&r.group)?;
        for qp in &queued {
            proposals.push(r.group.policy_proposal(qp)?);
        }
        if let Err(rejection) = r.state.evaluate_proposals(&context(timestamp), &proposals) {
            return Ok(vec![RoomEvent::ProposalsRefused {
                room,
                denial: Box::new(rejection.denial),
            }]);
        }
        let count = queued.len();
        for qp in queued {
            r.group
                .store_pending_proposal(provider.storage(), qp)
                .map_err(|e| ClientError::Storage(format!("storing a proposal: {e:?}")))?;
        }
        Ok(vec![RoomEvent::ProposalsQueued { room, count }])
    }

    /// The room whose group a message is for.
    pub(crate) fn room_of(&self, message: &ProtocolMessage) -> Option<RoomId> {
        self.rooms
            .values()
            .find(|r| r.group.group_id() == message.group_id())
            .map(|r| r.id.clone())
    }
}

/// After a merge: the new committed state (`next` moves it into the room's),
/// or the removed status. Cannot fail.
fn merged(
    r: &mut ClientRoom,
    committer: Option<mimi_proto::ClientId>,
    summary: Summary,
    own: bool,
    self_removed: bool,
    next: impl FnOnce(&mut RoomState),
) -> RoomEvent {
    let epoch = r.epoch();
    if self_removed || !r.group.is_active() {
        r.status = RoomStatus::Removed;
        return RoomEvent::Removed {
            room: r.id.clone(),
            epoch,
        };
    }
    r.status = RoomStatus::Active;
    next(&mut r.state);
    RoomEvent::Committed {
        room: r.id.clone(),
        epoch,
        committer,
        summary,
        own,
    }
}

fn ignored(room: &RoomId, reason: &'static str) -> RoomEvent {
    RoomEvent::Ignored {
        room: Some(room.clone()),
        reason,
    }
}

/// Decodes an `MLSMessage` that must be a handshake or application message.
pub(crate) fn protocol_message(bytes: &[u8]) -> Result<ProtocolMessage, ClientError> {
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|_| ClientError::Malformed("MLSMessage does not decode"))?
        .try_into_protocol_message()
        .map_err(|_| ClientError::Malformed("not a PublicMessage or PrivateMessage"))
}
