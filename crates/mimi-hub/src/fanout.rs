//! What the hub sends where after accepting an event: an ordered list of
//! deliveries, one per (destination provider, event).
//!
//! The server encodes each [`Delivery`]'s event (a `RawFanoutMessage`, the one
//! fan-out type the hub, the server and the client share) into its outbox (or
//! a local mailbox entry when the destination is the hub's own provider), in
//! the same transaction that records the acceptance.

use mimi_proto::ProviderId;
use mimi_proto::messages::RawFanoutMessage;

/// One event for one destination provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The provider to deliver to. The hub's own domain means local clients.
    pub to: ProviderId,
    /// What to deliver: the event with its MLS objects as the exact bytes the
    /// hub received or built (decision W-21).
    pub event: RawFanoutMessage,
}
