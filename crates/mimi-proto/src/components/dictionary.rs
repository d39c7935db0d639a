//! The `app_data_dictionary` container and a typed view of a whole room state.
//!
//! ```text
//! struct { ComponentID component_id; opaque data<V>; } ComponentData;
//! struct { ComponentData component_data<V>; } AppDataDictionary;   // sorted by id, ≤1 per id
//! enum { invalid(0), update(1), remove(2), (255) } AppDataUpdateOperation;
//! struct {
//!     ComponentID component_id;
//!     AppDataUpdateOperation op;
//!     select (AppDataUpdate.op) { case update: opaque update<V>; case remove: struct{}; };
//! } AppDataUpdate;
//! ```
//! (mls-extensions "Attaching Application Data to MLS Messages"; digest A.1.)

use std::collections::BTreeMap;

use super::Component;
use super::assets::AssetPolicy;
use super::bans::{BanList, OrgScopedRoles};
use super::base_policy::BaseRoomPolicy;
use super::bots::BotPolicy;
use super::client_policies::{
    HistoryPolicy, LinkPreviewPolicy, LoggingPolicy, MessageExpiration, StatusNotificationPolicy,
};
use super::component_id::ComponentId;
use super::franking::FrankingAgentData;
use super::join_links::{JoinLinkPolicy, JoinLinksData};
use super::metadata::RoomMetaData;
use super::operational::OperationalParameters;
use super::participants::ParticipantListData;
use super::preauth::PreAuthData;
use super::roles::RoleData;
use crate::codec::{Codec, MAX_MESSAGE_LEN, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most entries in one dictionary. Ids are unique `uint16`s and MIMI defines
/// about 25; the cap bounds the per-entry work of decoding a GroupContext.
pub const MAX_DICTIONARY_ENTRIES: usize = 1024;

/// One dictionary entry, undecoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComponentData {
    /// Which component.
    pub component_id: ComponentId,
    /// Its encoded value.
    pub data: Vec<u8>,
}

impl Codec for ComponentData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            component_id: ComponentId(r.u16()?),
            data: r.opaque("ComponentData.data", MAX_MESSAGE_LEN)?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u16(self.component_id.0);
        w.opaque(&self.data)
    }
}

/// The GroupContext `app_data_dictionary` extension: entries strictly ascending
/// by id (so at most one per id); decoding rejects anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AppDataDictionary {
    /// The entries.
    pub component_data: Vec<ComponentData>,
}

impl Codec for AppDataDictionary {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let component_data = r.vector(
            "AppDataDictionary.component_data",
            MAX_DICTIONARY_ENTRIES,
            ComponentData::read,
        )?;
        if !component_data
            .windows(2)
            .all(|w| w[0].component_id < w[1].component_id)
        {
            return Err(DecodeError::Invalid {
                what: "AppDataDictionary",
                reason: "entries not sorted by component id or duplicated",
            });
        }
        Ok(Self { component_data })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.component_data, |w, c| c.write(w))
    }
}

/// What an [`AppDataUpdate`] does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppDataUpdateOperation {
    /// `update(1)`: feed these bytes to the component's update logic.
    Update(Vec<u8>),
    /// `remove(2)`: delete the component.
    Remove,
}

/// The `AppDataUpdate` proposal body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppDataUpdate {
    /// Which component.
    pub component_id: ComponentId,
    /// The operation.
    pub op: AppDataUpdateOperation,
}

impl Codec for AppDataUpdate {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let component_id = ComponentId(r.u16()?);
        let op = match r.u8()? {
            1 => AppDataUpdateOperation::Update(
                r.opaque("AppDataUpdate.update", MAX_MESSAGE_LEN)?.to_vec(),
            ),
            2 => AppDataUpdateOperation::Remove,
            value => {
                return Err(DecodeError::UnknownValue {
                    field: "AppDataUpdateOperation",
                    value: u64::from(value),
                });
            }
        };
        Ok(Self { component_id, op })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u16(self.component_id.0);
        match &self.op {
            AppDataUpdateOperation::Update(bytes) => {
                w.u8(1);
                w.opaque(bytes)
            }
            AppDataUpdateOperation::Remove => {
                w.u8(2);
                Ok(())
            }
        }
    }
}

