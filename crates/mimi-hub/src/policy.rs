//! The bridge from OpenMLS's view of a proposal or commit to `mimi-policy`'s:
//! senders become [`Actor`]s and proposals [`Change`]s, and a group's members
//! and dictionary become a [`RoomState`].

use openmls::group::PublicGroup;
use openmls::messages::proposals::{AppDataUpdateOperation as MlsOp, Proposal};
use openmls::messages::proposals_in::ProposalIn;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{Credential, KeyPackageIn, LeafNodeIndex, Sender};

use mimi_policy::{Actor, Change, Claims, Member, RoomState};
use mimi_proto::ClientId;
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, ComponentId, ParticipantId, RoomComponents,
};

use crate::error::HubError;
use crate::room::client_of;

/// The user a client belongs to, as a participant id.
pub(crate) fn user_of(client: &ClientId) -> Result<ParticipantId, HubError> {
    client
        .user()
        .map(ParticipantId::from)
        .ok_or(HubError::NotAllowed("client id names no user".into()))
}

/// Claims of a leaf or KeyPackage credential: mimi clients use basic
/// credentials naming their client URI (decision ID-3).
pub(crate) fn claims_of(credential: &Credential) -> Result<(ClientId, Claims), HubError> {
    let client = client_of(credential).ok_or(HubError::NotAllowed(
        "credential is not a basic credential with a mimi client URI".into(),
    ))?;
    let user = user_of(&client)?;
    Ok((client, Claims::basic(user)))
}

/// The policy state of a group as committed: its dictionary and members.
pub(crate) fn committed_state(group: &PublicGroup) -> Result<RoomState, HubError> {
    let dictionary = group
        .group_context()
        .extensions()
        .app_data_dictionary()
        .ok_or(HubError::Malformed(
            "app_data_dictionary with the room state is missing",
        ))?;
    let components = RoomComponents::from_entries(
        dictionary
            .dictionary()
            .entries()
            .map(|c| (ComponentId(c.id()), c.data())),
    )
    .map_err(|_| HubError::Malformed("room-state components do not decode"))?;
    let members = members(group)?;
    RoomState::from_committed(components, members).map_err(HubError::denied)
}

/// Every member client with its claims.
pub(crate) fn members(group: &PublicGroup) -> Result<Vec<Member>, HubError> {
    group
        .members()
        .map(|m| {
            let (client, claims) = claims_of(&m.credential)?;
            Ok(Member { client, claims })
        })
        .collect()
}

/// The actor behind an MLS sender. `joiner` supplies the client and claims of a
/// new member (from its UpdatePath leaf or join proposal).
pub(crate) fn actor_of(
    group: &PublicGroup,
    sender: &Sender,
    joiner: Option<(ClientId, Claims, Option<Vec<u8>>)>,
) -> Result<Actor, HubError> {
    match sender {
        Sender::Member(leaf) => Ok(Actor::Client(client_at(group, *leaf)?)),
        Sender::External(index) => {
            // OpenMLS keeps the index accessor private; its encoding is a uint32.
            let index = index
                .tls_serialize_detached()
                .ok()
                .and_then(|b| <[u8; 4]>::try_from(b.as_slice()).ok())
                .map(u32::from_be_bytes)
                .ok_or(HubError::Internal("sender index does not encode"))?;
            let senders = group
                .group_context()
                .extensions()
                .external_senders()
                .ok_or(HubError::Malformed(
                    "external sender without external_senders",
                ))?;
            let sender = senders
                .get(index as usize)
                .ok_or(HubError::Malformed("external sender index out of range"))?;
            let identity = openmls::prelude::BasicCredential::try_from(external_credential(
                sender,
            )?)
            .map_err(|_| HubError::NotAllowed("external sender credential is not basic".into()))?;
            let user = ParticipantId::parse_canonical(identity.identity()).map_err(|_| {
                HubError::NotAllowed("external sender credential names no user URI".into())
            })?;
            Ok(Actor::Server {
                sender_index: index,
                claims: Claims::basic(user),
            })
        }
        Sender::NewMemberCommit | Sender::NewMemberProposal => {
            let (client, claims, join_code) =
                joiner.ok_or(HubError::Malformed("new member without a credential"))?;
            Ok(Actor::Joiner {
                client,
                claims,
                join_code,
            })
        }
    }
}

