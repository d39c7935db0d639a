//! The MIMI Role Capabilities registry (room-policy-03 §8, §10.2; digest A.8).
//!
//! `uint16 CapabilityType;`. Every code point of the registry, defined and
//! reserved, has a constant here with its registry name, its status and who can
//! enforce it. Unknown values decode and round-trip: a role may carry
//! capabilities a later draft defines, and we must keep them (and ignore them
//! for authorization).

use std::fmt;

/// An open `uint16` capability code point.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CapabilityType(pub u16);

/// Whether a code point has semantics yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapabilityStatus {
    /// Registered with defined semantics.
    Defined,
    /// Registered as reserved: a name without semantics (room-policy-03 §8.7).
    Reserved,
    /// Not in the registry: unknown or private use (0xF000 and up).
    Unregistered,
}

/// Who can enforce a capability (digest A.8, from room-policy-03 §8.3: the hub
/// sees handshake messages and fan-out, never message content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enforcement {
    /// The hub can check it: membership, roles, metadata, policy, ReInit,
    /// sending (submitMessage) and receiving (fan-out).
    Hub,
    /// Only receiving clients can check it (message content features).
    Clients,
    /// Real-time media capabilities; outside MIMI messaging (room-policy-03 §8.5).
    Media,
    /// Reserved or unregistered: nobody enforces it.
    Nobody,
}

macro_rules! capabilities {
    ($($name:ident = $value:literal, $wire_name:literal, $status:ident, $enf:ident;)*) => {
        impl CapabilityType {
            $(#[doc = concat!("`", $wire_name, "` (", stringify!($value), ", ", stringify!($status), ").")]
            pub const $name: Self = Self($value);)*

            /// Every code point of the registry (77: 59 defined, 18 reserved), ascending.
            pub const REGISTRY: &'static [Self] = &[$(Self::$name),*];

            /// The registry name (`canAddParticipant`…), if registered.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($wire_name),)*
                    _ => None,
                }
            }

            /// Defined, reserved or unregistered.
            pub fn status(self) -> CapabilityStatus {
                match self.0 {
                    $($value => CapabilityStatus::$status,)*
                    _ => CapabilityStatus::Unregistered,
                }
            }

            /// Who can enforce it.
            pub fn enforcement(self) -> Enforcement {
                match self.0 {
                    $($value => enforcement!($enf),)*
                    _ => Enforcement::Nobody,
                }
            }
        }
    };
}

macro_rules! enforcement {
    (Reserved) => {
        Enforcement::Nobody
    };
    ($e:ident) => {
        Enforcement::$e
    };
}

