//! Component values with hand-derived known answers, shared by the
//! known-answer tests (`components_kat.rs`) and the published test vectors
//! (`messages_wire/vectors.rs`), so each value is written once.

use mimi_proto::Utf8String;
use mimi_proto::components::*;

pub fn user(s: &str) -> ParticipantId {
    ParticipantId::parse(s).expect("a valid literal")
}

/// `Role{1,"banned","",[],0,null,0,Some(0),[]}` (A.11).
pub fn banned_role() -> Role {
    Role {
        role_index: 1,
        role_name: Utf8String::new("banned").expect("a valid literal"),
        role_description: Utf8String::default(),
        role_capabilities: vec![],
        minimum_participants_constraint: 0,
        maximum_participants_constraint: None,
        minimum_active_participants_constraint: 0,
        maximum_active_participants_constraint: Some(0),
        authorized_role_changes: vec![],
    }
}

/// `Role{2,"ordinary_user","",[0x0002,0x0100,0x0101],0,null,0,null,[(0,[2]),(2,[0])]}` (A.11).
pub fn ordinary_role() -> Role {
    Role {
        role_index: 2,
        role_name: Utf8String::new("ordinary_user").expect("a valid literal"),
        role_description: Utf8String::default(),
        role_capabilities: vec![
            CapabilityType::CAN_ADD_OWN_CLIENT,
            CapabilityType::CAN_SEND_MESSAGE,
            CapabilityType::CAN_RECEIVE_MESSAGE,
        ],
        minimum_participants_constraint: 0,
        maximum_participants_constraint: None,
        minimum_active_participants_constraint: 0,
        maximum_active_participants_constraint: None,
        authorized_role_changes: vec![
            SingleSourceRoleChangeTargets {
                from_role_index: 0,
                target_role_indexes: vec![2],
            },
            SingleSourceRoleChangeTargets {
                from_role_index: 2,
                target_role_indexes: vec![0],
            },
        ],
    }
}

/// Adds bob-jones with role 2: the participant-list update of A.11.
pub fn update_adding_bob() -> ParticipantListUpdate {
    ParticipantListUpdate {
        changed_role_participants: vec![],
        removed_indices: vec![],
        added_participants: vec![UserRolePair {
            user: user("mimi://example.com/u/bob-jones"),
            role_index: 2,
        }],
    }
}

/// A participant-list update using all three parts.
pub fn update_all_parts() -> ParticipantListUpdate {
    ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: 0,
            role_index: 3,
        }],
        removed_indices: vec![2, 4],
        added_participants: vec![
            UserRolePair {
                user: user("mimi://example.com/u/bob-jones"),
                role_index: 2,
            },
            UserRolePair {
                user: user("mimi://b.example/p/crazykoala75"),
                role_index: 5,
            },
        ],
    }
}

/// A fixed-membership, persistent room of at most four clients.
pub fn base_policy() -> BaseRoomPolicy {
    BaseRoomPolicy {
        fixed_membership: true,
        parent_dependant: false,
        parent_room: Uri::empty(),
        multi_device: false,
        max_clients: Some(4),
        max_users: None,
        pseudonyms_allowed: false,
        persistent_room: true,
        discoverable: false,
        policy_component_ids: vec![ComponentId::ROLES_LIST, ComponentId::MIMI_BAN_LIST],
    }
}

/// One ban of eve, for spam, with an expiry.
pub fn ban_list() -> BanList {
    BanList {
        bans: vec![BanRecord {
            user: user("mimi://a.example/u/eve"),
            reason: Utf8String::new("spam").expect("a valid literal"),
            expires_at: Some(0x0102_0304),
        }],
    }
}
