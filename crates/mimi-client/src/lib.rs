//! The mimi client library: OpenMLS with mimi's room profile.
//!
//! This crate creates rooms the hub accepts, builds commits that carry
//! participant-list changes together with their MLS Adds and Removes, and
//! processes what the hub fans out.

#![forbid(unsafe_code)]

pub mod error;
pub mod identity;
pub mod room;

pub use error::ClientError;
pub use identity::Identity;
