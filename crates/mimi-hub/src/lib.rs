//! The MIMI hub engine: each room's state machine over an OpenMLS
//! `PublicGroup`. It accepts, orders and checks events and plans their fan-out,
//! without any group secret.
//!
//! Sync and transport-free: the server loads a [`Room`], calls it, and stores
//! the result and its [`Delivery`] list in one transaction.

#![forbid(unsafe_code)]

mod commit;
pub mod error;
mod external;
pub mod fanout;
pub mod fault;
mod franking;
mod group_info;
mod hub;
mod key_material;
pub mod keys;
mod message;
mod proposal;
pub mod room;
mod snapshot;
mod tree;

pub use commit::{Accepted, CommitBundle};
pub use error::{HubError, UpdateCode};
pub use external::{JoinMaterial, MAX_PENDING_JOINERS};
pub use fanout::Delivery;
pub use franking::ReportRejection;
pub use hub::Hub;
pub use keys::{HUB_USER, HubKeys};
pub use message::MessageAccepted;
pub use mimi_mls::{client_of, group_id_of};
pub use proposal::{MAX_BUNDLE_PROPOSALS, ProposalBundle};
pub use room::{QueuedEntry, Room};
