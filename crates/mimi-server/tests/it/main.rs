//! Multi-process federation tests: real `mimi-server` processes on loopback,
//! each with its own store, certificate and ports, driven by real MLS clients.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

mod auth;
mod client_api;
mod common;
mod durability;
mod limits;
mod rooms;
