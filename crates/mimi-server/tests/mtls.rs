//! Mutual TLS between two providers, over real sockets: the server learns the
//! client's provider domain from its certificate, and clients without a
//! certificate or with one from another CA are refused at the handshake. An
//! HTTP/2 request answered before its body was read ends without a reset.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure with context

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::{Extension, Router};
use mimi_server::{PeerIdentity, PkiFiles, TlsIdentity, init_pki, serve_mtls};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

async fn whoami(Extension(peer): Extension<PeerIdentity>) -> String {
    peer.domains.join(",")
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(identity: &TlsIdentity) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/whoami", get(whoami));
    let (tx, rx) = oneshot::channel();
    let tls = identity.server_config().unwrap();
    let task = tokio::spawn(serve_mtls(listener, tls, app, async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

fn client(config: rustls::ClientConfig, domain: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .resolve(domain, addr)
        .build()
        .unwrap()
}

/// A development PKI in `dir` for a.example and b.example, with both
/// providers' identities.
fn two_providers(dir: &std::path::Path) -> (PkiFiles, TlsIdentity, TlsIdentity) {
    let files = init_pki(dir, &["a.example".into(), "b.example".into()]).unwrap();
    let load = |i: usize| {
        TlsIdentity::load(
            &files.providers[i].cert,
            &files.providers[i].key,
            &files.ca_cert,
        )
        .unwrap()
    };
    let (a, b) = (load(0), load(1));
    (files, a, b)
}

#[tokio::test]
async fn peer_domain_comes_from_the_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (files, a, b) = two_providers(dir.path());
    let mut server = start(&a).await;
    let url = format!("https://a.example:{}/whoami", server.addr.port());

    // b.example, with its certificate: accepted, and named by its certificate.
    let body = client(b.client_config().unwrap(), "a.example", server.addr)
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "b.example");

    // No client certificate: the handshake fails.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject as _;
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_file(&files.ca_cert).unwrap())
        .unwrap();
    let anonymous = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let err = client(anonymous, "a.example", server.addr)
        .get(&url)
        .send()
        .await;
    assert!(
        err.is_err(),
        "a client without a certificate must be refused"
    );

    // A certificate from another CA: refused too.
    let other = tempfile::tempdir().unwrap();
    let other_files = init_pki(other.path(), &["b.example".into()]).unwrap();
    let rogue = TlsIdentity::load(
        &other_files.providers[0].cert,
        &other_files.providers[0].key,
        &files.ca_cert, // trusts the real CA, so only the server side can refuse
    )
    .unwrap();
    let err = client(rogue.client_config().unwrap(), "a.example", server.addr)
        .get(&url)
        .send()
        .await;
    assert!(
        err.is_err(),
        "a certificate from an untrusted CA must be refused"
    );

    // Graceful shutdown returns.
    server.stop.take().unwrap().send(()).unwrap();
    server.task.await.unwrap().unwrap();
}

/// An answer given before the request body was read (an early 403) reaches
/// an HTTP/2 client still uploading, and the stream then ends with the
/// client's body instead of a reset, which curl 7.88 reports as a framing
/// error (exit 92) without showing the answer.
#[tokio::test]
async fn an_early_refusal_over_http2_ends_its_stream_without_a_reset() {
    use axum::http::{Request, StatusCode};
    use hyper::body::Bytes;
    use std::task::Poll;

    let dir = tempfile::tempdir().unwrap();
    let (_files, a, b) = two_providers(dir.path());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Refuses without reading the body, as the authentication layer does.
    let refuse = || async { (StatusCode::FORBIDDEN, "no entry") };
    let app = Router::new()
        .route("/refuse", axum::routing::post(refuse))
        .route("/whoami", get(whoami));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_mtls(
        listener,
        a.server_config().unwrap(),
        app,
        async {
            let _ = stopped.await;
        },
    ));

    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("a.example").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(b.client_config().unwrap()))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (client, connection) = h2::client::handshake(tls).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();

    // The headers go first; the body follows only after the answer.
    let post = Request::post("https://a.example/refuse").body(()).unwrap();
    let (answer, mut upload) = client.send_request(post, false).unwrap();
    let answer = answer.await.unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let mut body = answer.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
        text.extend_from_slice(&chunk);
    }
    assert_eq!(text, b"no entry");
    let sent = upload.send_data(Bytes::from_static(b"the rest of the upload"), true);
    assert!(sent.is_ok(), "the stream was reset: {sent:?}");

    // A second request's answer comes after anything the server sent on the
    // first stream, a reset included.
    let mut client = client.ready().await.unwrap();
    let get = Request::get("https://a.example/whoami").body(()).unwrap();
    let (answer, _) = client.send_request(get, true).unwrap();
    assert_eq!(answer.await.unwrap().status(), StatusCode::OK);
    let reset = std::future::poll_fn(|cx| Poll::Ready(upload.poll_reset(cx))).await;
    assert!(
        reset.is_pending(),
        "the refused stream was reset: {reset:?}"
    );

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[test]
fn pki_init_reuses_the_ca_and_rejects_bad_domains() {
    let dir = tempfile::tempdir().unwrap();
    let first = init_pki(dir.path(), &["a.example".into()]).unwrap();
    let ca_before = std::fs::read(&first.ca_cert).unwrap();
    let second = init_pki(dir.path(), &["c.example".into()]).unwrap();
    assert_eq!(std::fs::read(&second.ca_cert).unwrap(), ca_before);
    // A certificate issued after the CA was reloaded still verifies against it.
    TlsIdentity::load(
        &second.providers[0].cert,
        &second.providers[0].key,
        &second.ca_cert,
    )
    .unwrap()
    .client_config()
    .unwrap();
    assert!(init_pki(dir.path(), &["not a domain".into()]).is_err());
}
