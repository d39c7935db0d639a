//! The mimi client library: OpenMLS with mimi's room profile, room policy on
//! the client side, MIMI content, franks, and a home directory that survives
//! restarts.
//!
//! It is sync and transport-free: every operation returns what must be sent to
//! the hub ([`OutgoingCommit`], [`OutgoingProposals`], [`OutgoingMessage`], a
//! [`GroupInfoAsk`]'s request), the caller sends it and reports the hub's
//! answer back ([`Client::commit_answered`], [`Client::proposals_refused`],
//! [`Client::message_accepted`], [`Client::join_from_group_info`]). Events the
//! hub fans out go in through [`Client::process_at`] in the hub's order, with
//! their stream cursor. [`Client::commit_with_retry`] resyncs and retries on
//! `wrongEpoch`.
//!
//! ```text
//! let mut c = Client::create(home, client_id)?;          // or Client::open(home)
//! let created = c.create_room(&room, Preset::PrivateGroup, hub_sender)?;   // → hub
//! let out = c.add_user(&room, &bob, None, bob_key_packages)?;              // → update
//! c.commit_answered(&room, &hub_answer)?;
//! let msg = c.send_text(&room, "hello")?;                                  // → submitMessage
//! for (cursor, event) in stream { c.process_at(event, Some(cursor))?; }
//! ```
//!
//! # Layout
//! - [`Client`] (`client`): identity, provider, rooms, persistence;
//!   [`ClientRoom`] (`client_room`): one room's group, policy state, history.
//! - `create`, `membership`, `leave`, `join`: room operations.
//! - `process`: incoming commits, proposals, Welcomes; `messages`:
//!   application messages; `content_rules`: policy-content B.11;
//!   [`franking`]: frank verification.
//! - `policy`: the client's side of the OpenMLS ↔ `mimi-policy` bridge
//!   (`mimi-mls`; a commit's bytes are read by `mimi_proto::messages::parse_commit`).
//! - `retry`: resync and retry on `wrongEpoch`; `storage`: what is kept and
//!   the trait that keeps it; `store`: its SQLite implementation (the only
//!   module with I/O); `wire`:
//!   protocol bodies to send (`update`, `submitMessage`) and `/notify` input.

#![forbid(unsafe_code)]

mod client;
mod client_room;
mod content_rules;
mod create;
pub mod error;
mod events;
pub mod franking;
#[doc(hidden)]
pub mod fuzzing;
mod join;
mod leave;
mod membership;
mod messages;
mod policy;
mod process;
mod retry;
mod storage;
mod store;
#[cfg(test)]
mod tests;
mod wire;

pub use client::Client;
pub use client_room::{ClientRoom, RoomStatus, StoredMessage};
pub use create::CreatedRoom;
pub use error::ClientError;
pub use events::{
    DiscardReason, FrankError, FrankStatus, OutgoingMessage, OutgoingProposals, ReceivedMessage,
    RoomEvent,
};
pub use join::GroupInfoAsk;
pub use mimi_mls::{Identity, OutgoingCommit, client_of, identity};
pub use mimi_proto::{Clock, SystemClock};
pub use process::Processed;
pub use retry::{Retried, RetryError};
pub use store::DATABASE_FILE;
