//! The rule table: for every rule of `mimi_policy::RULES`, at least one change
//! it allows and one it denies, and the denial names that rule.

use std::collections::HashSet;

use mimi_policy::{
    Actor, Change, Claims, Context, Denial, EnvelopeBound, Member, PolicyEnvelope, Preset,
    Proposal, RULES, Reason, Rejection, RoomState, RuleId, Staged,
};
use mimi_proto::Utf8String;
use mimi_proto::components::{
    BanList, BanRecord, BaseRoomPolicy, CapabilityType, Claim, ComponentId, CredentialType,
    ExpirationBounds, Gated, JoinLinkPolicy, MessageExpiration, ParticipantId,
    ParticipantListUpdate, PreAuthData, PreAuthRoleEntry, RoomComponents, RoomMetaData, Uri,
    UserRolePair, UserindexRolePair,
};

use crate::support::*;

type Check = Box<dyn Fn() -> Result<(), Denial>>;

struct Case {
    rule: RuleId,
    allowed: bool,
    name: &'static str,
    check: Check,
}

fn allow(
    rule: RuleId,
    name: &'static str,
    check: impl Fn() -> Result<(), Denial> + 'static,
) -> Case {
    Case {
        rule,
        allowed: true,
        name,
        check: Box::new(check),
    }
}

fn deny(
    rule: RuleId,
    name: &'static str,
    check: impl Fn() -> Result<(), Denial> + 'static,
) -> Case {
    Case {
        rule,
        allowed: false,
        name,
        check: Box::new(check),
    }
}

fn done(r: Result<Staged, Rejection>) -> Result<(), Denial> {
    r.map(|_| ()).map_err(|r| r.denial)
}

/// private-group: alice admin (3), bob and carol members (2).
fn pg() -> Room {
    Room::new(
        Preset::PrivateGroup,
        &[("alice", 3), ("bob", 2), ("carol", 2)],
    )
}

/// private-group with a change to the template.
fn pg_with(edit: impl FnOnce(&mut mimi_policy::RoomTemplate)) -> Room {
    let mut t = Preset::PrivateGroup.template();
    edit(&mut t);
    Room::custom(t, &[("alice", 3), ("bob", 2), ("carol", 2)], |_| {})
}

/// private-group with a change to the base policy.
fn pg_base(edit: impl FnOnce(&mut BaseRoomPolicy)) -> Room {
    pg_with(|t| edit(&mut t.base_policy))
}

/// private-group where eve is banned.
fn pg_banned() -> Room {
    Room::new(
        Preset::PrivateGroup,
        &[("alice", 3), ("bob", 2), ("eve", 1)],
    )
}

fn drop_capability(t: &mut mimi_policy::RoomTemplate, role: u32, cap: CapabilityType) {
    for r in &mut t.roles.roles {
        if r.role_index == role {
            r.role_capabilities.retain(|c| *c != cap);
        }
    }
}

fn meta(name: &str) -> Vec<u8> {
    let mut m = RoomMetaData::new(room_id());
    m.room_name = Utf8String::new(name).unwrap();
    m.encode().unwrap()
}

fn roles_bytes(room: &Room, edit: impl FnOnce(&mut mimi_proto::components::RoleData)) -> Vec<u8> {
    let mut roles = room.state.roles().clone();
    edit(&mut roles);
    roles.encode().unwrap()
}

fn preauth_bytes(role: u32, template: &mimi_policy::RoomTemplate) -> Vec<u8> {
    let target_role = template.roles.role(role).cloned().unwrap_or_default();
    let target_role = mimi_proto::components::Role {
        role_index: role,
        ..target_role
    };
    PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![Claim::new(
                CredentialType::BASIC,
                "mimi:domain",
                "a.example",
            )],
            target_role,
        }],
    }
    .encode()
    .unwrap()
}

fn base_bytes(room: &Room, edit: impl FnOnce(&mut BaseRoomPolicy)) -> Vec<u8> {
    let mut b = room.state.base_policy().clone();
    edit(&mut b);
    b.encode().unwrap()
}

fn bans_bytes(records: &[(&str, Option<u64>)]) -> Vec<u8> {
    let mut list = BanList::default();
    for (n, exp) in records {
        list.upsert(BanRecord {
            user: user(n),
            reason: Utf8String::new("spam").unwrap(),
            expires_at: *exp,
        });
    }
    list.encode().unwrap()
}

fn expiration_bytes() -> Vec<u8> {
    MessageExpiration {
        expiring_messages: Gated::Optional(ExpirationBounds {
            min_expiration_duration: 60,
            max_expiration_duration: 86400,
            default_expiration_duration: None,
        }),
    }
    .encode()
    .unwrap()
}

fn pseudonym() -> ParticipantId {
    ParticipantId::parse("mimi://b.example/p/koala").unwrap()
}

fn add_pseudonym(sender: Actor) -> Vec<Proposal> {
    let p = pseudonym();
    vec![
        list(
            sender.clone(),
            ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: p.clone(),
                    role_index: 2,
                }],
                ..ParticipantListUpdate::default()
            },
        ),
        Proposal::new(
            sender,
            Change::add(
                mimi_proto::ClientId::parse("mimi://b.example/d/koala-1").unwrap(),
                Claims::basic(p),
            ),
        ),
    ]
}

