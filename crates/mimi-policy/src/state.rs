//! The room state the engine evaluates against: the decoded components plus
//! the MLS membership (client → user, with claims), indexed so that one commit
//! costs time in proportion to its size, not the room's.
//!
//! Users are interned as small integer keys; the participant list is a vector
//! of `(key, role)` in wire order and per-user data lives in vectors indexed by
//! key. Evaluating a commit copies those flat vectors (a few kilobytes for a
//! 1000-user room) instead of cloning identifiers, and the big maps (users,
//! members, components) are shared behind `Arc`s until a staged change is
//! applied.
//!
//! A hub keeps two of these per room (protocol-06 §7.1): the *committed* state
//! (the GroupContext) and the *effective* state (committed plus accepted pending
//! proposals). Only the effective state has pending bookkeeping: removed or
//! banned users whose clients are still members ("exiting"), pending Removes,
//! and what the epoch's proposals already touched.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use mimi_proto::ClientId;
use mimi_proto::components::{
    BANNED_ROLE, BaseRoomPolicy, ComponentId, ParticipantId, ParticipantListData, RoleData,
    RoomComponents, UserRolePair,
};

use crate::actor::ActorId;
use crate::claims::Claims;
use crate::denial::Denial;

/// An interned user.
pub(crate) type UserKey = u32;

/// `slot` value of a user who is not in the participant list.
pub(crate) const NOT_LISTED: u32 = u32::MAX;

/// A member client and the claims of its credential (`claims.user()` is its user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The client.
    pub client: ClientId,
    /// Its credential's claims.
    pub claims: Claims,
}

impl Member {
    /// A member with a basic credential naming `user`.
    pub fn basic(client: ClientId, user: ParticipantId) -> Self {
        Self {
            client,
            claims: Claims::basic(user),
        }
    }
}

/// One participant-list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) user: UserKey,
    pub(crate) role: u32,
}

/// The user interner, append-only. Keys of users who left stay allocated; a hub
/// that reloads state per request (the default) never accumulates many.
#[derive(Debug, Clone, Default)]
pub(crate) struct Users {
    pub(crate) ids: Vec<ParticipantId>,
    pub(crate) keys: HashMap<ParticipantId, UserKey>,
    /// Organisations that differ from the URI domain (explicit credential claims).
    pub(crate) orgs: HashMap<UserKey, Box<str>>,
}

impl Users {
    fn intern(&mut self, id: &ParticipantId) -> UserKey {
        if let Some(k) = self.keys.get(id) {
            return *k;
        }
        let key = self.ids.len() as UserKey;
        self.ids.push(id.clone());
        self.keys.insert(id.clone(), key);
        key
    }
}

/// A member client's record.
#[derive(Debug, Clone)]
pub(crate) struct MemberRecord {
    pub(crate) user: UserKey,
    pub(crate) claims: Arc<Claims>,
}

/// What accepted-but-uncommitted proposals did this epoch. Empty in a
/// committed state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pending {
    /// Clients with an accepted Remove; still MLS members until the commit.
    pub(crate) removals: HashSet<ClientId>,
    /// Users touched by participant-list updates (POL-07).
    pub(crate) touched: HashSet<UserKey>,
    /// room_metadata updates so far (POL-06).
    pub(crate) metadata_updates: u32,
    /// Who updated roles_list, if anyone (POL-04).
    pub(crate) roles_updated: Option<ActorId>,
    /// Who updated preauth_list, if anyone (POL-05).
    pub(crate) preauth_updated: Option<ActorId>,
    /// Any participant-list change (POL-04).
    pub(crate) list_changed: bool,
    /// A participant-list add or role change (POL-05).
    pub(crate) list_changed_beyond_removals: bool,
    /// Per component: true once removed, false once updated (POL-02).
    pub(crate) component_ops: HashMap<ComponentId, bool>,
}

/// Participant and active-participant counts per role, and non-banned users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoleCounts {
    /// `(role, participants, active participants)`, ascending by role.
    pub(crate) per_role: Vec<(u32, u32, u32)>,
    pub(crate) non_banned: u32,
}

impl RoleCounts {
    pub(crate) fn compute(list: &[Entry], clients: &[u32]) -> Self {
        let mut per_role: Vec<(u32, u32, u32)> = Vec::new();
        let mut non_banned = 0;
        for e in list {
            let active = u32::from(clients.get(e.user as usize).copied().unwrap_or(0) > 0);
            match per_role.iter_mut().find(|(r, _, _)| *r == e.role) {
                Some(row) => {
                    row.1 += 1;
                    row.2 += active;
                }
                None => per_role.push((e.role, 1, active)),
            }
            if e.role != BANNED_ROLE {
                non_banned += 1;
            }
        }
        per_role.sort_unstable_by_key(|r| r.0);
        Self {
            per_role,
            non_banned,
        }
    }

    pub(crate) fn of(&self, role: u32) -> (u32, u32) {
        self.per_role
            .binary_search_by_key(&role, |r| r.0)
            .ok()
            .and_then(|i| self.per_role.get(i))
            .map_or((0, 0), |r| (r.1, r.2))
    }
}

