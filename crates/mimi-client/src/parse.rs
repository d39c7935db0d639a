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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// A commit OpenMLS builds reads back with the same proposals, in
        /// OpenMLS's commit order (Adds, then the others in input order).
        #[test]
        fn real_commits_read_back(
            adds in 0usize..3,
            updates in proptest::collection::vec(
                (0x8000u16..0x8010, proptest::collection::vec(any::<u8>(), 0..64)),
                0..3,
            ),
        ) {
            use openmls::prelude::tls_codec::Serialize as _;
            use openmls::prelude::{AppDataUpdateProposal, AppDataUpdateOperation, Proposal};
            use openmls::messages::proposals_in::ProposalIn;
            use openmls_rust_crypto::OpenMlsRustCrypto;

            use crate::identity::Identity;
            use crate::room::create_group;

            let provider = OpenMlsRustCrypto::default();
            let me = Identity::generate(
                mimi_proto::ClientId::parse("mimi://a.example/d/alice/p").unwrap(),
            )
            .unwrap();
            let hub = openmls_basic_credential::SignatureKeyPair::new(
                mimi_proto::mls_profile::CIPHERSUITE.signature_algorithm(),
            )
            .unwrap();
            let room = mimi_proto::RoomId::parse("mimi://a.example/r/x").unwrap();
            let sender = openmls::prelude::ExternalSender::new(
                hub.to_public_vec().into(),
                openmls::prelude::BasicCredential::new(b"mimi://a.example/u/mimi-hub".to_vec())
                    .into(),
            );
            let mut dict = openmls::prelude::AppDataDictionary::new();
            for (id, _) in &updates {
                dict.insert(*id, Vec::new());
            }
            let mut group = create_group(&provider, &me, &room, sender, dict).unwrap();
            let joiners: Vec<_> = (0..adds)
                .map(|i| {
                    let p = OpenMlsRustCrypto::default();
                    let id = Identity::generate(
                        mimi_proto::ClientId::parse(&format!("mimi://b.example/d/u{i}/p")).unwrap(),
                    )
                    .unwrap();
                    id.key_package(&p).unwrap()
                })
                .collect();
            // Each component at most once (OpenMLS forbids updating one twice
            // without a component handler; the shape is what matters here).
            let mut seen = std::collections::BTreeSet::new();
            let updates: Vec<_> = updates.into_iter().filter(|(id, _)| seen.insert(*id)).collect();
            let mut builder = group
                .commit_builder()
                .propose_adds(joiners.clone())
                .add_proposals(updates.iter().map(|(id, data)| {
                    Proposal::AppDataUpdate(Box::new(AppDataUpdateProposal::update(*id, data.clone())))
                }))
                .load_psks(openmls_traits::OpenMlsProvider::storage(&provider))
                .unwrap();
            let mut updater = builder.app_data_dictionary_updater();
            for (id, data) in &updates {
                updater.set(openmls::component::ComponentData::from_parts(*id, data.clone().into()));
            }
            builder.with_app_data_dictionary_updates(updater.changes());
            let bundle = builder
                .build(
                    openmls_traits::OpenMlsProvider::rand(&provider),
                    openmls_traits::OpenMlsProvider::crypto(&provider),
                    me.signer(),
                    |_| true,
                )
                .unwrap()
                .stage_commit(&provider)
                .unwrap();
            let bytes = bundle.commit().tls_serialize_detached().unwrap();
            let parsed = parse_commit(&bytes).unwrap();
            prop_assert_eq!(parsed.proposals.len(), adds + updates.len());
            prop_assert!(matches!(parsed.sender, Sender::Member(_)));
            for (i, p) in parsed.proposals.iter().enumerate() {
                let ProposalOrRefIn::Proposal(p) = p else {
                    return Err(TestCaseError::fail("by reference"));
                };
                match (i < adds, &**p) {
                    (true, ProposalIn::Add(_)) => {}
                    (false, ProposalIn::AppDataUpdate(u)) => {
                        let (id, data) = &updates[i - adds];
                        prop_assert_eq!(u.component_id(), *id);
                        let AppDataUpdateOperation::Update(got) = u.operation() else {
                            return Err(TestCaseError::fail("not an update"));
                        };
                        prop_assert_eq!(got.as_slice(), data.as_slice());
                    }
                    (_, other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                }
            }
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
