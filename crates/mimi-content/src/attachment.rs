//! Attachments: encrypt a file for upload and describe it in an ExternalPart;
//! check and decrypt a downloaded file (draft §"External content", digest B.4).
//!
//! Every MIMI client must implement AEAD_AES_128_GCM (encAlg 1). A fresh key
//! and nonce are drawn per file, so the nonce never repeats under a key. The
//! `size` and `contentHash` describe the bytes *stored at the URL* (the
//! ciphertext), so a receiver can check a download before decrypting it
//! (decision in docs/decisions.md, digest C.2 item 5).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::part::{EncryptionAlgorithm, ExternalPart, HashAlgorithm};

/// AES-GCM nonce length in bytes (RFC 5116 N_MIN = N_MAX = 12).
const NONCE_LEN: usize = 12;
/// AES-128 key length.
const AES_128_KEY_LEN: usize = 16;

/// A file encrypted for upload, with what a message needs to describe it.
#[derive(Clone)]
pub struct EncryptedAttachment {
    ciphertext: Vec<u8>,
    key: [u8; AES_128_KEY_LEN],
    nonce: [u8; NONCE_LEN],
    content_hash: [u8; 32],
}

impl EncryptedAttachment {
    /// Encrypts `plaintext` with AES-128-GCM under a fresh key and nonce.
    ///
    /// # Errors
    /// [`Error::AttachmentEncrypt`] if the file exceeds AES-GCM's limit
    /// (about 64 GiB).
    pub fn encrypt<R: RngCore + CryptoRng>(plaintext: &[u8], rng: &mut R) -> Result<Self, Error> {
        let mut key = [0; AES_128_KEY_LEN];
        let mut nonce = [0; NONCE_LEN];
        rng.fill_bytes(&mut key);
        rng.fill_bytes(&mut nonce);
        let cipher = Aes128Gcm::new(&key.into());
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .map_err(|_| Error::AttachmentEncrypt)?;
        let content_hash = Sha256::digest(&ciphertext).into();
        Ok(Self {
            ciphertext,
            key,
            nonce,
            content_hash,
        })
    }

    /// The bytes to upload.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// SHA-256 of the ciphertext.
    pub fn content_hash(&self) -> &[u8; 32] {
        &self.content_hash
    }

    /// An ExternalPart describing the uploaded file at `url`. Description,
    /// file name and expiry are empty; set them on the result.
    pub fn external_part(
        &self,
        url: impl Into<String>,
        content_type: impl Into<String>,
    ) -> ExternalPart {
        ExternalPart {
            content_type: content_type.into(),
            url: url.into(),
            expires: 0,
            size: self.ciphertext.len() as u64,
            enc_alg: EncryptionAlgorithm::AES_128_GCM,
            key: self.key.to_vec(),
            nonce: self.nonce.to_vec(),
            aad: Vec::new(),
            hash_alg: HashAlgorithm::SHA_256,
            content_hash: self.content_hash.to_vec(),
            description: String::new(),
            filename: String::new(),
        }
    }
}

/// The key never reaches logs through `Debug`.
impl std::fmt::Debug for EncryptedAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedAttachment")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("content_hash", &hex::encode(self.content_hash))
            .finish_non_exhaustive()
    }
}

impl ExternalPart {
    /// Checks a downloaded file against `size` (unless 0) and `contentHash`
    /// (unless hashAlg is 0).
    ///
    /// # Errors
    /// [`Error::AttachmentSize`], [`Error::AttachmentHash`], or
    /// [`Error::UnsupportedHash`] for a hash other than sha-256.
    pub fn verify_download(&self, downloaded: &[u8]) -> Result<(), Error> {
        let actual = downloaded.len() as u64;
        if self.size != 0 && self.size != actual {
            return Err(Error::AttachmentSize {
                expected: self.size,
                actual,
            });
        }
        match self.hash_alg {
            HashAlgorithm::NONE => Ok(()),
            HashAlgorithm::SHA_256 => {
                // Not secret: a plain comparison is fine.
                if Sha256::digest(downloaded).as_slice() == self.content_hash.as_slice() {
                    Ok(())
                } else {
                    Err(Error::AttachmentHash)
                }
            }
            HashAlgorithm(other) => Err(Error::UnsupportedHash(other)),
        }
    }

