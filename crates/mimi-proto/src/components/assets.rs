//! Asset policy (room-policy-03 §6.4; component `asset_policy`, 0x002C) and the
//! `MediaType` of mls-extensions §6.2.2.
//!
//! ```text
//! enum { unspecified(0), localProvider(1), hub(2), (255) } AssetUploadLocation;
//! struct { opaque domain<V>; } DomainName;
//! struct { DomainName provider; DomainName asset_upload_destinations<V>; } ProviderAssetUploadDomains;
//! enum { direct(0), hubProxy(1), ohttp(2), (255) } DownloadPrivacyType;
//! struct {
//!   DownloadPrivacyType allowed_download_types<V>;
//!   DownloadPrivacyType forbidden_download_types<V>;
//!   DownloadPrivacyType default_download_type;
//! } DownloadPrivacy;
//! struct { opaque parameter_name<V>; opaque parameter_value<V>; } Parameter;
//! struct { opaque type<V>; Parameter parameters<V>; } MediaType;
//! struct {
//!   AssetUploadLocation asset_upload_location;
//!   ProviderAssetUploadDomains upload_domains<V>;
//!   DownloadPrivacy download_privacy;
//!   uint64 max_image; uint64 max_audio; uint64 max_video; uint64 max_attachment;
//!   MediaType forbidden_media_types<V>;
//!   optional<MediaType> permitted_media_types<V>;   // read: optional< MediaType list<V> >
//! } AssetPolicy;
//! ```
//! The two enums are open `uint8` newtypes: no `select` depends on them, so an
//! unknown value can round-trip.

use super::metadata::MAX_SHORT_TEXT;
use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most entries in any list of the asset policy.
pub const MAX_ASSET_LIST: usize = 1024;

/// Where clients upload assets. Open `uint8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AssetUploadLocation(pub u8);

impl AssetUploadLocation {
    /// `unspecified(0)`.
    pub const UNSPECIFIED: Self = Self(0);
    /// `localProvider(1)`: each client uploads to its own provider (RECOMMENDED).
    pub const LOCAL_PROVIDER: Self = Self(1);
    /// `hub(2)`.
    pub const HUB: Self = Self(2);
}

/// How clients download assets. Open `uint8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DownloadPrivacyType(pub u8);

impl DownloadPrivacyType {
    /// `direct(0)`.
    pub const DIRECT: Self = Self(0);
    /// `hubProxy(1)`.
    pub const HUB_PROXY: Self = Self(1);
    /// `ohttp(2)`.
    pub const OHTTP: Self = Self(2);
}

/// A provider and the domains its clients upload to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProviderAssetUploadDomains {
    /// `DomainName provider`.
    pub provider: String,
    /// `DomainName asset_upload_destinations<V>`.
    pub asset_upload_destinations: Vec<String>,
}

fn read_domain(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    Ok(r.text("DomainName", MAX_SHORT_TEXT)?.to_owned())
}

fn write_domain(w: &mut Writer, d: &String) -> Result<(), EncodeError> {
    w.opaque(d.as_bytes())
}

impl Codec for ProviderAssetUploadDomains {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            provider: read_domain(r)?,
            asset_upload_destinations: r.vector(
                "ProviderAssetUploadDomains.asset_upload_destinations",
                MAX_ASSET_LIST,
                read_domain,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        write_domain(w, &self.provider)?;
        w.vector(&self.asset_upload_destinations, write_domain)
    }
}

/// Which download paths are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DownloadPrivacy {
    /// Allowed types.
    pub allowed_download_types: Vec<DownloadPrivacyType>,
    /// Forbidden types.
    pub forbidden_download_types: Vec<DownloadPrivacyType>,
    /// The default.
    pub default_download_type: DownloadPrivacyType,
}

