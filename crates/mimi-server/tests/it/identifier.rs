//! Identifier queries across real servers (protocol-06 §5.8): only fields a
//! user made searchable are matched, every element must hold.

use mimi_proto::messages::{
    IdentifierQueryCode, IdentifierRequest, IdentifierResponse, QueryElement, SearchField,
};
use mimi_proto::{Utf8String, WireMessage as _};
use openmls::prelude::AppDataDictionary;
use reqwest::StatusCode;

use crate::common::{Federation, Server, User};
use crate::consent::admin;

async fn query(
    from: &Server,
    domain: &str,
    elements: &[(SearchField, &str)],
) -> (StatusCode, Option<IdentifierResponse>) {
    let request = IdentifierRequest {
        query_elements: elements
            .iter()
            .map(|(search, value)| QueryElement {
                search: search.clone(),
                search_value: Utf8String::new(*value).unwrap(),
            })
            .collect(),
        id_request_extensions: AppDataDictionary::default(),
    };
    let response = from
        .admin(
            reqwest::Method::POST,
            &format!("/admin/v1/identifier-query/{domain}"),
        )
        .body(request.encode().unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    (
        status,
        (status == StatusCode::OK).then(|| IdentifierResponse::decode(&body).unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_searchable_fields_are_found_and_queries_are_rate_limited() {
    let fed = Federation::new();
    let mut a = fed.start("a.example", &[]).await;
    let mut b = fed
        .start_with(
            "b.example",
            &[("a.example", a.fed)],
            "[identifier_query]\nqueries_per_minute_per_peer = 6\n",
        )
        .await;
    a.set_peer("b.example", b.fed).await;
    let bob = User::new("mimi://b.example/d/bob/laptop");
    b.register(&bob).await;
    let (status, _) = admin(
        &b,
        reqwest::Method::PUT,
        "/admin/v1/profiles",
        Some(serde_json::json!({
            "user": bob.user_id().as_str(),
            "fields": [
                {"source": "oidc", "name": "email", "value": "bob@b.example", "searchable": true},
                {"source": "oidc", "name": "name", "value": "Bob Builder", "searchable": true},
                {"source": "oidc", "name": "phone_number", "value": "+15550002", "searchable": false},
            ],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (_, found) = query(&a, "b.example", &[(SearchField::Email, "Bob@B.example")]).await;
    let found = found.unwrap();
    assert_eq!(found.response_code, IdentifierQueryCode::Success);
    assert_eq!(found.uri, vec![bob.user_id()]);
    // The profile shows only what bob made searchable.
    assert_eq!(found.found_profiles[0].fields.len(), 2);

    // A field bob did not make searchable finds nothing.
    let (_, hidden) = query(&a, "b.example", &[(SearchField::Phone, "+15550002")]).await;
    let hidden = hidden.unwrap();
    assert_eq!(hidden.response_code, IdentifierQueryCode::NotFound);
    assert!(hidden.uri.is_empty() && hidden.found_profiles.is_empty());

    // AND semantics.
    let (_, both) = query(
        &a,
        "b.example",
        &[
            (SearchField::PartialName, "builder"),
            (SearchField::Email, "bob@b.example"),
        ],
    )
    .await;
    assert_eq!(both.unwrap().response_code, IdentifierQueryCode::Success);
    let (_, one_fails) = query(
        &a,
        "b.example",
        &[
            (SearchField::PartialName, "builder"),
            (SearchField::Email, "alice@b.example"),
        ],
    )
    .await;
    assert_eq!(
        one_fails.unwrap().response_code,
        IdentifierQueryCode::NotFound
    );
    let (_, short) = query(&a, "b.example", &[(SearchField::WholeProfile, "b")]).await;
    assert_eq!(short.unwrap().response_code, IdentifierQueryCode::Forbidden);

    // Six per minute: the next one from a.example is refused.
    let (status, _) = query(&a, "b.example", &[(SearchField::Email, "x@b.example")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = query(&a, "b.example", &[(SearchField::Email, "x@b.example")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    a.stop().await;
    b.stop().await;
}
