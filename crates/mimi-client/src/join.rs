//! Joining a room: by Welcome (someone added us) or by external commit (a new
//! device of a listed user, from the GroupInfo and tree the hub served,
//! protocol-06 §5.6, digest §6.7).

use std::collections::BTreeMap;

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{MlsGroup, MlsMessageBodyIn, MlsMessageIn, RatchetTreeIn, StagedWelcome};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::random::OpenMlsRand as _;
use openmls_traits::types::HpkePrivateKey;

use mimi_policy::JoinPath;
use mimi_proto::RoomId;
use mimi_proto::components::BANNED_ROLE;
use mimi_proto::messages::{
    GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoRequestTbs, GroupInfoResponse,
    RatchetTreeOption,
};
use mimi_proto::mls_profile::CIPHERSUITE;

use crate::client::Client;
use crate::client_room::{ClientRoom, History, RoomStatus};
use crate::error::ClientError;
use crate::events::RoomEvent;
use crate::policy::{
    self, committed_state, committed_state_without, components_of, context, member_of,
};
use crate::storage::Batch;
use mimi_mls::OutgoingCommit;
use mimi_mls::member::{join_config, join_external};
use mimi_mls::server_claims;

/// A GroupInfoRequest in flight, with the HPKE key that opens the answer.
pub struct GroupInfoAsk {
    /// The room.
    pub room: RoomId,
    /// The request to send to the hub.
    pub request: GroupInfoRequest,
    private_key: HpkePrivateKey,
}