    /// Checks and decrypts a downloaded file. Unencrypted content (encAlg 0)
    /// is checked and returned as is.
    ///
    /// # Errors
    /// Those of [`ExternalPart::verify_download`], then
    /// [`Error::UnsupportedEncryption`], [`Error::AttachmentKeyLength`] or
    /// [`Error::AttachmentDecrypt`].
    pub fn decrypt(&self, downloaded: &[u8]) -> Result<Vec<u8>, Error> {
        self.verify_download(downloaded)?;
        if self.enc_alg == EncryptionAlgorithm::NONE {
            return Ok(downloaded.to_vec());
        }
        if self.nonce.len() != NONCE_LEN {
            return Err(Error::AttachmentKeyLength);
        }
        let nonce = Nonce::from_slice(&self.nonce);
        let payload = Payload {
            msg: downloaded,
            aad: &self.aad,
        };
        let plaintext = match self.enc_alg {
            EncryptionAlgorithm::AES_128_GCM => Aes128Gcm::new_from_slice(&self.key)
                .map_err(|_| Error::AttachmentKeyLength)?
                .decrypt(nonce, payload),
            EncryptionAlgorithm::AES_256_GCM => Aes256Gcm::new_from_slice(&self.key)
                .map_err(|_| Error::AttachmentKeyLength)?
                .decrypt(nonce, payload),
            EncryptionAlgorithm(other) => return Err(Error::UnsupportedEncryption(other)),
        };
        plaintext.map_err(|_| Error::AttachmentDecrypt)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::OsRng;

    use super::*;

    fn upload(plaintext: &[u8]) -> (Vec<u8>, ExternalPart) {
        let enc = EncryptedAttachment::encrypt(plaintext, &mut OsRng).expect("small file");
        let part = enc.external_part("https://example.com/f", "image/png");
        (enc.ciphertext().to_vec(), part)
    }

    #[test]
    fn round_trip() {
        let (ct, part) = upload(b"picture bytes");
        assert_eq!(part.size, 13 + 16, "ciphertext includes the 16-byte tag");
        assert_eq!(part.decrypt(&ct).as_deref(), Ok(&b"picture bytes"[..]));
    }

    #[test]
    fn tampering_is_caught_before_and_by_decryption() {
        let (mut ct, part) = upload(b"picture bytes");
        ct[0] ^= 1;
        assert_eq!(part.decrypt(&ct), Err(Error::AttachmentHash));
        let unhashed = ExternalPart {
            hash_alg: HashAlgorithm::NONE,
            ..part.clone()
        };
        assert_eq!(unhashed.decrypt(&ct), Err(Error::AttachmentDecrypt));
        assert_eq!(
            part.decrypt(&ct[1..]),
            Err(Error::AttachmentSize {
                expected: 29,
                actual: 28
            })
        );
    }

    #[test]
    fn bad_parameters_are_errors_not_panics() {
        let (ct, part) = upload(b"x");
        let short_nonce = ExternalPart {
            nonce: vec![0; 11],
            ..part.clone()
        };
        assert_eq!(short_nonce.decrypt(&ct), Err(Error::AttachmentKeyLength));
        let short_key = ExternalPart {
            key: vec![0; 15],
            ..part.clone()
        };
        assert_eq!(short_key.decrypt(&ct), Err(Error::AttachmentKeyLength));
        let chacha = ExternalPart {
            enc_alg: EncryptionAlgorithm(29),
            ..part.clone()
        };
        assert_eq!(chacha.decrypt(&ct), Err(Error::UnsupportedEncryption(29)));
        let sha512 = ExternalPart {
            hash_alg: HashAlgorithm(3),
            ..part
        };
        assert_eq!(sha512.decrypt(&ct), Err(Error::UnsupportedHash(3)));
    }

    #[test]
    fn unencrypted_content_is_checked_and_returned() {
        let data = b"public file";
        let part = ExternalPart {
            content_type: "text/plain".into(),
            url: "https://example.com/p".into(),
            expires: 0,
            size: data.len() as u64,
            enc_alg: EncryptionAlgorithm::NONE,
            key: vec![],
            nonce: vec![],
            aad: vec![],
            hash_alg: HashAlgorithm::SHA_256,
            content_hash: Sha256::digest(data).to_vec(),
            description: String::new(),
            filename: String::new(),
        };
        assert_eq!(part.decrypt(data).as_deref(), Ok(&data[..]));
    }
}
