//! Consent through the client API (protocol-06 §5.7): users ask, see, grant
//! and revoke with their own signed clients, and the target's provider
//! enforces it on keyMaterial across real servers. Also the `contacts-only`
//! policy and the `uniform_refusals` privacy option, end to end.
//!
//! Bob (b.example) hosts the rooms, so his keyMaterial requests go from his
//! provider, as the rooms' hub, to Cathy's provider (c.example) over mutual
//! TLS; c.example's consent settings vary per test.

use mimi_client_api::{ConsentState, ErrorCode, routes};
use mimi_proto::messages::KeyMaterialUserCode;
use mimi_proto::{RoomId, UserId};
use reqwest::{Method, StatusCode};

use crate::common::{Federation, Server};
use crate::device::{Device, error_code, text};

use ConsentState::{Granted, Requested, Revoked};
use KeyMaterialUserCode::{NoConsent, NoConsentForThisRoom, Success, UserUnknown};

/// Bob on b.example with two rooms he hosts, Cathy on c.example (with
/// `consent` appended to c.example's configuration) holding KeyPackages.
struct Pair {
    _fed: Federation,
    b: Server,
    c: Server,
    bob: Device,
    cathy: Device,
    club: RoomId,
    side: RoomId,
}

impl Pair {
    async fn new(consent: &str) -> Self {
        let fed = Federation::new();
        let mut b = fed.start("b.example", &[]).await;
        let c = fed
            .start_with("c.example", &[("b.example", b.fed)], consent)
            .await;
        b.set_peer("c.example", c.fed).await;
        let mut bob = Device::new("mimi://b.example/d/bob/laptop", &b);
        let mut cathy = Device::new("mimi://c.example/d/cathy/phone", &c);
        bob.register(0).await;
        cathy.register(8).await;
        let club = RoomId::parse("mimi://b.example/r/club").unwrap();
        let side = RoomId::parse("mimi://b.example/r/side").unwrap();
        bob.create_room(&club).await;
        bob.create_room(&side).await;
        Self {
            _fed: fed,
            b,
            c,
            bob,
            cathy,
            club,
            side,
        }
    }

    /// Bob asks, through his provider, for Cathy's (or `target`'s)
    /// KeyPackages for `room`: the user status and how many came back.
    async fn fetch(&self, target: &UserId, room: &RoomId) -> (KeyMaterialUserCode, usize) {
        let response = self.bob.key_material(target, room).await;
        (response.user_status, response.clients.len())
    }

    async fn stop(mut self) {
        self.b.stop().await;
        self.c.stop().await;
    }
}

/// `device` does `operation` about `other`, which must succeed.
async fn consent(device: &Device, operation: &str, other: &UserId, room: Option<&RoomId>) {
    let (status, body) = device.consent(operation, other, room).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{operation}: {}",
        text(&body)
    );
}

/// What `device`'s user sees, sorted: `(requester, target, room, state)`.
async fn seen(device: &Device) -> Vec<(String, String, Option<String>, ConsentState)> {
    let mut consents = device.consents().await;
    consents.sort_by(|x, y| (&x.0, &x.1, &x.2).cmp(&(&y.0, &y.1, &y.2)));
    consents
}

fn scope(
    requester: &UserId,
    target: &UserId,
    room: Option<&RoomId>,
    state: ConsentState,
) -> (String, String, Option<String>, ConsentState) {
    (
        requester.as_str().to_owned(),
        target.as_str().to_owned(),
        room.map(|r| r.as_str().to_owned()),
        state,
    )
}

/// Under `explicit`, Cathy's KeyPackages follow what she answers through her
/// own client: a request alone is nothing, a grant opens (per room or for
/// any room), a revocation closes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_grants_and_revokes_through_the_client_api() {
    let p = Pair::new("[consent]\npolicy = \"explicit\"\n").await;
    let (bob, cathy) = (p.bob.user(), p.cathy.user());
    let (club, side) = (&p.club, &p.side);

    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    // Without the privacy option an unknown user is named as such, and a
    // request for one is refused by their provider.
    let nobody = UserId::parse("mimi://c.example/u/nobody").unwrap();
    assert_eq!(p.fetch(&nobody, club).await, (UserUnknown, 0));
    let (status, body) = p.bob.consent("request", &nobody, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{}", text(&body));
    assert_eq!(error_code(&body), ErrorCode::NotFound);
    // Under `explicit`, Cathy reaching out to Bob is not consent.
    consent(&p.cathy, "request", &bob, None).await;
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    consent(&p.cathy, "cancel", &bob, None).await;

    // Bob asks; both sides show the pending request, which is not consent.
    consent(&p.bob, "request", &cathy, None).await;
    let pending = vec![scope(&bob, &cathy, None, Requested)];
    assert_eq!(seen(&p.cathy).await, pending);
    assert_eq!(seen(&p.bob).await, pending);
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    // A cancelled request is gone on both sides.
    consent(&p.bob, "cancel", &cathy, None).await;
    assert_eq!(seen(&p.cathy).await, vec![]);
    assert_eq!(seen(&p.bob).await, vec![]);
    consent(&p.bob, "request", &cathy, None).await;

    // Cathy grants the club only: the club opens, the side room does not.
    consent(&p.cathy, "grant", &bob, Some(club)).await;
    assert!(
        seen(&p.bob)
            .await
            .contains(&scope(&bob, &cathy, Some(club), Granted)),
        "Bob's provider learns of the grant"
    );
    assert_eq!(p.fetch(&cathy, club).await, (Success, 1));
    assert_eq!(p.fetch(&cathy, side).await, (NoConsentForThisRoom, 0));

    // A grant for any room opens the side room; its revocation closes it
    // again, while the club's own grant is more specific and holds.
    consent(&p.cathy, "grant", &bob, None).await;
    assert_eq!(p.fetch(&cathy, side).await, (Success, 1));
    consent(&p.cathy, "revoke", &bob, None).await;
    assert_eq!(p.fetch(&cathy, side).await, (NoConsent, 0));
    assert_eq!(p.fetch(&cathy, club).await, (Success, 1));
    consent(&p.cathy, "revoke", &bob, Some(club)).await;
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    let answered = vec![
        scope(&bob, &cathy, None, Revoked),
        scope(&bob, &cathy, Some(club), Revoked),
    ];
    assert_eq!(seen(&p.cathy).await, answered);
    assert_eq!(seen(&p.bob).await, answered);

    assert!(
        p.c.metric(&format!(
            "mimi_client_requests_total{{route=\"{}\",status=\"204\"}}",
            routes::CONSENT_GRANT
        ))
        .await
            >= 2.0
    );
    p.stop().await;
}

