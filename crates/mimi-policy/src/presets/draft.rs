//! The four role examples of room-policy-03 Appendix A, transcribed from the
//! digest (A.10). Layout per role: capabilities | min / max / min_active /
//! max_active | authorized_role_changes.

use mimi_proto::components::{BaseRoomPolicy, CapabilityType as C, RoleData};

use super::{Preset, RoomTemplate, all_but, no_role_and_banned, role, role_with_rows};

/// Cooperative `ordinary_user`.
const CO_ORDINARY: &[C] = &[
    C::CAN_ADD_PARTICIPANT,
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_REMOVE_SELF,
    C::CAN_SEND_MESSAGE,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REPLY_TO_MESSAGE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
    C::CAN_CHANGE_OWN_NAME,
    C::CAN_CHANGE_OWN_PRESENCE,
    C::CAN_CHANGE_OWN_MOOD,
    C::CAN_CHANGE_OWN_AVATAR,
];

/// The `policy_enforcer` capabilities shared by every example.
const ENFORCER: &[C] = &[
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
    C::CAN_DESTROY_ROOM,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
];

/// The admin matrices of the cooperative and strict examples.
const ADMIN_ROWS: &[(u32, &[u32])] = &[
    (0, &[1, 2, 3]),
    (1, &[0, 2, 3]),
    (2, &[0, 1, 3]),
    (3, &[0, 1, 2]),
];
const SUPER_ROWS: &[(u32, &[u32])] = &[
    (0, &[1, 2, 3, 4]),
    (1, &[0, 2, 3, 4]),
    (2, &[0, 1, 3, 4]),
    (3, &[0, 1, 2, 4]),
    (4, &[0, 1, 2, 3]),
];
const ENFORCER_ROWS_4: &[(u32, &[u32])] = &[
    (0, &[1]),
    (1, &[0]),
    (2, &[0, 1]),
    (3, &[0, 1]),
    (4, &[0, 1]),
];

fn template(
    preset: Preset,
    roles: RoleData,
    creator_role: u32,
    member_role: u32,
    enforcer_role: u32,
) -> RoomTemplate {
    RoomTemplate {
        preset,
        roles,
        base_policy: BaseRoomPolicy::default(),
        preauth: None,
        org_scoped_roles: None,
        creator_role,
        member_role,
        enforcer_role: Some(enforcer_role),
    }
}

/// A.10.1: friends, family and small peer groups.
pub(super) fn cooperative() -> RoomTemplate {
    let admin = [
        CO_ORDINARY,
        &[
            C::CAN_BAN,
            C::CAN_UN_BAN,
            C::CAN_KICK,
            C::CAN_CHANGE_USER_ROLE,
            C::CAN_DELETE_OTHER_MESSAGE,
            C::CAN_EDIT_OTHER_TOPIC,
            C::CAN_CHANGE_ROOM_DESCRIPTION,
        ],
    ]
    .concat();
    let super_admin = [
        admin.as_slice(),
        &[
            C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
            C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
            C::CAN_DESTROY_ROOM,
        ],
    ]
    .concat();
    let [no_role, banned] = no_role_and_banned(&[], &[], Some(0));
    let roles = RoleData {
        roles: vec![
            no_role,
            banned,
            role(
                2,
                "ordinary_user",
                CO_ORDINARY,
                (0, None, 0, None),
                &[(0, &[2]), (2, &[0])],
            ),
            role(3, "group_admin", &admin, (1, None, 0, None), ADMIN_ROWS),
            role(
                4,
                "super_admin",
                &super_admin,
                (0, None, 0, None),
                SUPER_ROWS,
            ),
            role(
                5,
                "policy_enforcer",
                ENFORCER,
                (1, Some(2), 0, Some(0)),
                ENFORCER_ROWS_4,
            ),
        ],
    };
    template(Preset::Cooperative, roles, 4, 2, 5)
}

/// Strict `ordinary_user`.
const STRICT_ORDINARY: &[C] = &[
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_JOIN_IF_PREAUTHORIZED,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_REMOVE_SELF,
    C::CAN_CHANGE_OWN_ROLE,
    C::CAN_SEND_MESSAGE,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_CHANGE_OWN_NAME,
    C::CAN_CHANGE_OWN_PRESENCE,
    C::CAN_CHANGE_OWN_MOOD,
    C::CAN_CHANGE_OWN_AVATAR,
];

/// What the strict and moderated admins add to their base role.
const MODERATION: &[C] = &[
    C::CAN_ADD_PARTICIPANT,
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_KICK,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_CREATE_JOIN_CODE,
    C::CAN_DELETE_JOIN_CODE,
    C::CAN_DELETE_OTHER_REACTION,
    C::CAN_DELETE_OTHER_MESSAGE,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_EDIT_OTHER_TOPIC,
];

const ROOM_FIELDS: &[C] = &[
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
];

const SUPER_EXTRA: &[C] = &[
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_DESTROY_ROOM,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
];

