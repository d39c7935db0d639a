//! Turns the hub's [`Event`]s into `FanoutMessage` bytes (protocol-06 §5.5) for
//! the outbox and local mailboxes.
//!
//! The hub hands out every MLS object as the exact bytes it received or built,
//! and a `FanoutMessage` is those bytes between a timestamp and a kind-specific
//! trailer. Concatenating them avoids decoding each MLS message again only to
//! encode it unchanged, on the hottest path of the server. The tests check the
//! result against `mimi_proto`'s decoder and encoder byte for byte.

use mimi_hub::Event;
use tls_codec::{Serialize as _, VLByteSlice};

/// `RatchetTreeRepresentation.full` (draft-mahy-mls-ratchet-tree-options).
const RATCHET_TREE_FULL: u8 = 1;

/// The encoded `FanoutMessage` for `event`.
///
/// # Errors
/// Only if a vector exceeds the MLS 30-bit length limit, which the hub's own
/// input caps rule out.
pub fn encode(event: &Event) -> Result<Vec<u8>, tls_codec::Error> {
    let mut out = Vec::with_capacity(encoded_len_hint(event));
    match event {
        Event::Application {
            timestamp,
            message,
            frank,
        } => {
            out.extend_from_slice(&timestamp.to_be_bytes());
            out.extend_from_slice(message);
            // optional<Frank>: a presence byte, then the Frank itself.
            match frank {
                Some(frank) => {
                    out.push(1);
                    out.extend_from_slice(frank);
                }
                None => out.push(0),
            }
        }
        Event::Welcome {
            timestamp,
            message,
            ratchet_tree,
        } => {
            out.extend_from_slice(&timestamp.to_be_bytes());
            out.extend_from_slice(message);
            // RatchetTreeOption.full: the tree is already `Node ratchet_tree<V>`.
            out.push(RATCHET_TREE_FULL);
            out.extend_from_slice(ratchet_tree);
        }
        Event::Proposal {
            timestamp,
            message,
            more_proposals: more,
        }
        | Event::Commit {
            timestamp,
            message,
            external_proposals: more,
        } => {
            out.extend_from_slice(&timestamp.to_be_bytes());
            out.extend_from_slice(message);
            // MLSMessage list<V>: one length prefix over the concatenated messages.
            let joined: Vec<u8> = more.concat();
            VLByteSlice(&joined).tls_serialize(&mut out)?;
        }
    }
    Ok(out)
}

/// The acceptance timestamp of an event (the tests compare it with the decoded one).
#[cfg(test)]
pub fn timestamp(event: &Event) -> u64 {
    match event {
        Event::Application { timestamp, .. }
        | Event::Welcome { timestamp, .. }
        | Event::Proposal { timestamp, .. }
        | Event::Commit { timestamp, .. } => *timestamp,
    }
}

fn encoded_len_hint(event: &Event) -> usize {
    16 + match event {
        Event::Application { message, frank, .. } => {
            message.len() + frank.as_ref().map_or(0, Vec::len)
        }
        Event::Welcome {
            message,
            ratchet_tree,
            ..
        } => message.len() + ratchet_tree.len(),
        Event::Proposal {
            message,
            more_proposals: more,
            ..
        }
        | Event::Commit {
            message,
            external_proposals: more,
            ..
        } => message.len() + more.iter().map(Vec::len).sum::<usize>(),
    }
}

#[cfg(test)]
mod tests {
    use mimi_client::Identity;
    use mimi_hub::HubKeys;
    use mimi_mls::member::{add_members, create_group};
    use mimi_proto::messages::{FanoutEvent, FanoutMessage, NotifyBody};
    use mimi_proto::{ClientId, ProviderId, RoomId, WireMessage as _};
    use openmls::prelude::{AppDataDictionary, MlsMessageOut};
    use openmls_rust_crypto::OpenMlsRustCrypto;

    use super::*;

    fn bytes(m: &MlsMessageOut) -> Vec<u8> {
        m.tls_serialize_detached().unwrap()
    }

