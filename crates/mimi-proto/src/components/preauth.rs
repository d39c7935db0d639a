//! Preauthorized users (room-policy-03 §4; component `preauth_list`, 0x0026).
//!
//! ```text
//! struct { CredentialType credential_type; opaque id<V>; } ClaimId;
//! struct { ClaimId claim_id; opaque claim_value<V>; } Claim;
//! struct { Claim claimset<V>; Role target_role; } PreAuthRoleEntry;
//! struct { PreAuthRoleEntry preauthorized_entries<V>; } PreAuthData;
//! PreAuthData PreAuthUpdate;   // replaces the whole value
//! ```
//! `target_role` is a whole `Role` in the draft, not an index. We decode it as
//! written; policy uses only its `role_index` (digest C.2.1, RSC-7).

use super::credential::CredentialType;
use super::roles::Role;
use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most preauthorization entries. Entries are tried in order per join, so the
/// cap bounds that scan.
pub const MAX_PREAUTH_ENTRIES: usize = 1024;

/// Most claims in one entry's claimset, or in one claim list.
pub const MAX_CLAIMS: usize = 64;

/// Longest claim id or claim value.
pub const MAX_CLAIM_LEN: usize = 1024;

/// Names a claim inside a credential of one type: an X.509 OID (DER bytes), a
/// JWT claim name, a CWT key, or one of mimi's derived claim names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimId {
    /// The credential type the claim lives in.
    pub credential_type: CredentialType,
    /// The claim's name or OID.
    pub id: Vec<u8>,
}

impl Codec for ClaimId {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            credential_type: CredentialType(r.u16()?),
            id: r.opaque("ClaimId.id", MAX_CLAIM_LEN)?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.u16(self.credential_type.0);
        w.opaque(&self.id)
    }
}

/// A claim and its exact value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Claim {
    /// Which claim.
    pub claim_id: ClaimId,
    /// The value it must have, compared byte for byte.
    pub claim_value: Vec<u8>,
}

impl Claim {
    /// A claim with the given type, id and value.
    pub fn new(
        credential_type: CredentialType,
        id: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            claim_id: ClaimId {
                credential_type,
                id: id.into(),
            },
            claim_value: value.into(),
        }
    }
}

impl Codec for Claim {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            claim_id: ClaimId::read(r)?,
            claim_value: r.opaque("Claim.claim_value", MAX_CLAIM_LEN)?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.claim_id.write(w)?;
        w.opaque(&self.claim_value)
    }
}

/// Requesters whose credential matches every claim get `target_role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreAuthRoleEntry {
    /// All of these must match.
    pub claimset: Vec<Claim>,
    /// The role granted; only `role_index` is used.
    pub target_role: Role,
}

impl Codec for PreAuthRoleEntry {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            claimset: r.vector("PreAuthRoleEntry.claimset", MAX_CLAIMS, Claim::read)?,
            target_role: Role::read(r)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.claimset, |w, c| c.write(w))?;
        self.target_role.write(w)
    }
}

/// `struct { PreAuthRoleEntry preauthorized_entries<V>; } PreAuthData;`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreAuthData {
    /// Entries in order; the first match wins.
    pub preauthorized_entries: Vec<PreAuthRoleEntry>,
}

/// A preauth update replaces the whole value.
pub type PreAuthUpdate = PreAuthData;

impl Codec for PreAuthData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            preauthorized_entries: r.vector(
                "PreAuthData.preauthorized_entries",
                MAX_PREAUTH_ENTRIES,
                PreAuthRoleEntry::read,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.preauthorized_entries, |w, e| e.write(w))
    }
}

wire_value!(
    ClaimId => "ClaimId",
    Claim => "Claim",
    PreAuthRoleEntry => "PreAuthRoleEntry",
    PreAuthData => "PreAuthData",
);
super::component!(PreAuthData => PREAUTH_LIST);
