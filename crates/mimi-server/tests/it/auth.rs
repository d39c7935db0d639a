//! Who may call what: certificate, `From`, `Host`, the room's hub for
//! `notify`; and garbage bodies get 400 without hurting the server.

use std::sync::Arc;

use mimi_proto::directory::DIRECTORY_PATH;
use reqwest::StatusCode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::common::{Federation, peer_http, percent_encode};

const ROOM: &str = "mimi://a.example/r/club";

fn url(addr: std::net::SocketAddr, endpoint: &str, target: &str) -> String {
    format!(
        "https://a.example:{}/v1/{endpoint}/{}",
        addr.port(),
        percent_encode(target)
    )
}

async fn status(client: &reqwest::Client, url: &str, from: &str, body: Vec<u8>) -> StatusCode {
    client
        .post(url)
        .header("from", from)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_mismatches_are_403_and_garbage_is_400() {
    let fed = Federation::new();
    let a = fed.start("a.example", &[]).await;
    let b_tls = fed.identity("b.example").client_config().unwrap();
    let b = peer_http(b_tls.clone(), "a.example", a.fed);
    let update = url(a.fed, "update", ROOM);

    // The right certificate and From: the request reaches the endpoint, whose
    // body check comes first.
    assert_eq!(
        status(&b, &update, "mimi@b.example", vec![0; 8]).await,
        StatusCode::BAD_REQUEST,
        "garbage for a hosted room id decodes first"
    );

    // From naming another provider than the certificate: 403.
    assert_eq!(
        status(&b, &update, "mimi@c.example", vec![]).await,
        StatusCode::FORBIDDEN
    );
    // No From: 403.
    assert_eq!(
        b.post(&update).body(vec![]).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // No client certificate at all: the handshake completes, the request is 403.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&fed.pki.ca_cert).unwrap())
        .unwrap();
    let anonymous = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let anonymous = peer_http(anonymous, "a.example", a.fed);
    assert_eq!(
        status(&anonymous, &update, "mimi@b.example", vec![]).await,
        StatusCode::FORBIDDEN
    );
    // The directory is public.
    let directory = anonymous
        .get(format!(
            "https://a.example:{}{DIRECTORY_PATH}",
            a.fed.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(directory.status(), StatusCode::OK);

    // A certificate for b.example from another CA: 403, not trusted.
    let rogue_dir = tempfile::tempdir().unwrap();
    let rogue_files = mimi_server::init_pki(rogue_dir.path(), &["b.example".into()]).unwrap();
    let rogue = mimi_server::TlsIdentity::load(
        &rogue_files.providers[0].cert,
        &rogue_files.providers[0].key,
        &fed.pki.ca_cert, // trusts the real CA, so only the server can refuse
    )
    .unwrap();
    let rogue = peer_http(rogue.client_config().unwrap(), "a.example", a.fed);
    assert_eq!(
        status(&rogue, &update, "mimi@b.example", vec![]).await,
        StatusCode::FORBIDDEN
    );

    // Host naming another provider: 421. (HTTP/1.1, where Host is a header;
    // HTTP/2 takes the authority from the URL.)
    let mut http1 = b_tls.clone();
    http1.alpn_protocols = vec![b"http/1.1".to_vec()];
    let http1 = reqwest::Client::builder()
        .use_preconfigured_tls(http1)
        .http1_only()
        .resolve("a.example", a.fed)
        .build()
        .unwrap();
    let misdirected = http1
        .post(&update)
        .header("from", "mimi@b.example")
        .header("host", "c.example")
        .body(vec![])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(misdirected, StatusCode::MISDIRECTED_REQUEST);

    // notify for a room hosted on a.example, sent to a.example by b.example:
    // only the room's hub may notify, and that is a.example itself.
    assert_eq!(
        status(
            &b,
            &url(a.fed, "notify", ROOM),
            "mimi@b.example",
            vec![1, 2, 3]
        )
        .await,
        StatusCode::FORBIDDEN
    );

    // Garbage bodies on every endpoint: 400, and the server keeps serving.
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xff; 3],
        vec![0; 1000],
        b"{\"json\":1}".to_vec(),
    ];
    for endpoint in ["update", "submitMessage", "groupInfo"] {
        for body in &garbage {
            assert_eq!(
                status(
                    &b,
                    &url(a.fed, endpoint, ROOM),
                    "mimi@b.example",
                    body.clone()
                )
                .await,
                StatusCode::BAD_REQUEST,
                "{endpoint} {body:?}"
            );
        }
    }
    for body in &garbage {
        assert_eq!(
            status(
                &b,
                &url(a.fed, "keyMaterial", "mimi://a.example/u/alice"),
                "mimi@b.example",
                body.clone()
            )
            .await,
            StatusCode::BAD_REQUEST
        );
    }
    // An undecodable path is 400 too, and a room hosted elsewhere is 404.
    assert_eq!(
        status(
            &b,
            &format!("https://a.example:{}/v1/update/%zz", a.fed.port()),
            "mimi@b.example",
            vec![]
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(
            &b,
            &url(a.fed, "update", "mimi://b.example/r/other"),
            "mimi@b.example",
            vec![]
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // Still serving.
    let directory = b
        .get(format!(
            "https://a.example:{}{DIRECTORY_PATH}",
            a.fed.port()
        ))
        .header("from", "mimi@b.example")
        .send()
        .await
        .unwrap();
    assert_eq!(directory.status(), StatusCode::OK);
    let json: serde_json::Value =
        serde_json::from_slice(&directory.bytes().await.unwrap()).unwrap();
    assert!(
        json["notify"]
            .as_str()
            .unwrap()
            .ends_with("/v1/notify/{roomId}")
    );
    assert!(
        json["reportAbuse"]
            .as_str()
            .is_some_and(|t| t.ends_with("/v1/reportAbuse/{roomId}")),
        "every implemented endpoint is advertised"
    );
}

/// `notify` is accepted only from the room's hub: c.example may not notify
/// b.example about a room hosted on a.example, even with its own valid
/// certificate and a well-formed body.
#[tokio::test(flavor = "multi_thread")]
async fn notify_from_a_provider_that_is_not_the_hub_is_403() {
    let fed = Federation::new();
    let b = fed.start("b.example", &[]).await;
    let c_tls = fed.identity("c.example").client_config().unwrap();
    let c = peer_http(c_tls, "b.example", b.fed);
    let url = format!(
        "https://b.example:{}/v1/notify/{}",
        b.fed.port(),
        percent_encode(ROOM)
    );
    let answer = c
        .post(&url)
        .header("from", "mimi@c.example")
        .body(vec![0; 16])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    // The hub itself, with a garbage body: past authorization, 400.
    let a_tls = fed.identity("a.example").client_config().unwrap();
    let a = peer_http(a_tls, "b.example", b.fed);
    let answer = a
        .post(&url)
        .header("from", "mimi@a.example")
        .body(vec![0; 16])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}
