//! A client's long-term MLS identity: its `mimi://` client id, signature key
//! pair and basic credential (identity = the client URI, decision ID-3).

use openmls::prelude::{
    BasicCredential, Credential, CredentialWithKey, KeyPackage, KeyPackageBundle, Lifetime,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider;

use mimi_proto::mls_profile::{CIPHERSUITE, last_resort_capabilities, leaf_capabilities};
use mimi_proto::{ClientId, UserId};

use crate::error::Error;

/// How long a KeyPackage stays valid. Providers must never hand out an expired
/// one (protocol-06 §5.2), so a shorter life means fresher refills.
pub const KEY_PACKAGE_LIFETIME_SECONDS: u64 = 28 * 24 * 3600;

/// A client's identity.
pub struct Identity {
    client: ClientId,
    user: UserId,
    signer: SignatureKeyPair,
    credential: Credential,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches logs.
        f.debug_struct("Identity")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Generates a fresh signature key pair for `client`.
    ///
    /// # Errors
    /// [`Error::NoUser`] if the client id names no user (one-segment form),
    /// [`Error::Crypto`] if key generation fails.
    pub fn generate(client: ClientId) -> Result<Self, Error> {
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm())
            .map_err(|e| Error::Crypto(format!("signature key: {e:?}")))?;
        Self::from_parts(client, signer)
    }

    /// Rebuilds an identity from a stored key pair.
    ///
    /// # Errors
    /// [`Error::NoUser`] if the client id names no user.
    pub fn from_parts(client: ClientId, signer: SignatureKeyPair) -> Result<Self, Error> {
        let user = client.user().ok_or(Error::NoUser)?;
        let credential = BasicCredential::new(client.as_bytes().to_vec()).into();
        Ok(Self {
            client,
            user,
            signer,
            credential,
        })
    }

    /// The client id.
    pub fn client(&self) -> &ClientId {
        &self.client
    }

    /// The user this client belongs to.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// The signer, for OpenMLS calls.
    pub fn signer(&self) -> &SignatureKeyPair {
        &self.signer
    }

    /// The credential with its signature key, for OpenMLS calls.
    pub fn credential_with_key(&self) -> CredentialWithKey {
        CredentialWithKey {
            credential: self.credential.clone(),
            signature_key: self.signer.to_public_vec().into(),
        }
    }

    /// Creates a KeyPackage with mimi's leaf capabilities. Its private part is
    /// kept in `provider`'s storage until a Welcome uses it.
    ///
    /// # Errors
    /// [`Error::Mls`] if OpenMLS refuses to build it.
    pub fn key_package(&self, provider: &impl OpenMlsProvider) -> Result<KeyPackage, Error> {
        self.build_key_package(provider, false)
    }

    /// Creates a last-resort KeyPackage (RFC 9420 §16.8, the `last_resort`
    /// extension): the provider hands it out again when the others are gone,
    /// and OpenMLS keeps its private part after a Welcome used it, so a later
    /// Welcome to the same KeyPackage still opens (decisions KP-4).
    ///
    /// # Errors
    /// [`Error::Mls`] if OpenMLS refuses to build it.
    pub fn last_resort_key_package(
        &self,
        provider: &impl OpenMlsProvider,
    ) -> Result<KeyPackage, Error> {
        self.build_key_package(provider, true)
    }

    fn build_key_package(
        &self,
        provider: &impl OpenMlsProvider,
        last_resort: bool,
    ) -> Result<KeyPackage, Error> {
        let mut builder =
            KeyPackage::builder().key_package_lifetime(Lifetime::new(KEY_PACKAGE_LIFETIME_SECONDS));
        builder = if last_resort {
            builder
                .leaf_node_capabilities(last_resort_capabilities())
                .mark_as_last_resort()
        } else {
            builder.leaf_node_capabilities(leaf_capabilities())
        };
        let bundle: KeyPackageBundle = builder
            .build(
                CIPHERSUITE,
                provider,
                &self.signer,
                self.credential_with_key(),
            )
            .map_err(|e| Error::Mls(format!("key package: {e}")))?;
        Ok(bundle.key_package().clone())
    }
}
