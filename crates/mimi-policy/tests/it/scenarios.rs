//! Scenarios per preset, taken from the working group's discussions (seeds
//! 003/004: roles, join/leave order, the multi-organisation debate, "two
//! versions of kick", separate ban lists) and the draft's own negative cases
//! for its appendix examples (digest A.10).

use mimi_policy::claims::OID_ORGANIZATION_NAME;
use mimi_policy::{
    Actor, Claims, Commit, Context, Denial, JoinPath, Member, PolicyEnvelope, Preset, Reason,
    RoomState, RuleId,
};
use mimi_proto::Utf8String;
use mimi_proto::components::{
    BanList, BanRecord, Claim, ComponentId, CredentialType, JoinLink, JoinLinksData,
    OrgScopedRoles, ParticipantListData, ParticipantListUpdate, PreAuthData, PreAuthRoleEntry,
    UserRolePair,
};

use crate::support::*;

fn rule(r: Result<impl Sized, mimi_policy::Rejection>) -> RuleId {
    match r {
        Ok(_) => panic!("expected a denial"),
        Err(rej) => rej.denial.rule(),
    }
}

fn bans(records: &[(&str, Option<u64>)]) -> Vec<u8> {
    let mut list = BanList::default();
    for (n, exp) in records {
        list.upsert(BanRecord {
            user: user(n),
            reason: Utf8String::new("abuse").unwrap(),
            expires_at: *exp,
        });
    }
    list.encode().unwrap()
}

fn preauth_domain_into(role: u32) -> PreAuthData {
    PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![Claim::new(
                CredentialType::BASIC,
                "mimi:domain",
                "a.example",
            )],
            target_role: mimi_proto::components::Role {
                role_index: role,
                ..Default::default()
            },
        }],
    }
}

// ---- multi-org: a linear hierarchy cannot say "B's admin over B's users" ----

/// mimi's multi-org: alice owner; adam admin of a.example; bo admin of b.example;
/// anna (a) and bea (b) members.
fn multi_org() -> Room {
    Room::new(
        Preset::MultiOrg,
        &[
            ("alice", 4),
            ("adam", 3),
            ("bo@b.example", 3),
            ("anna", 2),
            ("bea@b.example", 2),
        ],
    )
}

#[test]
fn multi_org_admin_cannot_kick_the_other_orgs_member() {
    let room = multi_org();
    let r = room.commit(
        c("adam"),
        vec![remove_client(c("adam"), "bea@b.example", "1")],
    );
    let Err(rej) = r else {
        panic!("kick across organisations was allowed")
    };
    assert!(matches!(
        &rej.denial,
        Denial::OutsideOrganisation { actor_org, target_org, .. } if actor_org == "a.example" && target_org == "b.example"
    ));
    // Its own organisation's member: fine. The other org's admin over its own: fine.
    assert!(
        room.commit(c("adam"), vec![remove_client(c("adam"), "anna", "1")])
            .is_ok()
    );
    assert!(
        room.commit(
            c("bo@b.example"),
            vec![remove_client(c("bo@b.example"), "bea@b.example", "1")]
        )
        .is_ok()
    );
    // The global owner manages everyone.
    assert!(
        room.commit(
            c("alice"),
            vec![remove_client(c("alice"), "bea@b.example", "1")]
        )
        .is_ok()
    );
}

