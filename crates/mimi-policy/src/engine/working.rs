//! The working copy a change set is evaluated on: flat per-user vectors copied
//! from the base state, new users and member changes on the side, and
//! components copied only when one is written. Dropping it discards
//! everything; nothing touches the base state until a staged result is applied.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use mimi_proto::ClientId;
use mimi_proto::components::{
    BANNED_ROLE, BANNED_ROLE_NAME, BanList, BaseRoomPolicy, CapabilityType, ComponentId,
    JoinLinksData, OrgScopedRoles, ParticipantId, PreAuthData, Role, RoleData, RoomComponents,
};

use super::{Context, Summary};
use crate::actor::{Actor, ActorId};
use crate::claims::Claims;
use crate::denial::{Denial, Reason};
use crate::state::{Entry, MemberRecord, NOT_LISTED, Pending, RoomState, UserKey};

static NO_ROLES: LazyLock<RoleData> = LazyLock::new(RoleData::default);
static DEFAULT_BASE: LazyLock<BaseRoomPolicy> = LazyLock::new(BaseRoomPolicy::default);

/// What kind of actor a proposal sender is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Client,
    Server,
    Joiner,
}

/// A sender resolved against the base state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) kind: Kind,
    /// The participant the actor speaks for.
    pub(crate) identity: &'a ParticipantId,
    pub(crate) claims: &'a Claims,
    /// The acting client (member or joiner).
    pub(crate) client: Option<&'a ClientId>,
    /// Role at the start of the change set (MLS applies Adds and Removes first).
    pub(crate) start_role: u32,
}

impl Resolved<'_> {
    pub(crate) fn id(&self) -> ActorId {
        self.actor.id()
    }
}

/// The change set's working state.
#[derive(Debug)]
pub(crate) struct Working<'a> {
    pub(crate) base: &'a RoomState,
    pub(crate) ctx: &'a Context<'a>,
    pub(crate) new_users: Vec<ParticipantId>,
    pub(crate) new_keys: HashMap<ParticipantId, UserKey>,
    pub(crate) new_orgs: Vec<(UserKey, Box<str>)>,
    pub(crate) list: Vec<Entry>,
    pub(crate) slot: Vec<u32>,
    pub(crate) clients: Vec<u32>,
    pub(crate) member_count: u32,
    pub(crate) added: Vec<(ClientId, MemberRecord)>,
    pub(crate) removed: HashSet<ClientId>,
    /// Components, copied on first write.
    pub(crate) components: Option<RoomComponents>,
    pub(crate) pending: Pending,
    /// Users added to the list in this change set.
    pub(crate) added_users: HashSet<UserKey>,
    /// Users removed or banned in this change set.
    pub(crate) departed: Vec<UserKey>,
    /// Users who gained clients in this change set.
    pub(crate) grew: Vec<UserKey>,
    /// Organisations of users being added, from their clients' credentials.
    pub(crate) add_orgs: HashMap<&'a ParticipantId, &'a str>,
    pub(crate) roles_changed: bool,
    pub(crate) base_changed: bool,
    pub(crate) bans_touched: bool,
    /// Components written by this change set, in first-write order.
    pub(crate) updated: Vec<ComponentId>,
    pub(crate) summary: Summary,
    /// The actor of the change being evaluated; post-checks name it.
    pub(crate) last_actor: Option<&'a Actor>,
}

impl<'a> Working<'a> {
    pub(crate) fn new(base: &'a RoomState, ctx: &'a Context<'a>) -> Self {
        Self {
            base,
            ctx,
            new_users: Vec::new(),
            new_keys: HashMap::new(),
            new_orgs: Vec::new(),
            list: base.list.clone(),
            slot: base.slot.clone(),
            clients: base.clients.clone(),
            member_count: base.member_count,
            added: Vec::new(),
            removed: HashSet::new(),
            components: None,
            pending: base.pending.clone(),
            added_users: HashSet::new(),
            departed: Vec::new(),
            grew: Vec::new(),
            add_orgs: HashMap::new(),
            roles_changed: false,
            base_changed: false,
            bans_touched: false,
            updated: Vec::new(),
            summary: Summary::default(),
            last_actor: None,
        }
    }

    // ---- components -------------------------------------------------------

    pub(crate) fn comps(&self) -> &RoomComponents {
        self.components.as_ref().unwrap_or(&self.base.components)
    }

