//! Application messages: MIMI content (every kind `mimi-content` builds)
//! encrypted as PrivateMessages with a `frank_aad` SafeAAD item, and received
//! messages decrypted, decoded and checked (content receiver rules, room
//! policy per policy-content B.11, the hub's frank).

use openmls::framing::ProcessedMessageContent;
use openmls::prelude::MlsMessageOut;
use openmls::prelude::tls_codec::Serialize as _;
use openmls_traits::OpenMlsProvider as _;
use sha2::{Digest as _, Sha256};

use mimi_content::franking::{FrankingTag, SafeAad};
use mimi_content::{
    ContentBuilder, EncodedContent, MessageId, ReceiveContext, ReceiveLimits, ReceivedContent,
};
use mimi_proto::RoomId;
use mimi_proto::codec::decode_exact;
use mimi_proto::components::ParticipantId;
use mimi_proto::messages::Frank;

use crate::client::Client;
use crate::client_room::{RoomStatus, StoredMessage};
use crate::content_rules::{ContentVerdict, check_content};
use crate::error::ClientError;
use crate::events::{
    DiscardReason, FrankError, FrankStatus, OutgoingMessage, ReceivedMessage, RoomEvent,
};
use crate::franking::verify_frank;
use crate::process::protocol_message;
use crate::storage::Batch;
use mimi_mls::client_of;

impl Client {
    /// A content builder for `room` with our user as sender: finish it with
    /// any `mimi-content` message kind (text, reply, reaction, edit, delete,
    /// attachment, status report…) and pass the result to [`Client::send`].
    ///
    /// # Errors
    /// [`ClientError::UnknownRoom`].
    pub fn compose(&self, room: &RoomId) -> Result<ContentBuilder, ClientError> {
        self.room(room)?;
        Ok(ContentBuilder::new(self.user().as_str(), room.as_str()))
    }

