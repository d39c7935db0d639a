//! Every struct round-trips: arbitrary value → bytes → equal value, the
//! encoding has the length `Size` claims, re-encoding the decoded value gives
//! the same bytes, and top-level bodies reject a trailing byte.

use std::fmt::Debug;

use mimi_proto::codec::decode_exact;
use mimi_proto::messages::*;
use mimi_proto::{DecodeError, WireMessage};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tls_codec::{DeserializeBytes, Serialize as _};

use crate::strategies::*;

/// A top-level body: round trip through [`WireMessage`], and one extra byte at
/// the end is [`DecodeError::TrailingBytes`].
fn body<T: WireMessage + PartialEq + Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.encode().unwrap();
    prop_assert_eq!(
        bytes.len(),
        value.tls_serialized_len(),
        "Size of {}",
        T::NAME
    );
    let back = T::decode(&bytes).unwrap();
    prop_assert_eq!(&back, value);
    prop_assert_eq!(back.encode().unwrap(), bytes.clone());
    let mut longer = bytes;
    longer.push(0);
    prop_assert_eq!(
        T::decode(&longer),
        Err(DecodeError::TrailingBytes),
        "{}",
        T::NAME
    );
    Ok(())
}

/// A struct inside a body: round trip through its `tls_codec` impls.
fn part<T: DeserializeBytes + tls_codec::Serialize + PartialEq + Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let bytes = value.tls_serialize_detached().unwrap();
    prop_assert_eq!(bytes.len(), value.tls_serialized_len());
    let back: T = decode_exact(&bytes, "part").unwrap();
    prop_assert_eq!(&back, value);
    prop_assert_eq!(back.tls_serialize_detached().unwrap(), bytes.clone());
    let mut longer = bytes;
    longer.push(0);
    prop_assert_eq!(
        decode_exact::<T>(&longer, "part"),
        Err(DecodeError::TrailingBytes)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn key_material(
        tbs in key_material_request_tbs(),
        request in key_material_request(),
        client in client_key_material(),
        response in key_material_response(),
    ) {
        part(&tbs)?;
        body(&request)?;
        part(&client)?;
        body(&response)?;
    }

    #[test]
    fn update(
        request in update_request(),
        bundle in handshake_bundle(),
        group_info in group_info_option(),
        partial in partial_group_info(),
        tree in ratchet_tree_option(),
        response in update_room_response(),
    ) {
        body(&request)?;
        part(&bundle)?;
        part(&group_info)?;
        part(&partial)?;
        part(&tree)?;
        body(&response)?;
    }

    #[test]
    fn submit(request in submit_message_request(), response in submit_message_response(), frank in frank()) {
        body(&request)?;
        body(&response)?;
        part(&frank)?;
    }

    #[test]
    fn fanout(message in fanout_message(), notify in notify_body()) {
        body(&message)?;
        raw_view(&message)?;
        // A notify body is the plain concatenation of its messages.
        let mut concatenated = Vec::new();
        for m in &notify.messages {
            concatenated.extend(m.encode().unwrap());
        }
        prop_assert_eq!(notify.encode().unwrap(), concatenated.clone());
        let back = NotifyBody::decode(&concatenated).unwrap();
        prop_assert_eq!(&back, &notify);
        // No length prefix, so a stray byte is read as the start of another
        // FanoutMessage and fails as that.
        concatenated.push(0);
        prop_assert!(NotifyBody::decode(&concatenated).is_err());
    }

    #[test]
    fn group_info(
        request_tbs in group_info_request_tbs(),
        request in group_info_request(),
        pending in pending_proposal(),
        tbe in group_info_tbe(),
        response_tbs in group_info_response_tbs(),
        response in group_info_response(),
    ) {
        part(&request_tbs)?;
        body(&request)?;
        part(&pending)?;
        body(&tbe)?;
        part(&response_tbs)?;
        body(&response)?;
        // The signed part of a success response is a prefix of the response.
        if let GroupInfoResponse::Success { tbs, .. } = &response {
            let whole = response.encode().unwrap();
            prop_assert!(whole.starts_with(&tbs.tls_serialize_detached().unwrap()));
        }
    }

    #[test]
    fn consent(scope in consent_scope(), entry in consent_entry()) {
        part(&scope)?;
        body(&entry)?;
    }

    #[test]
    fn identifier(
        element in query_element(),
        request in identifier_request(),
        field in profile_field(),
        profile in user_profile(),
        response in identifier_response(),
    ) {
        part(&element)?;
        body(&request)?;
        part(&field)?;
        part(&profile)?;
        body(&response)?;
    }

    #[test]
    fn abuse(message in abusive_message(), report in abuse_report()) {
        part(&message)?;
        part(&report.reason_code)?;
        body(&report)?;
    }
}

