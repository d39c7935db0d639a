//! Creating a room (protocol-06 §3.1, digest §6.1): the creator's client makes
//! the MLS group at epoch 0, with the hub in `external_senders` and the whole
//! room state from a preset in `app_data_dictionary`. Creation is local to the
//! hub, so the result is what the hub needs to start tracking the room.

use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{AppDataDictionary, ExternalSender, MlsMessageOut};
use openmls::treesync::RatchetTree;

use mimi_policy::{Member, Preset, RoomState, RoomTemplate};
use mimi_proto::RoomId;
use mimi_proto::components::{
    FrankingAgentData, MlsCredential, ParticipantId, RoomComponents, UserRolePair,
};
use mimi_proto::messages::crypto::external_sender_key;

use crate::client::Client;
use crate::client_room::{ClientRoom, History, RoomStatus};
use crate::error::ClientError;
use crate::policy::{committed_state, context};
use crate::storage::Batch;
use mimi_mls::member::{create_group, export_for_hub};
use mimi_mls::{external_sender_credential, server_claims};

/// What the hub needs to start tracking a new room.
#[derive(Debug)]
pub struct CreatedRoom {
    /// The epoch-0 GroupInfo.
    pub group_info: MlsMessageOut,
    /// The epoch-0 ratchet tree.
    pub ratchet_tree: RatchetTree,
}

impl Client {
    /// Creates `room` from `preset` with this client's user as the creator
    /// (the preset's creator role) and `hub` as the external sender, franking
    /// agent, and — when the preset has one — listed policy enforcer.
    ///
    /// The room exists locally at once; if the hub refuses it, call
    /// [`Client::forget_room`].
    ///
    /// # Errors
    /// [`ClientError::State`] if the room exists already,
    /// [`ClientError::Denied`] if the initial state breaks room policy,
    /// [`ClientError::Mls`] if OpenMLS refuses the group.
    pub fn create_room(
        &mut self,
        room: &RoomId,
        preset: Preset,
        hub: ExternalSender,
    ) -> Result<CreatedRoom, ClientError> {
        self.create_room_from(room, &preset.template(), Some(preset), hub)
    }

    /// Creates `room` from a template (a preset, possibly adjusted: e.g. an
    /// enforcer role for the hub), as [`Client::create_room`] does. `preset`
    /// names the preset it came from, if any, for the hub's envelope.
    ///
    /// # Errors
    /// As [`Client::create_room`].
    pub fn create_room_from(
        &mut self,
        room: &RoomId,
        template: &RoomTemplate,
        preset: Option<Preset>,
        hub: ExternalSender,
    ) -> Result<CreatedRoom, ClientError> {
        if self.rooms.contains_key(room) {
            return Err(ClientError::State("room exists already"));
        }
        let components = initial_components(self, room, template, &hub)?;
        let me = Member::basic(
            self.client_id().clone(),
            ParticipantId::from(self.user().clone()),
        );
        let now = self.clock.now_ms();
        // The same checks the hub runs: a room it would refuse is never made.
        RoomState::create(&context(now), preset, components.clone(), vec![me]).map_err(|d| {
            ClientError::Denied(Box::new(mimi_policy::Rejection {
                denial: d,
                proposal: None,
            }))
        })?;
        let mut dictionary = AppDataDictionary::new();
        for entry in components
            .to_entries()
            .map_err(|_| ClientError::Encode("room state too large".into()))?
        {
            dictionary.insert(entry.component_id.0, entry.data);
        }
        let group = create_group(&self.provider, &self.identity, room, hub, dictionary)?;
        let (group_info, ratchet_tree) = export_for_hub(&self.provider, &self.identity, &group)?;
        let state = committed_state(&group)?;
        let r = ClientRoom {
            id: room.clone(),
            group,
            state,
            status: RoomStatus::Active,
            created_ms: now,
            pending: None,
            history: History::default(),
        };
        let batch = Batch {
            rooms: vec![Client::room_row(&r)],
            ..Batch::default()
        };
        self.rooms.insert(room.clone(), r);
        self.persist(batch)?;
        Ok(CreatedRoom {
            group_info,
            ratchet_tree,
        })
    }
}

/// The preset's components for this room: participant list with the creator
/// (and the hub's enforcer identity when the preset lists one), metadata with
/// the room URI, roles, base policy, preauthorization, and the hub as
/// franking agent (decision CL-5).
fn initial_components(
    client: &Client,
    room: &RoomId,
    template: &RoomTemplate,
    hub: &ExternalSender,
) -> Result<RoomComponents, ClientError> {
    let mut participants = vec![UserRolePair {
        user: ParticipantId::from(client.user().clone()),
        role_index: template.creator_role,
    }];
    if let Some(role) = template.enforcer_role {
        participants.push(UserRolePair {
            user: server_claims(hub)?.user().clone(),
            role_index: role,
        });
    }
    let mut components = template.components(room.clone(), participants);
    let credential = external_sender_credential(hub)?
        .tls_serialize_detached()
        .map_err(|_| ClientError::Internal("hub credential does not encode"))?;
    components.franking_agent = Some(FrankingAgentData {
        franking_signature_key: external_sender_key(hub)
            .map_err(|_| ClientError::Internal("hub key does not encode"))?
            .as_slice()
            .to_vec(),
        credential: MlsCredential::decode(&credential)
            .map_err(|_| ClientError::Malformed("hub credential does not decode"))?,
    });
    Ok(components)
}
