//! The MIMI room-policy engine: a pure function from (room state, actor,
//! proposed change set) to a new state or a typed [`Denial`].
//!
//! It implements every hub-enforceable rule of draft-ietf-mimi-room-policy-03
//! and draft-ietf-mimi-protocol-06, numbered `POL-00`…`POL-45` ([`RULES`],
//! `docs/policy-rules.md`), plus mimi's extensions: ban records with reasons
//! and expiry, organisation-scoped roles, and the hub operator's policy
//! envelope. It is sync, does no I/O and depends only on `mimi-proto`.
//!
//! # Use
//! The hub keeps a *committed* [`RoomState`] (the GroupContext) and an
//! *effective* one (committed plus accepted proposals). For a standalone
//! proposal bundle it calls [`RoomState::evaluate_proposals`] on the effective
//! state and [`RoomState::apply`]s the result there; for a commit it calls
//! [`RoomState::evaluate_commit`] on the committed state, hands
//! [`Staged::component_updates`] to OpenMLS, applies the result and resets
//! the effective state to the new committed one. [`RoomState::check_sender`],
//! [`RoomState::may_receive`] and [`RoomState::authorize_join`] answer
//! submitMessage, fan-out and groupInfo.
//!
//! # Layout
//! - [`state`]: the indexed room state; [`claims`]: credential claims.
//! - `engine`: the entry points and one module per rule family.
//! - [`presets`]: room templates; [`envelope`]: the operator's bounds.
//! - [`denial`]: the denial enum and its protocol-code mapping; [`rules`]: the rule table.

#![forbid(unsafe_code)]

mod actor;
mod add_check;
mod change;
pub mod claims;
mod create;
pub mod denial;
mod engine;
pub mod envelope;
pub mod presets;
mod queries;
pub mod rules;
pub mod state;

pub use actor::{Actor, ActorId};
pub use change::{Change, Commit, Proposal};
pub use claims::Claims;
pub use denial::{Bound, Denial, ProtocolCode, Reason, Rejection};
pub use engine::{ComponentUpdate, Context, Staged, Summary};
pub use envelope::{EnvelopeBound, PolicyEnvelope};
pub use presets::{Preset, RoomTemplate};
pub use queries::JoinPath;
pub use rules::{RULES, RuleId, RuleInfo};
pub use state::{Member, RoomState};
