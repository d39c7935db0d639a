//! The protocol's notion of "now": milliseconds since the UNIX epoch.
//!
//! Acceptance timestamps are part of the protocol (`accepted_timestamp`,
//! `FanoutMessage.timestamp`, franking contexts), and a client checks message
//! ages against them, so neither the server's handlers nor the client library
//! read the system clock themselves: they ask the [`Clock`] they were built
//! with, and tests pass one they control. The trait lives here, below both,
//! so that the server and the client share one definition.

use std::fmt::Debug;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the UNIX epoch.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current time, milliseconds since the UNIX epoch.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            // A clock set before 1970 is a host misconfiguration; 0 keeps the
            // caller running and makes the problem visible in every timestamp.
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2024() {
        // 2024-01-01T00:00:00Z in ms: a wrong unit (seconds, micros) fails this.
        let now = SystemClock.now_ms();
        assert!(now > 1_704_067_200_000 && now < 4_102_444_800_000, "{now}");
    }
}
