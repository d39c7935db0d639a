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

use crate::codec::MAX_MESSAGE_LEN;
use crate::error::{DecodeError, EncodeError};

/// The hand-written TLS-PL codec every component type implements.
pub(crate) trait Codec: Sized {
    fn read(r: &mut wire::Reader<'_>) -> Result<Self, DecodeError>;
    fn write(&self, w: &mut wire::Writer) -> Result<(), EncodeError>;
}

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

/// Decodes one `T` spanning all of `bytes`.
pub(crate) fn decode_all<T: Codec>(bytes: &[u8], what: &'static str) -> Result<T, DecodeError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(DecodeError::TooLarge(what));
    }
    let mut r = wire::Reader::new(bytes);
    let value = T::read(&mut r)?;
    r.finish()?;
    Ok(value)
}

pub(crate) fn encode_all<T: Codec>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut w = wire::Writer::new();
    value.write(&mut w)?;
    Ok(w.into_bytes())
}

/// Carries a [`DecodeError`] through `tls_codec`'s error type.
pub(crate) fn to_tls_error(e: DecodeError) -> tls_codec::Error {
    match e {
        DecodeError::Truncated => tls_codec::Error::EndOfStream,
        DecodeError::TrailingBytes => tls_codec::Error::TrailingData,
        DecodeError::InvalidLength => tls_codec::Error::InvalidVectorLength,
        DecodeError::UnknownValue { value, .. } => tls_codec::Error::UnknownValue(value),
        other => tls_codec::Error::DecodingError(other.to_string()),
    }
}

/// Gives a [`Codec`] type public `decode`/`encode` methods and the `tls_codec`
/// traits.
macro_rules! wire_value {
    ($($ty:ty => $name:literal),* $(,)?) => {$(
        impl $ty {
            /// Decodes exactly one value spanning all of `bytes`.
            ///
            /// # Errors
            /// Any [`DecodeError`](crate::DecodeError): truncation, trailing
            /// bytes, bad lengths, booleans or enum values, or a broken field rule.
            pub fn decode(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
                crate::components::decode_all(bytes, $name)
            }

            /// Encodes the value; the encoding is the only one [`Self::decode`] accepts.
            ///
            /// # Errors
            /// [`EncodeError::TooLong`](crate::EncodeError) if a vector exceeds
            /// the MLS 30-bit length limit.
            pub fn encode(&self) -> Result<Vec<u8>, crate::EncodeError> {
                crate::components::encode_all(self)
            }
        }

        impl tls_codec::Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                self.encode().map_or(0, |b| b.len())
            }
        }

        impl tls_codec::Serialize for $ty {
            fn tls_serialize<W: std::io::Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
                let bytes = self.encode().map_err(|_| tls_codec::Error::InvalidVectorLength)?;
                writer.write_all(&bytes)?;
                Ok(bytes.len())
            }
        }

        impl tls_codec::DeserializeBytes for $ty {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let mut r = crate::components::wire::Reader::new(bytes);
                let value = <$ty as crate::components::Codec>::read(&mut r)
                    .map_err(crate::components::to_tls_error)?;
                Ok((value, r.rest()))
            }
        }
    )*};
}
pub(crate) use wire_value;

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
pub(crate) mod wire;

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
