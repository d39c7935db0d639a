//! AppDataUpdates of every component other than the participant list:
//! metadata (POL-22), roles (POL-23), preauthorization (POL-24), base policy
//! (POL-25), the other policy components (POL-26) and ban records (POL-27),
//! plus the container rules (POL-01 to POL-03, POL-06).

use mimi_proto::DecodeError;
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, BANNED_ROLE, BANNED_ROLE_NAME, BanList, BaseRoomPolicy,
    CapabilityType, ComponentId, ComponentValue, JoinLinksData, JoinLinksUpdate, NO_ROLE,
    ParticipantListUpdate, PreAuthData, RoleData, RoomMetaData,
};

use super::working::{Resolved, Working};
use crate::denial::{Denial, Reason};

impl<'a> Working<'a> {
    /// Applies one AppDataUpdate from `r`.
    pub(crate) fn apply_app_data(
        &mut self,
        r: &Resolved<'a>,
        update: &AppDataUpdate,
    ) -> Result<(), Denial> {
        let id = update.component_id;
        // POL-01: only components mimi interprets have update logic.
        if !ComponentValue::is_interpreted(id) {
            return Err(Denial::UnknownComponent {
                actor: r.id(),
                component: id,
            });
        }
        let bytes = match &update.op {
            AppDataUpdateOperation::Remove => return self.remove_component(r, id),
            AppDataUpdateOperation::Update(bytes) => bytes.as_slice(),
        };
        let malformed = |error: DecodeError| Denial::MalformedComponent {
            actor: r.id(),
            component: id,
            error,
        };
        match id {
            ComponentId::PARTICIPANT_LIST => {
                let delta = ParticipantListUpdate::decode(bytes).map_err(malformed)?;
                self.apply_participant_update(r, &delta)
            }
            ComponentId::ROOM_METADATA => {
                let meta = RoomMetaData::decode(bytes).map_err(malformed)?;
                self.update_metadata(r, meta)
            }
            ComponentId::ROLES_LIST => {
                let roles = RoleData::decode(bytes).map_err(malformed)?;
                self.update_roles(r, roles)
            }
            ComponentId::PREAUTH_LIST => {
                let preauth = PreAuthData::decode(bytes).map_err(malformed)?;
                self.update_preauth(r, preauth)
            }
            ComponentId::BASE_ROOM_POLICY => {
                let base = BaseRoomPolicy::decode(bytes).map_err(malformed)?;
                self.update_base_policy(r, base)
            }
            ComponentId::MIMI_BAN_LIST => {
                let bans = BanList::decode(bytes).map_err(malformed)?;
                self.update_bans(r, bans)
            }
            ComponentId::JOIN_LINKS => {
                let delta = JoinLinksUpdate::decode(bytes).map_err(malformed)?;
                self.policy_authority(r, id)?;
                let links = self.apply_join_links(r, &delta)?;
                self.comps_mut(id).join_links = Some(links);
                Ok(())
            }
            _ => {
                let value = ComponentValue::decode(id, bytes).map_err(malformed)?;
                self.policy_authority(r, id)?;
                if id == ComponentId::FRANKING_AGENT && self.comps().franking_agent.is_some() {
                    // POL-26: the franking key is set once; rotation is a ReInit
                    // (protocol-06 §5.4.1 recommends add-only updates).
                    return Err(Denial::PolicyComponent {
                        actor: r.id(),
                        component: id,
                        reason: Reason::FrankingAgentAlreadySet,
                    });
                }
                self.comps_mut(id).insert(value);
                Ok(())
            }
        }
    }

