//! Property tests: random sequences of changes, each applied only if the
//! engine allows it, never break the room's invariants; and what the engine
//! hands to MLS always decodes back to the state it describes.

use std::collections::{HashMap, HashSet};

use mimi_policy::{Actor, Claims, Preset, Proposal, RULES, RoomState};
use mimi_proto::components::{
    BANNED_ROLE, ComponentId, ParticipantListData, ParticipantListUpdate, UserRolePair,
};
use proptest::prelude::*;

use crate::support::*;

/// Names the random operations draw from: some start listed, some not; two
/// organisations.
const NAMES: [&str; 10] = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "bo@b.example",
    "bea@b.example",
    "ben@b.example",
    "fay",
    "gil@b.example",
];

#[derive(Debug, Clone)]
enum Op {
    AddUser {
        actor: usize,
        target: usize,
        role: u32,
        client: bool,
    },
    RemoveUser {
        actor: usize,
        target: usize,
        clients: bool,
    },
    Ban {
        actor: usize,
        target: usize,
        clients: bool,
    },
    ChangeRole {
        actor: usize,
        target: usize,
        role: u32,
    },
    Kick {
        actor: usize,
        target: usize,
    },
    AddClient {
        actor: usize,
        target: usize,
        dev: u8,
    },
    RemoveOwnClient {
        actor: usize,
        dev: u8,
    },
    Leave {
        actor: usize,
        committer: usize,
        clients: bool,
    },
    Join {
        target: usize,
        role: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..NAMES.len();
    let role = || 0u32..7;
    prop_oneof![
        (i(), i(), role(), any::<bool>()).prop_map(|(actor, target, role, client)| Op::AddUser {
            actor,
            target,
            role,
            client
        }),
        (i(), i(), any::<bool>()).prop_map(|(actor, target, clients)| Op::RemoveUser {
            actor,
            target,
            clients
        }),
        (i(), i(), any::<bool>()).prop_map(|(actor, target, clients)| Op::Ban {
            actor,
            target,
            clients
        }),
        (i(), i(), role()).prop_map(|(actor, target, role)| Op::ChangeRole {
            actor,
            target,
            role
        }),
        (i(), i()).prop_map(|(actor, target)| Op::Kick { actor, target }),
        (i(), i(), 1u8..4).prop_map(|(actor, target, dev)| Op::AddClient { actor, target, dev }),
        (i(), 1u8..4).prop_map(|(actor, dev)| Op::RemoveOwnClient { actor, dev }),
        (i(), i(), any::<bool>()).prop_map(|(actor, committer, clients)| Op::Leave {
            actor,
            committer,
            clients
        }),
        (i(), role()).prop_map(|(target, role)| Op::Join { target, role }),
    ]
}

/// The member clients of a user, by device suffix.
fn clients_of(state: &RoomState, name: &str) -> Vec<String> {
    let u = user(name);
    let mut out: Vec<String> = state
        .members()
        .filter(|(_, owner)| **owner == u)
        .map(|(c, _)| c.as_str().rsplit('/').next().unwrap_or("").to_owned())
        .collect();
    out.sort();
    out
}

/// The `i`-th member client (mod the member count), as an actor, with its
/// user's short name. Drawing actors from the members keeps the sequences on
/// meaningful decisions rather than unknown senders.
fn pick(state: &RoomState, i: usize) -> (Actor, String) {
    let mut members: Vec<_> = state.members().collect();
    members.sort();
    let Some((c, u)) = members.get(i % members.len().max(1)).copied() else {
        return (Actor::Client(client("nobody", "1")), "nobody".to_owned());
    };
    let local = u.as_str().rsplit('/').next().unwrap_or("");
    let name = if u.domain() == "a.example" {
        local.to_owned()
    } else {
        format!("{local}@{}", u.domain())
    };
    (Actor::Client(c.clone()), name)
}

fn index_of(state: &RoomState, name: &str) -> Option<u32> {
    let u = user(name);
    state
        .participants()
        .position(|(p, _)| *p == u)
        .map(|i| i as u32)
}

fn removes_for(state: &RoomState, sender: &Actor, name: &str) -> Vec<Proposal> {
    clients_of(state, name)
        .iter()
        .map(|d| remove_client(sender.clone(), name, d))
        .collect()
}

/// Builds the commit an honest-or-not client would send for `op`.
fn build(state: &RoomState, op: &Op) -> (Actor, Vec<Proposal>) {
    let upd = |sender: &Actor, u: ParticipantListUpdate| list(sender.clone(), u);
    match *op {
        Op::AddUser {
            actor,
            target,
            role,
            client,
        } => {
            let (a, _) = pick(state, actor);
            let mut p = vec![add_users(a.clone(), &[(NAMES[target], role)])];
            if client {
                p.push(add_client(a.clone(), NAMES[target], "1"));
            }
            (a, p)
        }
        Op::RemoveUser {
            actor,
            target,
            clients,
        }
        | Op::Ban {
            actor,
            target,
            clients,
        } => {
            let (a, _) = pick(state, actor);
            let Some(i) = index_of(state, NAMES[target]) else {
                return (a, vec![]);
            };
            let u = if matches!(op, Op::Ban { .. }) {
                ParticipantListUpdate {
                    changed_role_participants: vec![mimi_proto::components::UserindexRolePair {
                        user_index: i,
                        role_index: BANNED_ROLE,
                    }],
                    ..ParticipantListUpdate::default()
                }
            } else {
                ParticipantListUpdate {
                    removed_indices: vec![i],
                    ..ParticipantListUpdate::default()
                }
            };
            let mut p = vec![upd(&a, u)];
            if clients {
                p.extend(removes_for(state, &a, NAMES[target]));
            }
            (a, p)
        }
        Op::ChangeRole {
            actor,
            target,
            role,
        } => {
            let (a, _) = pick(state, actor);
            let Some(i) = index_of(state, NAMES[target]) else {
                return (a, vec![]);
            };
            let u = ParticipantListUpdate {
                changed_role_participants: vec![mimi_proto::components::UserindexRolePair {
                    user_index: i,
                    role_index: role,
                }],
                ..ParticipantListUpdate::default()
            };
            (a.clone(), vec![upd(&a, u)])
        }
        Op::Kick { actor, target } => {
            let (a, _) = pick(state, actor);
            let p = removes_for(state, &a, NAMES[target])
                .into_iter()
                .take(1)
                .collect();
            (a, p)
        }
        Op::AddClient { actor, target, dev } => {
            let (a, _) = pick(state, actor);
            (
                a.clone(),
                vec![add_client(a, NAMES[target], &format!("{dev}"))],
            )
        }
        Op::RemoveOwnClient { actor, dev } => {
            let (a, name) = pick(state, actor);
            (a.clone(), vec![remove_client(a, &name, &format!("{dev}"))])
        }
        Op::Leave {
            actor,
            committer,
            clients,
        } => {
            let (leaver, name) = pick(state, actor);
            let (c, _) = pick(state, committer);
            let Some(i) = index_of(state, &name) else {
                return (c, vec![]);
            };
            let mut p = vec![upd(
                &leaver,
                ParticipantListUpdate {
                    removed_indices: vec![i],
                    ..ParticipantListUpdate::default()
                },
            )];
            if clients {
                p.extend(removes_for(state, &leaver, &name));
            }
            (c, p)
        }
        Op::Join { target, role } => {
            let j = Actor::Joiner {
                client: client(NAMES[target], "7"),
                claims: Claims::basic(user(NAMES[target])),
                join_code: None,
            };
            let p = if index_of(state, NAMES[target]).is_some() {
                vec![]
            } else {
                vec![add_users(j.clone(), &[(NAMES[target], role)])]
            };
            (j, p)
        }
    }
}

/// Every invariant the engine promises after a commit.
fn check_invariants(state: &RoomState) -> Result<(), TestCaseError> {
    // Every listed user appears once, so has exactly one role, never role 0.
    let mut seen = HashSet::new();
    for (u, role) in state.participants() {
        prop_assert!(seen.insert(u.clone()), "{u} listed twice");
        prop_assert!(role != 0, "{u} listed with role 0");
        prop_assert!(
            state.roles().role(role).is_some(),
            "{u} has undefined role {role}"
        );
    }
    // No member client of an unlisted or banned user.
    let mut per_user: HashMap<_, u32> = HashMap::new();
    for (c, u) in state.members() {
        let role = state.role_of(u);
        prop_assert!(
            role.is_some_and(|r| r != BANNED_ROLE),
            "{c} of unlisted or banned {u}"
        );
        *per_user.entry(u.clone()).or_default() += 1;
    }
    prop_assert!(state.exiting_users().is_empty());
    // Role constraints (the fixtures start inside all of them).
    for role in &state.roles().roles {
        if role.role_index == 0 {
            continue;
        }
        let holders: Vec<_> = state
            .participants()
            .filter(|(_, r)| *r == role.role_index)
            .collect();
        let active = holders
            .iter()
            .filter(|(u, _)| per_user.contains_key(*u))
            .count() as u32;
        let count = holders.len() as u32;
        prop_assert!(
            count >= role.minimum_participants_constraint,
            "role {} min",
            role.role_index
        );
        prop_assert!(
            role.maximum_participants_constraint
                .is_none_or(|m| count <= m),
            "role {} max",
            role.role_index
        );
        if role.role_index != BANNED_ROLE {
            prop_assert!(
                active >= role.minimum_active_participants_constraint,
                "role {} min active",
                role.role_index
            );
            prop_assert!(
                role.maximum_active_participants_constraint
                    .is_none_or(|m| active <= m),
                "role {} max active",
                role.role_index
            );
        }
    }
    let base = state.base_policy();
    let users = state
        .participants()
        .filter(|(_, r)| *r != BANNED_ROLE)
        .count() as u32;
    prop_assert!(base.max_users.is_none_or(|m| users <= m));
    prop_assert!(base.max_clients.is_none_or(|m| state.member_count() <= m));
    if !base.multi_device {
        prop_assert!(per_user.values().all(|n| *n <= 1));
    }
    prop_assert_eq!(state.member_count() as usize, state.members().count());
    Ok(())
}

/// The starting rooms: three presets and a private group with tight limits
/// (one device per user, at most four users and four clients).
fn fixture(which: u8) -> Room {
    match which {
        0 => Room::new(
            Preset::PrivateGroup,
            &[("alice", 3), ("bob", 2), ("carol", 3), ("bo@b.example", 2)],
        ),
        1 => Room::new(
            Preset::PublicChannel,
            &[("alice", 5), ("bob", 4), ("carol", 3), ("bo@b.example", 2)],
        ),
        2 => Room::new(
            Preset::MultiOrg,
            &[("alice", 4), ("bob", 3), ("bo@b.example", 3), ("carol", 2)],
        ),
        _ => Room::custom(
            Preset::PrivateGroup.template(),
            &[("alice", 3), ("bob", 2)],
            |c| {
                if let Some(b) = c.base_policy.as_mut() {
                    b.multi_device = false;
                    b.max_users = Some(4);
                    b.max_clients = Some(4);
                }
            },
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_allowed_changes_keep_every_invariant(which in 0u8..4, ops in prop::collection::vec(op(), 1..30)) {
        let mut room = fixture(which);
        check_invariants(&room.state)?;
        for op in &ops {
            let (committer, proposals) = build(&room.state, op);
            match room.commit(committer, proposals) {
                Ok(staged) => {
                    let list_bytes = staged
                        .component_updates()
                        .iter()
                        .find(|u| u.component_id == ComponentId::PARTICIPANT_LIST)
                        .and_then(|u| u.data.clone());
                    room.state.apply(staged);
                    // The bytes handed to MLS decode to the list we keep.
                    if let Some(data) = list_bytes {
                        let decoded = ParticipantListData::decode(&data).unwrap();
                        let kept: Vec<UserRolePair> = room
                            .state
                            .participants()
                            .map(|(u, r)| UserRolePair { user: u.clone(), role_index: r })
                            .collect();
                        prop_assert_eq!(decoded.participants, kept);
                    }
                }
                Err(rejection) => {
                    prop_assert!(RULES.iter().any(|r| r.id == rejection.denial.rule()));
                }
            }
            check_invariants(&room.state)?;
            // The state reloads from what MLS would hold.
            let members = room
                .state
                .members()
                .map(|(c, u)| mimi_policy::Member::basic(c.clone(), u.clone()))
                .collect();
            let reloaded = RoomState::from_committed(room.state.to_components(), members).unwrap();
            prop_assert_eq!(
                reloaded.participants().collect::<Vec<_>>(),
                room.state.participants().collect::<Vec<_>>()
            );
            if room.state.member_count() == 0 {
                break;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary update bytes under any component id, from any member, as a
    /// proposal or in a commit: a result or a denial, never a panic, and a
    /// malformed update is `invalidProposal`.
    #[test]
    fn arbitrary_updates_never_panic(
        which in 0u8..4,
        id in prop_oneof![
            prop::sample::select(ComponentId::ALL.to_vec()),
            any::<u16>().prop_map(ComponentId),
        ],
        actor in 0usize..8,
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        remove in any::<bool>(),
    ) {
        let room = fixture(which);
        let (sender, _) = pick(&room.state, actor);
        let p = if remove { app_remove(sender.clone(), id) } else { app(sender.clone(), id, bytes) };
        for result in [room.propose(vec![p.clone()]), room.commit(sender, vec![p])] {
            if let Err(rejection) = result
                && matches!(rejection.denial, mimi_policy::Denial::MalformedComponent { .. })
            {
                prop_assert_eq!(rejection.denial.protocol_code(), mimi_policy::ProtocolCode::InvalidProposal);
            }
        }
    }
}
