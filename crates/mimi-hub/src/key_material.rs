//! keyMaterial requests for a room this hub hosts (protocol-06 §5.2): the
//! request names the room, so before relaying it to the target's provider the
//! hub checks that the requester may add the target there. A request the
//! room's policy would refuse must not claim KeyPackages, or any member could
//! use up anyone's stock by asking again and again (decisions KP-1).

use mimi_policy::Context;
use mimi_proto::{ClientId, UserId};

use crate::error::HubError;
use crate::hub::Hub;
use crate::room::Room;
use mimi_mls::client_of;

impl Room {
    /// Whether `requester`, whose request was signed with `signature_key`,
    /// may add `target`'s clients to this room at `now` (ms since the UNIX
    /// epoch), in some role: the policy engine's own answer
    /// ([`mimi_policy::RoomState::authorize_add`]) on the effective state.
    ///
    /// # Errors
    /// [`HubError::NotAllowed`] if `requester` is not a member client holding
    /// `signature_key`; [`HubError::Denied`] with the policy's denial.
    pub fn authorize_key_material(
        &self,
        hub: &Hub,
        requester: &ClientId,
        signature_key: &[u8],
        target: &UserId,
        now: u64,
    ) -> Result<(), HubError> {
        // The signature proves the key; the key must be the requester's leaf,
        // or anyone could name a member client and borrow its rights.
        let holds_key = self.group.members().any(|m| {
            m.signature_key.as_slice() == signature_key
                && client_of(&m.credential).as_ref() == Some(requester)
        });
        if !holds_key {
            return Err(HubError::NotAllowed(format!(
                "{requester} is not a member of {} with the key that signed the request",
                self.id
            )));
        }
        let ctx = Context::new(now / 1000, hub.envelope());
        self.effective
            .authorize_add(&ctx, requester, target, None)
            .map_err(|rejection| HubError::denied(rejection.denial))
    }
}
