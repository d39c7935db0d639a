//! The base room policy (room-policy-03 §5; component `base_room_policy`, 0x0027).
//!
//! ```text
//! struct {
//!     bool fixed_membership;
//!     bool parent_dependant;
//!     Uri parent_room<V>;              // read as one Uri (RSC-8)
//!     bool multi_device;
//!     optional uint32 max_clients;
//!     optional uint32 max_users;
//!     bool pseudonyms_allowed;
//!     bool persistent_room;
//!     bool discoverable;
//!     Component policy_component_ids<V>;   // read as ComponentID (uint16)
//! } BaseRoomPolicy;
//! ```

use super::component_id::ComponentId;
use super::metadata::Uri;
use crate::codec::{Codec, Reader, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most ids in `policy_component_ids`: at most one per id exists.
pub const MAX_POLICY_COMPONENTS: usize = 1024;

/// How the room's membership works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseRoomPolicy {
    /// The participant list is fixed at creation (DMs): no new users, no leaving.
    pub fixed_membership: bool,
    /// Participants must be a subset of `parent_room`'s.
    pub parent_dependant: bool,
    /// The parent room, or empty.
    pub parent_room: Uri,
    /// False: at most one client per user.
    pub multi_device: bool,
    /// Most clients in the MLS group.
    pub max_clients: Option<u32>,
    /// Most non-banned entries in the participant list.
    pub max_users: Option<u32>,
    /// Whether pseudonymous credentials and participants are allowed.
    pub pseudonyms_allowed: bool,
    /// The room survives an empty MLS group.
    pub persistent_room: bool,
    /// The room may be found by search.
    pub discoverable: bool,
    /// The other policy components that apply to the room.
    pub policy_component_ids: Vec<ComponentId>,
}

/// An update replaces the whole value.
pub type BaseRoomUpdate = BaseRoomPolicy;

impl Default for BaseRoomPolicy {
    /// An ordinary room: open membership, several devices, no caps. `multi_device`
    /// defaults to true as the draft says.
    fn default() -> Self {
        Self {
            fixed_membership: false,
            parent_dependant: false,
            parent_room: Uri::empty(),
            multi_device: true,
            max_clients: None,
            max_users: None,
            pseudonyms_allowed: false,
            persistent_room: true,
            discoverable: false,
            policy_component_ids: Vec::new(),
        }
    }
}

impl Codec for BaseRoomPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            fixed_membership: r.bool("BaseRoomPolicy.fixed_membership")?,
            parent_dependant: r.bool("BaseRoomPolicy.parent_dependant")?,
            parent_room: Uri::read(r)?,
            multi_device: r.bool("BaseRoomPolicy.multi_device")?,
            max_clients: r.optional("BaseRoomPolicy.max_clients", |r| r.u32())?,
            max_users: r.optional("BaseRoomPolicy.max_users", |r| r.u32())?,
            pseudonyms_allowed: r.bool("BaseRoomPolicy.pseudonyms_allowed")?,
            persistent_room: r.bool("BaseRoomPolicy.persistent_room")?,
            discoverable: r.bool("BaseRoomPolicy.discoverable")?,
            policy_component_ids: r.vector(
                "BaseRoomPolicy.policy_component_ids",
                MAX_POLICY_COMPONENTS,
                |r| r.u16().map(ComponentId),
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.bool(self.fixed_membership);
        w.bool(self.parent_dependant);
        self.parent_room.write(w)?;
        w.bool(self.multi_device);
        w.optional(self.max_clients.as_ref(), |w, v| {
            w.u32(*v);
            Ok(())
        })?;
        w.optional(self.max_users.as_ref(), |w, v| {
            w.u32(*v);
            Ok(())
        })?;
        w.bool(self.pseudonyms_allowed);
        w.bool(self.persistent_room);
        w.bool(self.discoverable);
        w.vector(&self.policy_component_ids, |w, id| {
            w.u16(id.0);
            Ok(())
        })
    }
}

wire_value!(BaseRoomPolicy => "BaseRoomPolicy");
super::component!(BaseRoomPolicy => BASE_ROOM_POLICY);
