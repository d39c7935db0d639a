//! The numbered rule table. Every check the engine makes has an id here; the
//! same id appears in the comment at the check, in the doc of the [`Denial`]
//! variant it produces, and in `docs/policy-rules.md` with its test.
//!
//! [`Denial`]: crate::Denial

use std::fmt;

/// A rule id, shown as `POL-07`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u8);

/// One row of the rule table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The id.
    pub id: RuleId,
    /// Where the rule comes from (digest section, draft section, or "mimi").
    pub source: &'static str,
    /// What the rule requires.
    pub summary: &'static str,
}

impl RuleId {
    /// The table row for this id.
    pub fn info(self) -> Option<&'static RuleInfo> {
        RULES.iter().find(|r| r.id == self)
    }
}

impl fmt::Debug for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "POL-{:02}", self.0)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

macro_rules! rules {
    ($($n:literal $name:ident, $source:literal, $summary:literal;)*) => {
        impl RuleId {
            $(#[doc = $summary] pub const $name: Self = Self($n);)*
        }

        /// Every rule, by id.
        pub const RULES: &[RuleInfo] = &[$(RuleInfo { id: RuleId($n), source: $source, summary: $summary }),*];
    };
}

rules! {
    0 INCONSISTENT_STATE, "mimi", "A loaded room state is indexable: no user listed twice, no client twice.";
    1 UNKNOWN_COMPONENT, "PC A.1 (mls-extensions)", "An AppDataUpdate names a component the room logic interprets.";
    2 COMPONENT_OPERATION, "PC A.1 (mls-extensions)", "Per component: one remove or updates, never both; remove only what exists; the participant list, roles and metadata are never removed.";
    3 MALFORMED_COMPONENT, "PC A.1", "Update bytes decode as the component's update type.";
    4 ROLES_WITH_PARTICIPANT_CHANGE, "PC A.4; room-policy §3", "No roles_list update in a commit with any participant-list change.";
    5 PREAUTH_WITH_PARTICIPANT_CHANGE, "PC A.5; room-policy §4", "No preauth_list update in a commit with participant-list changes other than removals.";
    6 SECOND_METADATA_UPDATE, "PC A.2; protocol §7.6", "At most one room_metadata update per commit.";
    7 USER_TOUCHED_TWICE, "PC A.3; protocol §7.5", "Participant-list updates touch each user at most once per commit.";
    8 MALFORMED_DELTA, "PC A.3 reading", "Delta indices are in range and distinct; entries name a defined, non-zero role; added users are not listed yet.";
    9 EXITING_ACTOR, "PC A.9.1 step 6; protocol §5.3", "A removed, banned or departing user may only propose Removes of its own clients.";
    10 ADD_PARTICIPANT, "PC A.8 0x0000", "Adding another user needs canAddParticipant and ARC(R, 0->t).";
    11 ADD_OWN_CLIENT, "PC A.8 0x0002", "Adding one's own client needs a listed, non-banned user holding canAddOwnClient.";
    12 SELF_JOIN, "PC A.8 0x0004/0x0005/0x0009; A.5", "An unlisted user joins only by open join, first-match preauthorization or a valid join code.";
    13 BANNED_USER, "PC A.5", "A banned user never joins or adds clients, not even through preauthorization.";
    14 CHANGE_USER_ROLE, "PC A.8 0x000f", "Changing another user's role needs canChangeUserRole and ARC(R, f->t).";
    15 CHANGE_OWN_ROLE, "PC A.8 0x0010", "Changing one's own role needs canChangeOwnRole, into the first non-zero preauth match.";
    16 REMOVE_PARTICIPANT, "PC A.8 0x0001", "Removing another user needs canRemoveParticipant and ARC(R, f->0).";
    17 LEAVE, "PC A.8 0x0006", "Leaving needs canRemoveSelf and ARC(R, f->0).";
    18 REMOVE_OWN_CLIENT, "PC A.8 0x0003", "Removing one's own client (user stays listed) needs canRemoveOwnClient.";
    19 KICK, "PC A.8 0x000c", "Removing another listed user's clients (user stays listed) needs canKick.";
    20 BAN, "PC A.8 0x000a", "Banning needs canBan, a role 1 named \"banned\" and ARC(R, f->1).";
    21 UNBAN, "PC A.8 0x000b; mimi ban records", "Unbanning needs canUnBan and ARC(R, 1->t), or an expired ban record plus canAddParticipant and ARC(R, 0->t).";
    22 ROOM_METADATA, "PC A.2", "Each changed metadata field needs its canChangeRoomX; room_uri never changes.";
    23 ROLE_DEFINITIONS, "PC A.4, A.9.2", "A roles_list update needs canChangeRoleDefinitions and must be a valid role set for the current room.";
    24 PREAUTH_LIST, "PC A.5", "A preauth_list update needs canChangePreauthorizedUserList and names defined, non-zero roles.";
    25 BASE_POLICY, "PC A.6 reading", "A base_room_policy update needs canChangeRoomMembershipStyle and must hold for the current room.";
    26 POLICY_COMPONENT, "PC C.2.7 reading", "Other policy components (and mimi's org scopes) need canChangeRoleDefinitions; the franking agent is set once.";
    27 BAN_RECORDS, "mimi (issue #3)", "Ban records need canBan to write and canUnBan (or expiry) to drop; every record names a banned user.";
    28 REINIT, "PC A.8 0x0601", "A ReInit proposal needs canSendMLSReinitProposal.";
    29 COMMITTER, "RFC 9420; protocol §5.3", "A commit comes from a member (or an external joiner) that stays in the group and is not exiting.";
    30 CLIENT_WITHOUT_PARTICIPANT, "protocol §5.3, §7.5", "Every added client's user is listed, not banned, named by its credential, and listed before or with the Add.";
    31 ROLE_PARTICIPANTS, "PC A.4", "Per role, min/max participants hold (min for roles left, max for roles entered).";
    32 ROLE_ACTIVE_PARTICIPANTS, "PC A.4", "Per role, min/max active participants hold (min for roles left, max for roles entered).";
    33 FIXED_MEMBERSHIP, "PC A.6", "fixed_membership: no users added or removed after creation.";
    34 MULTI_DEVICE, "PC A.6", "multi_device false: at most one client per user.";
    35 MAX_CLIENTS, "PC A.6", "The group never grows past max_clients.";
    36 MAX_USERS, "PC A.6", "Non-banned participants never grow past max_users.";
    37 CLIENTS_LEFT, "protocol §5.3; arch order of operations", "After a commit no member client belongs to an unlisted or banned user.";
    38 OUTSIDE_ORGANISATION, "mimi (multi-org)", "Holders of an org-scoped role act only on users of their own organisation.";
    39 OUTSIDE_ENVELOPE, "arch §4.4 (mimi)", "Room creation and policy changes stay inside the hub operator's policy envelope.";
    40 PSEUDONYMS, "PC A.6", "Pseudonymous participants only where pseudonyms_allowed.";
    41 PARENT_DEPENDANT, "PC A.6", "parent_dependant: every participant is a participant of the parent room.";
    42 UNKNOWN_ACTOR, "RFC 9420", "Proposal senders and committers are known: member clients, listed external senders or new members.";
    43 MEMBERSHIP_MISMATCH, "RFC 9420", "Adds name non-members, Removes name members, each client at most once.";
    44 SEND_MESSAGE, "PC A.9.2 submitMessage", "A sender is listed, not banned or exiting, active, and holds canSendMessage.";
    45 RECEIVE_MESSAGE, "PC A.9.2 fanout", "Application messages fan out only to users whose role holds canReceiveMessage.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_and_sorted() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(usize::from(rule.id.0), i);
        }
        assert_eq!(format!("{}", RuleId::USER_TOUCHED_TWICE), "POL-07");
        assert_eq!(RuleId::KICK.info().map(|i| i.source), Some("PC A.8 0x000c"));
    }
}