/// Every value of every closed enumeration round-trips, and the next value up
/// is unknown.
#[test]
fn enumerations() {
    fn all<T: DeserializeBytes + tls_codec::Serialize + PartialEq + Debug + Copy>(
        values: &[T],
        next: u8,
    ) {
        for v in values {
            let bytes = v.tls_serialize_detached().unwrap();
            assert_eq!(bytes.len(), 1);
            assert_eq!(decode_exact::<T>(&bytes, "enum").unwrap(), *v);
        }
        assert_eq!(
            decode_exact::<T>(&[next], "enum"),
            Err(DecodeError::UnknownValue {
                field: "enum",
                value: u64::from(next)
            })
        );
    }
    all(Protocol::ALL, 2);
    all(KeyMaterialUserCode::ALL, 8);
    all(KeyMaterialClientCode::ALL, 3);
    all(GroupInfoRepresentation::ALL, 3);
    all(RatchetTreeRepresentation::ALL, 5);
    all(RatchetTreePresence::ALL, 4);
    all(UpdateResponseCode::ALL, 4);
    all(SubmitResponseCode::ALL, 3);
    all(GroupInfoCode::ALL, 4);
    all(ConsentOperation::ALL, 4);
    all(SearchIdentifierType::ALL, 9);
    all(IdentifierQueryCode::ALL, 5);
    all(FieldSource::ALL, 9);
}

/// The raw view of a `FanoutMessage`'s bytes holds exactly the bytes of each
/// part and writes the same message back; a Welcome whose tree is not sent in
/// full is refused, naming the field (decision W-21).
fn raw_view(message: &FanoutMessage) -> Result<(), TestCaseError> {
    let encoded = message.encode().unwrap();
    fn bytes(v: &impl tls_codec::Serialize) -> Vec<u8> {
        v.tls_serialize_detached().unwrap()
    }
    let list = |v: &[ProposalMessage]| v.iter().map(bytes).collect::<Vec<_>>();
    let timestamp = message.timestamp;
    let expected = match &message.event {
        FanoutEvent::Application { message, frank } => RawFanoutMessage::Application {
            timestamp,
            message: bytes(message),
            frank: frank.as_ref().map(bytes),
        },
        FanoutEvent::Welcome {
            welcome,
            ratchet_tree_option: RatchetTreeOption::Full(tree),
        } => RawFanoutMessage::Welcome {
            timestamp,
            // `MLSMessage`: mls10, mls_welcome, then the Welcome.
            message: [&[0, 1, 0, 3][..], &bytes(&**welcome)].concat(),
            ratchet_tree: bytes(tree),
        },
        FanoutEvent::Welcome { .. } => {
            prop_assert_eq!(
                RawFanoutMessage::decode(&encoded),
                Err(DecodeError::Invalid {
                    what: "FanoutMessage.ratchetTreeOption",
                    reason: "only a full ratchet tree is supported",
                })
            );
            return Ok(());
        }
        FanoutEvent::Proposal {
            proposal,
            more_proposals,
        } => RawFanoutMessage::Proposal {
            timestamp,
            message: bytes(proposal),
            more_proposals: list(more_proposals),
        },
        FanoutEvent::Commit {
            commit,
            external_proposals,
        } => RawFanoutMessage::Commit {
            timestamp,
            message: bytes(commit),
            external_proposals: list(external_proposals),
        },
    };
    prop_assert_eq!(RawFanoutMessage::decode(&encoded), Ok(expected.clone()));
    prop_assert_eq!(expected.timestamp(), timestamp);
    prop_assert_eq!(expected.encode().unwrap(), encoded);
    body(&expected)
}