#[test]
fn multi_org_admin_manages_only_its_organisation() {
    let room = multi_org();
    // Adding, removing, banning or promoting another organisation's user: POL-38.
    let add_b = room.commit(
        c("adam"),
        vec![add_users(c("adam"), &[("ben@b.example", 2)])],
    );
    assert_eq!(rule(add_b), RuleId::OUTSIDE_ORGANISATION);
    let remove_b = room.commit(
        c("adam"),
        vec![
            remove_users(&room, c("adam"), &["bea@b.example"]),
            remove_client(c("adam"), "bea@b.example", "1"),
        ],
    );
    assert_eq!(rule(remove_b), RuleId::OUTSIDE_ORGANISATION);
    let ban_b = room.commit(
        c("adam"),
        vec![set_roles(&room, c("adam"), &[("bea@b.example", 1)])],
    );
    assert_eq!(rule(ban_b), RuleId::OUTSIDE_ORGANISATION);
    let promote_b = room.commit(
        c("adam"),
        vec![set_roles(&room, c("adam"), &[("bea@b.example", 3)])],
    );
    assert_eq!(rule(promote_b), RuleId::OUTSIDE_ORGANISATION);
    // The same operations within a.example are allowed.
    assert!(
        room.commit(c("adam"), vec![add_users(c("adam"), &[("al", 2)])])
            .is_ok()
    );
    assert!(
        room.commit(c("adam"), vec![set_roles(&room, c("adam"), &[("anna", 3)])])
            .is_ok()
    );
    // Org admins cannot unban, even their own (as in the draft's example).
    let mut room = multi_org();
    room.commit_ok(
        c("adam"),
        vec![
            set_roles(&room, c("adam"), &[("anna", 1)]),
            remove_client(c("adam"), "anna", "1"),
        ],
    );
    let unban = room.commit(c("adam"), vec![set_roles(&room, c("adam"), &[("anna", 2)])]);
    assert_eq!(rule(unban), RuleId::UNBAN);
}

#[test]
fn draft_multi_org_example_lets_an_org_admin_kick_anyone_and_scoping_fixes_it() {
    // The draft's example: kick consults no matrix, so org B's admin can kick
    // org C's user. This is the gap the linear-hierarchy debate was about.
    let participants = [
        ("alice", 8),
        ("bob@b.example", 6),
        ("carol@c.example", 7),
        ("dan@c.example", 4),
        ("enforcer@hub.example", 9),
    ];
    let draft = Room::new(Preset::MultiOrgDraft, &participants);
    assert!(
        draft
            .commit(
                c("bob@b.example"),
                vec![remove_client(c("bob@b.example"), "dan@c.example", "1")]
            )
            .is_ok(),
        "the draft as written allows a cross-organisation kick"
    );
    // The same roles with org B's and C's admin roles scoped: refused.
    let scoped = Room::custom(Preset::MultiOrgDraft.template(), &participants, |c| {
        c.org_scoped_roles = Some(OrgScopedRoles {
            role_indexes: vec![6, 7],
        })
    });
    let r = scoped.commit(
        c("bob@b.example"),
        vec![remove_client(c("bob@b.example"), "dan@c.example", "1")],
    );
    assert_eq!(rule(r), RuleId::OUTSIDE_ORGANISATION);
}

#[test]
fn organisation_comes_from_the_credential_when_it_has_one() {
    // X.509 credentials naming the same organisation on two domains.
    let acme = |name: &str| {
        Claims::new(
            user(name),
            CredentialType::X509,
            vec![Claim::new(
                CredentialType::X509,
                OID_ORGANIZATION_NAME,
                "Acme",
            )],
        )
    };
    let t = Preset::MultiOrg.template();
    let pairs = [
        ("alice", 4),
        ("adam", 3),
        ("bea@b.example", 2),
        ("zoe@z.example", 2),
    ]
    .iter()
    .map(|(n, r)| UserRolePair {
        user: user(n),
        role_index: *r,
    })
    .collect();
    let members = vec![
        Member::basic(client("alice", "1"), user("alice")),
        Member {
            client: client("adam", "1"),
            claims: acme("adam"),
        },
        Member {
            client: client("bea@b.example", "1"),
            claims: acme("bea@b.example"),
        },
        Member::basic(client("zoe@z.example", "1"), user("zoe@z.example")),
    ];
    let env = PolicyEnvelope::permissive();
    let ctx = Context::new(NOW, &env);
    let state = RoomState::create(
        &ctx,
        Some(Preset::MultiOrg),
        t.components(room_id(), pairs),
        members,
    )
    .unwrap();
    assert_eq!(state.organisation_of(&user("bea@b.example")), "Acme");
    let kick = |target: &str| {
        state.evaluate_commit(
            &ctx,
            &Commit {
                committer: c("adam"),
                proposals: vec![remove_client(c("adam"), target, "1")],
            },
        )
    };
    assert!(
        kick("bea@b.example").is_ok(),
        "same organisation on another domain"
    );
    assert_eq!(rule(kick("zoe@z.example")), RuleId::OUTSIDE_ORGANISATION);
}

