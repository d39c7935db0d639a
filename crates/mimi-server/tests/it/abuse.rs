//! Abuse reports across real servers (protocol-06 §5.9): a participant's
//! provider reports a franked message to the hub, which accepts it only if
//! the frank still matches content, sender, room and timestamp.

use mimi_content::MimiContent;
use mimi_proto::components::ParticipantId;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::{AbuseReport, AbuseType, AbusiveMessage};
use mimi_proto::{Utf8String, WireMessage as _};
use openmls::prelude::AppDataDictionary;
use reqwest::StatusCode;

use crate::common::{Club, received};
use crate::consent::admin;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genuine_reports_are_kept_and_forged_ones_refused() {
    let mut club = Club::new().await;
    let id = club
        .bob
        .send_text(&club.b, &club.room, "you will regret this")
        .await;
    let (cathy, c) = (&mut club.cathy, &club.c);
    cathy
        .sync_until(c, |events| received(events).contains(&id))
        .await;
    let stored = cathy
        .client
        .room(&club.room)
        .unwrap()
        .message(&id)
        .unwrap()
        .clone();
    let frank = stored.frank.clone().expect("the hub franked the message");
    let genuine = AbusiveMessage {
        message_content: stored.content.clone(),
        frank,
        accepted_timestamp: stored.timestamp,
    };
    let bob = ParticipantId::from(club.bob.user_id());
    let report = |abuser: &ParticipantId, message: AbusiveMessage| AbuseReport {
        reporting_user: Some(ParticipantId::from(cathy_id(&club))),
        alleged_abuser_uri: abuser.clone(),
        reason_code: AbuseType::RESERVED,
        note: Utf8String::new("threat").unwrap(),
        messages: vec![message],
        abuse_extensions: AppDataDictionary::default(),
    };
    let send = |report: AbuseReport| {
        let c = &club.c;
        let room = club.room.clone();
        async move {
            c.relay(
                Endpoint::ReportAbuse,
                &PathTarget::Room(room),
                report.encode().unwrap(),
            )
            .await
            .0
        }
    };

    // Changed bytes: the same content with another text.
    let mut edited = MimiContent::decode(&stored.content).unwrap();
    edited.body = mimi_content::NestedPart::plain("have a nice day");
    let mut changed = genuine.clone();
    changed.message_content = edited.encode().unwrap();
    assert_eq!(send(report(&bob, changed)).await, StatusCode::FORBIDDEN);
    // Sender swapped: the message blamed on cathy.
    let cathy = ParticipantId::from(cathy_id(&club));
    assert_eq!(
        send(report(&cathy, genuine.clone())).await,
        StatusCode::FORBIDDEN
    );
    // Timestamp moved.
    let mut moved = genuine.clone();
    moved.accepted_timestamp += 1;
    assert_eq!(send(report(&bob, moved)).await, StatusCode::FORBIDDEN);
    // Nothing was stored for the forgeries.
    let (_, listed) = admin(
        &club.a,
        reqwest::Method::GET,
        "/admin/v1/abuse-reports",
        None,
    )
    .await;
    assert_eq!(listed["reports"].as_array().unwrap().len(), 0);

    // The genuine report is accepted and listed for the hub's operator.
    assert_eq!(send(report(&bob, genuine)).await, StatusCode::CREATED);
    let (status, listed) = admin(
        &club.a,
        reqwest::Method::GET,
        "/admin/v1/abuse-reports",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let reports = listed["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{listed}");
    assert_eq!(reports[0]["alleged_abuser"], bob.as_str());
    assert_eq!(reports[0]["reporter"], "c.example");
    assert_eq!(reports[0]["room"], club.room.as_str());
    assert_eq!(reports[0]["message_count"], 1);
    assert_eq!(reports[0]["note"], "threat");

    // What `mimi admin reports --config FILE` prints: the same, read from
    // the running hub's store.
    let config = mimi_server::Config::load(
        &club.fed.dir.path().join("a.example").join("config.toml"),
        std::iter::empty(),
    )
    .unwrap();
    let stored = mimi_server::stored_reports(&config, 0).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].alleged_abuser, bob.as_str());
    assert_eq!(stored[0].reporting_user.as_deref(), Some(cathy.as_str()));
}

fn cathy_id(club: &Club) -> mimi_proto::UserId {
    club.cathy.user_id()
}
