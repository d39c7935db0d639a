//! MLS operational parameters (room-policy-03 §7; component
//! `mls_operational_policy`, 0x0024), kept opaque.
//!
//! The draft's `OperationalParameters` cannot be decoded as written: a
//! `select` on a value its enum lacks (`case extension`), a vector nested in a
//! vector (`WireFormats handshake_formats<V>`), an undefined `ContentType`, and
//! a `unit64` typo (digest C.2.3). Until the draft fixes it we store the bytes
//! as they came and treat the component as advisory (RSC-10). Updates still
//! need authority, like every policy component.

use crate::codec::{Codec, MAX_MESSAGE_LEN, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// The component's bytes, uninterpreted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct OperationalParameters {
    /// The encoded `OperationalParameters`, as received.
    pub raw: Vec<u8>,
}

impl Codec for OperationalParameters {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let rest = r.rest();
        if rest.len() > MAX_MESSAGE_LEN {
            return Err(DecodeError::TooLarge("OperationalParameters"));
        }
        Ok(Self {
            raw: r.bytes(rest.len())?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.bytes(&self.raw);
        Ok(())
    }
}

wire_value!(OperationalParameters => "OperationalParameters");
super::component!(OperationalParameters => MLS_OPERATIONAL_POLICY);
