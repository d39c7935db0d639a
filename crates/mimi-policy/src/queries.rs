//! Questions the hub asks outside a commit: may this user send (submitMessage),
//! receive (fan-out), or fetch the GroupInfo to join (groupInfo)?

use mimi_proto::components::{BANNED_ROLE, CapabilityType, NO_ROLE, ParticipantId};

use crate::actor::ActorId;
use crate::claims::Claims;
use crate::denial::{Denial, Reason};
use crate::state::RoomState;

/// How a client may join, and into which role (for the AppDataUpdate of an
/// unlisted joiner's external commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinPath {
    /// A listed user adds another client (canAddOwnClient).
    OwnClient {
        /// The user's role.
        role: u32,
    },
    /// First-match preauthorization into a role holding canJoinIfPreauthorized.
    Preauthorized {
        /// The granted role.
        role: u32,
    },
    /// Open join (role 0 holds canOpenJoin).
    OpenJoin {
        /// The first role role 0's matrix admits.
        role: u32,
    },
    /// A valid join code (role 0 holds canUseJoinCode).
    JoinCode {
        /// The first role role 0's matrix admits.
        role: u32,
    },
}

impl RoomState {
    /// POL-44: may `user` submit an application message? It must be listed,
    /// not banned (nor exiting), active, and its role must hold canSendMessage.
    ///
    /// # Errors
    /// [`Denial::SendMessage`] with the reason.
    pub fn check_sender(&self, user: &ParticipantId) -> Result<(), Denial> {
        let deny = |reason| Denial::SendMessage {
            target: user.clone(),
            reason,
        };
        let role = self.role_of(user).ok_or_else(|| deny(Reason::NotListed))?;
        if role == BANNED_ROLE {
            return Err(deny(Reason::Banned));
        }
        if self.client_count(user) == 0 {
            return Err(deny(Reason::NotActive));
        }
        if !self
            .roles()
            .role(role)
            .is_some_and(|r| r.has(CapabilityType::CAN_SEND_MESSAGE))
        {
            return Err(deny(Reason::MissingCapability(
                CapabilityType::CAN_SEND_MESSAGE,
            )));
        }
        Ok(())
    }

    /// [`RoomState::check_sender`] as a yes/no answer.
    pub fn is_active_sender(&self, user: &ParticipantId) -> bool {
        self.check_sender(user).is_ok()
    }

    /// Clients whose Remove has been accepted but not committed yet.
    pub fn pending_removals(&self) -> impl Iterator<Item = &mimi_proto::ClientId> {
        self.pending.removals.iter()
    }

    /// Member clients the next commit must remove (POL-37) for which no Remove
    /// is queued yet: clients of users who are unlisted or banned in this
    /// (effective) state. The hub can propose these Removes itself or tell the
    /// next committer; sorted.
    pub fn clients_to_remove(&self) -> Vec<&mimi_proto::ClientId> {
        let mut out: Vec<_> = self
            .members()
            .filter(|(c, u)| {
                !self.pending.removals.contains(*c)
                    && self.role_of(u).is_none_or(|r| r == BANNED_ROLE)
            })
            .map(|(c, _)| c)
            .collect();
        out.sort();
        out
    }

    /// POL-45: should application messages fan out to `user`'s clients? Only
    /// to listed, non-banned users whose role holds canReceiveMessage
    /// (handshake messages still go to every member).
    pub fn may_receive(&self, user: &ParticipantId) -> bool {
        self.check_receiver(user).is_ok()
    }

    /// [`RoomState::may_receive`], with the reason when not.
    ///
    /// # Errors
    /// [`Denial::ReceiveMessage`] with the reason.
    pub fn check_receiver(&self, user: &ParticipantId) -> Result<(), Denial> {
        let deny = |reason| Denial::ReceiveMessage {
            target: user.clone(),
            reason,
        };
        let role = self.role_of(user).ok_or_else(|| deny(Reason::NotListed))?;
        if role == BANNED_ROLE {
            return Err(deny(Reason::Banned));
        }
        if !self
            .roles()
            .role(role)
            .is_some_and(|r| r.has(CapabilityType::CAN_RECEIVE_MESSAGE))
        {
            return Err(deny(Reason::MissingCapability(
                CapabilityType::CAN_RECEIVE_MESSAGE,
            )));
        }
        Ok(())
    }

    /// POL-11 / POL-12 / POL-13 / POL-33 for a GroupInfoRequest: may the client
    /// with these credential `claims` (and optional join code) join, and how?
    ///
    /// # Errors
    /// The denial the matching external commit would get.
    pub fn authorize_join(
        &self,
        client: &mimi_proto::ClientId,
        claims: &Claims,
        join_code: Option<&[u8]>,
    ) -> Result<JoinPath, Denial> {
        let user = claims.user();
        let actor = ActorId::Joiner(client.clone());
        let roles = self.roles();
        if let Some(role) = self.role_of(user) {
            if role == BANNED_ROLE {
                return Err(Denial::BannedUser {
                    actor,
                    target: user.clone(),
                });
            }
            if roles
                .role(role)
                .is_some_and(|r| r.has(CapabilityType::CAN_ADD_OWN_CLIENT))
            {
                return Ok(JoinPath::OwnClient { role });
            }
            return Err(Denial::AddOwnClient {
                actor,
                target: client.clone(),
                reason: Reason::MissingCapability(CapabilityType::CAN_ADD_OWN_CLIENT),
            });
        }
        if self.base_policy().fixed_membership {
            return Err(Denial::FixedMembership {
                actor,
                target: user.clone(),
            });
        }
        let matched = self.components.preauth.as_ref().and_then(|p| {
            p.preauthorized_entries
                .iter()
                .find(|e| claims.matches(&e.claimset))
                .map(|e| e.target_role.role_index)
        });
        if let Some(role) = matched
            && roles
                .role(role)
                .is_some_and(|r| r.has(CapabilityType::CAN_JOIN_IF_PREAUTHORIZED))
        {
            return Ok(JoinPath::Preauthorized { role });
        }
        let no_role = roles.role(NO_ROLE);
        let first_target = no_role.and_then(|r| {
            r.authorized_role_changes
                .iter()
                .find(|row| row.from_role_index == NO_ROLE)
                .and_then(|row| {
                    row.target_role_indexes
                        .iter()
                        .copied()
                        .find(|t| *t != NO_ROLE && *t != BANNED_ROLE)
                })
        });
        if let (Some(r), Some(role)) = (no_role, first_target) {
            if r.has(CapabilityType::CAN_OPEN_JOIN) {
                return Ok(JoinPath::OpenJoin { role });
            }
            if let Some(code) = join_code {
                if r.has(CapabilityType::CAN_USE_JOIN_CODE)
                    && self
                        .components
                        .join_links
                        .as_ref()
                        .is_some_and(|l| l.contains(code))
                {
                    return Ok(JoinPath::JoinCode { role });
                }
                return Err(Denial::SelfJoin {
                    actor,
                    target: user.clone(),
                    role,
                    reason: Reason::InvalidJoinCode,
                });
            }
        }
        Err(Denial::SelfJoin {
            actor,
            target: user.clone(),
            role: NO_ROLE,
            reason: match matched {
                Some(m) => Reason::PreauthMismatch { matched: Some(m) },
                None => Reason::NoJoinPath,
            },
        })
    }
}
