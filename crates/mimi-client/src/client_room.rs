//! One room as a client holds it: the OpenMLS group, the room-policy state of
//! the group's current epoch, and the message history.

use std::collections::{HashMap, HashSet};

use openmls::prelude::MlsGroup;

use mimi_content::{MessageId, MimiContent};
use mimi_policy::{RoomState, Summary};
use mimi_proto::components::{ParticipantId, RoomMetaData};
use mimi_proto::messages::Frank;
use mimi_proto::{ClientId, RoomId, UserId};

use mimi_mls::client_of;

/// Where a room stands for this client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomStatus {
    /// A member.
    Active,
    /// Our external commit is with the hub; not a member until it answers.
    Joining,
    /// A commit removed us (left, kicked, removed or banned): history only.
    Removed,
}

impl RoomStatus {
    pub(crate) fn code(self) -> i64 {
        match self {
            Self::Active => 1,
            Self::Joining => 2,
            Self::Removed => 3,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Active),
            2 => Some(Self::Joining),
            3 => Some(Self::Removed),
            _ => None,
        }
    }
}

/// A message in a room's history, as received (or sent).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    /// Position in the room's history, from 0.
    pub seq: u64,
    /// The message ID.
    pub message_id: MessageId,
    /// The sending user.
    pub sender: UserId,
    /// Hub acceptance time (for our own messages: when we sent it, until the
    /// hub's answer is recorded), ms since the UNIX epoch.
    pub timestamp: u64,
    /// The exact content bytes (the message ID and franking tag cover them).
    pub content: Vec<u8>,
    /// The hub's frank, if verified.
    pub frank: Option<Frank>,
    /// True for messages this client sent.
    pub own: bool,
    /// For our own messages: SHA-256 of the PrivateMessage we sent, to skip
    /// its echo (an own message from a past epoch cannot be told apart
    /// otherwise: OpenMLS cannot decrypt it).
    pub wire_hash: Option<[u8; 32]>,
}

impl StoredMessage {
    /// The decoded content. Stored content was decoded once already, so this
    /// fails only if the database was altered.
    ///
    /// # Errors
    /// The content's decode error.
    pub fn decode(&self) -> Result<MimiContent, mimi_content::DecodeError> {
        MimiContent::decode(&self.content)
    }
}

/// A room's messages, oldest first, indexed by message ID, by the wire hash
/// of our own messages, and by topic, so each received message costs the
/// same however long the history.
#[derive(Debug, Default)]
pub(crate) struct History {
    messages: Vec<StoredMessage>,
    by_id: HashMap<MessageId, usize>,
    own_wire: HashSet<[u8; 32]>,
    topics: HashSet<Vec<u8>>,
}

impl History {
    /// Appends a message, numbering it.
    pub(crate) fn push(&mut self, mut message: StoredMessage) {
        message.seq = self.messages.len() as u64;
        self.by_id.insert(message.message_id, self.messages.len());
        if let Some(hash) = message.wire_hash {
            self.own_wire.insert(hash);
        }
        if let Ok(content) = message.decode()
            && !content.topic_id.is_empty()
        {
            self.topics.insert(content.topic_id);
        }
        self.messages.push(message);
    }

    pub(crate) fn len(&self) -> usize {
        self.messages.len()
    }

    pub(crate) fn get(&self, id: &MessageId) -> Option<&StoredMessage> {
        self.by_id.get(id).and_then(|i| self.messages.get(*i))
    }

    pub(crate) fn get_mut(&mut self, id: &MessageId) -> Option<&mut StoredMessage> {
        self.by_id.get(id).and_then(|i| self.messages.get_mut(*i))
    }

    /// True if we sent a message with these wire bytes.
    pub(crate) fn sent(&self, wire_hash: &[u8; 32]) -> bool {
        self.own_wire.contains(wire_hash)
    }

