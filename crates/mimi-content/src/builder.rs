//! Composing messages without knowing CBOR (draft §"Message semantics",
//! digest B.7).
//!
//! [`ContentBuilder`] holds the header fields (salt, replaces, inReplyTo,
//! topic, expiry, extensions) and finishes with a body; the result is an
//! [`EncodedContent`] with the bytes to encrypt and their message ID. Body
//! constructors on [`NestedPart`] cover text, reactions, attachments and
//! alternatives.
//!
//! ```
//! use mimi_content::markdown::mention_link;
//! use mimi_content::{ContentBuilder, Expiration};
//!
//! let room = "mimi://example.com/r/team";
//! let msg = ContentBuilder::new("mimi://example.com/u/alice", room)
//!     .markdown("Hello **team**")
//!     .expect("valid message");
//! // A reply that mentions Alice and disappears a minute after it is read.
//! let alice = mention_link("@Alice", "mimi://example.com/u/alice").expect("valid URI");
//! let reply = ContentBuilder::new("mimi://example.com/u/bob", room)
//!     .expires(Expiration::after_reading(60))
//!     .reply(msg.message_id, &format!("Thanks {alice}!"))
//!     .expect("valid message");
//! assert_eq!(reply.content.in_reply_to, Some(msg.message_id));
//! // Bob reacts, then takes the reaction back.
//! let like = ContentBuilder::new("mimi://example.com/u/bob", room)
//!     .reaction(msg.message_id, "👍")
//!     .expect("valid message");
//! let unlike = ContentBuilder::new("mimi://example.com/u/bob", room)
//!     .unlike(like.message_id, msg.message_id)
//!     .expect("valid message");
//! assert_eq!(unlike.content.replaces, Some(like.message_id));
//! ```

use rand::rngs::OsRng;

use crate::content::{Expiration, MimiContent};
use crate::error::{Error, Malformed};
use crate::extensions::Extensions;
use crate::id::{MessageId, Salt};
use crate::markdown::{MARKDOWN_MEDIA_TYPE, PLAIN_TEXT_MEDIA_TYPE, escape_html};
use crate::part::{
    Disposition, ExternalPart, MultiPart, NestedPart, Part, PartSemantics, SinglePart,
};
use crate::status::MessageStatusReport;
use crate::value::{MapKey, Value};

/// A message ready to send: what it says, its bytes and its ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedContent {
    /// The message.
    pub content: MimiContent,
    /// Its deterministic encoding: the MLS application data to encrypt.
    pub bytes: Vec<u8>,
    /// Its message ID.
    pub message_id: MessageId,
}

/// Builds one message from the sender's and room's URIs.
#[derive(Debug, Clone)]
pub struct ContentBuilder {
    salt: Option<Salt>,
    replaces: Option<MessageId>,
    topic_id: Vec<u8>,
    expires: Option<Expiration>,
    in_reply_to: Option<MessageId>,
    extensions: Extensions,
}

impl ContentBuilder {
    /// Starts a message; the URIs go into extensions 1 and 2, which franking
    /// and the message ID need.
    pub fn new(sender_uri: impl Into<String>, room_uri: impl Into<String>) -> Self {
        Self {
            salt: None,
            replaces: None,
            topic_id: Vec::new(),
            expires: None,
            in_reply_to: None,
            extensions: Extensions::with_uris(sender_uri, room_uri),
        }
    }

    /// Uses this salt instead of a fresh random one (for reproducing vectors;
    /// a reused salt links messages and weakens franking).
    pub fn salt(mut self, salt: Salt) -> Self {
        self.salt = Some(salt);
        self
    }

    /// Marks the message as a reply or reaction to a specific version.
    pub fn in_reply_to(mut self, target: MessageId) -> Self {
        self.in_reply_to = Some(target);
        self
    }

    /// Marks the message as replacing (editing, deleting, changing) the
    /// message whose *first* version has this ID.
    pub fn replaces(mut self, first_version: MessageId) -> Self {
        self.replaces = Some(first_version);
        self
    }

    /// Puts the message in a topic or thread.
    pub fn topic(mut self, topic_id: impl Into<Vec<u8>>) -> Self {
        self.topic_id = topic_id.into();
        self
    }