/// Nobody but Cathy's own clients can consent for her: another user's grant
/// is his own, Bob's grant naming Cathy consents to *her* fetching *his*, a
/// body naming the acting user or the caller as the other user is refused,
/// and a request signed as Cathy's client with another key is not authentic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_can_consent_for_another_user() {
    let p = Pair::new("[consent]\npolicy = \"explicit\"\n").await;
    let (bob, cathy) = (p.bob.user(), p.cathy.user());
    let club = &p.club;

    // Dave, another user of Cathy's provider, grants Bob: his own
    // KeyPackages open, Cathy's stay closed.
    let mut dave = Device::new("mimi://c.example/d/dave/tablet", &p.c);
    dave.register(1).await;
    consent(&dave, "grant", &bob, Some(club)).await;
    assert_eq!(p.fetch(&dave.user(), club).await, (Success, 1));
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    assert_eq!(seen(&p.cathy).await, vec![]);

    // Bob grants "Cathy" through his own provider: that lets Cathy fetch
    // Bob's KeyPackages, and Cathy's provider records it that way round.
    consent(&p.bob, "grant", &cathy, Some(club)).await;
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    assert_eq!(
        seen(&p.cathy).await,
        vec![scope(&cathy, &bob, Some(club), Granted)]
    );

    // A body that names the acting user, or names the caller as the other
    // user, does not parse as a consent change.
    let body = serde_json::json!({
        "user": bob.as_str(),
        "requester": bob.as_str(),
        "target": cathy.as_str(),
    });
    let (status, answer) = p
        .bob
        .send(
            Method::POST,
            routes::CONSENT_GRANT,
            serde_json::to_vec(&body).unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", text(&answer));
    assert_eq!(error_code(&answer), ErrorCode::BadRequest);
    let (status, answer) = p.bob.consent("grant", &bob, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{}", text(&answer));

    // Signed in Cathy's client's name with Bob's key: not authentic.
    let grant = serde_json::to_vec(&mimi_client_api::ConsentChange {
        user: bob.as_str().to_owned(),
        room: None,
    })
    .unwrap();
    let forged = p
        .cathy
        .authorization(p.bob.key(), &Method::POST, routes::CONSENT_GRANT, &grant);
    let response =
        p.c.https()
            .post(format!("{}{}", p.c.client_url(), routes::CONSENT_GRANT))
            .header("authorization", forged)
            .body(grant)
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_code(&response.bytes().await.unwrap()),
        ErrorCode::Unauthenticated
    );
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    p.stop().await;
}

/// `contacts-only`: Cathy's KeyPackages open to Bob once she has contacted
/// him (asked him for consent, or been granted his), in the scope of that
/// contact, and an explicit revocation beats it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_only_opens_to_users_the_target_contacted() {
    let p = Pair::new("[consent]\npolicy = \"contacts-only\"\n").await;
    let (bob, cathy) = (p.bob.user(), p.cathy.user());
    let (club, side) = (&p.club, &p.side);

    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    // Cathy asks Bob first: that contact is consent the other way.
    consent(&p.cathy, "request", &bob, None).await;
    assert_eq!(p.fetch(&cathy, club).await, (Success, 1));
    // Withdrawn, the contact is gone.
    consent(&p.cathy, "cancel", &bob, None).await;
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));

    // Bob granting Cathy for the club is a contact for the club only.
    consent(&p.bob, "grant", &cathy, Some(club)).await;
    assert_eq!(p.fetch(&cathy, club).await, (Success, 1));
    assert_eq!(p.fetch(&cathy, side).await, (NoConsent, 0));

    // Cathy's explicit revocation beats the implicit consent.
    consent(&p.cathy, "revoke", &bob, Some(club)).await;
    assert_eq!(p.fetch(&cathy, club).await, (NoConsent, 0));
    p.stop().await;
}

/// `uniform_refusals`: Bob cannot tell an unknown user, or consent for other
/// rooms only, from no consent; a consent request for an unknown user is
/// accepted like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uniform_refusals_answer_no_consent_for_every_refusal() {
    let p = Pair::new("[consent]\npolicy = \"explicit\"\nuniform_refusals = true\n").await;
    let (bob, cathy) = (p.bob.user(), p.cathy.user());
    let (club, side) = (&p.club, &p.side);

    let nobody = UserId::parse("mimi://c.example/u/nobody").unwrap();
    assert_eq!(p.fetch(&nobody, club).await, (NoConsent, 0));
    consent(&p.bob, "request", &nobody, None).await;

    consent(&p.cathy, "grant", &bob, Some(club)).await;
    assert_eq!(p.fetch(&cathy, side).await, (NoConsent, 0));
    assert_eq!(p.fetch(&cathy, club).await, (Success, 1));
    p.stop().await;
}
