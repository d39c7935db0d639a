//! The synchronous hub steps a room's sequencer runs on the blocking pool:
//! turning decoded requests into `mimi-hub` calls and the hub's answers into
//! protocol responses plus what must be stored.
//!
//! Everything here is CPU work on one room's in-memory state; the caller owns
//! the room lock and writes the result in one transaction.

use mimi_hub::{CommitBundle, Delivery, Hub, HubError, ProposalBundle, Room, UpdateCode};
use mimi_policy::Claims;
use mimi_proto::messages::{
    GroupInfoOption, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoResponse,
    GroupInfoResponseTbs, HandshakeBundle, KeyMaterialRequest, PendingProposal, ProposalMessage,
    RatchetTreeOption, SubmitMessageRequest, SubmitMessageResponse, UpdateOutcome, UpdateRequest,
    UpdateRoomResponse,
};
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{ProviderId, Utf8String};
use mimi_store::{QueuedProposal, StateChange, Timestamp};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, ProtocolVersion, RatchetTreeIn,
};

use crate::setup::http_error::ApiError;

/// MLS `WireFormat` of a GroupInfo inside an `MLSMessage` (RFC 9420 §6).
const WIRE_FORMAT_GROUP_INFO: u16 = 4;
/// `ProtocolVersion mls10`.
const MLS10: u16 = 1;

/// What a step needs besides the room.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepContext<'a> {
    pub(crate) hub: &'a Hub,
    pub(crate) now: u64,
}

/// An accepted handshake: the hub's deliveries and the state to store.
#[derive(Debug)]
pub(crate) struct AcceptedHandshake {
    pub(crate) commit: bool,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) change: StateChange,
    pub(crate) new_proposals: Vec<QueuedProposal>,
    /// KeyPackageRefs of the commit's Welcome (their routes are now used up).
    pub(crate) welcome_refs: Vec<Vec<u8>>,
}

/// Accepts an application message (protocol-06 §5.4): the hub checks the
/// header, epoch and sender policy, and franks it when asked.
///
/// `peer` is the provider that submitted it: it may only assert its own users
/// as `sendingUri`. The hub checks that too; asserting another provider's user
/// is an identity mismatch, answered 403 rather than a protocol refusal.
pub(crate) fn submit(
    room: &mut Room,
    ctx: StepContext<'_>,
    request: &SubmitMessageRequest,
    peer: &ProviderId,
) -> Result<(SubmitMessageResponse, Option<Vec<Delivery>>), ApiError> {
    if request.sending_uri.domain() != peer.domain() {
        return Err(ApiError::Forbidden(
            "sendingUri must name a user of the submitting provider",
        ));
    }
    let message = reparse(&request.app_message)?;
    match room.accept_message(ctx.hub, peer, message, &request.sending_uri, ctx.now) {
        Ok(accepted) => Ok((
            SubmitMessageResponse::Accepted {
                accepted_timestamp: accepted.accepted.timestamp,
                frank: accepted.frank,
            },
            Some(accepted.accepted.deliveries),
        )),
        Err(HubError::EpochTooOld { current } | HubError::WrongEpoch { current }) => Ok((
            SubmitMessageResponse::EpochTooOld {
                current_epoch: current,
            },
            None,
        )),
        Err(HubError::Internal(what)) => {
            tracing::error!(what, "hub message step failed");
            Err(ApiError::Internal("hub step failed"))
        }
        Err(e) => {
            tracing::debug!(error = %e, "message refused");
            Ok((SubmitMessageResponse::NotAllowed, None))
        }
    }
}

