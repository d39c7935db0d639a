//! A JSON-friendly summary of a received message, for operators (the
//! `mimi content inspect` command) and debugging.
//!
//! It shows what an abuse-report reviewer needs: the message ID, who sent it
//! where, what it replies to or replaces, the franking tag it should carry,
//! and each body part in part-index order. It never shows attachment keys.

use serde::Serialize;

use crate::franking::FrankingTag;
use crate::id::MessageId;
use crate::markdown::mentioned_uris;
use crate::part::{NestedPart, Part};
use crate::received::ReceivedContent;
use crate::status::MessageStatusReport;

/// The summary of one message.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The message ID, when the sender and room URIs are known.
    pub message_id: Option<MessageId>,
    /// Sender URI used for the ID (extension 1, else the one supplied).
    pub sender: Option<String>,
    /// Room URI used for the ID (extension 2, else the one supplied).
    pub room: Option<String>,
    /// Size of the encoded message in bytes.
    pub length: usize,
    /// The salt, hex.
    pub salt: String,
    /// HMAC-SHA256(salt, message), hex: the franking tag the sender should
    /// have put in `frank_aad` (if the group does not use ApplicationFraming).
    pub franking_tag: String,
    /// What the message edits, deletes or changes.
    pub replaces: Option<MessageId>,
    /// What the message replies or reacts to.
    pub in_reply_to: Option<MessageId>,
    /// The topic, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_id: Option<Bytes>,
    /// The expiry hint, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Expires>,
    /// Extensions other than the sender and room URIs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// Every body part, depth-first (the draft's part-index order).
    pub parts: Vec<PartSummary>,
    /// Things a reviewer should notice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Bytes shown as hex, and as text when they are UTF-8.
#[derive(Debug, Clone, Serialize)]
pub struct Bytes {
    /// Lower-case hex.
    pub hex: String,
    /// The bytes as text, if valid UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The expiry hint.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Expires {
    /// True: seconds after reading; false: seconds since the epoch.
    pub relative: bool,
    /// Seconds.
    pub seconds: u32,
}

/// One extension in diagnostic notation.
#[derive(Debug, Clone, Serialize)]
pub struct Extension {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// One body part.
#[derive(Debug, Clone, Serialize)]
pub struct PartSummary {
    /// Part index (as in `cid:<index>@local.invalid`).
    pub index: usize,
    /// Nesting level; the root is 1.
    pub depth: u8,
    /// `null`, `single`, `external` or `multi`.
    pub kind: &'static str,
    /// The disposition's name, or `unknown(n)` (treated as render).
    pub disposition: String,
    /// Language tags, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Media type (single and external parts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Inline content length, or the declared size of external content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Inline text content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `mimi:` URIs linked from the text (mentions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// A decoded message-status report carried by this part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<Status>>,
    /// External content location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// External content: AEAD algorithm number (0 = not encrypted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_alg: Option<u16>,
    /// External content: hash algorithm and hash, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// External content: description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// External content: suggested file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// MultiPart semantics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantics: Option<&'static str>,
    /// MultiPart: number of direct children.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<usize>,
}

/// One entry of a status report.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The message reported on.
    pub message_id: MessageId,
    /// Its status name, or `unknown(n)`.
    pub status: String,
}

impl Summary {
    /// Summarizes `received`. `sender_uri` and `room_uri` are the implied
    /// values, used for the message ID only when the extensions lack them.
    pub fn new(
        received: &ReceivedContent,
        sender_uri: Option<&str>,
        room_uri: Option<&str>,
    ) -> Self {
        let c = received.content();
        let mut warnings = Vec::new();
        let sender = pick(
            "sender",
            c.extensions.sender_uri(),
            sender_uri,
            &mut warnings,
        );
        let room = pick("room", c.extensions.room_uri(), room_uri, &mut warnings);
        let message_id = match (&sender, &room) {
            (Some(s), Some(r)) => match received.message_id_with(s, r) {
                Ok(id) => Some(id),
                Err(e) => {
                    warnings.push(format!("no message ID: {e}"));
                    None
                }
            },
            _ => {
                warnings.push(
                    "no message ID: the content lacks the sender or room URI; supply them".into(),
                );
                None
            }
        };
        if c.body.part == Part::Null && c.replaces.is_none() {
            warnings.push("empty body without replaces: receivers discard this".into());
        }
        let parts = c
            .body
            .walk()
            .into_iter()
            .map(|r| summarize_part(r.index, r.depth, r.part, &mut warnings))
            .collect();
        Self {
            message_id,
            sender,
            room,
            length: received.bytes().len(),
            salt: hex::encode(c.salt.as_bytes()),
            franking_tag: hex::encode(FrankingTag::compute(&c.salt, received.bytes()).as_bytes()),
            replaces: c.replaces,
            in_reply_to: c.in_reply_to,
            topic_id: (!c.topic_id.is_empty()).then(|| Bytes {
                hex: hex::encode(&c.topic_id),
                text: std::str::from_utf8(&c.topic_id).ok().map(str::to_owned),
            }),
            expires: c.expires.map(|e| Expires {
                relative: e.relative,
                seconds: e.time,
            }),
            extensions: c
                .extensions
                .iter()
                .filter(|(k, _)| !matches!(k, crate::MapKey::Unsigned(1 | 2)))
                .map(|(k, v)| Extension {
                    key: k.diagnostic(),
                    value: v.diagnostic(),
                })
                .collect(),
            parts,
            warnings,
        }
    }
}

