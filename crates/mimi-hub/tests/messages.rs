//! submitMessage at the hub: sender checks, epochs, franking and fan-out, with
//! real clients that encrypt.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

mod support;

use hmac::{Hmac, Mac as _};
use mimi_content::ContentBuilder;
use mimi_content::Salt;
use mimi_content::franking::{FrankingTag, SafeAad};
use mimi_hub::HubError;
use mimi_policy::Preset;
use mimi_proto::franking::{FRANKING_INTEGRITY_LABEL, ServerFrankingContext};
use mimi_proto::messages::RawFanoutMessage;
use mimi_proto::messages::crypto::verify_with_label;
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{ProviderId, RoomId};
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{MlsGroup, MlsMessageIn, ProcessedMessageContent};
use openmls_traits::OpenMlsProvider as _;
use sha2::Sha256;
use support::*;

/// Encrypts a franked text message from `c` in `group`; returns the message
/// and the content bytes.
fn franked_message(
    c: &Client,
    group: &mut MlsGroup,
    room: &RoomId,
    text: &str,
) -> (MlsMessageIn, Vec<u8>, Salt) {
    let salt = Salt::random(&mut rand::rngs::OsRng);
    let content = ContentBuilder::new(c.identity.user().as_str(), room.as_str())
        .salt(salt)
        .markdown(text)
        .unwrap();
    let tag = FrankingTag::compute(&salt, &content.bytes);
    group.set_aad(SafeAad::with_frank_aad(tag).encode().unwrap());
    let out = group
        .create_message(&c.provider, c.identity.signer(), &content.bytes)
        .unwrap();
    (wire(&out), content.bytes, salt)
}

#[test]
fn messages_are_franked_fanned_out_and_decryptable() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut w, &bob);
    let room = w.room.id().clone();

    let (message, content, salt) =
        franked_message(&w.alice, &mut w.alice_group, &room, "hello **bob**");
    let a = ProviderId::from_domain("a.example").unwrap();
    let accepted = w
        .room
        .accept_message(&w.hub, &a, message, &w.alice.user(), NOW)
        .unwrap();
    let frank = accepted.frank.expect("a frank_aad item asks for a frank");

    // Fan-out to both providers, each with the same message and frank.
    let to: Vec<_> = accepted
        .accepted
        .deliveries
        .iter()
        .map(|d| d.to.domain().to_owned())
        .collect();
    assert_eq!(to, ["a.example", "b.example"]);
    let RawFanoutMessage::Application {
        message,
        frank: Some(_),
        ..
    } = &accepted.accepted.deliveries[1].event
    else {
        panic!("expected a franked application message")
    };

    // Bob decrypts what the hub relayed.
    let protocol = MlsMessageIn::tls_deserialize_exact(message)
        .unwrap()
        .try_into_protocol_message()
        .unwrap();
    let ProcessedMessageContent::ApplicationMessage(app) = bob_group
        .process_message(&bob.provider, protocol)
        .unwrap()
        .into_content()
    else {
        panic!("expected an application message")
    };
    assert_eq!(app.into_bytes(), content);

    // The frank verifies: the signature by the hub's key over the context
    // rebuilt from what the receiver knows, and the MAC over the sender's tag.
    let context = ServerFrankingContext {
        sender_uri: w.alice.user().as_uri().clone(),
        room_uri: room.clone(),
        accepted_timestamp: NOW,
    };
    let tbs = context
        .integrity_tbs(&frank.server_frank, CIPHERSUITE)
        .unwrap();
    let key =
        mimi_proto::messages::crypto::external_sender_key(&w.hub.keys().external_sender()).unwrap();
    verify_with_label(
        bob.provider.crypto(),
        CIPHERSUITE.signature_algorithm(),
        &key,
        FRANKING_INTEGRITY_LABEL,
        &tbs,
        &frank.franking_integrity_signature,
    )
    .unwrap();
    let tag = FrankingTag::compute(&salt, &content);
    let mut mac = Hmac::<Sha256>::new_from_slice(&w.hub.keys().franking_key(&room)).unwrap();
    mac.update(&context.mac_input(tag.as_bytes()).unwrap());
    assert_eq!(
        <[u8; 32]>::from(mac.finalize().into_bytes()),
        frank.server_frank
    );
    // A moved timestamp no longer verifies.
    let moved = ServerFrankingContext {
        accepted_timestamp: NOW + 1,
        ..context
    };
    assert!(
        verify_with_label(
            bob.provider.crypto(),
            CIPHERSUITE.signature_algorithm(),
            &key,
            FRANKING_INTEGRITY_LABEL,
            &moved
                .integrity_tbs(&frank.server_frank, CIPHERSUITE)
                .unwrap(),
            &frank.franking_integrity_signature,
        )
        .is_err()
    );
}

#[test]
fn senders_are_checked_against_provider_policy_and_epoch() {
    let mut w = world(Preset::PrivateGroup);
    let bob = Client::new("mimi://b.example/d/bob/laptop");
    let mut bob_group = add_bob(&mut w, &bob);
    let room = w.room.id().clone();
    let a = ProviderId::from_domain("a.example").unwrap();
    let b = ProviderId::from_domain("b.example").unwrap();

    // b.example cannot speak for alice.
    let (m, _, _) = franked_message(&w.alice, &mut w.alice_group, &room, "x");
    let err = w
        .room
        .accept_message(&w.hub, &b, m, &w.alice.user(), NOW)
        .unwrap_err();
    assert!(matches!(err, HubError::NotAllowed(_)), "{err}");

    // An unlisted user is refused by the policy.
    let (m, _, _) = franked_message(&bob, &mut bob_group, &room, "x");
    let eve: mimi_proto::components::ParticipantId = user("mimi://b.example/u/eve").into();
    let err = w.room.accept_message(&w.hub, &b, m, &eve, NOW).unwrap_err();
    assert!(matches!(err, HubError::Denied { .. }), "{err}");

    // After a new epoch, a message from the old one is epochTooOld.
    let (old, _, _) = franked_message(&bob, &mut bob_group, &room, "late");
    let carol = Client::new("mimi://c.example/d/carol/phone");
    let out = commit(
        &w.alice,
        &mut w.alice_group,
        Inline {
            adds: vec![carol.key_package().0],
            app: vec![add_user(carol.user(), 2)],
            ..Default::default()
        },
        Vec::new(),
    );
    w.room.accept_commit(&w.hub, bundle(&out), NOW).unwrap();
    let err = w
        .room
        .accept_message(&w.hub, &b, old, &bob.user(), NOW)
        .unwrap_err();
    assert!(matches!(err, HubError::EpochTooOld { current: 2 }), "{err}");
    let _ = a;
}
