//! KeyPackage drain (issue #20): a member the room's policy refuses cannot
//! claim anyone's KeyPackages through the hub, a peer's user that asks again
//! and again is limited by the target's provider, and the target stays
//! addable through its last-resort KeyPackage (decisions KP-1, KP-3, KP-4).

use mimi_client::RoomEvent;
use mimi_client_api::{ErrorCode, routes};
use mimi_proto::RoomId;
use mimi_proto::directory::{Endpoint, PathTarget};
use mimi_proto::messages::UpdateOutcome;
use reqwest::{Method, StatusCode};

use crate::client_api::two_providers;
use crate::common::{Club, Federation, User};
use crate::device::{Device, error_code, text};

/// Sends `user`'s keyMaterial request for `target` (for `room`, or outside
/// any room) through its provider `home`; the answer's status and text.
async fn ask(
    home: &crate::common::Server,
    user: &User,
    target: &User,
    room: Option<&RoomId>,
) -> (StatusCode, Vec<u8>) {
    home.relay(
        Endpoint::KeyMaterial,
        &PathTarget::User(target.user_id()),
        user.key_material_request(&target.user_id(), room),
    )
    .await
}

fn stock_metric(user: &User) -> String {
    format!("mimi_key_packages_available{{user=\"{}\"}}", user.user_id())
}

#[tokio::test]
async fn a_member_refused_by_the_room_claims_nothing_and_the_admin_adds_at_once() {
    let mut club = Club::new().await;
    let mut dave = User::new("mimi://c.example/d/dave/phone");
    club.c.register(&dave).await;
    club.c.publish(&mut dave, 2).await;
    assert_eq!(club.c.metric(&stock_metric(&dave)).await, 2.0);

    // Cathy is a plain member of the club: the hub refuses each request with
    // notAllowed before it asks c.example for anything.
    for _ in 0..50 {
        let (status, body) = ask(&club.c, &club.cathy, &dave, Some(&club.room)).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
        assert!(text.starts_with("notAllowed: POL-10"), "{text}");
    }
    assert_eq!(club.c.metric(&stock_metric(&dave)).await, 2.0);

    // Bob, the club's admin, adds Dave at once.
    let kps = club
        .bob
        .fetch_key_packages(&club.b, &dave.user_id(), &club.room)
        .await;
    assert_eq!(kps.len(), 1);
    let out = club
        .bob
        .client
        .add_user(&club.room, &dave.user_id(), None, kps)
        .unwrap();
    let outcome = club.bob.send_commit(&club.b, &club.room, &out).await;
    assert!(
        matches!(outcome, UpdateOutcome::Success { .. }),
        "{outcome:?}"
    );
    dave.sync_until(&club.c, |events| {
        events.iter().any(|e| matches!(e, RoomEvent::Joined { .. }))
    })
    .await;
    assert_eq!(club.c.metric(&stock_metric(&dave)).await, 1.0);
}