/// A parent-dependent private group created with the parent's participants.
fn parent_room(parent: &HashSet<ParticipantId>) -> Result<(RoomState, PolicyEnvelope), Denial> {
    let mut t = Preset::PrivateGroup.template();
    t.base_policy.parent_dependant = true;
    t.base_policy.parent_room = Uri::new("mimi://hub.example/r/parent").unwrap();
    let comps = t.components(
        room_id(),
        vec![UserRolePair {
            user: user("alice"),
            role_index: 3,
        }],
    );
    let env = PolicyEnvelope::permissive();
    let ctx = Context {
        parent_participants: Some(parent),
        ..Context::new(NOW, &env)
    };
    let members = vec![Member::basic(client("alice", "1"), user("alice"))];
    let state = RoomState::create(&ctx, Some(Preset::PrivateGroup), comps, members)?;
    Ok((state, env))
}

fn add_in_parent_room(name: &str) -> Result<(), Denial> {
    let parent: HashSet<_> = [user("alice"), user("dave")].into_iter().collect();
    let (state, env) = parent_room(&parent)?;
    let ctx = Context {
        parent_participants: Some(&parent),
        ..Context::new(NOW, &env)
    };
    let commit = mimi_policy::Commit {
        committer: c("alice"),
        proposals: vec![
            add_users(c("alice"), &[(name, 2)]),
            add_client(c("alice"), name, "1"),
        ],
    };
    done(state.evaluate_commit(&ctx, &commit))
}

/// public-channel: alice owner (5), bob moderator (4), carol member (3), rita reader (2).
fn pc() -> Room {
    Room::new(
        Preset::PublicChannel,
        &[("alice", 5), ("bob", 4), ("carol", 3), ("rita", 2)],
    )
}

/// cooperative: alice super_admin, bob the only group_admin, the hub's enforcer.
fn coop() -> Room {
    Room::new(
        Preset::Cooperative,
        &[
            ("alice", 4),
            ("bob", 3),
            ("carol", 2),
            ("enforcer@hub.example", 5),
        ],
    )
}

/// strictly administered, with preauthorization of a.example into group_admin.
fn strict_preauth() -> Room {
    let t = Preset::StrictlyAdministered.template();
    let preauth = PreAuthData::decode(&preauth_bytes(3, &t)).unwrap();
    Room::custom(
        t,
        &[
            ("alice", 4),
            ("bob", 3),
            ("carol", 2),
            ("enforcer@hub.example", 5),
        ],
        |c| c.preauth = Some(preauth),
    )
}

/// The draft's multi-organisation example.
fn draft_multi_org() -> Room {
    Room::new(
        Preset::MultiOrgDraft,
        &[
            ("alice", 8),
            ("bob@b.example", 6),
            ("carol@c.example", 7),
            ("enforcer@hub.example", 9),
        ],
    )
}

/// mimi's multi-org: alice owner, adam org admin of a.example, anna and bea members.
fn multi_org() -> Room {
    Room::new(
        Preset::MultiOrg,
        &[("alice", 4), ("adam", 3), ("anna", 2), ("bea@b.example", 2)],
    )
}

