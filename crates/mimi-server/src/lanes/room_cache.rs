//! The hot cache of deserialized hub rooms, keyed by room and store version.
//!
//! Same rule as `mimi_store::EpochCache` (state is valid only at the exact
//! version it was stored at; it is taken out while a step runs and put back
//! under the version the commit returned), but looked up by a version read
//! *before* the room is locked, so a room lane can run the hub step without
//! holding the store's write lock (decisions FED-16). The commit's version
//! check (`AcceptedEvent::base`) then catches anything that moved the room in
//! between.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use mimi_proto::RoomId;
use mimi_store::RoomVersion;

/// Cached state of type `T` per room, at most `capacity` rooms (least
/// recently used out).
#[derive(Debug)]
pub struct RoomCache<T> {
    /// `std` mutex: held only for one map operation, never across `.await`.
    inner: Mutex<Inner<T>>,
    capacity: usize,
}

#[derive(Debug)]
struct Inner<T> {
    entries: HashMap<RoomId, (RoomVersion, T, u64)>,
    tick: u64,
}

impl<T> RoomCache<T> {
    /// A cache of at most `capacity` rooms (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                tick: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    /// Takes `room`'s state if it is cached at exactly `version`; an entry at
    /// another version is stale and dropped.
    pub fn take(&self, room: &RoomId, version: RoomVersion) -> Option<T> {
        let (cached, state, _) = self.lock().entries.remove(room)?;
        (cached == version).then_some(state)
    }

    /// Caches `state` as `room`'s state at `version`.
    pub fn put(&self, room: RoomId, version: RoomVersion, state: T) {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        if !inner.entries.contains_key(&room) && inner.entries.len() >= self.capacity {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, (_, _, used))| *used)
                .map(|(room, _)| room.clone());
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(room, (version, state, tick));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<T>> {
        // Each critical section is one map operation: never half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(epoch: u64, revision: u64) -> RoomVersion {
        RoomVersion { epoch, revision }
    }

    #[test]
    fn only_the_exact_version_is_returned_and_capacity_evicts_the_oldest() {
        let cache = RoomCache::new(2);
        let r = |n: &str| RoomId::parse(&format!("mimi://a.example/r/{n}")).unwrap();
        cache.put(r("x"), v(1, 3), "x13");
        assert_eq!(
            cache.take(&r("x"), v(1, 4)),
            None,
            "another revision is stale"
        );
        assert_eq!(cache.take(&r("x"), v(1, 3)), None, "and was dropped");
        cache.put(r("x"), v(2, 5), "x25");
        assert_eq!(cache.take(&r("x"), v(2, 5)), Some("x25"));
        assert_eq!(cache.take(&r("x"), v(2, 5)), None, "taken out");

        cache.put(r("a"), v(0, 0), "a");
        cache.put(r("b"), v(0, 0), "b");
        cache.put(r("c"), v(0, 0), "c");
        assert_eq!(cache.take(&r("a"), v(0, 0)), None, "least recently put");
        assert_eq!(cache.take(&r("b"), v(0, 0)), Some("b"));
        assert_eq!(cache.take(&r("c"), v(0, 0)), Some("c"));
    }
}
