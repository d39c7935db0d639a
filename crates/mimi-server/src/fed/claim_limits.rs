//! How many KeyPackages of one of our users others may claim: per requesting
//! user and per requesting provider, per target user, per time window
//! (decisions KP-3). The hub's policy check (KP-1) stops members who may not
//! add; this stops everyone else who asks and asks: a peer's user asking
//! without a room, or as the admin of a room of its own. When the limit is
//! reached the request is refused with `claimLimited` (429 + `Retry-After`)
//! before anything is claimed; the target stays addable by others, and
//! through its last-resort KeyPackage (KP-4).
//!
//! The counts live in memory, like the per-peer request limiter: a restart
//! forgets them, which at worst grants one more window.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use mimi_proto::UserId;
use serde::Deserialize;

/// Most (requester, target) windows tracked at once. Bounds the memory one
/// flood of distinct requesters or targets can take; when full, expired
/// windows are dropped first, and a new pair is refused until room frees up
/// (a flood must not reset everyone's counts).
pub const MAX_TRACKED: usize = 100_000;

/// The `[key_packages]` section of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyPackageSettings {
    /// Claims one requesting user may make for one of our users per window.
    pub claims_per_user: u32,
    /// Claims all users of one requesting provider together may make for one
    /// of our users per window.
    pub claims_per_provider: u32,
    /// The window, in seconds.
    pub claim_window_secs: u64,
    /// How long a claimed KeyPackage is kept for its claimer before it
    /// expires here (decisions KP-6).
    pub claimed_ttl_secs: u64,
}

impl Default for KeyPackageSettings {
    fn default() -> Self {
        Self {
            // Adding a user takes one claim; a retry after a lost commit race
            // another. Ten an hour is generous for a person and small next
            // to a client's stock plus its last resort.
            claims_per_user: 10,
            // A provider's users together: a busy provider adds the same
            // popular user to several rooms.
            claims_per_provider: 50,
            claim_window_secs: 3600,
            // A claimer that has not used a KeyPackage in a week will not:
            // its add failed or was abandoned.
            claimed_ttl_secs: 7 * 24 * 3600,
        }
    }
}

impl KeyPackageSettings {
    /// `claimed_ttl_secs` in milliseconds.
    pub fn claimed_ttl_ms(&self) -> u64 {
        self.claimed_ttl_secs.saturating_mul(1000)
    }
}

/// Who is counted: a requesting user, or all users of a requesting provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Requester {
    User(String),
    Provider(String),
}

/// One fixed window's count.
#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: u64,
    count: u32,
}

/// The claim counters shared by all requests.
#[derive(Debug)]
pub struct ClaimLimits {
    settings: KeyPackageSettings,
    /// `std` mutex: held for two map operations, never across `.await`.
    windows: Mutex<HashMap<(Requester, String), Window>>,
}

impl ClaimLimits {
    /// Counters for `settings`.
    pub fn new(settings: &KeyPackageSettings) -> Self {
        Self {
            settings: *settings,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one claim of `target`'s KeyPackages by `requester` at `now_ms`,
    /// or says how long until the requester may claim again (nothing is
    /// counted then).
    ///
    /// # Errors
    /// The wait until the fullest window ends.
    pub fn take(&self, requester: &UserId, target: &UserId, now_ms: u64) -> Result<(), Duration> {
        let window_ms = self.settings.claim_window_secs.max(1).saturating_mul(1000);
        let keys = [
            (
                (
                    Requester::User(requester.as_str().to_owned()),
                    target.as_str().to_owned(),
                ),
                self.settings.claims_per_user,
            ),
            (
                (
                    Requester::Provider(requester.domain().to_owned()),
                    target.as_str().to_owned(),
                ),
                self.settings.claims_per_provider,
            ),
        ];
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let live = |w: &Window| now_ms.saturating_sub(w.start_ms) < window_ms;
        let new_pairs = keys
            .iter()
            .filter(|(k, _)| !windows.contains_key(k))
            .count();
        if windows.len() + new_pairs > MAX_TRACKED {
            windows.retain(|_, w| live(w));
            if windows.len() + new_pairs > MAX_TRACKED {
                tracing::warn!(tracked = windows.len(), "KeyPackage claim counters full");
                return Err(Duration::from_millis(window_ms));
            }
        }
        // Check both before counting either: a refused claim counts nowhere.
        let mut wait = None;
        for (key, limit) in &keys {
            if let Some(w) = windows.get(key).filter(|w| live(w))
                && w.count >= *limit
            {
                let left = window_ms.saturating_sub(now_ms.saturating_sub(w.start_ms));
                wait = wait.max(Some(Duration::from_millis(left)));
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (key, _) in keys {
            let w = windows.entry(key).or_insert(Window {
                start_ms: now_ms,
                count: 0,
            });
            if !live(w) {
                *w = Window {
                    start_ms: now_ms,
                    count: 0,
                };
            }
            w.count = w.count.saturating_add(1);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn each_requesting_user_and_provider_has_its_window_per_target() {
        let limits = ClaimLimits::new(&KeyPackageSettings {
            claims_per_user: 2,
            claims_per_provider: 3,
            claim_window_secs: 60,
            ..KeyPackageSettings::default()
        });
        let (x, y) = (user("mimi://b.example/u/x"), user("mimi://b.example/u/y"));
        let z = user("mimi://d.example/u/z");
        let carol = user("mimi://c.example/u/carol");
        let dave = user("mimi://c.example/u/dave");
        limits.take(&x, &carol, 0).unwrap();
        limits.take(&x, &carol, 1).unwrap();
        // x's own limit for carol.
        let wait = limits.take(&x, &carol, 1_000).unwrap_err();
        assert_eq!(wait, Duration::from_secs(59));
        // Another target is counted apart.
        limits.take(&x, &dave, 1_000).unwrap();
        // b.example's third claim for carol, then its provider limit.
        limits.take(&y, &carol, 2_000).unwrap();
        assert!(limits.take(&y, &carol, 2_000).is_err());
        // Another provider's user is not affected.
        limits.take(&z, &carol, 2_000).unwrap();
        // The refused claims were not counted: once the window has passed,
        // x may claim twice again.
        limits.take(&x, &carol, 60_000).unwrap();
        limits.take(&x, &carol, 60_001).unwrap();
        assert!(limits.take(&x, &carol, 60_002).is_err());
    }
}
