//! The architecture's Figure 1 in-process: real `mimi-client` clients on three
//! providers and the real hub engine for the room, with the hub's `Delivery`
//! lists routed to every client of the destination provider, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{MlsMessageIn, MlsMessageOut, ProtocolVersion, RatchetTreeIn};
use openmls_traits::OpenMlsProvider as _;

use mimi_client::{
    Client, Clock, GroupInfoAsk, OutgoingCommit, OutgoingMessage, OutgoingProposals, RoomEvent,
    RoomStatus,
};
use mimi_hub::{CommitBundle, Delivery, Hub, HubError, HubKeys, ProposalBundle, Room, UpdateCode};
use mimi_policy::{PolicyEnvelope, Preset, RoomTemplate};
use mimi_proto::WireMessage as _;
use mimi_proto::messages::{
    FanoutMessage, GroupInfoOption, HandshakeBundle, ProposalMessage, RawFanoutMessage,
    SubmitMessageRequest, UpdateOutcome, UpdateRequest,
};
use mimi_proto::{ClientId, ProviderId, RoomId, UserId};

/// Hub time starts here (2027) and moves one second per accepted event.
pub const T0: u64 = 1_800_000_000_000;

#[derive(Debug, Clone)]
pub struct SharedClock(pub Arc<AtomicU64>);

impl Clock for SharedClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct World {
    pub hub: Hub,
    pub room_id: RoomId,
    pub room: Option<Room>,
    pub clients: Vec<Client>,
    /// Events delivered to each client and not yet processed.
    pub inbox: Vec<Vec<RawFanoutMessage>>,
    /// Everything each client processed, for end-of-test checks.
    pub seen: Vec<Vec<RoomEvent>>,
    pub clock: SharedClock,
}

pub fn wire(m: &MlsMessageOut) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(m.tls_serialize_detached().unwrap()).unwrap()
}

impl World {
    /// A world whose rooms live on `hub_domain`.
    pub fn new(hub_domain: &str) -> Self {
        let keys = HubKeys::generate(ProviderId::from_domain(hub_domain).unwrap()).unwrap();
        Self {
            hub: Hub::new(keys, PolicyEnvelope::permissive()),
            room_id: RoomId::parse(&format!("mimi://{hub_domain}/r/clubhouse")).unwrap(),
            room: None,
            clients: Vec::new(),
            inbox: Vec::new(),
            seen: Vec::new(),
            clock: SharedClock(Arc::new(AtomicU64::new(T0))),
        }
    }

    fn tick(&self) -> u64 {
        self.clock.0.fetch_add(1000, Ordering::SeqCst) + 1000
    }

    pub fn join_client(&mut self, mut client: Client) -> usize {
        client.set_clock(Box::new(self.clock.clone()));
        self.clients.push(client);
        self.inbox.push(Vec::new());
        self.seen.push(Vec::new());
        self.clients.len() - 1
    }

    pub fn client(&mut self, uri: &str) -> usize {
        let client = Client::in_memory(ClientId::parse(uri).unwrap()).unwrap();
        self.join_client(client)
    }

    pub fn room(&mut self) -> &mut Room {
        self.room.as_mut().expect("room created")
    }

    pub fn user(&self, who: usize) -> UserId {
        self.clients[who].user().clone()
    }

    fn provider_of(&self, who: usize) -> ProviderId {
        self.clients[who].client_id().as_uri().provider()
    }

    /// `who` creates the room from `preset`; the hub accepts it.
    pub fn create(&mut self, who: usize, preset: Preset) {
        self.create_from(who, &preset.template(), Some(preset));
    }

    /// `who` creates the room from a template; the hub accepts it.
    pub fn create_from(&mut self, who: usize, template: &RoomTemplate, preset: Option<Preset>) {
        let hub_sender = self.hub.keys().external_sender();
        let created = self.clients[who]
            .create_room_from(&self.room_id, template, preset, hub_sender)
            .unwrap();
        let now = self.tick();
        let room = Room::create(
            &self.hub,
            self.room_id.clone(),
            self.clients[who].client_id(),
            wire(&created.group_info),
            RatchetTreeIn::from(created.ratchet_tree),
            preset,
            now,
        )
        .unwrap();
        self.room = Some(room);
    }

    /// A KeyPackage of `who`, claimed through the hub (which records where
    /// its Welcome goes).
    pub fn key_package(&mut self, who: usize) -> openmls::prelude::KeyPackage {
        let kp = self.clients[who].key_packages(1).unwrap().remove(0);
        let reference = kp
            .hash_ref(self.clients[who].provider().crypto())
            .unwrap()
            .tls_serialize_detached()
            .unwrap();
        let provider = self.provider_of(who);
        self.room().record_key_packages(&provider, [reference]);
        kp
    }

