//! The body: NestedPart and its four kinds (draft §"Message Bodies", digest B.3, B.4).
//!
//! ```cddl
//! NestedPart = [ disposition: uint, language: tstr,
//!                ( NullPart // SinglePart // ExternalPart // MultiPart ) ]
//! NullPart     = ( cardinality: 0 )                                   ; 3 items
//! SinglePart   = ( cardinality: 1, contentType: tstr, content: bstr ) ; 5 items
//! ExternalPart = ( cardinality: 2, contentType: tstr, url: tstr, expires: uint .size 4,
//!                  size: uint .size 8, encAlg: uint .size 2, key: bstr, nonce: bstr,
//!                  aad: bstr, hashAlg: uint .size 1, contentHash: bstr,
//!                  description: tstr, filename: tstr )                 ; 15 items
//! MultiPart    = ( cardinality: 3, partSemantics: 0/1/2, parts: [2* NestedPart] ) ; 5 items
//! ```
//! The decoder requires the array length and the cardinality to agree.

use crate::cbor::{Reader, Writer};
use crate::error::{DecodeError, Malformed};

/// Deepest NestedPart nesting; the root is level 1 (draft §"Depth
/// restrictions"). Also bounds the decoder's recursion.
pub const MAX_PART_DEPTH: u8 = 4;

/// Most NestedParts in one body, containers included (draft §"Security
/// Considerations": more is malicious). Bounds the work per message.
pub const MAX_PARTS: usize = 1024;

/// A body part: how to present it, its language, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedPart {
    /// The rendering hint.
    pub disposition: Disposition,
    /// `""` or a comma-separated list of RFC 5646 language tags.
    pub language: String,
    /// The part itself.
    pub part: Part,
}

/// The four kinds of part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// No content: only for deleting or unliking.
    Null,
    /// Inline content.
    Single(SinglePart),
    /// Content stored elsewhere, usually encrypted.
    External(ExternalPart),
    /// Several parts with combined semantics.
    Multi(MultiPart),
}

/// Inline content with its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinglePart {
    /// The full media type with parameters, e.g. `text/plain;charset=utf-8`.
    pub content_type: String,
    /// The content.
    pub content: Vec<u8>,
}

/// A reference to content at a URL, with the key to decrypt it (digest B.4).
#[derive(Clone, PartialEq, Eq)]
pub struct ExternalPart {
    /// Media type of the content (may be empty for a service URL).
    pub content_type: String,
    /// Where to fetch it.
    pub url: String,
    /// Seconds since the epoch after which the content is gone; 0 = never.
    pub expires: u32,
    /// Size in bytes of what is stored at `url`; 0 = not given.
    pub size: u64,
    /// IANA AEAD algorithm; [`EncryptionAlgorithm::NONE`] = not encrypted.
    pub enc_alg: EncryptionAlgorithm,
    /// AEAD key (empty when not encrypted).
    pub key: Vec<u8>,
    /// AEAD nonce (empty when not encrypted).
    pub nonce: Vec<u8>,
    /// AEAD associated data (empty unless an extension says otherwise).
    pub aad: Vec<u8>,
    /// Hash algorithm of `content_hash`; [`HashAlgorithm::NONE`] = no hash.
    pub hash_alg: HashAlgorithm,
    /// Hash of what is stored at `url`.
    pub content_hash: Vec<u8>,
    /// Optional text description (`""` if none).
    pub description: String,
    /// Optional suggested file name (`""` if none).
    pub filename: String,
}

/// Several parts and how they combine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiPart {
    /// How the parts relate.
    pub semantics: PartSemantics,
    /// At least two parts.
    pub parts: Vec<NestedPart>,
}

/// MIMI Content Disposition (IANA registry, 0–255). Unknown values are kept
/// so they round-trip; receivers treat them as [`Disposition::RENDER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Disposition(pub u8);

