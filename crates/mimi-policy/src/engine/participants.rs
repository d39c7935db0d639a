//! Participant-list updates (protocol-06 §7.5; room-policy-03 §3, §4, §8.1):
//! every add, removal and role change is authorized separately against the
//! list as it was before the update, then the update is applied as role
//! changes, removals (survivors keep their order), appends (decision RSC-6).

use mimi_proto::components::{
    BANNED_ROLE, CapabilityType, ComponentId, NO_ROLE, ParticipantId, ParticipantListUpdate,
};

use super::working::{Kind, Resolved, Working};
use crate::denial::{Denial, Reason};
use crate::state::{Entry, NOT_LISTED, UserKey};

const LIST: ComponentId = ComponentId::PARTICIPANT_LIST;

impl<'a> Working<'a> {
    /// Validates, authorizes and applies one `ParticipantListUpdate` sent by `r`.
    pub(crate) fn apply_participant_update(
        &mut self,
        r: &Resolved<'a>,
        update: &ParticipantListUpdate,
    ) -> Result<(), Denial> {
        let actor_role = self.current_role(r);
        let actor_key = self.key_of(r.identity);
        let len = self.list.len() as u32;
        let malformed = |target: Option<ParticipantId>, reason| Denial::MalformedDelta {
            actor: r.id(),
            component: LIST,
            target,
            reason,
        };

        // POL-08 / POL-07: indices in range, roles defined and non-zero, each
        // user touched once per commit (the pending set spans the epoch's
        // accepted proposals too).
        for c in &update.changed_role_participants {
            if c.user_index >= len {
                return Err(malformed(
                    None,
                    Reason::IndexOutOfRange {
                        index: c.user_index,
                        len,
                    },
                ));
            }
            let user = self.list[c.user_index as usize].user;
            self.check_entry_role(r, user, c.role_index)?;
            self.touch(r, user)?;
        }
        for &i in &update.removed_indices {
            if i >= len {
                return Err(malformed(None, Reason::IndexOutOfRange { index: i, len }));
            }
            self.touch(r, self.list[i as usize].user)?;
        }
        let mut added_keys = Vec::with_capacity(update.added_participants.len());
        for p in &update.added_participants {
            let key = self.intern(&p.user);
            if let Some(role) = self.listed_role(key) {
                // POL-13: a banned user is listed; it cannot come back as a new
                // entry (and never through preauthorization).
                if role == BANNED_ROLE && actor_key == Some(key) {
                    return Err(Denial::BannedUser {
                        actor: r.id(),
                        target: p.user.clone(),
                    });
                }
                return Err(malformed(Some(p.user.clone()), Reason::AlreadyListed(role)));
            }
            self.check_entry_role(r, key, p.role_index)?;
            self.touch(r, key)?;
            added_keys.push((key, p.role_index));
        }

        // Authorize each change against the pre-update list.
        for c in &update.changed_role_participants {
            let entry = self.list[c.user_index as usize];
            self.authorize_role_change(r, actor_role, actor_key, entry, c.role_index)?;
        }
        for &i in &update.removed_indices {
            let entry = self.list[i as usize];
            self.authorize_removal(r, actor_role, actor_key, entry)?;
        }
        for &(key, role) in &added_keys {
            self.authorize_add(r, actor_role, actor_key, key, role)?;
        }

        // Apply: role changes, removals, appends.
        for c in &update.changed_role_participants {
            let entry = &mut self.list[c.user_index as usize];
            let (user, from, to) = (entry.user, entry.role, c.role_index);
            entry.role = to;
            if to == BANNED_ROLE {
                self.departed.push(user);
            }
            let id = self.user_id(user).clone();
            if to == BANNED_ROLE {
                self.summary.banned_users.push(id);
            } else if from == BANNED_ROLE {
                self.summary.unbanned_users.push(id);
            } else {
                self.summary.role_changes.push((id, from, to));
            }
        }
        if !update.removed_indices.is_empty() {
            let mut gone = vec![false; self.list.len()];
            for &i in &update.removed_indices {
                gone[i as usize] = true;
            }
            let first = update.removed_indices.iter().copied().min().unwrap_or(0) as usize;
            let mut index = 0;
            let mut removed = Vec::with_capacity(update.removed_indices.len());
            self.list.retain(|e| {
                let keep = !gone[index];
                if !keep {
                    removed.push(e.user);
                }
                index += 1;
                keep
            });
            for key in removed {
                self.slot[key as usize] = NOT_LISTED;
                self.departed.push(key);
                self.added_users.remove(&key);
                let id = self.user_id(key).clone();
                self.summary.removed_users.push(id);
            }
            for (pos, e) in self.list.iter().enumerate().skip(first) {
                self.slot[e.user as usize] = pos as u32;
            }
        }
        for (key, role) in added_keys {
            self.slot[key as usize] = self.list.len() as u32;
            self.list.push(Entry { user: key, role });
            if role == BANNED_ROLE {
                self.departed.push(key);
                self.summary.banned_users.push(self.user_id(key).clone());
            } else {
                self.added_users.insert(key);
                self.summary.added_users.push(self.user_id(key).clone());
            }
        }

        self.pending.list_changed = true;
        if !update.changed_role_participants.is_empty() || !update.added_participants.is_empty() {
            self.pending.list_changed_beyond_removals = true;
        }
        if !self.updated.contains(&LIST) {
            self.updated.push(LIST);
        }
        Ok(())
    }

