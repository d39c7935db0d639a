//! Roles (room-policy-03 §3; component `roles_list`, 0x0025).
//!
//! ```text
//! uint16 CapabilityType;
//! struct { uint32 from_role_index; uint32 target_role_indexes<V>; } SingleSourceRoleChangeTargets;
//! struct {
//!   uint32 role_index;
//!   opaque role_name<V>;
//!   opaque role_description<V>;
//!   CapabilityType role_capabilities<V>;
//!   uint32 minimum_participants_constraint;
//!   optional uint32 maximum_participants_constraint;
//!   uint32 minimum_active_participants_constraint;
//!   optional uint32 maximum_active_participants_constraint;
//!   SingleSourceRoleChangeTargets authorized_role_changes<V>;
//! } Role;
//! struct { Role roles<V>; } RoleData;
//! RoleData RoleUpdate;   // replaces the whole value
//! ```

use super::capability::CapabilityType;
use super::metadata::{MAX_LONG_TEXT, MAX_SHORT_TEXT, read_utf8, write_utf8};
use crate::codec::{Codec, Reader, Utf8String, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most roles in a room. Real policies have under a dozen (the draft's largest
/// example has 10); the cap bounds the role table the hub indexes per room.
pub const MAX_ROLES: usize = 1024;

/// Most capability entries in one role. The registry has 77 code points.
pub const MAX_CAPABILITIES: usize = 1024;

/// Most `from` entries, or target indexes in one entry, of a transition matrix.
pub const MAX_ROLE_CHANGES: usize = 1024;

/// The name role 1 must carry for ban and unban to work (room-policy-03 §3).
pub const BANNED_ROLE_NAME: &str = "banned";

/// The role index meaning "not in the participant list".
pub const NO_ROLE: u32 = 0;

/// The role index of the ban role.
pub const BANNED_ROLE: u32 = 1;

/// One row of a role's transition matrix: from `from_role_index` the holder may
/// move a target to any of `target_role_indexes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SingleSourceRoleChangeTargets {
    /// Current role of the target (0 = not listed, i.e. an add).
    pub from_role_index: u32,
    /// Roles the target may be moved to (0 = removal, 1 = ban).
    pub target_role_indexes: Vec<u32>,
}

impl Codec for SingleSourceRoleChangeTargets {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            from_role_index: r.u32()?,
            target_role_indexes: r.vector(
                "SingleSourceRoleChangeTargets.target_role_indexes",
                MAX_ROLE_CHANGES,
                |r| r.u32(),
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.from_role_index);
        w.vector(&self.target_role_indexes, |w, t| {
            w.u32(*t);
            Ok(())
        })
    }
}

/// A role: what its holders may do, how many may hold it, and which role
/// changes they may make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Role {
    /// The index that names this role everywhere else. Need not be contiguous.
    pub role_index: u32,
    /// Name; role 1 must be named exactly `banned`.
    pub role_name: Utf8String,
    /// Free text, may be empty.
    pub role_description: Utf8String,
    /// Capabilities, possibly including reserved or unknown code points.
    pub role_capabilities: Vec<CapabilityType>,
    /// Fewest users that must hold the role (0 = no minimum).
    pub minimum_participants_constraint: u32,
    /// Most users that may hold the role (absent = no maximum).
    pub maximum_participants_constraint: Option<u32>,
    /// Fewest holders with at least one client in the group.
    pub minimum_active_participants_constraint: u32,
    /// Most holders with clients; `Some(0)` means holders may have no clients.
    pub maximum_active_participants_constraint: Option<u32>,
    /// The transition matrix rows.
    pub authorized_role_changes: Vec<SingleSourceRoleChangeTargets>,
}

impl Role {
    /// True if `role_capabilities` contains `capability`.
    pub fn has(&self, capability: CapabilityType) -> bool {
        self.role_capabilities.contains(&capability)
    }

    /// True if the matrix allows moving a target from `from` to `to`.
    pub fn may_change(&self, from: u32, to: u32) -> bool {
        self.authorized_role_changes
            .iter()
            .any(|row| row.from_role_index == from && row.target_role_indexes.contains(&to))
    }
}

impl Codec for Role {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            role_index: r.u32()?,
            role_name: read_utf8(r, "Role.role_name", MAX_SHORT_TEXT)?,
            role_description: read_utf8(r, "Role.role_description", MAX_LONG_TEXT)?,
            role_capabilities: r.vector("Role.role_capabilities", MAX_CAPABILITIES, |r| {
                r.u16().map(CapabilityType)
            })?,
            minimum_participants_constraint: r.u32()?,
            maximum_participants_constraint: r
                .optional("Role.maximum_participants_constraint", |r| r.u32())?,
            minimum_active_participants_constraint: r.u32()?,
            maximum_active_participants_constraint: r
                .optional("Role.maximum_active_participants_constraint", |r| r.u32())?,
            authorized_role_changes: r.vector(
                "Role.authorized_role_changes",
                MAX_ROLE_CHANGES,
                SingleSourceRoleChangeTargets::read,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.role_index);
        write_utf8(w, &self.role_name)?;
        write_utf8(w, &self.role_description)?;
        w.vector(&self.role_capabilities, |w, c| {
            w.u16(c.0);
            Ok(())
        })?;
        w.u32(self.minimum_participants_constraint);
        w.optional(self.maximum_participants_constraint.as_ref(), |w, v| {
            w.u32(*v);
            Ok(())
        })?;
        w.u32(self.minimum_active_participants_constraint);
        w.optional(
            self.maximum_active_participants_constraint.as_ref(),
            |w, v| {
                w.u32(*v);
                Ok(())
            },
        )?;
        w.vector(&self.authorized_role_changes, |w, row| row.write(w))
    }
}

/// `struct { Role roles<V>; } RoleData;`
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RoleData {
    /// The roles, in wire order.
    pub roles: Vec<Role>,
}

/// A roles update replaces the whole value (room-policy-03 §3).
pub type RoleUpdate = RoleData;

impl RoleData {
    /// The role with this index (the first, if a malformed list repeats it).
    pub fn role(&self, index: u32) -> Option<&Role> {
        self.roles.iter().find(|r| r.role_index == index)
    }
}

impl Codec for RoleData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            roles: r.vector("RoleData.roles", MAX_ROLES, Role::read)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.roles, |w, role| role.write(w))
    }
}

wire_value!(
    SingleSourceRoleChangeTargets => "SingleSourceRoleChangeTargets",
    Role => "Role",
    RoleData => "RoleData",
);
super::component!(RoleData => ROLES_LIST);
