//! The provider client API over HTTPS, driven by real MLS clients that sign
//! every request: rooms across providers with no admin calls, refused
//! requests, and a resumed event stream.

use std::time::{Duration, Instant};

use mimi_client::RoomEvent;
use mimi_client_api::routes;
use mimi_client_api::{Base64, ErrorCode, EventsPage, KeyPackageCount};
use mimi_policy::Preset;
use mimi_proto::components::ParticipantId;
use mimi_proto::messages::FanoutMessage;
use mimi_proto::mls_profile::CIPHERSUITE;
use mimi_proto::{RoomId, UserId, WireMessage as _};
use openmls_basic_credential::SignatureKeyPair;
use reqwest::{Method, StatusCode};

use mimi_server::{Config, Registration};

use crate::common::{Federation, PATIENCE, Server, client_http, client_tls, free_addr, received};
use crate::device::{Device, error_code, text};

/// Two providers configured with each other's federation addresses.
pub(crate) async fn two_providers(fed: &Federation) -> (Server, Server) {
    let (a_addr, b_addr) = (free_addr(), free_addr());
    let a = fed
        .start_on("a.example", a_addr, &[("b.example", b_addr)])
        .await;
    let b = fed
        .start_on("b.example", b_addr, &[("a.example", a_addr)])
        .await;
    (a, b)
}

/// Alice (on a.example, the hub) creates a room and adds Bob (b.example);
/// they exchange messages. Everything either client does goes through its
/// own provider's client API: registration, KeyPackages, room creation, key
/// material, the commit, messages, and events.
#[tokio::test(flavor = "multi_thread")]
async fn a_hub_user_and_a_follower_user_share_a_room_through_the_client_api() {
    let fed = Federation::new();
    let (a, b) = two_providers(&fed).await;
    let mut alice = Device::new("mimi://a.example/d/alice/laptop", &a);
    let mut bob = Device::new("mimi://b.example/d/bob/phone", &b);
    alice.register(0).await;
    bob.register(2).await;

    let room = RoomId::parse("mimi://a.example/r/lunch").unwrap();
    alice.create_room(&room).await;

    // Key material: the hub (a) asks Bob's provider (b) for it.
    let kps = alice.claim(&bob.user(), &room).await;
    assert_eq!(kps.len(), 1);
    let (status, body) = bob
        .send(Method::GET, routes::KEY_PACKAGES, Vec::new())
        .await;
    assert_eq!(status, StatusCode::OK);
    let count: KeyPackageCount = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        count.remaining, 1,
        "one of Bob's two KeyPackages was claimed"
    );

    // The Welcome reaches Bob's provider, which makes Bob a local member.
    alice.add(&room, &mut bob, kps).await;

    let hello = bob.send_text(&room, "hello alice").await;
    let events = alice.sync_until(|e| received(e).contains(&hello)).await;
    assert!(events.iter().any(|e| matches!(
        e,
        RoomEvent::Message(m) if m.sender == bob.user()
    )));
    let reply = alice.send_text(&room, "hi bob").await;
    bob.sync_until(|e| received(e).contains(&reply)).await;

    // Bob stops the room's delivery: the next message reaches his provider
    // but not his mailbox.
    let (status, body) = bob
        .send(Method::DELETE, &routes::membership(&room), Vec::new())
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{}", text(&body));
    let notified = b.metric("mimi_notify_received_total").await;
    alice.send_text(&room, "are you there?").await;
    let deadline = Instant::now() + PATIENCE;
    while b.metric("mimi_notify_received_total").await <= notified {
        assert!(Instant::now() < deadline, "b never got the notify");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(bob.poll(0).await.is_empty());

    assert_eq!(a.metric("mimi_hub_messages_accepted_total").await, 3.0);
    assert!(
        a.metric("mimi_client_requests_total{route=\"/client/v1/mimi/{endpoint}/{target}\",status=\"200\"}")
            .await
            >= 4.0
    );
}