#[tokio::test]
async fn a_peer_user_asking_a_thousand_times_is_limited_and_the_last_resort_keeps_the_target_addable()
 {
    let mut club = Club::new().await;
    let mut carol = User::new("mimi://c.example/d/carol/phone");
    club.c.register(&carol).await;
    club.c.publish(&mut carol, 3).await;
    club.c.publish_last_resort(&mut carol).await;
    // Mallory, a user of a.example, asks for Carol's KeyPackages outside any
    // room, straight from c.example, a thousand times.
    let mallory = User::new("mimi://a.example/d/mallory/laptop");
    club.a.register(&mallory).await;
    let (mut served, mut limited) = (Vec::new(), 0);
    for _ in 0..1000 {
        let (status, body) = ask(&club.a, &mallory, &carol, None).await;
        match status {
            StatusCode::OK => served.push(body),
            StatusCode::TOO_MANY_REQUESTS => {
                let text = String::from_utf8_lossy(&body);
                assert!(text.starts_with("claimLimited"), "{text}");
                limited += 1;
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&body)),
        }
    }
    // The default limit: ten claims per requesting user and target per hour.
    assert_eq!((served.len(), limited), (10, 990));
    assert_eq!(
        club.c.metric("mimi_key_package_claims_limited_total").await,
        990.0
    );
    // Three regular KeyPackages, then the last resort, served again each time.
    let kp_of = |body: &[u8]| {
        let response = mimi_proto::messages::KeyMaterialResponse::decode(body).unwrap();
        match &response.clients[..] {
            [c] => match &c.status {
                mimi_proto::messages::ClientStatus::Success(kp) => (**kp).clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    };
    use mimi_proto::WireMessage as _;
    use openmls::prelude::tls_codec::Serialize as _;
    let bytes = |body: &[u8]| kp_of(body).tls_serialize_detached().unwrap();
    for pair in served[3..].windows(2) {
        assert_eq!(
            bytes(&pair[0]),
            bytes(&pair[1]),
            "the last resort is reused"
        );
    }
    assert_ne!(bytes(&served[2]), bytes(&served[3]));
    assert_eq!(club.c.metric(&stock_metric(&carol)).await, 0.0);
    assert_eq!(
        club.c
            .metric(&format!(
                "mimi_key_packages_last_resort_clients{{user=\"{}\"}}",
                carol.user_id()
            ))
            .await,
        1.0
    );

    // Bob (b.example) is not limited by Mallory's count: he adds Carol to the
    // club, and to a second room, each time through her last resort.
    let second = RoomId::parse("mimi://a.example/r/second").unwrap();
    club.a.create_room(&mut club.bob, &second).await;
    club.b.add_member(&second, &club.bob).await;
    for room in [club.room.clone(), second.clone()] {
        let kps = club
            .bob
            .fetch_key_packages(&club.b, &carol.user_id(), &room)
            .await;
        assert_eq!(kps.len(), 1);
        assert!(kps[0].last_resort(), "served the last-resort KeyPackage");
        let out = club
            .bob
            .client
            .add_user(&room, &carol.user_id(), None, kps)
            .unwrap();
        let outcome = club.bob.send_commit(&club.b, &room, &out).await;
        assert!(
            matches!(outcome, UpdateOutcome::Success { .. }),
            "{outcome:?}"
        );
        carol
            .sync_until(&club.c, |events| {
                events
                    .iter()
                    .any(|e| matches!(e, RoomEvent::Joined { room: r, .. } if *r == room))
            })
            .await;
    }
}

/// Through the client API a refused claim says who refused, with its code:
/// the hub's `not_allowed` passed on by the member's own provider, and the
/// target provider's `rate_limited` with `Retry-After` passed on by the hub
/// (decisions KP-2).
#[tokio::test(flavor = "multi_thread")]
async fn the_client_api_says_who_refused_a_claim() {
    let fed = Federation::new();
    let (a, b) = two_providers(&fed).await;
    let mut alice = Device::new("mimi://a.example/d/alice/laptop", &a);
    let mut bob = Device::new("mimi://b.example/d/bob/phone", &b);
    let mut carol = Device::new("mimi://b.example/d/carol/phone", &b);
    alice.register(0).await;
    bob.register(1).await;
    carol.register(12).await;
    let room = RoomId::parse("mimi://a.example/r/lunch").unwrap();
    alice.create_room(&room).await;
    let kps = alice.claim(&bob.user(), &room).await;
    alice.add(&room, &mut bob, kps).await;

    // Bob is a plain member: the hub (a.example) refuses, b.example says so.
    let request = bob.key_material_request(&bob.user(), &carol.user(), &room);
    let (status, body) = bob
        .mimi("keyMaterial", carol.user().as_str(), request)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", text(&body));
    assert_eq!(error_code(&body), ErrorCode::NotAllowed);
    assert!(
        text(&body).contains("the hub a.example refused (notAllowed): POL-10"),
        "{}",
        text(&body)
    );

    // Alice, the admin, may claim Carol's KeyPackages ten times an hour;
    // b.example refuses the eleventh, and a.example passes that on.
    for _ in 0..10 {
        assert_eq!(alice.claim(&carol.user(), &room).await.len(), 1);
    }
    let request = alice.key_material_request(&alice.user(), &carol.user(), &room);
    let response = alice
        .signed(
            Method::POST,
            &routes::mimi("keyMaterial", carol.user().as_str()),
            request,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body = response.bytes().await.unwrap();
    assert_eq!(error_code(&body), ErrorCode::RateLimited);
    assert!(
        text(&body).contains("refused (claimLimited): b.example limits claims"),
        "{}",
        text(&body)
    );
}