// ---- bans: role 1 plus a separate record with reason and expiry ----

/// strictly administered with a.example preauthorized as ordinary users.
fn strict() -> Room {
    Room::custom(
        Preset::StrictlyAdministered.template(),
        &[
            ("alice", 4),
            ("gina", 3),
            ("carol", 2),
            ("enforcer@hub.example", 5),
        ],
        |c| c.preauth = Some(preauth_domain_into(2)),
    )
}

#[test]
fn banned_user_cannot_rejoin_through_preauth() {
    let mut room = strict();
    // Eve joins through preauthorization (matrix not consulted).
    room.commit_ok(joiner("eve"), vec![add_users(joiner("eve"), &[("eve", 2)])]);
    assert_eq!(room.state.role_of(&user("eve")), Some(2));
    // The group admin bans her, logging a reason.
    room.commit_ok(
        c("gina"),
        vec![
            set_roles(&room, c("gina"), &[("eve", 1)]),
            remove_client(c("gina"), "eve", "1"),
            app(
                c("gina"),
                ComponentId::MIMI_BAN_LIST,
                bans(&[("eve", None)]),
            ),
        ],
    );
    assert_eq!(room.state.role_of(&user("eve")), Some(1));
    assert_eq!(
        room.state
            .components()
            .bans
            .as_ref()
            .unwrap()
            .record(&user("eve"))
            .unwrap()
            .reason
            .as_str(),
        "abuse"
    );
    // Her credential still matches the preauth entry, but she is listed as banned.
    let with_update = room.commit(joiner("eve"), vec![add_users(joiner("eve"), &[("eve", 2)])]);
    assert_eq!(rule(with_update), RuleId::BANNED_USER);
    let bare = room.commit(joiner("eve"), vec![]);
    assert_eq!(rule(bare), RuleId::BANNED_USER);
    assert!(matches!(
        room.state
            .authorize_join(&client("eve", "2"), &Claims::basic(user("eve")), None),
        Err(Denial::BannedUser { .. })
    ));
    // Another a.example user still gets in the same way.
    assert!(
        room.commit(
            joiner("fred"),
            vec![add_users(joiner("fred"), &[("fred", 2)])]
        )
        .is_ok()
    );
}

#[test]
fn timed_ban_expires_for_re_adding_but_not_before() {
    // mimi's multi-org: org admins can add but cannot unban.
    let mut room = multi_org();
    room.commit_ok(
        c("alice"),
        vec![
            set_roles(&room, c("alice"), &[("anna", 1)]),
            remove_client(c("alice"), "anna", "1"),
            app(
                c("alice"),
                ComponentId::MIMI_BAN_LIST,
                bans(&[("anna", Some(NOW + 60))]),
            ),
        ],
    );
    let readd = |room: &Room, now: u64| {
        let env = PolicyEnvelope::permissive();
        room.state
            .evaluate_commit(
                &Context::new(now, &env),
                &Commit {
                    committer: c("adam"),
                    proposals: vec![
                        set_roles(room, c("adam"), &[("anna", 2)]),
                        app(c("adam"), ComponentId::MIMI_BAN_LIST, bans(&[])),
                    ],
                },
            )
            .map(|_| ())
    };
    let early = readd(&room, NOW + 59).unwrap_err();
    assert!(matches!(
        early.denial,
        Denial::Unban {
            reason: Reason::BanNotExpired,
            ..
        }
    ));
    readd(&room, NOW + 60).expect("an expired ban lets canAddParticipant re-add");
    // Lifting the ban must drop its record (POL-27).
    let env = PolicyEnvelope::permissive();
    let keep_record = room.state.evaluate_commit(
        &Context::new(NOW + 60, &env),
        &Commit {
            committer: c("adam"),
            proposals: vec![set_roles(&room, c("adam"), &[("anna", 2)])],
        },
    );
    assert_eq!(rule(keep_record), RuleId::BAN_RECORDS);
}

