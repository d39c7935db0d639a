//! Load protection over real mutual TLS: the per-peer rate limit answers 429
//! with `Retry-After`, and an oversized body is refused before it is read.

use std::time::Duration;

use mimi_server::{Config, Limits};
use reqwest::StatusCode;

use crate::common::{Federation, peer_http, percent_encode};

#[tokio::test(flavor = "multi_thread")]
async fn a_flooding_peer_gets_429_with_retry_after_and_big_bodies_413() {
    let fed = Federation::new();
    let config = Config {
        limits: Limits {
            max_body_bytes: 4096,
            requests_per_second_per_peer: 5,
        },
        ..fed.config("a.example", "a-limits")
    };
    let server = mimi_server::start(&config, mimi_server::Options::default())
        .await
        .unwrap();
    let b = peer_http(
        fed.identity("b.example").client_config().unwrap(),
        "a.example",
        server.federation_addr,
    );
    let url = format!(
        "https://a.example:{}/v1/update/{}",
        server.federation_addr.port(),
        percent_encode("mimi://a.example/r/x")
    );
    let post = |body: Vec<u8>| {
        b.post(&url)
            .header("from", "mimi@b.example")
            .body(body)
            .send()
    };

    // Oversized: refused whatever it holds.
    let big = post(vec![0; 5000]).await.unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // The bucket holds one second's worth; the burst after it is throttled.
    let mut throttled = None;
    for _ in 0..20 {
        let answer = post(vec![1, 2, 3]).await.unwrap();
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(answer);
            break;
        }
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    }
    let throttled = throttled.expect("a 429 within 20 requests at 5/s");
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1).contains(&retry_after), "{retry_after}");

    // Another peer is not affected by b.example's flood.
    let c = peer_http(
        fed.identity("c.example").client_config().unwrap(),
        "a.example",
        server.federation_addr,
    );
    let answer = c
        .post(&url)
        .header("from", "mimi@c.example")
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);

    // After waiting as told, b.example is served again.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(
        post(vec![1, 2, 3]).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    server.shutdown().await;
}