    pub(crate) fn comps_mut(&mut self, id: ComponentId) -> &mut RoomComponents {
        if !self.updated.contains(&id) {
            self.updated.push(id);
        }
        self.components
            .get_or_insert_with(|| (*self.base.components).clone())
    }

    pub(crate) fn roles(&self) -> &RoleData {
        self.comps().roles.as_ref().unwrap_or(&NO_ROLES)
    }

    pub(crate) fn role(&self, index: u32) -> Option<&Role> {
        self.roles().role(index)
    }

    pub(crate) fn base_policy(&self) -> &BaseRoomPolicy {
        self.comps().base_policy.as_ref().unwrap_or(&DEFAULT_BASE)
    }

    pub(crate) fn preauth(&self) -> Option<&PreAuthData> {
        self.comps().preauth.as_ref()
    }

    pub(crate) fn bans(&self) -> Option<&BanList> {
        self.comps().bans.as_ref()
    }

    pub(crate) fn join_links(&self) -> Option<&JoinLinksData> {
        self.comps().join_links.as_ref()
    }

    pub(crate) fn org_scoped(&self) -> Option<&OrgScopedRoles> {
        self.comps().org_scoped_roles.as_ref()
    }

    /// Role 1 exists and is named exactly "banned" (room-policy-03 §3).
    pub(crate) fn banned_role_ok(&self) -> bool {
        self.role(BANNED_ROLE)
            .is_some_and(|r| r.role_name.as_str() == BANNED_ROLE_NAME)
    }

    // ---- users ------------------------------------------------------------

    pub(crate) fn key_of(&self, id: &ParticipantId) -> Option<UserKey> {
        self.base
            .users
            .keys
            .get(id)
            .or_else(|| self.new_keys.get(id))
            .copied()
    }

    pub(crate) fn intern(&mut self, id: &ParticipantId) -> UserKey {
        if let Some(k) = self.key_of(id) {
            return k;
        }
        let key = (self.base.users.ids.len() + self.new_users.len()) as UserKey;
        self.new_users.push(id.clone());
        self.new_keys.insert(id.clone(), key);
        self.slot.push(NOT_LISTED);
        self.clients.push(0);
        key
    }

    pub(crate) fn user_id(&self, key: UserKey) -> &ParticipantId {
        let k = key as usize;
        let base_len = self.base.users.ids.len();
        if k < base_len {
            &self.base.users.ids[k]
        } else {
            &self.new_users[k - base_len]
        }
    }

    /// The user's current role, `None` if unlisted.
    pub(crate) fn listed_role(&self, key: UserKey) -> Option<u32> {
        let pos = *self.slot.get(key as usize)?;
        self.list.get(pos as usize).map(|e| e.role)
    }

    /// The user's role at the start of the change set.
    pub(crate) fn start_role_of(&self, key: UserKey) -> Option<u32> {
        let pos = *self.base.slot.get(key as usize)?;
        self.base.list.get(pos as usize).map(|e| e.role)
    }

    pub(crate) fn organisation(&self, key: UserKey) -> &str {
        if let Some((_, org)) = self.new_orgs.iter().find(|(k, _)| *k == key) {
            return org;
        }
        if let Some(org) = self.base.users.orgs.get(&key) {
            return org;
        }
        let id = self.user_id(key);
        self.add_orgs.get(id).copied().unwrap_or(id.domain())
    }

    /// The role of the first preauthorization entry `claims` match (room-policy-03 §4).
    pub(crate) fn preauth_match(&self, claims: &Claims) -> Option<u32> {
        self.preauth()?
            .preauthorized_entries
            .iter()
            .find(|e| claims.matches(&e.claimset))
            .map(|e| e.target_role.role_index)
    }

    // ---- actors -----------------------------------------------------------

