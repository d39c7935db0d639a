//! `POST /v1/keyMaterial/{targetUser}`: claim one KeyPackage per client of a
//! user (protocol-06 §5.2).
//!
//! The request is signed by the requesting client (`SignWithLabel`, label
//! `KeyMaterialRequestTBS`) so the target provider can check who asks even when
//! the hub relays it.

use openmls::prelude::{
    Capabilities, Ciphersuite, Credential, KeyPackageIn, OpenMlsCrypto,
    RequiredCapabilitiesExtension, SignaturePublicKey, VerifiableCiphersuite,
};
use openmls_traits::signatures::Signer;
use openmls_traits::types::SignatureScheme;
use tls_codec::DeserializeBytes;

use crate::codec::{Codec, Reader, Writer, encode_all, tls_via_codec, wire_body, wire_enum};
use crate::error::{DecodeError, EncodeError};
use crate::id::{ClientId, RoomId, UserId};
use crate::messages::crypto::{CryptoError, sign_with_label, verify_with_label};
use crate::messages::{Protocol, read_protocol};

/// Most cipher suites a request may list. There are a dozen registered suites;
/// the cap bounds the filtering work per KeyPackage on the target provider.
pub const MAX_ACCEPTABLE_CIPHERSUITES: usize = 64;

/// Most clients one response may describe. Bounds the KeyPackages (each a few
/// hundred bytes plus a signature check) a requester must hold and verify.
pub const MAX_CLIENTS_PER_USER: usize = 256;

/// Label of the request signature (RFC 9420 `SignWithLabel`).
pub const KEY_MATERIAL_REQUEST_LABEL: &str = "KeyMaterialRequestTBS";

/// The signed part of a [`KeyMaterialRequest`]: the request without its
/// signature.
///
/// ```text
/// struct {
///   Protocol protocol;
///   IdentifierUri requestingUser;
///   IdentifierUri targetUser;
///   IdentifierUri roomId;            // zero-length outside a room (decisions W-3)
///   select (protocol) {
///     case mls10:
///       CipherSuite acceptableCiphersuites<V>;
///       RequiredCapabilities requiredCapabilities;
///       SignaturePublicKey requesterSignatureKey;
///       Credential requesterCredential;
///   };
/// } KeyMaterialRequestTBS;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMaterialRequestTbs {
    /// The user on whose behalf the KeyPackages are claimed.
    pub requesting_user: UserId,
    /// The user whose KeyPackages are claimed.
    pub target_user: UserId,
    /// The room the KeyPackages are for; `None` outside a room. Consent may be
    /// scoped to a room, so the draft requires it when adding to one.
    pub room_id: Option<RoomId>,
    /// Suites the requester accepts, preferred first. Unknown suites are kept
    /// (the target simply has no KeyPackage for them). The first one also
    /// names the signature scheme (decisions W-4).
    pub acceptable_ciphersuites: Vec<VerifiableCiphersuite>,
    /// Capabilities every returned KeyPackage must have (RFC 9420 §11.1).
    pub required_capabilities: RequiredCapabilitiesExtension,
    /// The requesting client's signature key.
    pub requester_signature_key: SignaturePublicKey,
    /// The requesting client's credential.
    pub requester_credential: Credential,
}

/// `KeyMaterialRequest` (protocol-06 §5.2): the TBS followed by
/// `opaque key_material_request_signature<V>`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMaterialRequest {
    /// Everything the signature covers.
    pub tbs: KeyMaterialRequestTbs,
    /// `SignWithLabel(requesterSignatureKey, "KeyMaterialRequestTBS", tbs)`.
    pub signature: Vec<u8>,
}

tls_via_codec!(KeyMaterialRequestTbs);
wire_body!(KeyMaterialRequest, "KeyMaterialRequest");

wire_enum! {
    /// `KeyMaterialUserCode` (protocol-06 §5.2; the draft's `;` separators read as `,`).
    pub enum KeyMaterialUserCode {
        /// KeyPackages for every client.
        Success = 0,
        /// KeyPackages for some clients.
        PartialSuccess = 1,
        /// The target does not speak the requested protocol.
        IncompatibleProtocol = 2,
        /// No client has compatible key material.
        NoCompatibleMaterial = 3,
        /// No such user.
        UserUnknown = 4,
        /// The target has not consented (also a privacy catch-all).
        NoConsent = 5,
        /// The target's consent excludes this room.
        NoConsentForThisRoom = 6,
        /// The user was deleted.
        UserDeleted = 7,
    }
}

wire_enum! {
    /// `KeyMaterialClientCode` (protocol-06 §5.2).
    pub enum KeyMaterialClientCode {
        /// A KeyPackage follows.
        Success = 0,
        /// The client has no KeyPackages left.
        KeyMaterialExhausted = 1,
        /// The client has none matching the request; its capabilities may follow.
        NothingCompatible = 2,
    }
}