// ---- moderation: who may promote whom ----

#[test]
fn moderator_cannot_promote_themself() {
    // public-channel: moderators lack canChangeOwnRole and the matrix row to 4.
    let room = Room::new(
        Preset::PublicChannel,
        &[("alice", 5), ("bob", 4), ("carol", 3)],
    );
    let own = room.commit(c("bob"), vec![set_roles(&room, c("bob"), &[("bob", 5)])]);
    assert_eq!(rule(own), RuleId::CHANGE_OWN_ROLE);
    let other = room.commit(c("bob"), vec![set_roles(&room, c("bob"), &[("carol", 4)])]);
    assert_eq!(rule(other), RuleId::CHANGE_USER_ROLE);
    // What moderators may do: mute a member, kick and ban.
    assert!(
        room.commit(c("bob"), vec![set_roles(&room, c("bob"), &[("carol", 2)])])
            .is_ok()
    );
    assert!(
        room.commit(c("bob"), vec![remove_client(c("bob"), "carol", "1")])
            .is_ok()
    );
    assert!(
        room.commit(
            c("bob"),
            vec![
                set_roles(&room, c("bob"), &[("carol", 1)]),
                remove_client(c("bob"), "carol", "1")
            ]
        )
        .is_ok()
    );
    // But not the owner.
    let ban_owner = room.commit(
        c("bob"),
        vec![
            set_roles(&room, c("bob"), &[("alice", 1)]),
            remove_client(c("bob"), "alice", "1"),
        ],
    );
    assert_eq!(rule(ban_owner), RuleId::BAN);

    // The draft's moderated room: the moderator holds canChangeOwnRole (from
    // attendee), but only into its first preauth match.
    let moderated = Room::new(
        Preset::Moderated,
        &[("alice", 6), ("mo", 5), ("enforcer@hub.example", 7)],
    );
    let r = moderated.commit(c("mo"), vec![set_roles(&moderated, c("mo"), &[("mo", 6)])]);
    assert!(matches!(
        r.unwrap_err().denial,
        Denial::ChangeOwnRole {
            reason: Reason::PreauthMismatch { matched: None },
            ..
        }
    ));
}

#[test]
fn public_channel_readers_read_members_send() {
    let room = Room::new(
        Preset::PublicChannel,
        &[("alice", 5), ("rita", 2), ("carol", 3)],
    );
    assert!(room.state.check_sender(&user("carol")).is_ok());
    assert!(room.state.check_sender(&user("rita")).is_err());
    assert!(room.state.may_receive(&user("rita")));
    assert_eq!(
        room.state
            .authorize_join(&client("eve", "1"), &Claims::basic(user("eve")), None),
        Ok(JoinPath::OpenJoin { role: 3 })
    );
    // Open join cannot pick a more powerful role than role 0's matrix allows.
    let r = room.commit(joiner("eve"), vec![add_users(joiner("eve"), &[("eve", 4)])]);
    assert_eq!(rule(r), RuleId::SELF_JOIN);
}

// ---- direct messages: fixed membership ----

