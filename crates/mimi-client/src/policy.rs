//! Room policy on the client: OpenMLS objects turned into `mimi-policy`
//! inputs, and the engine's component updates turned back into OpenMLS
//! `AppDataUpdates`.
//!
//! Receivers repeat every check the hub made (a malicious hub is in the threat
//! model, policy-content A.9) and must compute byte-identical component data:
//! it enters the key schedule, so a different result means a fork. Both sides
//! therefore feed the same engine with the same change list, read in commit
//! order from the commit's bytes.

use std::sync::LazyLock;

use openmls::component::ComponentData;
use openmls::group::{AppDataDictionaryUpdater, AppDataUpdates, QueuedProposal};
use openmls::messages::proposals_in::{ProposalIn, ProposalOrRefIn};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{
    AppDataUpdateOperation as MlsOp, AppDataUpdateProposal, BasicCredential, Credential,
    ExternalSender, KeyPackageIn, MlsGroup, Proposal as MlsProposal, Sender, SenderExtensionIndex,
};
use tls_codec::{DeserializeBytes as _, VLBytes};

use mimi_policy::{
    Actor, Change, Claims, Commit, Context, Member, PolicyEnvelope, Proposal, RoomState, Staged,
};
use mimi_proto::ClientId;
use mimi_proto::components::{
    AppDataUpdate, AppDataUpdateOperation, ComponentId, ParticipantId, RoomComponents,
};

use crate::error::ClientError;
use crate::parse::parse_commit;

/// Clients judge room rules, not the hub operator's envelope, which only the
/// hub knows (decision CL-3).
static CLIENT_ENVELOPE: LazyLock<PolicyEnvelope> = LazyLock::new(PolicyEnvelope::permissive);

/// A policy context at `now_ms` (ms since the UNIX epoch; the engine counts
/// seconds).
pub(crate) fn context(now_ms: u64) -> Context<'static> {
    Context::new(now_ms / 1000, &CLIENT_ENVELOPE)
}

