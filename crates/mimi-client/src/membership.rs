//! Commits that change who is in a room and what it looks like (protocol-06
//! §3.2–§3.5, room-policy A.9.2): each is the right participant-list or
//! metadata AppDataUpdate plus the MLS Adds and Removes, judged by room policy
//! before anything is sent, built with the engine's component bytes, and
//! merged only after the hub answers `success`.
//!
//! Every commit also carries the proposals the hub queued this epoch (the hub
//! refuses a commit that omits them), so participant-list indices are computed
//! against the *effective* list: the committed list with the queued
//! proposals applied (decision RSC-6: indices refer to the list as the
//! previous update left it).

use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{AppDataUpdateProposal, KeyPackage, LeafNodeIndex, Proposal as MlsProposal};
use openmls_traits::OpenMlsProvider as _;

use mimi_policy::{Actor, Change, Commit, Proposal, RoomState};
use mimi_proto::RoomId;
use mimi_proto::UserId;
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, BANNED_ROLE, ComponentId, NO_ROLE, ParticipantId,
    ParticipantListUpdate, RoomMetaData, UserRolePair, UserindexRolePair,
};

use crate::client::Client;
use crate::client_room::{ClientRoom, RoomStatus};
use crate::error::ClientError;
use crate::policy::{self, context, member_of};
use crate::storage::Batch;
use mimi_mls::member::outgoing;
use mimi_mls::{OutgoingCommit, client_of};

