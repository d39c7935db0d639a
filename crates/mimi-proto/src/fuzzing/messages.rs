//! Fuzz entry points for the protocol bodies, one per top-level body (plus the
//! GroupInfo plaintext a joiner decrypts and the directory).
//!
//! Each decodes arbitrary bytes and, if they decode, asserts that encoding the
//! value gives back exactly the input: the decoders accept one encoding per
//! value (minimal varints, canonical identifiers, canonically encoded MLS
//! objects), so any difference is a bug.

use crate::codec::WireMessage;
use crate::directory::{Directory, parse_request_path};
use crate::messages::{
    AbuseReport, ConsentEntry, FanoutEvent, FanoutMessage, GroupInfoRatchetTreeTbe,
    GroupInfoRequest, GroupInfoResponse, IdentifierRequest, IdentifierResponse, KeyMaterialRequest,
    KeyMaterialResponse, NotifyBody, RatchetTreeOption, RawFanoutMessage, SubmitMessageRequest,
    SubmitMessageResponse, UpdateRequest, UpdateRoomResponse,
};

/// Decodes `data` as `T` and, if that worked, asserts that re-encoding
/// reproduces `data`.
fn roundtrip<T: WireMessage>(data: &[u8]) {
    if let Ok(value) = T::decode(data) {
        let again = value.encode().expect("a decoded value re-encodes");
        assert_eq!(again.as_slice(), data, "{} is not canonical", T::NAME);
    }
}

/// `KeyMaterialRequest` (`POST keyMaterial`).
pub fn key_material_request(data: &[u8]) {
    roundtrip::<KeyMaterialRequest>(data);
}

/// `KeyMaterialResponse`.
pub fn key_material_response(data: &[u8]) {
    roundtrip::<KeyMaterialResponse>(data);
}

/// `UpdateRequest` (`POST update`).
pub fn update_request(data: &[u8]) {
    roundtrip::<UpdateRequest>(data);
}

/// `UpdateRoomResponse`.
pub fn update_room_response(data: &[u8]) {
    roundtrip::<UpdateRoomResponse>(data);
}

/// `SubmitMessageRequest` (`POST submitMessage`).
pub fn submit_message_request(data: &[u8]) {
    roundtrip::<SubmitMessageRequest>(data);
}

/// `SubmitMessageResponse`.
pub fn submit_message_response(data: &[u8]) {
    roundtrip::<SubmitMessageResponse>(data);
}

/// A `/notify` body: concatenated `FanoutMessage`s. The same bytes as one
/// `FanoutMessage` in its raw view: it re-encodes to its input, and accepts
/// exactly what the parsed view accepts, less Welcomes whose tree is not sent
/// in full (decision W-21).
pub fn notify(data: &[u8]) {
    roundtrip::<NotifyBody>(data);
    roundtrip::<RawFanoutMessage>(data);
    let raw = RawFanoutMessage::decode(data);
    match FanoutMessage::decode(data) {
        Ok(FanoutMessage {
            event:
                FanoutEvent::Welcome {
                    ratchet_tree_option,
                    ..
                },
            ..
        }) if !matches!(ratchet_tree_option, RatchetTreeOption::Full(_)) => {
            assert!(raw.is_err(), "raw view accepted a tree not sent in full");
        }
        Ok(_) => assert!(raw.is_ok(), "raw view refused a FanoutMessage: {raw:?}"),
        Err(_) => assert!(
            raw.is_err(),
            "raw view accepted what the parsed view refuses"
        ),
    }
}

/// A commit `MLSMessage` read for its proposals and UpdatePath leaf, as the
/// hub and every receiving client read each commit. The reader keeps no
/// encoding to compare, so this checks only that it returns.
pub fn parse_commit(data: &[u8]) {
    let _ = crate::messages::parse_commit(data);
}

/// `GroupInfoRequest` (`POST groupInfo`).
pub fn group_info_request(data: &[u8]) {
    roundtrip::<GroupInfoRequest>(data);
}

/// `GroupInfoResponse`, and the plaintext a joiner decrypts from it.
pub fn group_info_response(data: &[u8]) {
    roundtrip::<GroupInfoResponse>(data);
    roundtrip::<GroupInfoRatchetTreeTbe>(data);
}

/// `ConsentEntry` (`POST requestConsent` / `updateConsent`).
pub fn consent_entry(data: &[u8]) {
    roundtrip::<ConsentEntry>(data);
}

/// `IdentifierRequest` (`POST identifierQuery`).
pub fn identifier_request(data: &[u8]) {
    roundtrip::<IdentifierRequest>(data);
}

/// `IdentifierResponse`.
pub fn identifier_response(data: &[u8]) {
    roundtrip::<IdentifierResponse>(data);
}

/// `AbuseReport` (`POST reportAbuse`).
pub fn abuse_report(data: &[u8]) {
    roundtrip::<AbuseReport>(data);
}

/// The directory document and incoming request paths: parsing must not panic,
/// and a parsed directory must serialize and parse back to itself.
pub fn directory(data: &[u8]) {
    if let Ok(parsed) = Directory::from_json(data) {
        let again = Directory::from_json(parsed.directory.to_json().as_bytes())
            .expect("a parsed directory re-parses");
        assert_eq!(again.directory, parsed.directory);
        assert!(
            again.skipped.is_empty(),
            "our own directory has no bad entry"
        );
    }
    if let Ok(path) = std::str::from_utf8(data) {
        // Only the absence of panics is checked: the lenient forms have
        // several spellings per target.
        let _ = parse_request_path(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_survive_junk() {
        // Valid bodies, so the re-encoding assertion runs too.
        assert!(
            SubmitMessageResponse::decode(&[1, 1]).is_ok(),
            "mls10, notAllowed"
        );
        assert!(
            UpdateRoomResponse::decode(&[2, 0]).is_ok(),
            "notAllowed, no text"
        );
        assert!(
            IdentifierRequest::decode(&[0, 0]).is_ok(),
            "no elements, no extensions"
        );
        let inputs: [&[u8]; 9] = [
            &[1, 1],
            &[2, 0],
            &[0, 0],
            b"",
            &[0],
            &[1],
            &[0xff; 64],
            &[1, 0, 1, 0, 2, 0, 0, 0],
            b"{\"update\": \"https://a.example/v1/update/{roomId}\"}",
        ];
        for data in inputs {
            key_material_request(data);
            key_material_response(data);
            update_request(data);
            update_room_response(data);
            submit_message_request(data);
            submit_message_response(data);
            notify(data);
            group_info_request(data);
            group_info_response(data);
            consent_entry(data);
            identifier_request(data);
            identifier_response(data);
            abuse_report(data);
            directory(data);
        }
    }
}