/// The committed room state of the group's current epoch: the dictionary's
/// components and the member clients.
///
/// # Errors
/// [`ClientError::Malformed`] if a component does not decode or a member's
/// credential is not a mimi client; [`ClientError::Denied`] if the state is
/// inconsistent (a user listed twice).
pub(crate) fn committed_state(group: &MlsGroup) -> Result<RoomState, ClientError> {
    let components = components_of(group)?;
    let members = group
        .members()
        .map(|m| {
            member_of(&m.credential).ok_or(ClientError::Malformed(
                "member credential is not a mimi client URI",
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    RoomState::from_committed(components, members).map_err(|d| {
        ClientError::Denied(Box::new(mimi_policy::Rejection {
            denial: d,
            proposal: None,
        }))
    })
}

/// The committed state without one client: an external joiner's group holds
/// its own new leaf before the commit that adds it is merged.
pub(crate) fn committed_state_without(
    group: &MlsGroup,
    client: &ClientId,
) -> Result<RoomState, ClientError> {
    let components = components_of(group)?;
    let members = group
        .members()
        .filter_map(|m| member_of(&m.credential))
        .filter(|m| &m.client != client)
        .collect();
    RoomState::from_committed(components, members).map_err(|d| {
        ClientError::Denied(Box::new(mimi_policy::Rejection {
            denial: d,
            proposal: None,
        }))
    })
}

/// The decoded components of the group's `app_data_dictionary`.
pub(crate) fn components_of(group: &MlsGroup) -> Result<RoomComponents, ClientError> {
    let dict = group
        .extensions()
        .app_data_dictionary()
        .ok_or(ClientError::Malformed("group has no app_data_dictionary"))?;
    RoomComponents::from_entries(
        dict.dictionary()
            .entries()
            .map(|c| (ComponentId(c.id()), c.data())),
    )
    .map_err(|_| ClientError::Malformed("room state component does not decode"))
}

/// The client id in a leaf credential: a basic credential holding a canonical
/// client URI that names a user (decision ID-3).
pub fn client_of(credential: &Credential) -> Option<ClientId> {
    let basic = BasicCredential::try_from(credential.clone()).ok()?;
    let client = ClientId::parse_canonical(basic.identity()).ok()?;
    client.user().is_some().then_some(client)
}

/// A member record for the policy engine.
pub(crate) fn member_of(credential: &Credential) -> Option<Member> {
    let client = client_of(credential)?;
    let user = client.user()?;
    Some(Member::basic(client, ParticipantId::from(user)))
}

/// The claims of an external sender (the hub or a follower): the user URI
/// its credential names (the hub acts as `mimi://<hub-domain>/u/mimi-hub`,
/// decision HUB-5).
pub(crate) fn server_claims(sender: &ExternalSender) -> Result<Claims, ClientError> {
    let credential = external_sender_credential(sender)?;
    let basic = BasicCredential::try_from(credential)
        .map_err(|_| ClientError::Malformed("external sender credential is not basic"))?;
    let user = ParticipantId::parse_canonical(basic.identity())
        .map_err(|_| ClientError::Malformed("external sender credential names no user"))?;
    Ok(Claims::basic(user))
}

/// The credential of an `ExternalSender`. OpenMLS 0.9 keeps the accessor
/// crate-private, so this reads it back from the struct's encoding
/// (`SignaturePublicKey signature_key; Credential credential;`).
pub(crate) fn external_sender_credential(
    sender: &ExternalSender,
) -> Result<Credential, ClientError> {
    let bytes = sender
        .tls_serialize_detached()
        .map_err(|_| ClientError::Internal("external sender does not encode"))?;
    let (_key, rest) = VLBytes::tls_deserialize_bytes(&bytes)
        .map_err(|_| ClientError::Internal("external sender does not decode"))?;
    let (credential, _) = Credential::tls_deserialize_bytes(rest)
        .map_err(|_| ClientError::Internal("external sender credential does not decode"))?;
    Ok(credential)
}

/// Who sent a proposal or commit, as the policy engine names actors.
/// `path_credential` is the UpdatePath leaf's credential of an external
/// commit (the joiner).
pub(crate) fn actor(
    group: &MlsGroup,
    sender: &Sender,
    path_credential: Option<&Credential>,
) -> Result<Actor, ClientError> {
    match sender {
        Sender::Member(leaf) => {
            let member = group
                .member_at(*leaf)
                .ok_or(ClientError::Malformed("sender leaf is empty"))?;
            let client = client_of(&member.credential).ok_or(ClientError::Malformed(
                "sender credential is not a mimi client URI",
            ))?;
            Ok(Actor::Client(client))
        }
        Sender::External(index) => {
            let senders = group
                .extensions()
                .external_senders()
                .ok_or(ClientError::Malformed("group lists no external senders"))?;
            let sender_index = sender_index(index)?;
            let sender = usize::try_from(sender_index)
                .ok()
                .and_then(|i| senders.get(i))
                .ok_or(ClientError::Malformed("external sender index out of range"))?;
            Ok(Actor::Server {
                sender_index,
                claims: server_claims(sender)?,
            })
        }
        Sender::NewMemberCommit | Sender::NewMemberProposal => {
            let credential =
                path_credential.ok_or(ClientError::Malformed("joiner without a credential"))?;
            joiner(credential)
        }
    }
}

/// The `u32` inside a `SenderExtensionIndex` (its accessor is crate-private
/// in OpenMLS 0.9; the encoding is the bare `uint32`).
fn sender_index(index: &SenderExtensionIndex) -> Result<u32, ClientError> {
    let bytes = index
        .tls_serialize_detached()
        .map_err(|_| ClientError::Internal("sender index does not encode"))?;
    let array: [u8; 4] = bytes
        .try_into()
        .map_err(|_| ClientError::Internal("sender index is not a uint32"))?;
    Ok(u32::from_be_bytes(array))
}

/// A joining client as an actor.
pub(crate) fn joiner(credential: &Credential) -> Result<Actor, ClientError> {
    let member = member_of(credential).ok_or(ClientError::Malformed(
        "joiner credential is not a mimi client URI",
    ))?;
    Ok(Actor::Joiner {
        client: member.client,
        claims: member.claims,
        join_code: None,
    })
}

/// One MLS proposal as a policy change. `sender` is the proposal's sender (a
/// SelfRemove removes the sender's own client).
pub(crate) fn change(
    group: &MlsGroup,
    proposal: &MlsProposal,
    sender: &Sender,
) -> Result<Change, ClientError> {
    Ok(match proposal {
        MlsProposal::Add(add) => {
            let member = member_of(add.key_package().leaf_node().credential()).ok_or(
                ClientError::Malformed("added credential is not a mimi client URI"),
            )?;
            Change::add(member.client, member.claims)
        }
        MlsProposal::Remove(remove) => Change::remove(leaf_client(group, remove.removed())?),
        MlsProposal::SelfRemove => match sender {
            Sender::Member(leaf) => Change::remove(leaf_client(group, *leaf)?),
            _ => return Err(ClientError::Malformed("SelfRemove from a non-member")),
        },
        MlsProposal::AppDataUpdate(update) => app_data_change(update),
        MlsProposal::ReInit(_) => Change::ReInit,
        other => Change::Other {
            proposal_type: u16::from(other.proposal_type()),
        },
    })
}

/// An inline proposal of a received commit as a policy change. OpenMLS
/// verified the commit (KeyPackages included) before this runs, so reading
/// an added client's credential without re-validating is sound.
fn change_inline(
    group: &MlsGroup,
    proposal: &ProposalIn,
    sender: &Sender,
) -> Result<Change, ClientError> {
    Ok(match proposal {
        ProposalIn::Add(add) => {
            let bytes = add
                .tls_serialize_detached()
                .map_err(|_| ClientError::Internal("Add proposal does not encode"))?;
            let key_package = KeyPackageIn::tls_deserialize_exact_bytes(&bytes)
                .map_err(|_| ClientError::Malformed("Add proposal does not decode"))?;
            let member = member_of(&key_package.unverified_credential().credential).ok_or(
                ClientError::Malformed("added credential is not a mimi client URI"),
            )?;
            Change::add(member.client, member.claims)
        }
        ProposalIn::Remove(remove) => Change::remove(leaf_client(group, remove.removed())?),
        ProposalIn::SelfRemove => match sender {
            Sender::Member(leaf) => Change::remove(leaf_client(group, *leaf)?),
            _ => return Err(ClientError::Malformed("SelfRemove from a non-member")),
        },
        ProposalIn::AppDataUpdate(update) => app_data_change(update),
        ProposalIn::ReInit(_) => Change::ReInit,
        other => Change::Other {
            proposal_type: u16::from(other.proposal_type()),
        },
    })
}

fn app_data_change(update: &AppDataUpdateProposal) -> Change {
    Change::AppData(AppDataUpdate {
        component_id: ComponentId(update.component_id()),
        op: match update.operation() {
            MlsOp::Update(bytes) => AppDataUpdateOperation::Update(bytes.as_slice().to_vec()),
            MlsOp::Remove => AppDataUpdateOperation::Remove,
        },
    })
}

fn leaf_client(
    group: &MlsGroup,
    leaf: openmls::prelude::LeafNodeIndex,
) -> Result<ClientId, ClientError> {
    let member = group
        .member_at(leaf)
        .ok_or(ClientError::Malformed("proposal names an empty leaf"))?;
    client_of(&member.credential).ok_or(ClientError::Malformed(
        "member credential is not a mimi client URI",
    ))
}

/// Every proposal in the group's store (accepted this epoch, not committed
/// yet) as policy proposals, in store order.
pub(crate) fn pending_proposals(group: &MlsGroup) -> Result<Vec<Proposal>, ClientError> {
    group
        .pending_proposals()
        .map(|qp| {
            Ok(Proposal::new(
                queued_actor(group, qp)?,
                change(group, qp.proposal(), qp.sender())?,
            ))
        })
        .collect()
}

/// The sender of a stored proposal. A new member's own proposal (an external
/// Add) names the joiner through the KeyPackage it adds.
pub(crate) fn queued_actor(group: &MlsGroup, qp: &QueuedProposal) -> Result<Actor, ClientError> {
    let credential = match (qp.sender(), qp.proposal()) {
        (Sender::NewMemberProposal, MlsProposal::Add(add)) => {
            Some(add.key_package().leaf_node().credential())
        }
        _ => None,
    };
    actor(group, qp.sender(), credential)
}

/// The policy view of a verified commit, read from its bytes in commit order;
/// by-reference proposals are resolved from the group's proposal store.
///
/// # Errors
/// [`ClientError::Malformed`] if the bytes do not parse, a reference names no
/// stored proposal, or a credential is not a mimi client.
pub(crate) fn commit_from_bytes(group: &MlsGroup, bytes: &[u8]) -> Result<Commit, ClientError> {
    let parsed = parse_commit(bytes)?;
    let committer = actor(group, &parsed.sender, parsed.path_credential.as_ref())?;
    let mut proposals = Vec::with_capacity(parsed.proposals.len());
    for p in parsed.proposals {
        match p {
            ProposalOrRefIn::Proposal(inline) => {
                proposals.push(Proposal::new(
                    committer.clone(),
                    change_inline(group, &inline, &parsed.sender)?,
                ));
            }
            ProposalOrRefIn::Reference(reference) => {
                let qp = group
                    .pending_proposals()
                    .find(|qp| qp.proposal_reference_ref() == &*reference)
                    .ok_or(ClientError::Malformed(
                        "commit references an unknown proposal",
                    ))?;
                proposals.push(Proposal::new(
                    queued_actor(group, qp)?,
                    change(group, qp.proposal(), qp.sender())?,
                ));
            }
        }
    }
    Ok(Commit {
        committer,
        proposals,
    })
}

/// The engine's component updates as OpenMLS `AppDataUpdates` for this group
/// (`None` when the change set updates no component).
pub(crate) fn app_data_updates(group: &MlsGroup, staged: &Staged) -> Option<AppDataUpdates> {
    if staged.component_updates().is_empty() {
        return None;
    }
    let old = group
        .extensions()
        .app_data_dictionary()
        .map(|e| e.dictionary());
    let mut updater = AppDataDictionaryUpdater::new(old);
    for update in staged.component_updates() {
        match &update.data {
            Some(data) => updater.set(ComponentData::from_parts(
                update.component_id.0,
                data.clone().into(),
            )),
            None => updater.remove(&update.component_id.0),
        }
    }
    updater.changes()
}
