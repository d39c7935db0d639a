//! Read-only views of a session's rooms for display and `--json`: rooms,
//! members with their roles and clients, and decoded history.

use mimi_client::{ClientRoom, RoomStatus, StoredMessage};
use mimi_content::{MessageId, MimiContent, Part};
use mimi_proto::RoomId;
use serde::Serialize;

use crate::error::SessionError;
use crate::session::Session;

/// One room as this client holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomView {
    /// The room URI.
    pub room: String,
    /// `active`, `joining` or `removed`.
    pub status: &'static str,
    /// The MLS epoch; for a room we were removed from, the last epoch we
    /// were a member of.
    pub epoch: u64,
    /// The epoch authenticator of `epoch`, hex: equal on every member at one
    /// epoch.
    pub epoch_authenticator: String,
    /// Listed participants.
    pub participants: usize,
    /// Member clients.
    pub clients: usize,
    /// Messages in the history.
    pub messages: usize,
}

/// One participant and their clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// The user URI.
    pub user: String,
    /// The role index.
    pub role: u32,
    /// The role's name.
    pub role_name: String,
    /// Their clients in the MLS group.
    pub clients: Vec<String>,
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryItem {
    /// Position in this client's history.
    pub seq: u64,
    /// The message ID.
    pub message_id: MessageId,
    /// The sending user.
    pub sender: String,
    /// Hub acceptance time (ms since the UNIX epoch).
    pub timestamp: u64,
    /// `text`, `reply`, `reaction`, `edit`, `delete` or `other`.
    pub kind: &'static str,
    /// The text, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// What it replies or reacts to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<MessageId>,
    /// What it edits or deletes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<MessageId>,
    /// Sent by this client.
    pub own: bool,
    /// The hub's frank came with it.
    pub franked: bool,
}

impl Session {
    /// Every room this client holds.
    pub fn rooms(&self) -> Vec<RoomView> {
        self.client.rooms().map(room_view).collect()
    }

    /// The participants of `room`.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] for an unknown room.
    pub fn members(&self, room: &RoomId) -> Result<Vec<MemberView>, SessionError> {
        let r = self.client.room(room)?;
        let clients = r.members();
        Ok(r.participants()
            .into_iter()
            .map(|(user, role)| MemberView {
                user: user.as_str().to_owned(),
                role,
                role_name: r
                    .state()
                    .roles()
                    .role(role)
                    .map_or_else(|| role.to_string(), |x| x.role_name.as_str().to_owned()),
                clients: clients
                    .iter()
                    .filter(|c| c.user().is_some_and(|u| u.as_str() == user.as_str()))
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            })
            .collect())
    }

    /// The decoded history of `room`, oldest first.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] for an unknown room.
    pub fn history(&self, room: &RoomId) -> Result<Vec<HistoryItem>, SessionError> {
        Ok(self
            .client
            .room(room)?
            .history()
            .iter()
            .map(history_item)
            .collect())
    }
}

fn room_view(r: &ClientRoom) -> RoomView {
    RoomView {
        room: r.id().as_str().to_owned(),
        status: match r.status() {
            RoomStatus::Active => "active",
            RoomStatus::Joining => "joining",
            RoomStatus::Removed => "removed",
        },
        epoch: r.member_epoch(),
        epoch_authenticator: hex::encode(r.epoch_authenticator()),
        participants: r.participants().len(),
        clients: r.members().len(),
        messages: r.history().len(),
    }
}

fn history_item(m: &StoredMessage) -> HistoryItem {
    let content = m.decode().ok();
    let (kind, text) = content.as_ref().map_or(("other", None), describe);
    HistoryItem {
        seq: m.seq,
        message_id: m.message_id,
        sender: m.sender.as_str().to_owned(),
        timestamp: m.timestamp,
        kind,
        text,
        in_reply_to: content.as_ref().and_then(|c| c.in_reply_to),
        replaces: content.as_ref().and_then(|c| c.replaces),
        own: m.own,
        franked: m.frank.is_some(),
    }
}

/// What kind of message it is, and its first text part.
fn describe(content: &MimiContent) -> (&'static str, Option<String>) {
    let text = content
        .body
        .walk()
        .into_iter()
        .find_map(|p| match &p.part.part {
            Part::Single(single) => single.text().map(str::to_owned),
            _ => None,
        });
    let null_body = matches!(content.body.part, Part::Null);
    let kind = match (
        content.replaces.is_some(),
        content.in_reply_to.is_some(),
        null_body,
    ) {
        (true, _, true) => "delete",
        (true, _, false) => "edit",
        (false, true, _) if is_reaction(content) => "reaction",
        (false, true, _) => "reply",
        _ => "text",
    };
    (kind, text)
}