impl std::fmt::Debug for GroupInfoAsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches logs.
        f.debug_struct("GroupInfoAsk")
            .field("room", &self.room)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A GroupInfoRequest for `room` (protocol-06 §5.6), signed with our key,
    /// with a fresh HPKE key the hub encrypts its answer to. Send
    /// [`GroupInfoAsk::request`] and pass the answer to
    /// [`Client::join_from_group_info`].
    ///
    /// # Errors
    /// [`ClientError::Crypto`] if key generation or signing fails.
    pub fn request_group_info(
        &self,
        room: &RoomId,
        join_code: Option<Vec<u8>>,
    ) -> Result<GroupInfoAsk, ClientError> {
        let ikm = self
            .provider
            .rand()
            .random_vec(32)
            .map_err(|e| ClientError::Crypto(format!("random: {e:?}")))?;
        let keys = self
            .provider
            .crypto()
            .derive_hpke_keypair(CIPHERSUITE.hpke_config(), &ikm)
            .map_err(|e| ClientError::Crypto(format!("HPKE key: {e:?}")))?;
        let request = GroupInfoRequestTbs {
            cipher_suite: CIPHERSUITE,
            requesting_signature_key: self.identity.signer().to_public_vec().into(),
            requesting_credential: self.identity.credential_with_key().credential,
            group_info_public_key: keys.public.into(),
            joining_code: join_code.unwrap_or_default(),
        }
        .sign(self.identity.signer())
        .map_err(|e| ClientError::Crypto(format!("signing GroupInfoRequest: {e}")))?;
        Ok(GroupInfoAsk {
            room: room.clone(),
            request,
            private_key: keys.private,
        })
    }

    /// Joins by external commit from the hub's answer to our
    /// GroupInfoRequest: checks the hub's signature and that the signer is
    /// the room's hub, decrypts the GroupInfo and tree, and builds the
    /// commit.
    ///
    /// # Errors
    /// [`ClientError::State`] if the hub refused (`notAuthorized`,
    /// `noSuchRoom`); [`ClientError::Malformed`] if the answer is for another
    /// room, not signed by the room's hub, or does not decrypt; otherwise as
    /// [`Client::join_by_external_commit`].
    pub fn join_from_group_info(
        &mut self,
        ask: &GroupInfoAsk,
        response: &GroupInfoResponse,
    ) -> Result<OutgoingCommit, ClientError> {
        let (tbs, signature) = match response {
            GroupInfoResponse::Success { tbs, signature } => (tbs, signature),
            GroupInfoResponse::NotAuthorized { .. } => {
                return Err(ClientError::State("the hub refused the GroupInfo request"));
            }
            GroupInfoResponse::NoSuchRoom { .. } => {
                return Err(ClientError::State("the hub does not host this room"));
            }
        };
        if tbs.room_id != ask.room {
            return Err(ClientError::Malformed(
                "GroupInfoResponse is for another room",
            ));
        }
        // Only the room's hub may answer for it (its identity is a user of the
        // hub's domain), and the answer must verify under its key.
        if server_claims(&tbs.hub_sender)?.user().domain() != ask.room.hub_domain() {
            return Err(ClientError::Malformed(
                "GroupInfoResponse signer is not the room's hub",
            ));
        }
        tbs.verify(self.provider.crypto(), signature)
            .map_err(|_| ClientError::Malformed("GroupInfoResponse signature does not verify"))?;
        let tbe = GroupInfoRatchetTreeTbe::decrypt(
            self.provider.crypto(),
            CIPHERSUITE,
            &ask.private_key,
            &ask.room,
            &tbs.encrypted_groupinfo_and_tree,
        )
        .map_err(|_| ClientError::Malformed("GroupInfo does not decrypt"))?;
        let RatchetTreeOption::Full(tree) = tbe.ratchet_tree_option else {
            return Err(ClientError::State("only a full ratchet tree is supported"));
        };
        let lists_hub = tbe
            .group_info
            .group_context()
            .extensions()
            .external_senders()
            .is_some_and(|senders| senders.iter().any(|s| s == &tbs.hub_sender));
        if !lists_hub {
            return Err(ClientError::Malformed(
                "the answering hub is not the room's external sender",
            ));
        }
        self.join_external_typed(&ask.room, *tbe.group_info, tree)
    }

    /// Joins `room` by external commit, as a new client of a listed user, from
    /// the GroupInfo and ratchet tree the hub returned (both serialized). The
    /// room is `Joining` until [`Client::commit_accepted`].
    ///
    /// # Errors
    /// [`ClientError::Malformed`] if the GroupInfo is not for `room`,
    /// [`ClientError::Denied`] if room policy refuses the join,
    /// [`ClientError::State`] if we already hold the room,
    /// [`ClientError::Mls`] if OpenMLS refuses the material.
    pub fn join_by_external_commit(
        &mut self,
        room: &RoomId,
        group_info: &[u8],
        ratchet_tree: &[u8],
    ) -> Result<OutgoingCommit, ClientError> {
        let MlsMessageBodyIn::GroupInfo(info) = MlsMessageIn::tls_deserialize_exact(group_info)
            .map_err(|_| ClientError::Malformed("GroupInfo does not decode"))?
            .extract()
        else {
            return Err(ClientError::Malformed("expected a GroupInfo"));
        };
        let tree = RatchetTreeIn::tls_deserialize_exact(ratchet_tree)
            .map_err(|_| ClientError::Malformed("ratchet tree does not decode"))?;
        self.join_external_typed(room, info, tree)
    }

    fn join_external_typed(
        &mut self,
        room: &RoomId,
        info: VerifiableGroupInfo,
        tree: RatchetTreeIn,
    ) -> Result<OutgoingCommit, ClientError> {
        if self
            .rooms
            .get(room)
            .is_some_and(|r| r.status != RoomStatus::Removed)
        {
            return Err(ClientError::State("we hold this room already"));
        }
        if info.group_id().as_slice() != room.group_uri().as_bytes() {
            return Err(ClientError::Malformed("GroupInfo is for another room"));
        }
        let now = self.clock.now_ms();
        // A room we were removed from has the same group id: its old state
        // must go before the new group is stored under that id.
        let history = retire_removed(&mut self.rooms, &self.provider, room.group_uri().as_bytes())?;
        let (group, out) = join_external(&self.provider, &self.identity, info, tree)?;
        // The group is still at the old epoch with our commit pending: judge
        // the commit as every member will.
        let judged = committed_state_without(&group, self.identity.client()).and_then(|state| {
            let me = member_of(&self.identity.credential_with_key().credential)
                .ok_or(ClientError::NoUser)?;
            match state.authorize_join(&me.client, &me.claims, None) {
                Ok(JoinPath::OwnClient { .. }) => {}
                Ok(_) => {
                    return Err(ClientError::State(
                        "only listed users join by external commit (open join is not supported)",
                    ));
                }
                Err(d) => {
                    return Err(ClientError::Denied(Box::new(mimi_policy::Rejection {
                        denial: d,
                        proposal: None,
                    })));
                }
            }
            let bytes = out
                .commit
                .tls_serialize_detached()
                .map_err(|_| ClientError::Internal("commit does not encode"))?;
            let commit = policy::commit_from_bytes(&group, &bytes)?;
            let staged = state.evaluate_commit(&context(now), &commit)?;
            Ok((state, staged))
        });
        let mut group = group;
        let (state, staged) = match judged {
            Ok(v) => v,
            Err(e) => {
                group
                    .delete(self.provider.storage())
                    .map_err(|e| ClientError::Storage(format!("deleting group: {e:?}")))?;
                return Err(e);
            }
        };
        let r = ClientRoom {
            id: room.clone(),
            group,
            state,
            status: RoomStatus::Joining,
            created_ms: now,
            pending: Some(staged.summary().clone()),
            history,
        };
        let batch = Batch {
            rooms: vec![Client::room_row(&r)],
            ..Batch::default()
        };
        self.rooms.insert(room.clone(), r);
        self.persist(batch)?;
        Ok(out)
    }

    /// Processes a Welcome and its ratchet tree.
    pub(crate) fn process_welcome(
        &mut self,
        timestamp: u64,
        welcome: &[u8],
        ratchet_tree: &[u8],
        batch: &mut Batch,
    ) -> Result<RoomEvent, ClientError> {
        let MlsMessageBodyIn::Welcome(w) = MlsMessageIn::tls_deserialize_exact(welcome)
            .map_err(|_| ClientError::Malformed("Welcome does not decode"))?
            .extract()
        else {
            return Err(ClientError::Malformed("expected a Welcome"));
        };
        let tree = RatchetTreeIn::tls_deserialize_exact(ratchet_tree)
            .map_err(|_| ClientError::Malformed("ratchet tree does not decode"))?;
        let builder = match StagedWelcome::build_from_welcome(&self.provider, &join_config(), w) {
            Ok(b) => b,
            // A Welcome encrypted to none of our KeyPackages is someone else's:
            // a follower may deliver a room's Welcome to all its clients.
            Err(openmls::prelude::WelcomeError::NoMatchingKeyPackage) => {
                return Ok(RoomEvent::Ignored {
                    room: None,
                    reason: "Welcome is not for this client",
                });
            }
            Err(e) => return Err(ClientError::Mls(format!("Welcome: {e}"))),
        };
        let group_id = builder
            .processed_welcome()
            .unverified_group_info()
            .group_id()
            .clone();
        if self
            .rooms
            .values()
            .any(|r| r.status != RoomStatus::Removed && r.group.group_id() == &group_id)
        {
            return Ok(RoomEvent::Ignored {
                room: None,
                reason: "Welcome into a room we hold already",
            });
        }
        // A room we were removed from has the same group id: its old state
        // goes before the new group is stored under that id.
        let history = retire_removed(&mut self.rooms, &self.provider, group_id.as_slice())?;
        let group = builder
            .with_ratchet_tree(tree)
            .build()
            .map_err(|e| ClientError::Mls(format!("Welcome: {e}")))?
            .into_group(&self.provider)
            .map_err(|e| ClientError::Mls(format!("joining from Welcome: {e}")))?;
        let mut group = group;
        match self.check_welcomed(&group) {
            Ok((room, state)) => {
                let epoch = group.epoch().as_u64();
                let r = ClientRoom {
                    id: room.clone(),
                    group,
                    state,
                    status: RoomStatus::Active,
                    created_ms: timestamp,
                    pending: None,
                    history,
                };
                batch.rooms.push(Client::room_row(&r));
                self.rooms.insert(room.clone(), r);
                Ok(RoomEvent::Joined { room, epoch })
            }
            Err(e) => {
                group
                    .delete(self.provider.storage())
                    .map_err(|e| ClientError::Storage(format!("deleting group: {e:?}")))?;
                Err(e)
            }
        }
    }

    /// Checks a group joined from a Welcome: it is a mimi room whose group
    /// id is its room's, we do not hold it already, and it lists our user.
    fn check_welcomed(
        &self,
        group: &MlsGroup,
    ) -> Result<(RoomId, mimi_policy::RoomState), ClientError> {
        let components = components_of(group)?;
        let room = components
            .room_metadata
            .as_ref()
            .map(|m| m.room_uri.clone())
            .ok_or(ClientError::Malformed("room state has no room URI"))?;
        if group.group_id().as_slice() != room.group_uri().as_bytes() {
            return Err(ClientError::Malformed(
                "group id is not the room's group URI",
            ));
        }
        if self
            .rooms
            .get(&room)
            .is_some_and(|r| r.status == RoomStatus::Active)
        {
            return Err(ClientError::State("we are in this room already"));
        }
        let state = committed_state(group)?;
        // Whoever added us must have listed our user (protocol-06 §5.3).
        match state.role_of(&mimi_proto::components::ParticipantId::from(
            self.user().clone(),
        )) {
            Some(role) if role != BANNED_ROLE => Ok((room, state)),
            _ => Err(ClientError::Malformed(
                "Welcome into a room that does not list us",
            )),
        }
    }
}

/// Drops the group state of a room with this group id that we were removed
/// from, keeping its history for the room we are about to rejoin.
fn retire_removed(
    rooms: &mut BTreeMap<RoomId, ClientRoom>,
    provider: &OpenMlsRustCrypto,
    group_id: &[u8],
) -> Result<History, ClientError> {
    let Some(room) = rooms
        .values()
        .find(|r| r.status == RoomStatus::Removed && r.group.group_id().as_slice() == group_id)
        .map(|r| r.id.clone())
    else {
        return Ok(History::default());
    };
    let Some(mut old) = rooms.remove(&room) else {
        return Ok(History::default());
    };
    old.group
        .delete(provider.storage())
        .map_err(|e| ClientError::Storage(format!("deleting group: {e:?}")))?;
    Ok(old.history)
}
