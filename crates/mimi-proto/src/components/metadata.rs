//! Room metadata (protocol-06 §7.6; component `room_metadata`, 0x0023) and the
//! `Uri` building block shared by the policy components.
//!
//! ```text
//! struct { opaque uri<V>; } Uri;
//! struct { opaque string<V>; } UTF8String;
//! struct {
//!   opaque media_type<V>;      // empty == text/plain;charset=utf-8
//!   opaque language_tag<V>;
//!   opaque description_content<V>;
//! } RichDescription;
//! struct {
//!   Uri room_uri;
//!   UTF8String room_name;
//!   RichDescription room_descriptions<V>;
//!   Uri room_avatar;
//!   UTF8String room_subject;
//!   UTF8String room_mood;
//! } RoomMetaData;
//! RoomMetaData RoomMetaUpdate;   // replaces the whole value
//! ```

use std::fmt;

use crate::codec::{Codec, Reader, Utf8String, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};
use crate::id::RoomId;

/// Longest URI we accept in a component. Generous for https avatar and policy
/// URLs; bounds what one field can make us hold.
pub const MAX_URI_TEXT: usize = 8 * 1024;

/// Longest short text (names, subjects, moods, media types, language tags).
pub const MAX_SHORT_TEXT: usize = 4 * 1024;

/// Longest long text (descriptions, role descriptions).
pub const MAX_LONG_TEXT: usize = 64 * 1024;

/// Most rich descriptions (e.g. one per language and media type).
pub const MAX_DESCRIPTIONS: usize = 64;

/// `struct { opaque uri<V>; } Uri;`: any URI as UTF-8 text, possibly empty
/// ("no avatar", "no parent room"). Control characters are rejected: no URI or
/// IRI contains them, and they would only serve to confuse logs and UIs.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uri(String);

impl Uri {
    /// Wraps URI text.
    ///
    /// # Errors
    /// [`DecodeError::Invalid`] if it holds a control character,
    /// [`DecodeError::TooLarge`] past [`MAX_URI_TEXT`].
    pub fn new(s: impl Into<String>) -> Result<Self, DecodeError> {
        let s = s.into();
        if s.len() > MAX_URI_TEXT {
            return Err(DecodeError::TooLarge("Uri"));
        }
        if s.chars().any(char::is_control) {
            return Err(DecodeError::Invalid {
                what: "Uri",
                reason: "contains a control character",
            });
        }
        Ok(Self(s))
    }

    /// The empty URI.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uri({:?})", self.0)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Codec for Uri {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::new(r.text("Uri", MAX_URI_TEXT)?)
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.0.as_bytes())
    }
}

/// Reads a `UTF8String` (no NULs) of at most `cap` bytes.
pub(crate) fn read_utf8(
    r: &mut Reader<'_>,
    field: &'static str,
    cap: usize,
) -> Result<Utf8String, DecodeError> {
    Utf8String::new(r.text(field, cap)?).map_err(|_| DecodeError::Invalid {
        what: field,
        reason: "contains NUL",
    })
}

pub(crate) fn write_utf8(w: &mut Writer, s: &Utf8String) -> Result<(), EncodeError> {
    w.opaque(s.as_str().as_bytes())
}

/// A description in one media type and language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RichDescription {
    /// Media type with parameters; empty means `text/plain;charset=utf-8`.
    pub media_type: Utf8String,
    /// RFC 5646 language tag, or empty.
    pub language_tag: Utf8String,
    /// The description in that media type: bytes, since the type need not be text.
    pub description_content: Vec<u8>,
}

impl Codec for RichDescription {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            media_type: read_utf8(r, "RichDescription.media_type", MAX_SHORT_TEXT)?,
            language_tag: read_utf8(r, "RichDescription.language_tag", MAX_SHORT_TEXT)?,
            description_content: r
                .opaque("RichDescription.description_content", MAX_LONG_TEXT)?
                .to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        write_utf8(w, &self.media_type)?;
        write_utf8(w, &self.language_tag)?;
        w.opaque(&self.description_content)
    }
}

/// The room's metadata. An update carries the same type and replaces the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMetaData {
    /// The room. Typed as a `mimi://…/r/…` room id (RSC-4): the hub compares it
    /// with the room it hosts, and no capability covers changing it.
    pub room_uri: RoomId,
    /// Display name.
    pub room_name: Utf8String,
    /// Zero or more descriptions.
    pub room_descriptions: Vec<RichDescription>,
    /// https URI of an avatar image, or empty.
    pub room_avatar: Uri,
    /// Subject line.
    pub room_subject: Utf8String,
    /// Mood.
    pub room_mood: Utf8String,
}

/// A room-metadata update replaces the whole value (protocol-06 §7.6).
pub type RoomMetaUpdate = RoomMetaData;

impl RoomMetaData {
    /// Metadata with only the room set.
    pub fn new(room_uri: RoomId) -> Self {
        Self {
            room_uri,
            room_name: Utf8String::default(),
            room_descriptions: Vec::new(),
            room_avatar: Uri::empty(),
            room_subject: Utf8String::default(),
            room_mood: Utf8String::default(),
        }
    }
}

impl Codec for RoomMetaData {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let raw = r.opaque("RoomMetaData.room_uri", crate::id::MAX_URI_LEN)?;
        Ok(Self {
            room_uri: RoomId::parse_canonical(raw)?,
            room_name: read_utf8(r, "RoomMetaData.room_name", MAX_SHORT_TEXT)?,
            room_descriptions: r.vector(
                "RoomMetaData.room_descriptions",
                MAX_DESCRIPTIONS,
                RichDescription::read,
            )?,
            room_avatar: Uri::read(r)?,
            room_subject: read_utf8(r, "RoomMetaData.room_subject", MAX_SHORT_TEXT)?,
            room_mood: read_utf8(r, "RoomMetaData.room_mood", MAX_SHORT_TEXT)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(self.room_uri.as_bytes())?;
        write_utf8(w, &self.room_name)?;
        w.vector(&self.room_descriptions, |w, d| d.write(w))?;
        self.room_avatar.write(w)?;
        write_utf8(w, &self.room_subject)?;
        write_utf8(w, &self.room_mood)
    }
}

wire_value!(
    Uri => "Uri",
    RichDescription => "RichDescription",
    RoomMetaData => "RoomMetaData",
);
super::component!(RoomMetaData => ROOM_METADATA);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uri_rejects_control_characters() {
        assert!(Uri::new("https://a.example/x.png").is_ok());
        assert!(Uri::new("").is_ok());
        assert!(matches!(Uri::new("a\nb"), Err(DecodeError::Invalid { .. })));
        let bytes = [0x03, b'a', 0x00, b'b'];
        assert!(matches!(
            Uri::decode(&bytes),
            Err(DecodeError::Invalid { what: "Uri", .. })
        ));
    }

    #[test]
    fn utf8_string_rejects_bad_text() {
        let mut meta = RoomMetaData::new(RoomId::parse("mimi://a.example/r/r1").unwrap());
        meta.room_name = Utf8String::new("name").unwrap();
        let bytes = meta.encode().unwrap();
        assert_eq!(RoomMetaData::decode(&bytes).unwrap(), meta);
        let pos = bytes.windows(4).position(|w| w == b"name").unwrap();
        let mut bad = bytes.clone();
        bad[pos] = 0xff;
        assert_eq!(
            RoomMetaData::decode(&bad),
            Err(DecodeError::NotUtf8("RoomMetaData.room_name"))
        );
        bad[pos] = 0;
        assert!(matches!(
            RoomMetaData::decode(&bad),
            Err(DecodeError::Invalid { .. })
        ));
    }
}
