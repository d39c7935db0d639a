//! `POST /v1/requestConsent/{targetUser}` and `POST /v1/updateConsent/{requesterUser}`:
//! providers ask for, grant, cancel and revoke consent directly, never via a
//! hub (protocol-06 §5.7, §8).

use openmls::prelude::{AppDataDictionary, KeyPackageIn};
use tls_codec::{Serialize, Size};

use crate::codec::{Reader, tls_fields, tls_read, wire_body, wire_enum};
use crate::error::DecodeError;
use crate::id::{RoomId, UserId};
use crate::messages::key_material::MAX_CLIENTS_PER_USER;

/// Most KeyPackages a grant may carry: one per client of the target, as in a
/// key material response.
pub const MAX_GRANT_KEY_PACKAGES: usize = MAX_CLIENTS_PER_USER;

wire_enum! {
    /// `enum { cancel(0), request(1), grant(2), revoke(3), (255) } ConsentOperation;`
    pub enum ConsentOperation {
        /// Withdraw an earlier request (same scope).
        Cancel = 0,
        /// Ask the target for consent.
        Request = 1,
        /// The target consents; may carry KeyPackages.
        Grant = 2,
        /// The target withdraws consent.
        Revoke = 3,
    }
}

/// `ConsentScope` (protocol-06 §5.7).
///
/// ```text
/// struct {
///   IdentifierUri requesterUri;
///   IdentifierUri targetUri;
///   optional<RoomId> roomId;          // RoomId = IdentifierUri (decisions W-10)
/// } ConsentScope;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConsentScope {
    /// The user who will later fetch KeyPackages.
    pub requester_uri: UserId,
    /// The user whose KeyPackages will be fetched.
    pub target_uri: UserId,
    /// The room the consent is limited to; `None` for any room.
    pub room_id: Option<RoomId>,
}

tls_fields!(ConsentScope, |s| [s.requester_uri, s.target_uri, s.room_id]);
tls_read!(ConsentScope);

/// What a consent entry does, with the fields its operation selects.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsentAction {
    /// `cancel`.
    Cancel,
    /// `request`.
    Request,
    /// `grant`, with KeyPackages for an immediate add (may be empty; at most
    /// [`MAX_GRANT_KEY_PACKAGES`]).
    Grant {
        /// One KeyPackage per client of the target, or none.
        client_key_packages: Vec<KeyPackageIn>,
    },
    /// `revoke`.
    Revoke,
}

impl ConsentAction {
    /// The wire operation.
    pub fn operation(&self) -> ConsentOperation {
        match self {
            Self::Cancel => ConsentOperation::Cancel,
            Self::Request => ConsentOperation::Request,
            Self::Grant { .. } => ConsentOperation::Grant,
            Self::Revoke => ConsentOperation::Revoke,
        }
    }
}

/// `ConsentEntry` (protocol-06 §5.7), the body of both consent endpoints.
///
/// ```text
/// struct {
///   ConsentOperation consentOperation;
///   IdentifierUri requesterUri;
///   IdentifierUri targetUri;
///   optional<RoomId> roomId;
///   select (consentOperation) {
///     case grant: KeyPackage clientKeyPackages<V>;
///   };
///   AppDataDictionary consent_extensions;
/// } ConsentEntry;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentEntry {
    /// The operation and what it carries.
    pub action: ConsentAction,
    /// Who asks whom, for which room.
    pub scope: ConsentScope,
    /// Extension point.
    pub consent_extensions: AppDataDictionary,
}

impl Size for ConsentEntry {
    fn tls_serialized_len(&self) -> usize {
        1 + self.scope.tls_serialized_len()
            + match &self.action {
                ConsentAction::Grant {
                    client_key_packages,
                } => client_key_packages.tls_serialized_len(),
                _ => 0,
            }
            + self.consent_extensions.tls_serialized_len()
    }
}

impl Serialize for ConsentEntry {
    fn tls_serialize<W: std::io::Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let mut written = self.action.operation().tls_serialize(writer)?;
        written += self.scope.tls_serialize(writer)?;
        if let ConsentAction::Grant {
            client_key_packages,
        } = &self.action
        {
            written += client_key_packages.tls_serialize(writer)?;
        }
        written += self.consent_extensions.tls_serialize(writer)?;
        Ok(written)
    }
}

wire_body!(ConsentEntry, "ConsentEntry");

impl ConsentScope {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            requester_uri: r.item("ConsentScope.requesterUri")?,
            target_uri: r.item("ConsentScope.targetUri")?,
            room_id: r.optional("ConsentScope.roomId", |r| r.item("ConsentScope.roomId"))?,
        })
    }
}

impl ConsentEntry {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let operation = ConsentOperation::read(r, "ConsentEntry.consentOperation")?;
        let scope = ConsentScope::read(r)?;
        let action = match operation {
            ConsentOperation::Cancel => ConsentAction::Cancel,
            ConsentOperation::Request => ConsentAction::Request,
            ConsentOperation::Grant => ConsentAction::Grant {
                client_key_packages: r.vector(
                    "ConsentEntry.clientKeyPackages",
                    MAX_GRANT_KEY_PACKAGES,
                    |r| r.mls("ConsentEntry.clientKeyPackages"),
                )?,
            },
            ConsentOperation::Revoke => ConsentAction::Revoke,
        };
        Ok(Self {
            action,
            scope,
            consent_extensions: r.mls("ConsentEntry.consent_extensions")?,
        })
    }
}