impl Client {
    /// Adds `user` with all of their clients (one KeyPackage each) in one
    /// commit: a participant-list update listing the user with `role` (the
    /// room's "member" role when `None`), plus an Add per KeyPackage. For a
    /// user already listed (e.g. an inactive participant or our own user)
    /// only the Adds are sent.
    ///
    /// # Errors
    /// [`ClientError::State`] if a commit is pending, the room is not active
    /// or no KeyPackage is given; [`ClientError::Malformed`] if a KeyPackage
    /// names another user; [`ClientError::Denied`] if room policy refuses.
    pub fn add_user(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: Option<u32>,
        key_packages: Vec<KeyPackage>,
    ) -> Result<OutgoingCommit, ClientError> {
        if key_packages.is_empty() {
            return Err(ClientError::State("no KeyPackage to add"));
        }
        for kp in &key_packages {
            let named = member_of(kp.leaf_node().credential()).ok_or(ClientError::Malformed(
                "KeyPackage credential is not a mimi client",
            ))?;
            if named.claims.user() != &ParticipantId::from(user.clone()) {
                return Err(ClientError::Malformed("KeyPackage belongs to another user"));
            }
        }
        let now = self.clock.now_ms();
        let me = self.identity.user().clone();
        let r = self.room_mut(room)?;
        let effective = effective_state(r, now)?;
        let mut updates = Vec::new();
        if let Some(role) = listing_role(r, &effective, &me, user, role)? {
            updates.push(list_update(ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: ParticipantId::from(user.clone()),
                    role_index: role,
                }],
                ..ParticipantListUpdate::default()
            })?);
        }
        self.commit_changes(room, updates, key_packages, Vec::new())
    }

    /// Whether room policy lets us add `user` as [`Client::add_user`] would
    /// (same role choice), asked before any of the user's KeyPackages is
    /// claimed: a refused add must not use them up (decisions KP-1).
    ///
    /// # Errors
    /// [`ClientError::Denied`] with the engine's rejection;
    /// [`ClientError::State`] if the room is not active or has no role to add
    /// users into.
    pub fn check_add_user(
        &self,
        room: &RoomId,
        user: &UserId,
        role: Option<u32>,
    ) -> Result<(), ClientError> {
        let now = self.clock.now_ms();
        let r = self.room(room)?;
        ensure_ready(r)?;
        let effective = effective_state(r, now)?;
        let role = listing_role(r, &effective, self.identity.user(), user, role)?;
        effective
            .authorize_add(&context(now), self.identity.client(), user, role)
            .map_err(|rejection| ClientError::Denied(Box::new(rejection)))
    }

    /// Removes `user` from the room: the participant-list entry goes and every
    /// client of theirs is removed in the same commit (canRemoveParticipant).
    ///
    /// # Errors
    /// [`ClientError::State`] if the user is not listed; otherwise as
    /// [`Client::add_user`].
    pub fn remove_user(
        &mut self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<OutgoingCommit, ClientError> {
        let Target { index, removes, .. } = self.target(room, user)?;
        let index = index.ok_or(ClientError::State("user is not listed"))?;
        let update = list_update(ParticipantListUpdate {
            removed_indices: vec![index],
            ..ParticipantListUpdate::default()
        })?;
        self.commit_changes(room, vec![update], Vec::new(), removes)
    }

    /// Kicks `user`: removes all their clients, keeping their participant-list
    /// entry (canKick; they may come back with canAddOwnClient).
    ///
    /// # Errors
    /// [`ClientError::State`] if the user has no clients; otherwise as
    /// [`Client::add_user`].
    pub fn kick(&mut self, room: &RoomId, user: &UserId) -> Result<OutgoingCommit, ClientError> {
        let Target { removes, .. } = self.target(room, user)?;
        if removes.is_empty() {
            return Err(ClientError::State("user has no clients to remove"));
        }
        self.commit_changes(room, Vec::new(), Vec::new(), removes)
    }

    /// Bans `user`: their role becomes 1 ("banned") and every client of theirs
    /// is removed in the same commit; an unlisted user is listed as banned
    /// (a pre-emptive ban, decision POL-D11).
    ///
    /// # Errors
    /// As [`Client::add_user`].
    pub fn ban(&mut self, room: &RoomId, user: &UserId) -> Result<OutgoingCommit, ClientError> {
        let Target { index, removes, .. } = self.target(room, user)?;
        let update = match index {
            Some(index) => ParticipantListUpdate {
                changed_role_participants: vec![UserindexRolePair {
                    user_index: index,
                    role_index: BANNED_ROLE,
                }],
                ..ParticipantListUpdate::default()
            },
            None => ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: ParticipantId::from(user.clone()),
                    role_index: BANNED_ROLE,
                }],
                ..ParticipantListUpdate::default()
            },
        };
        self.commit_changes(room, vec![list_update(update)?], Vec::new(), removes)
    }

    /// Lifts a ban: `user` moves from role 1 to `role` (the room's "member"
    /// role when `None`). Their clients must be added separately.
    ///
    /// # Errors
    /// [`ClientError::State`] if the user is not banned; otherwise as
    /// [`Client::add_user`].
    pub fn unban(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: Option<u32>,
    ) -> Result<OutgoingCommit, ClientError> {
        let Target { role: current, .. } = self.target(room, user)?;
        if current != Some(BANNED_ROLE) {
            return Err(ClientError::State("user is not banned"));
        }
        let role = match role {
            Some(r) => r,
            None => {
                let now = self.clock.now_ms();
                let me = self.identity.user().clone();
                let r = self.room_mut(room)?;
                let effective = effective_state(r, now)?;
                default_role(r, &effective, &me)?
            }
        };
        self.change_role(room, user, role)
    }

    /// Changes `user`'s role (canChangeUserRole, or canBan/canUnBan for moves
    /// into or out of role 1).
    ///
    /// # Errors
    /// [`ClientError::State`] if the user is not listed; otherwise as
    /// [`Client::add_user`].
    pub fn change_role(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: u32,
    ) -> Result<OutgoingCommit, ClientError> {
        let Target { index, .. } = self.target(room, user)?;
        let index = index.ok_or(ClientError::State("user is not listed"))?;
        let update = list_update(ParticipantListUpdate {
            changed_role_participants: vec![UserindexRolePair {
                user_index: index,
                role_index: role,
            }],
            ..ParticipantListUpdate::default()
        })?;
        self.commit_changes(room, vec![update], Vec::new(), Vec::new())
    }

    /// Edits the room metadata (name, descriptions, avatar, subject, mood):
    /// `edit` gets the current value; the result replaces it whole
    /// (protocol-06 §7.6). Each changed field needs its canChangeRoom*
    /// capability; the room URI cannot change.
    ///
    /// # Errors
    /// [`ClientError::State`] if the room has no metadata; otherwise as
    /// [`Client::add_user`].
    pub fn edit_metadata(
        &mut self,
        room: &RoomId,
        edit: impl FnOnce(&mut RoomMetaData),
    ) -> Result<OutgoingCommit, ClientError> {
        let now = self.clock.now_ms();
        let r = self.room_mut(room)?;
        let effective = effective_state(r, now)?;
        let mut metadata = effective
            .components()
            .room_metadata
            .clone()
            .ok_or(ClientError::State("room has no metadata"))?;
        edit(&mut metadata);
        let bytes = metadata
            .encode()
            .map_err(|_| ClientError::Encode("metadata too large".into()))?;
        let update = AppDataUpdate {
            component_id: ComponentId::ROOM_METADATA,
            op: AppDataUpdateOperation::Update(bytes),
        };
        self.commit_changes(room, vec![update], Vec::new(), Vec::new())
    }

    /// Commits the proposals the hub queued this epoch (a leave, a hub Remove)
    /// and nothing else.
    ///
    /// # Errors
    /// As [`Client::add_user`].
    pub fn commit_pending(&mut self, room: &RoomId) -> Result<OutgoingCommit, ClientError> {
        self.commit_changes(room, Vec::new(), Vec::new(), Vec::new())
    }

    /// Updates our own leaf: a commit whose path gives us a fresh leaf
    /// (HPKE encryption key, signature over it) and new path secrets (RFC
    /// 9420 §12.4.2), for post-compromise security. It carries the queued
    /// proposals like every commit.
    ///
    /// # Errors
    /// As [`Client::add_user`].
    pub fn self_update(&mut self, room: &RoomId) -> Result<OutgoingCommit, ClientError> {
        self.build_commit(room, Vec::new(), Vec::new(), Vec::new(), true)
    }

    /// The target's index in the effective list, its role, and its member
    /// clients without a pending Remove.
    fn target(&mut self, room: &RoomId, user: &UserId) -> Result<Target, ClientError> {
        let now = self.clock.now_ms();
        let r = self.room_mut(room)?;
        let effective = effective_state(r, now)?;
        let target = ParticipantId::from(user.clone());
        let index = effective
            .participants()
            .position(|(p, _)| p == &target)
            .map(|i| u32::try_from(i).map_err(|_| ClientError::Internal("list index overflows")))
            .transpose()?;
        let role = effective.role_of(&target);
        Ok(Target {
            index,
            role,
            removes: removable_leaves(r, user),
        })
    }

    /// Judges, builds and stages a commit of the queued proposals plus ours.
    /// The pending commit is stored before the bundle is returned, so a
    /// restart can still merge it when the hub fans it back.
    pub(crate) fn commit_changes(
        &mut self,
        room: &RoomId,
        app_data: Vec<AppDataUpdate>,
        adds: Vec<KeyPackage>,
        removes: Vec<LeafNodeIndex>,
    ) -> Result<OutgoingCommit, ClientError> {
        self.build_commit(room, app_data, adds, removes, false)
    }

    /// [`Client::commit_changes`], with a path that replaces our own leaf
    /// when `self_update` holds (OpenMLS adds a path on its own only when
    /// the proposals require one).
    fn build_commit(
        &mut self,
        room: &RoomId,
        app_data: Vec<AppDataUpdate>,
        adds: Vec<KeyPackage>,
        removes: Vec<LeafNodeIndex>,
        self_update: bool,
    ) -> Result<OutgoingCommit, ClientError> {
        let now = self.clock.now_ms();
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
        ensure_ready(r)?;
        let ctx = context(now);

        let mut proposals = policy::pending_proposals(&r.group)?;
        for update in &app_data {
            proposals.push(Proposal::new(me.clone(), Change::AppData(update.clone())));
        }
        for kp in &adds {
            let m = member_of(kp.leaf_node().credential()).ok_or(ClientError::Malformed(
                "KeyPackage credential is not a mimi client",
            ))?;
            proposals.push(Proposal::new(me.clone(), Change::add(m.client, m.claims)));
        }
        for leaf in &removes {
            let client = r
                .group
                .member_at(*leaf)
                .and_then(|m| client_of(&m.credential))
                .ok_or(ClientError::Internal("removed leaf is not a member"))?;
            proposals.push(Proposal::new(me.clone(), Change::remove(client)));
        }
        let staged = r.state.evaluate_commit(
            &ctx,
            &Commit {
                committer: me,
                proposals,
            },
        )?;
        let updates = mimi_mls::app_data_updates(staged.component_updates());

        let mls_app_data: Vec<MlsProposal> = app_data.iter().map(to_mls).collect();
        let mut builder = r
            .group
            .commit_builder()
            .add_proposals(mls_app_data)
            .propose_adds(adds)
            .propose_removals(removes)
            .force_self_update(self_update)
            .load_psks(provider.storage())
            .map_err(|e| ClientError::Mls(format!("load PSKs: {e}")))?
            .create_group_info(true);
        if updates.is_some() {
            builder.with_app_data_dictionary_updates(updates);
        }
        let bundle = builder
            .build(
                provider.rand(),
                provider.crypto(),
                identity.signer(),
                |_| true,
            )
            .map_err(|e| ClientError::Mls(format!("build commit: {e}")))?
            .stage_commit(&*provider)
            .map_err(|e| ClientError::Mls(format!("stage commit: {e}")))?;
        let out = outgoing(bundle.into_contents())?;

        // What receivers will compute from the commit's bytes must be what we
        // fed OpenMLS; a mismatch would fork the room, so refuse to send it.
        let bytes = out
            .commit
            .tls_serialize_detached()
            .map_err(|_| ClientError::Internal("commit does not encode"))?;
        let agrees = policy::commit_from_bytes(&r.group, &bytes)
            .ok()
            .and_then(|c| r.state.evaluate_commit(&ctx, &c).ok())
            .is_some_and(|s| s.component_updates() == staged.component_updates());
        if !agrees {
            r.group
                .clear_pending_commit(provider.storage())
                .map_err(|e| ClientError::Storage(format!("{e:?}")))?;
            return Err(ClientError::Internal(
                "commit does not match its policy evaluation",
            ));
        }
        r.pending = Some(staged.summary().clone());
        self.persist(Batch::default())?;
        Ok(out)
    }
}

