//! Fixtures: rooms built from presets, users and clients by short name, and
//! builders for the proposals a hub would extract from OpenMLS.

use mimi_policy::{
    Actor, Change, Claims, Commit, Context, Member, PolicyEnvelope, Preset, Proposal, Rejection,
    RoomState, RoomTemplate, Staged, Summary,
};
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, ComponentId, ParticipantId, ParticipantListUpdate,
    UserRolePair, UserindexRolePair,
};
use mimi_proto::{ClientId, RoomId};

/// Test time: 2026-11-23.
pub const NOW: u64 = 1_795_000_000;

/// `alice` is `mimi://a.example/u/alice`; `bob@b.example` is `mimi://b.example/u/bob`.
pub fn user(name: &str) -> ParticipantId {
    let (local, domain) = name.split_once('@').unwrap_or((name, "a.example"));
    ParticipantId::parse(&format!("mimi://{domain}/u/{local}")).unwrap()
}

/// Client `dev` of a user: `mimi://a.example/d/alice/1`.
pub fn client(name: &str, dev: &str) -> ClientId {
    let (local, domain) = name.split_once('@').unwrap_or((name, "a.example"));
    ClientId::parse(&format!("mimi://{domain}/d/{local}/{dev}")).unwrap()
}

/// The member actor for client `1` of `name`.
pub fn c(name: &str) -> Actor {
    Actor::Client(client(name, "1"))
}

/// The member actor for client `dev` of `name`.
pub fn cd(name: &str, dev: &str) -> Actor {
    Actor::Client(client(name, dev))
}

/// A joiner (external commit) with client `1` of `name`.
pub fn joiner(name: &str) -> Actor {
    Actor::Joiner {
        client: client(name, "1"),
        claims: Claims::basic(user(name)),
        join_code: None,
    }
}

/// The hub as external sender, speaking as `mimi://hub.example/u/enforcer`.
pub fn hub() -> Actor {
    Actor::Server {
        sender_index: 0,
        claims: Claims::basic(ParticipantId::parse("mimi://hub.example/u/enforcer").unwrap()),
    }
}

pub fn room_id() -> RoomId {
    RoomId::parse("mimi://hub.example/r/test").unwrap()
}

/// A room under test: its state, the template it came from, the envelope.
pub struct Room {
    pub state: RoomState,
    pub template: RoomTemplate,
    pub envelope: PolicyEnvelope,
}

impl Room {
    /// A room from `preset` with `(user, role)` participants, each with client `1`.
    pub fn new(preset: Preset, participants: &[(&str, u32)]) -> Self {
        Self::custom(preset.template(), participants, |_| {})
    }

    /// Like [`Room::new`] from a (modified) template, with a hook to edit the
    /// components before creation.
    pub fn custom(
        template: RoomTemplate,
        participants: &[(&str, u32)],
        edit: impl FnOnce(&mut mimi_proto::components::RoomComponents),
    ) -> Self {
        let pairs = participants
            .iter()
            .map(|(n, r)| UserRolePair {
                user: user(n),
                role_index: *r,
            })
            .collect();
        let mut components = template.components(room_id(), pairs);
        edit(&mut components);
        let members: Vec<Member> = participants
            .iter()
            .filter(|(n, r)| *r != 1 && !n.starts_with("enforcer"))
            .map(|(n, _)| Member::basic(client(n, "1"), user(n)))
            .collect();
        let envelope = PolicyEnvelope::permissive();
        let state = RoomState::create(
            &Context::new(NOW, &envelope),
            Some(template.preset),
            components,
            members,
        )
        .unwrap_or_else(|d| panic!("fixture room does not satisfy its policy: {d}"));
        Self {
            state,
            template,
            envelope,
        }
    }

    pub fn ctx(&self) -> Context<'_> {
        Context::new(NOW, &self.envelope)
    }

    pub fn commit(&self, committer: Actor, proposals: Vec<Proposal>) -> Result<Staged, Rejection> {
        self.state.evaluate_commit(
            &self.ctx(),
            &Commit {
                committer,
                proposals,
            },
        )
    }

    pub fn propose(&self, proposals: Vec<Proposal>) -> Result<Staged, Rejection> {
        self.state.evaluate_proposals(&self.ctx(), &proposals)
    }

    /// Commits and applies, or panics with the denial.
    pub fn commit_ok(&mut self, committer: Actor, proposals: Vec<Proposal>) -> Summary {
        let staged = self
            .commit(committer, proposals)
            .unwrap_or_else(|r| panic!("{r}"));
        let summary = staged.summary().clone();
        self.state.apply(staged);
        summary
    }

    /// Evaluates a proposal bundle and applies it, or panics with the denial.
    pub fn propose_ok(&mut self, proposals: Vec<Proposal>) -> Summary {
        let staged = self.propose(proposals).unwrap_or_else(|r| panic!("{r}"));
        let summary = staged.summary().clone();
        self.state.apply(staged);
        summary
    }

    /// Index of `name` in the participant list.
    pub fn index(&self, name: &str) -> u32 {
        let u = user(name);
        self.state
            .participants()
            .position(|(p, _)| *p == u)
            .unwrap() as u32
    }
}

/// An AppDataUpdate proposal.
pub fn app(sender: Actor, id: ComponentId, bytes: Vec<u8>) -> Proposal {
    Proposal::new(
        sender,
        Change::AppData(AppDataUpdate {
            component_id: id,
            op: AppDataUpdateOperation::Update(bytes),
        }),
    )
}

/// An AppDataUpdate remove.
pub fn app_remove(sender: Actor, id: ComponentId) -> Proposal {
    Proposal::new(
        sender,
        Change::AppData(AppDataUpdate {
            component_id: id,
            op: AppDataUpdateOperation::Remove,
        }),
    )
}

/// A participant-list update.
pub fn list(sender: Actor, update: ParticipantListUpdate) -> Proposal {
    app(
        sender,
        ComponentId::PARTICIPANT_LIST,
        update.encode().unwrap(),
    )
}

/// Adds users with roles.
pub fn add_users(sender: Actor, users: &[(&str, u32)]) -> Proposal {
    list(
        sender,
        ParticipantListUpdate {
            added_participants: users
                .iter()
                .map(|(n, r)| UserRolePair {
                    user: user(n),
                    role_index: *r,
                })
                .collect(),
            ..ParticipantListUpdate::default()
        },
    )
}

/// Removes users by name (indices looked up in `room`).
pub fn remove_users(room: &Room, sender: Actor, users: &[&str]) -> Proposal {
    list(
        sender,
        ParticipantListUpdate {
            removed_indices: users.iter().map(|n| room.index(n)).collect(),
            ..ParticipantListUpdate::default()
        },
    )
}

/// Changes roles by name.
pub fn set_roles(room: &Room, sender: Actor, changes: &[(&str, u32)]) -> Proposal {
    list(
        sender,
        ParticipantListUpdate {
            changed_role_participants: changes
                .iter()
                .map(|(n, r)| UserindexRolePair {
                    user_index: room.index(n),
                    role_index: *r,
                })
                .collect(),
            ..ParticipantListUpdate::default()
        },
    )
}

/// An Add of client `dev` of `name` (basic credential).
pub fn add_client(sender: Actor, name: &str, dev: &str) -> Proposal {
    Proposal::new(
        sender,
        Change::add(client(name, dev), Claims::basic(user(name))),
    )
}

/// A Remove of client `dev` of `name`.
pub fn remove_client(sender: Actor, name: &str, dev: &str) -> Proposal {
    Proposal::new(sender, Change::remove(client(name, dev)))
}
