//! Fixtures the hub's and the client's tests share (feature `test-support`,
//! turned on by their dev-dependencies only).

use mimi_policy::{Preset, RoomTemplate};
use mimi_proto::Utf8String;
use mimi_proto::components::{CapabilityType, Role};

/// The enforcer role's index in [`private_group_with_enforcer`].
pub const ENFORCER_ROLE: u32 = 4;

/// `private-group` plus an enforcer role for the hub that may kick clients,
/// so the hub's own Remove proposals (lost devices) are authorized.
///
/// # Panics
/// Never: the role name is a valid string.
pub fn private_group_with_enforcer() -> RoomTemplate {
    let mut template = Preset::PrivateGroup.template();
    template.roles.roles.push(Role {
        role_index: ENFORCER_ROLE,
        role_name: Utf8String::new("enforcer").expect("a short ASCII role name is valid"),
        role_capabilities: vec![CapabilityType::CAN_KICK],
        minimum_participants_constraint: 0,
        maximum_participants_constraint: Some(1),
        minimum_active_participants_constraint: 0,
        maximum_active_participants_constraint: Some(0),
        ..Role::default()
    });
    template.enforcer_role = Some(ENFORCER_ROLE);
    template
}