    /// Asks receivers to delete the message locally.
    pub fn expires(mut self, expiration: Expiration) -> Self {
        self.expires = Some(expiration);
        self
    }

    /// Adds an extension.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the key or value breaks a data-model rule
    /// (see [`Extensions::insert`]).
    pub fn extension(mut self, key: MapKey, value: Value) -> Result<Self, Error> {
        self.extensions.insert(key, value).map_err(Error::Invalid)?;
        Ok(self)
    }

    /// Finishes the message with `body`.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the message breaks a structural rule (topic over
    /// 4096 bytes, body too deep or too large, a MultiPart with fewer than two
    /// parts), [`Error::UriTooLong`].
    pub fn build(self, body: NestedPart) -> Result<EncodedContent, Error> {
        let content = MimiContent {
            salt: self.salt.unwrap_or_else(|| Salt::random(&mut OsRng)),
            replaces: self.replaces,
            topic_id: self.topic_id,
            expires: self.expires,
            in_reply_to: self.in_reply_to,
            extensions: self.extensions,
            body,
        };
        let bytes = content.encode()?;
        let sender = content.extensions.sender_uri().unwrap_or_default();
        let room = content.extensions.room_uri().unwrap_or_default();
        let message_id = MessageId::compute(sender, room, &bytes, &content.salt)?;
        Ok(EncodedContent {
            content,
            bytes,
            message_id,
        })
    }

    /// A GFM-MIMI Markdown message ("No HTML" applied).
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn markdown(self, markdown: &str) -> Result<EncodedContent, Error> {
        self.build(NestedPart::markdown(markdown))
    }

    /// A plain-text message.
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn plain(self, text: &str) -> Result<EncodedContent, Error> {
        self.build(NestedPart::plain(text))
    }

    /// A Markdown reply to a specific message version.
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn reply(self, target: MessageId, markdown: &str) -> Result<EncodedContent, Error> {
        self.in_reply_to(target).markdown(markdown)
    }

    /// A reaction (e.g. an emoji) to a specific message version. Several
    /// reactions go in separate messages or in [`NestedPart::reactions`],
    /// never concatenated in one string.
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn reaction(self, target: MessageId, reaction: &str) -> Result<EncodedContent, Error> {
        self.in_reply_to(target)
            .build(NestedPart::reaction(reaction))
    }

    /// Retracts a reaction: replaces the reaction message with an empty
    /// reaction body, still pointing at the message reacted to.
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn unlike(self, reaction: MessageId, target: MessageId) -> Result<EncodedContent, Error> {
        self.replaces(reaction)
            .in_reply_to(target)
            .build(NestedPart::null(Disposition::REACTION))
    }

    /// Edits a message: `first_version` is the ID of its first version, and
    /// `body` the new content. Keep the original's inReplyTo, topic and expiry
    /// (set them on the builder): changing them needs extra authorization.
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn edit(self, first_version: MessageId, body: NestedPart) -> Result<EncodedContent, Error> {
        self.replaces(first_version).build(body)
    }

    /// Deletes a message (by the ID of its first version): an empty body.
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn delete(self, first_version: MessageId) -> Result<EncodedContent, Error> {
        self.replaces(first_version)
            .build(NestedPart::null(Disposition::RENDER))
    }

    /// A delivery or read report (draft-mahy-mimi-message-status), wrapped in
    /// a SinglePart so it gets a salt, an ID and franking (digest B.12).
    ///
    /// # Errors
    /// See [`ContentBuilder::build`].
    pub fn status_report(self, report: &MessageStatusReport) -> Result<EncodedContent, Error> {
        self.build(report.to_part())
    }
}

impl NestedPart {
    /// GFM-MIMI Markdown, with the "No HTML" rule applied.
    pub fn markdown(markdown: &str) -> Self {
        Self::single(
            Disposition::RENDER,
            MARKDOWN_MEDIA_TYPE,
            escape_html(markdown).as_bytes().to_vec(),
        )
    }

