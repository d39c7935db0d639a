//! Nothing accepted is lost: a follower that was down gets everything in
//! order, a hub killed mid-fan-out resumes from its store, and a retried
//! notify is processed once.

use std::time::{Duration, Instant};

use mimi_proto::WireMessage as _;
use mimi_proto::messages::{ApplicationMessage, FanoutEvent, FanoutMessage};
use reqwest::StatusCode;

use crate::common::{Club, PATIENCE, Server, User, peer_http, percent_encode, received, wire};

const MESSAGES: usize = 100;

/// Waits until `metric` on `server` satisfies `ok`.
async fn wait_metric(server: &Server, metric: &str, ok: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = server.metric(metric).await;
        if ok(value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{metric} stayed at {value}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The application payloads in `user`'s mailbox on `home` after `cursor`,
/// in mailbox order.
async fn application_payloads(home: &Server, user: &User, cursor: u64) -> Vec<Vec<u8>> {
    home.mailbox(&user.id, cursor)
        .await
        .into_iter()
        .filter_map(
            |(_, payload)| match FanoutMessage::decode(&payload).unwrap().event {
                FanoutEvent::Application { message, .. } => Some(message.encode_to_vec()),
                _ => None,
            },
        )
        .collect()
}

trait EncodeToVec {
    fn encode_to_vec(&self) -> Vec<u8>;
}

impl EncodeToVec for ApplicationMessage {
    fn encode_to_vec(&self) -> Vec<u8> {
        use openmls::prelude::tls_codec::Serialize as _;
        self.tls_serialize_detached().unwrap()
    }
}

/// The distinct items of `items`, in order of first appearance.
fn first_occurrences(items: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert(i.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_follower_gets_every_message_in_order_after_it_returns() {
    let mut club = Club::new().await;
    club.c.stop().await;

    let mut sent = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        sent.push(
            club.bob
                .send_text(&club.b, &club.room, &format!("m{i}"))
                .await,
        );
    }
    // Accepted while C was down: C's share waits in the hub's outbox.
    assert!(club.a.metric("mimi_fanout_queue_depth").await >= MESSAGES as f64);

    club.c.restart().await;
    let c_addr = club.c.fed;
    club.a.set_peer("c.example", c_addr).await;
    let events = club
        .cathy
        .sync_until(&club.c, |e| received(e).len() >= MESSAGES)
        .await;
    assert_eq!(
        received(&events),
        sent,
        "all 100, once each, in the hub's order"
    );
    assert!(club.a.metric("mimi_fanout_retries_total").await > 0.0);
    wait_metric(&club.a, "mimi_fanout_queue_depth", |d| d == 0.0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_killed_mid_fanout_loses_nothing_it_accepted() {
    let mut club = Club::new().await;
    let bob_cursor = club
        .b
        .mailbox(&club.bob.id, 0)
        .await
        .last()
        .map_or(0, |e| e.0);
    // C down: the hub is certainly mid-fan-out (C's queue pending) when killed.
    club.c.stop().await;
    let mut sent = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        sent.push(
            club.bob
                .send_text(&club.b, &club.room, &format!("m{i}"))
                .await,
        );
    }
    club.a.kill().await;

    club.a.restart().await;
    let a_addr = club.a.fed;
    club.b.set_peer("a.example", a_addr).await;
    club.c.restart().await;
    club.c.set_peer("a.example", a_addr).await;
    let c_addr = club.c.fed;
    club.a.set_peer("c.example", c_addr).await;

    let events = club
        .cathy
        .sync_until(&club.c, |e| received(e).len() >= MESSAGES)
        .await;
    assert_eq!(received(&events), sent);

    // Bob's provider gets the hub's fan-out too (the sender's provider is a
    // member provider). A batch in flight at the kill may arrive twice, which
    // followers and clients tolerate (protocol-06 §5.5); none may be missing.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let payloads =
            first_occurrences(application_payloads(&club.b, &club.bob, bob_cursor).await);
        if payloads.len() >= MESSAGES {
            assert_eq!(payloads.len(), MESSAGES);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bob's provider has {} of {MESSAGES}",
            payloads.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The restarted hub keeps accepting.
    let after = club
        .cathy
        .send_text(&club.c, &club.room, "after the crash")
        .await;
    club.bob
        .sync_until(&club.b, |e| received(e).contains(&after))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_notify_is_processed_once() {
    let club = Club::new().await;
    let mut bob = club.bob;
    let out = bob.client.send_text(&club.room, "sent twice").unwrap();
    let body = FanoutMessage {
        timestamp: 1_800_000_000_000,
        event: FanoutEvent::Application {
            message: ApplicationMessage::try_from(wire(&out.message)).unwrap(),
            frank: None,
        },
    }
    .encode()
    .unwrap();
    let before = club.c.mailbox(&club.cathy.id, 0).await.len();

    // The hub's certificate: a.example hosts the room.
    let hub = peer_http(
        club.fed.identity("a.example").client_config().unwrap(),
        "c.example",
        club.c.fed,
    );
    let url = format!(
        "https://c.example:{}/v1/notify/{}",
        club.c.fed.port(),
        percent_encode(club.room.as_str())
    );
    for _ in 0..2 {
        let status = hub
            .post(&url)
            .header("from", "mimi@a.example")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "a duplicate is answered 201 too"
        );
    }
    let after = club.c.mailbox(&club.cathy.id, 0).await.len();
    assert_eq!(after, before + 1, "the same bytes are delivered once");
    assert_eq!(club.c.metric("mimi_notify_duplicates_total").await, 1.0);
}