/// A user as an operation targets them, in the effective state.
struct Target {
    /// Position in the participant list.
    index: Option<u32>,
    /// Role.
    role: Option<u32>,
    /// Member leaves without a queued Remove.
    removes: Vec<LeafNodeIndex>,
}

/// The committed state with the epoch's queued proposals applied: the list
/// the next commit's participant-list indices refer to.
pub(crate) fn effective_state(r: &ClientRoom, now: u64) -> Result<RoomState, ClientError> {
    let pending = policy::pending_proposals(&r.group)?;
    if pending.is_empty() {
        return Ok(r.state.clone());
    }
    let staged = r.state.evaluate_proposals(&context(now), &pending)?;
    let mut state = r.state.clone();
    state.apply(staged);
    Ok(state)
}

/// The role `user` is to be listed in by an add: `None` when the user is
/// listed already (only clients are added), else `role` or the default.
fn listing_role(
    r: &ClientRoom,
    effective: &RoomState,
    me: &UserId,
    user: &UserId,
    role: Option<u32>,
) -> Result<Option<u32>, ClientError> {
    if effective
        .role_of(&ParticipantId::from(user.clone()))
        .is_some()
    {
        return Ok(None);
    }
    match role {
        Some(role) => Ok(Some(role)),
        None => default_role(r, effective, me).map(Some),
    }
}

