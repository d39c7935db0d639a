//! The hub's side of message franking (protocol-06 §5.4.1) and of abuse
//! reports (§5.9): issuing a frank for an accepted message, and checking a
//! reported message against the frank the hub issued for it.
//!
//! A report is genuine only if everything the frank binds is unchanged: the
//! content (through the franking tag, keyed by the content's salt), the sender
//! and room named in the content, and the acceptance timestamp. The HMAC under
//! the room's franking key proves the hub issued it; the integrity signature
//! is checked too, so a frank that verifies here also verifies for receivers.

use hmac::{Hmac, Mac as _};
use openmls::prelude::SignaturePublicKey;
use sha2::Sha256;

use mimi_content::franking::FrankingInputs;
use mimi_proto::components::ParticipantId;
use mimi_proto::franking::{FRANKING_INTEGRITY_LABEL, ServerFrankingContext};
use mimi_proto::messages::crypto::{sign_with_label, verify_with_label};
use mimi_proto::messages::{AbusiveMessage, Frank};
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{MimiUri, RoomId};

use crate::error::HubError;
use crate::hub::Hub;

/// Why a reported message is not what the hub franked. Each is a forgery or a
/// corruption; the reasons are for the operator's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportRejection {
    /// The content does not decode as MIMI content, or lacks the sender or
    /// room URI franking needs.
    #[error("reported content does not decode or lacks its franking URIs")]
    Content,
    /// The content names another room than the one reported.
    #[error("reported content names another room")]
    Room,
    /// The content's sender is not the alleged abuser.
    #[error("reported content was not sent by the alleged abuser")]
    Sender,
    /// The frank is for another suite than ours.
    #[error("frank has another ciphersuite")]
    Ciphersuite,
    /// The server frank does not match: content, sender, room or timestamp
    /// changed, or the hub never franked it.
    #[error("server frank does not match")]
    Frank,
    /// The integrity signature does not verify.
    #[error("frank integrity signature does not verify")]
    Signature,
}

impl Hub {
    /// Franks a message with `franking_tag` that `sender` sent to `room`,
    /// accepted at `now` (§5.4.1).
    ///
    /// # Errors
    /// [`HubError::Internal`] if encoding or signing fails.
    pub fn issue_frank(
        &self,
        room: &RoomId,
        franking_tag: &[u8; 32],
        sender: &ParticipantId,
        now: u64,
    ) -> Result<Frank, HubError> {
        let context = ServerFrankingContext {
            sender_uri: sender.as_uri().clone(),
            room_uri: room.clone(),
            accepted_timestamp: now,
        };
        let mac_input = context
            .mac_input(franking_tag)
            .map_err(|_| HubError::Internal("franking context does not encode"))?;
        let server_frank = self
            .server_frank(room, &mac_input)
            .finalize()
            .into_bytes()
            .into();
        let tbs = context
            .integrity_tbs(&server_frank, CIPHERSUITE)
            .map_err(|_| HubError::Internal("franking TBS does not encode"))?;
        let franking_integrity_signature =
            sign_with_label(self.keys().signer(), FRANKING_INTEGRITY_LABEL, &tbs)
                .map_err(|_| HubError::Internal("signing the frank failed"))?;
        Ok(Frank {
            server_frank,
            franking_signature_ciphersuite: CIPHERSUITE,
            franking_integrity_signature,
        })
    }

    /// Checks one message of an abuse report against `room` and the
    /// `alleged_abuser` (§5.9): recomputes the franking tag from the content,
    /// the context from the content's URIs and the reported timestamp, and the
    /// server frank with the room's franking key.
    ///
    /// # Errors
    /// The [`ReportRejection`] naming the first check that fails.
    pub fn verify_reported(
        &self,
        room: &RoomId,
        alleged_abuser: &ParticipantId,
        message: &AbusiveMessage,
    ) -> Result<(), ReportRejection> {
        let inputs = FrankingInputs::from_content(&message.message_content)
            .map_err(|_| ReportRejection::Content)?;
        if inputs.room_uri != room.as_str() {
            return Err(ReportRejection::Room);
        }
        let sender = MimiUri::parse(&inputs.sender_uri).map_err(|_| ReportRejection::Content)?;
        if sender != *alleged_abuser.as_uri() {
            return Err(ReportRejection::Sender);
        }
        let frank = &message.frank;
        if frank.franking_signature_ciphersuite != CIPHERSUITE {
            return Err(ReportRejection::Ciphersuite);
        }
        let context = ServerFrankingContext {
            sender_uri: sender,
            room_uri: room.clone(),
            accepted_timestamp: message.accepted_timestamp,
        };
        let mac_input = context
            .mac_input(inputs.franking_tag.as_bytes())
            .map_err(|_| ReportRejection::Content)?;
        // Constant time: the comparison must not leak how much of a guessed
        // frank is right.
        self.server_frank(room, &mac_input)
            .verify_slice(&frank.server_frank)
            .map_err(|_| ReportRejection::Frank)?;
        let tbs = context
            .integrity_tbs(&frank.server_frank, CIPHERSUITE)
            .map_err(|_| ReportRejection::Content)?;
        verify_with_label(
            self.crypto(),
            CIPHERSUITE.signature_algorithm(),
            &SignaturePublicKey::from(self.keys().public_key().to_vec()),
            FRANKING_INTEGRITY_LABEL,
            &tbs,
            &frank.franking_integrity_signature,
        )
        .map_err(|_| ReportRejection::Signature)
    }

