//! `POST /v1/requestConsent/{targetUser}` and `POST /v1/updateConsent/{requesterUser}`:
//! providers ask for, grant, cancel and revoke consent directly, never via a
//! hub (protocol-06 §5.7, §8).

use openmls::prelude::{AppDataDictionary, KeyPackageIn};

use crate::codec::{Codec, Reader, Writer, tls_via_codec, wire_body, wire_enum};
use crate::error::{DecodeError, EncodeError};
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

tls_via_codec!(ConsentScope);

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

wire_body!(ConsentEntry, "ConsentEntry");

impl Codec for ConsentScope {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            requester_uri: r.item("ConsentScope.requesterUri")?,
            target_uri: r.item("ConsentScope.targetUri")?,
            room_id: r.optional("ConsentScope.roomId", |r| r.item("ConsentScope.roomId"))?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.requester_uri.as_bytes())?;
        w.opaque(self.target_uri.as_bytes())?;
        w.optional(self.room_id.as_ref(), |w, room| w.opaque(room.as_bytes()))
    }
}

impl Codec for ConsentEntry {
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

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.action.operation().write(w);
        self.scope.write(w)?;
        if let ConsentAction::Grant {
            client_key_packages,
        } = &self.action
        {
            w.mls(client_key_packages)?;
        }
        w.mls(&self.consent_extensions)
    }
}
