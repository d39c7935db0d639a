//! MLS labelled signatures and encryption (RFC 9420 §5.1.2, §5.1.3), as MIMI
//! uses them for `KeyMaterialRequestTBS`, `GroupInfoRequestTBS`,
//! `GroupInfoResponseTBS` and the GroupInfo HPKE envelope.
//!
//! ```text
//! struct { opaque label<V> = "MLS 1.0 " + Label; opaque content<V> = Content; } SignContent;
//! SignWithLabel(SignatureKey, Label, Content) = Signature.Sign(SignatureKey, SignContent)
//!
//! struct { opaque label<V> = "MLS 1.0 " + Label; opaque context<V> = Context; } EncryptContext;
//! EncryptWithLabel(PublicKey, Label, Context, Plaintext) = SealBase(PublicKey, EncryptContext, "", Plaintext)
//! ```
//!
//! Signing takes an OpenMLS [`Signer`], so keys can stay in whatever store
//! holds them (the hub's external-sender key, a client's leaf key); verifying
//! and HPKE take `&impl OpenMlsCrypto`.

use openmls::prelude::{Ciphersuite, ExternalSender, OpenMlsCrypto, SignaturePublicKey};
use openmls_traits::signatures::Signer;
use openmls_traits::types::{HpkeCiphertext, SignatureScheme};
use tls_codec::Serialize;

use crate::codec::{Reader, Writer};
use crate::error::DecodeError;

/// Prefix of every MLS label (RFC 9420 §5.1.2).
const LABEL_PREFIX: &str = "MLS 1.0 ";

/// Why a signature or encryption operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The signer refused or failed to sign.
    #[error("signing failed")]
    Sign,
    /// The signature does not verify under the given key.
    #[error("signature does not verify")]
    BadSignature,
    /// HPKE sealing failed (for example, a malformed public key).
    #[error("HPKE encryption failed")]
    Encrypt,
    /// HPKE opening failed: wrong key, wrong context or tampered ciphertext.
    #[error("HPKE decryption failed")]
    Decrypt,
    /// The signer's scheme is not the one the message's cipher suite requires.
    #[error("signature scheme does not match the cipher suite")]
    SchemeMismatch,
    /// A value was too long to encode.
    #[error("value too long to encode")]
    Encode,
    /// The decrypted plaintext is not a valid structure.
    #[error("decrypted plaintext does not decode: {0}")]
    Decode(DecodeError),
}

/// `SignWithLabel` (RFC 9420 §5.1.2).
///
/// # Errors
/// [`CryptoError::Sign`] if the signer fails, [`CryptoError::Encode`] if
/// `content` exceeds the MLS length limit.
pub fn sign_with_label(
    signer: &impl Signer,
    label: &str,
    content: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let sign_content = labelled(label, content)?;
    signer.sign(&sign_content).map_err(|_| CryptoError::Sign)
}

/// `VerifyWithLabel` (RFC 9420 §5.1.2).
///
/// # Errors
/// [`CryptoError::BadSignature`] if the signature does not verify (including an
/// unsupported scheme or malformed key).
pub fn verify_with_label(
    crypto: &impl OpenMlsCrypto,
    scheme: SignatureScheme,
    public_key: &SignaturePublicKey,
    label: &str,
    content: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let sign_content = labelled(label, content)?;
    crypto
        .verify_signature(scheme, &sign_content, public_key.as_slice(), signature)
        .map_err(|_| CryptoError::BadSignature)
}

/// `EncryptWithLabel` (RFC 9420 §5.1.3) with the suite's HPKE configuration.
///
/// # Errors
/// [`CryptoError::Encrypt`] if HPKE fails (for example, a malformed key).
pub fn encrypt_with_label(
    crypto: &impl OpenMlsCrypto,
    ciphersuite: Ciphersuite,
    public_key: &[u8],
    label: &str,
    context: &[u8],
    plaintext: &[u8],
) -> Result<HpkeCiphertext, CryptoError> {
    let info = labelled(label, context)?;
    crypto
        .hpke_seal(ciphersuite.hpke_config(), public_key, &info, &[], plaintext)
        .map_err(|_| CryptoError::Encrypt)
}

