//! Deterministic sample encodings of every top-level body, drawn from the
//! proptest strategies with a fixed seed: input for the truncation and
//! mutation tests and for the fuzz corpora.

use mimi_proto::{DecodeError, WireMessage};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::strategies::*;

/// How many values per body. Enough to hit every variant of every body with
/// the fixed seed (checked by `samples_cover_every_variant`).
const PER_BODY: usize = 24;

/// One encoded body and the decoder it belongs to.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The fuzz target that decodes this body.
    pub target: &'static str,
    /// The encoding.
    pub bytes: Vec<u8>,
    /// `decode` of the body's type.
    pub decode: fn(&[u8]) -> Result<(), DecodeError>,
}

fn decode<T: WireMessage>(bytes: &[u8]) -> Result<(), DecodeError> {
    T::decode(bytes).map(drop)
}

fn draw<T: WireMessage>(
    runner: &mut TestRunner,
    target: &'static str,
    strategy: impl Strategy<Value = T>,
    out: &mut Vec<Sample>,
) {
    for _ in 0..PER_BODY {
        let value = strategy.new_tree(runner).unwrap().current();
        out.push(Sample {
            target,
            bytes: value.encode().unwrap(),
            decode: decode::<T>,
        });
    }
}

/// Samples of every top-level body, the same on every run.
pub fn all() -> Vec<Sample> {
    let mut runner = TestRunner::deterministic();
    let mut out = Vec::new();
    let r = &mut runner;
    draw(
        r,
        "message_key_material_request",
        key_material_request(),
        &mut out,
    );
    draw(
        r,
        "message_key_material_response",
        key_material_response(),
        &mut out,
    );
    draw(r, "message_update_request", update_request(), &mut out);
    draw(
        r,
        "message_update_room_response",
        update_room_response(),
        &mut out,
    );
    draw(
        r,
        "message_submit_message_request",
        submit_message_request(),
        &mut out,
    );
    draw(
        r,
        "message_submit_message_response",
        submit_message_response(),
        &mut out,
    );
    draw(r, "message_notify", notify_body(), &mut out);
    draw(
        r,
        "message_group_info_request",
        group_info_request(),
        &mut out,
    );
    draw(
        r,
        "message_group_info_response",
        group_info_response(),
        &mut out,
    );
    draw(r, "message_group_info_response", group_info_tbe(), &mut out);
    draw(r, "message_consent_entry", consent_entry(), &mut out);
    draw(
        r,
        "message_identifier_request",
        identifier_request(),
        &mut out,
    );
    draw(
        r,
        "message_identifier_response",
        identifier_response(),
        &mut out,
    );
    draw(r, "message_abuse_report", abuse_report(), &mut out);
    out
}

