//! Policy components that clients enforce (room-policy-03 §6.1, §6.3, §6.5,
//! §6.6, §6.8): status notifications, link previews, logging, history sharing
//! and message expiration. The hub stores and authorizes updates to them but
//! cannot see the content they govern.
//!
//! ```text
//! enum { optional(0), required(1), forbidden(2) } Optionality;
//! struct { Optionality delivery_notifications; Optionality read_receipts; } StatusNotificationPolicy;
//! struct {
//!   Optionality autodetect_hyperlinks_in_text;
//!   Optionality send_link_previews;
//!   Optionality automatic_link_previews;
//!   Optionality link_preview_proxy_use;
//!   select (link_preview_proxy_use) {
//!     case mandatory: Uri link_preview_proxy<V>;
//!     case optional:  Uri link_preview_proxy<V>;
//!     case forbidden: struct {};
//!   }
//! } LinkPreviewPolicy;
//! struct { Optionality logging; select (logging) {
//!     case mandatory, optional: Uri logging_clients<V>; Uri machine_readable_policy; Uri human_readable_policy;
//!     case forbidden: struct {}; } } LoggingPolicy;
//! struct { Optionality history_sharing; select (history_sharing) {
//!     case mandatory, optional: uint32 roles_that_can_share<V>; bool automatically_share; uint32 max_time_period;
//!     case forbidden: struct {}; } } HistoryPolicy;
//! struct { Optionality expiring_messages; select (expiring_messages) {
//!     case mandatory, optional: uint32 min_expiration_duration; uint32 max_expiration_duration;
//!                               optional uint32 default_expiration_duration;
//!     case forbidden: struct {}; } } MessageExpiration;
//! ```
//! The selects branch on `mandatory`, which `Optionality` lacks; we read it as
//! `required(1)` (digest C.2.2, RSC-9). Decoding checks the wire shape only:
//! the semantic MUSTs (at least one logging client when required, no role 0 in
//! `roles_that_can_share`…) are for the clients that apply these policies.

use super::metadata::Uri;
use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most URIs or role indexes in one list of these components.
pub const MAX_POLICY_LIST: usize = 1024;

/// `enum { optional(0), required(1), forbidden(2) } Optionality;` A `select`
/// depends on it, so unknown values cannot be skipped and are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Optionality {
    /// Each client follows its local setting.
    Optional,
    /// Always on (the draft's selects call it `mandatory`).
    Required,
    /// Always off.
    Forbidden,
}

impl Optionality {
    fn code(self) -> u8 {
        match self {
            Self::Optional => 0,
            Self::Required => 1,
            Self::Forbidden => 2,
        }
    }
}

impl Codec for Optionality {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Optional),
            1 => Ok(Self::Required),
            2 => Ok(Self::Forbidden),
            value => Err(DecodeError::UnknownValue {
                field: "Optionality",
                value: u64::from(value),
            }),
        }
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u8(self.code());
        Ok(())
    }
}

/// An `Optionality` together with the fields its `select` carries when it is
/// not `forbidden`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gated<T> {
    /// `optional(0)` with its fields.
    Optional(T),
    /// `required(1)` with its fields.
    Required(T),
    /// `forbidden(2)`: no fields.
    Forbidden,
}

impl<T> Gated<T> {
    /// The discriminant.
    pub fn optionality(&self) -> Optionality {
        match self {
            Self::Optional(_) => Optionality::Optional,
            Self::Required(_) => Optionality::Required,
            Self::Forbidden => Optionality::Forbidden,
        }
    }

    /// The fields, unless forbidden.
    pub fn fields(&self) -> Option<&T> {
        match self {
            Self::Optional(t) | Self::Required(t) => Some(t),
            Self::Forbidden => None,
        }
    }
}

impl<T: Codec> Codec for Gated<T> {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match Optionality::read(r)? {
            Optionality::Optional => Self::Optional(T::read(r)?),
            Optionality::Required => Self::Required(T::read(r)?),
            Optionality::Forbidden => Self::Forbidden,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.optionality().write(w)?;
        match self.fields() {
            Some(fields) => fields.write(w),
            None => Ok(()),
        }
    }
}

/// Delivery notifications and read receipts (§6.1; 0x0028).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusNotificationPolicy {
    /// Delivery notifications.
    pub delivery_notifications: Optionality,
    /// Read receipts.
    pub read_receipts: Optionality,
}

impl Codec for StatusNotificationPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            delivery_notifications: Optionality::read(r)?,
            read_receipts: Optionality::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.delivery_notifications.write(w)?;
        self.read_receipts.write(w)
    }
}

/// The `Uri link_preview_proxy<V>` list, kept as the vector the draft writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LinkPreviewProxies(pub Vec<Uri>);

impl Codec for LinkPreviewProxies {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.vector(
            "LinkPreviewPolicy.link_preview_proxy",
            MAX_POLICY_LIST,
            Uri::read,
        )?))
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.0, |w, u| u.write(w))
    }
}

