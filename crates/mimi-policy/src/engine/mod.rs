//! The engine's entry points: a pure function from (state, context, change
//! set) to a staged result or a [`Rejection`].
//!
//! Two entry points share one rule set:
//! - [`RoomState::evaluate_proposals`]: a standalone proposal bundle, judged
//!   against the *effective* state. Its effect applies immediately; clients of
//!   a removed user may stay members ("exiting") until the next commit.
//! - [`RoomState::evaluate_commit`]: a commit, judged against the *committed*
//!   state with its full proposal list, including the post-commit invariants.
//!   It also yields each updated component's new `data` bytes for OpenMLS.
//!
//! Order of evaluation inside a change set: the committer; the update/remove
//! mixing rule; AppDataUpdates (and ReInit) in proposal order, each against the
//! state the previous ones left; then Removes; then Adds (MLS applies these
//! before AppDataUpdates, so their senders' roles are taken from the start of
//! the change set, while the list they are checked against is the final one:
//! "listed before or in the same commit"); then the post-change checks.

mod checks;
mod components;
mod membership;
mod participants;
mod working;

use std::collections::HashSet;
use std::sync::Arc;

use mimi_proto::components::{
    AppDataUpdateOperation, ComponentId, ParticipantId, ParticipantListData,
};
use mimi_proto::{ClientId, DecodeError, MAX_MESSAGE_LEN};

pub(crate) use components::{check_preauth, validate_roles};
use working::{Resolved, Working};

use crate::actor::Actor;
use crate::change::{Change, Commit, Proposal};
use crate::denial::{Denial, Reason, Rejection};
use crate::envelope::PolicyEnvelope;
use crate::state::{Entry, MemberRecord, Pending, RoleCounts, RoomState, UserKey};

/// What an evaluation needs besides the state: the time, the hub's envelope,
/// and for parent-dependent rooms the parent's participants.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Now, in seconds since the UNIX epoch (ban expiry).
    pub now: u64,
    /// The hub operator's policy envelope.
    pub envelope: &'a PolicyEnvelope,
    /// Participants of the parent room, when this room is parent-dependent.
    pub parent_participants: Option<&'a HashSet<ParticipantId>>,
}

impl<'a> Context<'a> {
    /// A context at `now` under `envelope`, with no parent room.
    pub fn new(now: u64, envelope: &'a PolicyEnvelope) -> Self {
        Self {
            now,
            envelope,
            parent_participants: None,
        }
    }
}

/// What a change set did, for logs, fan-out and the hub's bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Users added to the list (not counting pre-emptive bans).
    pub added_users: Vec<ParticipantId>,
    /// Users removed from the list (removals and leaves).
    pub removed_users: Vec<ParticipantId>,
    /// Users moved to role 1 (or added straight into it).
    pub banned_users: Vec<ParticipantId>,
    /// Users moved out of role 1 into another role.
    pub unbanned_users: Vec<ParticipantId>,
    /// Other role changes: user, from, to.
    pub role_changes: Vec<(ParticipantId, u32, u32)>,
    /// Clients added.
    pub added_clients: Vec<ClientId>,
    /// Clients removed.
    pub removed_clients: Vec<ClientId>,
    /// Removed clients whose user stays listed (kicks).
    pub kicked_clients: Vec<ClientId>,
    /// Components written.
    pub updated_components: Vec<ComponentId>,
}

/// A component's new dictionary value after a commit: exactly the bytes to
/// give OpenMLS (`None`: the component was removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentUpdate {
    /// The component.
    pub component_id: ComponentId,
    /// Its new `data`, canonical and identical to what every client computes.
    pub data: Option<Vec<u8>>,
}

/// An accepted change set, not yet applied: apply it with [`RoomState::apply`].
#[derive(Debug)]
pub struct Staged {
    commit: bool,
    new_users: Vec<ParticipantId>,
    new_orgs: Vec<(UserKey, Box<str>)>,
    list: Vec<Entry>,
    slot: Vec<u32>,
    clients: Vec<u32>,
    member_count: u32,
    added: Vec<(ClientId, MemberRecord)>,
    removed: Vec<ClientId>,
    components: Option<mimi_proto::components::RoomComponents>,
    pending: Pending,
    counts: RoleCounts,
    updates: Vec<ComponentUpdate>,
    summary: Summary,
}