impl Disposition {
    /// No hint.
    pub const UNSPECIFIED: Self = Self(0);
    /// Render according to local policy.
    pub const RENDER: Self = Self(1);
    /// A single reaction to another message.
    pub const REACTION: Self = Self(2);
    /// A profile of a participant or room.
    pub const PROFILE: Self = Self(3);
    /// Render inline in the chat view.
    pub const INLINE: Self = Self(4);
    /// An icon such as an avatar.
    pub const ICON: Self = Self(5);
    /// To be downloaded rather than rendered at once.
    pub const ATTACHMENT: Self = Self(6);
    /// A multimedia session description or a URI to join one.
    pub const SESSION: Self = Self(7);
    /// A sender-generated preview.
    pub const PREVIEW: Self = Self(8);

    /// The registered name, if any.
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 9] = [
            "unspecified",
            "render",
            "reaction",
            "profile",
            "inline",
            "icon",
            "attachment",
            "session",
            "preview",
        ];
        NAMES.get(usize::from(self.0)).copied()
    }

    /// The disposition to act on: unknown values mean `render` (draft
    /// §"Security Considerations").
    pub fn effective(self) -> Self {
        if self.name().is_some() {
            self
        } else {
            Self::RENDER
        }
    }
}

/// How the parts of a MultiPart combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartSemantics {
    /// Show exactly one part (≈ multipart/alternative); order is a preference.
    ChooseOne,
    /// All parts form one entity; if one is not understood, process none
    /// (≈ multipart/related).
    SingleUnit,
    /// Process as many parts as possible (≈ multipart/mixed).
    ProcessAll,
}

impl PartSemantics {
    /// The wire value.
    pub fn code(self) -> u64 {
        match self {
            Self::ChooseOne => 0,
            Self::SingleUnit => 1,
            Self::ProcessAll => 2,
        }
    }

    /// The draft's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChooseOne => "chooseOne",
            Self::SingleUnit => "singleUnit",
            Self::ProcessAll => "processAll",
        }
    }

    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Self::ChooseOne),
            1 => Some(Self::SingleUnit),
            2 => Some(Self::ProcessAll),
            _ => None,
        }
    }
}

/// IANA AEAD algorithm numbers (RFC 5116 registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptionAlgorithm(pub u16);

impl EncryptionAlgorithm {
    /// Not encrypted.
    pub const NONE: Self = Self(0);
    /// AEAD_AES_128_GCM: every MIMI client must implement it.
    pub const AES_128_GCM: Self = Self(1);
    /// AEAD_AES_256_GCM.
    pub const AES_256_GCM: Self = Self(2);
}

/// IANA Named Information hash algorithm IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashAlgorithm(pub u8);

impl HashAlgorithm {
    /// No hash given.
    pub const NONE: Self = Self(0);
    /// sha-256.
    pub const SHA_256: Self = Self(1);
}

/// A part found by a depth-first walk, with its part index (the number used
/// in `cid:<index>@local.invalid` references) and depth (root = 1).
#[derive(Debug, Clone, Copy)]
pub struct PartRef<'a> {
    /// Zero-based depth-first index, containers included; the root is 0.
    pub index: usize,
    /// Nesting level; the root is 1.
    pub depth: u8,
    /// The part.
    pub part: &'a NestedPart,
}

impl NestedPart {
    /// A part with no language.
    pub fn new(disposition: Disposition, part: Part) -> Self {
        Self {
            disposition,
            language: String::new(),
            part,
        }
    }

