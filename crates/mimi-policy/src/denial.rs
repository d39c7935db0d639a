//! Why a change was refused: one [`Denial`] variant per rule, each naming the
//! actor, the target and the capability or constraint that failed, and the one
//! place that maps denials to the protocol's response codes.

use mimi_proto::components::{CapabilityType, ComponentId, ParticipantId};
use mimi_proto::{ClientId, DecodeError};

use crate::actor::ActorId;
use crate::envelope::EnvelopeBound;
use crate::rules::RuleId;

/// A refused change set, with the index of the proposal (in the input order)
/// that the denial is about, when it is about one. The hub turns that index
/// into the `ProposalRef` of an `invalidProposal` response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{denial}")]
pub struct Rejection {
    /// What failed.
    pub denial: Denial,
    /// The offending proposal's position in the input, if one is to blame.
    pub proposal: Option<usize>,
}

impl Rejection {
    pub(crate) fn at(proposal: usize, denial: Denial) -> Self {
        Self {
            denial,
            proposal: Some(proposal),
        }
    }

    pub(crate) fn whole(denial: Denial) -> Self {
        Self {
            denial,
            proposal: None,
        }
    }
}

/// `UpdateRoomResponse` codes a denial maps to (protocol-06 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolCode {
    /// `invalidProposal(3)`: a proposal cannot be applied at all.
    InvalidProposal,
    /// `notAllowed(2)`: a well-formed change the room's policy refuses.
    NotAllowed,
}

/// Which side of a constraint failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// A minimum.
    Min,
    /// A maximum.
    Max,
}

/// The specific reason inside a denial.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The actor's role lacks this capability.
    MissingCapability(CapabilityType),
    /// The actor's role has no `authorized_role_changes` entry `from -> to`.
    TransitionNotAuthorized {
        /// The target's current role.
        from: u32,
        /// The requested role.
        to: u32,
    },
    /// This operation may not target the actor itself.
    TargetIsActor,
    /// The user is not in the participant list.
    NotListed,
    /// The user is banned.
    Banned,
    /// Role 1 is missing or not named exactly "banned".
    NoBannedRole,
    /// The ban has no record, or its record has not expired.
    BanNotExpired,
    /// Preauthorization gives another role (or none) than the one requested.
    PreauthMismatch {
        /// The first matching entry's role, if any entry matched.
        matched: Option<u32>,
    },
    /// Neither open join, preauthorization nor a join code admits the user.
    NoJoinPath,
    /// The join code is not one of the room's active join links.
    InvalidJoinCode,
    /// The role index is not defined in `roles_list`.
    RoleUndefined(u32),
    /// A participant-list entry names role 0.
    RoleZero,
    /// The user is already listed, with this role.
    AlreadyListed(u32),
    /// A delta index is past the end of the list.
    IndexOutOfRange {
        /// The index.
        index: u32,
        /// The list length.
        len: u32,
    },
    /// A delta names the same index twice.
    DuplicateIndex(u32),
    /// The client belongs to another user.
    NotOwnClient,
    /// `room_uri` differs from the current one.
    RoomUriChanged,
    /// Two roles share an index.
    DuplicateRole(u32),
    /// A role holds a capability it may not hold (canOpenJoin off role 0,
    /// canAddParticipant in a fixed-membership room).
    ForbiddenCapability {
        /// The role.
        role: u32,
        /// The capability.
        capability: CapabilityType,
    },
    /// A transition matrix names a role that is not defined.
    UndefinedRoleReference {
        /// The role holding the matrix.
        role: u32,
        /// The undefined role it names.
        referenced: u32,
    },
    /// A role's minimum exceeds its maximum.
    UnsatisfiableConstraint(u32),
    /// `parent_dependant` without a parent room.
    ParentRoomMissing,
    /// The franking agent is already set; rotate it with a ReInit.
    FrankingAgentAlreadySet,
    /// A ban record names a user who is not banned.
    NotBanned,
    /// The credential names another user than the client id.
    CredentialMismatch,
    /// External senders cannot commit.
    ServerCannotCommit,
    /// The actor is not a member of the group.
    NotAMember,
    /// The commit removes its own committer.
    RemovesItself,
    /// The actor's user is leaving, removed or banned.
    Exiting,
    /// The client is already a member.
    AlreadyMember,
    /// The client is removed twice.
    RemovedTwice,
    /// A component gets both updates and a remove, or two removes.
    UpdateAndRemove,
    /// A remove of a component that is not present.
    RemoveAbsent,
    /// A remove of a component the room cannot do without.
    RemoveRequired,
    /// The user has no client in the group.
    NotActive,
    /// The parent room's participants were not supplied.
    ParentUnknown,
    /// The user is not a participant of the parent room.
    NotInParent,
}

