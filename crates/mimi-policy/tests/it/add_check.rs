//! `RoomState::authorize_add`: the question asked before anyone claims a
//! user's KeyPackages (decisions KP-1), answered as the add itself would be.

use mimi_policy::{Preset, RuleId};
use mimi_proto::UserId;

use crate::support::*;

fn user_id(name: &str) -> UserId {
    UserId::parse(user(name).as_str()).unwrap()
}

/// alice admin (3), bob member (2), eve banned (1).
fn room() -> Room {
    Room::new(
        Preset::PrivateGroup,
        &[("alice", 3), ("bob", 2), ("eve", 1)],
    )
}

#[test]
fn a_member_may_not_add_and_an_admin_may() {
    let room = room();
    let ctx = room.ctx();
    let dave = user_id("dave@d.example");
    // The hub's question (any role) and the client's (the member role).
    for role in [None, Some(2)] {
        let refused = room
            .state
            .authorize_add(&ctx, &client("bob", "1"), &dave, role)
            .unwrap_err();
        assert_eq!(refused.denial.rule(), RuleId::ADD_PARTICIPANT, "{refused}");
        room.state
            .authorize_add(&ctx, &client("alice", "1"), &dave, role)
            .unwrap_or_else(|r| panic!("{r}"));
    }
    // The same answer as the real add: alice may add dave as a member.
    room.commit(
        c("alice"),
        vec![
            add_users(c("alice"), &[("dave@d.example", 2)]),
            add_client(c("alice"), "dave@d.example", "1"),
        ],
    )
    .unwrap_or_else(|r| panic!("{r}"));
}

#[test]
fn banned_users_and_roles_outside_the_matrix_are_refused() {
    let room = room();
    let ctx = room.ctx();
    // eve is listed but banned: no client of hers may be added.
    let refused = room
        .state
        .authorize_add(&ctx, &client("alice", "1"), &user_id("eve"), None)
        .unwrap_err();
    assert!(refused.to_string().contains("eve"), "{refused}");
    // Straight into the banned role is not an add.
    assert!(
        room.state
            .authorize_add(&ctx, &client("alice", "1"), &user_id("dave"), Some(1))
            .is_err()
    );
    // A non-member client of a listed user asks: not a member, refused.
    assert!(
        room.state
            .authorize_add(&ctx, &client("mallory", "1"), &user_id("dave"), None)
            .is_err()
    );
}

#[test]
fn an_inactive_listed_user_gets_clients_back_only_from_those_who_may_add() {
    // carol is listed (member) but has no client (kicked earlier).
    let mut room = room();
    room.commit_ok(c("alice"), vec![add_users(c("alice"), &[("carol", 2)])]);
    let ctx = room.ctx();
    assert_eq!(
        room.state
            .authorize_add(&ctx, &client("bob", "1"), &user_id("carol"), None)
            .unwrap_err()
            .denial
            .rule(),
        RuleId::ADD_PARTICIPANT
    );
    room.state
        .authorize_add(&ctx, &client("alice", "1"), &user_id("carol"), None)
        .unwrap_or_else(|r| panic!("{r}"));
}