    /// POL-02: remove only what exists, never the list, roles or metadata.
    fn remove_component(&mut self, r: &Resolved<'a>, id: ComponentId) -> Result<(), Denial> {
        let op = |reason| Denial::ComponentOperation {
            actor: r.id(),
            component: id,
            reason,
        };
        if matches!(
            id,
            ComponentId::PARTICIPANT_LIST | ComponentId::ROLES_LIST | ComponentId::ROOM_METADATA
        ) {
            return Err(op(Reason::RemoveRequired));
        }
        if !self.comps().contains(id) {
            return Err(op(Reason::RemoveAbsent));
        }
        let role = self.current_role(r);
        match id {
            ComponentId::PREAUTH_LIST => {
                self.need(role, CapabilityType::CAN_CHANGE_PREAUTHORIZED_USER_LIST)
                    .map_err(|reason| Denial::PreauthList {
                        actor: r.id(),
                        reason,
                    })?;
                self.pending.preauth_updated = Some(r.id());
            }
            ComponentId::BASE_ROOM_POLICY => {
                self.need(role, CapabilityType::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE)
                    .map_err(|reason| Denial::BasePolicy {
                        actor: r.id(),
                        reason,
                    })?;
                self.base_changed = true;
            }
            ComponentId::MIMI_BAN_LIST => {
                return self.update_bans(r, BanList::default()).map(|()| {
                    self.comps_mut(id).bans = None;
                });
            }
            _ => self.policy_authority(r, id)?,
        }
        self.comps_mut(id).remove(id);
        Ok(())
    }

    /// POL-26: policy components without their own capability need
    /// canChangeRoleDefinitions (digest C.2.7 reading).
    fn policy_authority(&self, r: &Resolved<'_>, id: ComponentId) -> Result<(), Denial> {
        let role = self.current_role(r);
        self.need(role, CapabilityType::CAN_CHANGE_ROLE_DEFINITIONS)
            .map_err(|reason| Denial::PolicyComponent {
                actor: r.id(),
                component: id,
                reason,
            })
    }

    /// POL-06 / POL-22: one metadata update per commit; each changed field
    /// needs its capability; `room_uri` is immutable.
    fn update_metadata(&mut self, r: &Resolved<'a>, new: RoomMetaData) -> Result<(), Denial> {
        self.pending.metadata_updates += 1;
        if self.pending.metadata_updates > 1 {
            return Err(Denial::SecondMetadataUpdate { actor: r.id() });
        }
        let deny = |reason| Denial::RoomMetadata {
            actor: r.id(),
            reason,
        };
        let old = self
            .comps()
            .room_metadata
            .clone()
            .unwrap_or_else(|| RoomMetaData::new(new.room_uri.clone()));
        if old.room_uri != new.room_uri {
            return Err(deny(Reason::RoomUriChanged));
        }
        let role = self.current_role(r);
        let fields = [
            (
                old.room_name != new.room_name,
                CapabilityType::CAN_CHANGE_ROOM_NAME,
            ),
            (
                old.room_descriptions != new.room_descriptions,
                CapabilityType::CAN_CHANGE_ROOM_DESCRIPTION,
            ),
            (
                old.room_avatar != new.room_avatar,
                CapabilityType::CAN_CHANGE_ROOM_AVATAR,
            ),
            (
                old.room_subject != new.room_subject,
                CapabilityType::CAN_CHANGE_ROOM_SUBJECT,
            ),
            (
                old.room_mood != new.room_mood,
                CapabilityType::CAN_CHANGE_ROOM_MOOD,
            ),
        ];
        for (changed, capability) in fields {
            if changed {
                self.need(role, capability).map_err(deny)?;
            }
        }
        self.comps_mut(ComponentId::ROOM_METADATA).room_metadata = Some(new);
        Ok(())
    }

