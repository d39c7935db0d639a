//! Resync and retry on `wrongEpoch` (protocol-06 §5.3, digest §7.1 step 3):
//! the hub accepts one commit per epoch; a loser discards its pending commit,
//! processes the events it missed (among them the winning commit), rebuilds
//! its operation on the new epoch and sends it again.

use mimi_proto::RoomId;
use mimi_proto::messages::{RawFanoutMessage, UpdateOutcome};

use crate::client::Client;
use crate::error::ClientError;
use crate::events::RoomEvent;
use mimi_mls::OutgoingCommit;

/// How a retried commit ended.
#[derive(Debug)]
pub struct Retried {
    /// Attempts made, the successful one included.
    pub attempts: u32,
    /// Events of the missed messages processed in between, then the merge of
    /// our commit.
    pub events: Vec<RoomEvent>,
}

/// Why a retried commit failed.
#[derive(Debug, thiserror::Error)]
pub enum RetryError<E: std::error::Error + 'static> {
    /// Building or processing failed locally (including a policy refusal of
    /// the rebuilt operation).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[source] E),
    /// The hub refused the commit (`notAllowed` or `invalidProposal`).
    #[error("hub refused the commit: {0:?}")]
    Refused(UpdateOutcome),
    /// Every attempt lost its epoch.
    #[error("gave up after {0} attempts on wrong epochs")]
    Exhausted(u32),
}

impl Client {
    /// Builds a commit with `build`, submits it with `submit`, and on
    /// `wrongEpoch` discards it, processes the missed events from `fetch`
    /// (in the hub's order) and tries again, up to `max_attempts` times.
    /// On `success` the commit is merged.
    ///
    /// # Errors
    /// See [`RetryError`]. After `Refused` or `Exhausted` no commit of ours is
    /// pending; after `Transport` it stays pending, since the hub may have
    /// accepted it.
    pub fn commit_with_retry<E, B, S, F>(
        &mut self,
        room: &RoomId,
        max_attempts: u32,
        mut build: B,
        mut submit: S,
        mut fetch: F,
    ) -> Result<Retried, RetryError<E>>
    where
        E: std::error::Error + 'static,
        B: FnMut(&mut Client) -> Result<OutgoingCommit, ClientError>,
        S: FnMut(&OutgoingCommit) -> Result<UpdateOutcome, E>,
        F: FnMut(&Client) -> Result<Vec<RawFanoutMessage>, E>,
    {
        let mut events = Vec::new();
        for attempt in 1..=max_attempts {
            let out = build(self)?;
            let outcome = match submit(&out) {
                Ok(o) => o,
                Err(e) => {
                    // The outcome is unknown: the hub may have accepted it.
                    // Keep it pending; when it is fanned back `process`
                    // merges it, and another commit of that epoch drops it.
                    return Err(RetryError::Transport(e));
                }
            };
            match outcome {
                UpdateOutcome::Success { .. } => {
                    events.extend(self.commit_accepted(room)?);
                    return Ok(Retried {
                        attempts: attempt,
                        events,
                    });
                }
                UpdateOutcome::WrongEpoch { .. } => {
                    self.commit_rejected(room)?;
                    let missed = fetch(self).map_err(RetryError::Transport)?;
                    for incoming in missed {
                        events.extend(self.process(incoming)?);
                    }
                }
                other => {
                    self.commit_rejected(room)?;
                    return Err(RetryError::Refused(other));
                }
            }
        }
        Err(RetryError::Exhausted(max_attempts))
    }
}
