//! Where room policy meets content (policy-content B.11): what the sender's
//! role must hold for what a message does. The hub cannot see content, so
//! receivers check these, and senders check themselves before sending.
//!
//! Rule IDs (`CC-n`) are cited at each check and in `docs/decisions.md`
//! (section "Client library").

use mimi_content::{Disposition, MimiContent, NestedPart, Part};
use mimi_policy::{Denial, Reason};
use mimi_proto::components::{CapabilityType as C, ParticipantId};

use crate::client_room::History;

/// The verdict on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContentVerdict {
    /// Every rule passes.
    Allowed,
    /// The sender's role lacks a capability (or the sender may not send).
    Denied(Denial),
    /// An edit that edits someone else's message, or changes fields an edit
    /// must keep (decision CT-16).
    BadEdit(&'static str),
}

/// Checks `content` from `sender` against the room's roles and history.
pub(crate) fn check_content(
    state: &mimi_policy::RoomState,
    sender: &ParticipantId,
    content: &MimiContent,
    history: &History,
) -> ContentVerdict {
    // CC-1: any message needs an active sender whose role holds canSendMessage.
    if let Err(d) = state.check_sender(sender) {
        return ContentVerdict::Denied(d);
    }
    let Some(role) = state.role_of(sender).and_then(|r| state.roles().role(r)) else {
        return ContentVerdict::Denied(Denial::SendMessage {
            target: sender.clone(),
            reason: Reason::NotListed,
        });
    };
    let need = |cap: C| -> Result<(), ContentVerdict> {
        if role.has(cap) {
            Ok(())
        } else {
            Err(ContentVerdict::Denied(Denial::SendMessage {
                target: sender.clone(),
                reason: Reason::MissingCapability(cap),
            }))
        }
    };
    let run = || -> Result<(), ContentVerdict> {
        let reaction = content.body.disposition == Disposition::REACTION;
        let null_body = content.body.part == Part::Null;
        // CC-2: replies and reactions.
        if content.in_reply_to.is_some() {
            need(if reaction {
                C::CAN_REACT_TO_MESSAGE
            } else {
                C::CAN_REPLY_TO_MESSAGE
            })?;
        }
        // CC-3: edits and deletions, by who sent the replaced message and
        // whether it was a reaction. A target we never saw is judged as
        // someone else's message (the strict reading).
        if let Some(target) = &content.replaces {
            let original = history
                .get(target)
                .and_then(|m| m.decode().ok().map(|c| (m.sender.clone(), c)));
            let own = original
                .as_ref()
                .is_some_and(|(s, _)| &ParticipantId::from(s.clone()) == sender);
            let was_reaction = original
                .as_ref()
                .is_some_and(|(_, c)| c.body.disposition == Disposition::REACTION);
            match (own, was_reaction, null_body) {
                (true, true, true) => need(C::CAN_DELETE_OWN_REACTION)?,
                (true, true, false) => need(C::CAN_EDIT_REACTION)?,
                (true, false, true) => need(C::CAN_DELETE_OWN_MESSAGE)?,
                (true, false, false) => need(C::CAN_EDIT_OWN_MESSAGE)?,
                (false, true, true) => need(C::CAN_DELETE_OTHER_REACTION)?,
                (false, false, true) => need(C::CAN_DELETE_OTHER_MESSAGE)?,
                // CC-4: no capability lets anyone edit another user's message
                // or reaction (decision CT-16).
                (false, _, false) => {
                    return Err(ContentVerdict::BadEdit("edits another user's message"));
                }
            }
            // CC-5: an edit keeps inReplyTo and expiry (CT-16); a topic change
            // needs canEditOwnTopic.
            if let (Some((_, before)), false) = (&original, null_body) {
                if before.in_reply_to != content.in_reply_to {
                    return Err(ContentVerdict::BadEdit("an edit changes inReplyTo"));
                }
                if before.expires != content.expires {
                    return Err(ContentVerdict::BadEdit("an edit changes the expiry"));
                }
                if before.topic_id != content.topic_id {
                    need(C::CAN_EDIT_OWN_TOPIC)?;
                }
            }
        }
        // CC-6: topics: the first message of a topic starts it.
        if !content.topic_id.is_empty() && content.replaces.is_none() {
            let known = history.knows_topic(&content.topic_id);
            need(if known {
                C::CAN_REPLY_IN_TOPIC
            } else {
                C::CAN_START_TOPIC
            })?;
        }
        // CC-7: attachments by media type, links and link previews.
        check_parts(&content.body, &need)
    };
    match run() {
        Ok(()) => ContentVerdict::Allowed,
        Err(v) => v,
    }
}

fn check_parts(
    part: &NestedPart,
    need: &dyn Fn(C) -> Result<(), ContentVerdict>,
) -> Result<(), ContentVerdict> {
    if part.disposition == Disposition::PREVIEW {
        need(C::CAN_SEND_LINK_PREVIEW)?;
    }
    match &part.part {
        Part::Null => Ok(()),
        Part::Single(single) => {
            if single.content_type.starts_with("text/") && has_link(&single.content) {
                need(C::CAN_SEND_LINK)?;
            }
            Ok(())
        }
        Part::External(external) => {
            let media = external.content_type.to_ascii_lowercase();
            need(if media.starts_with("image/") {
                C::CAN_UPLOAD_IMAGE
            } else if media.starts_with("audio/") {
                C::CAN_UPLOAD_AUDIO
            } else if media.starts_with("video/") {
                C::CAN_UPLOAD_VIDEO
            } else {
                C::CAN_UPLOAD_ATTACHMENT
            })
        }
        Part::Multi(multi) => multi.parts.iter().try_for_each(|p| check_parts(p, need)),
    }
}

/// True if text contains a web link (reading: an `http://` or `https://`
/// URL; `mimi://` mentions of participants are not links to follow).
fn has_link(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    [&b"http://"[..], b"https://"]
        .iter()
        .any(|scheme| lower.windows(scheme.len()).any(|w| w == *scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_case_insensitively() {
        assert!(has_link(b"see HTTPS://example.com"));
        assert!(!has_link(b"[@Alice](mimi://a.example/u/alice)"));
        assert!(!has_link(b"no link here: http:/ broken"));
    }
}
