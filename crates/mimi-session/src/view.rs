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
    /// The MLS epoch.
    pub epoch: u64,
    /// The epoch authenticator, hex: equal on every member at one epoch.
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
        epoch: r.epoch(),
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
