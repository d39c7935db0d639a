//! Verifying the hub's frank on a received message (protocol-06 §5.4.1,
//! digest §8): the suite is the room's, the franking key is the room's
//! `franking_agent` for the hub's domain, the integrity signature covers
//! `FrankingIntegrityTBS` over the context we recompute (sender, room, hub
//! timestamp), and the franking tag in the AAD is the tag of the content we
//! decrypted. The `server_frank` MAC itself needs the hub's secret, so only
//! the hub checks it (abuse reports, §5.9).

use openmls::prelude::{OpenMlsCrypto, SignaturePublicKey};

use mimi_policy::RoomState;
use mimi_proto::components::{CredentialType, ParticipantId};
use mimi_proto::franking::{FRANKING_INTEGRITY_LABEL, ServerFrankingContext};
use mimi_proto::messages::Frank;
use mimi_proto::messages::crypto::verify_with_label;
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{MimiUri, RoomId};

use crate::events::FrankError;

/// Verifies `frank` for a message `sender` sent to `room`, accepted by the
/// hub at `accepted_timestamp`. The caller has checked that the AAD's
/// franking tag is the tag of the content.
///
/// # Errors
/// The [`FrankError`] naming the first check that fails.
pub fn verify_frank(
    crypto: &impl OpenMlsCrypto,
    state: &RoomState,
    room: &RoomId,
    sender: &ParticipantId,
    accepted_timestamp: u64,
    frank: &Frank,
) -> Result<(), FrankError> {
    if frank.franking_signature_ciphersuite != CIPHERSUITE {
        return Err(FrankError::Ciphersuite);
    }
    let agent = state
        .components()
        .franking_agent
        .as_ref()
        .ok_or(FrankError::NoKey)?;
    // The franking agent must be the room's hub (its credential names the
    // hub's domain), or a follower could frank in the hub's name.
    let names_hub = agent.credential.credential_type == CredentialType::BASIC
        && std::str::from_utf8(&agent.credential.content)
            .ok()
            .and_then(|s| MimiUri::parse(s).ok())
            .is_some_and(|uri| uri.domain() == room.hub_domain());
    if !names_hub {
        return Err(FrankError::NoKey);
    }
    let context = ServerFrankingContext {
        sender_uri: sender.as_uri().clone(),
        room_uri: room.clone(),
        accepted_timestamp,
    };
    let tbs = context
        .integrity_tbs(&frank.server_frank, CIPHERSUITE)
        .map_err(|_| FrankError::Malformed)?;
    verify_with_label(
        crypto,
        CIPHERSUITE.signature_algorithm(),
        &SignaturePublicKey::from(agent.franking_signature_key.clone()),
        FRANKING_INTEGRITY_LABEL,
        &tbs,
        &frank.franking_integrity_signature,
    )
    .map_err(|_| FrankError::Signature)
}

#[cfg(test)]
mod tests {
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use openmls_traits::OpenMlsProvider as _;

    use mimi_policy::{Member, Preset};
    use mimi_proto::components::{FrankingAgentData, MlsCredential};
    use mimi_proto::messages::crypto::sign_with_label;

    use super::*;

    fn state(hub_identity: &str, key: &SignatureKeyPair) -> RoomState {
        let room = RoomId::parse("mimi://hub.example/r/x").unwrap();
        let alice = ParticipantId::parse("mimi://a.example/u/alice").unwrap();
        let t = Preset::PrivateGroup.template();
        let mut c = t.components(
            room,
            vec![mimi_proto::components::UserRolePair {
                user: alice.clone(),
                role_index: t.creator_role,
            }],
        );
        c.franking_agent = Some(FrankingAgentData {
            franking_signature_key: key.to_public_vec(),
            credential: MlsCredential {
                credential_type: CredentialType::BASIC,
                content: hub_identity.as_bytes().to_vec(),
            },
        });
        let client = mimi_proto::ClientId::parse("mimi://a.example/d/alice/p").unwrap();
        RoomState::from_committed(c, vec![Member::basic(client, alice)]).unwrap()
    }

    fn frank(key: &SignatureKeyPair, sender: &ParticipantId, room: &RoomId, ts: u64) -> Frank {
        let context = ServerFrankingContext {
            sender_uri: sender.as_uri().clone(),
            room_uri: room.clone(),
            accepted_timestamp: ts,
        };
        let server_frank = [7; 32];
        let tbs = context.integrity_tbs(&server_frank, CIPHERSUITE).unwrap();
        Frank {
            server_frank,
            franking_signature_ciphersuite: CIPHERSUITE,
            franking_integrity_signature: sign_with_label(key, FRANKING_INTEGRITY_LABEL, &tbs)
                .unwrap(),
        }
    }

    #[test]
    fn verifies_the_hub_signature_over_the_recomputed_context() {
        let provider = OpenMlsRustCrypto::default();
        let key = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap();
        let room = RoomId::parse("mimi://hub.example/r/x").unwrap();
        let alice = ParticipantId::parse("mimi://a.example/u/alice").unwrap();
        let s = state("mimi://hub.example/u/mimi-hub", &key);
        let f = frank(&key, &alice, &room, 42);
        let crypto = provider.crypto();
        assert_eq!(verify_frank(crypto, &s, &room, &alice, 42, &f), Ok(()));
        // Another timestamp, sender or suite: the context differs.
        assert_eq!(
            verify_frank(crypto, &s, &room, &alice, 43, &f),
            Err(FrankError::Signature)
        );
        let bob = ParticipantId::parse("mimi://a.example/u/bob").unwrap();
        assert_eq!(
            verify_frank(crypto, &s, &room, &bob, 42, &f),
            Err(FrankError::Signature)
        );
        let mut other_suite = f.clone();
        other_suite.franking_signature_ciphersuite =
            openmls::prelude::Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
        assert_eq!(
            verify_frank(crypto, &s, &room, &alice, 42, &other_suite),
            Err(FrankError::Ciphersuite)
        );
        // A franking agent of another domain is not the room's hub.
        let s = state("mimi://evil.example/u/mimi-hub", &key);
        assert_eq!(
            verify_frank(crypto, &s, &room, &alice, 42, &f),
            Err(FrankError::NoKey)
        );
    }
}
