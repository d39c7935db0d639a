//! Application messages: every `mimi-content` kind the CLI offers, composed
//! with the room's content builder, encrypted by the client library and
//! submitted to the hub through our provider.

use mimi_client_api::routes;
use mimi_content::{EncodedContent, MessageId, NestedPart};
use mimi_proto::messages::SubmitMessageResponse;
use mimi_proto::{RoomId, WireMessage as _};
use reqwest::Method;
use serde::Serialize;

use crate::error::SessionError;
use crate::rooms::encode;
use crate::session::Session;
use crate::transport::Body;

/// A message the hub accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The room.
    pub room: String,
    /// The message ID (hex), to reply, react, edit or delete with.
    pub message_id: MessageId,
    /// The hub's acceptance time, ms since the UNIX epoch.
    pub timestamp: u64,
    /// The hub franked it.
    pub franked: bool,
}

impl Session {
    /// Sends a Markdown text.
    ///
    /// # Errors
    /// As [`Session::send_content`].
    pub fn send_text(&mut self, room: &RoomId, text: &str) -> Result<Sent, SessionError> {
        self.ready(room)?;
        let content = self.client.compose(room)?.markdown(text)?;
        self.send_content(room, content)
    }

    /// Replies to `target` with a Markdown text.
    ///
    /// # Errors
    /// As [`Session::send_content`]; [`SessionError::BadInput`] for an
    /// unknown target.
    pub fn reply(
        &mut self,
        room: &RoomId,
        target: &MessageId,
        text: &str,
    ) -> Result<Sent, SessionError> {
        self.ready(room)?;
        self.known(room, target)?;
        let content = self.client.compose(room)?.reply(*target, text)?;
        self.send_content(room, content)
    }

    /// Reacts to `target` (e.g. with an emoji).
    ///
    /// # Errors
    /// As [`Session::reply`].
    pub fn react(
        &mut self,
        room: &RoomId,
        target: &MessageId,
        reaction: &str,
    ) -> Result<Sent, SessionError> {
        self.ready(room)?;
        self.known(room, target)?;
        let content = self.client.compose(room)?.reaction(*target, reaction)?;
        self.send_content(room, content)
    }

    /// Replaces our message `target` with a new Markdown text.
    ///
    /// # Errors
    /// As [`Session::reply`].
    pub fn edit(
        &mut self,
        room: &RoomId,
        target: &MessageId,
        text: &str,
    ) -> Result<Sent, SessionError> {
        self.ready(room)?;
        self.known(room, target)?;
        let content = self
            .client
            .compose(room)?
            .edit(*target, NestedPart::markdown(text))?;
        self.send_content(room, content)
    }

    /// Deletes the message `target`.
    ///
    /// # Errors
    /// As [`Session::reply`].
    pub fn delete(&mut self, room: &RoomId, target: &MessageId) -> Result<Sent, SessionError> {
        self.ready(room)?;
        self.known(room, target)?;
        let content = self.client.compose(room)?.delete(*target)?;
        self.send_content(room, content)
    }

    /// Encrypts `content` and submits it to the room's hub.
    ///
    /// # Errors
    /// [`SessionError::Refused`] for our own role's refusal (`policy`) or the
    /// hub's (`notAllowed`, `epochTooOld`); the transport's errors.
    pub fn send_content(
        &mut self,
        room: &RoomId,
        content: EncodedContent,
    ) -> Result<Sent, SessionError> {
        let out = self.client.send(room, content)?;
        let body = out.submit_request()?.encode().map_err(encode)?;
        let answer = self.call(
            Method::POST,
            &routes::mimi("submitMessage", room.as_str()),
            Body::Mimi(body),
            None,
        )?;
        match SubmitMessageResponse::decode(&answer)? {
            SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            } => {
                let franked = frank.is_some();
                self.client
                    .message_accepted(room, &out.message_id, accepted_timestamp, frank)?;
                Ok(Sent {
                    room: room.as_str().to_owned(),
                    message_id: out.message_id,
                    timestamp: accepted_timestamp,
                    franked,
                })
            }
            SubmitMessageResponse::NotAllowed => Err(SessionError::refused(
                "notAllowed",
                "the room's hub refused the message",
            )),
            SubmitMessageResponse::EpochTooOld { current_epoch } => Err(SessionError::refused(
                "epochTooOld",
                format!("the room is at epoch {current_epoch}; sync and send again"),
            )),
        }
    }

    fn known(&self, room: &RoomId, target: &MessageId) -> Result<(), SessionError> {
        if self.client.room(room)?.message(target).is_some() {
            Ok(())
        } else {
            Err(SessionError::BadInput(format!(
                "no message {target} in {room}"
            )))
        }
    }
}