/// Requests that are not authentic, or that speak for someone else, are
/// refused with the contract's status and code.
#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_forged_replayed_and_impersonating_requests_are_refused() {
    let fed = Federation::new();
    let a = fed.start("a.example", &[]).await;
    let mut alice = Device::new("mimi://a.example/d/alice/laptop", &a);
    alice.register(1).await;
    let url = |path: &str| format!("{}{path}", a.client_url());

    // No signature.
    let response = a.https().get(url(routes::HUB)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_code(&response.bytes().await.unwrap()),
        ErrorCode::Unauthenticated
    );

    // Signed with a key that is not Alice's registered one.
    let mallory = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap();
    let forged = alice.authorization(&mallory, &Method::GET, routes::HUB, b"");
    let response = a
        .https()
        .get(url(routes::HUB))
        .header("authorization", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Signed for another path than the one requested.
    let elsewhere = alice.authorization(alice.key(), &Method::GET, routes::KEY_PACKAGES, b"");
    let response = a
        .https()
        .get(url(routes::HUB))
        .header("authorization", elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The same signed request twice: the second is a replay.
    let once = alice.authorization(alice.key(), &Method::GET, routes::HUB, b"");
    for expected in [StatusCode::OK, StatusCode::UNAUTHORIZED] {
        let response = a
            .https()
            .get(url(routes::HUB))
            .header("authorization", once.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }

    // Key material requested in another user's name.
    let room = RoomId::parse("mimi://a.example/r/x").unwrap();
    let carol = UserId::parse("mimi://a.example/u/carol").unwrap();
    let body = alice.key_material_request(&carol, &alice.user(), &room);
    let (status, body) = alice.mimi("keyMaterial", alice.user().as_str(), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", text(&body));
    assert_eq!(error_code(&body), ErrorCode::Forbidden);

    // A message whose sending URI is another user.
    let sender = alice.hub_sender().await;
    alice
        .client
        .create_room(&room, Preset::PrivateGroup, sender)
        .unwrap();
    let out = alice.client.send_text(&room, "not mine").unwrap();
    let mut request = out.submit_request().unwrap();
    request.sending_uri = ParticipantId::from(carol.clone());
    let (status, body) = alice
        .mimi("submitMessage", room.as_str(), request.encode().unwrap())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", text(&body));

    // Registering a client of another provider.
    let stranger = Device::new("mimi://b.example/d/eve/phone", &a);
    let (status, body) = stranger
        .post_register(&stranger.registration(stranger.key()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", text(&body));
    // Registering with a proof that does not verify.
    let mut imposter = Device::new("mimi://a.example/d/eve/phone", &a);
    let mut request = imposter.registration(imposter.key());
    request.signature_key = Base64(mallory.to_public_vec());
    let (status, _) = imposter.post_register(&request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Registering again: the same key is fine, another key is a conflict.
    imposter.register(0).await;
    imposter.register(0).await;
    let (status, body) = imposter
        .post_register(&imposter.registration(&mallory))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{}", text(&body));

    assert!(
        a.metric("mimi_client_auth_failures_total{reason=\"replayed\"}")
            .await
            >= 1.0
    );
    assert!(
        a.metric("mimi_client_auth_failures_total{reason=\"bad_signature\"}")
            .await
            >= 2.0
    );
}

/// One server-sent event: (id, event name, data).
type Sent = (u64, String, String);

/// Reads `count` events from an SSE response, skipping keep-alive comments.
async fn read_events(
    response: &mut reqwest::Response,
    count: usize,
    buffer: &mut String,
) -> Vec<Sent> {
    let mut out = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while out.len() < count {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().parse().unwrap());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if let Some(id) = id {
                out.push((id, event, data));
            }
        }
        if out.len() >= count {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .expect("events in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    out
}

/// An event stream resumed with `Last-Event-ID` continues exactly after that
/// cursor, and a live stream delivers new events as they are accepted.
#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_event_stream_misses_and_repeats_nothing() {
    let fed = Federation::new();
    let mut a = fed.start("a.example", &[]).await;
    let mut alice = Device::new("mimi://a.example/d/alice/laptop", &a);
    alice.register(0).await;
    let room = RoomId::parse("mimi://a.example/r/notes").unwrap();
    alice.create_room(&room).await;
    // Each accepted message is fanned back to Alice: one event each.
    for i in 0..5 {
        alice.send_text(&room, &format!("note {i}")).await;
    }
    let (status, body) = alice
        .send(
            Method::GET,
            &format!("{}?after=0", routes::EVENTS),
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let all: Vec<u64> = serde_json::from_slice::<EventsPage>(&body)
        .unwrap()
        .events
        .iter()
        .map(|e| e.cursor)
        .collect();
    assert_eq!(all.len(), 5);

    let stream_path = format!("{}?after=0", routes::EVENTS_STREAM);
    let mut first = alice
        .signed(Method::GET, &stream_path, Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(
        first.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();
    let head = read_events(&mut first, 2, &mut buffer).await;
    assert_eq!(head.iter().map(|e| e.0).collect::<Vec<_>>(), all[..2]);
    for (id, event, data) in &head {
        assert_eq!(event, "fanout");
        let parsed: mimi_client_api::Event = serde_json::from_str(data).unwrap();
        assert_eq!(parsed.cursor, *id);
        assert_eq!(parsed.room.as_deref(), Some(room.as_str()));
        FanoutMessage::decode(&parsed.payload.0).unwrap();
    }
    drop(first);

    // Resume after the second event: `Last-Event-ID` wins over `after`.
    let mut resumed = alice
        .signed(Method::GET, &stream_path, Vec::new())
        .header("last-event-id", head[1].0.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), StatusCode::OK);
    let mut buffer = String::new();
    let rest = read_events(&mut resumed, 3, &mut buffer).await;
    assert_eq!(rest.iter().map(|e| e.0).collect::<Vec<_>>(), all[2..]);

    // New events arrive on the open stream, in order, right after.
    for i in 5..7 {
        alice.send_text(&room, &format!("note {i}")).await;
    }
    let live = read_events(&mut resumed, 2, &mut buffer).await;
    assert!(live[0].0 > all[4] && live[1].0 > live[0].0, "{live:?}");
    let deadline = Instant::now() + PATIENCE;
    while a.metric("mimi_client_event_streams_open").await != 1.0 {
        assert!(
            Instant::now() < deadline,
            "the first stream is still counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(resumed);

    // Resuming acknowledged what came before: those entries are gone.
    let (_, body) = alice
        .send(
            Method::GET,
            &format!("{}?after=0", routes::EVENTS),
            Vec::new(),
        )
        .await;
    let left: Vec<u64> = serde_json::from_slice::<EventsPage>(&body)
        .unwrap()
        .events
        .iter()
        .map(|e| e.cursor)
        .collect();
    assert_eq!(left.first(), Some(&all[2]));

    // A long poll waiting on an empty mailbox answers as soon as an event
    // arrives, well before its wait is over.
    let after = live[1].0;
    let waiting = alice
        .signed(
            Method::GET,
            &format!("{}?after={after}&wait=60", routes::EVENTS),
            Vec::new(),
        )
        .send();
    let started = Instant::now();
    let poll = tokio::spawn(waiting);
    alice.send_text(&room, "wake up").await;
    let answer = poll.await.unwrap().unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let page: EventsPage = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(page.events.len(), 1);
    assert!(page.events[0].cursor > after);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the poll was not woken"
    );

    // Shutdown does not wait for open streams: they end, and the server
    // exits promptly.
    let mut open = alice
        .signed(Method::GET, &stream_path, Vec::new())
        .header("last-event-id", page.events[0].cursor.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    let stopping = Instant::now();
    a.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "shutdown waited {:?} for an open stream",
        stopping.elapsed()
    );
    while let Ok(Some(_)) = open.chunk().await {}
}

/// With `registration = "token"`, only a registration carrying the token is
/// accepted; HTTP/1.1 clients are served too.
#[tokio::test(flavor = "multi_thread")]
async fn a_token_server_registers_only_with_the_token() {
    let fed = Federation::new();
    let config = Config {
        registration: Registration::Token,
        registration_token: Some("open sesame".into()),
        ..fed.config("a.example", "a-token")
    };
    let server = mimi_server::start(&config, mimi_server::Options::default())
        .await
        .unwrap();
    let http = client_http(&fed.pki.ca_cert, "a.example", server.client_addr);
    let base = format!("https://a.example:{}", server.client_addr.port());
    let mut dave = Device::at("mimi://a.example/d/dave/phone", http, base.clone());

    let mut request = dave.registration(dave.key());
    let (status, body) = dave.post_register(&request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", text(&body));
    assert_eq!(error_code(&body), ErrorCode::Forbidden);
    request.token = Some("open sesame?".into());
    assert_eq!(dave.post_register(&request).await.0, StatusCode::FORBIDDEN);
    request.token = Some("open sesame".into());
    assert_eq!(dave.post_register(&request).await.0, StatusCode::CREATED);

    // The same API over HTTP/1.1 (the test client prefers HTTP/2).
    let http1 = reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(&fed.pki.ca_cert))
        .http1_only()
        .resolve("a.example", server.client_addr)
        .build()
        .unwrap();
    dave.http = http1;
    let (status, body) = dave
        .send(Method::GET, routes::KEY_PACKAGES, Vec::new())
        .await;
    assert_eq!(status, StatusCode::OK, "{}", text(&body));
    // Unknown routes and methods answer an ErrorBody too.
    let (status, body) = dave
        .send(Method::GET, "/client/v1/nowhere", Vec::new())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), ErrorCode::NotFound);
    server.shutdown().await;
}
