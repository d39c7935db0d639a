//! Room operations end to end: build with the client library, send to the
//! room's hub through our provider, apply the answer. Commits are resent on
//! `wrongEpoch` after syncing to the hub's epoch (protocol-06 §5.3).

use std::time::{Duration, Instant};

use mimi_client::{Client, ClientError, OutgoingCommit, RoomEvent, RoomStatus};
use mimi_client_api::{CreateRoomRequest, HubInfo, routes};
use mimi_policy::Preset;
use mimi_proto::messages::{
    ClientStatus, GroupInfoResponse, KeyMaterialRequestTbs, KeyMaterialResponse,
    KeyMaterialUserCode, UpdateOutcome, UpdateRoomResponse,
};
use mimi_proto::mls_profile::{CIPHERSUITE, required_capabilities};
use mimi_proto::{RoomId, UserId, WireMessage as _};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    ExternalSender, KeyPackage, MlsMessageBodyIn, MlsMessageIn, ProtocolVersion,
};
use openmls_traits::OpenMlsProvider as _;
use reqwest::Method;
use serde::Serialize;

use crate::error::SessionError;
use crate::session::{Session, json};
use crate::transport::Body;

/// Commit attempts before giving up on `wrongEpoch`.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long to wait for the commit that beat ours to reach us.
const CATCH_UP: Duration = Duration::from_secs(10);

/// How one of our commits ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Committed {
    /// The room.
    pub room: String,
    /// The epoch our commit created.
    pub epoch: u64,
    /// Attempts made (more than one after `wrongEpoch`).
    pub attempts: u32,
}

impl Session {
    /// Creates `room` on our own provider, which becomes its hub, from
    /// `preset`, with our user as creator.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] if the room's domain is not our provider's;
    /// the hub's refusal; the transport's errors.
    pub fn create_room(&mut self, room: &RoomId, preset: Preset) -> Result<(), SessionError> {
        if room.hub_domain() != self.domain() {
            return Err(SessionError::BadInput(format!(
                "{room} would be hosted on {}, but rooms are created on our own provider {}",
                room.hub_domain(),
                self.domain()
            )));
        }
        let hub: HubInfo = self.call_json(Method::GET, routes::HUB, Body::Empty, None)?;
        let sender =
            ExternalSender::tls_deserialize_exact(&hub.external_sender.0).map_err(|e| {
                SessionError::State(format!("the hub's external sender does not decode: {e}"))
            })?;
        let created = self.client.create_room(room, preset, sender)?;
        let group_info = match reread(&created.group_info)?.extract() {
            MlsMessageBodyIn::GroupInfo(info) => info
                .tls_serialize_detached()
                .map_err(|e| SessionError::State(format!("encoding GroupInfo: {e}")))?,
            _ => {
                return Err(SessionError::State(
                    "created GroupInfo is not a GroupInfo".into(),
                ));
            }
        };
        let request = CreateRoomRequest {
            room: room.as_str().to_owned(),
            group_info: group_info.into(),
            ratchet_tree: created
                .ratchet_tree
                .tls_serialize_detached()
                .map_err(|e| SessionError::State(format!("encoding the ratchet tree: {e}")))?
                .into(),
            preset: Some(preset.name().to_owned()),
        };
        let sent = self.call(
            Method::POST,
            routes::ROOMS,
            Body::Json(json(&request)?),
            None,
        );
        if let Err(e) = sent {
            // The hub did not take the room: do not keep a room nobody hosts.
            self.client.forget_room(room)?;
            return Err(e);
        }
        Ok(())
    }