#[test]
fn direct_message_membership_is_fixed_but_devices_are_not() {
    let mut room = Room::new(Preset::DirectMessage, &[("alice", 2), ("bob", 2)]);
    let third = room.commit(c("alice"), vec![add_users(c("alice"), &[("dave", 2)])]);
    assert_eq!(rule(third), RuleId::FIXED_MEMBERSHIP);
    let leave = room.commit(
        c("alice"),
        vec![
            remove_users(&room, c("bob"), &["bob"]),
            remove_client(c("bob"), "bob", "1"),
        ],
    );
    assert_eq!(rule(leave), RuleId::FIXED_MEMBERSHIP);
    let kick = room.commit(c("alice"), vec![remove_client(c("alice"), "bob", "1")]);
    assert_eq!(rule(kick), RuleId::KICK);
    room.commit_ok(c("alice"), vec![add_client(c("alice"), "alice", "2")]);
    room.commit_ok(c("alice"), vec![remove_client(c("alice"), "alice", "2")]);
    // A user may drop all of its devices and stay listed.
    room.commit_ok(c("alice"), vec![remove_client(cd("bob", "1"), "bob", "1")]);
    assert_eq!(room.state.role_of(&user("bob")), Some(2));
    assert_eq!(room.state.client_count(&user("bob")), 0);
    let creation = RoomState::create(
        &Context::new(NOW, &PolicyEnvelope::permissive()),
        Some(Preset::DirectMessage),
        Preset::DirectMessage.template().components(
            room_id(),
            ["a", "b", "c"]
                .iter()
                .map(|n| UserRolePair {
                    user: user(n),
                    role_index: 2,
                })
                .collect(),
        ),
        vec![],
    );
    assert!(matches!(
        creation,
        Err(Denial::RoleParticipants { .. }) | Err(Denial::MaxUsers { .. })
    ));
}

// ---- private group: order of operations, leave, kick vs remove ----

fn pg() -> Room {
    Room::new(
        Preset::PrivateGroup,
        &[("alice", 3), ("bob", 2), ("carol", 2)],
    )
}

#[test]
fn leave_makes_the_user_exiting_until_the_next_commit_removes_its_clients() {
    let committed = pg();
    let mut effective = pg();
    effective.commit_ok(c("bob"), vec![add_client(c("bob"), "bob", "2")]);
    let mut committed_state = effective.state.clone();
    // Bob's client 1 proposes: leave the list, remove client 1. Client 2 stays.
    let leave = vec![
        remove_users(&effective, c("bob"), &["bob"]),
        remove_client(c("bob"), "bob", "1"),
    ];
    effective.propose_ok(leave.clone());
    assert_eq!(effective.state.role_of(&user("bob")), None);
    assert!(effective.state.is_exiting(&user("bob")));
    assert_eq!(effective.state.exiting_users(), vec![&user("bob")]);
    assert!(effective.state.check_sender(&user("bob")).is_err());
    assert!(!effective.state.is_active_sender(&user("bob")));
    assert!(effective.state.is_active_sender(&user("carol")));
    assert_eq!(
        effective.state.pending_removals().collect::<Vec<_>>(),
        vec![&client("bob", "1")]
    );
    assert_eq!(
        effective.state.clients_to_remove(),
        vec![&client("bob", "2")]
    );
    // The hub refuses anything from him but removing his own clients.
    let meta = app(cd("bob", "2"), ComponentId::ROOM_METADATA, vec![]);
    assert_eq!(rule(effective.propose(vec![meta])), RuleId::EXITING_ACTOR);
    let kick = remove_client(cd("bob", "2"), "carol", "1");
    assert_eq!(rule(effective.propose(vec![kick])), RuleId::EXITING_ACTOR);
    // He may not commit either.
    let r = effective.commit(cd("bob", "2"), vec![]);
    assert_eq!(rule(r), RuleId::COMMITTER);

    // The next commit (by carol) carries the queued proposals; it must also
    // remove client 2, or be refused.
    let env = PolicyEnvelope::permissive();
    let ctx = Context::new(NOW, &env);
    let without = Commit {
        committer: c("carol"),
        proposals: leave.clone(),
    };
    let r = committed_state.evaluate_commit(&ctx, &without);
    assert!(
        matches!(r.unwrap_err().denial, Denial::ClientsLeft { client: left, .. } if left == client("bob", "2"))
    );
    let mut with = without.clone();
    with.proposals.push(remove_client(c("carol"), "bob", "2"));
    let staged = committed_state.evaluate_commit(&ctx, &with).unwrap();
    assert_eq!(staged.summary().removed_users, vec![user("bob")]);
    committed_state.apply(staged);
    assert_eq!(committed_state.role_of(&user("bob")), None);
    assert_eq!(committed_state.member_count(), 2);
    assert!(committed_state.exiting_users().is_empty());
    // The leaver cannot commit its own leave.
    let self_commit = committed.commit(
        c("bob"),
        vec![
            remove_users(&committed, c("bob"), &["bob"]),
            remove_client(c("bob"), "bob", "1"),
        ],
    );
    assert_eq!(rule(self_commit), RuleId::COMMITTER);
}