    /// Encrypts `content` for `room` with a `frank_aad` SafeAAD item, so the
    /// hub franks it. The message is checked against our own role first (the
    /// receivers will check the same, policy-content B.11), and recorded in
    /// our history.
    ///
    /// # Errors
    /// [`ClientError::State`] if the room is not active,
    /// [`ClientError::Denied`] if our role does not allow this message,
    /// [`ClientError::Malformed`] if it names another sender or room,
    /// [`ClientError::Mls`] if encryption fails.
    pub fn send(
        &mut self,
        room: &RoomId,
        content: EncodedContent,
    ) -> Result<OutgoingMessage, ClientError> {
        let now = self.clock.now_ms();
        let me = ParticipantId::from(self.identity.user().clone());
        let user = self.identity.user().clone();
        let Self {
            rooms,
            provider,
            identity,
            ..
        } = self;
        let r = rooms
            .get_mut(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))?;
        if r.status != RoomStatus::Active {
            return Err(ClientError::State("room is not active for this client"));
        }
        let ext = &content.content.extensions;
        if ext.sender_uri().is_some_and(|s| s != user.as_str())
            || ext.room_uri().is_some_and(|s| s != room.as_str())
        {
            return Err(ClientError::Malformed(
                "content names another sender or room",
            ));
        }
        match check_content(&r.state, &me, &content.content, &r.history) {
            ContentVerdict::Allowed => {}
            ContentVerdict::Denied(d) => {
                return Err(ClientError::Denied(Box::new(mimi_policy::Rejection {
                    denial: d,
                    proposal: None,
                })));
            }
            ContentVerdict::BadEdit(_) => {
                return Err(ClientError::State(
                    "this edit changes what an edit may not change",
                ));
            }
        }
        let tag = FrankingTag::compute(&content.content.salt, &content.bytes);
        let aad = SafeAad::with_frank_aad(tag).authenticated_data(&[])?;
        r.group.set_aad(aad);
        let message = r
            .group
            .create_message(&*provider, identity.signer(), &content.bytes)
            .map_err(|e| ClientError::Mls(format!("encrypting: {e}")))?;
        let mut batch = Batch::default();
        Client::record_message(
            r,
            &mut batch,
            StoredMessage {
                seq: 0,
                message_id: content.message_id,
                sender: user.clone(),
                timestamp: now,
                content: content.bytes,
                frank: None,
                own: true,
                wire_hash: Some(wire_hash(&message)?),
            },
        );
        self.persist(batch)?;
        Ok(OutgoingMessage {
            room: room.clone(),
            message,
            sending_uri: user,
            message_id: content.message_id,
        })
    }

    /// Sends a Markdown text message.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub fn send_text(
        &mut self,
        room: &RoomId,
        markdown: &str,
    ) -> Result<OutgoingMessage, ClientError> {
        let content = self.compose(room)?.markdown(markdown)?;
        self.send(room, content)
    }

    /// Records the hub's answer to one of our messages: its acceptance time
    /// and frank, which is verified like a receiver would.
    ///
    /// # Errors
    /// [`ClientError::State`] if the message is not ours,
    /// [`ClientError::Malformed`] if the frank does not verify.
    pub fn message_accepted(
        &mut self,
        room: &RoomId,
        message_id: &MessageId,
        accepted_timestamp: u64,
        frank: Option<Frank>,
    ) -> Result<(), ClientError> {
        let me = ParticipantId::from(self.identity.user().clone());
        let Self {
            rooms, provider, ..
        } = self;
        let r = rooms
            .get_mut(room)
            .ok_or_else(|| ClientError::UnknownRoom(room.clone()))?;
        let stored = r
            .history
            .get_mut(message_id)
            .filter(|m| m.own)
            .ok_or(ClientError::State("no message of ours with this id"))?;
        if let Some(f) = &frank {
            verify_frank(
                provider.crypto(),
                &r.state,
                room,
                &me,
                accepted_timestamp,
                f,
            )
            .map_err(|_| ClientError::Malformed("the hub's frank does not verify"))?;
        }
        stored.timestamp = accepted_timestamp;
        stored.frank = frank;
        let m = &*stored;
        let batch = Batch {
            messages: vec![crate::storage::MessageRow {
                room: room.as_str().to_owned(),
                seq: i64::try_from(m.seq).unwrap_or(i64::MAX),
                message_id: m.message_id.as_bytes().to_vec(),
                sender: m.sender.as_str().to_owned(),
                timestamp: i64::try_from(m.timestamp).unwrap_or(i64::MAX),
                content: m.content.clone(),
                frank: m.frank.as_ref().and_then(crate::client::frank_bytes),
                own: m.own,
                wire_hash: m.wire_hash.map(|h| h.to_vec()),
            }],
            ..Batch::default()
        };
        self.persist(batch)
    }

    /// Decrypts and checks one application message.
    pub(crate) fn process_application(
        &mut self,
        timestamp: u64,
        bytes: &[u8],
        frank: Option<&[u8]>,
        batch: &mut Batch,
    ) -> Result<RoomEvent, ClientError> {
        let message = protocol_message(bytes)?;
        let Some(room) = self.room_of(&message) else {
            return Ok(RoomEvent::Ignored {
                room: None,
                reason: "message for a room we do not hold",
            });
        };
        let now = self.clock.now_ms();
        let Self {
            rooms, provider, ..
        } = self;
        let r = rooms
            .get_mut(&room)
            .ok_or(ClientError::Internal("room vanished"))?;
        if r.status != RoomStatus::Active {
            return Ok(RoomEvent::Ignored {
                room: Some(room),
                reason: "message in a room we are not active in",
            });
        }
        let hash: [u8; 32] = Sha256::digest(bytes).into();
        if r.history.sent(&hash) {
            return Ok(RoomEvent::Ignored {
                room: Some(room),
                reason: "our own message",
            });
        }
        let processed = r
            .group
            .process_message(&*provider, message)
            .map_err(|e| ClientError::Mls(format!("decrypting: {e}")))?;
        let credential = processed.credential().clone();
        let aad = processed.aad().to_vec();
        let data = match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => m.into_bytes(),
            // Our own message, delivered to all our provider's clients.
            ProcessedMessageContent::OwnPrivateMessage => {
                return Ok(RoomEvent::Ignored {
                    room: Some(room),
                    reason: "our own message",
                });
            }
            _ => return Err(ClientError::Malformed("expected an application message")),
        };
        // From here on the ratchet has advanced: failures discard the message
        // (and are persisted) rather than return an error.
        let Some((sender_client, sender)) =
            client_of(&credential).and_then(|c| c.user().map(|u| (c, u)))
        else {
            return Ok(RoomEvent::Discarded {
                room,
                sender: None,
                reason: DiscardReason::Sender("sender credential names no mimi user"),
            });
        };
        let discard = |reason| {
            Ok(RoomEvent::Discarded {
                room: room.clone(),
                sender: Some(sender_client.clone()),
                reason,
            })
        };

        let received = match ReceivedContent::decode(data) {
            Ok(c) => c,
            Err(e) => return discard(DiscardReason::Malformed(e)),
        };
        let ctx = ReceiveContext {
            sender_uri: sender.as_str(),
            room_uri: room.as_str(),
            hub_timestamp_ms: timestamp,
            now_ms: now,
            room_created_ms: None,
            limits: ReceiveLimits::default(),
        };
        if let Err(d) = received.check(&ctx) {
            return discard(DiscardReason::Content(d));
        }
        let participant = ParticipantId::from(sender.clone());
        match check_content(&r.state, &participant, received.content(), &r.history) {
            ContentVerdict::Allowed => {}
            ContentVerdict::Denied(d) => return discard(DiscardReason::Policy(Box::new(d))),
            ContentVerdict::BadEdit(why) => return discard(DiscardReason::Edit(why)),
        }
        let Ok(message_id) = received.message_id_with(sender.as_str(), room.as_str()) else {
            return discard(DiscardReason::Sender("message ID inputs are too long"));
        };
        if r.history.get(&message_id).is_some() {
            return discard(DiscardReason::Duplicate);
        }

        // Franking: the sender asked for it iff the AAD holds frank_aad.
        let frank_aad = SafeAad::split(&aad)
            .ok()
            .and_then(|(safe, _)| safe.frank_aad().ok().flatten());
        let status = match frank_aad {
            None => FrankStatus::NotRequested,
            Some(item) => {
                let tag = FrankingTag::compute(&received.content().salt, received.bytes());
                if tag != item.franking_tag {
                    return discard(DiscardReason::Frank(FrankError::Tag));
                }
                let Some(frank_bytes) = frank else {
                    return discard(DiscardReason::Frank(FrankError::Missing));
                };
                let Ok(frank) = decode_exact::<Frank>(frank_bytes, "Frank") else {
                    return discard(DiscardReason::Frank(FrankError::Malformed));
                };
                if let Err(e) = verify_frank(
                    provider.crypto(),
                    &r.state,
                    &room,
                    &participant,
                    timestamp,
                    &frank,
                ) {
                    return discard(DiscardReason::Frank(e));
                }
                FrankStatus::Verified(frank)
            }
        };
        let frank_kept = match &status {
            FrankStatus::Verified(f) => Some(f.clone()),
            FrankStatus::NotRequested => None,
        };
        let (content_bytes, content) = received.into_parts();
        Client::record_message(
            r,
            batch,
            StoredMessage {
                seq: 0,
                message_id,
                sender: sender.clone(),
                timestamp,
                content: content_bytes,
                frank: frank_kept,
                own: false,
                wire_hash: None,
            },
        );
        Ok(RoomEvent::Message(Box::new(ReceivedMessage {
            room,
            sender,
            sender_client,
            message_id,
            timestamp,
            content,
            frank: status,
        })))
    }
}

/// SHA-256 of a message's wire bytes.
fn wire_hash(message: &MlsMessageOut) -> Result<[u8; 32], ClientError> {
    let bytes = message
        .tls_serialize_detached()
        .map_err(|_| ClientError::Internal("message does not encode"))?;
    Ok(Sha256::digest(bytes).into())
}
