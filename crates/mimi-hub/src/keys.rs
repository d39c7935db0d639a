//! The hub's own keys: its MLS external-sender signature key (which also signs
//! GroupInfoResponses, protocol-06 §5.6) and its franking secret.

use hmac::{Hmac, Mac as _};
use openmls::prelude::{BasicCredential, Credential, ExternalSender};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;
use rand::RngCore as _;
use sha2::Sha256;

use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{ProviderId, RoomId, UserId};

use crate::error::HubError;

/// Keys of one hub provider, shared by all rooms it hosts.
pub struct HubKeys {
    provider: ProviderId,
    signer: HubSigner,
    credential: Credential,
    /// Root of the per-room franking keys. Per-room keys are derived, so one
    /// room's key reveals nothing about another's (protocol-06 §5.4.1).
    franking_secret: [u8; 32],
}

impl std::fmt::Debug for HubKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubKeys")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// The local part of the user URI a hub acts as. Providers must not give it
/// to a person.
pub const HUB_USER: &str = "mimi-hub";

fn hub_user(provider: &ProviderId) -> UserId {
    UserId::parse(&format!("mimi://{}/u/{HUB_USER}", provider.domain()))
        .expect("a provider domain and a fixed segment form a valid user URI")
}

impl HubKeys {
    /// Generates fresh keys for `provider`.
    ///
    /// # Errors
    /// [`HubError::Internal`] if the system random source fails.
    pub fn generate(provider: ProviderId) -> Result<Self, HubError> {
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm())
            .map_err(|_| HubError::Internal("signature key generation failed"))?;
        let mut franking_secret = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut franking_secret)
            .map_err(|_| HubError::Internal("random source failed"))?;
        Ok(Self::from_parts(provider, signer, franking_secret))
    }

    /// Rebuilds keys from stored parts.
    pub fn from_parts(
        provider: ProviderId,
        signer: SignatureKeyPair,
        franking_secret: [u8; 32],
    ) -> Self {
        // The external sender's credential names the hub's own user URI, so the
        // room policy can list or preauthorize the hub as its policy enforcer
        // (room-policy A.10) like any participant (decision HUB-5).
        let identity = hub_user(&provider);
        let credential = BasicCredential::new(identity.as_bytes().to_vec()).into();
        Self {
            provider,
            signer: HubSigner::new(signer),
            credential,
            franking_secret,
        }
    }

    /// The user URI the hub acts as: `mimi://<domain>/u/mimi-hub`.
    pub fn identity(&self) -> UserId {
        hub_user(&self.provider)
    }

    /// The hub's provider id.
    pub fn provider(&self) -> &ProviderId {
        &self.provider
    }

    /// The signer for external proposals, GroupInfoResponses and franks.
    pub fn signer(&self) -> &HubSigner {
        &self.signer
    }

    /// The hub's signature public key.
    pub fn public_key(&self) -> &[u8] {
        self.signer.pair.public()
    }

    /// The `external_senders` entry every room hosted here must carry.
    pub fn external_sender(&self) -> ExternalSender {
        ExternalSender::new(self.public_key().to_vec().into(), self.credential.clone())
    }

    /// The franking HMAC key of one room.
    pub fn franking_key(&self, room: &RoomId) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.franking_secret)
            .expect("HMAC-SHA256 accepts keys of any length");
        mac.update(b"mimi franking key v1\0");
        mac.update(room.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The stored parts, for persistence.
    pub fn to_parts(&self) -> (&SignatureKeyPair, &[u8; 32]) {
        (&self.signer.pair, &self.franking_secret)
    }
}

/// The hub's signature key, ready to sign.
///
/// The hub signs every franked message (protocol-06 §5.4.1), so signing is on
/// its hottest path. `SignatureKeyPair::sign` rebuilds the Ed25519 key from its
/// private bytes on every call, which derives the public key again (a scalar
/// multiplication as costly as the signature itself); this keeps the built key.
/// Ed25519 signatures are deterministic, so both produce the same bytes.
pub struct HubSigner {
    pair: SignatureKeyPair,
    /// `None` for another scheme or a private key that does not match the
    /// public one: then the pair signs, exactly as before.
    ed25519: Option<ed25519_dalek::SigningKey>,
}

impl std::fmt::Debug for HubSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSigner")
            .field("scheme", &self.pair.signature_scheme())
            .field("kept", &self.ed25519.is_some())
            .finish_non_exhaustive()
    }
}

impl HubSigner {
    fn new(pair: SignatureKeyPair) -> Self {
        let ed25519 = (pair.signature_scheme() == SignatureScheme::ED25519)
            .then(|| ed25519_key(&pair))
            .flatten()
            .filter(|key| key.verifying_key().as_bytes().as_slice() == pair.public());
        Self { pair, ed25519 }
    }
}

/// The pair's private key as an Ed25519 signing key. The pair exposes its
/// private half only through its TLS encoding (`private<V>` comes first,
/// the layout the hub key file stores, see mimi-server's `hub_keys`).
fn ed25519_key(pair: &SignatureKeyPair) -> Option<ed25519_dalek::SigningKey> {
    use tls_codec::{Deserialize as _, Serialize as _};
    use zeroize::Zeroize as _;
    let mut encoded = pair.tls_serialize_detached().ok()?;
    let key = tls_codec::SecretVLBytes::tls_deserialize(&mut encoded.as_slice())
        .ok()
        .and_then(|private| ed25519_dalek::SigningKey::try_from(private.as_slice()).ok());
    encoded.zeroize();
    key
}

impl Signer for HubSigner {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        match &self.ed25519 {
            Some(key) => {
                use ed25519_dalek::Signer as _;
                Ok(key.sign(payload).to_bytes().to_vec())
            }
            None => self.pair.sign(payload),
        }
    }

    fn signature_scheme(&self) -> SignatureScheme {
        self.pair.signature_scheme()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_key_signs_exactly_as_the_key_pair() {
        let signer = HubSigner::new(SignatureKeyPair::new(SignatureScheme::ED25519).unwrap());
        assert!(
            signer.ed25519.is_some(),
            "an Ed25519 pair takes the fast path"
        );
        for payload in [&b""[..], b"frank", &[7u8; 1000]] {
            assert_eq!(
                signer.sign(payload).unwrap(),
                signer.pair.sign(payload).unwrap()
            );
        }
    }

    #[test]
    fn a_pair_whose_halves_disagree_signs_as_before() {
        let pair = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
        let other = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
        let private = ed25519_key(&pair).unwrap().to_bytes().to_vec();
        let mixed =
            SignatureKeyPair::from_raw(SignatureScheme::ED25519, private, other.public().to_vec());
        let signer = HubSigner::new(mixed);
        assert!(signer.ed25519.is_none());
        assert_eq!(signer.sign(b"x").unwrap(), signer.pair.sign(b"x").unwrap());
    }
}
