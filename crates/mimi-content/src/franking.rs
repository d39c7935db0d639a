//! Franking inputs for the hub and for receivers (draft-ietf-mimi-protocol-06
//! §5.4.1, mls-extensions "Safe AAD").
//!
//! The sender computes `franking_tag = HMAC-SHA256(key = salt, application_data)`
//! and puts it in the PrivateMessage's `authenticated_data` as the `frank_aad`
//! SafeAAD item (component 0x0020). The hub reads the tag from the cleartext
//! AAD and franks it; on an abuse report it recomputes the tag from the
//! reported content. Wire structures (TLS presentation language):
//!
//! ```text
//! struct { ComponentID component_id; opaque aad_item_data<V>; } SafeAADItem;
//! struct { SafeAADItem aad_items<V>; } SafeAAD;   // sorted by component_id, no duplicates
//! struct { uint8 franking_tag[32]; } FrankAAD;    // component 0x0020
//! ```
//! When the group uses SafeAAD, `authenticated_data` is a `SafeAAD` followed
//! by whatever else the application puts there.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tls_codec::{
    DeserializeBytes, Serialize as _, TlsDeserializeBytes, TlsSerialize, TlsSize, VLBytes,
};

use crate::content::MimiContent;
use crate::error::{DecodeError, Error, Malformed};
use crate::id::Salt;

/// mls-extensions component ID of `safe_aad` (lists the SafeAAD components a
/// group uses; suggested value).
pub const SAFE_AAD_COMPONENT_ID: u16 = 0x0002;
/// MIMI component ID of `frank_aad` (protocol-06 §10; suggested value).
pub const FRANK_AAD_COMPONENT_ID: u16 = 0x0020;

type HmacSha256 = Hmac<Sha256>;

/// A franking tag: HMAC-SHA256 of the application data, keyed by the salt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrankingTag([u8; 32]);

impl FrankingTag {
    /// Computes the tag over `application_data`: the MLS application data
    /// exactly as encrypted (the content, inside `ApplicationFraming` if the
    /// group uses content media types).
    pub fn compute(salt: &Salt, application_data: &[u8]) -> Self {
        let mut mac = hmac_for(salt);
        mac.update(application_data);
        Self(mac.finalize().into_bytes().into())
    }

    /// Checks the tag in constant time.
    ///
    /// # Errors
    /// [`Error::FrankingTagMismatch`].
    pub fn verify(&self, salt: &Salt, application_data: &[u8]) -> Result<(), Error> {
        let mut mac = hmac_for(salt);
        mac.update(application_data);
        mac.verify_slice(&self.0)
            .map_err(|_| Error::FrankingTagMismatch)
    }

    /// A tag with the given bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The tag's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The `frank_aad` SafeAAD item: `struct { uint8 franking_tag[32]; } FrankAAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrankAad {
    /// The sender's franking tag.
    pub franking_tag: FrankingTag,
}

impl FrankAad {
    /// The item data: the 32 tag bytes (a fixed array has no length prefix).
    pub fn encode(&self) -> Vec<u8> {
        self.franking_tag.0.to_vec()
    }

    /// Decodes item data.
    ///
    /// # Errors
    /// [`Malformed::WrongLength`] unless exactly 32 bytes.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        let tag = <[u8; 32]>::try_from(data).map_err(|_| {
            Malformed::WrongLength {
                field: "FrankAAD",
                expected: 32,
                found: data.len() as u64,
            }
            .at(0)
        })?;
        Ok(Self {
            franking_tag: FrankingTag(tag),
        })
    }
}

/// One SafeAAD entry.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub struct SafeAadItem {
    component_id: u16,
    aad_item_data: VLBytes,
}

impl SafeAadItem {
    /// An item for a component.
    pub fn new(component_id: u16, data: Vec<u8>) -> Self {
        Self {
            component_id,
            aad_item_data: data.into(),
        }
    }

    /// The component it belongs to.
    pub fn component_id(&self) -> u16 {
        self.component_id
    }

    /// Its data.
    pub fn data(&self) -> &[u8] {
        self.aad_item_data.as_slice()
    }
}

/// The SafeAAD at the start of `authenticated_data`: items sorted by
/// component ID, at most one per component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SafeAad {
    items: Vec<SafeAadItem>,
}

