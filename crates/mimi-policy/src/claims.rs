//! Identity claims: what the policy engine knows about a credential.
//!
//! The hub extracts claims from each client's MLS credential and hands them
//! over as [`Claims`]. Preauthorization (room-policy-03 §4) matches them
//! exactly against `PreAuthRoleEntry.claimset`; multi-organisation rules use
//! the organisation.
//!
//! # Claim names
//!
//! Every credential yields three *derived* claims, under the credential's own
//! type (`ClaimId.credential_type`):
//!
//! | `ClaimId.id` | value |
//! | --- | --- |
//! | `mimi:user` | the user (or pseudonym) URI, canonical bytes |
//! | `mimi:domain` | the domain of that URI |
//! | `mimi:org` | the organisation: the credential's own organisation claim if it has one, else the domain |
//!
//! The credential's own organisation is the X.509 subject `organizationName`
//! (claim id = DER OID bytes `55 04 0a`, 2.5.4.10) or an explicit `mimi:org`
//! claim supplied by the hub. Basic credentials carry only an identity, so for
//! them the organisation is always the domain of the user URI. Any other claim
//! the hub extracts (X.509 OIDs, JWT/CWT names) is matched as given.

use mimi_proto::components::{Claim, CredentialType, ParticipantId};

/// Claim id of the user URI.
pub const CLAIM_USER: &[u8] = b"mimi:user";
/// Claim id of the user URI's domain.
pub const CLAIM_DOMAIN: &[u8] = b"mimi:domain";
/// Claim id of the organisation.
pub const CLAIM_ORG: &[u8] = b"mimi:org";
/// DER bytes of OID 2.5.4.10 (`organizationName`), the X.509 organisation.
pub const OID_ORGANIZATION_NAME: &[u8] = &[0x55, 0x04, 0x0a];

/// The claims of one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    user: ParticipantId,
    credential_type: CredentialType,
    claims: Vec<Claim>,
    organisation: Box<str>,
}

impl Claims {
    /// Claims of a basic credential naming `user`: only the derived claims,
    /// with the organisation taken from the URI's domain.
    pub fn basic(user: ParticipantId) -> Self {
        Self::new(user, CredentialType::BASIC, Vec::new())
    }

    /// Claims of a credential of `credential_type` naming `user`, plus the
    /// `extra` claims the hub extracted from it.
    pub fn new(user: ParticipantId, credential_type: CredentialType, extra: Vec<Claim>) -> Self {
        let explicit_org = extra.iter().find_map(|c| {
            let is_org = c.claim_id.id == CLAIM_ORG
                || (c.claim_id.credential_type == CredentialType::X509
                    && c.claim_id.id == OID_ORGANIZATION_NAME);
            if is_org {
                std::str::from_utf8(&c.claim_value)
                    .ok()
                    .filter(|s| !s.is_empty())
            } else {
                None
            }
        });
        let organisation: Box<str> = explicit_org.unwrap_or(user.domain()).into();
        let mut claims = Vec::with_capacity(extra.len() + 3);
        claims.push(Claim::new(credential_type, CLAIM_USER, user.as_bytes()));
        claims.push(Claim::new(credential_type, CLAIM_DOMAIN, user.domain()));
        if !extra
            .iter()
            .any(|c| c.claim_id.id == CLAIM_ORG && c.claim_id.credential_type == credential_type)
        {
            claims.push(Claim::new(
                credential_type,
                CLAIM_ORG,
                organisation.as_bytes(),
            ));
        }
        claims.extend(extra);
        Self {
            user,
            credential_type,
            claims,
            organisation,
        }
    }

    /// The user (or pseudonym) the credential names.
    pub fn user(&self) -> &ParticipantId {
        &self.user
    }

    /// The credential type.
    pub fn credential_type(&self) -> CredentialType {
        self.credential_type
    }

    /// Every claim, derived ones first.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    /// The organisation (see the module docs).
    pub fn organisation(&self) -> &str {
        &self.organisation
    }

    /// True if every claim of `claimset` is present with an equal value
    /// (room-policy-03 §4: all claims must match, compared exactly).
    pub fn matches(&self, claimset: &[Claim]) -> bool {
        claimset.iter().all(|wanted| self.claims.contains(wanted))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_derive_the_organisation_from_the_domain() {
        let c = Claims::basic(ParticipantId::parse("mimi://b.example/u/bob").unwrap());
        assert_eq!(c.organisation(), "b.example");
        assert!(c.matches(&[Claim::new(CredentialType::BASIC, CLAIM_DOMAIN, "b.example")]));
        assert!(c.matches(&[Claim::new(CredentialType::BASIC, CLAIM_ORG, "b.example")]));
        assert!(!c.matches(&[Claim::new(CredentialType::X509, CLAIM_DOMAIN, "b.example")]));
        assert!(!c.matches(&[
            Claim::new(CredentialType::BASIC, CLAIM_DOMAIN, "b.example"),
            Claim::new(CredentialType::BASIC, CLAIM_USER, "mimi://b.example/u/eve"),
        ]));
        assert!(c.matches(&[]), "an empty claimset matches everyone");
    }

    #[test]
    fn x509_organisation_wins_over_the_domain() {
        let org = Claim::new(CredentialType::X509, OID_ORGANIZATION_NAME, "Example Corp");
        let c = Claims::new(
            ParticipantId::parse("mimi://mail.example/u/ann").unwrap(),
            CredentialType::X509,
            vec![org.clone()],
        );
        assert_eq!(c.organisation(), "Example Corp");
        assert!(c.matches(&[
            org,
            Claim::new(CredentialType::X509, CLAIM_ORG, "Example Corp")
        ]));
    }
}
