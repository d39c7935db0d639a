//! Multi-process federation tests: real `mimi-server` processes on loopback,
//! each with its own store, certificate and ports, driven by real MLS clients.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

mod abuse;
mod auth;
mod client_api;
mod common;
mod consent;
mod consent_client;
mod device;
mod durability;
mod identifier;
mod key_packages;
mod lane_fault;
mod limits;
mod proxy;
mod rooms;
