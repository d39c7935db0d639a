//! Room policy on the client: the shared OpenMLS ↔ `mimi-policy` bridge
//! ([`mimi_mls::RoomGroup`]) over the client's `MlsGroup`, with the client's
//! own policy context and proposal store.
//!
//! Receivers repeat every check the hub made (a malicious hub is in the threat
//! model, policy-content A.9) and must compute byte-identical component data:
//! it enters the key schedule, so a different result means a fork. The hub
//! and the client therefore share one bridge, and feed the same engine the
//! same change list, read in commit order from the commit's bytes.

use std::sync::LazyLock;

use openmls::prelude::{Credential, MlsGroup, Sender};

use mimi_mls::RoomGroup as _;
use mimi_policy::{Commit, Context, Member, PolicyEnvelope, Proposal, RoomState};
use mimi_proto::ClientId;
use mimi_proto::components::RoomComponents;
use mimi_proto::messages::parse_commit;

use crate::error::ClientError;

/// Clients judge room rules, not the hub operator's envelope, which only the
/// hub knows (decision CL-3).
static CLIENT_ENVELOPE: LazyLock<PolicyEnvelope> = LazyLock::new(PolicyEnvelope::permissive);

/// A policy context at `now_ms` (ms since the UNIX epoch; the engine counts
/// seconds).
pub(crate) fn context(now_ms: u64) -> Context<'static> {
    Context::new(now_ms / 1000, &CLIENT_ENVELOPE)
}

/// The committed room state of the group's current epoch.
///
/// # Errors
/// [`ClientError::Malformed`] if a component does not decode or a member's
/// credential is not a mimi client; [`ClientError::Denied`] if the state is
/// inconsistent (a user listed twice).
pub(crate) fn committed_state(group: &MlsGroup) -> Result<RoomState, ClientError> {
    Ok(group.committed_state()?)
}

/// The committed state without one client (an external joiner's own leaf).
pub(crate) fn committed_state_without(
    group: &MlsGroup,
    client: &ClientId,
) -> Result<RoomState, ClientError> {
    Ok(group.committed_state_without(client)?)
}

/// The decoded components of the group's `app_data_dictionary`.
pub(crate) fn components_of(group: &MlsGroup) -> Result<RoomComponents, ClientError> {
    Ok(group.components()?)
}

/// A member record for the policy engine, if the credential names a mimi client.
pub(crate) fn member_of(credential: &Credential) -> Option<Member> {
    let (client, claims) = mimi_mls::claims_of(credential).ok()?;
    Some(Member { client, claims })
}

/// Every proposal in the group's store (accepted this epoch, not committed
/// yet) as policy proposals, in store order.
pub(crate) fn pending_proposals(group: &MlsGroup) -> Result<Vec<Proposal>, ClientError> {
    group
        .pending_proposals()
        .map(|qp| Ok(group.policy_proposal(qp)?))
        .collect()
}

/// The policy view of a verified commit, read from its bytes in commit order;
/// by-reference proposals are resolved from the group's proposal store.
///
/// # Errors
/// [`ClientError::Malformed`] if the bytes do not parse, a reference names no
/// stored proposal, or a credential is not a mimi client.
pub(crate) fn commit_from_bytes(group: &MlsGroup, bytes: &[u8]) -> Result<Commit, ClientError> {
    let parsed = parse_commit(bytes).map_err(mimi_mls::Error::from)?;
    let joiner = match (&parsed.sender, &parsed.path_leaf) {
        (Sender::NewMemberCommit, Some(leaf)) => Some(mimi_mls::joiner(&leaf.credential, None)?),
        _ => None,
    };
    Ok(group.policy_commit(&parsed, joiner, |reference| {
        group
            .pending_proposals()
            .find(|qp| qp.proposal_reference_ref() == reference)
    })?)
}
