//! Application messages (protocol-06 §5.4 submitMessage, digest §7.3) and
//! franking (§5.4.1).
//!
//! The hub cannot read a PrivateMessage: it checks the cleartext header (group,
//! epoch, content type), trusts the submitting provider for `sendingUri`
//! within that provider's own domain, checks the sender against the room
//! policy, and franks the message when it carries a `frank_aad` item.

use openmls::framing::ProtocolMessage;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{ContentType, MlsMessageIn, WireFormat};

use mimi_content::franking::SafeAad;
use mimi_proto::ProviderId;
use mimi_proto::components::ParticipantId;
use mimi_proto::messages::{Frank, RawFanoutMessage};

use crate::commit::Accepted;
use crate::error::HubError;
use crate::fanout::Delivery;
use crate::hub::Hub;
use crate::room::Room;

/// An accepted application message.
#[derive(Debug)]
pub struct MessageAccepted {
    /// Timestamp, epoch and deliveries.
    pub accepted: Accepted,
    /// The hub's frank, when the sender asked for one.
    pub frank: Option<Frank>,
}

impl Room {
    /// Accepts an application message submitted by provider `from` on behalf
    /// of `sending_uri`, franks it if asked, and plans its fan-out.
    ///
    /// # Errors
    /// [`HubError::EpochTooOld`] for an older epoch, [`HubError::Denied`] when
    /// the sender may not send (unlisted, banned, exiting, inactive, or without
    /// canSendMessage), [`HubError::NotAllowed`] when `sending_uri` is not a
    /// user of `from` or the epoch is in the future, [`HubError::Malformed`]
    /// for anything but an application PrivateMessage of this room.
    pub fn accept_message(
        &mut self,
        hub: &Hub,
        from: &ProviderId,
        message: MlsMessageIn,
        sending_uri: &ParticipantId,
        now: u64,
    ) -> Result<MessageAccepted, HubError> {
        let bytes = message
            .tls_serialize_detached()
            .map_err(|_| HubError::Internal("message does not serialize"))?;
        if message.wire_format() != WireFormat::PrivateMessage {
            return Err(HubError::Malformed(
                "application messages must be PrivateMessage",
            ));
        }
        let Ok(ProtocolMessage::PrivateMessage(private)) = message.try_into_protocol_message()
        else {
            return Err(HubError::Malformed("not a PrivateMessage"));
        };
        if private.content_type() != ContentType::Application {
            return Err(HubError::Malformed(
                "handshake messages must be PublicMessage",
            ));
        }
        if private.group_id() != self.group.group_id() {
            return Err(HubError::Malformed("message is for another group"));
        }
        let epoch = private.epoch().as_u64();
        if epoch < self.epoch() {
            return Err(HubError::EpochTooOld {
                current: self.epoch(),
            });
        }
        if epoch > self.epoch() {
            return Err(HubError::NotAllowed("message from a future epoch".into()));
        }
        // The hub cannot see the MLS sender; it believes the submitting
        // provider only about its own users (franking lets receivers check).
        if sending_uri.domain() != from.domain() {
            return Err(HubError::NotAllowed(format!(
                "{from} may not submit messages for {sending_uri}"
            )));
        }
        self.effective
            .check_sender(sending_uri)
            .map_err(HubError::denied)?;

        let frank = match SafeAad::split(private.aad()) {
            Ok((aad, _)) => match aad.frank_aad() {
                Ok(Some(item)) => {
                    Some(self.frank(hub, item.franking_tag.as_bytes(), sending_uri, now)?)
                }
                Ok(None) => None,
                Err(_) => return Err(HubError::Malformed("frank_aad item does not decode")),
            },
            // Authenticated data that is not a SafeAAD carries no frank request.
            Err(_) => None,
        };
        let frank_bytes = frank
            .as_ref()
            .map(|f| f.tls_serialize_detached())
            .transpose()
            .map_err(|_| HubError::Internal("frank does not serialize"))?;

        // Fan out to every provider with a member whose user may receive.
        let mut destinations = std::collections::BTreeSet::new();
        for (client, user) in self.committed.members() {
            if self.effective.may_receive(user) {
                destinations.insert(client.as_uri().provider());
            }
        }
        let deliveries = destinations
            .into_iter()
            .map(|to| Delivery {
                to,
                event: RawFanoutMessage::Application {
                    timestamp: now,
                    message: bytes.clone(),
                    frank: frank_bytes.clone(),
                },
            })
            .collect();
        Ok(MessageAccepted {
            accepted: Accepted {
                timestamp: now,
                epoch: self.epoch(),
                deliveries,
            },
            frank,
        })
    }

    /// Computes the hub's frank over a sender's franking tag (§5.4.1).
    fn frank(
        &self,
        hub: &Hub,
        franking_tag: &[u8; 32],
        sender: &ParticipantId,
        now: u64,
    ) -> Result<Frank, HubError> {
        hub.issue_frank(&self.id, franking_tag, sender, now)
    }
}