wire_value!(
    ComponentData => "ComponentData",
    AppDataDictionary => "AppDataDictionary",
    AppDataUpdate => "AppDataUpdate",
);

macro_rules! room_components {
    ($($(#[$doc:meta])* $field:ident: $ty:ty => $id:ident, $variant:ident;)*) => {
        /// One decoded component value, or the bytes of one we do not interpret.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ComponentValue {
            $($(#[$doc])* $variant($ty),)*
            /// A component mimi does not interpret (mls-extensions ids, other
            /// applications' private ids), kept as bytes.
            Other(ComponentId, Vec<u8>),
        }

        impl ComponentValue {
            /// Decodes `data` as the component `id`. Ids mimi does not
            /// interpret become [`ComponentValue::Other`].
            ///
            /// # Errors
            /// The [`DecodeError`] of a known component's malformed data.
            pub fn decode(id: ComponentId, data: &[u8]) -> Result<Self, DecodeError> {
                Ok(match id {
                    $(ComponentId::$id => Self::$variant(<$ty as Component>::decode_data(data)?),)*
                    other => Self::Other(other, data.to_vec()),
                })
            }

            /// The component id.
            pub fn id(&self) -> ComponentId {
                match self {
                    $(Self::$variant(_) => ComponentId::$id,)*
                    Self::Other(id, _) => *id,
                }
            }

            /// Encodes the value as the dictionary's `data` bytes.
            ///
            /// # Errors
            /// [`EncodeError::TooLong`] past the MLS length limit.
            pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
                match self {
                    $(Self::$variant(v) => v.encode_data(),)*
                    Self::Other(_, bytes) => Ok(bytes.clone()),
                }
            }

            /// True for the ids this crate decodes.
            pub fn is_interpreted(id: ComponentId) -> bool {
                matches!(id, $(ComponentId::$id)|*)
            }
        }

        /// A typed view of a whole `app_data_dictionary`: every component mimi
        /// knows, decoded, plus the others as bytes.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct RoomComponents {
            $($(#[$doc])* pub $field: Option<$ty>,)*
            /// Components mimi does not interpret, by id.
            pub other: BTreeMap<ComponentId, Vec<u8>>,
        }

        impl RoomComponents {
            /// Stores a value in its slot, replacing what was there.
            pub fn insert(&mut self, value: ComponentValue) {
                match value {
                    $(ComponentValue::$variant(v) => self.$field = Some(v),)*
                    ComponentValue::Other(id, bytes) => {
                        self.other.insert(id, bytes);
                    }
                }
            }

            /// Deletes the component `id`; true if it was present.
            pub fn remove(&mut self, id: ComponentId) -> bool {
                match id {
                    $(ComponentId::$id => self.$field.take().is_some(),)*
                    other => self.other.remove(&other).is_some(),
                }
            }

            /// True if the component `id` is present.
            pub fn contains(&self, id: ComponentId) -> bool {
                match id {
                    $(ComponentId::$id => self.$field.is_some(),)*
                    other => self.other.contains_key(&other),
                }
            }

            /// The encoded `data` of component `id`, or `None` if absent.
            ///
            /// # Errors
            /// [`EncodeError::TooLong`] past the MLS length limit.
            pub fn encode_component(&self, id: ComponentId) -> Result<Option<Vec<u8>>, EncodeError> {
                match id {
                    $(ComponentId::$id => self.$field.as_ref().map(|v| v.encode_data()).transpose(),)*
                    other => Ok(self.other.get(&other).cloned()),
                }
            }

            /// Every present component as `(id, data)`, ascending by id: exactly
            /// the dictionary entries to hand to MLS.
            ///
            /// # Errors
            /// [`EncodeError::TooLong`] past the MLS length limit.
            pub fn to_entries(&self) -> Result<Vec<ComponentData>, EncodeError> {
                let mut out: Vec<ComponentData> = Vec::new();
                $(if let Some(v) = &self.$field {
                    out.push(ComponentData { component_id: ComponentId::$id, data: v.encode_data()? });
                })*
                out.extend(self.other.iter().map(|(id, data)| ComponentData { component_id: *id, data: data.clone() }));
                out.sort_by_key(|c| c.component_id);
                Ok(out)
            }
        }
    };
}

room_components! {
    /// `franking_agent` (0x0021).
    franking_agent: FrankingAgentData => FRANKING_AGENT, FrankingAgent;
    /// `participant_list` (0x0022).
    participant_list: ParticipantListData => PARTICIPANT_LIST, ParticipantList;
    /// `room_metadata` (0x0023).
    room_metadata: RoomMetaData => ROOM_METADATA, RoomMetadata;
    /// `mls_operational_policy` (0x0024), opaque.
    operational_policy: OperationalParameters => MLS_OPERATIONAL_POLICY, OperationalPolicy;
    /// `roles_list` (0x0025).
    roles: RoleData => ROLES_LIST, Roles;
    /// `preauth_list` (0x0026).
    preauth: PreAuthData => PREAUTH_LIST, Preauth;
    /// `base_room_policy` (0x0027).
    base_policy: BaseRoomPolicy => BASE_ROOM_POLICY, BasePolicy;
    /// `status_notification_policy` (0x0028).
    status_notifications: StatusNotificationPolicy => STATUS_NOTIFICATION_POLICY, StatusNotifications;
    /// `join_link_policy` (0x0029).
    join_link_policy: JoinLinkPolicy => JOIN_LINK_POLICY, JoinLinkPolicy;
    /// `join_links` (0x002A).
    join_links: JoinLinksData => JOIN_LINKS, JoinLinks;
    /// `link_preview_policy` (0x002B).
    link_preview: LinkPreviewPolicy => LINK_PREVIEW_POLICY, LinkPreview;
    /// `asset_policy` (0x002C).
    assets: AssetPolicy => ASSET_POLICY, Assets;
    /// `logging_policy` (0x002D).
    logging: LoggingPolicy => LOGGING_POLICY, Logging;
    /// `chat_history_policy` (0x002E).
    history: HistoryPolicy => CHAT_HISTORY_POLICY, History;
    /// `bot_policy` (0x002F).
    bots: BotPolicy => BOT_POLICY, Bots;
    /// `message_expiration_policy` (0x0030).
    message_expiration: MessageExpiration => MESSAGE_EXPIRATION_POLICY, MessageExpiration;
    /// mimi ban records (0x8000).
    bans: BanList => MIMI_BAN_LIST, Bans;
    /// mimi organisation-scoped roles (0x8001).
    org_scoped_roles: OrgScopedRoles => MIMI_ORG_SCOPED_ROLES, OrgScopedRoles;
}

impl RoomComponents {
    /// Decodes dictionary entries (as OpenMLS hands them out). They must be
    /// strictly ascending by id.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] if ids repeat or are out of order, or the
    /// error of the first malformed known component.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (ComponentId, &'a [u8])>,
    ) -> Result<Self, DecodeError> {
        let mut out = Self::default();
        let mut last: Option<ComponentId> = None;
        for (id, data) in entries {
            if last.is_some_and(|l| l >= id) {
                return Err(DecodeError::Invalid {
                    what: "AppDataDictionary",
                    reason: "entries not sorted by component id or duplicated",
                });
            }
            last = Some(id);
            out.insert(ComponentValue::decode(id, data)?);
        }
        Ok(out)
    }

    /// Decodes an encoded `AppDataDictionary`.
    ///
    /// # Errors
    /// As [`AppDataDictionary::decode`] and [`RoomComponents::from_entries`].
    pub fn decode_dictionary(bytes: &[u8]) -> Result<Self, DecodeError> {
        let dict = AppDataDictionary::decode(bytes)?;
        Self::from_entries(
            dict.component_data
                .iter()
                .map(|c| (c.component_id, c.data.as_slice())),
        )
    }

    /// Encodes the whole state as an `AppDataDictionary`.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] past the MLS length limit.
    pub fn encode_dictionary(&self) -> Result<Vec<u8>, EncodeError> {
        AppDataDictionary {
            component_data: self.to_entries()?,
        }
        .encode()
    }
}
