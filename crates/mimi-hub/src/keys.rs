//! The hub's own keys: its MLS external-sender signature key (which also signs
//! GroupInfoResponses, protocol-06 §5.6) and its franking secret.

use hmac::{Hmac, Mac as _};
use openmls::prelude::{BasicCredential, Credential, ExternalSender};
use openmls_basic_credential::SignatureKeyPair;
use rand::RngCore as _;
use sha2::Sha256;

use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{ProviderId, RoomId, UserId};

use crate::error::HubError;

/// Keys of one hub provider, shared by all rooms it hosts.
pub struct HubKeys {
    provider: ProviderId,
    signer: SignatureKeyPair,
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
            signer,
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

    /// The signer for external proposals and GroupInfoResponses.
    pub fn signer(&self) -> &SignatureKeyPair {
        &self.signer
    }

    /// The `external_senders` entry every room hosted here must carry.
    pub fn external_sender(&self) -> ExternalSender {
        ExternalSender::new(self.signer.to_public_vec().into(), self.credential.clone())
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
        (&self.signer, &self.franking_secret)
    }
}