    fn route(&mut self, deliveries: Vec<Delivery>) {
        for d in deliveries {
            // What the provider stores and its clients read: the hub's bytes
            // (both views of the wire struct read them), decoded again.
            let bytes = d.event.encode().unwrap();
            assert_eq!(
                FanoutMessage::decode(&bytes).unwrap().encode().unwrap(),
                bytes
            );
            let incoming = RawFanoutMessage::decode(&bytes).unwrap();
            assert_eq!(
                incoming, d.event,
                "a /notify FanoutMessage carries the same event"
            );
            // The provider hands each event to all its clients (the sender's
            // own client included: clients tolerate their echoes).
            for i in 0..self.clients.len() {
                if self.provider_of(i) == d.to {
                    self.inbox[i].push(incoming.clone());
                }
            }
        }
    }

    fn outcome(&mut self, error: &HubError) -> UpdateOutcome {
        match error.update_code() {
            UpdateCode::WrongEpoch => UpdateOutcome::WrongEpoch {
                current_epoch: self.room().epoch(),
            },
            UpdateCode::NotAllowed => UpdateOutcome::NotAllowed,
            UpdateCode::InvalidProposal => UpdateOutcome::InvalidProposal {
                invalid_proposals: Vec::new(),
            },
            UpdateCode::Internal => panic!("hub internal error: {error}"),
        }
    }

    /// Submits a commit to the hub without telling the committer. The commit
    /// travels as the `update` body a follower would send (encoded, decoded,
    /// then unpacked as the server does).
    pub fn submit(&mut self, out: &OutgoingCommit) -> UpdateOutcome {
        let body = out.update_request().unwrap().encode().unwrap();
        let HandshakeBundle::Commit {
            commit,
            welcome,
            group_info_option: GroupInfoOption::Full(group_info),
            ..
        } = UpdateRequest::decode(&body).unwrap().bundle
        else {
            panic!("not a commit bundle with a full GroupInfo")
        };
        let mut gi = vec![0, 1, 0, 4];
        gi.extend(group_info.tls_serialize_detached().unwrap());
        let bundle = CommitBundle {
            commit: MlsMessageIn::tls_deserialize_exact(commit.tls_serialize_detached().unwrap())
                .unwrap(),
            welcome: welcome
                .map(|w| wire(&MlsMessageOut::from_welcome(*w, ProtocolVersion::Mls10))),
            group_info: MlsMessageIn::tls_deserialize_exact(gi).unwrap(),
        };
        let now = self.tick();
        let hub = &self.hub;
        let result = self
            .room
            .as_mut()
            .expect("room")
            .accept_commit(hub, bundle, now);
        match result {
            Ok(accepted) => {
                self.route(accepted.deliveries);
                UpdateOutcome::Success {
                    accepted_timestamp: accepted.timestamp,
                }
            }
            Err(e) => {
                eprintln!("hub refused a commit: {e}");
                self.outcome(&e)
            }
        }
    }

    /// Submits a commit and gives the committer the hub's answer.
    pub fn commit(&mut self, who: usize, out: &OutgoingCommit) -> UpdateOutcome {
        let outcome = self.submit(out);
        let room = self.room_id.clone();
        let events = self.clients[who].commit_answered(&room, &outcome).unwrap();
        self.seen[who].extend(events);
        outcome
    }

    pub fn propose(&mut self, who: usize, out: &OutgoingProposals) -> Result<(), HubError> {
        let body = out.update_request().unwrap().encode().unwrap();
        let HandshakeBundle::Proposal {
            proposal,
            more_proposals,
        } = UpdateRequest::decode(&body).unwrap().bundle
        else {
            panic!("not a proposal bundle")
        };
        let reread = |p: &ProposalMessage| {
            MlsMessageIn::tls_deserialize_exact(p.tls_serialize_detached().unwrap()).unwrap()
        };
        let bundle = ProposalBundle {
            proposal: reread(&proposal),
            more: more_proposals.iter().map(reread).collect(),
        };
        let now = self.tick();
        let hub = &self.hub;
        match self
            .room
            .as_mut()
            .expect("room")
            .accept_proposals(hub, bundle, now)
        {
            Ok(accepted) => {
                self.route(accepted.deliveries);
                Ok(())
            }
            Err(e) => {
                let room = self.room_id.clone();
                self.clients[who]
                    .proposals_refused(&room, &out.refs)
                    .unwrap();
                Err(e)
            }
        }
    }