    /// True if a message with this topic was seen.
    pub(crate) fn knows_topic(&self, topic: &[u8]) -> bool {
        self.topics.contains(topic)
    }

    pub(crate) fn as_slice(&self) -> &[StoredMessage] {
        &self.messages
    }
}

/// A room held by this client.
pub struct ClientRoom {
    pub(crate) id: RoomId,
    pub(crate) group: MlsGroup,
    /// The committed room state of `group`'s epoch. Rebuilt from the group
    /// after every merge, so it always matches what the key schedule
    /// confirmed.
    pub(crate) state: RoomState,
    pub(crate) status: RoomStatus,
    /// When we first held the room (creation or join), ms since the UNIX
    /// epoch: messages stamped earlier than room creation are dropped (CR-6)
    /// only for rooms we created, so this is informational otherwise.
    pub(crate) created_ms: u64,
    /// What our pending commit does, for the event when it is merged.
    pub(crate) pending: Option<Summary>,
    pub(crate) history: History,
}

impl std::fmt::Debug for ClientRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRoom")
            .field("id", &self.id)
            .field("epoch", &self.epoch())
            .field("status", &self.status)
            .field("messages", &self.history.len())
            .finish_non_exhaustive()
    }
}

impl ClientRoom {
    /// The room id.
    pub fn id(&self) -> &RoomId {
        &self.id
    }

    /// The current epoch: after our removal, the epoch the removing commit
    /// created.
    pub fn epoch(&self) -> u64 {
        self.group.epoch().as_u64()
    }

    /// The last epoch this client was a member of, the one
    /// [`ClientRoom::epoch_authenticator`] belongs to. That is the current
    /// epoch, except once a commit removed us: OpenMLS then takes on the
    /// removing commit's group context (so [`ClientRoom::epoch`] is the new
    /// epoch) but keeps the secrets of the epoch before, which we had.
    pub fn member_epoch(&self) -> u64 {
        if self.group.is_active() {
            self.epoch()
        } else {
            self.epoch().saturating_sub(1)
        }
    }

    /// Where the room stands.
    pub fn status(&self) -> RoomStatus {
        self.status
    }

    /// The OpenMLS group, read-only.
    pub fn group(&self) -> &MlsGroup {
        &self.group
    }

    /// The room-policy state of the current epoch.
    pub fn state(&self) -> &RoomState {
        &self.state
    }

    /// The epoch authenticator of [`ClientRoom::member_epoch`]: equal at
    /// every member of the same epoch and room state (the room state is in
    /// the GroupContext).
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.group.epoch_authenticator().as_slice()
    }

    /// The participant list as `(user, role)`, in list order.
    pub fn participants(&self) -> Vec<(ParticipantId, u32)> {
        self.state
            .participants()
            .map(|(p, r)| (p.clone(), r))
            .collect()
    }

    /// The member clients, by leaf order.
    pub fn members(&self) -> Vec<ClientId> {
        self.group
            .members()
            .filter_map(|m| client_of(&m.credential))
            .collect()
    }

    /// The room metadata, if set.
    pub fn metadata(&self) -> Option<&RoomMetaData> {
        self.state.components().room_metadata.as_ref()
    }

    /// The index of the role named `name` in this room's roles.
    pub fn role_by_name(&self, name: &str) -> Option<u32> {
        self.state
            .roles()
            .roles
            .iter()
            .find(|r| r.role_name.as_str() == name)
            .map(|r| r.role_index)
    }

    /// The message history, oldest first.
    pub fn history(&self) -> &[StoredMessage] {
        self.history.as_slice()
    }

    /// A message by ID.
    pub fn message(&self, id: &MessageId) -> Option<&StoredMessage> {
        self.history.get(id)
    }

    /// True if a commit of ours awaits the hub's answer.
    pub fn has_pending_commit(&self) -> bool {
        self.status == RoomStatus::Joining || self.group.pending_commit().is_some()
    }
}