/// A refusal. Each variant is one rule of [`crate::RULES`]; its doc names the id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// POL-00: the loaded state cannot be indexed.
    #[error("POL-00 inconsistent room state: {user:?} listed twice or client {client:?} twice")]
    InconsistentState {
        /// A user listed twice.
        user: Option<ParticipantId>,
        /// A client given twice.
        client: Option<ClientId>,
    },
    /// POL-01: an AppDataUpdate names a component nobody interprets.
    #[error("POL-01 {actor} updated unknown component {component}")]
    UnknownComponent {
        /// Sender.
        actor: ActorId,
        /// The component.
        component: ComponentId,
    },
    /// POL-02: update/remove mixing, remove of an absent or required component.
    #[error("POL-02 {actor}: invalid operation on {component}: {reason:?}")]
    ComponentOperation {
        /// Sender.
        actor: ActorId,
        /// The component.
        component: ComponentId,
        /// What was wrong.
        reason: Reason,
    },
    /// POL-03: update bytes do not decode.
    #[error("POL-03 {actor} sent a malformed {component} update: {error}")]
    MalformedComponent {
        /// Sender.
        actor: ActorId,
        /// The component.
        component: ComponentId,
        /// The decoding error.
        error: DecodeError,
    },
    /// POL-04: roles_list update together with a participant-list change.
    #[error("POL-04 {actor}: roles_list update in a commit with participant-list changes")]
    RolesWithParticipantChange {
        /// Sender of the roles update.
        actor: ActorId,
    },
    /// POL-05: preauth_list update with participant-list changes other than removals.
    #[error(
        "POL-05 {actor}: preauth_list update in a commit with participant adds or role changes"
    )]
    PreauthWithParticipantChange {
        /// Sender of the preauth update.
        actor: ActorId,
    },
    /// POL-06: a second room_metadata update in one commit.
    #[error("POL-06 {actor}: second room_metadata update in one commit")]
    SecondMetadataUpdate {
        /// Sender of the second update.
        actor: ActorId,
    },
    /// POL-07: a user touched twice by participant-list updates.
    #[error("POL-07 {actor}: {target} is touched twice by participant-list updates")]
    UserTouchedTwice {
        /// Sender.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
    },
    /// POL-08: a malformed participant-list or join-links delta.
    #[error("POL-08 {actor}: malformed {component} delta: {reason:?}")]
    MalformedDelta {
        /// Sender.
        actor: ActorId,
        /// The component.
        component: ComponentId,
        /// The user concerned, when there is one.
        target: Option<ParticipantId>,
        /// What was wrong.
        reason: Reason,
    },
    /// POL-09: an exiting actor proposed something other than removing its own clients.
    #[error("POL-09 {actor} is leaving, removed or banned and may only remove its own clients")]
    ExitingActor {
        /// The actor.
        actor: ActorId,
    },
    /// POL-10: adding another user.
    #[error("POL-10 {actor} may not add {target} as role {role}: {reason:?}")]
    AddParticipant {
        /// Actor.
        actor: ActorId,
        /// The added user.
        target: ParticipantId,
        /// The requested role.
        role: u32,
        /// What failed.
        reason: Reason,
    },
    /// POL-11: adding one's own client.
    #[error("POL-11 {actor} may not add client {target}: {reason:?}")]
    AddOwnClient {
        /// Actor.
        actor: ActorId,
        /// The added client.
        target: ClientId,
        /// What failed.
        reason: Reason,
    },
    /// POL-12: an unlisted user joining by itself.
    #[error("POL-12 {actor} may not join as {target} with role {role}: {reason:?}")]
    SelfJoin {
        /// Actor.
        actor: ActorId,
        /// The joining user.
        target: ParticipantId,
        /// The requested role.
        role: u32,
        /// What failed.
        reason: Reason,
    },
    /// POL-13: a banned user trying to join or add clients.
    #[error("POL-13 {target} is banned and cannot join ({actor})")]
    BannedUser {
        /// Actor.
        actor: ActorId,
        /// The banned user.
        target: ParticipantId,
    },
    /// POL-14: changing another user's role.
    #[error("POL-14 {actor} may not change {target} from role {from} to {to}: {reason:?}")]
    ChangeUserRole {
        /// Actor.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
        /// Current role.
        from: u32,
        /// Requested role.
        to: u32,
        /// What failed.
        reason: Reason,
    },
    /// POL-15: changing one's own role.
    #[error("POL-15 {actor} may not change its own role from {from} to {to}: {reason:?}")]
    ChangeOwnRole {
        /// Actor.
        actor: ActorId,
        /// The actor's user.
        target: ParticipantId,
        /// Current role.
        from: u32,
        /// Requested role.
        to: u32,
        /// What failed.
        reason: Reason,
    },
    /// POL-16: removing another user.
    #[error("POL-16 {actor} may not remove {target}: {reason:?}")]
    RemoveParticipant {
        /// Actor.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-17: leaving.
    #[error("POL-17 {actor} may not leave as {target}: {reason:?}")]
    Leave {
        /// Actor.
        actor: ActorId,
        /// The leaving user.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-18: removing one's own client.
    #[error("POL-18 {actor} may not remove its client {target}: {reason:?}")]
    RemoveOwnClient {
        /// Actor.
        actor: ActorId,
        /// The client.
        target: ClientId,
        /// What failed.
        reason: Reason,
    },
    /// POL-19: kicking (removing another listed user's clients).
    #[error("POL-19 {actor} may not kick client {target}: {reason:?}")]
    Kick {
        /// Actor.
        actor: ActorId,
        /// The client.
        target: ClientId,
        /// What failed.
        reason: Reason,
    },
    /// POL-20: banning.
    #[error("POL-20 {actor} may not ban {target}: {reason:?}")]
    Ban {
        /// Actor.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-21: unbanning.
    #[error("POL-21 {actor} may not unban {target} into role {to}: {reason:?}")]
    Unban {
        /// Actor.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
        /// Requested role.
        to: u32,
        /// What failed.
        reason: Reason,
    },
    /// POL-22: room metadata.
    #[error("POL-22 {actor} may not change the room metadata: {reason:?}")]
    RoomMetadata {
        /// Actor.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-23: role definitions.
    #[error("POL-23 {actor}: roles_list update refused: {reason:?}")]
    RoleDefinitions {
        /// Actor.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-24: preauthorization list.
    #[error("POL-24 {actor}: preauth_list update refused: {reason:?}")]
    PreauthList {
        /// Actor.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-25: base room policy.
    #[error("POL-25 {actor}: base_room_policy update refused: {reason:?}")]
    BasePolicy {
        /// Actor.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-26: other policy components.
    #[error("POL-26 {actor}: {component} update refused: {reason:?}")]
    PolicyComponent {
        /// Actor.
        actor: ActorId,
        /// The component.
        component: ComponentId,
        /// What failed.
        reason: Reason,
    },
    /// POL-27: ban records.
    #[error("POL-27 {actor}: ban record for {target} refused: {reason:?}")]
    BanRecords {
        /// Actor.
        actor: ActorId,
        /// The user of the record.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-28: ReInit.
    #[error("POL-28 {actor} may not propose ReInit: {reason:?}")]
    ReInit {
        /// Actor.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-29: the committer.
    #[error("POL-29 {actor} may not commit: {reason:?}")]
    Committer {
        /// The committer.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-30: a client whose user is not (or no longer) a participant.
    #[error("POL-30 {actor}: client {target} of {user} cannot be a member: {reason:?}")]
    ClientWithoutParticipant {
        /// Sender of the Add.
        actor: ActorId,
        /// The client.
        target: ClientId,
        /// Its user.
        user: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-31: a per-role participant-count constraint.
    #[error("POL-31 role {role}: {count} participants breaks the {bound:?} of {limit}")]
    RoleParticipants {
        /// The role.
        role: u32,
        /// Which side.
        bound: Bound,
        /// The constraint.
        limit: u32,
        /// The count after the change.
        count: u32,
    },
    /// POL-32: a per-role active-participant constraint.
    #[error("POL-32 role {role}: {count} active participants breaks the {bound:?} of {limit}")]
    RoleActiveParticipants {
        /// The role.
        role: u32,
        /// Which side.
        bound: Bound,
        /// The constraint.
        limit: u32,
        /// The count after the change.
        count: u32,
    },
    /// POL-33: fixed membership.
    #[error("POL-33 {actor}: fixed-membership room, {target} cannot be added or removed")]
    FixedMembership {
        /// Actor.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
    },
    /// POL-34: more than one client per user without multi_device.
    #[error("POL-34 {target} would have {clients} clients but multi_device is off")]
    MultiDevice {
        /// The user.
        target: ParticipantId,
        /// Clients after the change.
        clients: u32,
    },
    /// POL-35: max_clients.
    #[error("POL-35 {count} clients exceeds max_clients {limit}")]
    MaxClients {
        /// The limit.
        limit: u32,
        /// The count after the change.
        count: u32,
    },
    /// POL-36: max_users.
    #[error("POL-36 {count} participants exceeds max_users {limit}")]
    MaxUsers {
        /// The limit.
        limit: u32,
        /// The count after the change.
        count: u32,
    },
    /// POL-37: a removed or banned user still has a client after the commit.
    #[error("POL-37 {target} is removed or banned but client {client} stays in the group")]
    ClientsLeft {
        /// The user.
        target: ParticipantId,
        /// A client that remains.
        client: ClientId,
    },
    /// POL-38: an org-scoped actor acting on another organisation's user.
    #[error(
        "POL-38 {actor} (organisation {actor_org}) may not act on {target} (organisation {target_org})"
    )]
    OutsideOrganisation {
        /// Actor.
        actor: ActorId,
        /// The user.
        target: ParticipantId,
        /// The actor's organisation.
        actor_org: String,
        /// The target's organisation.
        target_org: String,
    },
    /// POL-39: outside the hub operator's policy envelope.
    #[error("POL-39 {actor}: outside the policy envelope ({bound:?})")]
    OutsideEnvelope {
        /// Actor.
        actor: ActorId,
        /// The bound that was exceeded.
        bound: EnvelopeBound,
    },
    /// POL-40: a pseudonym where pseudonyms are not allowed.
    #[error("POL-40 {target} is a pseudonym and pseudonyms are not allowed")]
    Pseudonyms {
        /// The pseudonym.
        target: ParticipantId,
    },
    /// POL-41: a participant of a parent-dependent room outside the parent.
    #[error("POL-41 {target} cannot be in a parent-dependent room: {reason:?}")]
    ParentDependant {
        /// The user.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-42: an unknown sender.
    #[error("POL-42 unknown actor {actor}: {reason:?}")]
    UnknownActor {
        /// The actor.
        actor: ActorId,
        /// What failed.
        reason: Reason,
    },
    /// POL-43: Adds and Removes inconsistent with the group.
    #[error("POL-43 {actor}: client {target}: {reason:?}")]
    MembershipMismatch {
        /// Sender.
        actor: ActorId,
        /// The client.
        target: ClientId,
        /// What was wrong.
        reason: Reason,
    },
    /// POL-45: a user whose clients do not get application messages.
    #[error("POL-45 {target} does not receive messages: {reason:?}")]
    ReceiveMessage {
        /// The user.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
    /// POL-44: a submitMessage sender that may not send.
    #[error("POL-44 {target} may not send messages: {reason:?}")]
    SendMessage {
        /// The sending user.
        target: ParticipantId,
        /// What failed.
        reason: Reason,
    },
}

impl Denial {
    /// The rule that fired.
    pub fn rule(&self) -> RuleId {
        match self {
            Self::InconsistentState { .. } => RuleId::INCONSISTENT_STATE,
            Self::UnknownComponent { .. } => RuleId::UNKNOWN_COMPONENT,
            Self::ComponentOperation { .. } => RuleId::COMPONENT_OPERATION,
            Self::MalformedComponent { .. } => RuleId::MALFORMED_COMPONENT,
            Self::RolesWithParticipantChange { .. } => RuleId::ROLES_WITH_PARTICIPANT_CHANGE,
            Self::PreauthWithParticipantChange { .. } => RuleId::PREAUTH_WITH_PARTICIPANT_CHANGE,
            Self::SecondMetadataUpdate { .. } => RuleId::SECOND_METADATA_UPDATE,
            Self::UserTouchedTwice { .. } => RuleId::USER_TOUCHED_TWICE,
            Self::MalformedDelta { .. } => RuleId::MALFORMED_DELTA,
            Self::ExitingActor { .. } => RuleId::EXITING_ACTOR,
            Self::AddParticipant { .. } => RuleId::ADD_PARTICIPANT,
            Self::AddOwnClient { .. } => RuleId::ADD_OWN_CLIENT,
            Self::SelfJoin { .. } => RuleId::SELF_JOIN,
            Self::BannedUser { .. } => RuleId::BANNED_USER,
            Self::ChangeUserRole { .. } => RuleId::CHANGE_USER_ROLE,
            Self::ChangeOwnRole { .. } => RuleId::CHANGE_OWN_ROLE,
            Self::RemoveParticipant { .. } => RuleId::REMOVE_PARTICIPANT,
            Self::Leave { .. } => RuleId::LEAVE,
            Self::RemoveOwnClient { .. } => RuleId::REMOVE_OWN_CLIENT,
            Self::Kick { .. } => RuleId::KICK,
            Self::Ban { .. } => RuleId::BAN,
            Self::Unban { .. } => RuleId::UNBAN,
            Self::RoomMetadata { .. } => RuleId::ROOM_METADATA,
            Self::RoleDefinitions { .. } => RuleId::ROLE_DEFINITIONS,
            Self::PreauthList { .. } => RuleId::PREAUTH_LIST,
            Self::BasePolicy { .. } => RuleId::BASE_POLICY,
            Self::PolicyComponent { .. } => RuleId::POLICY_COMPONENT,
            Self::BanRecords { .. } => RuleId::BAN_RECORDS,
            Self::ReInit { .. } => RuleId::REINIT,
            Self::Committer { .. } => RuleId::COMMITTER,
            Self::ClientWithoutParticipant { .. } => RuleId::CLIENT_WITHOUT_PARTICIPANT,
            Self::RoleParticipants { .. } => RuleId::ROLE_PARTICIPANTS,
            Self::RoleActiveParticipants { .. } => RuleId::ROLE_ACTIVE_PARTICIPANTS,
            Self::FixedMembership { .. } => RuleId::FIXED_MEMBERSHIP,
            Self::MultiDevice { .. } => RuleId::MULTI_DEVICE,
            Self::MaxClients { .. } => RuleId::MAX_CLIENTS,
            Self::MaxUsers { .. } => RuleId::MAX_USERS,
            Self::ClientsLeft { .. } => RuleId::CLIENTS_LEFT,
            Self::OutsideOrganisation { .. } => RuleId::OUTSIDE_ORGANISATION,
            Self::OutsideEnvelope { .. } => RuleId::OUTSIDE_ENVELOPE,
            Self::Pseudonyms { .. } => RuleId::PSEUDONYMS,
            Self::ParentDependant { .. } => RuleId::PARENT_DEPENDANT,
            Self::UnknownActor { .. } => RuleId::UNKNOWN_ACTOR,
            Self::MembershipMismatch { .. } => RuleId::MEMBERSHIP_MISMATCH,
            Self::SendMessage { .. } => RuleId::SEND_MESSAGE,
            Self::ReceiveMessage { .. } => RuleId::RECEIVE_MESSAGE,
        }
    }

    /// The `UpdateRoomResponse` code for this denial: `invalidProposal` when a
    /// proposal cannot be applied at all (malformed, unknown component,
    /// impossible delta or membership operation), `notAllowed` when a
    /// well-formed change is refused by the room's policy. This is the only
    /// place that makes the distinction.
    pub fn protocol_code(&self) -> ProtocolCode {
        match self {
            Self::UnknownComponent { .. }
            | Self::ComponentOperation { .. }
            | Self::MalformedComponent { .. }
            | Self::MalformedDelta { .. }
            | Self::UnknownActor { .. }
            | Self::MembershipMismatch { .. } => ProtocolCode::InvalidProposal,
            _ => ProtocolCode::NotAllowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_split_malformed_from_refused() {
        let actor = ActorId::Creator;
        let malformed = Denial::UnknownComponent {
            actor: actor.clone(),
            component: ComponentId(0x1234),
        };
        assert_eq!(malformed.protocol_code(), ProtocolCode::InvalidProposal);
        assert_eq!(malformed.rule(), RuleId::UNKNOWN_COMPONENT);
        let refused = Denial::MaxUsers { limit: 2, count: 3 };
        assert_eq!(refused.protocol_code(), ProtocolCode::NotAllowed);
        assert!(refused.to_string().starts_with("POL-36"));
    }
}
