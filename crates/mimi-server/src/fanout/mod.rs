//! Fan-out: getting an accepted event from the hub's store to every client
//! that should see it, here and at other providers.
//!
//! It is its own group because it runs apart from the request that caused it:
//! the lane only writes the outbox and local mailboxes, and [`worker`] later
//! delivers the outbox to followers (decisions FED-6, FED-7). The hub's events
//! are `mimi_proto`'s `RawFanoutMessage`, encoded by the lane (decision W-21);
//! [`local`] decides which of our own clients get them, and [`peer_client`]
//! with [`peers`] calls other providers by domain (also for relayed client
//! requests).

pub(crate) mod local;
pub mod peer_client;
pub mod peers;
pub mod worker;
