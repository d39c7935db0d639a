//! The library's values as the protocol-06 bodies a follower sends to the hub
//! (`update`, `submitMessage`). What it receives (`/notify` FanoutMessages)
//! needs no conversion: the client processes `RawFanoutMessage`, the one
//! fan-out type, as decoded (decision W-21). The transport is the caller's;
//! these only change representation.

use openmls::prelude::{MlsMessageIn, MlsMessageOut};

use mimi_proto::components::ParticipantId;
use mimi_proto::messages::{
    ApplicationMessage, HandshakeBundle, ProposalMessage, SubmitMessageRequest, UpdateRequest,
};

use crate::error::ClientError;
use crate::events::{OutgoingMessage, OutgoingProposals};

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

fn reread(message: &MlsMessageOut) -> Result<MlsMessageIn, ClientError> {
    Ok(mimi_mls::member::reread(message)?)
}