    /// POL-23: canChangeRoleDefinitions and a valid role set for this room.
    fn update_roles(&mut self, r: &Resolved<'a>, roles: RoleData) -> Result<(), Denial> {
        let deny = |reason| Denial::RoleDefinitions {
            actor: r.id(),
            reason,
        };
        let role = self.current_role(r);
        self.need(role, CapabilityType::CAN_CHANGE_ROLE_DEFINITIONS)
            .map_err(deny)?;
        validate_roles(&roles, self.base_policy()).map_err(deny)?;
        // Every current participant's role must survive.
        if let Some(e) = self.list.iter().find(|e| roles.role(e.role).is_none()) {
            return Err(deny(Reason::RoleUndefined(e.role)));
        }
        if let Some(entry) = self.preauth().and_then(|p| {
            p.preauthorized_entries
                .iter()
                .find(|e| roles.role(e.target_role.role_index).is_none())
        }) {
            return Err(deny(Reason::RoleUndefined(entry.target_role.role_index)));
        }
        self.pending.roles_updated = Some(r.id());
        self.roles_changed = true;
        self.comps_mut(ComponentId::ROLES_LIST).roles = Some(roles);
        Ok(())
    }

    /// POL-24: canChangePreauthorizedUserList; entries grant defined roles
    /// other than 0 and 1 (digest C.2.1).
    fn update_preauth(&mut self, r: &Resolved<'a>, preauth: PreAuthData) -> Result<(), Denial> {
        let deny = |reason| Denial::PreauthList {
            actor: r.id(),
            reason,
        };
        let role = self.current_role(r);
        self.need(role, CapabilityType::CAN_CHANGE_PREAUTHORIZED_USER_LIST)
            .map_err(deny)?;
        check_preauth(&preauth, self.roles()).map_err(deny)?;
        self.pending.preauth_updated = Some(r.id());
        self.comps_mut(ComponentId::PREAUTH_LIST).preauth = Some(preauth);
        Ok(())
    }

    /// POL-25: canChangeRoomMembershipStyle and a policy the room satisfies
    /// (the state-wide checks run after the change set).
    fn update_base_policy(&mut self, r: &Resolved<'a>, base: BaseRoomPolicy) -> Result<(), Denial> {
        let deny = |reason| Denial::BasePolicy {
            actor: r.id(),
            reason,
        };
        let role = self.current_role(r);
        self.need(role, CapabilityType::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE)
            .map_err(deny)?;
        validate_roles(self.roles(), &base).map_err(deny)?;
        if base.parent_dependant && base.parent_room.is_empty() {
            return Err(deny(Reason::ParentRoomMissing));
        }
        self.base_changed = true;
        self.comps_mut(ComponentId::BASE_ROOM_POLICY).base_policy = Some(base);
        Ok(())
    }

    /// POL-27: new or changed records need canBan, dropped records canUnBan
    /// (or an expired record and canAddParticipant). Consistency with role 1 is
    /// checked once the whole change set is applied.
    fn update_bans(&mut self, r: &Resolved<'a>, new: BanList) -> Result<(), Denial> {
        let role = self.current_role(r);
        let old = self.bans().cloned().unwrap_or_default();
        for rec in &new.bans {
            if old.record(&rec.user) != Some(rec) {
                self.need(role, CapabilityType::CAN_BAN)
                    .map_err(|reason| Denial::BanRecords {
                        actor: r.id(),
                        target: rec.user.clone(),
                        reason,
                    })?;
                if let Some(key) = self.key_of(&rec.user) {
                    self.check_org(r, role, key)?;
                }
            }
        }
        for rec in &old.bans {
            if new.record(&rec.user).is_none() {
                let unban = self.need(role, CapabilityType::CAN_UN_BAN);
                let expired_add = rec.is_expired(self.ctx.now)
                    && self.has(role, CapabilityType::CAN_ADD_PARTICIPANT);
                if let Err(reason) = unban
                    && !expired_add
                {
                    return Err(Denial::BanRecords {
                        actor: r.id(),
                        target: rec.user.clone(),
                        reason,
                    });
                }
                if let Some(key) = self.key_of(&rec.user) {
                    self.check_org(r, role, key)?;
                }
            }
        }
        self.bans_touched = true;
        self.comps_mut(ComponentId::MIMI_BAN_LIST).bans = Some(new);
        Ok(())
    }