    /// POL-07: at most one touch per user per commit.
    fn touch(&mut self, r: &Resolved<'_>, user: UserKey) -> Result<(), Denial> {
        if self.pending.touched.insert(user) {
            Ok(())
        } else {
            Err(Denial::UserTouchedTwice {
                actor: r.id(),
                target: self.user_id(user).clone(),
            })
        }
    }

    /// POL-08: an entry names a defined role other than 0.
    fn check_entry_role(&self, r: &Resolved<'_>, user: UserKey, role: u32) -> Result<(), Denial> {
        let reason = if role == NO_ROLE {
            Reason::RoleZero
        } else if self.role(role).is_none() {
            Reason::RoleUndefined(role)
        } else {
            return Ok(());
        };
        Err(Denial::MalformedDelta {
            actor: r.id(),
            component: LIST,
            target: Some(self.user_id(user).clone()),
            reason,
        })
    }

    /// POL-14, POL-15, POL-20, POL-21: a role change, classified by who and what.
    fn authorize_role_change(
        &self,
        r: &Resolved<'_>,
        actor_role: u32,
        actor_key: Option<UserKey>,
        entry: Entry,
        to: u32,
    ) -> Result<(), Denial> {
        let from = entry.role;
        let target = entry.user;
        let id = || self.user_id(target).clone();
        if actor_key == Some(target) {
            // POL-15: own role change, into the first non-zero preauth match;
            // the matrix is not consulted.
            let own = |reason| Denial::ChangeOwnRole {
                actor: r.id(),
                target: id(),
                from,
                to,
                reason,
            };
            self.need(actor_role, CapabilityType::CAN_CHANGE_OWN_ROLE)
                .map_err(own)?;
            let matched = self.preauth_match(r.claims).filter(|m| *m != NO_ROLE);
            if matched != Some(to) {
                return Err(own(Reason::PreauthMismatch { matched }));
            }
            return Ok(());
        }
        if to == BANNED_ROLE {
            // POL-20: ban.
            let ban = |reason| Denial::Ban {
                actor: r.id(),
                target: id(),
                reason,
            };
            self.need(actor_role, CapabilityType::CAN_BAN)
                .map_err(ban)?;
            if !self.banned_role_ok() {
                return Err(ban(Reason::NoBannedRole));
            }
            self.arc(actor_role, from, BANNED_ROLE).map_err(ban)?;
            return self.check_org(r, actor_role, target);
        }
        if from == BANNED_ROLE {
            return self.authorize_unban(r, actor_role, target, to);
        }
        // POL-14: another user's role.
        let change = |reason| Denial::ChangeUserRole {
            actor: r.id(),
            target: id(),
            from,
            to,
            reason,
        };
        self.need(actor_role, CapabilityType::CAN_CHANGE_USER_ROLE)
            .map_err(change)?;
        self.arc(actor_role, from, to).map_err(change)?;
        self.check_org(r, actor_role, target)
    }

    /// POL-21: `1 -> to` needs canUnBan and ARC(R, 1->to); a ban whose record
    /// has expired may also be lifted by canAddParticipant with ARC(R, 0->to).
    fn authorize_unban(
        &self,
        r: &Resolved<'_>,
        actor_role: u32,
        target: UserKey,
        to: u32,
    ) -> Result<(), Denial> {
        let unban = |reason| Denial::Unban {
            actor: r.id(),
            target: self.user_id(target).clone(),
            to,
            reason,
        };
        if !self.banned_role_ok() {
            return Err(unban(Reason::NoBannedRole));
        }
        let by_unban = self
            .need(actor_role, CapabilityType::CAN_UN_BAN)
            .and_then(|()| self.arc(actor_role, BANNED_ROLE, to));
        if let Err(first) = by_unban {
            let expired = self
                .bans()
                .and_then(|b| b.record(self.user_id(target)))
                .is_some_and(|rec| rec.is_expired(self.ctx.now));
            let by_add = self
                .need(actor_role, CapabilityType::CAN_ADD_PARTICIPANT)
                .and_then(|()| self.arc(actor_role, NO_ROLE, to));
            if !(expired && by_add.is_ok()) {
                return Err(unban(if by_add.is_ok() {
                    Reason::BanNotExpired
                } else {
                    first
                }));
            }
        }
        self.check_org(r, actor_role, target)
    }