/// A.10.2: join codes and preauthorization for outsiders, admins manage.
pub(super) fn strictly_administered() -> RoomTemplate {
    let admin = [
        STRICT_ORDINARY,
        MODERATION,
        &[C::CAN_CHANGE_ROOM_DESCRIPTION],
        ROOM_FIELDS,
    ]
    .concat();
    let super_admin = [admin.as_slice(), SUPER_EXTRA].concat();
    let [no_role, banned] = no_role_and_banned(&[C::CAN_USE_JOIN_CODE], &[(0, &[2])], Some(0));
    let roles = RoleData {
        roles: vec![
            no_role,
            banned,
            role(
                2,
                "ordinary_user",
                STRICT_ORDINARY,
                (0, None, 0, None),
                &[(0, &[2]), (2, &[0])],
            ),
            role(3, "group_admin", &admin, (1, None, 0, None), ADMIN_ROWS),
            role(
                4,
                "super_admin",
                &super_admin,
                (0, None, 0, None),
                SUPER_ROWS,
            ),
            role(
                5,
                "policy_enforcer",
                ENFORCER,
                (1, Some(2), 0, Some(0)),
                ENFORCER_ROWS_4,
            ),
        ],
    };
    template(Preset::StrictlyAdministered, roles, 4, 2, 5)
}

/// A.10.3: guests, attendees, speakers, moderators. The draft says speaker
/// extends "speaker" and moderator "ordinary_user"; we read speaker extends
/// attendee and moderator extends speaker (decision POL-D6).
pub(super) fn moderated() -> RoomTemplate {
    let guest: &[C] = &[
        C::CAN_REMOVE_SELF,
        C::CAN_RECEIVE_MESSAGE,
        C::CAN_COPY_MESSAGE,
        C::CAN_REACT_TO_MESSAGE,
        C::CAN_DELETE_OWN_REACTION,
        C::CAN_FOLLOW_LINK,
        C::CAN_COPY_LINK,
        C::CAN_DOWNLOAD_IMAGE,
        C::CAN_DOWNLOAD_VIDEO,
        C::CAN_DOWNLOAD_AUDIO,
    ];
    let attendee = [
        guest,
        &[
            C::CAN_ADD_OWN_CLIENT,
            C::CAN_JOIN_IF_PREAUTHORIZED,
            C::CAN_REMOVE_OWN_CLIENT,
            C::CAN_CHANGE_OWN_ROLE,
            C::CAN_REPORT_ABUSE,
            C::CAN_REPLY_IN_TOPIC,
            C::CAN_DOWNLOAD_ATTACHMENT,
            C::CAN_CHANGE_OWN_NAME,
            C::CAN_CHANGE_OWN_PRESENCE,
            C::CAN_CHANGE_OWN_AVATAR,
        ],
    ]
    .concat();
    let speaker = [
        attendee.as_slice(),
        &[
            C::CAN_SEND_MESSAGE,
            C::CAN_EDIT_OWN_MESSAGE,
            C::CAN_DELETE_OWN_MESSAGE,
            C::CAN_START_TOPIC,
            C::CAN_UPLOAD_IMAGE,
            C::CAN_UPLOAD_VIDEO,
            C::CAN_UPLOAD_AUDIO,
            C::CAN_UPLOAD_ATTACHMENT,
            C::CAN_SEND_LINK,
            C::CAN_SEND_LINK_PREVIEW,
        ],
    ]
    .concat();
    let moderator = [speaker.as_slice(), MODERATION, ROOM_FIELDS].concat();
    let super_admin = [
        moderator.as_slice(),
        &[C::CAN_CHANGE_ROOM_DESCRIPTION],
        SUPER_EXTRA,
    ]
    .concat();
    let [no_role, banned] = no_role_and_banned(&[C::CAN_USE_JOIN_CODE], &[(0, &[2, 3])], None);
    let roles = RoleData {
        roles: vec![
            no_role,
            banned,
            role(
                2,
                "guest",
                guest,
                (0, None, 0, None),
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "attendee",
                &attendee,
                (0, None, 0, None),
                &[(0, &[3]), (3, &[0])],
            ),
            role(
                4,
                "speaker",
                &speaker,
                (0, None, 0, None),
                &[(0, &[4]), (4, &[0])],
            ),
            role_with_rows(
                5,
                "moderator",
                &moderator,
                (1, None, 0, None),
                (0..=5).map(|i| (i, all_but(i, 5))).collect(),
            ),
            role_with_rows(
                6,
                "super_admin",
                &super_admin,
                (0, None, 0, None),
                (0..=6).map(|i| (i, all_but(i, 6))).collect(),
            ),
            role(
                7,
                "policy_enforcer",
                ENFORCER,
                (1, Some(2), 0, Some(0)),
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (2, &[0, 1]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                    (5, &[0, 1]),
                    (6, &[0, 1]),
                ],
            ),
        ],
    };
    template(Preset::Moderated, roles, 6, 3, 7)
}