impl SafeAad {
    /// Checks and wraps items.
    ///
    /// # Errors
    /// [`Malformed::UnsortedComponents`] unless strictly increasing by component ID.
    pub fn new(items: Vec<SafeAadItem>) -> Result<Self, Malformed> {
        if items
            .windows(2)
            .any(|w| w[0].component_id >= w[1].component_id)
        {
            return Err(Malformed::UnsortedComponents);
        }
        Ok(Self { items })
    }

    /// A SafeAAD holding only the `frank_aad` item.
    pub fn with_frank_aad(tag: FrankingTag) -> Self {
        Self {
            items: vec![SafeAadItem::new(
                FRANK_AAD_COMPONENT_ID,
                FrankAad { franking_tag: tag }.encode(),
            )],
        }
    }

    /// The items.
    pub fn items(&self) -> &[SafeAadItem] {
        &self.items
    }

    /// The data of one component's item.
    pub fn get(&self, component_id: u16) -> Option<&[u8]> {
        self.items
            .binary_search_by_key(&component_id, SafeAadItem::component_id)
            .ok()
            .and_then(|i| self.items.get(i))
            .map(SafeAadItem::data)
    }

    /// The `frank_aad` item, if present.
    ///
    /// # Errors
    /// The item is present but not 32 bytes.
    pub fn frank_aad(&self) -> Result<Option<FrankAad>, DecodeError> {
        self.get(FRANK_AAD_COMPONENT_ID)
            .map(FrankAad::decode)
            .transpose()
    }

    /// The TLS encoding.
    ///
    /// # Errors
    /// [`Error::TlsEncode`] past the MLS 30-bit length limit.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        self.items
            .tls_serialize_detached()
            .map_err(|_| Error::TlsEncode)
    }

    /// `authenticated_data` for an outgoing message: this SafeAAD, then `rest`.
    ///
    /// # Errors
    /// See [`SafeAad::encode`].
    pub fn authenticated_data(&self, rest: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = self.encode()?;
        out.extend_from_slice(rest);
        Ok(out)
    }

    /// Splits a received `authenticated_data` into its SafeAAD and the rest.
    ///
    /// # Errors
    /// A malformed TLS vector ([`Malformed::Truncated`],
    /// [`Malformed::InvalidVarint`], [`Malformed::TlsLengthMismatch`]) or
    /// unsorted items.
    pub fn split(authenticated_data: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let (items, rest) = Vec::<SafeAadItem>::tls_deserialize_bytes(authenticated_data)
            .map_err(|e| map_tls_error(&e).at(0))?;
        let consumed = authenticated_data.len() - rest.len();
        let aad = Self::new(items).map_err(|k| k.at(consumed))?;
        Ok((aad, rest))
    }

    /// Decodes a SafeAAD that spans all of `bytes`.
    ///
    /// # Errors
    /// See [`SafeAad::split`], plus [`Malformed::TrailingBytes`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (aad, rest) = Self::split(bytes)?;
        if rest.is_empty() {
            Ok(aad)
        } else {
            Err(Malformed::TrailingBytes.at(bytes.len() - rest.len()))
        }
    }
}

/// What the hub (abuse reports) and receivers (frank verification) extract
/// from franked content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrankingInputs {
    /// The HMAC key.
    pub salt: Salt,
    /// Extension 1: must equal the sender's credential identity.
    pub sender_uri: String,
    /// Extension 2: must equal the room.
    pub room_uri: String,
    /// The tag recomputed over the content.
    pub franking_tag: FrankingTag,
}

impl FrankingInputs {
    /// Decodes content (the whole application data, no `ApplicationFraming`)
    /// and recomputes its tag.
    ///
    /// With `ApplicationFraming`, decode the inner content yourself and
    /// compute the tag over the full application data with
    /// [`FrankingTag::compute`].
    ///
    /// # Errors
    /// [`Error::Decode`] for malformed content, [`Error::MissingUri`] if the
    /// content lacks extension 1 or 2 (franking requires both).
    pub fn from_content(content: &[u8]) -> Result<Self, Error> {
        let decoded = MimiContent::decode(content)?;
        let ext = &decoded.extensions;
        let sender_uri = ext.sender_uri().ok_or(Error::MissingUri("sender"))?;
        let room_uri = ext.room_uri().ok_or(Error::MissingUri("room"))?;
        Ok(Self {
            salt: decoded.salt,
            sender_uri: sender_uri.to_owned(),
            room_uri: room_uri.to_owned(),
            franking_tag: FrankingTag::compute(&decoded.salt, content),
        })
    }
}

