//! `SignWithLabel`/`VerifyWithLabel` over the three signed bodies, and the
//! GroupInfo HPKE envelope, end to end through the wire encoding.

use mimi_proto::messages::crypto::CryptoError;
use mimi_proto::messages::group_info::{
    GROUP_INFO_ENCRYPTION_LABEL, GROUP_INFO_REQUEST_LABEL, GROUP_INFO_RESPONSE_LABEL,
};
use mimi_proto::messages::key_material::KEY_MATERIAL_REQUEST_LABEL;
use mimi_proto::messages::*;
use mimi_proto::messages::{GroupInfoRequest, GroupInfoResponse, KeyMaterialRequest};
use mimi_proto::{RoomId, UserId, WireMessage};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::types::HpkeCiphertext;

use crate::pool::{CS, POOL, member};

fn crypto() -> OpenMlsRustCrypto {
    OpenMlsRustCrypto::default()
}

fn room() -> RoomId {
    RoomId::parse("mimi://a.example/r/clubhouse").unwrap()
}

fn key_material_tbs(key: SignaturePublicKey) -> KeyMaterialRequestTbs {
    KeyMaterialRequestTbs {
        requesting_user: UserId::parse("mimi://a.example/u/alice").unwrap(),
        target_user: UserId::parse("mimi://b.example/u/bob").unwrap(),
        room_id: Some(room()),
        acceptable_ciphersuites: vec![CS.into()],
        required_capabilities: POOL.required_capabilities[1].clone(),
        requester_signature_key: key,
        requester_credential: POOL.credentials[0].clone(),
    }
}

/// Verifies with OpenMLS directly: `SignContent { "MLS 1.0 " + label, content }`.
fn verifies_independently(
    key: &SignaturePublicKey,
    label: &str,
    content: &[u8],
    signature: &[u8],
) -> bool {
    let sign_content = SignContent::new(label, content.to_vec().into())
        .tls_serialize_detached()
        .unwrap();
    crypto()
        .crypto()
        .verify_signature(
            CS.signature_algorithm(),
            &sign_content,
            key.as_slice(),
            signature,
        )
        .is_ok()
}

#[test]
fn key_material_request_sign_and_verify() {
    let provider = crypto();
    let alice = member("mimi://a.example/d/alice/phone");
    let request = key_material_tbs(alice.public_key())
        .sign(&alice.signer)
        .unwrap();
    // Through the wire and back.
    let request = KeyMaterialRequest::decode(&request.encode().unwrap()).unwrap();
    assert_eq!(request.verify(provider.crypto()), Ok(()));
    assert!(verifies_independently(
        &alice.public_key(),
        KEY_MATERIAL_REQUEST_LABEL,
        &request.tbs.tls_serialize_detached().unwrap(),
        &request.signature
    ));

    // Any change to the signed part breaks the signature.
    let mut modified = request.clone();
    modified.tbs.target_user = UserId::parse("mimi://b.example/u/eve").unwrap();
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    let mut modified = request.clone();
    modified.tbs.room_id = None;
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    let mut modified = request.clone();
    modified.signature[0] ^= 1;
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    // Another key.
    let mallory = member("mimi://m.example/d/mallory/x");
    let mut modified = request.clone();
    modified.tbs.requester_signature_key = mallory.public_key();
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    // Signed by another key than the one it names.
    let forged = key_material_tbs(alice.public_key())
        .sign(&mallory.signer)
        .unwrap();
    assert_eq!(
        forged.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );

    // The signature scheme comes from the first acceptable suite.
    let p256 = SignatureKeyPair::new(SignatureScheme::ECDSA_SECP256R1_SHA256).unwrap();
    assert_eq!(
        key_material_tbs(alice.public_key()).sign(&p256).map(drop),
        Err(CryptoError::SchemeMismatch)
    );
    let mut no_suites = key_material_tbs(alice.public_key());
    no_suites.acceptable_ciphersuites.clear();
    assert_eq!(
        no_suites.sign(&alice.signer).map(drop),
        Err(CryptoError::SchemeMismatch)
    );
    let mut unknown_first = request.clone();
    unknown_first
        .tbs
        .acceptable_ciphersuites
        .insert(0, VerifiableCiphersuite::new(0x7a7a));
    assert_eq!(
        unknown_first.verify(provider.crypto()),
        Err(CryptoError::SchemeMismatch)
    );
}

fn hpke_keys(provider: &OpenMlsRustCrypto, seed: u8) -> HpkeKeyPair {
    provider
        .crypto()
        .derive_hpke_keypair(CS.hpke_config(), &[seed; 32])
        .unwrap()
}

