//! The one bridge between OpenMLS and MIMI's room policy, shared by the hub
//! (over a `PublicGroup`) and the client (over an `MlsGroup`), so both read
//! groups, senders and proposals the same way and compute the same room state
//! (decision HUB-7).
//!
//! Sync and without I/O. `mimi-policy` stays free of OpenMLS; reading a
//! commit's bytes is [`mimi_proto::messages::parse_commit`].
//!
//! # Layout
//! - [`RoomGroup`] (`group`): one trait over both group types: the committed
//!   [`RoomState`](mimi_policy::RoomState), senders as actors, proposals and
//!   commits as policy input; with the credential readers ([`client_of`],
//!   [`claims_of`]) and [`app_data_updates`].
//! - [`member`]: the member side: groups with mimi's profile, the commits a
//!   member sends ([`OutgoingCommit`]), external joins.
//! - [`Identity`] (`identity`): a client's signature key and basic credential.
//! - [`Error`]: the one error type; the hub's and client's errors convert from it.

#![forbid(unsafe_code)]

mod error;
mod group;
pub mod identity;
pub mod member;

pub use error::Error;
pub use group::{
    RoomGroup, app_data_change, app_data_updates, claims_of, client_of, external_sender_credential,
    group_id_of, joiner, server_claims, user_of,
};
pub use identity::Identity;
pub use member::OutgoingCommit;
#[cfg(feature = "test-support")]
pub mod test_support;