    /// Claims one KeyPackage of each of `user`'s clients for `room`, through
    /// our provider and the room's hub.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] for an unknown user;
    /// [`SessionError::Refused`] when the user has no usable KeyPackage or
    /// refuses (the MIMI user code); the transport's errors.
    pub fn claim_key_packages(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Vec<KeyPackage>, SessionError> {
        let identity = self.client.identity();
        let cwk = identity.credential_with_key();
        let request = KeyMaterialRequestTbs {
            requesting_user: identity.user().clone(),
            target_user: user.clone(),
            room_id: Some(room.clone()),
            acceptable_ciphersuites: vec![CIPHERSUITE.into()],
            required_capabilities: required_capabilities(),
            requester_signature_key: cwk.signature_key,
            requester_credential: cwk.credential,
        }
        .sign(identity.signer())
        .map_err(|e| SessionError::State(format!("signing the key material request: {e}")))?;
        let body = request.encode().map_err(encode)?;
        let answer = self.call(
            Method::POST,
            &routes::mimi("keyMaterial", user.as_str()),
            Body::Mimi(body),
            None,
        )?;
        let response = KeyMaterialResponse::decode(&answer)?;
        // `noCompatibleMaterial`, or `partialSuccess` with no KeyPackage as
        // another reading sends it (decisions W-24).
        if response.is_out_of_key_material() {
            return Err(SessionError::refused(
                "NoCompatibleMaterial",
                format!("{user} has no KeyPackage left"),
            ));
        }
        match response.user_status {
            KeyMaterialUserCode::Success | KeyMaterialUserCode::PartialSuccess => {}
            KeyMaterialUserCode::UserUnknown => {
                return Err(SessionError::BadInput(format!("unknown user {user}")));
            }
            other => {
                return Err(SessionError::refused(
                    format!("{other:?}"),
                    format!("no key material for {user}"),
                ));
            }
        }
        let crypto = self.client.provider().crypto();
        let key_packages: Vec<KeyPackage> = response
            .clients
            .into_iter()
            .filter_map(|c| match c.status {
                ClientStatus::Success(kp) => kp.validate(crypto, ProtocolVersion::Mls10).ok(),
                _ => None,
            })
            .collect();
        if key_packages.is_empty() {
            return Err(SessionError::refused(
                "keyMaterialExhausted",
                format!("{user} has no valid KeyPackage left"),
            ));
        }
        Ok(key_packages)
    }

    /// Adds `user` with all their clients (KeyPackages claimed through the
    /// hub), as `role` or the room's member role.
    ///
    /// Room policy is checked before any KeyPackage is claimed (decisions
    /// KP-1).
    ///
    /// # Errors
    /// [`SessionError::Refused`] with code `policy` when this client's room
    /// policy refuses (nothing was claimed); as
    /// [`Session::claim_key_packages`] and [`Session::commit`].
    pub fn add_user(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: Option<u32>,
    ) -> Result<Committed, SessionError> {
        self.add_user_reporting(room, user, role, || {})
    }

    /// As [`Session::add_user`], calling `claiming` once the policy check
    /// passed, just before the KeyPackages are claimed (for progress output).
    ///
    /// # Errors
    /// As [`Session::add_user`].
    pub fn add_user_reporting(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: Option<u32>,
        claiming: impl FnOnce(),
    ) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.client
            .check_add_user(room, user, role)
            .map_err(|e| match e {
                mimi_client::ClientError::Denied(rejection) => SessionError::refused(
                    "policy",
                    format!("this client refused, from the room policy: {rejection}"),
                ),
                other => other.into(),
            })?;
        claiming();
        let key_packages = self.claim_key_packages(room, user)?;
        self.commit(room, |c| c.add_user(room, user, role, key_packages.clone()))
    }