    /// Plain UTF-8 text.
    pub fn plain(text: &str) -> Self {
        Self::single(
            Disposition::RENDER,
            PLAIN_TEXT_MEDIA_TYPE,
            text.as_bytes().to_vec(),
        )
    }

    /// A single reaction, as plain text with the `reaction` disposition.
    pub fn reaction(reaction: &str) -> Self {
        Self::single(
            Disposition::REACTION,
            PLAIN_TEXT_MEDIA_TYPE,
            reaction.as_bytes().to_vec(),
        )
    }

    /// Several reactions in one message: a `processAll` MultiPart with one
    /// reaction part each (draft "Multiple Reactions" example).
    ///
    /// # Errors
    /// [`Error::Invalid`] with fewer than two reactions (send one with
    /// [`NestedPart::reaction`]).
    pub fn reactions<'a>(reactions: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        let parts = reactions.into_iter().map(Self::reaction).collect();
        Self::multipart(Disposition::REACTION, PartSemantics::ProcessAll, parts)
    }

    /// Inline content of any media type.
    pub fn single(
        disposition: Disposition,
        content_type: impl Into<String>,
        content: Vec<u8>,
    ) -> Self {
        Self::new(
            disposition,
            Part::Single(SinglePart {
                content_type: content_type.into(),
                content,
            }),
        )
    }

    /// No content (delete, unlike).
    pub fn null(disposition: Disposition) -> Self {
        Self::new(disposition, Part::Null)
    }

    /// An external part, e.g. from
    /// [`EncryptedAttachment::external_part`](crate::EncryptedAttachment::external_part).
    pub fn external(disposition: Disposition, part: ExternalPart) -> Self {
        Self::new(disposition, Part::External(part))
    }

    /// Alternatives, best first (`chooseOne`, ≈ multipart/alternative): the
    /// receiver shows exactly one.
    ///
    /// # Errors
    /// [`Error::Invalid`] with fewer than two parts.
    pub fn alternatives(parts: Vec<NestedPart>) -> Result<Self, Error> {
        Self::multipart(Disposition::RENDER, PartSemantics::ChooseOne, parts)
    }

    /// A MultiPart.
    ///
    /// # Errors
    /// [`Error::Invalid`] with fewer than two parts.
    pub fn multipart(
        disposition: Disposition,
        semantics: PartSemantics,
        parts: Vec<NestedPart>,
    ) -> Result<Self, Error> {
        if parts.len() < 2 {
            return Err(Error::Invalid(Malformed::TooFewParts));
        }
        Ok(Self::new(
            disposition,
            Part::Multi(MultiPart { semantics, parts }),
        ))
    }

    /// Sets the language (`""` or comma-separated RFC 5646 tags).
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_salts_differ_and_ids_follow() {
        let b = || ContentBuilder::new("mimi://a.example/u/a", "mimi://a.example/r/r");
        let one = b().plain("same").expect("valid");
        let two = b().plain("same").expect("valid");
        assert_ne!(one.content.salt, two.content.salt);
        assert_ne!(one.message_id, two.message_id);
    }

    #[test]
    fn builders_reject_invalid_structure() {
        assert_eq!(
            NestedPart::alternatives(vec![NestedPart::plain("only")]),
            Err(Error::Invalid(Malformed::TooFewParts))
        );
        let long_topic = ContentBuilder::new("s", "r")
            .topic(vec![0; 4097])
            .plain("x");
        assert_eq!(long_topic, Err(Error::Invalid(Malformed::TopicTooLong)));
        let bad_ext = ContentBuilder::new("s", "r").extension(MapKey::Unsigned(0), Value::Null);
        assert!(matches!(
            bad_ext,
            Err(Error::Invalid(Malformed::ReservedExtensionKey))
        ));
    }

    #[test]
    fn markdown_applies_no_html() {
        let msg = ContentBuilder::new("s", "r")
            .markdown("<b>hi</b>")
            .expect("valid");
        let Part::Single(single) = &msg.content.body.part else {
            unreachable!("markdown builds a single part")
        };
        assert_eq!(single.content_type, MARKDOWN_MEDIA_TYPE);
        assert_eq!(single.text(), Some("&lt;b>hi&lt;/b>"));
    }
}