/// Accepts a commit or proposal bundle (protocol-06 §5.3).
///
/// `routes` are the KeyPackageRef → provider entries the store holds for the
/// Welcome's new members; they are handed to the hub before the commit so the
/// Welcome reaches the providers that answered the keyMaterial requests.
pub(crate) fn update(
    room: &mut Room,
    ctx: StepContext<'_>,
    request: UpdateRequest,
    routes: &[(Vec<u8>, ProviderId)],
    peer: &ProviderId,
) -> Result<(UpdateRoomResponse, Option<AcceptedHandshake>), ApiError> {
    let queued_before = room.queued().len();
    let (result, commit, welcome_refs) = match request.bundle {
        HandshakeBundle::Commit {
            commit,
            welcome,
            group_info_option,
            ratchet_tree_option: _,
        } => {
            let GroupInfoOption::Full(group_info) = group_info_option else {
                return Ok((
                    refusal(
                        UpdateOutcome::NotAllowed,
                        "this hub needs a full GroupInfo with every commit",
                    ),
                    None,
                ));
            };
            let welcome_refs: Vec<Vec<u8>> = match &welcome {
                Some(w) => w
                    .secrets()
                    .iter()
                    .filter_map(|s| s.new_member().tls_serialize_detached().ok())
                    .collect(),
                None => Vec::new(),
            };
            for (reference, provider) in routes {
                room.record_key_packages(provider, [reference.clone()]);
            }
            let bundle = CommitBundle {
                commit: reparse(&commit)?,
                welcome: welcome.map(|w| {
                    MlsMessageIn::from(MlsMessageOut::from_welcome(*w, ProtocolVersion::Mls10))
                }),
                group_info: group_info_message(&group_info)?,
            };
            (
                room.accept_commit(ctx.hub, bundle, ctx.now),
                true,
                welcome_refs,
            )
        }
        HandshakeBundle::Proposal {
            proposal,
            more_proposals,
        } => {
            let bundle = ProposalBundle {
                proposal: reparse(&proposal)?,
                more: more_proposals
                    .iter()
                    .map(reparse)
                    .collect::<Result<_, _>>()?,
            };
            (
                room.accept_proposals(ctx.hub, bundle, ctx.now),
                false,
                Vec::new(),
            )
        }
    };
    let accepted = match result {
        Ok(accepted) => accepted,
        Err(e) => return hub_refusal(e).map(|r| (r, None)),
    };
    let snapshot = room
        .snapshot()
        .map_err(|_| ApiError::Internal("room snapshot failed"))?;
    let room_state = room_state(room);
    let queued = if commit {
        room.queued()
    } else {
        room.queued().get(queued_before..).unwrap_or_default()
    };
    let new_proposals = queued
        .iter()
        .map(|q| QueuedProposal {
            proposal_ref: q.reference.clone(),
            message: q.message.clone(),
            accepted_at: Timestamp(q.accepted_at),
            // Hub-issued proposals name the hub; others the provider that
            // relayed them (the store wants a URI, the client is inside MLS).
            sender: if q.hub_removes.is_some() {
                ctx.hub.keys().provider().as_uri().clone()
            } else {
                peer.as_uri().clone()
            },
        })
        .collect();
    let change = if commit {
        StateChange::NewEpoch {
            epoch: accepted.epoch,
            mls_state: snapshot,
            group_info: room.group_info().to_vec(),
            room_state,
        }
    } else {
        StateChange::Update {
            mls_state: snapshot,
            room_state,
        }
    };
    let response = UpdateRoomResponse {
        error_description: Utf8String::default(),
        outcome: UpdateOutcome::Success {
            accepted_timestamp: accepted.timestamp,
        },
    };
    Ok((
        response,
        Some(AcceptedHandshake {
            commit,
            deliveries: accepted.deliveries,
            change,
            new_proposals,
            welcome_refs,
        }),
    ))
}