/// The outcome for one client, with the fields its code selects.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientStatus {
    /// `success`: `KeyPackage keyPackage`.
    Success(Box<KeyPackageIn>),
    /// `keyMaterialExhausted`: no fields.
    KeyMaterialExhausted,
    /// `nothingCompatible`: `optional<Capabilities> clientCapabilities`.
    NothingCompatible(Option<Capabilities>),
}

impl ClientStatus {
    /// The wire code.
    pub fn code(&self) -> KeyMaterialClientCode {
        match self {
            Self::Success(_) => KeyMaterialClientCode::Success,
            Self::KeyMaterialExhausted => KeyMaterialClientCode::KeyMaterialExhausted,
            Self::NothingCompatible(_) => KeyMaterialClientCode::NothingCompatible,
        }
    }
}

/// `ClientKeyMaterial` (protocol-06 §5.2).
///
/// ```text
/// struct {
///   KeyMaterialClientCode clientStatus;
///   IdentifierUri clientUri;
///   select (protocol) {             // the response's protocol
///     case mls10:
///       select (clientStatus) {
///         case success:           KeyPackage keyPackage;
///         case nothingCompatible: optional<Capabilities> clientCapabilities;
///       };
///   };
/// } ClientKeyMaterial;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClientKeyMaterial {
    /// The client.
    pub client_uri: ClientId,
    /// Its outcome and the fields that come with it.
    pub status: ClientStatus,
}

tls_via_codec!(ClientKeyMaterial);

/// `KeyMaterialResponse` (protocol-06 §5.2).
///
/// ```text
/// struct {
///   Protocol protocol;
///   KeyMaterialUserCode userStatus;
///   IdentifierUri userUri;
///   ClientKeyMaterial clients<V>;
/// } KeyMaterialResponse;
/// ```
///
/// `clients` is only allowed with `success`, `partialSuccess` and
/// `noCompatibleMaterial`; decoding refuses it with any other code.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMaterialResponse {
    /// The outcome for the user.
    pub user_status: KeyMaterialUserCode,
    /// The user.
    pub user_uri: UserId,
    /// One entry per client (at most [`MAX_CLIENTS_PER_USER`]).
    pub clients: Vec<ClientKeyMaterial>,
}

wire_body!(KeyMaterialResponse, "KeyMaterialResponse");

impl KeyMaterialResponse {
    /// Whether the answer says the user has no usable key material. We send
    /// `noCompatibleMaterial` when every client is out of KeyPackages; another
    /// reading of the draft sends `success` or `partialSuccess` with no client
    /// in `success`. Both mean the same on receipt (decisions W-24).
    pub fn is_out_of_key_material(&self) -> bool {
        match self.user_status {
            KeyMaterialUserCode::NoCompatibleMaterial => true,
            KeyMaterialUserCode::Success | KeyMaterialUserCode::PartialSuccess => !self
                .clients
                .iter()
                .any(|c| matches!(c.status, ClientStatus::Success(_))),
            _ => false,
        }
    }
}

impl KeyMaterialRequestTbs {
    /// Signs the request with the requesting client's key.
    ///
    /// # Errors
    /// [`CryptoError::SchemeMismatch`] if the signer's scheme is not the one of
    /// the first acceptable cipher suite (decisions W-4), or a signing failure.
    pub fn sign(self, signer: &impl Signer) -> Result<KeyMaterialRequest, CryptoError> {
        if first_suite_scheme(&self.acceptable_ciphersuites) != Some(signer.signature_scheme()) {
            return Err(CryptoError::SchemeMismatch);
        }
        let content = encode_all(&self).map_err(|_| CryptoError::Encode)?;
        let signature = sign_with_label(signer, KEY_MATERIAL_REQUEST_LABEL, &content)?;
        Ok(KeyMaterialRequest {
            tbs: self,
            signature,
        })
    }
}

impl Codec for KeyMaterialRequestTbs {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(r)?;
        Ok(Self {
            requesting_user: r.item("KeyMaterialRequest.requestingUser")?,
            target_user: r.item("KeyMaterialRequest.targetUser")?,
            room_id: read_zero_len_optional(r, "KeyMaterialRequest.roomId")?,
            acceptable_ciphersuites: r.vector(
                "KeyMaterialRequest.acceptableCiphersuites",
                MAX_ACCEPTABLE_CIPHERSUITES,
                |r| r.mls("KeyMaterialRequest.acceptableCiphersuites"),
            )?,
            required_capabilities: r.mls("KeyMaterialRequest.requiredCapabilities")?,
            requester_signature_key: r.mls("KeyMaterialRequest.requesterSignatureKey")?,
            requester_credential: r.mls("KeyMaterialRequest.requesterCredential")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        Protocol::Mls10.write(w);
        w.opaque(self.requesting_user.as_bytes())?;
        w.opaque(self.target_user.as_bytes())?;
        // Zero-length outside a room (decisions W-3), never a presence byte.
        w.opaque(self.room_id.as_ref().map_or(&[][..], RoomId::as_bytes))?;
        w.mls(&self.acceptable_ciphersuites)?;
        w.mls(&self.required_capabilities)?;
        w.mls(&self.requester_signature_key)?;
        w.mls(&self.requester_credential)
    }
}

impl KeyMaterialRequest {
    /// The signature scheme of the request: that of the first acceptable
    /// cipher suite (decisions W-4). `None` if the list is empty or the suite
    /// unknown, in which case the request cannot be verified.
    pub fn signature_scheme(&self) -> Option<SignatureScheme> {
        first_suite_scheme(&self.tbs.acceptable_ciphersuites)
    }

