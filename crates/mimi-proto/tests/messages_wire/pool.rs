//! A small pool of real OpenMLS objects, built once, for property tests to pick
//! from: KeyPackages, credentials, proposals, commits, an application message,
//! a Welcome, a GroupInfo and a ratchet tree from one two-member group.

use std::sync::LazyLock;

use mimi_proto::messages::{ApplicationMessage, CommitMessage, ProposalMessage};
use openmls::ciphersuite::hash_ref::ProposalRef;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;

pub const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

#[derive(Debug)]
pub struct Pool {
    pub key_packages: Vec<KeyPackageIn>,
    pub credentials: Vec<Credential>,
    pub signature_keys: Vec<SignaturePublicKey>,
    pub capabilities: Vec<Capabilities>,
    pub required_capabilities: Vec<RequiredCapabilitiesExtension>,
    pub external_senders: Vec<ExternalSender>,
    pub proposals: Vec<ProposalMessage>,
    pub commits: Vec<CommitMessage>,
    pub applications: Vec<ApplicationMessage>,
    pub welcomes: Vec<Welcome>,
    pub group_infos: Vec<VerifiableGroupInfo>,
    pub trees: Vec<RatchetTreeIn>,
    pub extensions: Vec<Extension>,
    pub proposal_refs: Vec<ProposalRef>,
    pub dictionaries: Vec<AppDataDictionary>,
}

pub static POOL: LazyLock<Pool> = LazyLock::new(build);

pub struct Member {
    pub signer: SignatureKeyPair,
    pub credential: Credential,
}

pub fn member(identity: &str) -> Member {
    Member {
        signer: SignatureKeyPair::new(CS.signature_algorithm()).unwrap(),
        credential: BasicCredential::new(identity.as_bytes().to_vec()).into(),
    }
}

impl Member {
    pub fn public_key(&self) -> SignaturePublicKey {
        SignaturePublicKey::from(self.signer.public())
    }

    fn with_key(&self) -> CredentialWithKey {
        CredentialWithKey {
            credential: self.credential.clone(),
            signature_key: self.public_key(),
        }
    }
}

fn into_in(out: MlsMessageOut) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(out.tls_serialize_detached().unwrap()).unwrap()
}

fn key_package(provider: &OpenMlsRustCrypto, m: &Member) -> KeyPackageIn {
    let bundle = KeyPackage::builder()
        .build(CS, provider, &m.signer, m.with_key())
        .unwrap();
    KeyPackageIn::from(bundle.key_package().clone())
}

fn build() -> Pool {
    let provider = OpenMlsRustCrypto::default();
    let alice = member("mimi://a.example/d/alice/phone");
    let bob = member("mimi://b.example/d/bob/laptop");
    let carol = member("mimi://c.example/d/carol/tab");
    alice.signer.store(provider.storage()).unwrap();

    let mut group = MlsGroup::builder()
        .ciphersuite(CS)
        .with_wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build(&provider, &alice.signer, alice.with_key())
        .unwrap();

    let bob_kp = key_package(&provider, &bob);
    let carol_kp = key_package(&provider, &carol);
    let bob_kp_checked = bob_kp
        .clone()
        .validate(provider.crypto(), ProtocolVersion::Mls10)
        .unwrap();
    let (add_commit, welcome, _) = group
        .add_members(&provider, &alice.signer, &[bob_kp_checked])
        .unwrap();
    group.merge_pending_commit(&provider).unwrap();

    let (update_proposal, update_ref) = group
        .propose_self_update(&provider, &alice.signer, LeafNodeParameters::default())
        .unwrap();
    let (update_commit, _, _) = group
        .commit_to_pending_proposals(&provider, &alice.signer)
        .unwrap();
    group.merge_pending_commit(&provider).unwrap();

    // Application messages cannot be sent while proposals are pending.
    let app_short = group
        .create_message(&provider, &alice.signer, b"hi")
        .unwrap();
    let app_long = group
        .create_message(&provider, &alice.signer, &[0x5a; 300])
        .unwrap();
    let (remove_proposal, remove_ref) = group
        .propose_remove_member(&provider, &alice.signer, LeafNodeIndex::new(1))
        .unwrap();

    let group_info = match into_in(
        group
            .export_group_info(provider.crypto(), &alice.signer, false)
            .unwrap(),
    )
    .extract()
    {
        MlsMessageBodyIn::GroupInfo(gi) => gi,
        other => panic!("not a GroupInfo: {other:?}"),
    };
    let welcome = match into_in(welcome).extract() {
        MlsMessageBodyIn::Welcome(w) => w,
        other => panic!("not a Welcome: {other:?}"),
    };
    let tree = RatchetTreeIn::from(group.export_ratchet_tree());
    let extensions: Vec<Extension> = group_info.extensions().iter().cloned().collect();
    assert!(!extensions.is_empty(), "GroupInfo has external_pub");

    let mut dictionary = AppDataDictionary::new();
    dictionary.insert(0x0022, vec![1, 2, 3]);
    dictionary.insert(0x8001, vec![]);

    Pool {
        key_packages: vec![bob_kp, carol_kp],
        credentials: vec![alice.credential.clone(), bob.credential.clone()],
        signature_keys: vec![alice.public_key(), bob.public_key()],
        capabilities: vec![
            Capabilities::default(),
            Capabilities::builder()
                .extensions(vec![ExtensionType::AppDataDictionary])
                .proposals(vec![ProposalType::AppDataUpdate])
                .build(),
        ],
        required_capabilities: vec![
            RequiredCapabilitiesExtension::default(),
            RequiredCapabilitiesExtension::new(
                &[ExtensionType::AppDataDictionary],
                &[ProposalType::AppDataUpdate],
                &[CredentialType::Basic],
            ),
        ],
        external_senders: vec![ExternalSender::new(
            carol.public_key(),
            BasicCredential::new(b"mimi://a.example".to_vec()).into(),
        )],
        proposals: vec![
            ProposalMessage::try_from(into_in(update_proposal)).unwrap(),
            ProposalMessage::try_from(into_in(remove_proposal)).unwrap(),
        ],
        commits: vec![
            CommitMessage::try_from(into_in(add_commit)).unwrap(),
            CommitMessage::try_from(into_in(update_commit)).unwrap(),
        ],
        applications: vec![
            ApplicationMessage::try_from(into_in(app_short)).unwrap(),
            ApplicationMessage::try_from(into_in(app_long)).unwrap(),
        ],
        welcomes: vec![welcome],
        group_infos: vec![group_info],
        trees: vec![tree],
        extensions,
        proposal_refs: vec![update_ref, remove_ref],
        dictionaries: vec![AppDataDictionary::new(), dictionary],
    }
}
