//! Room-state components carried in the MLS `app_data_dictionary`
//! (protocol-06 §7, room-policy-03 §3–§7, mls-extensions), one module per
//! component family.
//!
//! Every type here decodes strictly from bytes ([`DecodeError`] on anything
//! malformed, never a panic, trailing bytes rejected at the top level) and
//! encodes deterministically: decode-then-encode gives back the input, so the
//! hub and every client compute identical `data` bytes for the key schedule.
//! Each type also implements the `tls_codec` traits, so it composes with
//! `tls_codec`-derived structs.
//!
//! Decoding checks the wire shape only. Whether a change is allowed (indices in
//! range, roles defined, capabilities held) is for `mimi-policy`.
//!
//! | family | module | ids |
//! | --- | --- | --- |
//! | ids and the registry | [`ComponentId`], [`CapabilityType`] | — |
//! | container | [`AppDataDictionary`], [`RoomComponents`] | — |
//! | participant list | [`ParticipantListData`], [`ParticipantListUpdate`] | 0x0022 |
//! | metadata | [`RoomMetaData`] | 0x0023 |
//! | roles | [`RoleData`] | 0x0025 |
//! | preauthorization | [`PreAuthData`] | 0x0026 |
//! | base policy | [`BaseRoomPolicy`] | 0x0027 |
//! | franking | [`FrankingAgentData`] | 0x0021 |
//! | client-enforced policies | [`StatusNotificationPolicy`], [`LinkPreviewPolicy`], [`LoggingPolicy`], [`HistoryPolicy`], [`MessageExpiration`] | 0x0028, 0x002B, 0x002D–0x002E, 0x0030 |
//! | join links | [`JoinLinkPolicy`], [`JoinLinksData`] | 0x0029–0x002A |
//! | assets | [`AssetPolicy`] | 0x002C |
//! | bots | [`BotPolicy`] | 0x002F |
//! | operational | [`OperationalParameters`] (opaque) | 0x0024 |
//! | mimi private | [`BanList`], [`OrgScopedRoles`] | 0x8000–0x8001 |

use crate::error::{DecodeError, EncodeError};

/// A component's `data` type: the value stored under [`Component::ID`] in the
/// dictionary. (Delta updates such as [`ParticipantListUpdate`] are not
/// components themselves; they decode with their own `decode`.)
pub trait Component: Sized {
    /// The dictionary id.
    const ID: ComponentId;

    /// Decodes exactly one value spanning all of `bytes`.
    ///
    /// # Errors
    /// Any [`DecodeError`].
    fn decode_data(bytes: &[u8]) -> Result<Self, DecodeError>;

    /// Encodes the value as the dictionary's `data` bytes.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] past the MLS length limit.
    fn encode_data(&self) -> Result<Vec<u8>, EncodeError>;
}

/// Implements [`Component`] for a data type with its id.
macro_rules! component {
    ($ty:ty => $id:ident) => {
        impl crate::components::Component for $ty {
            const ID: crate::components::ComponentId = crate::components::ComponentId::$id;

            fn decode_data(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
                Self::decode(bytes)
            }

            fn encode_data(&self) -> Result<Vec<u8>, crate::EncodeError> {
                self.encode()
            }
        }
    };
}
pub(crate) use component;

mod assets;
mod bans;
mod base_policy;
mod bots;
mod capability;
mod client_policies;
mod component_id;
mod credential;
mod dictionary;
mod franking;
mod join_links;
mod metadata;
mod operational;
mod participants;
mod preauth;
mod roles;

pub use assets::{
    AssetPolicy, AssetUploadLocation, DownloadPrivacy, DownloadPrivacyType, MAX_ASSET_LIST,
    MediaType, Parameter, ProviderAssetUploadDomains,
};
pub use bans::{BanList, BanRecord, OrgScopedRoles};
pub use base_policy::{BaseRoomPolicy, BaseRoomUpdate, MAX_POLICY_COMPONENTS};
pub use bots::{Bot, BotPolicy, MAX_BOTS};
pub use capability::{CapabilityStatus, CapabilityType, Enforcement};
pub use client_policies::{
    ExpirationBounds, Gated, HistoryPolicy, HistorySharing, LinkPreviewPolicy, LinkPreviewProxies,
    LoggingDetails, LoggingPolicy, MAX_POLICY_LIST, MessageExpiration, Optionality,
    StatusNotificationPolicy,
};
pub use component_id::ComponentId;
pub use credential::{CredentialType, MAX_CREDENTIAL_LEN, MlsCredential};
pub use dictionary::{
    AppDataDictionary, AppDataUpdate, AppDataUpdateOperation, ComponentData, ComponentValue,
    MAX_DICTIONARY_ENTRIES, RoomComponents,
};
pub use franking::{FrankingAgentData, FrankingAgentUpdate, MAX_SIGNATURE_KEY_LEN};
pub use join_links::{JoinLink, JoinLinkPolicy, JoinLinksData, JoinLinksUpdate, MAX_JOIN_LINKS};
pub use metadata::{
    MAX_DESCRIPTIONS, MAX_LONG_TEXT, MAX_SHORT_TEXT, MAX_URI_TEXT, RichDescription, RoomMetaData,
    RoomMetaUpdate, Uri,
};
pub use operational::OperationalParameters;
pub use participants::{
    MAX_PARTICIPANTS, ParticipantId, ParticipantListData, ParticipantListUpdate, UserRolePair,
    UserindexRolePair,
};
pub use preauth::{
    Claim, ClaimId, MAX_CLAIM_LEN, MAX_CLAIMS, MAX_PREAUTH_ENTRIES, PreAuthData, PreAuthRoleEntry,
    PreAuthUpdate,
};
pub use roles::{
    BANNED_ROLE, BANNED_ROLE_NAME, MAX_CAPABILITIES, MAX_ROLE_CHANGES, MAX_ROLES, NO_ROLE, Role,
    RoleData, RoleUpdate, SingleSourceRoleChangeTargets,
};