    /// Verifies the signature with `requesterSignatureKey` under
    /// [`KeyMaterialRequest::signature_scheme`]. This proves possession of the
    /// key only; binding the credential to `requestingUser` is the caller's
    /// check.
    ///
    /// # Errors
    /// [`CryptoError::SchemeMismatch`] if no scheme can be derived,
    /// [`CryptoError::BadSignature`] if it does not verify.
    pub fn verify(&self, crypto: &impl OpenMlsCrypto) -> Result<(), CryptoError> {
        let scheme = self.signature_scheme().ok_or(CryptoError::SchemeMismatch)?;
        let content = encode_all(&self.tbs).map_err(|_| CryptoError::Encode)?;
        verify_with_label(
            crypto,
            scheme,
            &self.tbs.requester_signature_key,
            KEY_MATERIAL_REQUEST_LABEL,
            &content,
            &self.signature,
        )
    }
}

impl Codec for KeyMaterialRequest {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tbs: KeyMaterialRequestTbs::read(r)?,
            signature: r.opaque_uncapped()?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.tbs.write(w)?;
        w.opaque(&self.signature)
    }
}

impl Codec for ClientKeyMaterial {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = KeyMaterialClientCode::read(r, "ClientKeyMaterial.clientStatus")?;
        let client_uri = r.item("ClientKeyMaterial.clientUri")?;
        let status = match code {
            KeyMaterialClientCode::Success => {
                ClientStatus::Success(Box::new(r.mls("ClientKeyMaterial.keyPackage")?))
            }
            KeyMaterialClientCode::KeyMaterialExhausted => ClientStatus::KeyMaterialExhausted,
            KeyMaterialClientCode::NothingCompatible => ClientStatus::NothingCompatible(
                r.optional("ClientKeyMaterial.clientCapabilities", |r| {
                    r.mls("ClientKeyMaterial.clientCapabilities")
                })?,
            ),
        };
        Ok(Self { client_uri, status })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.status.code().write(w);
        w.opaque(self.client_uri.as_bytes())?;
        match &self.status {
            ClientStatus::Success(key_package) => w.mls(key_package),
            ClientStatus::KeyMaterialExhausted => Ok(()),
            ClientStatus::NothingCompatible(capabilities) => {
                w.optional(capabilities.as_ref(), |w, c| w.mls(c))
            }
        }
    }
}

impl Codec for KeyMaterialResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(r)?;
        let user_status = KeyMaterialUserCode::read(r, "KeyMaterialResponse.userStatus")?;
        let user_uri = r.item("KeyMaterialResponse.userUri")?;
        let clients = r.vector(
            "KeyMaterialResponse.clients",
            MAX_CLIENTS_PER_USER,
            ClientKeyMaterial::read,
        )?;
        let clients_allowed = matches!(
            user_status,
            KeyMaterialUserCode::Success
                | KeyMaterialUserCode::PartialSuccess
                | KeyMaterialUserCode::NoCompatibleMaterial
        );
        if !clients_allowed && !clients.is_empty() {
            return Err(DecodeError::Invalid {
                what: "KeyMaterialResponse.clients",
                reason: "must be empty for this userStatus",
            });
        }
        Ok(Self {
            user_status,
            user_uri,
            clients,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        Protocol::Mls10.write(w);
        self.user_status.write(w);
        w.opaque(self.user_uri.as_bytes())?;
        w.vector(&self.clients, |w, c| c.write(w))
    }
}

/// A zero-length `opaque<V>` is `None`, anything else is the identifier
/// (decisions W-3: `KeyMaterialRequest.roomId` may be empty).
fn read_zero_len_optional<T: DeserializeBytes>(
    r: &mut Reader<'_>,
    what: &'static str,
) -> Result<Option<T>, DecodeError> {
    if r.rest().first() == Some(&0) {
        r.u8()?;
        Ok(None)
    } else {
        r.item(what).map(Some)
    }
}

fn first_suite_scheme(suites: &[VerifiableCiphersuite]) -> Option<SignatureScheme> {
    let first = *suites.first()?;
    Ciphersuite::try_from(first)
        .ok()
        .map(|cs| cs.signature_algorithm())
}