fn hmac_for(salt: &Salt) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(salt.as_bytes()).expect("HMAC accepts keys of any length")
}

fn map_tls_error(e: &tls_codec::Error) -> Malformed {
    match e {
        tls_codec::Error::EndOfStream => Malformed::Truncated,
        tls_codec::Error::InvalidVectorLength => Malformed::InvalidVarint,
        tls_codec::Error::TrailingData => Malformed::TrailingBytes,
        _ => Malformed::TlsLengthMismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] = include_bytes!("../test_vectors/original.cbor");

    #[test]
    fn tag_is_hmac_sha256_keyed_by_the_salt() {
        // Pins the construction: key = the 16-byte salt, message = the whole
        // application data (which contains the salt too).
        let inputs = FrankingInputs::from_content(ORIGINAL).expect("vector has URIs");
        let mut mac = HmacSha256::new_from_slice(&ORIGINAL[2..18]).expect("any key length");
        mac.update(ORIGINAL);
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(inputs.franking_tag.as_bytes(), &expected);
        assert_eq!(inputs.sender_uri, "mimi://example.com/u/alice-smith");
        assert_eq!(inputs.franking_tag.verify(&inputs.salt, ORIGINAL), Ok(()));

        let mut altered = ORIGINAL.to_vec();
        *altered.last_mut().expect("non-empty") ^= 1;
        assert_eq!(
            inputs.franking_tag.verify(&inputs.salt, &altered),
            Err(Error::FrankingTagMismatch)
        );
    }

    #[test]
    fn safe_aad_layout_and_round_trip() {
        let tag = FrankingTag::from_bytes([0xab; 32]);
        let aad = SafeAad::with_frank_aad(tag);
        let bytes = aad.authenticated_data(b"app").expect("small");
        // varint(36) | 0x0020 | varint(32) | tag | rest
        let mut expected = vec![35, 0x00, 0x20, 32];
        expected.extend_from_slice(&[0xab; 32]);
        expected.extend_from_slice(b"app");
        assert_eq!(bytes, expected);

        let (parsed, rest) = SafeAad::split(&bytes).expect("valid");
        assert_eq!(rest, b"app");
        assert_eq!(parsed.frank_aad(), Ok(Some(FrankAad { franking_tag: tag })));
        assert_eq!(
            SafeAad::decode(&bytes).map_err(|e| e.kind),
            Err(Malformed::TrailingBytes)
        );
        assert_eq!(SafeAad::decode(&[0]), Ok(SafeAad::default()));
    }

    #[test]
    fn malformed_safe_aad_is_rejected() {
        let unsorted = vec![SafeAadItem::new(5, vec![]), SafeAadItem::new(1, vec![])];
        assert_eq!(
            SafeAad::new(unsorted.clone()),
            Err(Malformed::UnsortedComponents)
        );
        let bytes = unsorted.tls_serialize_detached().expect("small");
        assert_eq!(
            SafeAad::decode(&bytes).map_err(|e| e.kind),
            Err(Malformed::UnsortedComponents)
        );
        let dup = vec![SafeAadItem::new(5, vec![]), SafeAadItem::new(5, vec![1])];
        assert_eq!(SafeAad::new(dup), Err(Malformed::UnsortedComponents));
        // Declares 40 bytes, has 3.
        assert!(SafeAad::split(&[40, 0, 0x20, 0]).is_err());
        // Non-minimal varint (2-byte form for 0).
        assert!(SafeAad::split(&[0x40, 0x00]).is_err());
        // frank_aad with a short tag.
        let short = SafeAad::new(vec![SafeAadItem::new(FRANK_AAD_COMPONENT_ID, vec![1; 31])])
            .expect("sorted");
        assert!(matches!(
            short.frank_aad().map_err(|e| e.kind),
            Err(Malformed::WrongLength { found: 31, .. })
        ));
    }

    #[test]
    fn franking_needs_both_uris() {
        let mut c = MimiContent::decode(ORIGINAL).expect("vector");
        c.extensions = crate::Extensions::new();
        let bytes = c.encode().expect("valid");
        assert_eq!(
            FrankingInputs::from_content(&bytes),
            Err(Error::MissingUri("sender"))
        );
    }
}
