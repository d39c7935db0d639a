//! Room creation: the initial state must satisfy every rule outright, and the
//! hub's envelope (POL-39).

use mimi_proto::components::{BANNED_ROLE, NO_ROLE, RoomComponents};

use crate::actor::ActorId;
use crate::denial::{Denial, Reason};
use crate::engine::{Context, check_preauth, validate_roles};
use crate::presets::Preset;
use crate::state::{Member, RoleCounts, RoomState};

impl RoomState {
    /// Checks and indexes the initial state of a new room: its components,
    /// its first members, and optionally the preset it was made from (which
    /// the envelope may restrict).
    ///
    /// # Errors
    /// The first [`Denial`] the initial state breaks, with actor
    /// [`ActorId::Creator`].
    pub fn create(
        ctx: &Context<'_>,
        preset: Option<Preset>,
        components: RoomComponents,
        members: Vec<Member>,
    ) -> Result<Self, Denial> {
        let actor = ActorId::Creator;
        let state = Self::from_committed(components, members)?;
        let roles = state.roles();
        let base = state.base_policy();
        // POL-39: the envelope (preset, bounds).
        ctx.envelope
            .check(roles, base, preset)
            .map_err(|bound| Denial::OutsideEnvelope {
                actor: actor.clone(),
                bound,
            })?;
        // POL-23 / POL-24 / POL-25: a valid policy.
        validate_roles(roles, base).map_err(|reason| Denial::RoleDefinitions {
            actor: actor.clone(),
            reason,
        })?;
        if let Some(preauth) = &state.components.preauth {
            check_preauth(preauth, roles).map_err(|reason| Denial::PreauthList {
                actor: actor.clone(),
                reason,
            })?;
        }
        if base.parent_dependant && base.parent_room.is_empty() {
            return Err(Denial::BasePolicy {
                actor: ActorId::Creator,
                reason: Reason::ParentRoomMissing,
            });
        }
        // POL-08, POL-40, POL-41: every entry names a defined non-zero role
        // and an allowed identity.
        for (user, role) in state.participants() {
            let reason = if role == NO_ROLE {
                Some(Reason::RoleZero)
            } else if roles.role(role).is_none() {
                Some(Reason::RoleUndefined(role))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(Denial::MalformedDelta {
                    actor: ActorId::Creator,
                    component: mimi_proto::components::ComponentId::PARTICIPANT_LIST,
                    target: Some(user.clone()),
                    reason,
                });
            }
            if user.is_pseudonym() && !base.pseudonyms_allowed {
                return Err(Denial::Pseudonyms {
                    target: user.clone(),
                });
            }
            if base.parent_dependant {
                let reason = match ctx.parent_participants {
                    None => Some(Reason::ParentUnknown),
                    Some(p) if !p.contains(user) => Some(Reason::NotInParent),
                    Some(_) => None,
                };
                if let Some(reason) = reason {
                    return Err(Denial::ParentDependant {
                        target: user.clone(),
                        reason,
                    });
                }
            }
        }
        // POL-30: every member's user is listed and not banned.
        for (client, record) in state.members.iter() {
            let user = state.user_id(record.user);
            let reason = match state.role_of(user) {
                None => Some(Reason::NotListed),
                Some(BANNED_ROLE) => Some(Reason::Banned),
                Some(_)
                    if client
                        .user()
                        .is_some_and(|u| user.user().is_some_and(|v| u != v)) =>
                {
                    Some(Reason::CredentialMismatch)
                }
                Some(_) => None,
            };
            if let Some(reason) = reason {
                return Err(Denial::ClientWithoutParticipant {
                    actor: ActorId::Creator,
                    target: client.clone(),
                    user: user.clone(),
                    reason,
                });
            }
        }
        // POL-27: ban records name banned users.
        if let Some(bans) = &state.components.bans
            && let Some(rec) = bans
                .bans
                .iter()
                .find(|r| state.role_of(&r.user) != Some(BANNED_ROLE))
        {
            return Err(Denial::BanRecords {
                actor: ActorId::Creator,
                target: rec.user.clone(),
                reason: Reason::NotBanned,
            });
        }
        check_counts(&state)?;
        Ok(state)
    }
}

/// POL-31, POL-32, POL-34, POL-35, POL-36 outright.
fn check_counts(state: &RoomState) -> Result<(), Denial> {
    use crate::denial::Bound;
    let counts = RoleCounts::compute(&state.list, &state.clients);
    for role in &state.roles().roles {
        let index = role.role_index;
        if index == NO_ROLE {
            continue;
        }
        let (p, a) = counts.of(index);
        let min = role.minimum_participants_constraint;
        if p < min {
            return Err(Denial::RoleParticipants {
                role: index,
                bound: Bound::Min,
                limit: min,
                count: p,
            });
        }
        if let Some(max) = role.maximum_participants_constraint.filter(|m| p > *m) {
            return Err(Denial::RoleParticipants {
                role: index,
                bound: Bound::Max,
                limit: max,
                count: p,
            });
        }
        if index == BANNED_ROLE {
            continue;
        }
        let min = role.minimum_active_participants_constraint;
        if a < min {
            return Err(Denial::RoleActiveParticipants {
                role: index,
                bound: Bound::Min,
                limit: min,
                count: a,
            });
        }
        if let Some(max) = role
            .maximum_active_participants_constraint
            .filter(|m| a > *m)
        {
            return Err(Denial::RoleActiveParticipants {
                role: index,
                bound: Bound::Max,
                limit: max,
                count: a,
            });
        }
    }
    let base = state.base_policy();
    if let Some(limit) = base.max_users.filter(|l| counts.non_banned > *l) {
        return Err(Denial::MaxUsers {
            limit,
            count: counts.non_banned,
        });
    }
    if let Some(limit) = base.max_clients.filter(|l| state.member_count > *l) {
        return Err(Denial::MaxClients {
            limit,
            count: state.member_count,
        });
    }
    if !base.multi_device
        && let Some((key, n)) = state.clients.iter().enumerate().find(|(_, n)| **n > 1)
    {
        return Err(Denial::MultiDevice {
            target: state.user_id(key as u32).clone(),
            clients: *n,
        });
    }
    Ok(())
}