fn cases() -> Vec<Case> {
    vec![
        // POL-00
        allow(RuleId::INCONSISTENT_STATE, "distinct clients index", || {
            RoomState::from_committed(
                RoomComponents::default(),
                vec![Member::basic(client("a", "1"), user("a"))],
            )
            .map(|_| ())
        }),
        deny(RuleId::INCONSISTENT_STATE, "a client given twice", || {
            let m = Member::basic(client("a", "1"), user("a"));
            RoomState::from_committed(RoomComponents::default(), vec![m.clone(), m]).map(|_| ())
        }),
        // POL-01
        allow(
            RuleId::UNKNOWN_COMPONENT,
            "room_metadata is interpreted",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId::ROOM_METADATA, meta("x"))],
                ))
            },
        ),
        deny(
            RuleId::UNKNOWN_COMPONENT,
            "a private id nobody interprets",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId(0x9000), vec![])],
                ))
            },
        ),
        // POL-02
        allow(
            RuleId::COMPONENT_OPERATION,
            "remove a present policy component",
            || {
                let room = Room::custom(Preset::PrivateGroup.template(), &[("alice", 3)], |c| {
                    c.join_link_policy = Some(JoinLinkPolicy {
                        on_request: false,
                        join_link: Uri::empty(),
                        multiuser: true,
                        expiration: 60,
                    })
                });
                done(room.commit(
                    c("alice"),
                    vec![app_remove(c("alice"), ComponentId::JOIN_LINK_POLICY)],
                ))
            },
        ),
        deny(
            RuleId::COMPONENT_OPERATION,
            "update and remove one component",
            || {
                let room = pg();
                done(room.commit(
                    c("alice"),
                    vec![
                        app(
                            c("alice"),
                            ComponentId::MESSAGE_EXPIRATION_POLICY,
                            expiration_bytes(),
                        ),
                        app_remove(c("alice"), ComponentId::MESSAGE_EXPIRATION_POLICY),
                    ],
                ))
            },
        ),
        deny(
            RuleId::COMPONENT_OPERATION,
            "remove an absent component",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app_remove(
                        c("alice"),
                        ComponentId::STATUS_NOTIFICATION_POLICY,
                    )],
                ))
            },
        ),
        deny(
            RuleId::COMPONENT_OPERATION,
            "remove the participant list",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app_remove(c("alice"), ComponentId::PARTICIPANT_LIST)],
                ))
            },
        ),
        // POL-03
        allow(
            RuleId::MALFORMED_COMPONENT,
            "well-formed list update",
            || done(pg().commit(c("alice"), vec![add_users(c("alice"), &[("dave", 2)])])),
        ),
        deny(RuleId::MALFORMED_COMPONENT, "garbage update bytes", || {
            done(pg().commit(
                c("alice"),
                vec![app(c("alice"), ComponentId::PARTICIPANT_LIST, vec![0xff])],
            ))
        }),
        // POL-04
        allow(
            RuleId::ROLES_WITH_PARTICIPANT_CHANGE,
            "roles update alone",
            || {
                let room = pg();
                let bytes = roles_bytes(&room, |r| {
                    r.roles[2].role_description = Utf8String::new("members").unwrap()
                });
                done(room.commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId::ROLES_LIST, bytes)],
                ))
            },
        ),
        deny(
            RuleId::ROLES_WITH_PARTICIPANT_CHANGE,
            "roles update with an add",
            || {
                let room = pg();
                let bytes = roles_bytes(&room, |r| {
                    r.roles[2].role_description = Utf8String::new("members").unwrap()
                });
                done(room.commit(
                    c("alice"),
                    vec![
                        app(c("alice"), ComponentId::ROLES_LIST, bytes),
                        add_users(c("alice"), &[("dave", 2)]),
                    ],
                ))
            },
        ),
        // POL-05
        allow(
            RuleId::PREAUTH_WITH_PARTICIPANT_CHANGE,
            "preauth update with a removal",
            || {
                let room = pg();
                done(room.commit(
                    c("alice"),
                    vec![
                        app(
                            c("alice"),
                            ComponentId::PREAUTH_LIST,
                            preauth_bytes(2, &room.template),
                        ),
                        remove_users(&room, c("alice"), &["bob"]),
                        remove_client(c("alice"), "bob", "1"),
                    ],
                ))
            },
        ),
        deny(
            RuleId::PREAUTH_WITH_PARTICIPANT_CHANGE,
            "preauth update with an add",
            || {
                let room = pg();
                done(room.commit(
                    c("alice"),
                    vec![
                        app(
                            c("alice"),
                            ComponentId::PREAUTH_LIST,
                            preauth_bytes(2, &room.template),
                        ),
                        add_users(c("alice"), &[("dave", 2)]),
                    ],
                ))
            },
        ),
        // POL-06
        allow(
            RuleId::SECOND_METADATA_UPDATE,
            "one metadata update",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId::ROOM_METADATA, meta("x"))],
                ))
            },
        ),
        deny(
            RuleId::SECOND_METADATA_UPDATE,
            "two metadata updates",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![
                        app(c("alice"), ComponentId::ROOM_METADATA, meta("x")),
                        app(c("alice"), ComponentId::ROOM_METADATA, meta("y")),
                    ],
                ))
            },
        ),
        // POL-07
        allow(
            RuleId::USER_TOUCHED_TWICE,
            "different users in two updates",
            || {
                let room = pg();
                done(room.commit(
                    c("alice"),
                    vec![
                        add_users(c("alice"), &[("dave", 2)]),
                        set_roles(&room, c("alice"), &[("bob", 3)]),
                    ],
                ))
            },
        ),
        deny(
            RuleId::USER_TOUCHED_TWICE,
            "added, then its role changed",
            || {
                let room = pg();
                let promote_dave = list(
                    c("alice"),
                    ParticipantListUpdate {
                        changed_role_participants: vec![UserindexRolePair {
                            user_index: 3,
                            role_index: 3,
                        }],
                        ..ParticipantListUpdate::default()
                    },
                );
                done(room.commit(
                    c("alice"),
                    vec![add_users(c("alice"), &[("dave", 2)]), promote_dave],
                ))
            },
        ),
        // POL-08
        allow(RuleId::MALFORMED_DELTA, "index in range", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![set_roles(&room, c("alice"), &[("bob", 3)])],
            ))
        }),
        deny(RuleId::MALFORMED_DELTA, "index out of range", || {
            let update = ParticipantListUpdate {
                removed_indices: vec![99],
                ..ParticipantListUpdate::default()
            };
            done(pg().commit(c("alice"), vec![list(c("alice"), update)]))
        }),
        deny(RuleId::MALFORMED_DELTA, "entry with role 0", || {
            done(pg().commit(c("alice"), vec![add_users(c("alice"), &[("dave", 0)])]))
        }),
        deny(RuleId::MALFORMED_DELTA, "undefined role", || {
            done(pg().commit(c("alice"), vec![add_users(c("alice"), &[("dave", 9)])]))
        }),
        deny(RuleId::MALFORMED_DELTA, "adding a listed user", || {
            done(pg().commit(c("alice"), vec![add_users(c("alice"), &[("bob", 2)])]))
        }),
        // POL-09
        allow(
            RuleId::EXITING_ACTOR,
            "a leaving user removes its last client",
            || {
                let mut room = pg();
                room.commit_ok(c("bob"), vec![add_client(c("bob"), "bob", "2")]);
                let leave = vec![
                    remove_users(&room, c("bob"), &["bob"]),
                    remove_client(c("bob"), "bob", "1"),
                ];
                room.propose_ok(leave);
                done(room.propose(vec![remove_client(cd("bob", "2"), "bob", "2")]))
            },
        ),
        deny(
            RuleId::EXITING_ACTOR,
            "a leaving user renames the room",
            || {
                let mut room = pg();
                room.commit_ok(c("bob"), vec![add_client(c("bob"), "bob", "2")]);
                let leave = vec![
                    remove_users(&room, c("bob"), &["bob"]),
                    remove_client(c("bob"), "bob", "1"),
                ];
                room.propose_ok(leave);
                done(room.propose(vec![app(
                    cd("bob", "2"),
                    ComponentId::ROOM_METADATA,
                    meta("mine"),
                )]))
            },
        ),
        // POL-10
        allow(
            RuleId::ADD_PARTICIPANT,
            "admin adds dave with a client",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![
                        add_users(c("alice"), &[("dave", 2)]),
                        add_client(c("alice"), "dave", "1"),
                    ],
                ))
            },
        ),
        deny(
            RuleId::ADD_PARTICIPANT,
            "member lacks canAddParticipant",
            || done(pg().commit(c("bob"), vec![add_users(c("bob"), &[("dave", 2)])])),
        ),
        deny(
            RuleId::ADD_PARTICIPANT,
            "group_admin adds straight into super_admin",
            || done(coop().commit(c("bob"), vec![add_users(c("bob"), &[("dave", 4)])])),
        ),
        // POL-11
        allow(
            RuleId::ADD_OWN_CLIENT,
            "member adds its second client",
            || done(pg().commit(c("bob"), vec![add_client(c("bob"), "bob", "2")])),
        ),
        deny(
            RuleId::ADD_OWN_CLIENT,
            "moderated guest lacks canAddOwnClient",
            || {
                let room = Room::new(
                    Preset::Moderated,
                    &[
                        ("alice", 6),
                        ("mo", 5),
                        ("gus", 2),
                        ("enforcer@hub.example", 7),
                    ],
                );
                done(room.commit(c("gus"), vec![add_client(c("gus"), "gus", "2")]))
            },
        ),
        // POL-12
        allow(RuleId::SELF_JOIN, "open join into a public channel", || {
            done(pc().commit(joiner("eve"), vec![add_users(joiner("eve"), &[("eve", 3)])]))
        }),
        deny(RuleId::SELF_JOIN, "no path into a private group", || {
            done(pg().commit(joiner("eve"), vec![add_users(joiner("eve"), &[("eve", 2)])]))
        }),
        // POL-13
        allow(RuleId::BANNED_USER, "an unbanned outsider joins", || {
            done(pc().commit(joiner("zoe"), vec![add_users(joiner("zoe"), &[("zoe", 3)])]))
        }),
        deny(
            RuleId::BANNED_USER,
            "a banned user's external commit",
            || {
                let room = Room::new(Preset::PublicChannel, &[("alice", 5), ("eve", 1)]);
                done(room.commit(joiner("eve"), vec![]))
            },
        ),
        // POL-14
        allow(RuleId::CHANGE_USER_ROLE, "admin promotes bob", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![set_roles(&room, c("alice"), &[("bob", 3)])],
            ))
        }),
        deny(RuleId::CHANGE_USER_ROLE, "member promotes carol", || {
            let room = pg();
            done(room.commit(c("bob"), vec![set_roles(&room, c("bob"), &[("carol", 3)])]))
        }),
        // POL-15
        allow(
            RuleId::CHANGE_OWN_ROLE,
            "own role to the first preauth match",
            || {
                let room = strict_preauth();
                done(room.commit(
                    c("carol"),
                    vec![set_roles(&room, c("carol"), &[("carol", 3)])],
                ))
            },
        ),
        deny(RuleId::CHANGE_OWN_ROLE, "moderator promotes itself", || {
            let room = pc();
            done(room.commit(c("bob"), vec![set_roles(&room, c("bob"), &[("bob", 5)])]))
        }),
        // POL-16
        allow(
            RuleId::REMOVE_PARTICIPANT,
            "admin removes bob and his client",
            || {
                let room = pg();
                done(room.commit(
                    c("alice"),
                    vec![
                        remove_users(&room, c("alice"), &["bob"]),
                        remove_client(c("alice"), "bob", "1"),
                    ],
                ))
            },
        ),
        deny(RuleId::REMOVE_PARTICIPANT, "member removes carol", || {
            let room = pg();
            done(room.commit(
                c("bob"),
                vec![
                    remove_users(&room, c("bob"), &["carol"]),
                    remove_client(c("bob"), "carol", "1"),
                ],
            ))
        }),
        // POL-17
        allow(RuleId::LEAVE, "bob leaves, alice commits", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![
                    remove_users(&room, c("bob"), &["bob"]),
                    remove_client(c("bob"), "bob", "1"),
                ],
            ))
        }),
        deny(RuleId::LEAVE, "members without canRemoveSelf", || {
            let room = pg_with(|t| drop_capability(t, 2, CapabilityType::CAN_REMOVE_SELF));
            done(room.commit(
                c("alice"),
                vec![
                    remove_users(&room, c("bob"), &["bob"]),
                    remove_client(c("bob"), "bob", "1"),
                ],
            ))
        }),
        // POL-18
        allow(
            RuleId::REMOVE_OWN_CLIENT,
            "bob removes his second client",
            || {
                let mut room = pg();
                room.commit_ok(c("bob"), vec![add_client(c("bob"), "bob", "2")]);
                done(room.commit(c("bob"), vec![remove_client(c("bob"), "bob", "2")]))
            },
        ),
        deny(
            RuleId::REMOVE_OWN_CLIENT,
            "members without canRemoveOwnClient",
            || {
                let mut room =
                    pg_with(|t| drop_capability(t, 2, CapabilityType::CAN_REMOVE_OWN_CLIENT));
                room.commit_ok(c("bob"), vec![add_client(c("bob"), "bob", "2")]);
                done(room.commit(c("bob"), vec![remove_client(c("bob"), "bob", "2")]))
            },
        ),
        // POL-19
        allow(RuleId::KICK, "admin kicks bob's client", || {
            done(pg().commit(c("alice"), vec![remove_client(c("alice"), "bob", "1")]))
        }),
        deny(RuleId::KICK, "member kicks carol's client", || {
            done(pg().commit(c("bob"), vec![remove_client(c("bob"), "carol", "1")]))
        }),
        // POL-20
        allow(RuleId::BAN, "admin bans bob and removes his client", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![
                    set_roles(&room, c("alice"), &[("bob", 1)]),
                    remove_client(c("alice"), "bob", "1"),
                ],
            ))
        }),
        deny(RuleId::BAN, "member bans carol", || {
            let room = pg();
            done(room.commit(
                c("bob"),
                vec![
                    set_roles(&room, c("bob"), &[("carol", 1)]),
                    remove_client(c("bob"), "carol", "1"),
                ],
            ))
        }),
        // POL-21
        allow(RuleId::UNBAN, "admin unbans eve", || {
            let room = pg_banned();
            done(room.commit(
                c("alice"),
                vec![set_roles(&room, c("alice"), &[("eve", 2)])],
            ))
        }),
        deny(RuleId::UNBAN, "member unbans eve", || {
            let room = pg_banned();
            done(room.commit(c("bob"), vec![set_roles(&room, c("bob"), &[("eve", 2)])]))
        }),
        // POL-22
        allow(RuleId::ROOM_METADATA, "admin renames", || {
            done(pg().commit(
                c("alice"),
                vec![app(c("alice"), ComponentId::ROOM_METADATA, meta("x"))],
            ))
        }),
        deny(RuleId::ROOM_METADATA, "member renames", || {
            done(pg().commit(
                c("bob"),
                vec![app(c("bob"), ComponentId::ROOM_METADATA, meta("x"))],
            ))
        }),
        deny(RuleId::ROOM_METADATA, "room_uri changes", || {
            let m =
                RoomMetaData::new(mimi_proto::RoomId::parse("mimi://hub.example/r/other").unwrap());
            done(pg().commit(
                c("alice"),
                vec![app(
                    c("alice"),
                    ComponentId::ROOM_METADATA,
                    m.encode().unwrap(),
                )],
            ))
        }),
        // POL-23
        allow(
            RuleId::ROLE_DEFINITIONS,
            "admin edits a description",
            || {
                let room = pg();
                let bytes = roles_bytes(&room, |r| {
                    r.roles[3].role_description = Utf8String::new("admins").unwrap()
                });
                done(room.commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId::ROLES_LIST, bytes)],
                ))
            },
        ),
        deny(RuleId::ROLE_DEFINITIONS, "member edits roles", || {
            let room = pg();
            let bytes = roles_bytes(&room, |r| {
                r.roles[3].role_description = Utf8String::new("admins").unwrap()
            });
            done(room.commit(
                c("bob"),
                vec![app(c("bob"), ComponentId::ROLES_LIST, bytes)],
            ))
        }),
        deny(RuleId::ROLE_DEFINITIONS, "role 1 renamed", || {
            let room = pg();
            let bytes = roles_bytes(&room, |r| {
                r.roles[1].role_name = Utf8String::new("blocked").unwrap()
            });
            done(room.commit(
                c("alice"),
                vec![app(c("alice"), ComponentId::ROLES_LIST, bytes)],
            ))
        }),
        // POL-24
        allow(
            RuleId::PREAUTH_LIST,
            "admin preauthorizes a.example as members",
            || {
                let room = pg();
                done(room.commit(
                    c("alice"),
                    vec![app(
                        c("alice"),
                        ComponentId::PREAUTH_LIST,
                        preauth_bytes(2, &room.template),
                    )],
                ))
            },
        ),
        deny(RuleId::PREAUTH_LIST, "preauthorization into role 0", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![app(
                    c("alice"),
                    ComponentId::PREAUTH_LIST,
                    preauth_bytes(0, &room.template),
                )],
            ))
        }),
        // POL-25
        allow(
            RuleId::BASE_POLICY,
            "admin caps the room at 10 users",
            || {
                let room = pg();
                let bytes = base_bytes(&room, |b| b.max_users = Some(10));
                done(room.commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId::BASE_ROOM_POLICY, bytes)],
                ))
            },
        ),
        deny(
            RuleId::BASE_POLICY,
            "member changes the base policy",
            || {
                let room = pg();
                let bytes = base_bytes(&room, |b| b.max_users = Some(10));
                done(room.commit(
                    c("bob"),
                    vec![app(c("bob"), ComponentId::BASE_ROOM_POLICY, bytes)],
                ))
            },
        ),
        deny(
            RuleId::BASE_POLICY,
            "fixed membership while admins may add",
            || {
                let room = pg();
                let bytes = base_bytes(&room, |b| b.fixed_membership = true);
                done(room.commit(
                    c("alice"),
                    vec![app(c("alice"), ComponentId::BASE_ROOM_POLICY, bytes)],
                ))
            },
        ),
        // POL-26
        allow(
            RuleId::POLICY_COMPONENT,
            "admin sets message expiration",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app(
                        c("alice"),
                        ComponentId::MESSAGE_EXPIRATION_POLICY,
                        expiration_bytes(),
                    )],
                ))
            },
        ),
        deny(
            RuleId::POLICY_COMPONENT,
            "member sets message expiration",
            || {
                done(pg().commit(
                    c("bob"),
                    vec![app(
                        c("bob"),
                        ComponentId::MESSAGE_EXPIRATION_POLICY,
                        expiration_bytes(),
                    )],
                ))
            },
        ),
        // POL-27
        allow(RuleId::BAN_RECORDS, "ban with a logged reason", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![
                    set_roles(&room, c("alice"), &[("bob", 1)]),
                    remove_client(c("alice"), "bob", "1"),
                    app(
                        c("alice"),
                        ComponentId::MIMI_BAN_LIST,
                        bans_bytes(&[("bob", Some(NOW + 3600))]),
                    ),
                ],
            ))
        }),
        deny(
            RuleId::BAN_RECORDS,
            "a record for a user who is not banned",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![app(
                        c("alice"),
                        ComponentId::MIMI_BAN_LIST,
                        bans_bytes(&[("carol", None)]),
                    )],
                ))
            },
        ),
        // POL-28
        allow(RuleId::REINIT, "admin proposes ReInit", || {
            done(pg().commit(c("alice"), vec![Proposal::new(c("alice"), Change::ReInit)]))
        }),
        deny(RuleId::REINIT, "member proposes ReInit", || {
            done(pg().commit(c("bob"), vec![Proposal::new(c("bob"), Change::ReInit)]))
        }),
        // POL-29
        allow(RuleId::COMMITTER, "a member commits", || {
            done(pg().commit(c("bob"), vec![]))
        }),
        deny(RuleId::COMMITTER, "an external sender commits", || {
            done(pg().commit(hub(), vec![]))
        }),
        deny(
            RuleId::COMMITTER,
            "the commit removes its committer",
            || {
                let mut room = pg();
                room.commit_ok(c("alice"), vec![add_client(c("alice"), "alice", "2")]);
                done(room.commit(c("alice"), vec![remove_client(c("alice"), "alice", "1")]))
            },
        ),
        // POL-30
        allow(
            RuleId::CLIENT_WITHOUT_PARTICIPANT,
            "user listed in the same commit",
            || {
                done(pg().commit(
                    c("alice"),
                    vec![
                        add_client(c("alice"), "dave", "1"),
                        add_users(c("alice"), &[("dave", 2)]),
                    ],
                ))
            },
        ),
        deny(
            RuleId::CLIENT_WITHOUT_PARTICIPANT,
            "client of an unlisted user",
            || done(pg().commit(c("alice"), vec![add_client(c("alice"), "dave", "1")])),
        ),
        // POL-31
        allow(
            RuleId::ROLE_PARTICIPANTS,
            "demote one of two admins",
            || {
                let room = Room::new(
                    Preset::PrivateGroup,
                    &[("alice", 3), ("dave", 3), ("bob", 2)],
                );
                done(room.commit(
                    c("alice"),
                    vec![set_roles(&room, c("alice"), &[("dave", 2)])],
                ))
            },
        ),
        deny(
            RuleId::ROLE_PARTICIPANTS,
            "demote the only group_admin",
            || {
                let room = coop();
                done(room.commit(
                    c("alice"),
                    vec![set_roles(&room, c("alice"), &[("bob", 2)])],
                ))
            },
        ),
        // POL-32
        allow(
            RuleId::ROLE_ACTIVE_PARTICIPANTS,
            "org_b_admin adds a client",
            || {
                done(draft_multi_org().commit(
                    c("bob@b.example"),
                    vec![add_client(c("bob@b.example"), "bob@b.example", "2")],
                ))
            },
        ),
        deny(
            RuleId::ROLE_ACTIVE_PARTICIPANTS,
            "kick the only active org_b_admin",
            || {
                done(draft_multi_org().commit(
                    c("alice"),
                    vec![remove_client(c("alice"), "bob@b.example", "1")],
                ))
            },
        ),
        // POL-33
        allow(
            RuleId::FIXED_MEMBERSHIP,
            "DM participant adds a device",
            || {
                let room = Room::new(Preset::DirectMessage, &[("alice", 2), ("bob", 2)]);
                done(room.commit(c("alice"), vec![add_client(c("alice"), "alice", "2")]))
            },
        ),
        deny(RuleId::FIXED_MEMBERSHIP, "a third user in a DM", || {
            let room = Room::new(Preset::DirectMessage, &[("alice", 2), ("bob", 2)]);
            done(room.commit(c("alice"), vec![add_users(c("alice"), &[("dave", 2)])]))
        }),
        // POL-34
        allow(RuleId::MULTI_DEVICE, "one client per user", || {
            let room = pg_base(|b| b.multi_device = false);
            done(room.commit(
                c("alice"),
                vec![
                    add_users(c("alice"), &[("dave", 2)]),
                    add_client(c("alice"), "dave", "1"),
                ],
            ))
        }),
        deny(RuleId::MULTI_DEVICE, "a second client", || {
            let room = pg_base(|b| b.multi_device = false);
            done(room.commit(c("bob"), vec![add_client(c("bob"), "bob", "2")]))
        }),
        // POL-35
        allow(RuleId::MAX_CLIENTS, "up to max_clients", || {
            done(
                pg_base(|b| b.max_clients = Some(4))
                    .commit(c("bob"), vec![add_client(c("bob"), "bob", "2")]),
            )
        }),
        deny(RuleId::MAX_CLIENTS, "past max_clients", || {
            done(
                pg_base(|b| b.max_clients = Some(3))
                    .commit(c("bob"), vec![add_client(c("bob"), "bob", "2")]),
            )
        }),
        // POL-36
        allow(RuleId::MAX_USERS, "up to max_users", || {
            done(
                pg_base(|b| b.max_users = Some(4))
                    .commit(c("alice"), vec![add_users(c("alice"), &[("dave", 2)])]),
            )
        }),
        deny(RuleId::MAX_USERS, "past max_users", || {
            done(
                pg_base(|b| b.max_users = Some(3))
                    .commit(c("alice"), vec![add_users(c("alice"), &[("dave", 2)])]),
            )
        }),
        // POL-37
        allow(RuleId::CLIENTS_LEFT, "removal with the Removes", || {
            let room = pg();
            done(room.commit(
                c("alice"),
                vec![
                    remove_users(&room, c("alice"), &["bob"]),
                    remove_client(c("alice"), "bob", "1"),
                ],
            ))
        }),
        deny(RuleId::CLIENTS_LEFT, "removal without the Removes", || {
            let room = pg();
            done(room.commit(c("alice"), vec![remove_users(&room, c("alice"), &["bob"])]))
        }),
        // POL-38
        allow(
            RuleId::OUTSIDE_ORGANISATION,
            "org admin kicks its own org's member",
            || done(multi_org().commit(c("adam"), vec![remove_client(c("adam"), "anna", "1")])),
        ),
        deny(
            RuleId::OUTSIDE_ORGANISATION,
            "org admin kicks another org's member",
            || {
                done(multi_org().commit(
                    c("adam"),
                    vec![remove_client(c("adam"), "bea@b.example", "1")],
                ))
            },
        ),
        // POL-39
        allow(RuleId::OUTSIDE_ENVELOPE, "an allowed preset", || {
            let env = PolicyEnvelope {
                allowed_presets: Some(vec![Preset::PrivateGroup]),
                ..PolicyEnvelope::permissive()
            };
            create_pg(&env)
        }),
        deny(
            RuleId::OUTSIDE_ENVELOPE,
            "a preset the operator does not allow",
            || {
                let env = PolicyEnvelope {
                    allowed_presets: Some(vec![Preset::DirectMessage]),
                    ..PolicyEnvelope::permissive()
                };
                create_pg(&env)
            },
        ),
        deny(
            RuleId::OUTSIDE_ENVELOPE,
            "raising max_users past the bound",
            || {
                let room = pg_base(|b| b.max_users = Some(10));
                let env = PolicyEnvelope {
                    max_users: Some(50),
                    ..PolicyEnvelope::permissive()
                };
                let bytes = base_bytes(&room, |b| b.max_users = Some(500));
                let commit = mimi_policy::Commit {
                    committer: c("alice"),
                    proposals: vec![app(c("alice"), ComponentId::BASE_ROOM_POLICY, bytes)],
                };
                done(
                    room.state
                        .evaluate_commit(&Context::new(NOW, &env), &commit),
                )
            },
        ),
        // POL-40
        allow(RuleId::PSEUDONYMS, "pseudonym where allowed", || {
            done(
                pg_base(|b| b.pseudonyms_allowed = true)
                    .commit(c("alice"), add_pseudonym(c("alice"))),
            )
        }),
        deny(RuleId::PSEUDONYMS, "pseudonym where not allowed", || {
            done(pg().commit(c("alice"), add_pseudonym(c("alice"))))
        }),
        // POL-41
        allow(
            RuleId::PARENT_DEPENDANT,
            "a participant of the parent",
            || add_in_parent_room("dave"),
        ),
        deny(RuleId::PARENT_DEPENDANT, "not in the parent", || {
            add_in_parent_room("zed")
        }),
        // POL-42
        allow(RuleId::UNKNOWN_ACTOR, "a member sender", || {
            done(pg().propose(vec![remove_client(c("bob"), "bob", "1")]))
        }),
        deny(
            RuleId::UNKNOWN_ACTOR,
            "a sender that is not a member",
            || done(pg().propose(vec![app(c("zed"), ComponentId::ROOM_METADATA, meta("x"))])),
        ),
        // POL-43
        allow(RuleId::MEMBERSHIP_MISMATCH, "Add of a new client", || {
            done(pg().commit(c("bob"), vec![add_client(c("bob"), "bob", "2")]))
        }),
        deny(
            RuleId::MEMBERSHIP_MISMATCH,
            "Remove of a non-member",
            || done(pg().commit(c("alice"), vec![remove_client(c("alice"), "zed", "1")])),
        ),
        deny(RuleId::MEMBERSHIP_MISMATCH, "Add of a member", || {
            done(pg().commit(c("bob"), vec![add_client(c("bob"), "bob", "1")]))
        }),
        // POL-44
        allow(RuleId::SEND_MESSAGE, "member sends", || {
            pc().state.check_sender(&user("carol"))
        }),
        deny(RuleId::SEND_MESSAGE, "reader sends", || {
            pc().state.check_sender(&user("rita"))
        }),
        deny(RuleId::SEND_MESSAGE, "banned user sends", || {
            pg_banned().state.check_sender(&user("eve"))
        }),
        // POL-45
        allow(RuleId::RECEIVE_MESSAGE, "reader receives", || {
            pc().state.check_receiver(&user("rita"))
        }),
        deny(RuleId::RECEIVE_MESSAGE, "banned user receives", || {
            pg_banned().state.check_receiver(&user("eve"))
        }),
    ]
}

