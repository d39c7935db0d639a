//! Real OpenMLS commits read back through `mimi_proto::messages::parse_commit`
//! and the bridge, as the hub and every receiver read them.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

use mimi_mls::member::create_group;
use mimi_mls::{Identity, RoomGroup as _};
use mimi_policy::{Actor, Change};
use mimi_proto::messages::parse_commit;
use openmls::messages::proposals_in::{ProposalIn, ProposalOrRefIn};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{AppDataUpdateOperation, AppDataUpdateProposal, Proposal, Sender};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use proptest::prelude::*;

fn identity(uri: &str) -> Identity {
    Identity::generate(mimi_proto::ClientId::parse(uri).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// A commit OpenMLS builds reads back with the same proposals, in
    /// OpenMLS's commit order (Adds, then the others in input order), and the
    /// bridge turns them into the same policy changes from the member's group.
    #[test]
    fn real_commits_read_back(
        adds in 0usize..3,
        updates in proptest::collection::vec(
            (0x8000u16..0x8010, proptest::collection::vec(any::<u8>(), 0..64)),
            0..3,
        ),
    ) {
        let provider = OpenMlsRustCrypto::default();
        let me = identity("mimi://a.example/d/alice/p");
        let hub = openmls_basic_credential::SignatureKeyPair::new(
            mimi_proto::mls_profile::CIPHERSUITE.signature_algorithm(),
        )
        .unwrap();
        let room = mimi_proto::RoomId::parse("mimi://a.example/r/x").unwrap();
        let sender = openmls::prelude::ExternalSender::new(
            hub.to_public_vec().into(),
            openmls::prelude::BasicCredential::new(b"mimi://a.example/u/mimi-hub".to_vec()).into(),
        );
        let mut dict = openmls::prelude::AppDataDictionary::new();
        for (id, _) in &updates {
            dict.insert(*id, Vec::new());
        }
        let mut group = create_group(&provider, &me, &room, sender, dict).unwrap();
        let joiners: Vec<_> = (0..adds)
            .map(|i| {
                let p = OpenMlsRustCrypto::default();
                identity(&format!("mimi://b.example/d/u{i}/p")).key_package(&p).unwrap()
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
            .load_psks(provider.storage())
            .unwrap();
        let mut updater = builder.app_data_dictionary_updater();
        for (id, data) in &updates {
            updater.set(openmls::component::ComponentData::from_parts(*id, data.clone().into()));
        }
        builder.with_app_data_dictionary_updates(updater.changes());
        let bundle = builder
            .build(provider.rand(), provider.crypto(), me.signer(), |_| true)
            .unwrap()
            .stage_commit(&provider)
            .unwrap();
        let bytes = bundle.commit().tls_serialize_detached().unwrap();
        let parsed = parse_commit(&bytes).unwrap();
        prop_assert_eq!(parsed.proposals.len(), adds + updates.len());
        prop_assert!(matches!(parsed.sender, Sender::Member(_)));
        if let Some(leaf) = &parsed.path_leaf {
            prop_assert_eq!(&leaf.credential, &me.credential_with_key().credential);
            prop_assert_eq!(&leaf.signature_key, &me.signer().to_public_vec());
        }
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
        // The bridge's policy view: the committer acts for every proposal,
        // Adds name the joiners' clients, updates carry their data.
        let commit = group.policy_commit(&parsed, None, |_| None).unwrap();
        prop_assert_eq!(&commit.committer, &Actor::Client(me.client().clone()));
        for (i, p) in commit.proposals.iter().enumerate() {
            match (&p.change, i < adds) {
                (Change::Add { client, .. }, true) => {
                    prop_assert_eq!(client.as_str(), format!("mimi://b.example/d/u{i}/p"));
                }
                (Change::AppData(u), false) => {
                    prop_assert_eq!(u.component_id.0, updates[i - adds].0);
                }
                (other, _) => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }
    }
}