#[test]
fn kick_keeps_the_user_listed_and_it_may_come_back_remove_does_not() {
    let mut room = pg();
    let kicked = room.commit_ok(c("alice"), vec![remove_client(c("alice"), "bob", "1")]);
    assert_eq!(kicked.kicked_clients, vec![client("bob", "1")]);
    assert_eq!(
        room.state.role_of(&user("bob")),
        Some(2),
        "kick keeps the list entry"
    );
    assert!(!room.state.is_exiting(&user("bob")));
    // Bob returns with a new client by external commit (canAddOwnClient).
    assert_eq!(
        room.state
            .authorize_join(&client("bob", "9"), &Claims::basic(user("bob")), None),
        Ok(JoinPath::OwnClient { role: 2 })
    );
    let back = Actor::Joiner {
        client: client("bob", "9"),
        claims: Claims::basic(user("bob")),
        join_code: None,
    };
    room.commit_ok(back, vec![]);
    assert_eq!(room.state.client_count(&user("bob")), 1);

    // Removal takes him off the list; he cannot come back by himself.
    room.commit_ok(
        c("alice"),
        vec![
            remove_users(&room, c("alice"), &["bob"]),
            remove_client(c("alice"), "bob", "9"),
        ],
    );
    assert_eq!(room.state.role_of(&user("bob")), None);
    let again = room.commit(joiner("bob"), vec![add_users(joiner("bob"), &[("bob", 2)])]);
    assert_eq!(rule(again), RuleId::SELF_JOIN);
}

#[test]
fn user_is_listed_before_or_with_its_clients() {
    let room = pg();
    // Add before list: the Add is judged against the list the commit leaves.
    assert!(
        room.commit(
            c("alice"),
            vec![
                add_client(c("alice"), "dave", "1"),
                add_users(c("alice"), &[("dave", 2)])
            ]
        )
        .is_ok()
    );
    // A proposal adding a client of an unlisted user is refused outright.
    let r = room.propose(vec![add_client(c("alice"), "dave", "1")]);
    assert_eq!(rule(r), RuleId::CLIENT_WITHOUT_PARTICIPANT);
    // A client whose id names another user than its credential.
    let forged = mimi_policy::Proposal::new(
        c("alice"),
        mimi_policy::Change::add(client("dave", "1"), Claims::basic(user("bob"))),
    );
    assert_eq!(
        rule(room.commit(c("alice"), vec![forged])),
        RuleId::CLIENT_WITHOUT_PARTICIPANT
    );
}

#[test]
fn commit_yields_the_bytes_every_client_computes() {
    let room = pg();
    let update = ParticipantListUpdate {
        changed_role_participants: vec![mimi_proto::components::UserindexRolePair {
            user_index: 2,
            role_index: 3,
        }],
        removed_indices: vec![1],
        added_participants: vec![UserRolePair {
            user: user("dave"),
            role_index: 2,
        }],
    };
    let staged = room
        .commit(
            c("alice"),
            vec![
                list(c("alice"), update.clone()),
                remove_client(c("alice"), "bob", "1"),
            ],
        )
        .unwrap();
    let updates = staged.component_updates();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].component_id, ComponentId::PARTICIPANT_LIST);
    // A client's independent computation: role changes, removals, appends.
    let mut list = room
        .state
        .to_components()
        .participant_list
        .unwrap()
        .participants;
    for c in &update.changed_role_participants {
        list[c.user_index as usize].role_index = c.role_index;
    }
    let mut i = 0;
    list.retain(|_| {
        i += 1;
        !update.removed_indices.contains(&(i - 1))
    });
    list.extend(update.added_participants.clone());
    let expected = ParticipantListData { participants: list }.encode().unwrap();
    assert_eq!(updates[0].data.as_deref(), Some(expected.as_slice()));
}