    /// Removes `user` (participant-list entry and every client).
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn remove_user(&mut self, room: &RoomId, user: &UserId) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.listed(room, user)?;
        self.commit(room, |c| c.remove_user(room, user))
    }

    /// Kicks `user`: every client removed, the listing kept.
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn kick(&mut self, room: &RoomId, user: &UserId) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.listed(room, user)?;
        let has_clients = self
            .client
            .room(room)?
            .members()
            .iter()
            .any(|c| c.user().as_ref() == Some(user));
        if !has_clients {
            return Err(SessionError::BadInput(format!(
                "{user} has no clients in {room} to remove"
            )));
        }
        self.commit(room, |c| c.kick(room, user))
    }

    /// Updates our own leaf keys in `room`: a commit with a fresh path (a
    /// self-update, RFC 9420 §12.4.2), which every member merges.
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn self_update(&mut self, room: &RoomId) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.commit(room, |c| c.self_update(room))
    }

    /// Bans `user` (role "banned", every client removed).
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn ban(&mut self, room: &RoomId, user: &UserId) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.commit(room, |c| c.ban(room, user))
    }

    /// Lifts `user`'s ban, moving them to `role` or the member role.
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn unban(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: Option<u32>,
    ) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.listed(room, user)?;
        self.commit(room, |c| c.unban(room, user, role))
    }

    /// Changes `user`'s role.
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn change_role(
        &mut self,
        room: &RoomId,
        user: &UserId,
        role: u32,
    ) -> Result<Committed, SessionError> {
        self.ready(room)?;
        self.listed(room, user)?;
        self.commit(room, |c| c.change_role(room, user, role))
    }

    /// Commits the proposals the hub queued (a member's leave), if any.
    ///
    /// # Errors
    /// As [`Session::commit`].
    pub fn commit_pending(&mut self, room: &RoomId) -> Result<Option<Committed>, SessionError> {
        self.ready(room)?;
        let queued = self
            .client
            .room(room)?
            .group()
            .pending_proposals()
            .next()
            .is_some();
        if !queued {
            return Ok(None);
        }
        self.commit(room, |c| c.commit_pending(room)).map(Some)
    }

    /// A role by name (`member`, `admin`, …) or number.
    ///
    /// # Errors
    /// [`SessionError::BadInput`] if the room has no such role.
    pub fn role_index(&self, room: &RoomId, role: &str) -> Result<u32, SessionError> {
        let r = self.client.room(room)?;
        if let Ok(n) = role.parse::<u32>() {
            if r.state().roles().role(n).is_some() {
                return Ok(n);
            }
        } else if let Some(n) = r.role_by_name(role) {
            return Ok(n);
        }
        Err(SessionError::BadInput(format!(
            "{room} has no role {role:?}"
        )))
    }

    /// Proposes our departure; the next committer (any member who may) turns
    /// it into the commit that removes us.
    ///
    /// # Errors
    /// [`SessionError::Refused`] if policy or the hub refuses; the transport's
    /// errors.
    pub fn leave(&mut self, room: &RoomId) -> Result<(), SessionError> {
        self.ready(room)?;
        let out = self.client.leave(room)?;
        let body = out.update_request()?.encode().map_err(encode)?;
        let answer = self.call(
            Method::POST,
            &routes::mimi("update", room.as_str()),
            Body::Mimi(body),
            None,
        );
        let outcome = match answer.and_then(|a| Ok(UpdateRoomResponse::decode(&a)?)) {
            Ok(r) => r.outcome,
            Err(e) => {
                self.client.proposals_refused(room, &out.refs)?;
                return Err(e);
            }
        };
        if let UpdateOutcome::Success { .. } = outcome {
            return Ok(());
        }
        self.client.proposals_refused(room, &out.refs)?;
        Err(refusal(&outcome))
    }

    /// Joins `room` with this (new) client of a listed user, by external
    /// commit from the GroupInfo the hub serves.
    ///
    /// # Errors
    /// [`SessionError::Refused`] (`notAuthorized`) if the hub will not serve
    /// the GroupInfo (e.g. the user is banned); otherwise as
    /// [`Session::commit`].
    pub fn join(&mut self, room: &RoomId) -> Result<Committed, SessionError> {
        if self
            .client
            .room(room)
            .is_ok_and(|r| r.status() != RoomStatus::Removed)
        {
            return Err(SessionError::BadInput(format!(
                "{} is in {room} already",
                self.client_id()
            )));
        }
        for attempt in 1..=MAX_ATTEMPTS {
            let ask = self.client.request_group_info(room, None)?;
            let body = ask.request.encode().map_err(encode)?;
            let answer = self.call(
                Method::POST,
                &routes::mimi("groupInfo", room.as_str()),
                Body::Mimi(body),
                None,
            )?;
            let response = GroupInfoResponse::decode(&answer)?;
            match &response {
                GroupInfoResponse::NotAuthorized { .. } => {
                    return Err(SessionError::refused(
                        "notAuthorized",
                        format!(
                            "the hub of {room} refuses {} the room's GroupInfo",
                            self.client_id()
                        ),
                    ));
                }
                GroupInfoResponse::NoSuchRoom { .. } => {
                    return Err(SessionError::BadInput(format!("no such room {room}")));
                }
                GroupInfoResponse::Success { .. } => {}
            }
            let out = self.client.join_from_group_info(&ask, &response)?;
            match self.submit_commit(room, &out)? {
                UpdateOutcome::Success { .. } => {
                    self.client.commit_accepted(room)?;
                    return self.committed(room, attempt);
                }
                UpdateOutcome::WrongEpoch { .. } => {
                    self.client.commit_rejected(room)?;
                }
                other => {
                    self.client.commit_rejected(room)?;
                    return Err(refusal(&other));
                }
            }
        }
        Err(exhausted())
    }

    /// Builds a commit with `build`, sends it to the hub and merges it on
    /// `success`. On `wrongEpoch` it discards the commit, syncs until the
    /// commit that won has arrived, and builds again (up to
    /// [`MAX_ATTEMPTS`]). When the change no longer applies to the room as
    /// the winner left it (two admins kicked the same user at once), the
    /// lost race is the answer: a `wrongEpoch` refusal saying another commit
    /// won, with the room synced to the winner's epoch (decision SES-10).
    ///
    /// # Errors
    /// [`SessionError::Refused`] for a local policy refusal or the hub's
    /// `notAllowed` / `invalidProposal`, and `wrongEpoch` when another
    /// commit won and ours no longer applies, or every attempt lost; the
    /// transport's errors (the commit then stays pending: the hub may have
    /// taken it, and its fan-out will tell).
    pub fn commit(
        &mut self,
        room: &RoomId,
        mut build: impl FnMut(&mut Client) -> Result<OutgoingCommit, ClientError>,
    ) -> Result<Committed, SessionError> {
        let mut lost_to = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let out = match (build(&mut self.client), lost_to) {
                (Ok(out), _) => out,
                (Err(e @ (ClientError::State(_) | ClientError::Denied(_))), Some(epoch)) => {
                    return Err(self.lost_race(room, epoch, &e));
                }
                (Err(e), _) => return Err(e.into()),
            };
            match self.submit_commit(room, &out)? {
                UpdateOutcome::Success { .. } => {
                    self.client.commit_accepted(room)?;
                    return self.committed(room, attempt);
                }
                UpdateOutcome::WrongEpoch { current_epoch } => {
                    self.client.commit_rejected(room)?;
                    self.catch_up(room, current_epoch)?;
                    lost_to = Some(current_epoch);
                }
                other => {
                    self.client.commit_rejected(room)?;
                    return Err(refusal(&other));
                }
            }
        }
        Err(exhausted())
    }

    fn submit_commit(
        &mut self,
        room: &RoomId,
        out: &OutgoingCommit,
    ) -> Result<UpdateOutcome, SessionError> {
        let body = out.update_request()?.encode().map_err(encode)?;
        let answer = self.call(
            Method::POST,
            &routes::mimi("update", room.as_str()),
            Body::Mimi(body),
            None,
        )?;
        Ok(UpdateRoomResponse::decode(&answer)?.outcome)
    }

    /// Syncs until our copy of `room` reaches the hub's `epoch`.
    fn catch_up(&mut self, room: &RoomId, epoch: u64) -> Result<(), SessionError> {
        let deadline = Instant::now() + CATCH_UP;
        self.sync(None)?;
        while self.client.room(room)?.epoch() < epoch && Instant::now() < deadline {
            self.sync(Some(Duration::from_secs(1)))?;
        }
        Ok(())
    }

    /// The refusal for a change that another commit, accepted first at
    /// `epoch`, made moot (the user is gone already) or forbidden.
    fn lost_race(&self, room: &RoomId, epoch: u64, why: &ClientError) -> SessionError {
        let now = self.client.room(room).map_or(epoch, |r| r.epoch());
        SessionError::refused(
            "wrongEpoch",
            format!(
                "another commit won: the hub took one for {room} first (epoch {epoch}); \
                 synced to epoch {now}, where this change no longer applies ({why})"
            ),
        )
    }

    fn committed(&self, room: &RoomId, attempts: u32) -> Result<Committed, SessionError> {
        Ok(Committed {
            room: room.as_str().to_owned(),
            epoch: self.client.room(room)?.epoch(),
            attempts,
        })
    }

    /// Before an operation on `room`: take in what the hub sent (queued
    /// proposals must go into our commit), and drop a commit of ours left
    /// pending by a failed send that the hub's fan-out never confirmed.
    pub(crate) fn ready(&mut self, room: &RoomId) -> Result<(), SessionError> {
        self.client.room(room)?;
        self.sync(None)?;
        if self.client.room(room)?.has_pending_commit() {
            self.client.commit_rejected(room)?;
        }
        Ok(())
    }

    /// Asks our provider to stop delivering rooms we were removed from.
    pub(crate) fn forget_removed(&mut self, events: &[RoomEvent]) -> Result<(), SessionError> {
        for event in events {
            if let RoomEvent::Removed { room, .. } = event {
                // Best effort: the hub refuses a removed client anyway.
                let _ = self.call(Method::DELETE, &routes::membership(room), Body::Empty, None);
            }
        }
        Ok(())
    }

    fn listed(&self, room: &RoomId, user: &UserId) -> Result<(), SessionError> {
        let listed = self
            .client
            .room(room)?
            .participants()
            .iter()
            .any(|(p, _)| p.as_str() == user.as_str());
        if listed {
            Ok(())
        } else {
            Err(SessionError::BadInput(format!(
                "{user} is not a participant of {room}"
            )))
        }
    }
}

/// The refusal for a hub's non-success answer.
fn refusal(outcome: &UpdateOutcome) -> SessionError {
    let code = match outcome {
        UpdateOutcome::Success { .. } => "success",
        UpdateOutcome::WrongEpoch { .. } => "wrongEpoch",
        UpdateOutcome::NotAllowed => "notAllowed",
        UpdateOutcome::InvalidProposal { .. } => "invalidProposal",
    };
    SessionError::refused(code, "the room's hub refused the change")
}

fn exhausted() -> SessionError {
    SessionError::refused(
        "wrongEpoch",
        format!("other commits won the epoch {MAX_ATTEMPTS} times in a row"),
    )
}

pub(crate) fn encode(e: mimi_proto::EncodeError) -> SessionError {
    SessionError::State(format!("encoding a request: {e}"))
}

fn reread(message: &openmls::prelude::MlsMessageOut) -> Result<MlsMessageIn, SessionError> {
    let bytes = message
        .tls_serialize_detached()
        .map_err(|e| SessionError::State(format!("encoding: {e}")))?;
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|e| SessionError::State(format!("re-reading our own message: {e}")))
}