    /// Every part depth-first, the root first: the draft's part-index order.
    pub fn walk(&self) -> Vec<PartRef<'_>> {
        let mut out = Vec::new();
        self.walk_into(1, &mut out);
        out
    }

    /// The part with a given part index (for `cid:` URIs).
    pub fn by_index(&self, index: usize) -> Option<&NestedPart> {
        self.walk().get(index).map(|r| r.part)
    }

    fn walk_into<'a>(&'a self, depth: u8, out: &mut Vec<PartRef<'a>>) {
        out.push(PartRef {
            index: out.len(),
            depth,
            part: self,
        });
        if let Part::Multi(multi) = &self.part {
            for child in &multi.parts {
                child.walk_into(depth.saturating_add(1), out);
            }
        }
    }

    /// Checks depth, part count and MultiPart size for a part at `level`.
    pub(crate) fn validate(&self, level: u8, count: &mut usize) -> Result<(), Malformed> {
        enter(level, count)?;
        if let Part::Multi(multi) = &self.part {
            if multi.parts.len() < 2 {
                return Err(Malformed::TooFewParts);
            }
            for child in &multi.parts {
                child.validate(level + 1, count)?;
            }
        }
        Ok(())
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        let len = match &self.part {
            Part::Null => 3,
            Part::Single(_) | Part::Multi(_) => 5,
            Part::External(_) => 15,
        };
        w.array(len);
        w.uint(u64::from(self.disposition.0));
        w.text(&self.language);
        match &self.part {
            Part::Null => w.uint(0),
            Part::Single(single) => {
                w.uint(1);
                w.text(&single.content_type);
                w.bytes(&single.content);
            }
            Part::External(ext) => {
                w.uint(2);
                ext.encode_fields(w);
            }
            Part::Multi(multi) => {
                w.uint(3);
                w.uint(multi.semantics.code());
                w.array(multi.parts.len());
                multi.parts.iter().for_each(|p| p.encode(w));
            }
        }
    }

    /// Decodes a part at `level` (root = 1), counting parts in `count`.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        level: u8,
        count: &mut usize,
    ) -> Result<Self, DecodeError> {
        let start = r.offset();
        enter(level, count).map_err(|k| k.at(start))?;
        let array_len = r.array("NestedPart")?;
        if !matches!(array_len, 3 | 5 | 15) {
            return Err(Malformed::WrongLength {
                field: "NestedPart",
                expected: 5,
                found: array_len,
            }
            .at(start));
        }
        let disposition = Disposition(r.uint_max("disposition", 255)? as u8);
        let language = r.text("language")?.to_owned();
        let card_start = r.offset();
        let cardinality = r.uint("cardinality")?;
        let expected_len = match cardinality {
            0 => 3,
            1 | 3 => 5,
            2 => 15,
            other => return Err(Malformed::UnknownCardinality(other).at(card_start)),
        };
        if expected_len != array_len {
            return Err(Malformed::CardinalityMismatch {
                cardinality,
                array_len,
            }
            .at(start));
        }
        let part = match cardinality {
            0 => Part::Null,
            1 => Part::Single(SinglePart {
                content_type: r.text("contentType")?.to_owned(),
                content: r.bytes("content")?.to_vec(),
            }),
            2 => Part::External(ExternalPart::decode_fields(r)?),
            _ => Part::Multi(MultiPart::decode_fields(r, level, count)?),
        };
        Ok(Self {
            disposition,
            language,
            part,
        })
    }
}

impl MultiPart {
    fn decode_fields(
        r: &mut Reader<'_>,
        level: u8,
        count: &mut usize,
    ) -> Result<Self, DecodeError> {
        let sem_start = r.offset();
        let code = r.uint("partSemantics")?;
        let semantics = PartSemantics::from_code(code)
            .ok_or(Malformed::UnknownPartSemantics(code).at(sem_start))?;
        let parts_start = r.offset();
        let n = r.array("parts")?;
        if n < 2 {
            return Err(Malformed::TooFewParts.at(parts_start));
        }
        let mut parts = Vec::new();
        for _ in 0..n {
            parts.push(NestedPart::decode(r, level + 1, count)?);
        }
        Ok(Self { semantics, parts })
    }
}

impl SinglePart {
    /// The content as text, when the media type is `text/*` and the bytes are
    /// UTF-8 (the draft's text types are all UTF-8).
    pub fn text(&self) -> Option<&str> {
        self.content_type
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("text/"))
            .and_then(|_| std::str::from_utf8(&self.content).ok())
    }
}