    /// The HMAC over `mac_input` under `room`'s franking key, not finalized.
    fn server_frank(&self, room: &RoomId, mac_input: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.keys().franking_key(room))
            .expect("HMAC-SHA256 accepts keys of any length");
        mac.update(mac_input);
        mac
    }
}

#[cfg(test)]
mod tests {
    use mimi_content::ContentBuilder;
    use mimi_policy::PolicyEnvelope;
    use mimi_proto::ProviderId;

    use super::*;
    use crate::keys::HubKeys;

    fn new_hub() -> Hub {
        let keys = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
        Hub::new(keys, PolicyEnvelope::permissive())
    }

    fn content(sender: &str, room: &RoomId, text: &str) -> Vec<u8> {
        ContentBuilder::new(sender, room.as_str())
            .plain(text)
            .unwrap()
            .bytes
    }

    /// What the hub issues when `sender` sends `bytes` to `room` at `ts`.
    fn franked(hub: &Hub, room: &RoomId, bytes: Vec<u8>, ts: u64) -> AbusiveMessage {
        let inputs = FrankingInputs::from_content(&bytes).unwrap();
        let sender = ParticipantId::parse(&inputs.sender_uri).unwrap();
        let frank = hub
            .issue_frank(room, inputs.franking_tag.as_bytes(), &sender, ts)
            .unwrap();
        AbusiveMessage {
            message_content: bytes,
            frank,
            accepted_timestamp: ts,
        }
    }

    #[test]
    fn a_genuine_report_verifies_and_every_forgery_is_named() {
        let hub = new_hub();
        let room = RoomId::parse("mimi://a.example/r/club").unwrap();
        let mallory = ParticipantId::parse("mimi://c.example/u/mallory").unwrap();
        let bob = ParticipantId::parse("mimi://b.example/u/bob").unwrap();
        let genuine = franked(&hub, &room, content(mallory.as_str(), &room, "abuse"), 1000);
        assert_eq!(hub.verify_reported(&room, &mallory, &genuine), Ok(()));

        // Changed message bytes: the tag, hence the frank, differs.
        let mut edited = genuine.clone();
        edited.message_content = content(mallory.as_str(), &room, "nice");
        assert_eq!(
            hub.verify_reported(&room, &mallory, &edited),
            Err(ReportRejection::Frank)
        );
        // Moved timestamp.
        let mut moved = genuine.clone();
        moved.accepted_timestamp += 1;
        assert_eq!(
            hub.verify_reported(&room, &mallory, &moved),
            Err(ReportRejection::Frank)
        );
        // Sender swapped: blaming someone else for mallory's message…
        assert_eq!(
            hub.verify_reported(&room, &bob, &genuine),
            Err(ReportRejection::Sender)
        );
        // …or rewriting the content's sender to bob.
        let mut swapped = genuine.clone();
        swapped.message_content = content(bob.as_str(), &room, "abuse");
        assert_eq!(
            hub.verify_reported(&room, &bob, &swapped),
            Err(ReportRejection::Frank)
        );
        // Another room, and a frank from another hub.
        let other = RoomId::parse("mimi://a.example/r/other").unwrap();
        assert_eq!(
            hub.verify_reported(&other, &mallory, &genuine),
            Err(ReportRejection::Room)
        );
        let stranger = new_hub();
        assert_eq!(
            stranger.verify_reported(&room, &mallory, &genuine),
            Err(ReportRejection::Frank)
        );
        // A signature that does not verify.
        let mut unsigned = genuine.clone();
        unsigned.frank.franking_integrity_signature[0] ^= 1;
        assert_eq!(
            hub.verify_reported(&room, &mallory, &unsigned),
            Err(ReportRejection::Signature)
        );
        let mut garbage = genuine;
        garbage.message_content = vec![0xff; 3];
        assert_eq!(
            hub.verify_reported(&room, &mallory, &garbage),
            Err(ReportRejection::Content)
        );
    }
}