    /// Submits an application message through `who`'s provider; on
    /// acceptance the sender records the hub's timestamp and frank.
    pub fn submit_message(&mut self, who: usize, out: &OutgoingMessage) -> Result<(), HubError> {
        let now = self.tick();
        let from = self.provider_of(who);
        // As the `submitMessage` body a follower would send.
        let body = out.submit_request().unwrap().encode().unwrap();
        let request = SubmitMessageRequest::decode(&body).unwrap();
        let message = MlsMessageIn::tls_deserialize_exact(
            request.app_message.tls_serialize_detached().unwrap(),
        )
        .unwrap();
        let hub = &self.hub;
        let accepted = self.room.as_mut().expect("room").accept_message(
            hub,
            &from,
            message,
            &request.sending_uri,
            now,
        )?;
        let room = self.room_id.clone();
        self.clients[who]
            .message_accepted(
                &room,
                &out.message_id,
                accepted.accepted.timestamp,
                accepted.frank.clone(),
            )
            .unwrap();
        self.route(accepted.accepted.deliveries);
        Ok(())
    }

    pub fn send_text(&mut self, who: usize, text: &str) -> mimi_content::MessageId {
        let room = self.room_id.clone();
        let out = self.clients[who].send_text(&room, text).unwrap();
        self.submit_message(who, &out).unwrap();
        out.message_id
    }

    /// Adds `user`'s clients (all of `clients`) in one commit by `adder`.
    pub fn add(&mut self, adder: usize, clients: &[usize], role: Option<u32>) {
        let user = self.user(clients[0]);
        let kps = clients.iter().map(|&c| self.key_package(c)).collect();
        let room = self.room_id.clone();
        let out = self.clients[adder]
            .add_user(&room, &user, role, kps)
            .unwrap();
        assert!(
            matches!(self.commit(adder, &out), UpdateOutcome::Success { .. }),
            "add refused"
        );
        self.sync_all();
    }

    /// The hub proposes removing `client` (a lost device) and fans it out.
    pub fn hub_removes(&mut self, client: &ClientId) {
        let now = self.tick();
        let hub = &self.hub;
        let accepted = self
            .room
            .as_mut()
            .expect("room")
            .propose_remove(hub, client, now)
            .unwrap();
        self.route(accepted.deliveries);
    }

    /// Processes everything delivered to `who`.
    pub fn sync(&mut self, who: usize) -> Vec<RoomEvent> {
        let mut out = Vec::new();
        for incoming in std::mem::take(&mut self.inbox[who]) {
            let events = self.clients[who]
                .process(incoming)
                .unwrap_or_else(|e| panic!("{}: {e}", self.clients[who].client_id()));
            out.extend(events);
        }
        self.seen[who].extend(out.clone());
        out
    }

    pub fn sync_all(&mut self) {
        for i in 0..self.clients.len() {
            self.sync(i);
        }
    }

    /// Joins `who` by external commit through the hub's groupInfo endpoint.
    pub fn join_external(&mut self, who: usize) -> Result<UpdateOutcome, mimi_client::ClientError> {
        let room = self.room_id.clone();
        let ask: GroupInfoAsk = self.clients[who].request_group_info(&room, None)?;
        let hub = &self.hub;
        let response = self
            .room
            .as_mut()
            .expect("room")
            .answer_group_info(hub, &ask.request)
            .unwrap();
        let out = self.clients[who].join_from_group_info(&ask, &response)?;
        Ok(self.commit(who, &out))
    }

    /// Every listed client agrees with the others and with the hub on the
    /// epoch, the epoch authenticator and the room state.
    pub fn assert_converged(&mut self, members: &[usize]) {
        let room_id = self.room_id.clone();
        let hub_epoch = self.room().epoch();
        let hub_state = self.room().committed_state().to_components();
        let first = self.clients[members[0]].room(&room_id).unwrap();
        let authenticator = first.epoch_authenticator().to_vec();
        for &m in members {
            let r = self.clients[m].room(&room_id).unwrap();
            let name = self.clients[m].client_id();
            assert_eq!(r.status(), RoomStatus::Active, "{name}");
            assert_eq!(r.epoch(), hub_epoch, "{name} epoch");
            assert_eq!(
                r.epoch_authenticator(),
                authenticator,
                "{name} authenticator"
            );
            assert_eq!(r.state().to_components(), hub_state, "{name} room state");
        }
    }
}