fn is_reaction(content: &MimiContent) -> bool {
    content
        .body
        .disposition
        .name()
        .is_some_and(|n| n == "reaction")
}

/// A [`RoomEvent`](mimi_client::RoomEvent) for display and `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventView {
    /// We joined from a Welcome.
    Joined {
        /// The room.
        room: String,
        /// Its epoch.
        epoch: u64,
    },
    /// A commit was merged.
    Committed {
        /// The room.
        room: String,
        /// The new epoch.
        epoch: u64,
        /// Who committed.
        #[serde(skip_serializing_if = "Option::is_none")]
        committer: Option<String>,
        /// Users added, removed, banned, unbanned.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        added: Vec<String>,
        /// Users removed.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        removed: Vec<String>,
        /// Users banned.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        banned: Vec<String>,
        /// Users unbanned.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unbanned: Vec<String>,
        /// Clients added.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        clients_added: Vec<String>,
        /// Clients removed.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        clients_removed: Vec<String>,
    },
    /// This client was removed.
    Removed {
        /// The room.
        room: String,
        /// The epoch that removed us.
        epoch: u64,
    },
    /// Proposals were queued for the next commit.
    ProposalsQueued {
        /// The room.
        room: String,
        /// How many.
        count: usize,
    },
    /// A message arrived.
    Message {
        /// The room.
        room: String,
        /// The sending user.
        sender: String,
        /// The message ID.
        message_id: MessageId,
        /// `text`, `reply`, `reaction`, `edit`, `delete` or `other`.
        kind: &'static str,
        /// Its text, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// Something was dropped or had nothing to do.
    Other {
        /// The room, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        room: Option<String>,
        /// What.
        detail: String,
    },
}

impl From<&mimi_client::RoomEvent> for EventView {
    fn from(e: &mimi_client::RoomEvent) -> Self {
        use mimi_client::RoomEvent as E;
        let ids = |v: &[mimi_proto::components::ParticipantId]| {
            v.iter().map(|p| p.as_str().to_owned()).collect()
        };
        let clients =
            |v: &[mimi_proto::ClientId]| v.iter().map(|c| c.as_str().to_owned()).collect();
        match e {
            E::Joined { room, epoch } => Self::Joined {
                room: room.as_str().to_owned(),
                epoch: *epoch,
            },
            E::Committed {
                room,
                epoch,
                committer,
                summary,
                ..
            } => Self::Committed {
                room: room.as_str().to_owned(),
                epoch: *epoch,
                committer: committer.as_ref().map(|c| c.as_str().to_owned()),
                added: ids(&summary.added_users),
                removed: ids(&summary.removed_users),
                banned: ids(&summary.banned_users),
                unbanned: ids(&summary.unbanned_users),
                clients_added: clients(&summary.added_clients),
                clients_removed: clients(&summary.removed_clients),
            },
            E::Removed { room, epoch } => Self::Removed {
                room: room.as_str().to_owned(),
                epoch: *epoch,
            },
            E::ProposalsQueued { room, count } => Self::ProposalsQueued {
                room: room.as_str().to_owned(),
                count: *count,
            },
            E::Message(m) => {
                let (kind, text) = describe(&m.content);
                Self::Message {
                    room: m.room.as_str().to_owned(),
                    sender: m.sender.as_str().to_owned(),
                    message_id: m.message_id,
                    kind,
                    text,
                }
            }
            E::OwnCommitLost { room } => Self::Other {
                room: Some(room.as_str().to_owned()),
                detail: "our pending commit lost its epoch".into(),
            },
            E::ProposalsRefused { room, denial } => Self::Other {
                room: Some(room.as_str().to_owned()),
                detail: format!("proposals refused by room policy: {denial}"),
            },
            E::Discarded {
                room,
                sender,
                reason,
            } => Self::Other {
                room: Some(room.as_str().to_owned()),
                detail: format!(
                    "message from {} discarded: {reason:?}",
                    sender.as_ref().map_or("?", |s| s.as_str())
                ),
            },
            E::Ignored { room, reason } => Self::Other {
                room: room.as_ref().map(|r| r.as_str().to_owned()),
                detail: (*reason).to_owned(),
            },
        }
    }
}
