//! The salt and the message ID (draft-ietf-mimi-content §"Message ID", -08).
//!
//! ```text
//! hash_output = SHA-256( senderUriLength || senderUri || roomUriLength || roomUri
//!                        || message || salt )          ; lengths: big-endian uint16
//! messageId   = 0x01 || hash_output[0..30]              ; 32 bytes
//! ```
//! `message` is the whole encoded content, which already holds the salt; the
//! salt is appended once more against length extension. The -07 formula had no
//! length prefixes (digest B.6).

use std::fmt;
use std::str::FromStr;

use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

use crate::error::{Error, Malformed};

/// Named Information hash algorithm ID of sha-256, the first byte of every
/// message ID (IANA "Named Information Hash Algorithm Registry"). The draft
/// uses it whatever the MLS cipher suite.
pub const SHA256_HASH_ID: u8 = 0x01;

/// The 16-byte per-message salt (`salt: bstr .size 16`).
///
/// It feeds the message ID and keys the franking tag, so it must come from a
/// CSPRNG: [`Salt::random`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Salt([u8; 16]);

impl Salt {
    /// A fresh salt from a cryptographically secure generator.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut salt = [0; 16];
        rng.fill_bytes(&mut salt);
        Self(salt)
    }

    /// A salt with the given bytes (received values, test vectors).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The salt's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({})", hex::encode(self.0))
    }
}

/// A 32-byte message ID: the hash-algorithm byte, then 31 bytes of hash.
///
/// Only IDs starting with [`SHA256_HASH_ID`] can be constructed: the draft
/// calls any other first byte malicious.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId([u8; 32]);

impl MessageId {
    /// Checks and wraps 32 received bytes.
    ///
    /// # Errors
    /// [`Malformed::WrongLength`] unless 32 bytes, [`Malformed::UnknownHashAlgorithm`]
    /// unless the first byte is 0x01.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Malformed> {
        let array = <[u8; 32]>::try_from(bytes).map_err(|_| Malformed::WrongLength {
            field: "message ID",
            expected: 32,
            found: bytes.len() as u64,
        })?;
        match array[0] {
            SHA256_HASH_ID => Ok(Self(array)),
            other => Err(Malformed::UnknownHashAlgorithm(other)),
        }
    }

    /// Computes the ID of an encoded message.
    ///
    /// `content` must be the exact bytes sent or received, and `salt` the salt
    /// inside them. `sender_uri` and `room_uri` are the extension values 1 and
    /// 2, or the implied values when the extensions lack them (digest B.6).
    ///
    /// # Errors
    /// [`Error::UriTooLong`] if a URI does not fit the 16-bit length prefix.
    pub fn compute(
        sender_uri: &str,
        room_uri: &str,
        content: &[u8],
        salt: &Salt,
    ) -> Result<Self, Error> {
        let sender_len =
            u16::try_from(sender_uri.len()).map_err(|_| Error::UriTooLong("sender"))?;
        let room_len = u16::try_from(room_uri.len()).map_err(|_| Error::UriTooLong("room"))?;
        let hash = Sha256::new()
            .chain_update(sender_len.to_be_bytes())
            .chain_update(sender_uri.as_bytes())
            .chain_update(room_len.to_be_bytes())
            .chain_update(room_uri.as_bytes())
            .chain_update(content)
            .chain_update(salt.as_bytes())
            .finalize();
        let mut id = [0; 32];
        id[0] = SHA256_HASH_ID;
        id[1..].copy_from_slice(&hash[..31]);
        Ok(Self(id))
    }

    /// The ID's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, as in the draft's examples.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.to_hex())
    }
}

impl FromStr for MessageId {
    type Err = Malformed;

    /// Parses 64 hex digits.
    fn from_str(s: &str) -> Result<Self, Malformed> {
        let bytes = hex::decode(s).map_err(|_| Malformed::UnexpectedType {
            field: "message ID",
            expected: "64 hex digits",
        })?;
        Self::from_slice(&bytes)
    }
}

impl serde::Serialize for MessageId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_worked_preimage_gives_the_original_id() {
        // Digest B.6: the 282-byte preimage of the Original example.
        let content = include_bytes!("../test_vectors/original.cbor");
        let salt = Salt::from_bytes(content[2..18].try_into().expect("16 bytes"));
        let id = MessageId::compute(
            "mimi://example.com/u/alice-smith",
            "mimi://example.com/r/engineering_team",
            content,
            &salt,
        )
        .expect("short URIs");
        assert_eq!(
            id.to_hex(),
            "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4"
        );
    }

    #[test]
    fn ids_with_unknown_hash_byte_or_length_are_rejected() {
        assert_eq!(
            MessageId::from_slice(&[0x02; 32]),
            Err(Malformed::UnknownHashAlgorithm(0x02))
        );
        assert!(matches!(
            MessageId::from_slice(&[0x01; 31]),
            Err(Malformed::WrongLength { found: 31, .. })
        ));
        assert!("zz".parse::<MessageId>().is_err());
    }

    #[test]
    fn overlong_uris_are_an_error_not_a_truncation() {
        let long = "a".repeat(65536);
        let salt = Salt::from_bytes([0; 16]);
        assert_eq!(
            MessageId::compute(&long, "r", b"", &salt),
            Err(Error::UriTooLong("sender"))
        );
        assert_eq!(
            MessageId::compute("s", &long, b"", &salt),
            Err(Error::UriTooLong("room"))
        );
    }
}