/// The member client at a leaf.
pub(crate) fn client_at(group: &PublicGroup, leaf: LeafNodeIndex) -> Result<ClientId, HubError> {
    let node = group
        .leaf(leaf)
        .ok_or(HubError::Malformed("no member at that leaf"))?;
    claims_of(node.credential()).map(|(c, _)| c)
}

/// A verified proposal as a policy change. `sender_client` is the proposer's
/// own client, which a SelfRemove removes.
pub(crate) fn change_of(
    group: &PublicGroup,
    proposal: &Proposal,
    sender_client: Option<&ClientId>,
) -> Result<Change, HubError> {
    Ok(match proposal {
        Proposal::Add(add) => {
            let (client, claims) = claims_of(add.key_package().leaf_node().credential())?;
            Change::add(client, claims)
        }
        Proposal::Remove(remove) => Change::remove(client_at(group, remove.removed())?),
        Proposal::SelfRemove => Change::remove(
            sender_client
                .ok_or(HubError::Malformed("SelfRemove from a non-member"))?
                .clone(),
        ),
        Proposal::AppDataUpdate(update) => {
            Change::AppData(app_data(update.component_id(), update.operation()))
        }
        Proposal::ReInit(_) => Change::ReInit,
        other => Change::Other {
            proposal_type: u16::from(other.proposal_type()),
        },
    })
}

/// An inline proposal read from a verified commit's bytes as a policy change.
pub(crate) fn change_of_in(
    group: &PublicGroup,
    proposal: &ProposalIn,
    sender_client: Option<&ClientId>,
) -> Result<Change, HubError> {
    Ok(match proposal {
        ProposalIn::Add(add) => {
            // The KeyPackage was validated by OpenMLS with the commit; its
            // encoding is the AddProposal's.
            let bytes = add
                .tls_serialize_detached()
                .map_err(|_| HubError::Internal("Add does not serialize"))?;
            let key_package = KeyPackageIn::tls_deserialize_exact(bytes)
                .map_err(|_| HubError::Internal("Add does not hold a KeyPackage"))?;
            let (client, claims) = claims_of(&key_package.unverified_credential().credential)?;
            Change::add(client, claims)
        }
        ProposalIn::Remove(remove) => Change::remove(client_at(group, remove.removed())?),
        ProposalIn::SelfRemove => Change::remove(
            sender_client
                .ok_or(HubError::Malformed("SelfRemove from a non-member"))?
                .clone(),
        ),
        ProposalIn::AppDataUpdate(update) => {
            Change::AppData(app_data(update.component_id(), update.operation()))
        }
        ProposalIn::ReInit(_) => Change::ReInit,
        other => Change::Other {
            proposal_type: u16::from(other.proposal_type()),
        },
    })
}

fn app_data(component_id: u16, op: &MlsOp) -> AppDataUpdate {
    AppDataUpdate {
        component_id: ComponentId(component_id),
        op: match op {
            MlsOp::Update(bytes) => AppDataUpdateOperation::Update(bytes.as_slice().to_vec()),
            MlsOp::Remove => AppDataUpdateOperation::Remove,
        },
    }
}

/// The credential of an `external_senders` entry. OpenMLS 0.9 keeps the
/// accessor private, so read it back from the entry's encoding
/// (`SignaturePublicKey signature_key; Credential credential;`).
fn external_credential(sender: &openmls::prelude::ExternalSender) -> Result<Credential, HubError> {
    use tls_codec::{DeserializeBytes as _, VLBytes};
    let bytes = sender
        .tls_serialize_detached()
        .map_err(|_| HubError::Internal("external sender does not encode"))?;
    let (_key, rest) = VLBytes::tls_deserialize_bytes(&bytes)
        .map_err(|_| HubError::Internal("external sender does not decode"))?;
    Credential::tls_deserialize_exact_bytes(rest)
        .map_err(|_| HubError::Internal("external sender credential does not decode"))
}