fn create_pg(env: &PolicyEnvelope) -> Result<(), Denial> {
    let t = Preset::PrivateGroup.template();
    let comps = t.components(
        room_id(),
        vec![UserRolePair {
            user: user("alice"),
            role_index: 3,
        }],
    );
    let members = vec![Member::basic(client("alice", "1"), user("alice"))];
    RoomState::create(
        &Context::new(NOW, env),
        Some(Preset::PrivateGroup),
        comps,
        members,
    )
    .map(|_| ())
}

#[test]
fn every_rule_allows_and_denies_as_specified() {
    let mut failures = Vec::new();
    for case in cases() {
        let result = (case.check)();
        match (case.allowed, result) {
            (true, Ok(())) => {}
            (true, Err(d)) => failures.push(format!(
                "{} {}: expected allowed, got {d}",
                case.rule, case.name
            )),
            (false, Ok(())) => failures.push(format!(
                "{} {}: expected a denial, was allowed",
                case.rule, case.name
            )),
            (false, Err(d)) if d.rule() == case.rule => {}
            (false, Err(d)) => failures.push(format!(
                "{} {}: wrong rule fired: {d}",
                case.rule, case.name
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_an_allowed_and_a_denied_case() {
    let cases = cases();
    for rule in RULES {
        let allowed = cases.iter().any(|c| c.rule == rule.id && c.allowed);
        let denied = cases.iter().any(|c| c.rule == rule.id && !c.allowed);
        assert!(
            allowed && denied,
            "{} lacks an allowed or a denied case",
            rule.id
        );
    }
}

#[test]
fn denials_name_actor_target_and_capability() {
    let room = pg();
    let r = room
        .commit(c("bob"), vec![set_roles(&room, c("bob"), &[("carol", 3)])])
        .unwrap_err();
    assert_eq!(r.proposal, Some(0));
    match r.denial {
        Denial::ChangeUserRole {
            actor,
            target,
            from,
            to,
            reason,
        } => {
            assert_eq!(actor, mimi_policy::ActorId::Client(client("bob", "1")));
            assert_eq!(target, user("carol"));
            assert_eq!((from, to), (2, 3));
            assert_eq!(
                reason,
                Reason::MissingCapability(CapabilityType::CAN_CHANGE_USER_ROLE)
            );
        }
        other => panic!("unexpected {other}"),
    }
    let r = coop()
        .commit(c("bob"), vec![add_users(c("bob"), &[("dave", 4)])])
        .unwrap_err();
    assert!(matches!(
        r.denial,
        Denial::AddParticipant {
            reason: Reason::TransitionNotAuthorized { from: 0, to: 4 },
            ..
        }
    ));
    assert_eq!(
        r.denial.protocol_code(),
        mimi_policy::ProtocolCode::NotAllowed
    );
    let bad = pg()
        .commit(
            c("alice"),
            vec![app(c("alice"), ComponentId::PARTICIPANT_LIST, vec![0xff])],
        )
        .unwrap_err();
    assert_eq!(
        bad.denial.protocol_code(),
        mimi_policy::ProtocolCode::InvalidProposal
    );
    let env = PolicyEnvelope {
        allowed_presets: Some(vec![Preset::DirectMessage]),
        ..PolicyEnvelope::permissive()
    };
    assert!(matches!(
        create_pg(&env),
        Err(Denial::OutsideEnvelope {
            bound: EnvelopeBound::Preset,
            ..
        })
    ));
}
