//! Consent (protocol-06 §5.7) through the client API: whose KeyPackages our
//! user may fetch, and who may fetch ours. Our user is always the acting one,
//! so each call names only the other user and, optionally, the room
//! (decisions CAPI-8).

use mimi_client_api::{ConsentChange, ConsentList, routes};
use mimi_proto::{RoomId, UserId};
use reqwest::Method;

use crate::error::SessionError;
use crate::session::{Session, json};
use crate::transport::Body;

pub use mimi_client_api::{Consent, ConsentOperation, ConsentState};

impl Session {
    /// Every consent scope our user takes part in, most recently changed
    /// first: requests to us waiting for an answer, what we granted or
    /// revoked, and what we asked of others and their answers.
    ///
    /// # Errors
    /// The transport's errors.
    pub fn consents(&self) -> Result<Vec<Consent>, SessionError> {
        let list: ConsentList = self.call_json(Method::GET, routes::CONSENT, Body::Empty, None)?;
        Ok(list.consents)
    }

    /// Asks `target` for consent to fetch their KeyPackages, for `room` or
    /// for any room. Our provider passes the request to theirs.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] if `target` is unknown to their provider;
    /// [`SessionError::Refused`] if a provider refuses; the transport's
    /// errors (a 502 when `target`'s provider cannot be reached).
    pub fn request_consent(
        &self,
        target: &UserId,
        room: Option<&RoomId>,
    ) -> Result<(), SessionError> {
        self.change_consent(ConsentOperation::Request, target, room)
    }

    /// Withdraws our pending request to `target`. A scope already answered
    /// is left alone.
    ///
    /// # Errors
    /// As [`Session::request_consent`].
    pub fn cancel_consent(
        &self,
        target: &UserId,
        room: Option<&RoomId>,
    ) -> Result<(), SessionError> {
        self.change_consent(ConsentOperation::Cancel, target, room)
    }

    /// Lets `requester` fetch our KeyPackages, for `room` or for any room.
    /// The grant holds at our provider as soon as this returns; a
    /// [`SessionError::Network`] means only that `requester`'s provider was
    /// not told, and the call can be repeated.
    ///
    /// # Errors
    /// As [`Session::request_consent`].
    pub fn grant_consent(
        &self,
        requester: &UserId,
        room: Option<&RoomId>,
    ) -> Result<(), SessionError> {
        self.change_consent(ConsentOperation::Grant, requester, room)
    }

    /// Withdraws the consent `requester` had (or refuses a pending request),
    /// for `room` or for any room. A room's own scope is more specific than
    /// the room-less one, so revoking one room keeps a grant for the others.
    ///
    /// # Errors
    /// As [`Session::grant_consent`].
    pub fn revoke_consent(
        &self,
        requester: &UserId,
        room: Option<&RoomId>,
    ) -> Result<(), SessionError> {
        self.change_consent(ConsentOperation::Revoke, requester, room)
    }

    /// Does `operation` with `other` (the call each of the four above makes).
    ///
    /// # Errors
    /// As those.
    pub fn change_consent(
        &self,
        operation: ConsentOperation,
        other: &UserId,
        room: Option<&RoomId>,
    ) -> Result<(), SessionError> {
        let change = ConsentChange {
            user: other.as_str().to_owned(),
            room: room.map(|r| r.as_str().to_owned()),
        };
        self.call(
            Method::POST,
            operation.route(),
            Body::Json(json(&change)?),
            None,
        )?;
        Ok(())
    }
}