    /// POL-16 / POL-17 (and POL-33): removal of another user, or leaving.
    fn authorize_removal(
        &self,
        r: &Resolved<'_>,
        actor_role: u32,
        actor_key: Option<UserKey>,
        entry: Entry,
    ) -> Result<(), Denial> {
        let from = entry.role;
        let target = entry.user;
        let id = || self.user_id(target).clone();
        // POL-33: in a fixed-membership room nobody leaves or is removed.
        if self.base_policy().fixed_membership {
            return Err(Denial::FixedMembership {
                actor: r.id(),
                target: id(),
            });
        }
        if actor_key == Some(target) {
            // POL-17: leave.
            let leave = |reason| Denial::Leave {
                actor: r.id(),
                target: id(),
                reason,
            };
            self.need(actor_role, CapabilityType::CAN_REMOVE_SELF)
                .map_err(leave)?;
            return self.arc(actor_role, from, NO_ROLE).map_err(leave);
        }
        // POL-16: remove another user.
        let remove = |reason| Denial::RemoveParticipant {
            actor: r.id(),
            target: id(),
            reason,
        };
        self.need(actor_role, CapabilityType::CAN_REMOVE_PARTICIPANT)
            .map_err(remove)?;
        self.arc(actor_role, from, NO_ROLE).map_err(remove)?;
        self.check_org(r, actor_role, target)
    }

    /// POL-10, POL-12, POL-20 (pre-emptive ban), POL-33: a new entry.
    fn authorize_add(
        &self,
        r: &Resolved<'_>,
        actor_role: u32,
        actor_key: Option<UserKey>,
        target: UserKey,
        to: u32,
    ) -> Result<(), Denial> {
        let id = || self.user_id(target).clone();
        if to == BANNED_ROLE {
            // POL-20: banning someone not yet listed (ARC(R, 0->1)).
            let ban = |reason| Denial::Ban {
                actor: r.id(),
                target: id(),
                reason,
            };
            self.need(actor_role, CapabilityType::CAN_BAN)
                .map_err(ban)?;
            if !self.banned_role_ok() {
                return Err(ban(Reason::NoBannedRole));
            }
            self.arc(actor_role, NO_ROLE, BANNED_ROLE).map_err(ban)?;
            return self.check_org(r, actor_role, target);
        }
        // POL-33: no new users in a fixed-membership room.
        if self.base_policy().fixed_membership {
            return Err(Denial::FixedMembership {
                actor: r.id(),
                target: id(),
            });
        }
        if actor_key == Some(target) || (actor_key.is_none() && self.user_id(target) == r.identity)
        {
            return self.authorize_self_join(r, target, to);
        }
        // POL-10: add another user.
        let add = |reason| Denial::AddParticipant {
            actor: r.id(),
            target: id(),
            role: to,
            reason,
        };
        self.need(actor_role, CapabilityType::CAN_ADD_PARTICIPANT)
            .map_err(add)?;
        self.arc(actor_role, NO_ROLE, to).map_err(add)?;
        self.check_org(r, actor_role, target)
    }

    /// POL-12: an unlisted user adds itself. The first path that admits role
    /// `to` wins: first-match preauthorization (matrix not consulted), open
    /// join, or a valid join code (both via role 0's matrix).
    fn authorize_self_join(
        &self,
        r: &Resolved<'_>,
        target: UserKey,
        to: u32,
    ) -> Result<(), Denial> {
        let deny = |reason| Denial::SelfJoin {
            actor: r.id(),
            target: self.user_id(target).clone(),
            role: to,
            reason,
        };
        if r.kind == Kind::Client {
            // A member's user is listed already; reaching here means it is not.
            return Err(deny(Reason::NotListed));
        }
        let matched = self.preauth_match(r.claims);
        if matched == Some(to) && self.has(to, CapabilityType::CAN_JOIN_IF_PREAUTHORIZED) {
            return Ok(());
        }
        let role0_allows = self.arc(NO_ROLE, NO_ROLE, to).is_ok();
        if role0_allows && self.has(NO_ROLE, CapabilityType::CAN_OPEN_JOIN) {
            return Ok(());
        }
        let code = match r.actor {
            crate::actor::Actor::Joiner { join_code, .. } => join_code.as_deref(),
            _ => None,
        };
        if let Some(code) = code {
            if !self.has(NO_ROLE, CapabilityType::CAN_USE_JOIN_CODE) {
                return Err(deny(Reason::MissingCapability(
                    CapabilityType::CAN_USE_JOIN_CODE,
                )));
            }
            if !self.join_links().is_some_and(|l| l.contains(code)) {
                return Err(deny(Reason::InvalidJoinCode));
            }
            if role0_allows {
                return Ok(());
            }
            return Err(deny(Reason::TransitionNotAuthorized { from: NO_ROLE, to }));
        }
        Err(deny(match matched {
            Some(m) if m != to => Reason::PreauthMismatch { matched: Some(m) },
            Some(_) => Reason::MissingCapability(CapabilityType::CAN_JOIN_IF_PREAUTHORIZED),
            None => Reason::NoJoinPath,
        }))
    }
}