    /// POL-08: applies a join-links delta (indices into the list before it).
    fn apply_join_links(
        &self,
        r: &Resolved<'_>,
        delta: &JoinLinksUpdate,
    ) -> Result<JoinLinksData, Denial> {
        let current = self.join_links().cloned().unwrap_or_default();
        let len = current.links.len() as u32;
        let malformed = |reason| Denial::MalformedDelta {
            actor: r.id(),
            component: ComponentId::JOIN_LINKS,
            target: None,
            reason,
        };
        let mut gone = vec![false; current.links.len()];
        for &i in &delta.removed_indices {
            let slot = gone
                .get_mut(i as usize)
                .ok_or_else(|| malformed(Reason::IndexOutOfRange { index: i, len }))?;
            if *slot {
                return Err(malformed(Reason::DuplicateIndex(i)));
            }
            *slot = true;
        }
        let mut links: Vec<_> = current
            .links
            .into_iter()
            .zip(gone)
            .filter_map(|(l, g)| (!g).then_some(l))
            .collect();
        links.extend(delta.added_links.iter().cloned());
        Ok(JoinLinksData { links })
    }
}

/// POL-23 (role-set validity, digest A.9.2 reading): unique indexes; role 1,
/// if defined, named "banned"; canOpenJoin only on role 0; no role other than
/// 0 and 1 with canAddParticipant in a fixed-membership room; matrices name
/// defined roles; no minimum above its maximum.
pub(crate) fn validate_roles(roles: &RoleData, base: &BaseRoomPolicy) -> Result<(), Reason> {
    for (i, role) in roles.roles.iter().enumerate() {
        let index = role.role_index;
        if roles.roles[..i].iter().any(|r| r.role_index == index) {
            return Err(Reason::DuplicateRole(index));
        }
        if index == BANNED_ROLE && role.role_name.as_str() != BANNED_ROLE_NAME {
            return Err(Reason::NoBannedRole);
        }
        if index != NO_ROLE && role.has(CapabilityType::CAN_OPEN_JOIN) {
            return Err(Reason::ForbiddenCapability {
                role: index,
                capability: CapabilityType::CAN_OPEN_JOIN,
            });
        }
        if base.fixed_membership
            && index != NO_ROLE
            && index != BANNED_ROLE
            && role.has(CapabilityType::CAN_ADD_PARTICIPANT)
        {
            return Err(Reason::ForbiddenCapability {
                role: index,
                capability: CapabilityType::CAN_ADD_PARTICIPANT,
            });
        }
        for row in &role.authorized_role_changes {
            let referenced =
                std::iter::once(row.from_role_index).chain(row.target_role_indexes.iter().copied());
            for r in referenced {
                if r != NO_ROLE && roles.role(r).is_none() {
                    return Err(Reason::UndefinedRoleReference {
                        role: index,
                        referenced: r,
                    });
                }
            }
        }
        let unsatisfiable = role
            .maximum_participants_constraint
            .is_some_and(|max| role.minimum_participants_constraint > max)
            || role
                .maximum_active_participants_constraint
                .is_some_and(|max| role.minimum_active_participants_constraint > max)
            || role
                .maximum_participants_constraint
                .is_some_and(|max| role.minimum_active_participants_constraint > max);
        if unsatisfiable {
            return Err(Reason::UnsatisfiableConstraint(index));
        }
    }
    Ok(())
}

/// POL-24: preauthorization grants defined roles other than 0 and 1.
pub(crate) fn check_preauth(preauth: &PreAuthData, roles: &RoleData) -> Result<(), Reason> {
    for entry in &preauth.preauthorized_entries {
        let index = entry.target_role.role_index;
        if index == NO_ROLE {
            return Err(Reason::RoleZero);
        }
        if index == BANNED_ROLE {
            return Err(Reason::Banned);
        }
        if roles.role(index).is_none() {
            return Err(Reason::RoleUndefined(index));
        }
    }
    Ok(())
}
