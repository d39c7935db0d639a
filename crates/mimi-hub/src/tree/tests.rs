//! `ratchet_tree_bytes` against OpenMLS's own export, over real groups whose
//! trees have blank leaves and parents in the middle and at the end. Joiners
//! are welcomed with the bytes under test, so OpenMLS also accepts them.

#![allow(clippy::unwrap_used)]

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeIndex, LeafNodeParameters,
    MlsGroup, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut,
    ProcessedMessageContent, RatchetTreeIn, StagedWelcome,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use proptest::prelude::*;

use super::ratchet_tree_bytes;

const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// One member with its own provider (key store) and view of the group.
struct Member {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    group: MlsGroup,
}

/// Everyone currently in the group; `members[0]` created it.
struct Group {
    members: Vec<Member>,
    joined: usize,
}

fn credential(name: usize, signer: &SignatureKeyPair) -> CredentialWithKey {
    CredentialWithKey {
        credential: BasicCredential::new(format!("member {name}").into_bytes()).into(),
        signature_key: signer.public().into(),
    }
}

fn wire(message: &MlsMessageOut) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(message.tls_serialize_detached().unwrap()).unwrap()
}

impl Group {
    fn new() -> Self {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap();
        let group = MlsGroup::builder()
            .ciphersuite(CIPHERSUITE)
            .build(&provider, &signer, credential(0, &signer))
            .unwrap();
        Self {
            members: vec![Member {
                provider,
                signer,
                group,
            }],
            joined: 1,
        }
    }

    /// Checks the committer's tree, then has every other member process the
    /// commit, so all views stay in step.
    fn distribute(&mut self, committer: usize, commit: &MlsMessageOut) {
        let c = &mut self.members[committer];
        c.group.merge_pending_commit(&c.provider).unwrap();
        let commit = wire(commit);
        for (i, m) in self.members.iter_mut().enumerate() {
            if i == committer {
                continue;
            }
            let processed = m
                .group
                .process_message(
                    &m.provider,
                    commit.clone().try_into_protocol_message().unwrap(),
                )
                .unwrap();
            let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content()
            else {
                panic!("expected a commit");
            };
            m.group.merge_staged_commit(&m.provider, *staged).unwrap();
        }
        assert_same_bytes(&self.members[committer].group);
    }

    /// `committer` adds `count` new members, with or without an update path;
    /// they join with the tree as `ratchet_tree_bytes` serializes it.
    fn add(&mut self, committer: usize, count: usize, with_path: bool) {
        let mut joiners = Vec::new();
        let mut key_packages = Vec::new();
        for _ in 0..count {
            let provider = OpenMlsRustCrypto::default();
            let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap();
            let kp = KeyPackage::builder()
                .build(
                    CIPHERSUITE,
                    &provider,
                    &signer,
                    credential(self.joined, &signer),
                )
                .unwrap();
            self.joined += 1;
            key_packages.push(kp.key_package().clone());
            joiners.push((provider, signer));
        }
        let m = &mut self.members[committer];
        let (commit, welcome, _) = if with_path {
            m.group.add_members(&m.provider, &m.signer, &key_packages)
        } else {
            m.group
                .add_members_without_update(&m.provider, &m.signer, &key_packages)
        }
        .unwrap();
        self.distribute(committer, &commit);
        let tree = ratchet_tree_bytes(self.members[committer].group.treesync()).unwrap();
        let MlsMessageBodyIn::Welcome(welcome) = wire(&welcome).extract() else {
            panic!("expected a Welcome");
        };
        for (provider, signer) in joiners {
            let group = StagedWelcome::new_from_welcome(
                &provider,
                &MlsGroupJoinConfig::default(),
                welcome.clone(),
                Some(RatchetTreeIn::tls_deserialize_exact(&tree).unwrap()),
            )
            .unwrap()
            .into_group(&provider)
            .unwrap();
            self.members.push(Member {
                provider,
                signer,
                group,
            });
        }
    }

