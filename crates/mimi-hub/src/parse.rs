//! Reads a commit's proposal list from its wire bytes.
//!
//! OpenMLS hands the hub a commit that carries AppDataUpdates only as an
//! `UnresolvedAppDataCommit`, which exposes the AppDataUpdates but not the
//! Adds, Removes and senders the policy engine must see *before* the new
//! component data (and so the staged commit) can be computed. The commit was
//! already verified by `PublicGroup::process_message` when this runs, so these
//! bytes are authentic; this only re-reads them.
//!
//! ```text
//! MLSMessage { uint16 version; uint16 wire_format = mls_public_message(1);
//!   PublicMessage { FramedContent {
//!     opaque group_id<V>; uint64 epoch; Sender sender; opaque authenticated_data<V>;
//!     ContentType content_type = commit(3);
//!     Commit { ProposalOrRef proposals<V>; optional<UpdatePath> path; } } … } }
//! UpdatePath { LeafNode leaf_node; … }
//! LeafNode { HPKEPublicKey encryption_key; SignaturePublicKey signature_key; Credential credential; … }
//! ```

use openmls::messages::proposals_in::ProposalOrRefIn;
use openmls::prelude::{Credential, Sender};
use tls_codec::{DeserializeBytes, VLBytes};

use crate::error::HubError;

/// The parts of a commit the policy engine needs.
#[derive(Debug)]
pub(crate) struct ParsedCommit {
    /// The proposals, inline or by reference, in commit order.
    pub proposals: Vec<ProposalOrRefIn>,
    /// The UpdatePath's new leaf: its signature key and credential.
    pub path_leaf: Option<(Vec<u8>, Credential)>,
}

fn read<T: DeserializeBytes>(bytes: &mut &[u8]) -> Result<T, HubError> {
    let (value, rest) = T::tls_deserialize_bytes(bytes)
        .map_err(|_| HubError::Malformed("commit does not parse"))?;
    *bytes = rest;
    Ok(value)
}

/// Parses the commit `MLSMessage` bytes.
///
/// # Errors
/// [`HubError::Malformed`] if the bytes are not a PublicMessage commit.
pub(crate) fn parse_commit(mut bytes: &[u8]) -> Result<ParsedCommit, HubError> {
    let b = &mut bytes;
    let _version: u16 = read(b)?;
    let wire_format: u16 = read(b)?;
    if wire_format != 1 {
        return Err(HubError::Malformed("commit is not a PublicMessage"));
    }
    let _group_id: VLBytes = read(b)?;
    let _epoch: u64 = read(b)?;
    let _sender: Sender = read(b)?;
    let _aad: VLBytes = read(b)?;
    let content_type: u8 = read(b)?;
    if content_type != 3 {
        return Err(HubError::Malformed("not a commit"));
    }
    let proposals: Vec<ProposalOrRefIn> = read(b)?;
    let path_leaf = match read::<u8>(b)? {
        0 => None,
        1 => {
            let _encryption_key: VLBytes = read(b)?;
            let signature_key: VLBytes = read(b)?;
            let credential: Credential = read(b)?;
            Some((signature_key.into(), credential))
        }
        _ => return Err(HubError::Malformed("bad optional<UpdatePath>")),
    };
    Ok(ParsedCommit {
        proposals,
        path_leaf,
    })
}
