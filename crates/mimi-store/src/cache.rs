//! A hot in-memory cache of each room's deserialized hub state, keyed by room version.
//!
//! The rule: *check the version under the lock before trusting the cache*. The cache only
//! hands out state for a [`RoomTxn`], i.e. while the room is locked, and only if the locked
//! row's [`RoomVersion`] equals the cached one; otherwise another instance (or a rolled-back
//! attempt) moved the room and the entry is dropped. The version includes a revision, not only
//! the epoch, because a queued proposal changes the state within an epoch.
//!
//! State is taken *out* of the cache, since a hub step consumes and replaces it; the caller
//! puts the new state back after [`RoomTxn::commit`] succeeds, under the version the commit
//! returned. A failed step or commit simply leaves the room uncached, and the next request
//! loads the snapshot from the database.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use mimi_proto::RoomId;

use crate::model::RoomVersion;
use crate::rooms::RoomTxn;

/// Cached hub state of type `T` per room, bounded to `capacity` rooms (least recently used
/// out).
#[derive(Debug)]
pub struct EpochCache<T> {
    /// `std` mutex: held only for map operations, never across an `.await`.
    inner: Mutex<CacheInner<T>>,
    capacity: usize,
}

#[derive(Debug)]
struct CacheInner<T> {
    entries: HashMap<RoomId, Entry<T>>,
    /// Logical clock for least-recently-used eviction.
    tick: u64,
}

#[derive(Debug)]
struct Entry<T> {
    version: RoomVersion,
    state: T,
    used: u64,
}

impl<T> EpochCache<T> {
    /// A cache holding at most `capacity` rooms (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(CacheInner {
                entries: HashMap::new(),
                tick: 0,
            }),
            capacity: capacity.max(1),
        }
    }

    /// Takes the state of the locked room if it was cached at exactly the locked version.
    /// A cached entry at another version is stale and dropped.
    pub fn take(&self, txn: &RoomTxn) -> Option<T> {
        let mut inner = self.lock();
        let entry = inner.entries.remove(txn.room())?;
        (entry.version == txn.version()).then_some(entry.state)
    }

    /// Caches `state` as the room's state at `version` (the version
    /// [`RoomTxn::commit`](crate::RoomTxn::commit) returned, or the locked version if nothing
    /// was written).
    pub fn put(&self, room: RoomId, version: RoomVersion, state: T) {
        let mut inner = self.lock();
        inner.tick += 1;
        let used = inner.tick;
        if !inner.entries.contains_key(&room) && inner.entries.len() >= self.capacity {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(room, _)| room.clone());
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(
            room,
            Entry {
                version,
                state,
                used,
            },
        );
    }

    /// Drops a room's entry.
    pub fn invalidate(&self, room: &RoomId) {
        self.lock().entries.remove(room);
    }

    /// Rooms cached now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner<T>> {
        // The map stays consistent even if a holder panicked: every critical section is a
        // single map operation.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
