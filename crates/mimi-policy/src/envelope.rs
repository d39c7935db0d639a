//! The policy envelope (draft-ietf-mimi-arch §4.4): the set of policies the hub
//! operator accepts for rooms it hosts. Room creation and every later policy
//! change must stay inside it; a refusal names the bound (POL-39).

use mimi_proto::components::{BaseRoomPolicy, CapabilityType, NO_ROLE, RoleData};

use crate::presets::Preset;

/// The hub operator's bounds on room policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEnvelope {
    /// Presets a room may be created from; `None` allows every preset.
    pub allowed_presets: Option<Vec<Preset>>,
    /// Whether a room may define its own roles. When false, `roles_list` must
    /// always equal the roles of an allowed preset.
    pub custom_roles: bool,
    /// Largest `max_users` a room may set; when present, rooms must set one.
    pub max_users: Option<u32>,
    /// Largest `max_clients` a room may set; when present, rooms must set one.
    pub max_clients: Option<u32>,
    /// Whether role 0 may hold `canOpenJoin`.
    pub open_join: bool,
    /// Whether `pseudonyms_allowed` may be true.
    pub pseudonyms: bool,
}

impl PolicyEnvelope {
    /// No bounds at all: every preset, custom roles, open join, pseudonyms.
    pub fn permissive() -> Self {
        Self {
            allowed_presets: None,
            custom_roles: true,
            max_users: None,
            max_clients: None,
            open_join: true,
            pseudonyms: true,
        }
    }

    /// Checks a room's policy components against the envelope. `preset` is the
    /// preset the room is being created from, if any (creation only).
    ///
    /// # Errors
    /// The first [`EnvelopeBound`] the policy exceeds.
    pub fn check(
        &self,
        roles: &RoleData,
        base: &BaseRoomPolicy,
        preset: Option<Preset>,
    ) -> Result<(), EnvelopeBound> {
        if let (Some(allowed), Some(p)) = (&self.allowed_presets, preset)
            && !allowed.contains(&p)
        {
            return Err(EnvelopeBound::Preset);
        }
        if !self.custom_roles {
            let mut presets = self
                .allowed_presets
                .clone()
                .unwrap_or_else(|| Preset::ALL.to_vec())
                .into_iter();
            if !presets.any(|p| p.template().roles == *roles) {
                return Err(EnvelopeBound::CustomRoles);
            }
        }
        if let Some(bound) = self.max_users
            && base.max_users.is_none_or(|m| m > bound)
        {
            return Err(EnvelopeBound::MaxUsers);
        }
        if let Some(bound) = self.max_clients
            && base.max_clients.is_none_or(|m| m > bound)
        {
            return Err(EnvelopeBound::MaxClients);
        }
        if !self.open_join
            && roles
                .role(NO_ROLE)
                .is_some_and(|r| r.has(CapabilityType::CAN_OPEN_JOIN))
        {
            return Err(EnvelopeBound::OpenJoin);
        }
        if !self.pseudonyms && base.pseudonyms_allowed {
            return Err(EnvelopeBound::Pseudonyms);
        }
        Ok(())
    }
}

impl Default for PolicyEnvelope {
    fn default() -> Self {
        Self::permissive()
    }
}

/// Which bound of the envelope a policy exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeBound {
    /// The preset is not allowed.
    Preset,
    /// Custom roles are not allowed.
    CustomRoles,
    /// `max_users` is absent or above the bound.
    MaxUsers,
    /// `max_clients` is absent or above the bound.
    MaxClients,
    /// Open join is not allowed.
    OpenJoin,
    /// Pseudonyms are not allowed.
    Pseudonyms,
}
