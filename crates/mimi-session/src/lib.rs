//! Client sessions: a persistent `mimi_client::Client` bound to its
//! provider's client API (`mimi_client_api`) over HTTPS.
//!
//! The client library is sync and transport-free; a [`Session`] supplies the
//! transport. Every request is signed with the client's MLS signature key
//! (`AuthHeader`, a random nonce, the system clock), events come from the
//! provider's resumable event stream and go through the library in the hub's
//! order with their cursor, and every room operation runs end to end: build,
//! send to the room's hub through our provider, apply the answer, and on
//! `wrongEpoch` sync and try again.
//!
//! ```text
//! let mut alice = Session::register(home, RegisterOptions { client, server, ca, .. })?;
//! alice.create_room(&room, Preset::PrivateGroup)?;
//! alice.add_user(&room, &bob, None)?;        // KeyPackage claimed through the hub
//! let sent = alice.send_text(&room, "hi")?;
//! let report = alice.sync(Some(Duration::from_secs(20)))?;   // long-poll
//! alice.grant_consent(&bob, None)?;          // bob may fetch alice's KeyPackages
//! ```
//!
//! A home directory holds the client database and `session.toml` ([`config`]);
//! [`Session::open`] resumes from it, event cursor included.
//!
//! Errors come in the families of [`SessionError`]: refused (policy or
//! protocol, with the MIMI code), network, bad input, local state.

#![forbid(unsafe_code)]

pub mod config;
mod consent;
mod error;
mod rooms;
mod send;
mod session;
mod transport;
mod view;

pub use config::{KEY_PACKAGE_LOW, KEY_PACKAGE_STOCK, KeyPackageStock, SessionConfig};
pub use consent::{Consent, ConsentOperation, ConsentState};
pub use error::SessionError;
pub use mimi_client_api::KeyPackageCount;
pub use rooms::{Committed, MAX_ATTEMPTS};
pub use send::{MESSAGE_PREFIX_MIN, Sent};
pub use session::{RegisterOptions, Session, SyncReport};
pub use view::{EventView, HistoryItem, MemberView, RoomView};
