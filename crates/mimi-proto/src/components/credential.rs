//! MLS building blocks used inside components: `CredentialType` and
//! `Credential` (RFC 9420 §5.3), as the franking agent and preauth claims need
//! them.
//!
//! ```text
//! uint16 CredentialType;
//! struct {
//!   CredentialType credential_type;
//!   select (Credential.credential_type) {
//!     case basic: opaque identity<V>;
//!     case x509:  Certificate certificates<V>;   // Certificate = opaque cert_data<V>
//!   };
//! } Credential;
//! ```
//! Every defined credential type is one variable-length vector after the type,
//! so the content is kept as that vector's bytes, uninterpreted (as OpenMLS
//! does). That also lets unknown credential types round-trip.

use std::fmt;

use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Largest credential content: an X.509 chain of a few certificates.
pub const MAX_CREDENTIAL_LEN: usize = 64 * 1024;

/// An open `uint16` MLS credential type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialType(pub u16);

impl CredentialType {
    /// `basic` (RFC 9420).
    pub const BASIC: Self = Self(0x0001);
    /// `x509` (RFC 9420).
    pub const X509: Self = Self(0x0002);
}

impl fmt::Debug for CredentialType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BASIC => f.write_str("basic"),
            Self::X509 => f.write_str("x509"),
            Self(other) => write!(f, "CredentialType(0x{other:04x})"),
        }
    }
}

/// An MLS `Credential` with its content left encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MlsCredential {
    /// The credential type.
    pub credential_type: CredentialType,
    /// The bytes inside the type's single vector (the identity for `basic`,
    /// the encoded certificate list for `x509`).
    pub content: Vec<u8>,
}

impl Codec for MlsCredential {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            credential_type: CredentialType(r.u16()?),
            content: r.opaque("Credential", MAX_CREDENTIAL_LEN)?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u16(self.credential_type.0);
        w.opaque(&self.content)
    }
}

wire_value!(MlsCredential => "Credential");