/// `DecryptWithLabel` (RFC 9420 §5.1.3).
///
/// # Errors
/// [`CryptoError::Decrypt`] for a wrong key, label, context or a tampered
/// ciphertext.
pub fn decrypt_with_label(
    crypto: &impl OpenMlsCrypto,
    ciphersuite: Ciphersuite,
    private_key: &[u8],
    label: &str,
    context: &[u8],
    ciphertext: &HpkeCiphertext,
) -> Result<Vec<u8>, CryptoError> {
    let info = labelled(label, context)?;
    crypto
        .hpke_open(
            ciphersuite.hpke_config(),
            ciphertext,
            private_key,
            &info,
            &[],
        )
        .map_err(|_| CryptoError::Decrypt)
}

/// The signature key of an `ExternalSender`.
///
/// OpenMLS 0.9 keeps the accessor crate-private, so this reads the key back
/// from the struct's encoding (`SignaturePublicKey signature_key; Credential
/// credential;`: the key is the leading `opaque<V>`).
///
/// # Errors
/// [`CryptoError::Encode`] if the sender cannot be encoded.
pub fn external_sender_key(sender: &ExternalSender) -> Result<SignaturePublicKey, CryptoError> {
    let encoded = sender
        .tls_serialize_detached()
        .map_err(|_| CryptoError::Encode)?;
    let key = Reader::new(&encoded)
        .opaque_uncapped()
        .map_err(CryptoError::Decode)?;
    Ok(SignaturePublicKey::from(key))
}

/// The serialized `SignContent` / `EncryptContext`: both are
/// `struct { opaque label<V>; opaque content<V>; }` with the prefixed label.
fn labelled(label: &str, content: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut w = Writer::new();
    w.opaque(format!("{LABEL_PREFIX}{label}").as_bytes())
        .map_err(|_| CryptoError::Encode)?;
    w.opaque(content).map_err(|_| CryptoError::Encode)?;
    Ok(w.into_bytes())
}

#[cfg(test)]
mod tests {
    use openmls::prelude::{BasicCredential, SignContent};
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use openmls_traits::OpenMlsProvider;

    use super::*;

    const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

    #[test]
    fn sign_content_matches_openmls() {
        let ours = labelled("KeyMaterialRequestTBS", b"abc").unwrap();
        let theirs = SignContent::new("KeyMaterialRequestTBS", b"abc".to_vec().into())
            .tls_serialize_detached()
            .unwrap();
        assert_eq!(ours, theirs);
        // Hand-derived: 0x1d = 29 = len("MLS 1.0 KeyMaterialRequestTBS"), then 0x03 "abc".
        let mut expected = vec![0x1d];
        expected.extend_from_slice(b"MLS 1.0 KeyMaterialRequestTBS");
        expected.extend_from_slice(&[0x03, b'a', b'b', b'c']);
        assert_eq!(ours, expected);
    }

    #[test]
    fn sign_verify_and_reject() {
        let provider = OpenMlsRustCrypto::default();
        let keys = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
        let other = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
        let public = SignaturePublicKey::from(keys.public());
        let sig = sign_with_label(&keys, "L", b"content").unwrap();
        let scheme = CS.signature_algorithm();
        let crypto = provider.crypto();
        assert_eq!(
            verify_with_label(crypto, scheme, &public, "L", b"content", &sig),
            Ok(())
        );
        for (label, content, key) in [
            ("L", &b"contenT"[..], &public),
            ("M", b"content", &public),
            ("L", b"content", &SignaturePublicKey::from(other.public())),
        ] {
            assert_eq!(
                verify_with_label(crypto, scheme, key, label, content, &sig),
                Err(CryptoError::BadSignature)
            );
        }
    }

    #[test]
    fn hpke_round_trip_and_wrong_context() {
        let provider = OpenMlsRustCrypto::default();
        let crypto = provider.crypto();
        let kp = crypto
            .derive_hpke_keypair(CS.hpke_config(), &[7; 32])
            .unwrap();
        let ct = encrypt_with_label(crypto, CS, &kp.public, "X", b"room", b"secret").unwrap();
        let pt = decrypt_with_label(crypto, CS, &kp.private, "X", b"room", &ct).unwrap();
        assert_eq!(pt, b"secret");
        assert_eq!(
            decrypt_with_label(crypto, CS, &kp.private, "X", b"other room", &ct),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            encrypt_with_label(crypto, CS, b"short", "X", b"room", b"secret"),
            Err(CryptoError::Encrypt)
        );
    }

    #[test]
    fn reads_external_sender_key() {
        let keys = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
        let sender = ExternalSender::new(
            keys.public().into(),
            BasicCredential::new(b"mimi://hub.example".to_vec()).into(),
        );
        assert_eq!(
            external_sender_key(&sender).unwrap().as_slice(),
            keys.public()
        );
    }
}