    /// `committer` removes the members at these positions of `members`.
    fn remove(&mut self, committer: usize, victims: &[usize]) {
        let leaves: Vec<LeafNodeIndex> = victims
            .iter()
            .map(|&v| self.members[v].group.own_leaf_index())
            .collect();
        let m = &mut self.members[committer];
        let (commit, _, _) = m
            .group
            .remove_members(&m.provider, &m.signer, &leaves)
            .unwrap();
        let mut position = 0;
        self.members.retain(|_| {
            position += 1;
            !victims.contains(&(position - 1))
        });
        let committer = committer - victims.iter().filter(|&&v| v < committer).count();
        self.distribute(committer, &commit);
    }

    /// `committer` updates its own leaf, filling its direct path.
    fn update(&mut self, committer: usize) {
        let m = &mut self.members[committer];
        let bundle = m
            .group
            .self_update(&m.provider, &m.signer, LeafNodeParameters::default())
            .unwrap();
        let (commit, _, _) = bundle.into_contents();
        self.distribute(committer, &commit);
    }
}

fn assert_same_bytes(group: &MlsGroup) {
    let ours = ratchet_tree_bytes(group.treesync()).unwrap();
    let openmls = group
        .export_ratchet_tree()
        .tls_serialize_detached()
        .unwrap();
    assert_eq!(ours, openmls);
    // The tree hash of the exported bytes, by the function that reproduces
    // the MLS working group's tree-validation vectors, is the group's.
    assert_eq!(
        super::vectors::root_tree_hash(&ours, CIPHERSUITE),
        group.public_group().group_context().tree_hash()
    );
}

#[test]
fn blank_leaves_and_parents_in_the_middle_and_at_the_end() {
    let mut g = Group::new();
    assert_same_bytes(&g.members[0].group);
    // 9 leaves: a 16-leaf tree with 7 trailing blank leaves and blank parents
    // (an add without a path leaves the new leaves' parents blank).
    g.add(0, 8, false);
    g.update(3);
    g.update(6);
    // Blank leaves in the middle; the removals blank their direct paths.
    g.remove(0, &[2, 5]);
    g.add(1, 1, true);
    // Remove the rightmost members: the tree shrinks, and what remains ends
    // with blank leaves that the export trims.
    let last = g.members.len() - 1;
    g.remove(1, &[last, last - 1]);
    g.update(2);
    let tree = g.members[0].group.treesync();
    assert!(tree.leaves().iter().any(Option::is_none));
    assert!(tree.blank_parents().next().is_some());
    assert!(tree.full_parents().next().is_some());
}

/// One step of a random membership history.
#[derive(Debug, Clone)]
enum Step {
    Add {
        committer: usize,
        count: usize,
        with_path: bool,
    },
    Remove {
        committer: usize,
        victims: Vec<usize>,
    },
    Update {
        committer: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (any::<usize>(), 1..4usize, any::<bool>()).prop_map(|(committer, count, with_path)| {
            Step::Add {
                committer,
                count,
                with_path,
            }
        }),
        (any::<usize>(), prop::collection::vec(any::<usize>(), 1..4))
            .prop_map(|(committer, victims)| Step::Remove { committer, victims }),
        any::<usize>().prop_map(|committer| Step::Update { committer }),
    ]
}

proptest! {
    // Every step runs real MLS commits through every member: keep it small.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_add_remove_history_serializes_like_openmls(
        steps in prop::collection::vec(step(), 1..8)
    ) {
        let mut g = Group::new();
        for s in steps {
            let n = g.members.len();
            match s {
                Step::Add { committer, count, with_path } => {
                    // Stay small: every member processes every commit.
                    if n + count <= 12 {
                        g.add(committer % n, count, with_path);
                    }
                }
                Step::Remove { committer, victims } => {
                    let committer = committer % n;
                    let mut victims: Vec<usize> = victims
                        .into_iter()
                        .map(|v| v % n)
                        .filter(|&v| v != committer)
                        .collect();
                    victims.sort_unstable();
                    victims.dedup();
                    if !victims.is_empty() {
                        g.remove(committer, &victims);
                    }
                }
                Step::Update { committer } => g.update(committer % n),
            }
        }
    }
}
