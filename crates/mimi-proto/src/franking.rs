//! Message franking (protocol-06 §5.4.1): the structures the hub MACs and signs
//! when it accepts a franked message, and that receivers and the hub recompute
//! to verify a frank later (abuse reports, §5.9).
//!
//! ```text
//! struct {
//!   IdentifierUri sender_uri;
//!   IdentifierUri room_uri;
//!   uint64 accepted_timestamp;
//! } ServerFrankingContext;
//!
//! server_frank = HMAC-SHA256(hub_key, franking_tag || ServerFrankingContext)
//!
//! struct {
//!   opaque server_frank[32];
//!   CipherSuite franking_signature_ciphersuite;
//!   ServerFrankingContext context;
//! } FrankingIntegrityTBS;
//!
//! franking_integrity_signature =
//!   SignWithLabel(franking_private_key, "FrankingIntegrityTBS", FrankingIntegrityTBS)
//! ```
//!
//! The MAC and signature primitives live with their users (the hub holds the
//! keys); this module fixes the bytes both sides must agree on.

use openmls::prelude::Ciphersuite;
use tls_codec::Serialize as _;

use crate::error::EncodeError;
use crate::id::{MimiUri, RoomId};

/// The label of the frank's integrity signature.
pub const FRANKING_INTEGRITY_LABEL: &str = "FrankingIntegrityTBS";

/// `ServerFrankingContext`: who sent what where, and when the hub accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFrankingContext {
    /// The sender's user URI (or pseudonym), as asserted in `sendingUri`.
    pub sender_uri: MimiUri,
    /// The room.
    pub room_uri: RoomId,
    /// Hub acceptance time, ms since the UNIX epoch.
    pub accepted_timestamp: u64,
}

impl ServerFrankingContext {
    /// The context's encoding.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] never in practice (identifiers are capped).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = self.sender_uri.tls_serialize_detached()?;
        out.extend(self.room_uri.tls_serialize_detached()?);
        out.extend(self.accepted_timestamp.to_be_bytes());
        Ok(out)
    }

    /// The bytes the hub MACs: `franking_tag || ServerFrankingContext`.
    ///
    /// # Errors
    /// As [`ServerFrankingContext::encode`].
    pub fn mac_input(&self, franking_tag: &[u8; 32]) -> Result<Vec<u8>, EncodeError> {
        let mut out = franking_tag.to_vec();
        out.extend(self.encode()?);
        Ok(out)
    }

    /// `FrankingIntegrityTBS`, the content of the integrity signature.
    ///
    /// # Errors
    /// As [`ServerFrankingContext::encode`].
    pub fn integrity_tbs(
        &self,
        server_frank: &[u8; 32],
        ciphersuite: Ciphersuite,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = server_frank.to_vec();
        out.extend((ciphersuite as u16).to_be_bytes());
        out.extend(self.encode()?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_and_tbs_layout_by_hand() {
        let ctx = ServerFrankingContext {
            sender_uri: MimiUri::parse("mimi://b.example/u/bob").unwrap(),
            room_uri: RoomId::parse("mimi://a.example/r/x").unwrap(),
            accepted_timestamp: 0x0102_0304_0506_0708,
        };
        // uri<V>: 1-byte varint length 22 (0x16), then the bytes.
        let mut want = vec![0x16];
        want.extend(b"mimi://b.example/u/bob");
        // room uri<V>: length 20 (0x14).
        want.push(0x14);
        want.extend(b"mimi://a.example/r/x");
        want.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(ctx.encode().unwrap(), want);

        let tag = [0xaa; 32];
        let mut mac = vec![0xaa; 32];
        mac.extend(&want);
        assert_eq!(ctx.mac_input(&tag).unwrap(), mac);

        let frank = [0x55; 32];
        let mut tbs = vec![0x55; 32];
        tbs.extend([0x00, 0x01]); // MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
        tbs.extend(&want);
        assert_eq!(
            ctx.integrity_tbs(&frank, crate::mls_profile::CIPHERSUITE)
                .unwrap(),
            tbs
        );
    }
}
