//! Failure injection for tests: named points on the hub's paths that change
//! a room, after its checks, where a test can make the next step fail to
//! show that the room is then unchanged (the stage-then-merge rule of
//! `Room::accept_commit` and `Room::queue_bundle`, decision HUB-8).
//!
//! Compiled in only for the crate's own tests and with the
//! `fault-injection` feature (which the hub's and the server's tests turn
//! on); otherwise [`hit`] is an empty inline function.

use mimi_proto::RoomId;

use crate::error::HubError;

/// A point where a test can inject a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `accept_commit`: the commit is staged and its GroupInfo checked.
    Staged,
    /// `accept_commit`: the next epoch's group is merged beside the current one.
    Merged,
    /// `accept_commit`: the Welcome's ratchet tree is serialized.
    TreeBytes,
    /// `accept_commit`: a re-issued hub Remove is judged, before it is queued.
    Reissued,
    /// `queue_bundle`: before each proposal is queued in the group.
    Queue,
}

#[cfg(any(test, feature = "fault-injection"))]
mod armed {
    use std::sync::{Mutex, PoisonError};

    use super::{Fault, HubError, RoomId};

    /// Armed faults: room, point, hits to let pass first. Keyed by room so
    /// tests running in parallel do not trip each other.
    static ARMED: Mutex<Vec<(RoomId, Fault, usize)>> = Mutex::new(Vec::new());

    /// Makes the `skip + 1`th pass through `fault` on `room` fail, once.
    pub fn arm(room: &RoomId, fault: Fault, skip: usize) {
        ARMED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((room.clone(), fault, skip));
    }

    pub(crate) fn hit(room: &RoomId, fault: Fault) -> Result<(), HubError> {
        let mut armed = ARMED.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(i) = armed.iter().position(|(r, f, _)| r == room && *f == fault) else {
            return Ok(());
        };
        if let Some((_, _, skip @ 1..)) = armed.get_mut(i) {
            *skip -= 1;
            return Ok(());
        }
        armed.remove(i);
        Err(HubError::Internal("injected fault"))
    }
}

#[cfg(any(test, feature = "fault-injection"))]
pub use armed::arm;
#[cfg(any(test, feature = "fault-injection"))]
pub(crate) use armed::hit;

/// No fault can be armed in this build.
#[cfg(not(any(test, feature = "fault-injection")))]
#[inline(always)]
pub(crate) fn hit(_room: &RoomId, _fault: Fault) -> Result<(), HubError> {
    Ok(())
}