capabilities! {
    CAN_ADD_PARTICIPANT = 0x0000, "canAddParticipant", Defined, Hub;
    CAN_REMOVE_PARTICIPANT = 0x0001, "canRemoveParticipant", Defined, Hub;
    CAN_ADD_OWN_CLIENT = 0x0002, "canAddOwnClient", Defined, Hub;
    CAN_REMOVE_OWN_CLIENT = 0x0003, "canRemoveOwnClient", Defined, Hub;
    CAN_OPEN_JOIN = 0x0004, "canOpenJoin", Defined, Hub;
    CAN_JOIN_IF_PREAUTHORIZED = 0x0005, "canJoinIfPreauthorized", Defined, Hub;
    CAN_REMOVE_SELF = 0x0006, "canRemoveSelf", Defined, Hub;
    CAN_CREATE_JOIN_CODE = 0x0007, "canCreateJoinCode", Reserved, Reserved;
    CAN_DELETE_JOIN_CODE = 0x0008, "canDeleteJoinCode", Reserved, Reserved;
    CAN_USE_JOIN_CODE = 0x0009, "canUseJoinCode", Defined, Hub;
    CAN_BAN = 0x000a, "canBan", Defined, Hub;
    CAN_UN_BAN = 0x000b, "canUnBan", Defined, Hub;
    CAN_KICK = 0x000c, "canKick", Defined, Hub;
    CAN_KNOCK = 0x000d, "canKnock", Reserved, Reserved;
    CAN_ACCEPT_KNOCK = 0x000e, "canAcceptKnock", Reserved, Reserved;
    CAN_CHANGE_USER_ROLE = 0x000f, "canChangeUserRole", Defined, Hub;
    CAN_CHANGE_OWN_ROLE = 0x0010, "canChangeOwnRole", Defined, Hub;
    CAN_CREATE_SUBGROUP = 0x0011, "canCreateSubgroup", Reserved, Reserved;
    CAN_SEND_MESSAGE = 0x0100, "canSendMessage", Defined, Hub;
    CAN_RECEIVE_MESSAGE = 0x0101, "canReceiveMessage", Defined, Hub;
    CAN_COPY_MESSAGE = 0x0102, "canCopyMessage", Defined, Clients;
    CAN_REPORT_ABUSE = 0x0103, "canReportAbuse", Defined, Clients;
    CAN_REPLY_TO_MESSAGE = 0x0104, "canReplyToMessage", Defined, Clients;
    CAN_REACT_TO_MESSAGE = 0x0105, "canReactToMessage", Defined, Clients;
    CAN_EDIT_REACTION = 0x0106, "canEditReaction", Defined, Clients;
    CAN_DELETE_OWN_REACTION = 0x0107, "canDeleteOwnReaction", Defined, Clients;
    CAN_DELETE_OTHER_REACTION = 0x0108, "canDeleteOtherReaction", Defined, Clients;
    CAN_EDIT_OWN_MESSAGE = 0x0109, "canEditOwnMessage", Defined, Clients;
    CAN_DELETE_OWN_MESSAGE = 0x010a, "canDeleteOwnMessage", Defined, Clients;
    CAN_DELETE_OTHER_MESSAGE = 0x010b, "canDeleteOtherMessage", Defined, Clients;
    CAN_START_TOPIC = 0x010c, "canStartTopic", Defined, Clients;
    CAN_REPLY_IN_TOPIC = 0x010d, "canReplyInTopic", Defined, Clients;
    CAN_EDIT_OWN_TOPIC = 0x010e, "canEditOwnTopic", Defined, Clients;
    CAN_EDIT_OTHER_TOPIC = 0x010f, "canEditOtherTopic", Defined, Clients;
    CAN_SEND_DIRECT_MESSAGE = 0x0110, "canSendDirectMessage", Reserved, Reserved;
    CAN_TARGET_MESSAGE = 0x0111, "canTargetMessage", Reserved, Reserved;
    CAN_UPLOAD_IMAGE = 0x0200, "canUploadImage", Defined, Clients;
    CAN_UPLOAD_AUDIO = 0x0201, "canUploadAudio", Defined, Clients;
    CAN_UPLOAD_VIDEO = 0x0202, "canUploadVideo", Defined, Clients;
    CAN_UPLOAD_ATTACHMENT = 0x0203, "canUploadAttachment", Defined, Clients;
    CAN_DOWNLOAD_IMAGE = 0x0204, "canDownloadImage", Defined, Clients;
    CAN_DOWNLOAD_AUDIO = 0x0205, "canDownloadAudio", Defined, Clients;
    CAN_DOWNLOAD_VIDEO = 0x0206, "canDownloadVideo", Defined, Clients;
    CAN_DOWNLOAD_ATTACHMENT = 0x0207, "canDownloadAttachment", Defined, Clients;
    CAN_SEND_LINK = 0x0208, "canSendLink", Defined, Clients;
    CAN_SEND_LINK_PREVIEW = 0x0209, "canSendLinkPreview", Defined, Clients;
    CAN_FOLLOW_LINK = 0x020a, "canFollowLink", Defined, Clients;
    CAN_COPY_LINK = 0x020b, "canCopyLink", Defined, Clients;
    CAN_CHANGE_ROOM_NAME = 0x0300, "canChangeRoomName", Defined, Hub;
    CAN_CHANGE_ROOM_DESCRIPTION = 0x0301, "canChangeRoomDescription", Defined, Hub;
    CAN_CHANGE_ROOM_AVATAR = 0x0302, "canChangeRoomAvatar", Defined, Hub;
    CAN_CHANGE_ROOM_SUBJECT = 0x0303, "canChangeRoomSubject", Defined, Hub;
    CAN_CHANGE_ROOM_MOOD = 0x0304, "canChangeRoomMood", Defined, Hub;
    CAN_CHANGE_OWN_NAME = 0x0380, "canChangeOwnName", Reserved, Reserved;
    CAN_CHANGE_OWN_PRESENCE = 0x0381, "canChangeOwnPresence", Reserved, Reserved;
    CAN_CHANGE_OWN_MOOD = 0x0382, "canChangeOwnMood", Reserved, Reserved;
    CAN_CHANGE_OWN_AVATAR = 0x0383, "canChangeOwnAvatar", Reserved, Reserved;
    CAN_START_CALL = 0x0400, "canStartCall", Defined, Media;
    CAN_JOIN_CALL = 0x0401, "canJoinCall", Defined, Media;
    CAN_SEND_AUDIO = 0x0402, "canSendAudio", Defined, Media;
    CAN_RECEIVE_AUDIO = 0x0403, "canReceiveAudio", Defined, Media;
    CAN_SEND_VIDEO = 0x0404, "canSendVideo", Defined, Media;
    CAN_RECEIVE_VIDEO = 0x0405, "canReceiveVideo", Defined, Media;
    CAN_SHARE_SCREEN = 0x0406, "canShareScreen", Defined, Media;
    CAN_VIEW_SHARED_SCREEN = 0x0407, "canViewSharedScreen", Defined, Media;
    CAN_CREATE_ROOM = 0x0500, "canCreateRoom", Reserved, Reserved;
    CAN_DESTROY_ROOM = 0x0501, "canDestroyRoom", Defined, Hub;
    CAN_CHANGE_ROOM_MEMBERSHIP_STYLE = 0x0502, "canChangeRoomMembershipStyle", Defined, Hub;
    CAN_CHANGE_ROLE_DEFINITIONS = 0x0503, "canChangeRoleDefinitions", Defined, Hub;
    CAN_CHANGE_PREAUTHORIZED_USER_LIST = 0x0504, "canChangePreauthorizedUserList", Defined, Hub;
    CAN_CHANGE_OTHER_POLICY_ATTRIBUTE = 0x0505, "canChangeOtherPolicyAttribute", Reserved, Reserved;
    CAN_CHANGE_MLS_OPERATIONAL_POLICIES = 0x0600, "canChangeMlsOperationalPolicies", Reserved, Reserved;
    CAN_SEND_MLS_REINIT_PROPOSAL = 0x0601, "canSendMLSReinitProposal", Defined, Hub;
    CAN_SEND_MLS_UPDATE_PROPOSAL = 0x0602, "canSendMLSUpdateProposal", Reserved, Reserved;
    CAN_SEND_MLS_PSK_PROPOSAL = 0x0603, "canSendMLSPSKProposal", Reserved, Reserved;
    CAN_SEND_MLS_EXTERNAL_PROPOSAL = 0x0604, "canSendMLSExternalProposal", Reserved, Reserved;
    CAN_SEND_MLS_EXTERNAL_COMMIT = 0x0605, "canSendMLSExternalCommit", Reserved, Reserved;
}