fn read_privacy_types(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Vec<DownloadPrivacyType>, DecodeError> {
    r.vector(field, MAX_ASSET_LIST, |r| r.u8().map(DownloadPrivacyType))
}

fn write_privacy_types(w: &mut Writer, types: &[DownloadPrivacyType]) -> Result<(), EncodeError> {
    w.vector(types, |w, t| {
        w.u8(t.0);
        Ok(())
    })
}

impl Codec for DownloadPrivacy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            allowed_download_types: read_privacy_types(
                r,
                "DownloadPrivacy.allowed_download_types",
            )?,
            forbidden_download_types: read_privacy_types(
                r,
                "DownloadPrivacy.forbidden_download_types",
            )?,
            default_download_type: DownloadPrivacyType(r.u8()?),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        write_privacy_types(w, &self.allowed_download_types)?;
        write_privacy_types(w, &self.forbidden_download_types)?;
        w.u8(self.default_download_type.0);
        Ok(())
    }
}

/// A media type parameter, quotes already removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Parameter {
    /// Name.
    pub parameter_name: String,
    /// Value.
    pub parameter_value: String,
}

impl Codec for Parameter {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            parameter_name: r
                .text("Parameter.parameter_name", MAX_SHORT_TEXT)?
                .to_owned(),
            parameter_value: r
                .text("Parameter.parameter_value", MAX_SHORT_TEXT)?
                .to_owned(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.parameter_name.as_bytes())?;
        w.opaque(self.parameter_value.as_bytes())
    }
}

/// `type/subtype` plus parameters (mls-extensions §6.2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MediaType {
    /// `type/subtype`.
    pub media_type: String,
    /// Parameters; an entry without any matches every parameter set.
    pub parameters: Vec<Parameter>,
}

impl Codec for MediaType {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            media_type: r.text("MediaType.type", MAX_SHORT_TEXT)?.to_owned(),
            parameters: r.vector("MediaType.parameters", MAX_ASSET_LIST, Parameter::read)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.media_type.as_bytes())?;
        w.vector(&self.parameters, |w, p| p.write(w))
    }
}

/// Where assets go, how they are fetched, and which are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssetPolicy {
    /// Upload location.
    pub asset_upload_location: AssetUploadLocation,
    /// Allowed upload domains per provider.
    pub upload_domains: Vec<ProviderAssetUploadDomains>,
    /// Download privacy.
    pub download_privacy: DownloadPrivacy,
    /// Largest image, in bytes.
    pub max_image: u64,
    /// Largest audio, in bytes.
    pub max_audio: u64,
    /// Largest video, in bytes.
    pub max_video: u64,
    /// Largest attachment, in bytes.
    pub max_attachment: u64,
    /// Never allowed.
    pub forbidden_media_types: Vec<MediaType>,
    /// If present, only these (minus the forbidden ones) are allowed.
    pub permitted_media_types: Option<Vec<MediaType>>,
}

fn read_media_types(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<Vec<MediaType>, DecodeError> {
    r.vector(field, MAX_ASSET_LIST, MediaType::read)
}

fn write_media_types(w: &mut Writer, types: &[MediaType]) -> Result<(), EncodeError> {
    w.vector(types, |w, t| t.write(w))
}

impl Codec for AssetPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            asset_upload_location: AssetUploadLocation(r.u8()?),
            upload_domains: r.vector(
                "AssetPolicy.upload_domains",
                MAX_ASSET_LIST,
                ProviderAssetUploadDomains::read,
            )?,
            download_privacy: DownloadPrivacy::read(r)?,
            max_image: r.u64()?,
            max_audio: r.u64()?,
            max_video: r.u64()?,
            max_attachment: r.u64()?,
            forbidden_media_types: read_media_types(r, "AssetPolicy.forbidden_media_types")?,
            permitted_media_types: r.optional("AssetPolicy.permitted_media_types", |r| {
                read_media_types(r, "AssetPolicy.permitted_media_types")
            })?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u8(self.asset_upload_location.0);
        w.vector(&self.upload_domains, |w, d| d.write(w))?;
        self.download_privacy.write(w)?;
        w.u64(self.max_image);
        w.u64(self.max_audio);
        w.u64(self.max_video);
        w.u64(self.max_attachment);
        write_media_types(w, &self.forbidden_media_types)?;
        w.optional(self.permitted_media_types.as_ref(), |w, t| {
            write_media_types(w, t)
        })
    }
}

wire_value!(
    MediaType => "MediaType",
    AssetPolicy => "AssetPolicy",
);
super::component!(AssetPolicy => ASSET_POLICY);
