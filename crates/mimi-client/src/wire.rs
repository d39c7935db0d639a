//! The library's values as protocol-06 bodies and back: what a follower
//! sends to the hub (`update`, `submitMessage`) and what it receives from it
//! (`/notify` FanoutMessages). The transport is the caller's; these only
//! change representation.

use openmls::prelude::{MlsMessageIn, MlsMessageOut, ProtocolVersion};

use mimi_proto::components::ParticipantId;
use mimi_proto::messages::{
    ApplicationMessage, FanoutEvent, FanoutMessage, HandshakeBundle, ProposalMessage,
    RatchetTreeOption, SubmitMessageRequest, UpdateRequest,
};

use crate::error::ClientError;
use crate::events::{Incoming, OutgoingMessage, OutgoingProposals};

impl OutgoingProposals {
    /// The `update` request body for this bundle.
    ///
    /// # Errors
    /// [`ClientError::Internal`] if our own objects do not re-read.
    pub fn update_request(&self) -> Result<UpdateRequest, ClientError> {
        let proposal = |m: &MlsMessageOut| {
            ProposalMessage::try_from(reread(m)?)
                .map_err(|_| ClientError::Internal("proposal is not a proposal"))
        };
        Ok(UpdateRequest {
            bundle: HandshakeBundle::Proposal {
                proposal: proposal(&self.proposal)?,
                more_proposals: self.more.iter().map(proposal).collect::<Result<_, _>>()?,
            },
        })
    }
}

impl OutgoingMessage {
    /// The `submitMessage` request body.
    ///
    /// # Errors
    /// [`ClientError::Internal`] if our own message does not re-read.
    pub fn submit_request(&self) -> Result<SubmitMessageRequest, ClientError> {
        Ok(SubmitMessageRequest {
            app_message: ApplicationMessage::try_from(reread(&self.message)?)
                .map_err(|_| ClientError::Internal("message is not an application message"))?,
            sending_uri: ParticipantId::from(self.sending_uri.clone()),
        })
    }
}

impl Incoming {
    /// The event a follower received in a `/notify` body (protocol-06 §5.5),
    /// with its MLS objects re-serialized as `MLSMessage`s.
    ///
    /// # Errors
    /// [`ClientError::State`] for a Welcome whose ratchet tree is not carried
    /// in full (the other `RatchetTreeOption`s are not supported),
    /// [`ClientError::Encode`] if an object does not serialize.
    pub fn from_fanout(fanout: &FanoutMessage) -> Result<Self, ClientError> {
        let timestamp = fanout.timestamp;
        Ok(match &fanout.event {
            FanoutEvent::Application { message, frank } => Self::Application {
                timestamp,
                message: message.bytes()?,
                frank: frank.as_ref().map(SerializeDyn::bytes).transpose()?,
            },
            FanoutEvent::Welcome {
                welcome,
                ratchet_tree_option,
            } => {
                let RatchetTreeOption::Full(tree) = ratchet_tree_option else {
                    return Err(ClientError::State("only a full ratchet tree is supported"));
                };
                let message =
                    MlsMessageOut::from_welcome((**welcome).clone(), ProtocolVersion::Mls10);
                Self::Welcome {
                    timestamp,
                    message: message.bytes()?,
                    ratchet_tree: tree.bytes()?,
                }
            }
            FanoutEvent::Proposal {
                proposal,
                more_proposals,
            } => Self::Proposal {
                timestamp,
                message: proposal.bytes()?,
                more_proposals: more_proposals
                    .iter()
                    .map(SerializeDyn::bytes)
                    .collect::<Result<_, _>>()?,
            },
            FanoutEvent::Commit {
                commit,
                external_proposals,
            } => Self::Commit {
                timestamp,
                message: commit.bytes()?,
                external_proposals: external_proposals
                    .iter()
                    .map(SerializeDyn::bytes)
                    .collect::<Result<_, _>>()?,
            },
        })
    }
}

/// Serialization behind one object-safe call, for [`Incoming::from_fanout`].
trait SerializeDyn {
    fn bytes(&self) -> Result<Vec<u8>, ClientError>;
}

impl<T: tls_codec::Serialize> SerializeDyn for T {
    fn bytes(&self) -> Result<Vec<u8>, ClientError> {
        self.tls_serialize_detached()
            .map_err(|e| ClientError::Encode(e.to_string()))
    }
}

fn reread(message: &MlsMessageOut) -> Result<MlsMessageIn, ClientError> {
    Ok(mimi_mls::member::reread(message)?)
}
