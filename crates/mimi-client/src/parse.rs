//! Re-reads a commit's proposal list from its wire bytes.
//!
//! OpenMLS hands a receiver a commit that carries AppDataUpdates as an
//! `UnresolvedAppDataCommit`, which exposes the AppDataUpdates but not the
//! Adds, Removes and their senders that room policy must judge *before* the
//! new room state (and so the staged commit) can be computed. The bytes were
//! verified by `MlsGroup::process_message` before this runs; this only reads
//! them again, in commit order.
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

use crate::error::ClientError;

/// `wire_format` of a PublicMessage (RFC 9420 §6).
const WIRE_PUBLIC: u16 = 1;
/// `content_type` of a commit (RFC 9420 §6).
const CONTENT_COMMIT: u8 = 3;

/// The parts of a commit room policy needs.
#[derive(Debug)]
pub(crate) struct ParsedCommit {
    /// The committer, as framed.
    pub sender: Sender,
    /// The proposals, inline or by reference, in commit order.
    pub proposals: Vec<ProposalOrRefIn>,
    /// The UpdatePath's new leaf credential, if the commit has a path.
    pub path_credential: Option<Credential>,
}

/// Parses a commit `MLSMessage`.
///
/// # Errors
/// [`ClientError::Malformed`] if the bytes are not a PublicMessage commit.
pub(crate) fn parse_commit(mut bytes: &[u8]) -> Result<ParsedCommit, ClientError> {
    let b = &mut bytes;
    let _version: u16 = read(b)?;
    if read::<u16>(b)? != WIRE_PUBLIC {
        return Err(ClientError::Malformed("commit is not a PublicMessage"));
    }
    let _group_id: VLBytes = read(b)?;
    let _epoch: u64 = read(b)?;
    let sender: Sender = read(b)?;
    let _aad: VLBytes = read(b)?;
    if read::<u8>(b)? != CONTENT_COMMIT {
        return Err(ClientError::Malformed("message is not a commit"));
    }
    let proposals: Vec<ProposalOrRefIn> = read(b)?;
    let path_credential = match read::<u8>(b)? {
        0 => None,
        1 => {
            let _encryption_key: VLBytes = read(b)?;
            let _signature_key: VLBytes = read(b)?;
            Some(read::<Credential>(b)?)
        }
        _ => return Err(ClientError::Malformed("bad optional<UpdatePath>")),
    };
    Ok(ParsedCommit {
        sender,
        proposals,
        path_credential,
    })
}

fn read<T: DeserializeBytes>(bytes: &mut &[u8]) -> Result<T, ClientError> {
    let (value, rest) = T::tls_deserialize_bytes(bytes)
        .map_err(|_| ClientError::Malformed("commit does not parse"))?;
    *bytes = rest;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// No input makes the parser panic; garbage is a typed error.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_commit(&bytes);
        }
    }

    #[test]
    fn refuses_other_wire_formats_and_content_types() {
        // version 1, wire format private (2).
        assert!(matches!(
            parse_commit(&[0, 1, 0, 2]),
            Err(ClientError::Malformed("commit is not a PublicMessage"))
        ));
        // version 1, public, empty group id, epoch 0, member sender 0, no aad,
        // content type application (1).
        let mut bytes = vec![0, 1, 0, 1, 0];
        bytes.extend(0u64.to_be_bytes());
        bytes.extend([1, 0, 0, 0, 0]);
        bytes.extend([0, 1]);
        assert!(matches!(
            parse_commit(&bytes),
            Err(ClientError::Malformed("message is not a commit"))
        ));
    }
}