/// The fixed-seed samples reach every variant that changes the layout, so the
/// truncation, mutation and fuzz-seed inputs exercise every branch of every
/// decoder.
#[test]
fn samples_cover_every_variant() {
    use std::collections::BTreeSet;

    use mimi_proto::messages::*;

    let mut seen = BTreeSet::new();
    let mut see = |name: &'static str| {
        seen.insert(name);
    };
    let tree = |option: &RatchetTreeOption| match option {
        RatchetTreeOption::Full(_) => "tree full",
        RatchetTreeOption::HttpsUri { .. } => "tree https",
        RatchetTreeOption::OutOfBand { .. } => "tree out of band",
        RatchetTreeOption::DistributionService => "tree ds",
    };
    for sample in all() {
        let b = &sample.bytes[..];
        match sample.target {
            "message_key_material_response" => {
                for client in KeyMaterialResponse::decode(b).unwrap().clients {
                    see(match client.status {
                        ClientStatus::Success(_) => "client success",
                        ClientStatus::KeyMaterialExhausted => "client exhausted",
                        ClientStatus::NothingCompatible(None) => "client incompatible",
                        ClientStatus::NothingCompatible(Some(_)) => "client caps",
                    });
                }
            }
            "message_update_request" => match UpdateRequest::decode(b).unwrap().bundle {
                HandshakeBundle::Commit {
                    welcome,
                    group_info_option,
                    ratchet_tree_option,
                    ..
                } => {
                    see(if welcome.is_some() {
                        "welcome"
                    } else {
                        "no welcome"
                    });
                    see(match group_info_option {
                        GroupInfoOption::Full(_) => "group info full",
                        GroupInfoOption::Partial(_) => "group info partial",
                    });
                    see(tree(&ratchet_tree_option));
                }
                HandshakeBundle::Proposal { more_proposals, .. } => {
                    see(if more_proposals.is_empty() {
                        "proposal alone"
                    } else {
                        "more proposals"
                    });
                }
            },
            "message_update_room_response" => {
                see(match UpdateRoomResponse::decode(b).unwrap().outcome {
                    UpdateOutcome::Success { .. } => "update success",
                    UpdateOutcome::WrongEpoch { .. } => "wrong epoch",
                    UpdateOutcome::NotAllowed => "update not allowed",
                    UpdateOutcome::InvalidProposal { .. } => "invalid proposal",
                });
            }
            "message_submit_message_response" => {
                see(match SubmitMessageResponse::decode(b).unwrap() {
                    SubmitMessageResponse::Accepted { frank: None, .. } => "accepted",
                    SubmitMessageResponse::Accepted { frank: Some(_), .. } => "accepted frank",
                    SubmitMessageResponse::NotAllowed => "submit not allowed",
                    SubmitMessageResponse::EpochTooOld { .. } => "epoch too old",
                });
            }
            "message_notify" => {
                for message in NotifyBody::decode(b).unwrap().messages {
                    see(match message.event {
                        FanoutEvent::Application { .. } => "fanout application",
                        FanoutEvent::Welcome { .. } => "fanout welcome",
                        FanoutEvent::Proposal { .. } => "fanout proposal",
                        FanoutEvent::Commit { .. } => "fanout commit",
                    });
                }
            }
            "message_group_info_response" => {
                if let Ok(response) = GroupInfoResponse::decode(b) {
                    see(match response {
                        GroupInfoResponse::Success { .. } => "group info success",
                        GroupInfoResponse::NotAuthorized { .. } => "not authorized",
                        GroupInfoResponse::NoSuchRoom { .. } => "no such room",
                    });
                }
            }
            "message_consent_entry" => {
                see(match ConsentEntry::decode(b).unwrap().action {
                    ConsentAction::Cancel => "cancel",
                    ConsentAction::Request => "request",
                    ConsentAction::Grant { .. } => "grant",
                    ConsentAction::Revoke => "revoke",
                });
            }
            "message_identifier_request" => {
                for element in IdentifierRequest::decode(b).unwrap().query_elements {
                    if let SearchField::OidcStdClaim { .. } | SearchField::VcardField { .. } =
                        element.search
                    {
                        see("named search field");
                    }
                }
            }
            "message_abuse_report" => {
                let report = AbuseReport::decode(b).unwrap();
                see(if report.reporting_user.is_some() {
                    "reporter named"
                } else {
                    "anonymous"
                });
            }
            _ => {}
        }
    }
    let expected = [
        "client success",
        "client exhausted",
        "client incompatible",
        "client caps",
        "welcome",
        "no welcome",
        "group info full",
        "group info partial",
        "tree full",
        "tree https",
        "tree out of band",
        "tree ds",
        "proposal alone",
        "more proposals",
        "update success",
        "wrong epoch",
        "update not allowed",
        "invalid proposal",
        "accepted",
        "accepted frank",
        "submit not allowed",
        "epoch too old",
        "fanout application",
        "fanout welcome",
        "fanout proposal",
        "fanout commit",
        "group info success",
        "not authorized",
        "no such room",
        "cancel",
        "request",
        "grant",
        "revoke",
        "named search field",
        "reporter named",
        "anonymous",
    ];
    let missing: Vec<_> = expected.iter().filter(|e| !seen.contains(*e)).collect();
    assert!(missing.is_empty(), "samples miss {missing:?}");
}