/// A.10.4 as written: a user role and an admin role per organisation A, B, C
/// and a super admin. Nothing ties a role to an organisation here, which is
/// what mimi's `multi-org` preset adds.
pub(super) fn multi_org() -> RoomTemplate {
    let org_b_user: &[C] = &[
        C::CAN_REMOVE_SELF,
        C::CAN_ADD_OWN_CLIENT,
        C::CAN_REMOVE_OWN_CLIENT,
        C::CAN_SEND_MESSAGE,
        C::CAN_RECEIVE_MESSAGE,
        C::CAN_COPY_MESSAGE,
        C::CAN_REPORT_ABUSE,
        C::CAN_REPLY_IN_TOPIC,
        C::CAN_REACT_TO_MESSAGE,
        C::CAN_DELETE_OWN_REACTION,
        C::CAN_EDIT_OWN_MESSAGE,
        C::CAN_SEND_LINK,
        C::CAN_SEND_LINK_PREVIEW,
        C::CAN_FOLLOW_LINK,
        C::CAN_COPY_LINK,
        C::CAN_DOWNLOAD_IMAGE,
        C::CAN_DOWNLOAD_VIDEO,
        C::CAN_DOWNLOAD_AUDIO,
        C::CAN_DOWNLOAD_ATTACHMENT,
        C::CAN_CHANGE_OWN_NAME,
        C::CAN_CHANGE_OWN_PRESENCE,
        C::CAN_CHANGE_OWN_AVATAR,
    ];
    let host_extra: &[C] = &[C::CAN_CHANGE_OWN_ROLE, C::CAN_JOIN_IF_PREAUTHORIZED];
    let org_a_user = [org_b_user, host_extra].concat();
    let org_b_admin = [
        org_b_user,
        &[
            C::CAN_DELETE_OWN_MESSAGE,
            C::CAN_START_TOPIC,
            C::CAN_UPLOAD_IMAGE,
            C::CAN_UPLOAD_VIDEO,
            C::CAN_UPLOAD_AUDIO,
            C::CAN_UPLOAD_ATTACHMENT,
            C::CAN_ADD_PARTICIPANT,
            C::CAN_REMOVE_PARTICIPANT,
            C::CAN_BAN,
            C::CAN_KICK,
            C::CAN_CHANGE_USER_ROLE,
        ],
    ]
    .concat();
    let org_a_admin = [org_b_admin.as_slice(), host_extra].concat();
    let super_admin = [
        org_a_admin.as_slice(),
        &[
            C::CAN_UN_BAN,
            C::CAN_DELETE_OTHER_REACTION,
            C::CAN_DELETE_OTHER_MESSAGE,
            C::CAN_EDIT_OWN_TOPIC,
            C::CAN_EDIT_OTHER_TOPIC,
            C::CAN_CHANGE_ROOM_DESCRIPTION,
        ],
        ROOM_FIELDS,
        SUPER_EXTRA,
    ]
    .concat();
    let [no_role, banned] = no_role_and_banned(&[], &[], Some(0));
    let roles = RoleData {
        roles: vec![
            no_role,
            banned,
            role(
                2,
                "org_a_user",
                &org_a_user,
                (0, None, 0, None),
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "org_b_user",
                org_b_user,
                (0, None, 0, None),
                &[(0, &[3]), (3, &[0])],
            ),
            role(
                4,
                "org_c_user",
                org_b_user,
                (0, None, 0, None),
                &[(0, &[4]), (4, &[0])],
            ),
            role(
                5,
                "org_a_admin",
                &org_a_admin,
                (0, None, 0, None),
                &[(0, &[2, 5]), (2, &[0, 1, 5]), (5, &[0, 1, 2])],
            ),
            role(
                6,
                "org_b_admin",
                &org_b_admin,
                (1, Some(3), 1, None),
                &[(0, &[3, 6]), (3, &[0, 1, 6]), (6, &[0, 1, 3])],
            ),
            role(
                7,
                "org_c_admin",
                &org_b_admin,
                (1, Some(3), 1, None),
                &[(0, &[4, 7]), (4, &[0, 1, 7]), (7, &[0, 1, 4])],
            ),
            role(
                8,
                "super_admin",
                &super_admin,
                (1, None, 1, None),
                &[
                    (0, &[1, 2, 3, 4, 5, 6, 7, 8]),
                    (1, &[0, 2, 3, 4, 5, 6, 7, 8]),
                    (2, &[0, 1, 5, 8]),
                    (3, &[0, 1, 6]),
                    (4, &[0, 1, 7]),
                    (5, &[0, 1, 2, 8]),
                    (6, &[0, 1, 3]),
                    (7, &[0, 1, 4]),
                    (8, &[0, 1, 2, 5]),
                ],
            ),
            role(
                9,
                "policy_enforcer",
                ENFORCER,
                (1, Some(2), 0, Some(0)),
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                    (5, &[0, 1]),
                    (6, &[0, 1]),
                    (7, &[0, 1]),
                    (8, &[0, 1]),
                ],
            ),
        ],
    };
    template(Preset::MultiOrgDraft, roles, 8, 2, 9)
}
