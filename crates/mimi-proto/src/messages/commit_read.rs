//! Reads a verified commit's proposal list and UpdatePath leaf from its wire
//! bytes: the one reader the hub and every receiving client run on a commit.
//!
//! OpenMLS hands a commit that carries AppDataUpdates over as an
//! `UnresolvedAppDataCommit`, which exposes the AppDataUpdates but not the
//! Adds, Removes and senders room policy must judge *before* the new room
//! state (and so the staged commit) can be computed. The bytes were verified
//! by OpenMLS's `process_message` before this runs; this only reads them
//! again, in commit order.
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

use crate::error::DecodeError;

/// `wire_format` of a PublicMessage (RFC 9420 §6).
const WIRE_PUBLIC: u16 = 1;
/// `content_type` of a commit (RFC 9420 §6).
const CONTENT_COMMIT: u8 = 3;
/// What a [`DecodeError`] of this reader names.
const WHAT: &str = "commit";

/// The parts of a commit room policy needs.
#[derive(Debug)]
pub struct ParsedCommit {
    /// The committer, as framed.
    pub sender: Sender,
    /// The proposals, inline or by reference, in commit order.
    pub proposals: Vec<ProposalOrRefIn>,
    /// The UpdatePath's new leaf, if the commit has a path.
    pub path_leaf: Option<PathLeaf>,
}

/// The parts of an UpdatePath's leaf node policy needs.
#[derive(Debug)]
pub struct PathLeaf {
    /// The leaf's signature public key.
    pub signature_key: Vec<u8>,
    /// The leaf's credential.
    pub credential: Credential,
}

/// Reads a commit `MLSMessage`'s sender, proposals and UpdatePath leaf.
/// Bytes after the UpdatePath leaf's credential are not read.
///
/// # Errors
/// [`DecodeError::Invalid`] if the bytes are not a PublicMessage commit,
/// [`DecodeError::Mls`] if a field does not parse.
pub fn parse_commit(mut bytes: &[u8]) -> Result<ParsedCommit, DecodeError> {
    let b = &mut bytes;
    let _version: u16 = read(b)?;
    if read::<u16>(b)? != WIRE_PUBLIC {
        return Err(invalid("not a PublicMessage"));
    }
    let _group_id: VLBytes = read(b)?;
    let _epoch: u64 = read(b)?;
    let sender: Sender = read(b)?;
    let _aad: VLBytes = read(b)?;
    if read::<u8>(b)? != CONTENT_COMMIT {
        return Err(invalid("not a commit"));
    }
    let proposals: Vec<ProposalOrRefIn> = read(b)?;
    let path_leaf = match read::<u8>(b)? {
        0 => None,
        1 => {
            let _encryption_key: VLBytes = read(b)?;
            let signature_key: VLBytes = read(b)?;
            let credential: Credential = read(b)?;
            Some(PathLeaf {
                signature_key: signature_key.into(),
                credential,
            })
        }
        _ => return Err(DecodeError::InvalidBool("optional<UpdatePath>")),
    };
    Ok(ParsedCommit {
        sender,
        proposals,
        path_leaf,
    })
}

fn invalid(reason: &'static str) -> DecodeError {
    DecodeError::Invalid { what: WHAT, reason }
}

fn read<T: DeserializeBytes>(bytes: &mut &[u8]) -> Result<T, DecodeError> {
    let (value, rest) = T::tls_deserialize_bytes(bytes).map_err(|_| DecodeError::Mls(WHAT))?;
    *bytes = rest;
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// No input makes the reader panic; garbage is a typed error. Half the
        /// inputs start like a PublicMessage commit (version 1, wire format 1)
        /// so the reader gets past its first checks.
        #[test]
        fn never_panics(tail in proptest::collection::vec(any::<u8>(), 0..512), framed in any::<bool>()) {
            let data = if framed { [&[0, 1, 0, 1][..], &tail].concat() } else { tail };
            let _ = parse_commit(&data);
        }
    }

    #[test]
    fn refuses_other_wire_formats_and_content_types() {
        // version 1, wire format private (2).
        assert_eq!(
            parse_commit(&[0, 1, 0, 2]).unwrap_err(),
            invalid("not a PublicMessage")
        );
        // version 1, public, empty group id, epoch 0, member sender 0, no aad,
        // content type application (1).
        let mut bytes = vec![0, 1, 0, 1, 0];
        bytes.extend(0u64.to_be_bytes());
        bytes.extend([1, 0, 0, 0, 0]);
        bytes.extend([0, 1]);
        assert_eq!(parse_commit(&bytes).unwrap_err(), invalid("not a commit"));
        // Cut short.
        assert_eq!(
            parse_commit(&[0, 1, 0]).unwrap_err(),
            DecodeError::Mls(WHAT)
        );
    }
}
