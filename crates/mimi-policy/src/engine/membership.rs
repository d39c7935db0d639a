//! MLS Adds and Removes (protocol-06 §5.3, §7.5; room-policy-03 §8.1), ReInit
//! and the committer. These are judged after every AppDataUpdate of the change
//! set, against the participant list as the change set leaves it, because the
//! list must reflect an Add "before or in the same commit" and a removal "in
//! the same commit" as the Removes.

use mimi_proto::ClientId;
use mimi_proto::UriKind;
use mimi_proto::components::{BANNED_ROLE, CapabilityType};

use super::working::{Kind, Resolved, Working};
use crate::claims::Claims;
use crate::denial::{Denial, Reason};

impl<'a> Working<'a> {
    /// A Remove (or SelfRemove) of `client` sent by `r`.
    pub(crate) fn apply_remove(
        &mut self,
        r: &Resolved<'a>,
        client: &ClientId,
    ) -> Result<(), Denial> {
        // POL-43: the client is a member and is removed once.
        let mismatch = |reason| Denial::MembershipMismatch {
            actor: r.id(),
            target: client.clone(),
            reason,
        };
        if self.removed.contains(client) || self.base.pending.removals.contains(client) {
            return Err(mismatch(Reason::RemovedTwice));
        }
        let Some(record) = self.base.members.get(client) else {
            return Err(mismatch(Reason::NotAMember));
        };
        let owner = record.user;
        let owner_status = self.listed_role(owner);
        let owner_gone = owner_status.is_none_or(|role| role == BANNED_ROLE);
        let own = self.key_of(r.identity) == Some(owner);

        if own {
            // POL-18: removing one's own client while staying listed needs
            // canRemoveOwnClient. (If the user leaves or is banned in the same
            // change set, the removal completes that action.)
            if !owner_gone && r.kind == Kind::Client {
                self.need(r.start_role, CapabilityType::CAN_REMOVE_OWN_CLIENT)
                    .map_err(|reason| Denial::RemoveOwnClient {
                        actor: r.id(),
                        target: client.clone(),
                        reason,
                    })?;
            }
        } else {
            // POL-09: an exiting actor removes only its own clients.
            if self.is_exiting(r) {
                return Err(Denial::ExitingActor { actor: r.id() });
            }
            if !owner_gone {
                // POL-19: kick (the user stays listed, loses clients).
                self.need(r.start_role, CapabilityType::CAN_KICK)
                    .map_err(|reason| Denial::Kick {
                        actor: r.id(),
                        target: client.clone(),
                        reason,
                    })?;
                self.check_org(r, r.start_role, owner)?;
                self.summary.kicked_clients.push(client.clone());
            }
            // Otherwise the owner is unlisted or banned: removing its client is
            // what POL-37 requires, and anyone may do it.
        }
        self.removed.insert(client.clone());
        self.clients[owner as usize] = self.clients[owner as usize].saturating_sub(1);
        self.member_count = self.member_count.saturating_sub(1);
        self.summary.removed_clients.push(client.clone());
        Ok(())
    }

    /// An Add of `client` with `claims`, sent by `r` (for an external commit,
    /// the joiner's own client, with `r` the joiner).
    pub(crate) fn apply_add(
        &mut self,
        r: &Resolved<'a>,
        client: &ClientId,
        claims: &Claims,
    ) -> Result<(), Denial> {
        // POL-43: not already a member.
        if self.member(client).is_some() || self.base.members.contains_key(client) {
            return Err(Denial::MembershipMismatch {
                actor: r.id(),
                target: client.clone(),
                reason: Reason::AlreadyMember,
            });
        }
        let user = claims.user();
        let without = |reason| Denial::ClientWithoutParticipant {
            actor: r.id(),
            target: client.clone(),
            user: user.clone(),
            reason,
        };
        // POL-30: the client id, where it names a user, names the credential's user.
        if user.as_uri().kind() == UriKind::User
            && client.user().is_some_and(|u| u.as_uri() != user.as_uri())
        {
            return Err(without(Reason::CredentialMismatch));
        }
        let own = r.identity == user;
        let key = self.key_of(user);
        let role = key.and_then(|k| self.listed_role(k));
        let (key, role) = match (key, role) {
            (Some(k), Some(role)) => (k, role),
            // POL-30: listed before or in the same commit as its clients' Adds.
            _ => return Err(without(Reason::NotListed)),
        };
        if role == BANNED_ROLE {
            // POL-13 for the banned user itself, POL-30 for anyone else.
            return Err(if own {
                Denial::BannedUser {
                    actor: r.id(),
                    target: user.clone(),
                }
            } else {
                without(Reason::Banned)
            });
        }
        if !self.added_users.contains(&key) {
            if own {
                // POL-11: a listed user adds its own client.
                self.need(role, CapabilityType::CAN_ADD_OWN_CLIENT)
                    .map_err(|reason| Denial::AddOwnClient {
                        actor: r.id(),
                        target: client.clone(),
                        reason,
                    })?;
            } else {
                // POL-10: clients of an already-listed (inactive) user, added
                // by someone else, need the adder's canAddParticipant.
                self.need(r.start_role, CapabilityType::CAN_ADD_PARTICIPANT)
                    .map_err(|reason| Denial::AddParticipant {
                        actor: r.id(),
                        target: user.clone(),
                        role,
                        reason,
                    })?;
                self.check_org(r, r.start_role, key)?;
            }
        }
        self.add_member(client.clone(), key, claims);
        self.summary.added_clients.push(client.clone());
        Ok(())
    }

    /// POL-28: ReInit needs canSendMLSReinitProposal.
    pub(crate) fn check_reinit(&self, r: &Resolved<'_>) -> Result<(), Denial> {
        self.need(r.start_role, CapabilityType::CAN_SEND_MLS_REINIT_PROPOSAL)
            .map_err(|reason| Denial::ReInit {
                actor: r.id(),
                reason,
            })
    }

    /// POL-29 before the change set: a member client (not an external sender)
    /// or a joiner that is not a member yet.
    pub(crate) fn check_committer_before(&self, r: &Resolved<'_>) -> Result<(), Denial> {
        let deny = |reason| Denial::Committer {
            actor: r.id(),
            reason,
        };
        match r.kind {
            Kind::Server => Err(deny(Reason::ServerCannotCommit)),
            Kind::Client if self.is_exiting(r) => Err(deny(Reason::Exiting)),
            Kind::Client => Ok(()),
            Kind::Joiner => match r.client {
                Some(c) if self.base.members.contains_key(c) => Err(Denial::MembershipMismatch {
                    actor: r.id(),
                    target: c.clone(),
                    reason: Reason::AlreadyMember,
                }),
                _ => Ok(()),
            },
        }
    }

    /// POL-29 after the change set: the committer stays, listed and not banned.
    pub(crate) fn check_committer_after(&self, r: &Resolved<'_>) -> Result<(), Denial> {
        let deny = |reason| Denial::Committer {
            actor: r.id(),
            reason,
        };
        if r.kind != Kind::Client {
            return Ok(());
        }
        if r.client.is_some_and(|c| self.removed.contains(c)) {
            return Err(deny(Reason::RemovesItself));
        }
        if self.is_exiting(r) {
            return Err(deny(Reason::Exiting));
        }
        Ok(())
    }
}
