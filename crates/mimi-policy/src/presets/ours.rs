//! mimi's own presets.

use mimi_proto::components::{BaseRoomPolicy, CapabilityType as C, OrgScopedRoles, RoleData};

use super::{Preset, RoomTemplate, all_but, no_role_and_banned, role, role_with_rows};

/// Reading and reacting: what every participant of a messaging room may do.
const READ: &[C] = &[
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_EDIT_REACTION,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_REMOVE_OWN_CLIENT,
];

/// Writing.
const WRITE: &[C] = &[
    C::CAN_SEND_MESSAGE,
    C::CAN_REPLY_TO_MESSAGE,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
];

/// Room metadata.
const ROOM_FIELDS: &[C] = &[
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_DESCRIPTION,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
];

/// Whole-room authority.
const OWNER: &[C] = &[
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
    C::CAN_DESTROY_ROOM,
];

/// `direct-message`: two users, fixed at creation; each may add and remove
/// its own devices. Nobody can add, remove, ban or change roles.
pub(super) fn direct_message() -> RoomTemplate {
    let participant = [READ, WRITE].concat();
    let [no_role, banned] = no_role_and_banned(&[], &[], Some(0));
    RoomTemplate {
        preset: Preset::DirectMessage,
        roles: RoleData {
            roles: vec![
                no_role,
                banned,
                role(2, "participant", &participant, (0, Some(2), 0, None), &[]),
            ],
        },
        base_policy: BaseRoomPolicy {
            fixed_membership: true,
            max_users: Some(2),
            ..BaseRoomPolicy::default()
        },
        preauth: None,
        org_scoped_roles: None,
        creator_role: 2,
        member_role: 2,
        enforcer_role: None,
    }
}

/// `private-group`: admins add, remove, kick, ban and promote; members send
/// and may leave; at least one admin at all times.
pub(super) fn private_group() -> RoomTemplate {
    let member = [READ, WRITE, &[C::CAN_REMOVE_SELF]].concat();
    let admin = [
        member.as_slice(),
        &[
            C::CAN_ADD_PARTICIPANT,
            C::CAN_REMOVE_PARTICIPANT,
            C::CAN_KICK,
            C::CAN_BAN,
            C::CAN_UN_BAN,
            C::CAN_CHANGE_USER_ROLE,
            C::CAN_DELETE_OTHER_MESSAGE,
        ],
        ROOM_FIELDS,
        OWNER,
    ]
    .concat();
    let [no_role, banned] = no_role_and_banned(&[], &[], Some(0));
    RoomTemplate {
        preset: Preset::PrivateGroup,
        roles: RoleData {
            roles: vec![
                no_role,
                banned,
                role(2, "member", &member, (0, None, 0, None), &[(2, &[0])]),
                role(
                    3,
                    "admin",
                    &admin,
                    (1, None, 0, None),
                    &[
                        (0, &[1, 2, 3]),
                        (1, &[0, 2, 3]),
                        (2, &[0, 1, 3]),
                        (3, &[0, 1, 2]),
                    ],
                ),
            ],
        },
        base_policy: BaseRoomPolicy::default(),
        preauth: None,
        org_scoped_roles: None,
        creator_role: 3,
        member_role: 2,
        enforcer_role: None,
    }
}

/// `public-channel`: anyone may join as a member; readers only read;
/// moderators mute (member <-> reader), kick, remove, ban and unban readers
/// and members, cannot ban, demote or promote moderators or the owner (nor
/// promote themselves); the owner does everything. The row `4 -> 0` that lets
/// a moderator leave also lets it remove another moderator: the draft's
/// matrix has one row for both (as in its own admin examples).
pub(super) fn public_channel() -> RoomTemplate {
    let reader = [READ, &[C::CAN_REMOVE_SELF]].concat();
    let member = [reader.as_slice(), WRITE].concat();
    let moderator = [
        member.as_slice(),
        &[
            C::CAN_KICK,
            C::CAN_BAN,
            C::CAN_UN_BAN,
            C::CAN_REMOVE_PARTICIPANT,
            C::CAN_CHANGE_USER_ROLE,
            C::CAN_DELETE_OTHER_MESSAGE,
            C::CAN_DELETE_OTHER_REACTION,
        ],
    ]
    .concat();
    let owner = [
        moderator.as_slice(),
        &[C::CAN_ADD_PARTICIPANT],
        ROOM_FIELDS,
        OWNER,
    ]
    .concat();
    let [no_role, banned] = no_role_and_banned(&[C::CAN_OPEN_JOIN], &[(0, &[3])], None);
    RoomTemplate {
        preset: Preset::PublicChannel,
        roles: RoleData {
            roles: vec![
                no_role,
                banned,
                role(2, "reader", &reader, (0, None, 0, None), &[(2, &[0])]),
                role(3, "member", &member, (0, None, 0, None), &[(3, &[0])]),
                role(
                    4,
                    "moderator",
                    &moderator,
                    (0, None, 0, None),
                    &[
                        (0, &[1]),
                        (1, &[0, 2, 3]),
                        (2, &[0, 1, 3]),
                        (3, &[0, 1, 2]),
                        (4, &[0]),
                    ],
                ),
                role_with_rows(
                    5,
                    "owner",
                    &owner,
                    (1, None, 0, None),
                    (0..=5).map(|i| (i, all_but(i, 5))).collect(),
                ),
            ],
        },
        base_policy: BaseRoomPolicy {
            discoverable: true,
            ..BaseRoomPolicy::default()
        },
        preauth: None,
        org_scoped_roles: None,
        creator_role: 5,
        member_role: 3,
        enforcer_role: None,
    }
}

/// `multi-org`: one `org_admin` role for every organisation, scoped by the
/// identity claim (mimi's org-scoped roles component): an org admin adds,
/// removes, kicks, bans and promotes only users of its own organisation,
/// and cannot unban. The `owner` manages everyone. A linear hierarchy cannot
/// express "admin of B over B's users only"; a scope on the role can, with
/// one role however many organisations join.
pub(super) fn multi_org() -> RoomTemplate {
    let member = [READ, WRITE, &[C::CAN_REMOVE_SELF]].concat();
    let org_admin = [
        member.as_slice(),
        &[
            C::CAN_ADD_PARTICIPANT,
            C::CAN_REMOVE_PARTICIPANT,
            C::CAN_KICK,
            C::CAN_BAN,
            C::CAN_CHANGE_USER_ROLE,
        ],
    ]
    .concat();
    let owner = [
        org_admin.as_slice(),
        &[C::CAN_UN_BAN, C::CAN_DELETE_OTHER_MESSAGE],
        ROOM_FIELDS,
        OWNER,
    ]
    .concat();
    let [no_role, banned] = no_role_and_banned(&[], &[], Some(0));
    RoomTemplate {
        preset: Preset::MultiOrg,
        roles: RoleData {
            roles: vec![
                no_role,
                banned,
                role(2, "member", &member, (0, None, 0, None), &[(2, &[0])]),
                role(
                    3,
                    "org_admin",
                    &org_admin,
                    (0, None, 0, None),
                    &[(0, &[2, 3]), (2, &[0, 1, 3]), (3, &[0, 1, 2])],
                ),
                role_with_rows(
                    4,
                    "owner",
                    &owner,
                    (1, None, 0, None),
                    (0..=4).map(|i| (i, all_but(i, 4))).collect(),
                ),
            ],
        },
        base_policy: BaseRoomPolicy::default(),
        preauth: None,
        org_scoped_roles: Some(OrgScopedRoles {
            role_indexes: vec![3],
        }),
        creator_role: 4,
        member_role: 2,
        enforcer_role: None,
    }
}