impl ExternalPart {
    fn encode_fields(&self, w: &mut Writer) {
        w.text(&self.content_type);
        w.text(&self.url);
        w.uint(u64::from(self.expires));
        w.uint(self.size);
        w.uint(u64::from(self.enc_alg.0));
        w.bytes(&self.key);
        w.bytes(&self.nonce);
        w.bytes(&self.aad);
        w.uint(u64::from(self.hash_alg.0));
        w.bytes(&self.content_hash);
        w.text(&self.description);
        w.text(&self.filename);
    }

    fn decode_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            content_type: r.text("contentType")?.to_owned(),
            url: r.text("url")?.to_owned(),
            expires: r.uint_max("expires", u64::from(u32::MAX))? as u32,
            size: r.uint("size")?,
            enc_alg: EncryptionAlgorithm(r.uint_max("encAlg", u64::from(u16::MAX))? as u16),
            key: r.bytes("key")?.to_vec(),
            nonce: r.bytes("nonce")?.to_vec(),
            aad: r.bytes("aad")?.to_vec(),
            hash_alg: HashAlgorithm(r.uint_max("hashAlg", u64::from(u8::MAX))? as u8),
            content_hash: r.bytes("contentHash")?.to_vec(),
            description: r.text("description")?.to_owned(),
            filename: r.text("filename")?.to_owned(),
        })
    }
}

/// Keys never reach logs through `Debug`.
impl std::fmt::Debug for ExternalPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalPart")
            .field("content_type", &self.content_type)
            .field("url", &self.url)
            .field("expires", &self.expires)
            .field("size", &self.size)
            .field("enc_alg", &self.enc_alg)
            .field("key", &format_args!("<{} bytes>", self.key.len()))
            .field("nonce", &hex::encode(&self.nonce))
            .field("aad", &hex::encode(&self.aad))
            .field("hash_alg", &self.hash_alg)
            .field("content_hash", &hex::encode(&self.content_hash))
            .field("description", &self.description)
            .field("filename", &self.filename)
            .finish()
    }
}