/// A room's state, indexed for policy evaluation.
#[derive(Debug, Clone)]
pub struct RoomState {
    pub(crate) users: Arc<Users>,
    pub(crate) list: Vec<Entry>,
    /// By user key: position in `list`, or [`NOT_LISTED`].
    pub(crate) slot: Vec<u32>,
    /// By user key: member clients not pending removal.
    pub(crate) clients: Vec<u32>,
    pub(crate) members: Arc<HashMap<ClientId, MemberRecord>>,
    /// Every component except the participant list, which lives in `list`.
    pub(crate) components: Arc<RoomComponents>,
    pub(crate) pending: Pending,
    pub(crate) counts: RoleCounts,
    /// Member clients not pending removal.
    pub(crate) member_count: u32,
}

static NO_ROLES: LazyLock<RoleData> = LazyLock::new(RoleData::default);
static DEFAULT_BASE: LazyLock<BaseRoomPolicy> = LazyLock::new(BaseRoomPolicy::default);

impl RoomState {
    /// Indexes a committed state as loaded: the dictionary's components and the
    /// group's members. No policy is checked (it was checked when the state was
    /// reached); use [`RoomState::create`](crate::RoomState::create) for a new room.
    ///
    /// # Errors
    /// [`Denial::InconsistentState`] if a user is listed twice or a client given twice.
    pub fn from_committed(
        mut components: RoomComponents,
        members: Vec<Member>,
    ) -> Result<Self, Denial> {
        let list_data = components.participant_list.take().unwrap_or_default();
        let mut users = Users::default();
        let mut list = Vec::with_capacity(list_data.participants.len());
        for p in &list_data.participants {
            let before = users.ids.len();
            let key = users.intern(&p.user);
            if (key as usize) < before {
                return Err(Denial::InconsistentState {
                    user: Some(p.user.clone()),
                    client: None,
                });
            }
            list.push(Entry {
                user: key,
                role: p.role_index,
            });
        }
        let mut member_map = HashMap::with_capacity(members.len());
        for m in members {
            let key = users.intern(m.claims.user());
            if m.claims.organisation() != m.claims.user().domain() {
                users.orgs.insert(key, m.claims.organisation().into());
            }
            let record = MemberRecord {
                user: key,
                claims: Arc::new(m.claims),
            };
            if member_map.insert(m.client.clone(), record).is_some() {
                return Err(Denial::InconsistentState {
                    user: None,
                    client: Some(m.client),
                });
            }
        }
        let mut slot = vec![NOT_LISTED; users.ids.len()];
        for (i, e) in list.iter().enumerate() {
            slot[e.user as usize] = i as u32;
        }
        let mut clients = vec![0u32; users.ids.len()];
        for r in member_map.values() {
            clients[r.user as usize] += 1;
        }
        let counts = RoleCounts::compute(&list, &clients);
        Ok(Self {
            member_count: member_map.len() as u32,
            users: Arc::new(users),
            list,
            slot,
            clients,
            members: Arc::new(member_map),
            components: Arc::new(components),
            pending: Pending::default(),
            counts,
        })
    }

    /// The participant list in wire order, as `(user, role)`.
    pub fn participants(&self) -> impl ExactSizeIterator<Item = (&ParticipantId, u32)> {
        self.list
            .iter()
            .map(|e| (&self.users.ids[e.user as usize], e.role))
    }

    /// Number of participant-list entries.
    pub fn participant_count(&self) -> usize {
        self.list.len()
    }

    /// The user's role, or `None` if not listed.
    pub fn role_of(&self, user: &ParticipantId) -> Option<u32> {
        let key = *self.users.keys.get(user)?;
        let pos = *self.slot.get(key as usize)?;
        self.list.get(pos as usize).map(|e| e.role)
    }