/// Serves a GroupInfo request for an external join (protocol-06 §5.6): the
/// GroupInfo, tree and pending proposals, encrypted to the joiner and signed
/// with the hub's external-sender key.
///
/// Authorization: the requesting client must belong to the calling provider
/// (it vouches for its client), and the room policy must allow the join (a
/// listed user's new device, preauthorization, open join or a join code).
pub(crate) fn group_info(
    room: &mut Room,
    ctx: StepContext<'_>,
    request: &GroupInfoRequest,
    peer: &ProviderId,
) -> Result<GroupInfoResponse, ApiError> {
    let room_id = room.id().clone();
    let not_authorized = || GroupInfoResponse::NotAuthorized {
        room_id: room_id.clone(),
    };
    if request.verify(ctx.hub.crypto()).is_err() {
        return Ok(not_authorized());
    }
    let Some(client) = mimi_hub::client_of(&request.tbs.requesting_credential) else {
        return Ok(not_authorized());
    };
    if client.as_uri().provider() != *peer {
        return Err(ApiError::Forbidden(
            "the requesting client must belong to the calling provider",
        ));
    }
    let Some(user) = client.user() else {
        return Ok(not_authorized());
    };
    let claims = Claims::basic(user.into());
    let join_code = Some(request.tbs.joining_code.as_slice()).filter(|c| !c.is_empty());
    let material = match room.join_material(
        ctx.hub.crypto(),
        &client,
        &claims,
        request.tbs.requesting_signature_key.as_slice(),
        join_code,
    ) {
        Ok(m) => m,
        Err(HubError::NotAllowed(_) | HubError::Denied { .. }) => return Ok(not_authorized()),
        // The committer sent a GroupInfo that does not verify: joins wait
        // for the next commit (decisions HUB-2).
        Err(HubError::GroupInfoUnverified) => {
            return Err(ApiError::Overloaded(std::time::Duration::from_secs(30)));
        }
        Err(_) => return Err(ApiError::Internal("join material")),
    };
    let MlsMessageBodyIn::GroupInfo(group_info) =
        MlsMessageIn::tls_deserialize_exact(&material.group_info)
            .map_err(|_| ApiError::Internal("stored GroupInfo does not decode"))?
            .extract()
    else {
        return Err(ApiError::Internal("stored GroupInfo is not a GroupInfo"));
    };
    let tree = RatchetTreeIn::tls_deserialize_exact(&material.ratchet_tree)
        .map_err(|_| ApiError::Internal("ratchet tree does not decode"))?;
    let pending_proposals = material
        .pending_proposals
        .iter()
        .map(|(message, at)| {
            let proposal = MlsMessageIn::tls_deserialize_exact(message)
                .map_err(|_| ApiError::Internal("queued proposal does not decode"))
                .and_then(|m| {
                    ProposalMessage::try_from(m)
                        .map_err(|_| ApiError::Internal("queued proposal is not a proposal"))
                })?;
            Ok(PendingProposal {
                proposal,
                hub_accepted_time: *at,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let tbe = GroupInfoRatchetTreeTbe {
        group_info: Box::new(group_info),
        ratchet_tree_option: RatchetTreeOption::Full(tree),
        pending_proposals,
    };
    let Ok(ciphertext) = tbe.encrypt(
        ctx.hub.crypto(),
        request.tbs.cipher_suite,
        request.tbs.group_info_public_key.as_slice(),
        &room_id,
    ) else {
        // A malformed HPKE key is the requester's fault.
        return Ok(not_authorized());
    };
    GroupInfoResponseTbs {
        room_id,
        cipher_suite: CIPHERSUITE,
        hub_sender: ctx.hub.keys().external_sender(),
        encrypted_groupinfo_and_tree: ciphertext,
    }
    .sign(ctx.hub.keys().signer())
    .map_err(|_| ApiError::Internal("signing the GroupInfo response failed"))
}

/// Whether a keyMaterial request's requester may add its target to `room`
/// (protocol-06 §5.2 names the room; decisions KP-1). The request's signature
/// was verified by the caller; the hub checks that the signing key is the
/// requesting client's leaf and asks the policy engine.
pub(crate) fn authorize_claim(
    room: &Room,
    ctx: StepContext<'_>,
    request: &KeyMaterialRequest,
) -> Result<(), ApiError> {
    let tbs = &request.tbs;
    let Some(client) = mimi_hub::client_of(&tbs.requester_credential) else {
        return Err(ApiError::NotAllowed(
            "the requester's credential names no mimi client".into(),
        ));
    };
    if client.user().as_ref() != Some(&tbs.requesting_user) {
        return Err(ApiError::NotAllowed(format!(
            "the requesting client {client} is not a client of {}",
            tbs.requesting_user
        )));
    }
    room.authorize_key_material(
        ctx.hub,
        &client,
        tbs.requester_signature_key.as_slice(),
        &tbs.target_user,
        ctx.now,
    )
    .map_err(|e| match e {
        HubError::Denied { denial, .. } => ApiError::NotAllowed(denial.to_string()),
        HubError::NotAllowed(why) => ApiError::NotAllowed(why),
        _ => ApiError::Internal("keyMaterial authorization"),
    })
}

/// The room-state bytes the store keeps beside the MLS state: the
/// `app_data_dictionary` extension as it is in the GroupContext.
pub(crate) fn room_state(room: &Room) -> Vec<u8> {
    room.public_group()
        .group_context()
        .extensions()
        .app_data_dictionary()
        .and_then(|d| d.tls_serialize_detached().ok())
        .unwrap_or_default()
}

/// Maps a hub refusal to its `UpdateRoomResponse` (protocol outcome, 200), or
/// to a 500 when it is our own failure.
fn hub_refusal(e: HubError) -> Result<UpdateRoomResponse, ApiError> {
    let outcome = match (&e, e.update_code()) {
        (HubError::WrongEpoch { current } | HubError::EpochTooOld { current }, _) => {
            UpdateOutcome::WrongEpoch {
                current_epoch: *current,
            }
        }
        (HubError::InvalidMls { refs, .. }, _) => UpdateOutcome::InvalidProposal {
            invalid_proposals: refs.clone(),
        },
        (_, UpdateCode::InvalidProposal) => UpdateOutcome::InvalidProposal {
            invalid_proposals: Vec::new(),
        },
        (_, UpdateCode::WrongEpoch | UpdateCode::NotAllowed) => UpdateOutcome::NotAllowed,
        (_, UpdateCode::Internal) => {
            tracing::error!(error = %e, "hub step failed");
            return Err(ApiError::Internal("hub step failed"));
        }
    };
    Ok(refusal(outcome, &e.to_string()))
}

fn refusal(outcome: UpdateOutcome, description: &str) -> UpdateRoomResponse {
    UpdateRoomResponse {
        // Hub error texts never contain NUL; fall back to empty if one did.
        error_description: Utf8String::new(description).unwrap_or_default(),
        outcome,
    }
}

/// A decoded MIMI-typed MLS message as OpenMLS's input type.
fn reparse(message: &impl tls_codec::Serialize) -> Result<MlsMessageIn, ApiError> {
    let bytes = message
        .tls_serialize_detached()
        .map_err(|_| ApiError::Internal("MLS message does not serialize"))?;
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|_| ApiError::Internal("MLS message does not reparse"))
}

/// A GroupInfo wrapped in an `MLSMessage`, as the hub takes it.
fn group_info_message(
    group_info: &openmls::prelude::group_info::VerifiableGroupInfo,
) -> Result<MlsMessageIn, ApiError> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&MLS10.to_be_bytes());
    bytes.extend_from_slice(&WIRE_FORMAT_GROUP_INFO.to_be_bytes());
    group_info
        .tls_serialize(&mut bytes)
        .map_err(|_| ApiError::Internal("GroupInfo does not serialize"))?;
    MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|_| ApiError::Internal("GroupInfo does not reparse"))
}
