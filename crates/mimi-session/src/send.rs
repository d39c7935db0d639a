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

/// Hex digits a message-ID prefix needs at least, as git asks of an
/// abbreviated object name: one to three digits would pick a message by
/// accident as soon as the history grows (decision SES-11).
pub const MESSAGE_PREFIX_MIN: usize = 4;

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

    /// The message of `room` that `text` names: its whole ID (64 hex
    /// digits) or any prefix of it that no other message of the room shares
    /// (at least [`MESSAGE_PREFIX_MIN`] digits, any case), as `history` shows
    /// them (12 digits) and as git takes abbreviated object names. The one
    /// place a message reference typed by a user is resolved. A prefix is
    /// matched after a sync, so a message that just arrived is found.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] if `text` is not hex or too short, no
    /// message of the room starts with it, or several do (their count is
    /// named); as [`Session::history`] for an unknown room; the sync's
    /// errors.
    pub fn message_id(&mut self, room: &RoomId, text: &str) -> Result<MessageId, SessionError> {
        if text.len() != 64 {
            self.ready(room)?;
        }
        let history = self.client.room(room)?.history();
        resolve_message_id(history.iter().map(|m| &m.message_id), text)
            .map_err(|why| SessionError::BadInput(format!("message ID {text:?} in {room}: {why}")))
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

/// The one ID among `ids` that `text` (whole or a prefix, any case) names,
/// or why there is none.
fn resolve_message_id<'a>(
    ids: impl IntoIterator<Item = &'a MessageId>,
    text: &str,
) -> Result<MessageId, String> {
    let prefix = text.to_ascii_lowercase();
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("not hex digits".into());
    }
    if prefix.len() == 64 {
        return prefix.parse().map_err(|_| "not a message ID".to_owned());
    }
    if prefix.len() > 64 {
        return Err("longer than a message ID (64 hex digits)".into());
    }
    if prefix.len() < MESSAGE_PREFIX_MIN {
        return Err(format!(
            "give at least {MESSAGE_PREFIX_MIN} hex digits (`history` shows 12)"
        ));
    }
    let mut matches = ids
        .into_iter()
        .filter(|id| id.to_hex().starts_with(&prefix));
    let first = matches.next().ok_or("no message starts with it")?;
    match matches.count() {
        0 => Ok(*first),
        more => Err(format!(
            "ambiguous: {} messages start with it; give more digits",
            more + 1
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message ID (SHA-256, code point 1) whose digest starts with `hex`.
    fn id(hex: &str) -> MessageId {
        format!("01{hex:0<62}").parse().unwrap()
    }

    #[test]
    fn a_unique_prefix_names_its_message() {
        let ids = [id("08a373cad4"), id("08a373ffff"), id("77")];
        assert_eq!(resolve_message_id(&ids, "0108a373cad4"), Ok(ids[0]));
        assert_eq!(resolve_message_id(&ids, "0108A373C"), Ok(ids[0]));
        assert_eq!(resolve_message_id(&ids, "0177"), Ok(ids[2]));
        let whole = ids[1].to_hex();
        assert_eq!(resolve_message_id(&ids, &whole), Ok(ids[1]));
        // A whole ID need not be in the history: the caller checks that.
        let absent = id("ab").to_hex();
        assert_eq!(resolve_message_id(&ids, &absent), Ok(id("ab")));
    }

    #[test]
    fn ambiguous_short_absent_and_malformed_prefixes_say_why() {
        let ids = [id("08a373cad4"), id("08a373ffff")];
        let ambiguous = resolve_message_id(&ids, "0108a373").unwrap_err();
        assert!(ambiguous.contains("ambiguous: 2 messages"), "{ambiguous}");
        assert!(
            resolve_message_id(&ids, "010")
                .unwrap_err()
                .contains("at least 4")
        );
        assert!(
            resolve_message_id(&ids, "dead")
                .unwrap_err()
                .contains("no message")
        );
        assert!(
            resolve_message_id(&ids, "01zz")
                .unwrap_err()
                .contains("not hex")
        );
        assert!(
            resolve_message_id(&ids, "")
                .unwrap_err()
                .contains("not hex")
        );
        let long = format!("{}0", ids[0].to_hex());
        assert!(
            resolve_message_id(&ids, &long)
                .unwrap_err()
                .contains("longer")
        );
    }
}