/// Link previews (§6.3; 0x002B).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkPreviewPolicy {
    /// Detect links in text (the draft says this MUST NOT be mandatory).
    pub autodetect_hyperlinks_in_text: Optionality,
    /// Sender-generated previews.
    pub send_link_previews: Optionality,
    /// Receiver-generated previews.
    pub automatic_link_previews: Optionality,
    /// Whether previews go through a proxy, and which.
    pub link_preview_proxy_use: Gated<LinkPreviewProxies>,
}

impl Codec for LinkPreviewPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            autodetect_hyperlinks_in_text: Optionality::read(r)?,
            send_link_previews: Optionality::read(r)?,
            automatic_link_previews: Optionality::read(r)?,
            link_preview_proxy_use: Gated::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.autodetect_hyperlinks_in_text.write(w)?;
        self.send_link_previews.write(w)?;
        self.automatic_link_previews.write(w)?;
        self.link_preview_proxy_use.write(w)
    }
}

/// The fields of an enabled logging policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LoggingDetails {
    /// Logging clients (at most one per provider).
    pub logging_clients: Vec<Uri>,
    /// Machine-readable policy, or empty.
    pub machine_readable_policy: Uri,
    /// Human-readable policy, or empty.
    pub human_readable_policy: Uri,
}

impl Codec for LoggingDetails {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            logging_clients: r.vector(
                "LoggingPolicy.logging_clients",
                MAX_POLICY_LIST,
                Uri::read,
            )?,
            machine_readable_policy: Uri::read(r)?,
            human_readable_policy: Uri::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.logging_clients, |w, u| u.write(w))?;
        self.machine_readable_policy.write(w)?;
        self.human_readable_policy.write(w)
    }
}

/// Logging (§6.5; 0x002D).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoggingPolicy {
    /// Whether logging happens, and by whom.
    pub logging: Gated<LoggingDetails>,
}

impl Codec for LoggingPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            logging: Gated::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.logging.write(w)
    }
}

/// The fields of an enabled history-sharing policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct HistorySharing {
    /// Roles whose holders may share history.
    pub roles_that_can_share: Vec<u32>,
    /// Clients may share without user action.
    pub automatically_share: bool,
    /// How far back, in seconds.
    pub max_time_period: u32,
}

impl Codec for HistorySharing {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            roles_that_can_share: r.vector(
                "HistoryPolicy.roles_that_can_share",
                MAX_POLICY_LIST,
                |r| r.u32(),
            )?,
            automatically_share: r.bool("HistoryPolicy.automatically_share")?,
            max_time_period: r.u32()?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.roles_that_can_share, |w, v| {
            w.u32(*v);
            Ok(())
        })?;
        w.bool(self.automatically_share);
        w.u32(self.max_time_period);
        Ok(())
    }
}

/// Chat history sharing with new joiners (§6.6; 0x002E).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryPolicy {
    /// Whether history is shared, by whom and how far back.
    pub history_sharing: Gated<HistorySharing>,
}

impl Codec for HistoryPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            history_sharing: Gated::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.history_sharing.write(w)
    }
}

/// The fields of an enabled expiration policy, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ExpirationBounds {
    /// Shortest allowed expiry.
    pub min_expiration_duration: u32,
    /// Longest allowed expiry.
    pub max_expiration_duration: u32,
    /// Expiry applied when the sender gives none.
    pub default_expiration_duration: Option<u32>,
}

impl Codec for ExpirationBounds {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            min_expiration_duration: r.u32()?,
            max_expiration_duration: r.u32()?,
            default_expiration_duration: r
                .optional("MessageExpiration.default_expiration_duration", |r| r.u32())?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u32(self.min_expiration_duration);
        w.u32(self.max_expiration_duration);
        w.optional(self.default_expiration_duration.as_ref(), |w, v| {
            w.u32(*v);
            Ok(())
        })
    }
}

/// Message expiration (§6.8; 0x0030).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageExpiration {
    /// Whether messages expire, and within which bounds.
    pub expiring_messages: Gated<ExpirationBounds>,
}

impl Codec for MessageExpiration {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            expiring_messages: Gated::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.expiring_messages.write(w)
    }
}

wire_value!(
    StatusNotificationPolicy => "StatusNotificationPolicy",
    LinkPreviewPolicy => "LinkPreviewPolicy",
    LoggingPolicy => "LoggingPolicy",
    HistoryPolicy => "HistoryPolicy",
    MessageExpiration => "MessageExpiration",
);
super::component!(StatusNotificationPolicy => STATUS_NOTIFICATION_POLICY);
super::component!(LinkPreviewPolicy => LINK_PREVIEW_POLICY);
super::component!(LoggingPolicy => LOGGING_POLICY);
super::component!(HistoryPolicy => CHAT_HISTORY_POLICY);
super::component!(MessageExpiration => MESSAGE_EXPIRATION_POLICY);