/// The URI for the message ID: the content's, else the supplied one.
fn pick(
    what: &str,
    in_content: Option<&str>,
    supplied: Option<&str>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    match (in_content, supplied) {
        (Some(c), Some(s)) if c != s => {
            warnings.push(format!(
                "{what} URI in the content ({c}) differs from the one supplied ({s}); \
                 receivers discard this message; the ID uses the content's"
            ));
            Some(c.to_owned())
        }
        (Some(c), _) => Some(c.to_owned()),
        (None, s) => s.map(str::to_owned),
    }
}

fn summarize_part(
    index: usize,
    depth: u8,
    p: &NestedPart,
    warnings: &mut Vec<String>,
) -> PartSummary {
    let disposition = match p.disposition.name() {
        Some(name) => name.to_owned(),
        None => format!("unknown({})", p.disposition.0),
    };
    let mut s = PartSummary {
        index,
        depth,
        kind: "null",
        disposition,
        language: (!p.language.is_empty()).then(|| p.language.clone()),
        content_type: None,
        size: None,
        text: None,
        mentions: Vec::new(),
        statuses: None,
        url: None,
        enc_alg: None,
        content_hash: None,
        description: None,
        filename: None,
        semantics: None,
        children: None,
    };
    match &p.part {
        Part::Null => {
            if depth > 1 {
                warnings.push(format!("part {index}: empty part inside a MultiPart"));
            }
        }
        Part::Single(single) => {
            s.kind = "single";
            s.content_type = Some(single.content_type.clone());
            s.size = Some(single.content.len() as u64);
            if let Some(text) = single.text() {
                s.mentions = mentioned_uris(text)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                s.text = Some(text.to_owned());
            }
            match MessageStatusReport::from_part(p) {
                Ok(Some(report)) => {
                    s.statuses = Some(
                        report
                            .statuses
                            .iter()
                            .map(|st| Status {
                                message_id: st.message_id,
                                status: st.status.name().map_or_else(
                                    || format!("unknown({})", st.status.0),
                                    str::to_owned,
                                ),
                            })
                            .collect(),
                    );
                }
                Ok(None) => {}
                Err(e) => warnings.push(format!("part {index}: malformed status report: {e}")),
            }
        }
        Part::External(ext) => {
            s.kind = "external";
            s.content_type = Some(ext.content_type.clone());
            s.size = Some(ext.size);
            s.url = Some(ext.url.clone());
            s.enc_alg = Some(ext.enc_alg.0);
            s.content_hash = (!ext.content_hash.is_empty())
                .then(|| format!("{}:{}", ext.hash_alg.0, hex::encode(&ext.content_hash)));
            s.description = (!ext.description.is_empty()).then(|| ext.description.clone());
            s.filename = (!ext.filename.is_empty()).then(|| ext.filename.clone());
        }
        Part::Multi(multi) => {
            s.kind = "multi";
            s.semantics = Some(multi.semantics.name());
            s.children = Some(multi.parts.len());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_the_attachment_example() {
        let received =
            ReceivedContent::decode(include_bytes!("../test_vectors/attachment.cbor").as_slice())
                .expect("vector");
        let json = serde_json::to_value(Summary::new(&received, None, None)).expect("serializable");
        assert_eq!(
            json["message_id"],
            "0176180c7d19a925021fe446d241134d05c38e0d999cdc0f39c391d2377ed9d1"
        );
        let part = &json["parts"][0];
        assert_eq!(part["kind"], "external");
        assert_eq!(part["disposition"], "attachment");
        assert_eq!(part["language"], "en");
        assert_eq!(part["filename"], "bigfile.mp4");
        assert_eq!(part["size"], 708_234_961);
        // The key is never shown.
        assert!(
            !json
                .to_string()
                .contains("21399320958a6f4c745dde670d95e0d8")
        );
    }

    #[test]
    fn supplied_uris_fill_gaps_and_mismatches_warn() {
        let mut c = crate::MimiContent::decode(include_bytes!("../test_vectors/original.cbor"))
            .expect("vector");
        c.extensions = crate::Extensions::new();
        c.extensions
            .set_room_uri("mimi://example.com/r/engineering_team");
        let received = ReceivedContent::decode(c.encode().expect("valid")).expect("decodes");

        let missing = Summary::new(&received, None, None);
        assert!(missing.message_id.is_none());
        assert_eq!(missing.warnings.len(), 1);

        let filled = Summary::new(&received, Some("mimi://example.com/u/alice-smith"), None);
        assert!(filled.message_id.is_some());
        assert!(filled.warnings.is_empty());

        let clash = Summary::new(
            &received,
            Some("mimi://example.com/u/alice-smith"),
            Some("mimi://example.com/r/elsewhere"),
        );
        assert_eq!(clash.message_id, filled.message_id);
        assert!(clash.warnings[0].contains("differs"));
    }
}
