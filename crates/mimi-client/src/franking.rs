//! Verifying the hub's frank on a received message (protocol-06 §5.4.1,
//! digest §8): the suite is the room's, the franking key is the room's
//! `franking_agent` for the hub's domain, the integrity signature covers
//! `FrankingIntegrityTBS` over the context we recompute (sender, room, hub
//! timestamp), and the franking tag in the AAD is the tag of the content we
//! decrypted. The `server_frank` MAC itself needs the hub's secret, so only
//! the hub checks it (abuse reports, §5.9).

use openmls::prelude::{OpenMlsCrypto, SignaturePublicKey};
use tls_codec::{Serialize as _, VLByteSlice};

use mimi_policy::RoomState;
use mimi_proto::components::{CredentialType, ParticipantId};
use mimi_proto::messages::Frank;
use mimi_proto::messages::crypto::verify_with_label;
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{MimiUri, RoomId};

use crate::events::FrankError;

/// The label of the frank's integrity signature.
pub const FRANKING_INTEGRITY_LABEL: &str = "FrankingIntegrityTBS";

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
    let tbs = integrity_tbs(sender, room, accepted_timestamp, &frank.server_frank)
        .map_err(|()| FrankError::Malformed)?;
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

/// `FrankingIntegrityTBS { opaque server_frank[32]; CipherSuite
/// franking_signature_ciphersuite; ServerFrankingContext context; }` with
/// `ServerFrankingContext { IdentifierUri sender_uri; IdentifierUri room_uri;
/// uint64 accepted_timestamp; }`.
pub(crate) fn integrity_tbs(
    sender: &ParticipantId,
    room: &RoomId,
    accepted_timestamp: u64,
    server_frank: &[u8; 32],
) -> Result<Vec<u8>, ()> {
    let mut out = server_frank.to_vec();
    out.extend((CIPHERSUITE as u16).to_be_bytes());
    VLByteSlice(sender.as_bytes())
        .tls_serialize(&mut out)
        .map_err(|_| ())?;
    VLByteSlice(room.as_bytes())
        .tls_serialize(&mut out)
        .map_err(|_| ())?;
    out.extend(accepted_timestamp.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tbs_layout_matches_the_draft_by_hand() {
        let sender = ParticipantId::parse("mimi://b.example/u/bob").unwrap();
        let room = RoomId::parse("mimi://a.example/r/x").unwrap();
        let tbs = integrity_tbs(&sender, &room, 0x0102_0304_0506_0708, &[0x55; 32]).unwrap();
        let mut want = vec![0x55; 32];
        want.extend([0x00, 0x01]);
        want.push(0x16);
        want.extend(b"mimi://b.example/u/bob");
        want.push(0x14);
        want.extend(b"mimi://a.example/r/x");
        want.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(tbs, want);
    }
}
