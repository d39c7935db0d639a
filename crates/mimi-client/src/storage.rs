//! What the client keeps across restarts, as rows, and the [`Storage`] trait
//! that keeps them. The protocol modules build a [`Batch`] per operation and
//! hand it over; only the storage implementation (SQLite, `store`) does I/O
//! (decision CL-1: one transaction per operation).

use std::collections::HashMap;

use crate::error::ClientError;

/// One room row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoomRow {
    pub room: String,
    pub group_id: Vec<u8>,
    pub status: i64,
    pub created_ms: i64,
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageRow {
    pub room: String,
    pub seq: i64,
    pub message_id: Vec<u8>,
    pub sender: String,
    pub timestamp: i64,
    pub content: Vec<u8>,
    pub frank: Option<Vec<u8>>,
    pub own: bool,
    pub wire_hash: Option<Vec<u8>>,
}

/// What one operation changed, written in one transaction.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub kv_put: Vec<(Vec<u8>, Vec<u8>)>,
    pub kv_delete: Vec<Vec<u8>>,
    pub meta: Vec<(&'static str, Vec<u8>)>,
    pub rooms: Vec<RoomRow>,
    pub rooms_delete: Vec<String>,
    pub messages: Vec<MessageRow>,
}

impl Batch {
    /// True when the operation changed nothing.
    pub fn is_empty(&self) -> bool {
        self.kv_put.is_empty()
            && self.kv_delete.is_empty()
            && self.meta.is_empty()
            && self.rooms.is_empty()
            && self.rooms_delete.is_empty()
            && self.messages.is_empty()
    }
}

/// Everything stored, as read at open.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub meta: HashMap<String, Vec<u8>>,
    pub kv: HashMap<Vec<u8>, Vec<u8>>,
    pub rooms: Vec<RoomRow>,
    pub messages: Vec<MessageRow>,
}

/// Where a client keeps its state: everything read once at open, and one
/// all-or-nothing write per operation.
pub(crate) trait Storage: Send {
    /// Reads everything.
    ///
    /// # Errors
    /// [`ClientError::Storage`] if the stored state cannot be read.
    fn load(&mut self) -> Result<Loaded, ClientError>;

    /// Writes a batch in one transaction: all of it or nothing.
    ///
    /// # Errors
    /// [`ClientError::Storage`]; the stored state is then unchanged.
    fn commit(&mut self, batch: &Batch) -> Result<(), ClientError>;
}
