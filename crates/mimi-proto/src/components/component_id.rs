//! Component ids: every id MIMI puts in the MLS `app_data_dictionary`, SafeAAD
//! or LeafNode, in one place (digest A.1 table; mls-extensions IANA).
//!
//! `uint16 ComponentID;`. The MIMI values 0x0020–0x0030 and the mls-extensions
//! values 0x0001–0x0005 are only *suggested* by the drafts, so they live here and
//! nowhere else. 0x8000–0xFFFF is private use; mimi's own components sit there.

use std::fmt;

/// An open `uint16` component id: unknown values round-trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId(pub u16);

macro_rules! component_ids {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $wire_name:literal;)*) => {
        impl ComponentId {
            $($(#[$doc])* pub const $name: Self = Self($value);)*

            /// Every id this module names, in ascending order.
            pub const ALL: &'static [Self] = &[$(Self::$name),*];

            /// The registry name, if this id is one we know.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($wire_name),)*
                    _ => None,
                }
            }
        }
    };
}

component_ids! {
    /// `app_components`: supported/required component lists (mls-extensions).
    APP_COMPONENTS = 0x0001, "app_components";
    /// `safe_aad`: which SafeAAD items are in use (mls-extensions).
    SAFE_AAD = 0x0002, "safe_aad";
    /// `content_media_types`: accepted media types (mls-extensions).
    CONTENT_MEDIA_TYPES = 0x0003, "content_media_types";
    /// `last_resort_key_package` (mls-extensions, KeyPackage only).
    LAST_RESORT_KEY_PACKAGE = 0x0004, "last_resort_key_package";
    /// `app_ack` (mls-extensions, AppEphemeral only).
    APP_ACK = 0x0005, "app_ack";
    /// `frank_aad`: the franking tag SafeAAD item (protocol-06 §5.4.1).
    FRANK_AAD = 0x0020, "frank_aad";
    /// `franking_signature_key`, called `franking_agent` in the body (protocol-06 §5.4.1).
    FRANKING_AGENT = 0x0021, "franking_agent";
    /// `participant_list` (protocol-06 §7.5).
    PARTICIPANT_LIST = 0x0022, "participant_list";
    /// `room_metadata` (protocol-06 §7.6).
    ROOM_METADATA = 0x0023, "room_metadata";
    /// `mls_operational_policy`, TBD0 (room-policy-03 §7).
    MLS_OPERATIONAL_POLICY = 0x0024, "mls_operational_policy";
    /// `roles_list`, TBD1 (room-policy-03 §3).
    ROLES_LIST = 0x0025, "roles_list";
    /// `preauth_list`, TBD2 (room-policy-03 §4).
    PREAUTH_LIST = 0x0026, "preauth_list";
    /// `base_room_policy`, TBD3 (room-policy-03 §5).
    BASE_ROOM_POLICY = 0x0027, "base_room_policy";
    /// `status_notification_policy`, TBD4 (room-policy-03 §6.1).
    STATUS_NOTIFICATION_POLICY = 0x0028, "status_notification_policy";
    /// `join_link_policy`, TBD5 (room-policy-03 §6.2).
    JOIN_LINK_POLICY = 0x0029, "join_link_policy";
    /// `join_links`, TBD6 (room-policy-03 §6.2).
    JOIN_LINKS = 0x002A, "join_links";
    /// `link_preview_policy`, TBD7 (room-policy-03 §6.3).
    LINK_PREVIEW_POLICY = 0x002B, "link_preview_policy";
    /// `asset_policy`, TBD8 (room-policy-03 §6.4).
    ASSET_POLICY = 0x002C, "asset_policy";
    /// `logging_policy`, TBD9 (room-policy-03 §6.5).
    LOGGING_POLICY = 0x002D, "logging_policy";
    /// `chat_history_policy`, TBD10 (room-policy-03 §6.6).
    CHAT_HISTORY_POLICY = 0x002E, "chat_history_policy";
    /// `bot_policy`, TBD11 (room-policy-03 §6.7).
    BOT_POLICY = 0x002F, "bot_policy";
    /// `message_expiration_policy`, TBD12 (room-policy-03 §6.8).
    MESSAGE_EXPIRATION_POLICY = 0x0030, "message_expiration_policy";
    /// mimi private: ban records (reason and optional expiry per banned user).
    MIMI_BAN_LIST = 0x8000, "mimi_ban_list";
    /// mimi private: roles whose holders manage only users of their own organisation.
    MIMI_ORG_SCOPED_ROLES = 0x8001, "mimi_org_scoped_roles";
}

impl ComponentId {
    /// First id of the private-use range (mls-extensions IANA).
    pub const PRIVATE_START: u16 = 0x8000;

    /// True for ids in the private-use range 0x8000–0xFFFF.
    pub fn is_private(self) -> bool {
        self.0 >= Self::PRIVATE_START
    }
}

impl fmt::Debug for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}(0x{:04x})", self.0),
            None => write!(f, "ComponentId(0x{:04x})", self.0),
        }
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_named() {
        assert!(ComponentId::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ComponentId::ALL.len(), 24);
        assert_eq!(
            ComponentId::PARTICIPANT_LIST.name(),
            Some("participant_list")
        );
        assert_eq!(ComponentId(0x1234).name(), None);
        assert_eq!(format!("{:?}", ComponentId(0x1234)), "ComponentId(0x1234)");
        assert!(ComponentId::MIMI_BAN_LIST.is_private());
        assert!(!ComponentId::MESSAGE_EXPIRATION_POLICY.is_private());
    }
}