/// Accounts for one more part at `level`.
fn enter(level: u8, count: &mut usize) -> Result<(), Malformed> {
    if level > MAX_PART_DEPTH {
        return Err(Malformed::TooDeep);
    }
    *count += 1;
    if *count > MAX_PARTS {
        return Err(Malformed::TooManyParts);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(text: &str) -> NestedPart {
        NestedPart::new(
            Disposition::RENDER,
            Part::Single(SinglePart {
                content_type: "text/plain;charset=utf-8".into(),
                content: text.as_bytes().to_vec(),
            }),
        )
    }

    fn multi(parts: Vec<NestedPart>) -> NestedPart {
        NestedPart::new(
            Disposition::RENDER,
            Part::Multi(MultiPart {
                semantics: PartSemantics::ProcessAll,
                parts,
            }),
        )
    }

    /// A chain of MultiParts `depth` levels deep (leaves at the bottom).
    fn nested(depth: u8) -> NestedPart {
        if depth == 1 {
            single("leaf")
        } else {
            multi(vec![nested(depth - 1), single("x")])
        }
    }

    fn decode(bytes: &[u8]) -> Result<NestedPart, Malformed> {
        let mut r = Reader::new(bytes);
        let mut count = 0;
        let p = NestedPart::decode(&mut r, 1, &mut count).map_err(|e| e.kind)?;
        r.finish().map_err(|e| e.kind)?;
        Ok(p)
    }

    fn encode(p: &NestedPart) -> Vec<u8> {
        let mut w = Writer::default();
        p.encode(&mut w);
        w.into_bytes()
    }

    #[test]
    fn four_levels_pass_five_fail() {
        let ok = nested(4);
        assert_eq!(ok.validate(1, &mut 0), Ok(()));
        assert_eq!(decode(&encode(&ok)), Ok(ok));
        let deep = nested(5);
        assert_eq!(deep.validate(1, &mut 0), Err(Malformed::TooDeep));
        assert_eq!(decode(&encode(&deep)), Err(Malformed::TooDeep));
    }

    #[test]
    fn more_than_1024_parts_fail() {
        // Root + 1023 leaves = 1024 parts: allowed. One more leaf is not.
        let ok = multi((0..1023).map(|_| single("")).collect());
        assert_eq!(decode(&encode(&ok)).map(|p| p.walk().len()), Ok(1024));
        let bad = multi((0..1024).map(|_| single("")).collect());
        assert_eq!(decode(&encode(&bad)), Err(Malformed::TooManyParts));
        assert_eq!(bad.validate(1, &mut 0), Err(Malformed::TooManyParts));
    }

    #[test]
    fn length_and_cardinality_must_agree() {
        // [1, "", 0, "x", h''] : a 5-item array claiming NullPart.
        assert_eq!(
            decode(&[0x85, 0x01, 0x60, 0x00, 0x61, b'x', 0x40]),
            Err(Malformed::CardinalityMismatch {
                cardinality: 0,
                array_len: 5
            })
        );
        assert_eq!(
            decode(&[0x83, 0x01, 0x60, 0x04]),
            Err(Malformed::UnknownCardinality(4))
        );
        assert!(matches!(
            decode(&[0x84, 0x01, 0x60, 0x00, 0x00]),
            Err(Malformed::WrongLength { found: 4, .. })
        ));
    }

    #[test]
    fn multipart_rules() {
        // [1, "", 3, 3, [...]] unknown semantics
        assert_eq!(
            decode(&[0x85, 0x01, 0x60, 0x03, 0x03, 0x80]),
            Err(Malformed::UnknownPartSemantics(3))
        );
        // one part only
        assert_eq!(
            decode(&[0x85, 0x01, 0x60, 0x03, 0x00, 0x81, 0x83, 0x01, 0x60, 0x00]),
            Err(Malformed::TooFewParts)
        );
        assert_eq!(
            multi(vec![single("a")]).validate(1, &mut 0),
            Err(Malformed::TooFewParts)
        );
    }

    #[test]
    fn walk_gives_the_drafts_part_indexes() {
        // Root multi (0) -> [multi (1) -> [a (2), b (3)], c (4)]
        let tree = multi(vec![multi(vec![single("a"), single("b")]), single("c")]);
        let walk = tree.walk();
        let depths: Vec<u8> = walk.iter().map(|r| r.depth).collect();
        assert_eq!(depths, [1, 2, 3, 3, 2]);
        assert_eq!(tree.by_index(3), Some(&single("b")));
        assert_eq!(tree.by_index(5), None);
    }

    #[test]
    fn dispositions_and_text() {
        assert_eq!(Disposition(9).effective(), Disposition::RENDER);
        assert_eq!(Disposition::SESSION.effective(), Disposition::SESSION);
        assert_eq!(Disposition(8).name(), Some("preview"));
        let Part::Single(s) = single("hé").part else {
            unreachable!("built as single")
        };
        assert_eq!(s.text(), Some("hé"));
        let bin = SinglePart {
            content_type: "image/png".into(),
            content: vec![0xff],
        };
        assert_eq!(bin.text(), None);
    }

    #[test]
    fn debug_hides_the_key() {
        let ext = ExternalPart {
            content_type: String::new(),
            url: "https://x".into(),
            expires: 0,
            size: 0,
            enc_alg: EncryptionAlgorithm::AES_128_GCM,
            key: vec![0xaa; 16],
            nonce: vec![],
            aad: vec![],
            hash_alg: HashAlgorithm::NONE,
            content_hash: vec![],
            description: String::new(),
            filename: String::new(),
        };
        let dbg = format!("{ext:?}");
        assert!(dbg.contains("<16 bytes>"));
        assert!(!dbg.contains("aaaa"));
    }
}
