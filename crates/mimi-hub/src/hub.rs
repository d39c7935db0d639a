//! What every room of one hub shares: its keys, the operator's policy
//! envelope and the crypto provider.

use mimi_policy::PolicyEnvelope;
use openmls_rust_crypto::RustCrypto;

use crate::keys::HubKeys;

/// The hub side of a provider: passed to every [`Room`](crate::Room) operation.
#[derive(Debug)]
pub struct Hub {
    keys: HubKeys,
    envelope: PolicyEnvelope,
    crypto: RustCrypto,
}

impl Hub {
    /// A hub with `keys`, bounding rooms by `envelope` (architecture §4.4).
    pub fn new(keys: HubKeys, envelope: PolicyEnvelope) -> Self {
        Self {
            keys,
            envelope,
            crypto: RustCrypto::default(),
        }
    }

    /// The hub's keys.
    pub fn keys(&self) -> &HubKeys {
        &self.keys
    }

    /// The operator's policy envelope.
    pub fn envelope(&self) -> &PolicyEnvelope {
        &self.envelope
    }

    /// The crypto provider for OpenMLS calls.
    pub fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }
}
