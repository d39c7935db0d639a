//! `POST /v1/identifierQuery/{domain}`: find a provider's internal user URI from
//! a handle, email, phone number or profile field (protocol-06 §5.8). Sent
//! directly to the target provider, never via a hub.

use openmls::prelude::AppDataDictionary;

use crate::codec::{Codec, Reader, Utf8String, Writer, tls_via_codec, wire_body, wire_enum};
use crate::error::{DecodeError, EncodeError};
use crate::id::UserId;

/// Most query elements in one request. They are ANDed; the cap bounds the
/// matching work per request.
pub const MAX_QUERY_ELEMENTS: usize = 16;

/// Most URIs and most profiles one response may carry. Bounds what a querier
/// must hold; a provider with more matches answers `ambiguous`.
pub const MAX_QUERY_RESULTS: usize = 1000;

/// Most fields per returned profile. vCard and OIDC define a few dozen.
pub const MAX_PROFILE_FIELDS: usize = 128;

wire_enum! {
    /// `SearchIdentifierType` (protocol-06 §5.8).
    pub enum SearchIdentifierType {
        /// The exact handle URI.
        Handle = 1,
        /// The exact nickname (the handle's user part).
        Nick = 2,
        /// An exact email addr-spec.
        Email = 3,
        /// An exact E.164 number with `+`.
        Phone = 4,
        /// A case-insensitive substring of name fields.
        PartialName = 5,
        /// A substring of any searchable field.
        WholeProfile = 6,
        /// An exact OIDC standard claim.
        OidcStdClaim = 7,
        /// An exact vCard property.
        VcardField = 8,
    }
}

/// The search type of a [`QueryElement`] with the field name it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchField {
    /// `handle`.
    Handle,
    /// `nick`.
    Nick,
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `partialName`.
    PartialName,
    /// `wholeProfile`.
    WholeProfile,
    /// `oidcStdClaim` with `opaque claimName<V>`.
    OidcStdClaim {
        /// The claim, e.g. `email`.
        claim_name: Utf8String,
    },
    /// `vcardField` with `opaque propertyName<V>`.
    VcardField {
        /// The property, e.g. `TEL`.
        property_name: Utf8String,
    },
}

impl SearchField {
    /// The wire search type.
    pub fn search_type(&self) -> SearchIdentifierType {
        match self {
            Self::Handle => SearchIdentifierType::Handle,
            Self::Nick => SearchIdentifierType::Nick,
            Self::Email => SearchIdentifierType::Email,
            Self::Phone => SearchIdentifierType::Phone,
            Self::PartialName => SearchIdentifierType::PartialName,
            Self::WholeProfile => SearchIdentifierType::WholeProfile,
            Self::OidcStdClaim { .. } => SearchIdentifierType::OidcStdClaim,
            Self::VcardField { .. } => SearchIdentifierType::VcardField,
        }
    }
}

/// `QueryElement` (protocol-06 §5.8).
///
/// ```text
/// struct {
///   SearchIdentifierType searchType;
///   select (searchType) {
///     case oidcStdClaim: opaque claimName<V>;
///     case vcardField:   opaque propertyName<V>;
///   };
///   opaque searchValue<V>;                // UTF-8
/// } QueryElement;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryElement {
    /// What to match.
    pub search: SearchField,
    /// The value to match it against.
    pub search_value: Utf8String,
}

tls_via_codec!(QueryElement);

/// `IdentifierRequest` (protocol-06 §5.8): all elements must match.
///
/// ```text
/// struct {
///   QueryElement query_elements<V>;
///   AppDataDictionary id_request_extensions;
/// } IdentifierRequest;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IdentifierRequest {
    /// Criteria, ANDed (at most [`MAX_QUERY_ELEMENTS`]).
    pub query_elements: Vec<QueryElement>,
    /// Extension point.
    pub id_request_extensions: AppDataDictionary,
}

wire_body!(IdentifierRequest, "IdentifierRequest");

wire_enum! {
    /// `IdentifierQueryCode` (protocol-06 §5.8).
    pub enum IdentifierQueryCode {
        /// Found.
        Success = 0,
        /// No match.
        NotFound = 1,
        /// Too many matches.
        Ambiguous = 2,
        /// Not allowed to search.
        Forbidden = 3,
        /// A searched field is not supported.
        UnsupportedField = 4,
    }
}

wire_enum! {
    /// `enum { reserved(0), oidcStdClaim(7), vcardField(8), (255) } FieldSource;`
    pub enum FieldSource {
        /// An OIDC standard claim.
        OidcStdClaim = 7,
        /// A vCard property.
        VcardField = 8,
    }
}

/// `ProfileField` (protocol-06 §5.8).
///
/// ```text
/// struct {
///   FieldSource fieldSource;
///   string fieldName;                     // opaque<V> UTF-8 (decisions W-6)
///   opaque fieldValue<V>;
/// } ProfileField;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileField {
    /// Which naming scheme `field_name` belongs to.
    pub field_source: FieldSource,
    /// The claim or property name.
    pub field_name: Utf8String,
    /// The value (bytes: a vCard PHOTO is not text).
    pub field_value: Vec<u8>,
}