    /// Real MLS objects: a commit adding Bob, its Welcome, the tree, and an
    /// application message.
    fn material() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
        let provider = OpenMlsRustCrypto::default();
        let alice =
            Identity::generate(ClientId::parse("mimi://a.example/d/alice/1").unwrap()).unwrap();
        let bob_provider = OpenMlsRustCrypto::default();
        let bob = Identity::generate(ClientId::parse("mimi://b.example/d/bob/1").unwrap()).unwrap();
        let hub = HubKeys::generate(ProviderId::from_domain("a.example").unwrap()).unwrap();
        let room = RoomId::parse("mimi://a.example/r/x").unwrap();
        let mut group = create_group(
            &provider,
            &alice,
            &room,
            hub.external_sender(),
            AppDataDictionary::new(),
        )
        .unwrap();
        let kp = bob.key_package(&bob_provider).unwrap();
        let out = add_members(&provider, &alice, &mut group, vec![kp]).unwrap();
        group.merge_pending_commit(&provider).unwrap();
        let tree = group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .unwrap();
        let app = group
            .create_message(&provider, alice.signer(), b"hello")
            .unwrap();
        (
            bytes(&out.commit),
            bytes(out.welcome.as_ref().unwrap()),
            tree,
            bytes(&app),
        )
    }

    #[test]
    fn every_kind_decodes_and_reencodes_identically() {
        let (commit, welcome, tree, app) = material();
        let frank = {
            let f = mimi_proto::messages::Frank {
                server_frank: [7; 32],
                franking_signature_ciphersuite: mimi_proto::mls_profile::CIPHERSUITE,
                franking_integrity_signature: vec![1, 2, 3],
            };
            f.tls_serialize_detached().unwrap()
        };
        let events = [
            Event::Application {
                timestamp: 1,
                message: app.clone(),
                frank: None,
            },
            Event::Application {
                timestamp: 2,
                message: app,
                frank: Some(frank),
            },
            Event::Welcome {
                timestamp: 3,
                message: welcome,
                ratchet_tree: tree,
            },
            Event::Commit {
                timestamp: 4,
                message: commit,
                external_proposals: Vec::new(),
            },
        ];
        let mut body = Vec::new();
        for event in &events {
            let encoded = encode(event).unwrap();
            let decoded = FanoutMessage::decode(&encoded).unwrap();
            assert_eq!(decoded.timestamp, timestamp(event));
            let kind_matches = matches!(
                (&decoded.event, event),
                (FanoutEvent::Application { .. }, Event::Application { .. })
                    | (FanoutEvent::Welcome { .. }, Event::Welcome { .. })
                    | (FanoutEvent::Commit { .. }, Event::Commit { .. })
            );
            assert!(kind_matches, "{event:?}");
            assert_eq!(decoded.encode().unwrap(), encoded);
            body.extend_from_slice(&encoded);
        }
        // Concatenated, they form one notify body in order.
        // A follower slices it back into the same per-message payloads.
        crate::setup::fuzzing::notify_slices(&body);
        let notify = NotifyBody::decode(&body).unwrap();
        assert_eq!(notify.messages.len(), events.len());
        assert_eq!(notify.encode().unwrap(), body);
    }

    /// The hub's event in `mimi_proto`'s raw view, field by field.
    fn raw(event: &Event) -> mimi_proto::messages::RawFanoutMessage {
        use mimi_proto::messages::RawFanoutMessage as Raw;
        match event.clone() {
            Event::Commit {
                timestamp,
                message,
                external_proposals,
            } => Raw::Commit {
                timestamp,
                message,
                external_proposals,
            },
            Event::Welcome {
                timestamp,
                message,
                ratchet_tree,
            } => Raw::Welcome {
                timestamp,
                message,
                ratchet_tree,
            },
            Event::Proposal {
                timestamp,
                message,
                more_proposals,
            } => Raw::Proposal {
                timestamp,
                message,
                more_proposals,
            },
            Event::Application {
                timestamp,
                message,
                frank,
            } => Raw::Application {
                timestamp,
                message,
                frank,
            },
        }
    }

    /// `RawFanoutMessage`'s writer produces exactly this encoder's bytes, for
    /// real MLS objects and for opaque ones of every length class.
    #[test]
    fn raw_fanout_message_writes_the_same_bytes() {
        let (commit, welcome, tree, app) = material();
        let long = vec![0x5a; 20_000];
        let events = [
            Event::Application {
                timestamp: u64::MAX,
                message: app,
                frank: Some(vec![1, 2, 3]),
            },
            Event::Application {
                timestamp: 0,
                message: long.clone(),
                frank: None,
            },
            Event::Welcome {
                timestamp: 3,
                message: welcome,
                ratchet_tree: tree,
            },
            Event::Proposal {
                timestamp: 4,
                message: vec![9; 70],
                more_proposals: vec![vec![1; 63], vec![2; 1], long.clone()],
            },
            Event::Proposal {
                timestamp: 5,
                message: vec![9],
                more_proposals: Vec::new(),
            },
            Event::Commit {
                timestamp: 6,
                message: commit,
                external_proposals: vec![vec![7; 64]],
            },
            Event::Commit {
                timestamp: 7,
                message: long,
                external_proposals: Vec::new(),
            },
        ];
        for event in &events {
            assert_eq!(
                raw(event).encode().unwrap(),
                encode(event).unwrap(),
                "{event:?}"
            );
        }
    }
}