#[test]
fn pending_proposals_and_their_commit_agree() {
    // Alice promotes bob by proposal; bob (now admin in the effective state)
    // proposes adding dave; the commit carrying both is accepted from the
    // committed state too.
    let committed = pg();
    let mut effective = pg();
    let promote = set_roles(&effective, c("alice"), &[("bob", 3)]);
    effective.propose_ok(vec![promote.clone()]);
    let add = add_users(c("bob"), &[("dave", 2)]);
    effective.propose_ok(vec![add.clone()]);
    assert_eq!(effective.state.role_of(&user("dave")), Some(2));
    // A third proposal touching bob again is refused: one touch per commit.
    let again = set_roles(&committed, c("alice"), &[("bob", 2)]);
    assert_eq!(
        rule(effective.propose(vec![again])),
        RuleId::USER_TOUCHED_TWICE
    );
    let staged = committed.commit(c("carol"), vec![promote, add]).unwrap();
    assert_eq!(staged.summary().added_users, vec![user("dave")]);
}

// ---- the hub as policy enforcer (external sender with a preset role) ----

#[test]
fn hub_policy_enforcer_removes_and_bans_but_never_adds_or_restores() {
    let room = Room::new(
        Preset::Cooperative,
        &[
            ("alice", 4),
            ("gary", 3),
            ("bob", 2),
            ("eve", 1),
            ("enforcer@hub.example", 5),
        ],
    );
    // Remove bob: the enforcer's proposal; a member commits it with the Remove.
    let removal = vec![
        remove_users(&room, hub(), &["bob"]),
        remove_client(hub(), "bob", "1"),
    ];
    assert!(room.propose(removal.clone()).is_ok());
    assert!(room.commit(c("alice"), removal).is_ok());
    // Ban: allowed by its matrix row (2 -> 1).
    assert!(
        room.propose(vec![set_roles(&room, hub(), &[("bob", 1)])])
            .is_ok()
    );
    // Adding anyone: no canAddParticipant.
    assert_eq!(
        rule(room.propose(vec![add_users(hub(), &[("dave", 2)])])),
        RuleId::ADD_PARTICIPANT
    );
    // Restoring a banned user: ARC(5, 1 -> 2) is false.
    assert_eq!(
        rule(room.propose(vec![set_roles(&room, hub(), &[("eve", 2)])])),
        RuleId::UNBAN
    );
    // Cleanup of a banned entry (1 -> 0) is fine.
    assert!(
        room.propose(vec![remove_users(&room, hub(), &["eve"])])
            .is_ok()
    );
    // It may never have clients (max_active 0).
    let r = room.commit(
        c("alice"),
        vec![add_client(c("alice"), "enforcer@hub.example", "1")],
    );
    assert_eq!(rule(r), RuleId::ROLE_ACTIVE_PARTICIPANTS);
}

