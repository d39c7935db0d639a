//! mimi-store API tests: one binary, every scenario on both backends.

#![allow(clippy::unwrap_used)]

mod common;
mod concurrency;
mod crash;
mod delivery;
mod discovery;
mod identity;
mod key_packages;
mod rooms;
mod roundtrip;
mod script;
