//! Checks on the state a change set leaves behind: the exclusivity rules
//! (POL-04, POL-05), ban-record consistency (POL-27), role and room
//! constraints (POL-31 to POL-36), pseudonyms and parents (POL-40, POL-41),
//! the envelope (POL-39) and, for commits, the order-of-operations invariant
//! (POL-37).
//!
//! Constraints follow the digest's reading (A.9.1 step 5): a minimum is checked
//! only for a role whose count went down, a maximum only for one whose count
//! went up, so a pre-existing violation never blocks an unrelated change.
//! After a roles or base-policy change every constraint is checked outright.

use mimi_proto::components::{BANNED_ROLE, MAX_PARTICIPANTS, NO_ROLE};

use super::working::Working;
use crate::actor::ActorId;
use crate::denial::{Bound, Denial, Reason};
use crate::state::{NOT_LISTED, RoleCounts, UserKey};

impl Working<'_> {
    fn actor_id(&self) -> ActorId {
        self.last_actor.map_or(ActorId::Creator, |a| a.id())
    }

    /// Runs every post-change check; returns the new role counts.
    pub(crate) fn finish(&self, commit: bool) -> Result<RoleCounts, Denial> {
        // POL-04 / POL-05: exclusivity across the commit (or the epoch's
        // accepted proposals, which the next commit must carry).
        if let Some(actor) = &self.pending.roles_updated
            && self.pending.list_changed
        {
            return Err(Denial::RolesWithParticipantChange {
                actor: actor.clone(),
            });
        }
        if let Some(actor) = &self.pending.preauth_updated
            && self.pending.list_changed_beyond_removals
        {
            return Err(Denial::PreauthWithParticipantChange {
                actor: actor.clone(),
            });
        }
        self.check_ban_records()?;
        self.check_identities()?;
        if self.roles_changed || self.base_changed {
            // POL-39: the envelope bounds every policy change.
            self.ctx
                .envelope
                .check(self.roles(), self.base_policy(), None)
                .map_err(|bound| Denial::OutsideEnvelope {
                    actor: self.actor_id(),
                    bound,
                })?;
        }
        let after = RoleCounts::compute(&self.list, &self.clients);
        self.check_role_constraints(&after)?;
        self.check_room_limits(&after)?;
        if commit {
            self.check_no_clients_left()?;
        }
        Ok(after)
    }

    /// POL-27: every ban record names a user in role 1.
    fn check_ban_records(&self) -> Result<(), Denial> {
        if !(self.bans_touched || self.pending.list_changed) {
            return Ok(());
        }
        let Some(bans) = self.bans() else {
            return Ok(());
        };
        for rec in &bans.bans {
            let role = self.key_of(&rec.user).and_then(|k| self.listed_role(k));
            if role != Some(BANNED_ROLE) {
                return Err(Denial::BanRecords {
                    actor: self.actor_id(),
                    target: rec.user.clone(),
                    reason: Reason::NotBanned,
                });
            }
        }
        Ok(())
    }

    /// POL-40 / POL-41 for the users this change set added (all listed users
    /// after a base-policy change).
    fn check_identities(&self) -> Result<(), Denial> {
        let base = self.base_policy();
        let all: Vec<UserKey>;
        let users: &mut dyn Iterator<Item = UserKey> = if self.base_changed {
            all = self.list.iter().map(|e| e.user).collect();
            &mut all.iter().copied()
        } else {
            &mut self.added_users.iter().copied()
        };
        for key in users {
            let id = self.user_id(key);
            if id.is_pseudonym() && !base.pseudonyms_allowed {
                return Err(Denial::Pseudonyms { target: id.clone() });
            }
            if base.parent_dependant {
                let reason = match self.ctx.parent_participants {
                    None => Some(Reason::ParentUnknown),
                    Some(parent) if !parent.contains(id) => Some(Reason::NotInParent),
                    Some(_) => None,
                };
                if let Some(reason) = reason {
                    return Err(Denial::ParentDependant {
                        target: id.clone(),
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    /// POL-31 / POL-32 per role.
    fn check_role_constraints(&self, after: &RoleCounts) -> Result<(), Denial> {
        let absolute = self.roles_changed;
        for role in &self.roles().roles {
            let index = role.role_index;
            if index == NO_ROLE {
                continue;
            }
            let (p_before, a_before) = self.base.counts.of(index);
            let (p_after, a_after) = after.of(index);
            let min = role.minimum_participants_constraint;
            if p_after < min && (absolute || p_after < p_before) {
                return Err(Denial::RoleParticipants {
                    role: index,
                    bound: Bound::Min,
                    limit: min,
                    count: p_after,
                });
            }
            if let Some(max) = role.maximum_participants_constraint
                && p_after > max
                && (absolute || p_after > p_before)
            {
                return Err(Denial::RoleParticipants {
                    role: index,
                    bound: Bound::Max,
                    limit: max,
                    count: p_after,
                });
            }
            // Banned users' clients are POL-37's business, not a role constraint.
            if index == BANNED_ROLE {
                continue;
            }
            let min = role.minimum_active_participants_constraint;
            if a_after < min && (absolute || a_after < a_before) {
                return Err(Denial::RoleActiveParticipants {
                    role: index,
                    bound: Bound::Min,
                    limit: min,
                    count: a_after,
                });
            }
            if let Some(max) = role.maximum_active_participants_constraint
                && a_after > max
                && (absolute || a_after > a_before)
            {
                return Err(Denial::RoleActiveParticipants {
                    role: index,
                    bound: Bound::Max,
                    limit: max,
                    count: a_after,
                });
            }
        }
        Ok(())
    }

    /// POL-34, POL-35, POL-36 and the envelope's own user and client bounds.
    fn check_room_limits(&self, after: &RoleCounts) -> Result<(), Denial> {
        let base = self.base_policy();
        let absolute = self.base_changed;
        let env = self.ctx.envelope;
        // The list's hard cap, so every list we produce decodes again.
        let len = self.list.len() as u32;
        if len > MAX_PARTICIPANTS as u32 && len > self.base.list.len() as u32 {
            return Err(Denial::MaxUsers {
                limit: MAX_PARTICIPANTS as u32,
                count: len,
            });
        }
        let users = after.non_banned;
        if absolute || users > self.base.counts.non_banned {
            if env.max_users.is_some_and(|bound| users > bound) {
                return Err(Denial::OutsideEnvelope {
                    actor: self.actor_id(),
                    bound: crate::EnvelopeBound::MaxUsers,
                });
            }
            if let Some(limit) = base.max_users.filter(|l| users > *l) {
                return Err(Denial::MaxUsers {
                    limit,
                    count: users,
                });
            }
        }
        let clients = self.member_count;
        if absolute || clients > self.base.member_count {
            if env.max_clients.is_some_and(|bound| clients > bound) {
                return Err(Denial::OutsideEnvelope {
                    actor: self.actor_id(),
                    bound: crate::EnvelopeBound::MaxClients,
                });
            }
            if let Some(limit) = base.max_clients.filter(|l| clients > *l) {
                return Err(Denial::MaxClients {
                    limit,
                    count: clients,
                });
            }
        }
        if !base.multi_device {
            let over = |k: &UserKey| self.clients[*k as usize] > 1;
            let found = if absolute {
                self.list.iter().map(|e| e.user).find(|k| over(k))
            } else {
                self.grew.iter().copied().find(|k| over(k))
            };
            if let Some(key) = found {
                return Err(Denial::MultiDevice {
                    target: self.user_id(key).clone(),
                    clients: self.clients[key as usize],
                });
            }
        }
        Ok(())
    }

    /// POL-37: after a commit no client of a removed or banned user remains.
    fn check_no_clients_left(&self) -> Result<(), Denial> {
        for &key in &self.departed {
            if self.clients[key as usize] == 0 {
                continue;
            }
            let still_gone =
                self.slot[key as usize] == NOT_LISTED || self.listed_role(key) == Some(BANNED_ROLE);
            if !still_gone {
                continue;
            }
            let client = self
                .base
                .members
                .iter()
                .find(|(c, r)| r.user == key && !self.removed.contains(*c))
                .map(|(c, _)| c.clone());
            if let Some(client) = client {
                return Err(Denial::ClientsLeft {
                    target: self.user_id(key).clone(),
                    client,
                });
            }
        }
        Ok(())
    }
}
