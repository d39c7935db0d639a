//! MIMI storage: everything a provider must not lose, on embedded SQLite (the default) or
//! PostgreSQL, behind one [`Store`] handle.
//!
//! What it holds: users and clients (credentials, signature keys); KeyPackages with
//! reserve-once claims; consent scopes; hub rooms (opaque serialized PublicGroup per epoch,
//! GroupInfo, room state, proposal queue, KeyPackageRef routes, event log); the durable
//! fan-out outbox per (room, destination); follower inbox dedup; per-client mailboxes.
//!
//! The guarantee that shapes the API: accepting an event and enqueueing its delivery happen
//! in one transaction ([`Store::lock_room`] → [`RoomTxn::commit`]), so nothing is accepted and
//! then lost in a crash, and the per-room lock holds across processes, so several instances
//! can share one PostgreSQL database.
//!
//! # Layout
//! - [`config`]: [`StoreConfig`] (URL, pool sizes; `Debug` redacts passwords).
//! - [`error`]: [`StoreError`], the one error enum of this layer.
//! - `model`: the domain types taken and returned (no sqlx in them).
//! - `store`: opening and migrating; `backend`: the two sqlx backends and query helpers.
//! - `identity`, `key_packages`, `consent`: users, clients, KeyPackages, consent.
//! - `profiles`: searchable profile fields (identifier queries); `abuse`: abuse reports.
//! - `rooms`: the room lock and accepted events; `history`: unlocked room reads.
//! - `script`: the hottest SQLite writes as one multi-statement command each.
//! - `outbox`, `inbox`, `mailbox`, `members`: delivery; `notify`: wake-ups ([`Subscription`]).
//! - `cache`: [`EpochCache`], the hot per-room state cache.

#![forbid(unsafe_code)]
// Tests may unwrap: a failing unwrap is a failing test.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod abuse;
mod backend;
mod cache;
pub mod config;
mod consent;
pub mod error;
mod history;
mod identity;
mod inbox;
mod key_packages;
mod mailbox;
mod members;
mod migrate;
mod model;
mod notify;
mod outbox;
mod profiles;
mod rooms;
mod script;
mod store;

pub use abuse::{AbuseReportRecord, MAX_REPORT_PAGE, NewAbuseReport};
pub use cache::EpochCache;
pub use config::{BackendKind, StoreConfig};
pub use consent::{ConsentRecord, MAX_CONSENT_PAGE};
pub use error::{BackendError, BackendErrorKind, Conflict, Record, StoreError};
pub use history::MAX_HISTORY_PAGE;
pub use key_packages::MAX_CLAIM_CIPHER_SUITES;
pub use mailbox::MAX_MAILBOX_PAGE;
pub use model::{
    Accepted, AcceptedEvent, ClaimRequest, ClaimedKeyPackage, ClientClaim, ClientRecord,
    ConsentScope, ConsentState, EventKind, Fanout, JoinInfo, KeyPackageRoute, KeyPackageStock,
    LoggedEvent, MailboxDelivery, MailboxEntry, NewClient, NewKeyPackage, NewRoom, NotifyOutcome,
    NotifyReceipt, OutboxBatch, OutboxEntry, QueuedProposal, RoomSnapshot, RoomVersion,
    StateChange, Timestamp,
};
pub use notify::{Subscription, Wake};
pub use outbox::{MAX_LAST_ERROR_LEN, MAX_OUTBOX_BATCH};
pub use profiles::{
    FieldSelector, MAX_PROFILE_FIELDS, MAX_SEARCH_CONDITIONS, MatchMode, ProfileFieldRecord,
    SearchCondition,
};
pub use rooms::RoomTxn;
pub use store::Store;