tls_via_codec!(ProfileField);

/// `UserProfile` (protocol-06 §5.8).
///
/// ```text
/// struct { IdentifierUri stableUri; ProfileField fields<V>; } UserProfile;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// The user's stable URI.
    pub stable_uri: UserId,
    /// Fields the user made visible (at most [`MAX_PROFILE_FIELDS`]).
    pub fields: Vec<ProfileField>,
}

tls_via_codec!(UserProfile);

/// `IdentifierResponse` (protocol-06 §5.8).
///
/// ```text
/// struct {
///   IdentifierQueryCode responseCode;
///   IdentifierUri uri<V>;
///   UserProfile foundProfiles<V>;
///   AppDataDictionary id_response_extensions;
/// } IdentifierResponse;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IdentifierResponse {
    /// The outcome.
    pub response_code: IdentifierQueryCode,
    /// Matching users (at most [`MAX_QUERY_RESULTS`]).
    pub uri: Vec<UserId>,
    /// Their profiles (at most [`MAX_QUERY_RESULTS`]).
    pub found_profiles: Vec<UserProfile>,
    /// Extension point.
    pub id_response_extensions: AppDataDictionary,
}

wire_body!(IdentifierResponse, "IdentifierResponse");

impl Codec for QueryElement {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let search = match SearchIdentifierType::read(r, "QueryElement.searchType")? {
            SearchIdentifierType::Handle => SearchField::Handle,
            SearchIdentifierType::Nick => SearchField::Nick,
            SearchIdentifierType::Email => SearchField::Email,
            SearchIdentifierType::Phone => SearchField::Phone,
            SearchIdentifierType::PartialName => SearchField::PartialName,
            SearchIdentifierType::WholeProfile => SearchField::WholeProfile,
            SearchIdentifierType::OidcStdClaim => SearchField::OidcStdClaim {
                claim_name: r.item("QueryElement.claimName")?,
            },
            SearchIdentifierType::VcardField => SearchField::VcardField {
                property_name: r.item("QueryElement.propertyName")?,
            },
        };
        Ok(Self {
            search,
            search_value: r.item("QueryElement.searchValue")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.search.search_type().write(w);
        if let SearchField::OidcStdClaim { claim_name: name }
        | SearchField::VcardField {
            property_name: name,
        } = &self.search
        {
            w.opaque(name.as_str().as_bytes())?;
        }
        w.opaque(self.search_value.as_str().as_bytes())
    }
}

impl Codec for IdentifierRequest {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            query_elements: r.vector(
                "IdentifierRequest.query_elements",
                MAX_QUERY_ELEMENTS,
                QueryElement::read,
            )?,
            id_request_extensions: r.mls("IdentifierRequest.id_request_extensions")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.query_elements, |w, e| e.write(w))?;
        w.mls(&self.id_request_extensions)
    }
}

impl Codec for ProfileField {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            field_source: FieldSource::read(r, "ProfileField.fieldSource")?,
            field_name: r.item("ProfileField.fieldName")?,
            field_value: r.opaque_uncapped()?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.field_source.write(w);
        w.opaque(self.field_name.as_str().as_bytes())?;
        w.opaque(&self.field_value)
    }
}

impl Codec for UserProfile {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            stable_uri: r.item("UserProfile.stableUri")?,
            fields: r.vector("UserProfile.fields", MAX_PROFILE_FIELDS, ProfileField::read)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.stable_uri.as_bytes())?;
        w.vector(&self.fields, |w, f| f.write(w))
    }
}

impl Codec for IdentifierResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            response_code: IdentifierQueryCode::read(r, "IdentifierResponse.responseCode")?,
            uri: r.vector("IdentifierResponse.uri", MAX_QUERY_RESULTS, |r| {
                r.item("IdentifierResponse.uri")
            })?,
            found_profiles: r.vector(
                "IdentifierResponse.foundProfiles",
                MAX_QUERY_RESULTS,
                UserProfile::read,
            )?,
            id_response_extensions: r.mls("IdentifierResponse.id_response_extensions")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.response_code.write(w);
        w.vector(&self.uri, |w, uri| w.opaque(uri.as_bytes()))?;
        w.vector(&self.found_profiles, |w, p| p.write(w))?;
        w.mls(&self.id_response_extensions)
    }
}

#[cfg(test)]
mod tests {
    use tls_codec::Size;

    use super::*;

    #[test]
    fn profile_field_size_counts_the_value() {
        let field = ProfileField {
            field_source: FieldSource::VcardField,
            field_name: Utf8String::new("TEL").unwrap(),
            field_value: vec![1; 70],
        };
        // Source, "TEL" with its 1-byte prefix, 70 bytes with a 2-byte prefix.
        assert_eq!(field.tls_serialized_len(), 1 + 4 + 2 + 70);
    }
}