    /// Member clients of `user` that are not pending removal.
    pub fn client_count(&self, user: &ParticipantId) -> u32 {
        self.users
            .keys
            .get(user)
            .and_then(|k| self.clients.get(*k as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Member clients not pending removal.
    pub fn member_count(&self) -> u32 {
        self.member_count
    }

    /// The claims of a member client (including pending adds and removals).
    pub fn member(&self, client: &ClientId) -> Option<&Claims> {
        self.members.get(client).map(|r| &*r.claims)
    }

    /// Every member client and its user (including pending adds and removals).
    pub fn members(&self) -> impl Iterator<Item = (&ClientId, &ParticipantId)> {
        self.members
            .iter()
            .map(|(c, r)| (c, &self.users.ids[r.user as usize]))
    }

    /// True if a Remove of `client` has been accepted but not committed.
    pub fn is_pending_removal(&self, client: &ClientId) -> bool {
        self.pending.removals.contains(client)
    }

    /// True if the user is unlisted or banned yet still has member clients: the
    /// "exiting" state between a removal proposal and the commit that removes
    /// the clients. The next commit must remove them (POL-37).
    pub fn is_exiting(&self, user: &ParticipantId) -> bool {
        let unlisted_or_banned = self.role_of(user).is_none_or(|r| r == BANNED_ROLE);
        unlisted_or_banned
            && self
                .users
                .keys
                .get(user)
                .is_some_and(|k| self.still_has_clients(*k))
    }

    /// Users who are exiting (see [`RoomState::is_exiting`]), sorted.
    pub fn exiting_users(&self) -> Vec<&ParticipantId> {
        let mut out: Vec<&ParticipantId> = (0..self.users.ids.len() as UserKey)
            .filter(|k| {
                let gone = self.slot.get(*k as usize).is_none_or(|p| {
                    self.list
                        .get(*p as usize)
                        .is_none_or(|e| e.role == BANNED_ROLE)
                });
                gone && self.still_has_clients(*k)
            })
            .map(|k| &self.users.ids[k as usize])
            .collect();
        out.sort();
        out
    }

    /// True if the group still contains a client of `key`, counting clients
    /// whose Remove is pending.
    fn still_has_clients(&self, key: UserKey) -> bool {
        self.clients.get(key as usize).is_some_and(|n| *n > 0)
            || self
                .pending
                .removals
                .iter()
                .any(|c| self.members.get(c).is_some_and(|r| r.user == key))
    }

    /// The roles (empty if the room has none).
    pub fn roles(&self) -> &RoleData {
        self.components.roles.as_ref().unwrap_or(&NO_ROLES)
    }

    /// The base policy (the draft's defaults if the room has none).
    pub fn base_policy(&self) -> &BaseRoomPolicy {
        self.components
            .base_policy
            .as_ref()
            .unwrap_or(&DEFAULT_BASE)
    }

    /// Every component but the participant list.
    pub fn components(&self) -> &RoomComponents {
        &self.components
    }

    /// The whole state as components, participant list included.
    pub fn to_components(&self) -> RoomComponents {
        let mut out = (*self.components).clone();
        out.participant_list = Some(ParticipantListData {
            participants: self
                .participants()
                .map(|(user, role_index)| UserRolePair {
                    user: user.clone(),
                    role_index,
                })
                .collect(),
        });
        out
    }

    /// The organisation of a user (explicit credential claim, else domain).
    pub fn organisation_of<'s>(&'s self, user: &'s ParticipantId) -> &'s str {
        self.users
            .keys
            .get(user)
            .and_then(|k| self.users.orgs.get(k))
            .map_or(user.domain(), |o| o)
    }

    pub(crate) fn user_id(&self, key: UserKey) -> &ParticipantId {
        &self.users.ids[key as usize]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn user(s: &str) -> ParticipantId {
        ParticipantId::parse(s).unwrap()
    }

    #[test]
    fn rejects_duplicate_participants_and_clients() {
        let pair = UserRolePair {
            user: user("mimi://a.example/u/a"),
            role_index: 2,
        };
        let c = RoomComponents {
            participant_list: Some(ParticipantListData {
                participants: vec![pair.clone(), pair],
            }),
            ..RoomComponents::default()
        };
        assert!(matches!(
            RoomState::from_committed(c, vec![]),
            Err(Denial::InconsistentState { user: Some(_), .. })
        ));
        let client = ClientId::parse("mimi://a.example/d/a/1").unwrap();
        let m = Member::basic(client, user("mimi://a.example/u/a"));
        assert!(matches!(
            RoomState::from_committed(RoomComponents::default(), vec![m.clone(), m]),
            Err(Denial::InconsistentState {
                client: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn indexes_roles_clients_and_exiting_users() {
        let c = RoomComponents {
            participant_list: Some(ParticipantListData {
                participants: vec![
                    UserRolePair {
                        user: user("mimi://a.example/u/a"),
                        role_index: 2,
                    },
                    UserRolePair {
                        user: user("mimi://a.example/u/b"),
                        role_index: 1,
                    },
                ],
            }),
            ..RoomComponents::default()
        };
        let members = vec![
            Member::basic(
                ClientId::parse("mimi://a.example/d/a/1").unwrap(),
                user("mimi://a.example/u/a"),
            ),
            Member::basic(
                ClientId::parse("mimi://a.example/d/b/1").unwrap(),
                user("mimi://a.example/u/b"),
            ),
        ];
        let s = RoomState::from_committed(c, members).unwrap();
        assert_eq!(s.role_of(&user("mimi://a.example/u/a")), Some(2));
        assert_eq!(s.role_of(&user("mimi://a.example/u/z")), None);
        assert_eq!(s.client_count(&user("mimi://a.example/u/a")), 1);
        assert!(
            s.is_exiting(&user("mimi://a.example/u/b")),
            "banned with a client left"
        );
        assert_eq!(s.exiting_users(), vec![&user("mimi://a.example/u/b")]);
        assert_eq!(s.counts.of(2), (1, 1));
        assert_eq!(s.counts.non_banned, 1);
        assert_eq!(
            s.to_components()
                .participant_list
                .unwrap()
                .participants
                .len(),
            2
        );
    }
}