    /// Resolves a sender against the base state (POL-42).
    pub(crate) fn resolve(&self, actor: &'a Actor) -> Result<Resolved<'a>, Denial> {
        let base = self.base;
        match actor {
            Actor::Client(client) => {
                // POL-42: a member sender must be a member (possibly one with a
                // pending Remove, which may still remove its own clients).
                let record = base
                    .members
                    .get(client)
                    .ok_or_else(|| Denial::UnknownActor {
                        actor: actor.id(),
                        reason: Reason::NotAMember,
                    })?;
                let identity = base.user_id(record.user);
                Ok(Resolved {
                    actor,
                    kind: Kind::Client,
                    identity,
                    claims: &record.claims,
                    client: Some(client),
                    start_role: self.start_role_of(record.user).unwrap_or(0),
                })
            }
            Actor::Server { claims, .. } => {
                let start_role = self
                    .key_of(claims.user())
                    .and_then(|k| self.start_role_of(k))
                    .or_else(|| self.preauth_match(claims))
                    .unwrap_or(0);
                Ok(Resolved {
                    actor,
                    kind: Kind::Server,
                    identity: claims.user(),
                    claims,
                    client: None,
                    start_role,
                })
            }
            Actor::Joiner { client, claims, .. } => Ok(Resolved {
                actor,
                kind: Kind::Joiner,
                identity: claims.user(),
                claims,
                client: Some(client),
                start_role: self
                    .key_of(claims.user())
                    .and_then(|k| self.start_role_of(k))
                    .unwrap_or(0),
            }),
        }
    }

    /// The actor's role now: its listed role; for an unlisted server its first
    /// preauthorization match; otherwise role 0.
    pub(crate) fn current_role(&self, r: &Resolved<'_>) -> u32 {
        match self.key_of(r.identity).and_then(|k| self.listed_role(k)) {
            Some(role) => role,
            None if r.kind == Kind::Server => self.preauth_match(r.claims).unwrap_or(0),
            None => 0,
        }
    }

    /// True if the actor is leaving, removed or banned: a member client whose
    /// user is unlisted or banned, or whose own Remove is pending (POL-09).
    pub(crate) fn is_exiting(&self, r: &Resolved<'_>) -> bool {
        if r.kind != Kind::Client {
            return false;
        }
        let pending = r
            .client
            .is_some_and(|c| self.base.pending.removals.contains(c) || self.removed.contains(c));
        let status = self.key_of(r.identity).and_then(|k| self.listed_role(k));
        pending || status.is_none_or(|role| role == BANNED_ROLE)
    }

    /// Whether `role` holds `capability`.
    pub(crate) fn has(&self, role: u32, capability: CapabilityType) -> bool {
        self.role(role).is_some_and(|r| r.has(capability))
    }

    /// `Ok` if `role` holds `capability`, else the reason.
    pub(crate) fn need(&self, role: u32, capability: CapabilityType) -> Result<(), Reason> {
        if self.has(role, capability) {
            Ok(())
        } else {
            Err(Reason::MissingCapability(capability))
        }
    }

    /// `Ok` if `role`'s matrix allows `from -> to` (ARC), else the reason.
    pub(crate) fn arc(&self, role: u32, from: u32, to: u32) -> Result<(), Reason> {
        if self.role(role).is_some_and(|r| r.may_change(from, to)) {
            Ok(())
        } else {
            Err(Reason::TransitionNotAuthorized { from, to })
        }
    }

    /// POL-38: an actor whose role is org-scoped may only act on users of its
    /// own organisation.
    pub(crate) fn check_org(
        &self,
        r: &Resolved<'_>,
        actor_role: u32,
        target: UserKey,
    ) -> Result<(), Denial> {
        if !self.org_scoped().is_some_and(|s| s.contains(actor_role)) {
            return Ok(());
        }
        let actor_org = r.claims.organisation();
        let target_org = self.organisation(target);
        if actor_org == target_org {
            Ok(())
        } else {
            Err(Denial::OutsideOrganisation {
                actor: r.id(),
                target: self.user_id(target).clone(),
                actor_org: actor_org.to_owned(),
                target_org: target_org.to_owned(),
            })
        }
    }

    /// A member of the working group (base members not removed, plus added ones).
    pub(crate) fn member(&self, client: &ClientId) -> Option<&MemberRecord> {
        if self.removed.contains(client) || self.base.pending.removals.contains(client) {
            return None;
        }
        self.base
            .members
            .get(client)
            .or_else(|| self.added.iter().find(|(c, _)| c == client).map(|(_, r)| r))
    }

    /// Records a member client for `key`.
    pub(crate) fn add_member(&mut self, client: ClientId, key: UserKey, claims: &Claims) {
        if claims.organisation() != claims.user().domain()
            && !self.base.users.orgs.contains_key(&key)
        {
            self.new_orgs.push((key, claims.organisation().into()));
        }
        self.added.push((
            client,
            MemberRecord {
                user: key,
                claims: Arc::new(claims.clone()),
            },
        ));
        self.clients[key as usize] += 1;
        self.member_count += 1;
        if !self.grew.contains(&key) {
            self.grew.push(key);
        }
    }
}
