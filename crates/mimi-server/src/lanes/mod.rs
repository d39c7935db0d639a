//! Per-room ordering: every request that changes or reads a hosted room's
//! state runs in that room's lane, one batch at a time, and its result is
//! written in one store transaction before anyone is answered.
//!
//! This is its own group because it is where the federation and client
//! handlers meet the hub: [`sequencer`] queues and batches per room
//! (decisions FED-5), [`hub_steps`] turns decoded requests into `mimi-hub`
//! calls and the hub's answers into protocol responses, and [`room_cache`]
//! keeps deserialized rooms between batches (decisions FED-16).

pub(crate) mod hub_steps;
pub mod room_cache;
pub(crate) mod sequencer;
