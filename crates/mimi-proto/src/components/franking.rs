//! The franking agent (protocol-06 §5.4.1; component 0x0021, registered as
//! `franking_signature_key`, called `franking_agent` in the body).
//!
//! ```text
//! struct {
//!   SignaturePublicKey franking_signature_key;   // opaque signature_key<V>
//!   Credential credential;
//! } FrankingAgentData;
//! FrankingAgentData FrankingAgentUpdate;
//! ```

use super::credential::MlsCredential;
use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Largest signature public key: ML-DSA-87 keys are 2592 bytes; leave room.
pub const MAX_SIGNATURE_KEY_LEN: usize = 8 * 1024;

/// The hub's franking signature key and the credential that binds it to the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrankingAgentData {
    /// `SignaturePublicKey` (RFC 9420: `opaque signature_key<V>`).
    pub franking_signature_key: Vec<u8>,
    /// The franking agent's credential; its domain must be the hub's.
    pub credential: MlsCredential,
}

/// An update has the same shape and replaces the value.
pub type FrankingAgentUpdate = FrankingAgentData;

impl Codec for FrankingAgentData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            franking_signature_key: r
                .opaque(
                    "FrankingAgentData.franking_signature_key",
                    MAX_SIGNATURE_KEY_LEN,
                )?
                .to_vec(),
            credential: MlsCredential::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(&self.franking_signature_key)?;
        self.credential.write(w)
    }
}

wire_value!(FrankingAgentData => "FrankingAgentData");
super::component!(FrankingAgentData => FRANKING_AGENT);