impl CapabilityType {
    /// First code point of the private-use range. The registry text overlaps
    /// the two ranges at 0xF000; we treat 0xF000 itself as private (digest A.8).
    pub const PRIVATE_START: u16 = 0xF000;

    /// True if the hub can enforce this capability.
    pub fn is_hub_enforceable(self) -> bool {
        self.enforcement() == Enforcement::Hub
    }

    /// Looks a capability up by registry name. Both spellings of 0x000b are
    /// accepted: the registry's `canUnBan` and §8.1.3's `canUnban`.
    pub fn from_name(name: &str) -> Option<Self> {
        if name == "canUnban" {
            return Some(Self::CAN_UN_BAN);
        }
        Self::REGISTRY
            .iter()
            .copied()
            .find(|c| c.name() == Some(name))
    }
}

impl fmt::Debug for CapabilityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}(0x{:04x})", self.0),
            None => write!(f, "CapabilityType(0x{:04x})", self.0),
        }
    }
}

impl fmt::Display for CapabilityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn registry_counts_match_the_draft() {
        let reg = CapabilityType::REGISTRY;
        assert_eq!(reg.len(), 77);
        let reserved = reg
            .iter()
            .filter(|c| c.status() == CapabilityStatus::Reserved)
            .count();
        assert_eq!(reserved, 18);
        assert!(reg.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        assert!(reg.iter().all(|c| c.name().is_some()));
    }

    #[test]
    fn classification() {
        assert!(CapabilityType::CAN_KICK.is_hub_enforceable());
        assert!(CapabilityType::CAN_SEND_MESSAGE.is_hub_enforceable());
        assert!(!CapabilityType::CAN_REPLY_TO_MESSAGE.is_hub_enforceable());
        assert_eq!(
            CapabilityType::CAN_START_CALL.enforcement(),
            Enforcement::Media
        );
        assert_eq!(CapabilityType::CAN_KNOCK.enforcement(), Enforcement::Nobody);
        let unknown = CapabilityType(0x0777);
        assert_eq!(unknown.status(), CapabilityStatus::Unregistered);
        assert_eq!(unknown.name(), None);
        assert_eq!(format!("{unknown:?}"), "CapabilityType(0x0777)");
        assert_eq!(
            CapabilityType::from_name("canUnban"),
            Some(CapabilityType::CAN_UN_BAN)
        );
        assert_eq!(
            CapabilityType::from_name("canKick"),
            Some(CapabilityType::CAN_KICK)
        );
        assert_eq!(CapabilityType::from_name("canRevokeVoice"), None);
    }
}
