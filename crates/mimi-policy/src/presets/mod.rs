//! Role presets: ready-made room templates. Four transcribe the draft's
//! appendix examples (room-policy-03 Appendix A; digest A.10), four are
//! mimi's own: `direct-message`, `private-group`, `public-channel` and
//! `multi-org`.
//!
//! The appendix transcriptions keep the draft's choices, including its
//! defects where they matter (the multi-organisation policy enforcer has no
//! row for role 2); capabilities the registry does not define
//! (`canRevokeVoice`, `canGrantVoice`) are left out (decision POL-D6).

mod draft;
mod ours;

use mimi_proto::RoomId;
use mimi_proto::Utf8String;
use mimi_proto::components::{
    BaseRoomPolicy, CapabilityType, OrgScopedRoles, PreAuthData, Role, RoleData, RoomComponents,
    RoomMetaData, SingleSourceRoleChangeTargets, UserRolePair,
};

/// A named template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Preset {
    /// Appendix A "Cooperatively administered room".
    Cooperative,
    /// Appendix A "Strictly administered room".
    StrictlyAdministered,
    /// Appendix A "Moderated room".
    Moderated,
    /// Appendix A "Multi-organization administered room", as written.
    MultiOrgDraft,
    /// Two users, fixed membership.
    DirectMessage,
    /// Admins add and remove; members send.
    PrivateGroup,
    /// Open join; moderators kick and ban; readers may only read.
    PublicChannel,
    /// One admin role scoped to each organisation, plus a global owner.
    MultiOrg,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Self; 8] = [
        Self::Cooperative,
        Self::StrictlyAdministered,
        Self::Moderated,
        Self::MultiOrgDraft,
        Self::DirectMessage,
        Self::PrivateGroup,
        Self::PublicChannel,
        Self::MultiOrg,
    ];

    /// The preset's name, as used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cooperative => "cooperative",
            Self::StrictlyAdministered => "strictly-administered",
            Self::Moderated => "moderated",
            Self::MultiOrgDraft => "multi-org-draft",
            Self::DirectMessage => "direct-message",
            Self::PrivateGroup => "private-group",
            Self::PublicChannel => "public-channel",
            Self::MultiOrg => "multi-org",
        }
    }

    /// The preset with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The template.
    pub fn template(self) -> RoomTemplate {
        match self {
            Self::Cooperative => draft::cooperative(),
            Self::StrictlyAdministered => draft::strictly_administered(),
            Self::Moderated => draft::moderated(),
            Self::MultiOrgDraft => draft::multi_org(),
            Self::DirectMessage => ours::direct_message(),
            Self::PrivateGroup => ours::private_group(),
            Self::PublicChannel => ours::public_channel(),
            Self::MultiOrg => ours::multi_org(),
        }
    }
}

/// The policy components of a new room, and which roles to hand out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomTemplate {
    /// Which preset this is.
    pub preset: Preset,
    /// `roles_list`.
    pub roles: RoleData,
    /// `base_room_policy`.
    pub base_policy: BaseRoomPolicy,
    /// `preauth_list`, if the preset has one.
    pub preauth: Option<PreAuthData>,
    /// mimi's organisation-scoped roles, if any.
    pub org_scoped_roles: Option<OrgScopedRoles>,
    /// The role the room's creator gets.
    pub creator_role: u32,
    /// The role users added later usually get.
    pub member_role: u32,
    /// The role of the hub's policy enforcer, when the preset has one. The draft
    /// gives it a minimum of one participant, so the enforcer's identity must be
    /// listed at creation.
    pub enforcer_role: Option<u32>,
}

impl RoomTemplate {
    /// The index of the role named `name`.
    pub fn role_index(&self, name: &str) -> Option<u32> {
        self.roles
            .roles
            .iter()
            .find(|r| r.role_name.as_str() == name)
            .map(|r| r.role_index)
    }

    /// The components of a new room with these participants.
    pub fn components(&self, room: RoomId, participants: Vec<UserRolePair>) -> RoomComponents {
        RoomComponents {
            participant_list: Some(mimi_proto::components::ParticipantListData { participants }),
            room_metadata: Some(RoomMetaData::new(room)),
            roles: Some(self.roles.clone()),
            preauth: self.preauth.clone(),
            base_policy: Some(self.base_policy.clone()),
            org_scoped_roles: self.org_scoped_roles.clone(),
            ..RoomComponents::default()
        }
    }
}

/// Builds a role. `limits` is `(min, max, min_active, max_active)`.
pub(crate) fn role(
    index: u32,
    name: &str,
    capabilities: &[CapabilityType],
    limits: (u32, Option<u32>, u32, Option<u32>),
    changes: &[(u32, &[u32])],
) -> Role {
    Role {
        role_index: index,
        role_name: text(name),
        role_description: Utf8String::default(),
        role_capabilities: capabilities.to_vec(),
        minimum_participants_constraint: limits.0,
        maximum_participants_constraint: limits.1,
        minimum_active_participants_constraint: limits.2,
        maximum_active_participants_constraint: limits.3,
        authorized_role_changes: changes
            .iter()
            .map(|(from, to)| SingleSourceRoleChangeTargets {
                from_role_index: *from,
                target_role_indexes: to.to_vec(),
            })
            .collect(),
    }
}

/// Every role in `0..=last` except `from`, for "may move anyone anywhere" rows.
pub(crate) fn all_but(from: u32, last: u32) -> Vec<u32> {
    (0..=last).filter(|r| *r != from).collect()
}

/// Builds a role whose matrix rows are computed.
pub(crate) fn role_with_rows(
    index: u32,
    name: &str,
    capabilities: &[CapabilityType],
    limits: (u32, Option<u32>, u32, Option<u32>),
    rows: Vec<(u32, Vec<u32>)>,
) -> Role {
    let mut r = role(index, name, capabilities, limits, &[]);
    r.authorized_role_changes = rows
        .into_iter()
        .map(|(from, to)| SingleSourceRoleChangeTargets {
            from_role_index: from,
            target_role_indexes: to,
        })
        .collect();
    r
}

fn text(s: &str) -> Utf8String {
    // Preset names are literals without NULs.
    Utf8String::new(s).unwrap_or_default()
}

/// `no_role` and `banned` as the draft's examples define them: no
/// capabilities, no clients.
pub(crate) fn no_role_and_banned(
    no_role_caps: &[CapabilityType],
    no_role_changes: &[(u32, &[u32])],
    no_role_max_active: Option<u32>,
) -> [Role; 2] {
    [
        role(
            0,
            "no_role",
            no_role_caps,
            (0, None, 0, no_role_max_active),
            no_role_changes,
        ),
        role(1, "banned", &[], (0, None, 0, Some(0)), &[]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{check_preauth, validate_roles};

    #[test]
    fn every_preset_is_a_valid_role_set() {
        for p in Preset::ALL {
            let t = p.template();
            assert_eq!(t.preset, p);
            assert_eq!(Preset::from_name(p.name()), Some(p));
            validate_roles(&t.roles, &t.base_policy).unwrap_or_else(|e| panic!("{p:?}: {e:?}"));
            if let Some(pre) = &t.preauth {
                check_preauth(pre, &t.roles).unwrap_or_else(|e| panic!("{p:?}: {e:?}"));
            }
            assert!(t.roles.role(t.creator_role).is_some());
            assert!(t.roles.role(t.member_role).is_some());
        }
    }
}
