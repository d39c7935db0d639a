//! proxyDownload across real servers (protocol-06 §5.10): the hub fetches
//! from a peer provider's configured asset host and from nothing else.

use axum::Router;
use axum::routing::get;
use mimi_server::TlsIdentity;
use reqwest::StatusCode;

use crate::common::{Federation, peer_http, percent_encode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_fetches_only_from_allowed_asset_hosts() {
    let fed = Federation::new();
    // b.example's asset host: an HTTPS server with b's certificate.
    let assets = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let assets_addr = assets.local_addr().unwrap();
    let b_identity: TlsIdentity = fed.identity("b.example");
    let app = Router::new().route("/cat.png", get(|| async { "meow" }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mimi_server::serve_mtls(
        assets,
        b_identity.server_config().unwrap(),
        app,
        async {
            let _ = stopped.await;
        },
    ));

    let mut a = fed
        .start_with(
            "a.example",
            &[],
            &format!(
                "[asset_hosts]\n\"b.example\" = {{ provider = \"b.example\", addr = \"{assets_addr}\" }}\n"
            ),
        )
        .await;
    let mut b = fed.start("b.example", &[("a.example", a.fed)]).await;
    a.set_peer("b.example", b.fed).await;

    let http = peer_http(b_identity.client_config().unwrap(), "a.example", a.fed);
    let download = |url: &str, room: Option<&str>| {
        let mut path = format!(
            "https://a.example:{}/v1/proxyDownload/{}",
            a.fed.port(),
            percent_encode(url)
        );
        if let Some(room) = room {
            path.push_str(&format!("?room={}", percent_encode(room)));
        }
        let request = http.get(path).header("from", "mimi@b.example");
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };

    assert_eq!(
        download("https://b.example/cat.png", None).await,
        (StatusCode::OK, "meow".to_owned())
    );
    // Not an asset host of a peer: refused without any fetch.
    for url in [
        "https://evil.example/cat.png",
        "https://c.example/cat.png",
        "https://127.0.0.1/cat.png",
        "https://user@b.example/cat.png",
    ] {
        assert_eq!(download(url, None).await.0, StatusCode::FORBIDDEN, "{url}");
    }
    // A room hint must name a room hosted here.
    assert_eq!(
        download(
            "https://b.example/cat.png",
            Some("mimi://a.example/r/nowhere")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    a.stop().await;
    b.stop().await;
    let _ = stop.send(());
    let _ = server.await;
}
