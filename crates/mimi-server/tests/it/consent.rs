//! Consent across real servers (protocol-06 §5.2, §5.7): the target's
//! provider answers keyMaterial only with the target's consent, per room.
//! Also the admin helpers the other tests of this family share.

use mimi_proto::RoomId;
use mimi_proto::UserId;
use mimi_proto::messages::KeyMaterialUserCode;
use reqwest::StatusCode;

use crate::common::{Federation, Server, User};

/// Calls `server`'s admin API with a JSON body; returns the status and JSON
/// answer (`null` when empty).
pub async fn admin(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut request = server.admin(method, path);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (status, value)
}

/// `user` asks, through its provider `home`, for one KeyPackage per client of
/// `target`, for `room`; returns the user status and how many came back.
async fn key_material(
    user: &User,
    home: &Server,
    target: &UserId,
    room: &RoomId,
) -> (KeyMaterialUserCode, usize) {
    let response = user.key_material(home, target, room).await;
    (response.user_status, response.clients.len())
}

async fn consent(
    server: &Server,
    operation: &str,
    requester: &UserId,
    target: &UserId,
    room: Option<&RoomId>,
) {
    let (status, body) = admin(
        server,
        reqwest::Method::POST,
        &format!("/admin/v1/consent/{operation}"),
        Some(serde_json::json!({
            "requester": requester.as_str(),
            "target": target.as_str(),
            "room": room.map(RoomId::as_str),
        })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{operation}: {body}");
}

/// The states `server` shows `user`: `(requester, target, room, state)`.
async fn listed(server: &Server, user: &UserId) -> Vec<(String, String, Option<String>, String)> {
    let (status, body) = admin(
        server,
        reqwest::Method::GET,
        &format!(
            "/admin/v1/consent?user={}",
            crate::common::percent_encode(user.as_str())
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["requester"].as_str().unwrap().to_owned(),
                c["target"].as_str().unwrap().to_owned(),
                c["room"].as_str().map(str::to_owned),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_packages_follow_grants_and_revocations_per_room() {
    let fed = Federation::new();
    let mut a = fed.start("a.example", &[]).await;
    let mut b = fed.start("b.example", &[("a.example", a.fed)]).await;
    let mut c = fed
        .start_with(
            "c.example",
            &[("a.example", a.fed), ("b.example", b.fed)],
            "[consent]\npolicy = \"explicit\"\n",
        )
        .await;
    a.set_peer("b.example", b.fed).await;
    a.set_peer("c.example", c.fed).await;
    b.set_peer("c.example", c.fed).await;
    c.set_peer("b.example", b.fed).await;

    let mut bob = User::new("mimi://b.example/d/bob/laptop");
    let mut cathy = User::new("mimi://c.example/d/cathy/phone");
    b.register(&bob).await;
    c.register(&cathy).await;
    c.publish(&mut cathy, 8).await;
    let club = RoomId::parse("mimi://a.example/r/club").unwrap();
    let side = RoomId::parse("mimi://a.example/r/side").unwrap();
    for room in [&club, &side] {
        a.create_room(&mut bob, room).await;
        b.add_member(room, &bob).await;
    }
    let (bob_id, cathy_id) = (bob.user_id(), cathy.user_id());

    // No consent: refused, and no KeyPackage is used up.
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &club).await,
        (KeyMaterialUserCode::NoConsent, 0)
    );
    // A request alone is not consent; cathy's provider shows it to her.
    consent(&b, "request", &bob_id, &cathy_id, None).await;
    let pending = (
        bob_id.as_str().to_owned(),
        cathy_id.as_str().to_owned(),
        None,
        "requested".to_owned(),
    );
    assert_eq!(listed(&c, &cathy_id).await, vec![pending.clone()]);
    assert_eq!(listed(&b, &bob_id).await, vec![pending]);
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &club).await,
        (KeyMaterialUserCode::NoConsent, 0)
    );

    // A grant for the club only: the club succeeds, the side room does not.
    consent(&c, "grant", &bob_id, &cathy_id, Some(&club)).await;
    assert!(
        listed(&b, &bob_id).await.contains(&(
            bob_id.as_str().to_owned(),
            cathy_id.as_str().to_owned(),
            Some(club.as_str().to_owned()),
            "granted".to_owned()
        )),
        "bob's provider learns of the grant"
    );
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &side).await,
        (KeyMaterialUserCode::NoConsentForThisRoom, 0)
    );
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &club).await,
        (KeyMaterialUserCode::Success, 1)
    );

    // Revoked: refused again.
    consent(&c, "revoke", &bob_id, &cathy_id, Some(&club)).await;
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &club).await,
        (KeyMaterialUserCode::NoConsent, 0)
    );

    // A grant for any room covers the side room, but the club's own
    // revocation is more specific and still holds.
    consent(&c, "grant", &bob_id, &cathy_id, None).await;
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &side).await,
        (KeyMaterialUserCode::Success, 1)
    );
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &club).await,
        (KeyMaterialUserCode::NoConsent, 0)
    );
    consent(&c, "revoke", &bob_id, &cathy_id, None).await;
    assert_eq!(
        key_material(&bob, &b, &cathy_id, &side).await,
        (KeyMaterialUserCode::NoConsent, 0)
    );

    // Only the requester's provider may speak for the requester: b cannot
    // send consent for a user of a.
    let (status, _) = admin(
        &b,
        reqwest::Method::POST,
        "/admin/v1/consent/request",
        Some(serde_json::json!({
            "requester": "mimi://a.example/u/alice",
            "target": cathy_id.as_str(),
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for server in [&mut a, &mut b, &mut c] {
        server.stop().await;
    }
}