impl Staged {
    /// For a commit: every updated component's new `data`, ascending by id.
    /// Empty for a proposal bundle (the commit computes them).
    pub fn component_updates(&self) -> &[ComponentUpdate] {
        &self.updates
    }

    /// What the change set did.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// True if this stages a commit, false for a proposal bundle.
    pub fn is_commit(&self) -> bool {
        self.commit
    }
}

impl RoomState {
    /// Judges a standalone proposal bundle against this *effective* state.
    ///
    /// # Errors
    /// A [`Rejection`] naming the rule, actor and target, and the proposal at fault.
    pub fn evaluate_proposals(
        &self,
        ctx: &Context<'_>,
        proposals: &[Proposal],
    ) -> Result<Staged, Rejection> {
        let w = run(self, ctx, proposals, None)?;
        stage(w, false)
    }

    /// Judges a commit against this *committed* state.
    ///
    /// # Errors
    /// A [`Rejection`] naming the rule, actor and target, and the proposal at fault.
    pub fn evaluate_commit(&self, ctx: &Context<'_>, commit: &Commit) -> Result<Staged, Rejection> {
        let w = run(self, ctx, &commit.proposals, Some(&commit.committer))?;
        stage(w, true)
    }

    /// Applies a staged change set evaluated against this very state. A commit
    /// replaces the pending bookkeeping; a bundle adds to it.
    ///
    /// Drop other clones of this state first: shared maps are copied on write.
    pub fn apply(&mut self, staged: Staged) {
        if !staged.new_users.is_empty() || !staged.new_orgs.is_empty() {
            let users = Arc::make_mut(&mut self.users);
            for id in staged.new_users {
                let key = users.ids.len() as UserKey;
                users.keys.insert(id.clone(), key);
                users.ids.push(id);
            }
            users.orgs.extend(staged.new_orgs);
        }
        if !staged.added.is_empty() || (staged.commit && !staged.removed.is_empty()) {
            let members = Arc::make_mut(&mut self.members);
            if staged.commit {
                for c in &staged.removed {
                    members.remove(c);
                }
            }
            members.extend(staged.added);
        }
        self.list = staged.list;
        self.slot = staged.slot;
        self.clients = staged.clients;
        self.member_count = staged.member_count;
        if let Some(components) = staged.components {
            self.components = Arc::new(components);
        }
        self.pending = staged.pending;
        self.counts = staged.counts;
    }
}

fn run<'a>(
    base: &'a RoomState,
    ctx: &'a Context<'a>,
    proposals: &'a [Proposal],
    committer: Option<&'a Actor>,
) -> Result<Working<'a>, Rejection> {
    let mut w = Working::new(base, ctx);
    let mut resolved = Vec::with_capacity(proposals.len());
    for (i, p) in proposals.iter().enumerate() {
        resolved.push(w.resolve(&p.sender).map_err(|d| Rejection::at(i, d))?);
        if let Change::Add { claims, .. } = &p.change
            && claims.organisation() != claims.user().domain()
        {
            w.add_orgs.insert(claims.user(), claims.organisation());
        }
    }
    let committer = committer
        .map(|c| w.resolve(c))
        .transpose()
        .map_err(Rejection::whole)?;
    if let Some(c) = &committer {
        w.last_actor = Some(c.actor);
        // POL-29: who may commit at all.
        w.check_committer_before(c).map_err(Rejection::whole)?;
        if let Actor::Joiner { claims, .. } = c.actor
            && claims.organisation() != claims.user().domain()
        {
            w.add_orgs.insert(claims.user(), claims.organisation());
        }
    }
    check_component_ops(&mut w, proposals, &resolved)?;

    for (i, (p, r)) in proposals.iter().zip(&resolved).enumerate() {
        let at = |d| Rejection::at(i, d);
        match &p.change {
            Change::AppData(update) => {
                w.last_actor = Some(r.actor);
                // POL-09: exiting actors only remove their own clients.
                if w.is_exiting(r) {
                    return Err(at(Denial::ExitingActor { actor: r.id() }));
                }
                w.apply_app_data(r, update).map_err(at)?;
            }
            Change::ReInit => {
                if w.is_exiting(r) {
                    return Err(at(Denial::ExitingActor { actor: r.id() }));
                }
                w.check_reinit(r).map_err(at)?;
            }
            Change::Other { .. } | Change::Add { .. } => {
                if w.is_exiting(r) {
                    return Err(at(Denial::ExitingActor { actor: r.id() }));
                }
            }
            Change::Remove { .. } => {}
        }
    }
    for (i, (p, r)) in proposals.iter().zip(&resolved).enumerate() {
        if let Change::Remove { client } = &p.change {
            w.last_actor = Some(r.actor);
            w.apply_remove(r, client).map_err(|d| Rejection::at(i, d))?;
        }
    }
    for (i, (p, r)) in proposals.iter().zip(&resolved).enumerate() {
        if let Change::Add { client, claims } = &p.change {
            w.last_actor = Some(r.actor);
            w.apply_add(r, client, claims)
                .map_err(|d| Rejection::at(i, d))?;
        }
    }
    if let Some(c) = &committer {
        w.last_actor = Some(c.actor);
        if let Actor::Joiner { client, claims, .. } = c.actor {
            // The external commit adds the joiner's client through its path.
            w.apply_add(c, client, claims).map_err(Rejection::whole)?;
        }
        w.check_committer_after(c).map_err(Rejection::whole)?;
    }
    Ok(w)
}