#[test]
fn group_info_request_sign_and_verify() {
    let provider = crypto();
    let joiner = member("mimi://c.example/d/cathy/tab");
    let keys = hpke_keys(&provider, 1);
    let tbs = GroupInfoRequestTbs {
        cipher_suite: CS,
        requesting_signature_key: joiner.public_key(),
        requesting_credential: joiner.credential.clone(),
        group_info_public_key: keys.public.clone().into(),
        joining_code: b"code-123".to_vec(),
    };
    let request = tbs.clone().sign(&joiner.signer).unwrap();
    let request = GroupInfoRequest::decode(&request.encode().unwrap()).unwrap();
    assert_eq!(request.verify(provider.crypto()), Ok(()));
    assert!(verifies_independently(
        &joiner.public_key(),
        GROUP_INFO_REQUEST_LABEL,
        &request.tbs.tls_serialize_detached().unwrap(),
        &request.signature
    ));
    let mut modified = request.clone();
    modified.tbs.joining_code.clear();
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    let mut modified = request.clone();
    modified.tbs.group_info_public_key = hpke_keys(&provider, 2).public.into();
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    let other = member("mimi://c.example/d/cathy/phone");
    let mut modified = request.clone();
    modified.tbs.requesting_signature_key = other.public_key();
    assert_eq!(
        modified.verify(provider.crypto()),
        Err(CryptoError::BadSignature)
    );
    let p256 = SignatureKeyPair::new(SignatureScheme::ECDSA_SECP256R1_SHA256).unwrap();
    assert_eq!(tbs.sign(&p256).map(drop), Err(CryptoError::SchemeMismatch));
}

fn tbe() -> GroupInfoRatchetTreeTbe {
    GroupInfoRatchetTreeTbe {
        group_info: Box::new(POOL.group_infos[0].clone()),
        ratchet_tree_option: RatchetTreeOption::Full(POOL.trees[0].clone()),
        pending_proposals: vec![PendingProposal {
            proposal: POOL.proposals[1].clone(),
            hub_accepted_time: 1_700_000_000_000,
        }],
    }
}

#[test]
fn group_info_response_end_to_end() {
    let provider = crypto();
    let crypto = provider.crypto();
    let hub = member("mimi://a.example");
    let joiner_keys = hpke_keys(&provider, 3);

    // Hub: encrypt to the joiner's key with the room as context, then sign.
    let encrypted = tbe()
        .encrypt(crypto, CS, &joiner_keys.public, &room())
        .unwrap();
    let response = GroupInfoResponseTbs {
        room_id: room(),
        cipher_suite: CS,
        hub_sender: ExternalSender::new(hub.public_key(), hub.credential.clone()),
        encrypted_groupinfo_and_tree: encrypted,
    }
    .sign(&hub.signer)
    .unwrap();

    // Joiner: decode, verify, decrypt.
    let response = GroupInfoResponse::decode(&response.encode().unwrap()).unwrap();
    let GroupInfoResponse::Success { tbs, signature } = &response else {
        panic!("not a success: {response:?}");
    };
    assert_eq!(tbs.verify(crypto, signature), Ok(()));
    assert!(verifies_independently(
        &hub.public_key(),
        GROUP_INFO_RESPONSE_LABEL,
        &tbs.tls_serialize_detached().unwrap(),
        signature
    ));
    let plain = GroupInfoRatchetTreeTbe::decrypt(
        crypto,
        CS,
        &joiner_keys.private,
        &room(),
        &tbs.encrypted_groupinfo_and_tree,
    )
    .unwrap();
    assert_eq!(plain, tbe());

    // A modified response or another signer fails.
    let mut modified = tbs.clone();
    modified.room_id = RoomId::parse("mimi://a.example/r/other").unwrap();
    assert_eq!(
        modified.verify(crypto, signature),
        Err(CryptoError::BadSignature)
    );
    let impostor = member("mimi://a.example");
    let mut modified = tbs.clone();
    modified.hub_sender = ExternalSender::new(impostor.public_key(), hub.credential.clone());
    assert_eq!(
        modified.verify(crypto, signature),
        Err(CryptoError::BadSignature)
    );

    // Decryption needs the right key, the right room (HPKE context) and an
    // untouched ciphertext.
    let wrong_key = hpke_keys(&provider, 4);
    let ct = &tbs.encrypted_groupinfo_and_tree;
    assert_eq!(
        GroupInfoRatchetTreeTbe::decrypt(crypto, CS, &wrong_key.private, &room(), ct),
        Err(CryptoError::Decrypt)
    );
    let other_room = RoomId::parse("mimi://a.example/r/other").unwrap();
    assert_eq!(
        GroupInfoRatchetTreeTbe::decrypt(crypto, CS, &joiner_keys.private, &other_room, ct),
        Err(CryptoError::Decrypt)
    );
    let mut tampered: HpkeCiphertext = ct.clone();
    let mut body = tampered.ciphertext.as_slice().to_vec();
    body[0] ^= 1;
    tampered.ciphertext = body.into();
    assert_eq!(
        GroupInfoRatchetTreeTbe::decrypt(crypto, CS, &joiner_keys.private, &room(), &tampered),
        Err(CryptoError::Decrypt)
    );

    // The label is the draft's: decrypting by hand with OpenMLS's HPKE and
    // EncryptContext { "MLS 1.0 " + label, room_id } gives the TBE bytes.
    let info = encrypt_context(GROUP_INFO_ENCRYPTION_LABEL, room().as_bytes());
    let opened = crypto
        .hpke_open(CS.hpke_config(), ct, &joiner_keys.private, &info, &[])
        .unwrap();
    assert_eq!(opened, tbe().encode().unwrap());
}

/// `struct { opaque label<V>; opaque context<V>; } EncryptContext;` built here
/// independently of the crate's helper.
fn encrypt_context(label: &str, context: &[u8]) -> Vec<u8> {
    let full = format!("MLS 1.0 {label}");
    let mut out = Vec::new();
    tls_codec::VLByteSlice(full.as_bytes())
        .tls_serialize(&mut out)
        .unwrap();
    tls_codec::VLByteSlice(context)
        .tls_serialize(&mut out)
        .unwrap();
    out
}