#[test]
fn draft_appendix_negative_cases() {
    // An org_b_admin unbanning: lacks canUnBan.
    let room = Room::new(
        Preset::MultiOrgDraft,
        &[
            ("alice", 8),
            ("bob@b.example", 6),
            ("carol@c.example", 7),
            ("bill@b.example", 1),
            ("enforcer@hub.example", 9),
        ],
    );
    let r = room.commit(
        c("bob@b.example"),
        vec![set_roles(
            &room,
            c("bob@b.example"),
            &[("bill@b.example", 3)],
        )],
    );
    assert_eq!(rule(r), RuleId::UNBAN);
    // A fourth org_b_admin (max 3).
    let room = Room::new(
        Preset::MultiOrgDraft,
        &[
            ("alice", 8),
            ("bob@b.example", 6),
            ("b2@b.example", 6),
            ("b3@b.example", 6),
            ("carol@c.example", 7),
            ("enforcer@hub.example", 9),
        ],
    );
    let r = room.commit(
        c("bob@b.example"),
        vec![add_users(c("bob@b.example"), &[("b4@b.example", 6)])],
    );
    assert!(matches!(
        r.unwrap_err().denial,
        Denial::RoleParticipants {
            role: 6,
            bound: mimi_policy::Bound::Max,
            limit: 3,
            count: 4
        }
    ));
    // An outsider joining a moderated room with a code into speaker (4).
    let moderated = Room::custom(
        Preset::Moderated.template(),
        &[("alice", 6), ("mo", 5), ("enforcer@hub.example", 7)],
        |c| {
            c.join_links = Some(JoinLinksData {
                links: vec![JoinLink {
                    join_link: b"code-1".to_vec(),
                }],
            })
        },
    );
    let with_code = |role| {
        let j = Actor::Joiner {
            client: client("eve", "1"),
            claims: Claims::basic(user("eve")),
            join_code: Some(b"code-1".to_vec()),
        };
        moderated.commit(j.clone(), vec![add_users(j, &[("eve", role)])])
    };
    assert_eq!(rule(with_code(4)), RuleId::SELF_JOIN);
    assert!(
        with_code(3).is_ok(),
        "role 0's row admits guests and attendees"
    );
    assert_eq!(
        moderated.state.authorize_join(
            &client("eve", "1"),
            &Claims::basic(user("eve")),
            Some(b"code-1")
        ),
        Ok(JoinPath::JoinCode { role: 2 })
    );
    let wrong = moderated.state.authorize_join(
        &client("eve", "1"),
        &Claims::basic(user("eve")),
        Some(b"nope"),
    );
    assert!(matches!(
        wrong,
        Err(Denial::SelfJoin {
            reason: Reason::InvalidJoinCode,
            ..
        })
    ));
}

#[test]
fn envelope_bounds_creation_and_later_changes() {
    let env = PolicyEnvelope {
        allowed_presets: None,
        custom_roles: false,
        max_users: Some(100),
        max_clients: None,
        open_join: false,
        pseudonyms: false,
    };
    let ctx = Context::new(NOW, &env);
    let create = |preset: Preset, edit: &dyn Fn(&mut mimi_policy::RoomTemplate)| {
        let mut t = preset.template();
        edit(&mut t);
        let comps = t.components(
            room_id(),
            vec![UserRolePair {
                user: user("alice"),
                role_index: t.creator_role,
            }],
        );
        RoomState::create(
            &ctx,
            Some(preset),
            comps,
            vec![Member::basic(client("alice", "1"), user("alice"))],
        )
    };
    let bound = |r: Result<RoomState, Denial>| match r {
        Err(Denial::OutsideEnvelope { bound, .. }) => Some(bound),
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => None,
    };
    use mimi_policy::EnvelopeBound as B;
    assert_eq!(
        bound(create(Preset::PrivateGroup, &|_| {})),
        Some(B::MaxUsers)
    );
    assert_eq!(
        bound(create(Preset::PrivateGroup, &|t| t.base_policy.max_users =
            Some(50))),
        None
    );
    assert_eq!(
        bound(create(Preset::PublicChannel, &|t| t
            .base_policy
            .max_users =
            Some(50))),
        Some(B::OpenJoin)
    );
    assert_eq!(
        bound(create(Preset::PrivateGroup, &|t| {
            t.base_policy.max_users = Some(50);
            t.base_policy.pseudonyms_allowed = true;
        })),
        Some(B::Pseudonyms)
    );
    assert_eq!(
        bound(create(Preset::PrivateGroup, &|t| {
            t.base_policy.max_users = Some(50);
            t.roles.roles[2].role_capabilities.clear();
        })),
        Some(B::CustomRoles)
    );
    // Later: a roles update granting open join is refused by the envelope.
    let state = create(Preset::PrivateGroup, &|t| {
        t.base_policy.max_users = Some(50)
    })
    .unwrap();
    let mut roles = state.roles().clone();
    roles.roles[2].role_description = Utf8String::new("custom").unwrap();
    let r = state.evaluate_commit(
        &ctx,
        &Commit {
            committer: c("alice"),
            proposals: vec![app(
                c("alice"),
                ComponentId::ROLES_LIST,
                roles.encode().unwrap(),
            )],
        },
    );
    assert!(matches!(
        r.unwrap_err().denial,
        Denial::OutsideEnvelope {
            bound: B::CustomRoles,
            ..
        }
    ));
}