/// POL-02: per component, either one remove or updates, across the change set
/// and (for the effective state) the epoch's accepted proposals.
fn check_component_ops(
    w: &mut Working<'_>,
    proposals: &[Proposal],
    resolved: &[Resolved<'_>],
) -> Result<(), Rejection> {
    for (i, (p, r)) in proposals.iter().zip(resolved).enumerate() {
        if let Change::AppData(update) = &p.change {
            let is_remove = update.op == AppDataUpdateOperation::Remove;
            if let Some(&was_remove) = w.pending.component_ops.get(&update.component_id)
                && (was_remove || is_remove)
            {
                return Err(Rejection::at(
                    i,
                    Denial::ComponentOperation {
                        actor: r.id(),
                        component: update.component_id,
                        reason: Reason::UpdateAndRemove,
                    },
                ));
            }
            w.pending
                .component_ops
                .insert(update.component_id, is_remove);
        }
    }
    Ok(())
}

fn stage(w: Working<'_>, commit: bool) -> Result<Staged, Rejection> {
    let counts = w.finish(commit).map_err(Rejection::whole)?;
    let mut updated = w.updated.clone();
    updated.sort_unstable();
    let updates = if commit {
        encode_updates(&w, &updated)?
    } else {
        Vec::new()
    };
    let Working {
        new_users,
        new_orgs,
        list,
        slot,
        clients,
        member_count,
        added,
        removed,
        components,
        pending,
        mut summary,
        ..
    } = w;
    summary.updated_components = updated;
    let (removed, pending) = if commit {
        (removed.into_iter().collect(), Pending::default())
    } else {
        let mut pending = pending;
        pending.removals.extend(removed);
        (Vec::new(), pending)
    };
    Ok(Staged {
        commit,
        new_users,
        new_orgs,
        list,
        slot,
        clients,
        member_count,
        added,
        removed,
        components,
        pending,
        counts,
        updates,
        summary,
    })
}

/// Each updated component's new `data`, re-encoded canonically.
fn encode_updates(
    w: &Working<'_>,
    updated: &[ComponentId],
) -> Result<Vec<ComponentUpdate>, Rejection> {
    let too_large = |component| {
        Rejection::whole(Denial::MalformedComponent {
            actor: w.last_actor.map_or(crate::ActorId::Creator, |a| a.id()),
            component,
            error: DecodeError::TooLarge("component data"),
        })
    };
    let mut out = Vec::with_capacity(updated.len());
    for &id in updated {
        let data = if id == ComponentId::PARTICIPANT_LIST {
            Some(
                ParticipantListData::encode_entries(
                    w.list.iter().map(|e| (w.user_id(e.user), e.role)),
                )
                .map_err(|_| too_large(id))?,
            )
        } else {
            w.comps().encode_component(id).map_err(|_| too_large(id))?
        };
        // POL-03: what we hand to MLS must decode again everywhere.
        if data.as_ref().is_some_and(|d| d.len() > MAX_MESSAGE_LEN) {
            return Err(too_large(id));
        }
        out.push(ComponentUpdate {
            component_id: id,
            data,
        });
    }
    Ok(out)
}