/// The role a new participant gets when the caller names none: the role
/// called "member", else the lowest role we may move an outsider into.
fn default_role(r: &ClientRoom, state: &RoomState, me: &UserId) -> Result<u32, ClientError> {
    if let Some(member) = r.role_by_name("member") {
        return Ok(member);
    }
    let mine = state
        .role_of(&ParticipantId::from(me.clone()))
        .ok_or(ClientError::State("we are not listed"))?;
    state
        .roles()
        .role(mine)
        .and_then(|role| {
            role.authorized_role_changes
                .iter()
                .filter(|row| row.from_role_index == NO_ROLE)
                .flat_map(|row| row.target_role_indexes.iter().copied())
                .filter(|t| *t != NO_ROLE && *t != BANNED_ROLE)
                .min()
        })
        .ok_or(ClientError::State("no role to add users into"))
}

/// Member leaves of `user` that no queued proposal removes yet.
fn removable_leaves(r: &ClientRoom, user: &UserId) -> Vec<LeafNodeIndex> {
    let pending: Vec<LeafNodeIndex> = r
        .group
        .pending_proposals()
        .filter_map(|qp| match (qp.proposal(), qp.sender()) {
            (MlsProposal::Remove(rm), _) => Some(rm.removed()),
            (MlsProposal::SelfRemove, openmls::prelude::Sender::Member(leaf)) => Some(*leaf),
            _ => None,
        })
        .collect();
    r.group
        .members()
        .filter(|m| client_of(&m.credential).and_then(|c| c.user()).as_ref() == Some(user))
        .map(|m| m.index)
        .filter(|leaf| !pending.contains(leaf))
        .collect()
}

fn ensure_ready(r: &ClientRoom) -> Result<(), ClientError> {
    if r.status != RoomStatus::Active {
        return Err(ClientError::State("room is not active for this client"));
    }
    if r.group.pending_commit().is_some() {
        return Err(ClientError::State("a commit is already pending"));
    }
    Ok(())
}

fn list_update(update: ParticipantListUpdate) -> Result<AppDataUpdate, ClientError> {
    Ok(AppDataUpdate {
        component_id: ComponentId::PARTICIPANT_LIST,
        op: AppDataUpdateOperation::Update(
            update
                .encode()
                .map_err(|_| ClientError::Encode("participant-list update too large".into()))?,
        ),
    })
}

pub(crate) fn to_mls(update: &AppDataUpdate) -> MlsProposal {
    MlsProposal::AppDataUpdate(Box::new(match &update.op {
        AppDataUpdateOperation::Update(bytes) => {
            AppDataUpdateProposal::update(update.component_id.0, bytes.clone())
        }
        AppDataUpdateOperation::Remove => AppDataUpdateProposal::remove(update.component_id.0),
    }))
}
