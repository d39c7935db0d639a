//! The TLS accept loop: TLS handshake, peer identity, HTTP/1.1 or HTTP/2,
//! graceful shutdown. Mutual TLS for federation ([`serve_mtls`]), server
//! authentication only for the client API ([`serve_tls`]).
//!
//! axum's own `serve` cannot hand the peer certificate to handlers, so we run
//! the loop ourselves: each connection's [`PeerIdentity`] is inserted into the
//! extensions of every request it carries.
//!
//! An HTTP/2 request answered before its body was read (a 403 from the
//! authentication layer, a 413) has the rest of its body read and dropped in
//! the background, within bounds, so its stream ends normally instead of by
//! a reset once the response is out: curl 7.88 and other clients still
//! uploading treat any reset as a failed transfer and never show the answer
//! (decisions FED-21).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::{Body as _, Bytes, Frame, Incoming, SizeHint};
use hyper::{Request, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::setup::tls::{PeerCheck, dns_names};

/// How long a client may take to finish the TLS handshake. Bounds the sockets
/// a slow or silent peer can hold open.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long shutdown waits for in-flight requests before closing anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// How long an HTTP/1.1 client may take to send a request's headers: bounds
/// connections held open by a peer that sends nothing.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP/2 pings on idle connections; a peer that does not answer within
/// [`KEEP_ALIVE_TIMEOUT`] is disconnected, freeing its connection.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Concurrent HTTP/2 streams per connection: one peer's connection carries
/// all its requests, and this bounds what one connection can have in flight.
const MAX_CONCURRENT_STREAMS: u32 = 512;

/// How much of a refused HTTP/2 request's unread body is read and dropped:
/// enough for any body a client sends before it sees the answer, while an
/// upload larger than that costs us no more than this (its stream is reset).
const BODY_DRAIN_LIMIT: usize = 256 * 1024;

/// How long a refused HTTP/2 request's body may take to arrive: bounds how
/// long a silent client keeps the stream (and a slot of
/// [`MAX_CONCURRENT_STREAMS`]) open.
const BODY_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP/1.1 + HTTP/2 connection builder with the timeouts above.
fn connection_builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    builder
}

/// Who is on the other end of a connection, from its verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// The `dNSName` SANs of the peer's certificate, lower-cased.
    pub domains: Arc<[String]>,
}

impl PeerIdentity {
    /// Whether the certificate authenticates `domain` (exact, case-insensitive match).
    pub fn authenticates(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// Serves `app` on `listener` over mutual TLS until `shutdown` resolves, then
/// stops accepting and drains in-flight requests (bounded by a timeout).
///
/// Connections whose handshake fails (no certificate, untrusted CA) are closed
/// and logged; they never reach `app`.
///
/// # Errors
/// Returns the accept error only if the listener itself fails.
pub async fn serve_mtls(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve(listener, tls, None, app, shutdown).await
}

/// As [`serve_mtls`], for a TLS configuration from
/// [`TlsIdentity::server_config_reporting`](crate::TlsIdentity::server_config_reporting):
/// connections with a missing or unverifiable client certificate are served,
/// with an empty [`PeerIdentity`], so the authentication middleware answers
/// them 403 with a reason.
///
/// # Errors
/// Returns the accept error only if the listener itself fails.
pub async fn serve_mtls_checked(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    check: PeerCheck,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve(listener, tls, Some(check), app, shutdown).await
}

/// Serves `app` over TLS with server authentication only (the client API):
/// the same accept loop, timeouts and graceful shutdown as [`serve_mtls`],
/// for a configuration that asks for no client certificate. Requests carry an
/// empty [`PeerIdentity`].
///
/// # Errors
/// Returns the accept error only if the listener itself fails.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve(listener, tls, None, app, shutdown).await
}

async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    check: Option<PeerCheck>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = GracefulShutdown::new();
    let builder = connection_builder();
    tokio::pin!(shutdown);
    let mut accept_backoff = Duration::from_millis(10);

    loop {
        let (tcp, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    accept_backoff = Duration::from_millis(10);
                    pair
                }
                Err(e) => {
                    // Out of file descriptors and similar: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(accept_backoff).await;
                    accept_backoff = (accept_backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
        };
        // HTTP/2 writes small frames (a response's HEADERS, a WINDOW_UPDATE) that must not
        // wait for the peer's delayed ACK: with Nagle's algorithm on, a notify answer stalled
        // ~40 ms now and then, the fan-out bench's whole p99 tail.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(%remote, error = %e, "TCP_NODELAY not set");
        }
        let acceptor = acceptor.clone();
        let app = app.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let check = check.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::info!(%remote, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::info!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let chain = tls.get_ref().1.peer_certificates().unwrap_or_default();
            // Names count only from a chain that verifies (always true for the
            // strict configuration, which refuses others at the handshake).
            let verified = check.as_ref().is_none_or(|c| c.verifies(chain));
            let domains: Arc<[String]> = chain
                .first()
                .filter(|_| verified)
                .map(dns_names)
                .unwrap_or_default()
                .into();
            let peer = PeerIdentity { domains };
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(peer.clone());
                let app = app.clone();
                let req = if req.version() == Version::HTTP_2 {
                    req.map(|body| Body::new(DrainOnDrop(Some(body))))
                } else {
                    // hyper reads or discards an HTTP/1.1 body itself.
                    req.map(Body::new)
                };
                async move { app.oneshot(req).await.map_err(|e: Infallible| e) }
            });
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: in-flight requests did not finish in time");
    }
    Ok(())
}

/// An HTTP/2 request body that, dropped before its end (the handler answered
/// without reading it all), is read to its end by a task of its own, at most
/// [`BODY_DRAIN_LIMIT`] bytes within [`BODY_DRAIN_TIMEOUT`]. h2 resets a stream whose
/// request body is dropped unread (with `NO_ERROR` once the response is
/// complete, RFC 9113 §8.1); reading it instead lets the client's
/// `END_STREAM` close the stream.
struct DrainOnDrop(Option<Incoming>);

impl hyper::body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut().0.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Incoming::size_hint)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.0.take().filter(|b| !b.is_end_stream()) else {
            return;
        };
        // Dropped on the connection's runtime; elsewhere (never, today) the
        // body just goes, and h2 resets the stream.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(body));
        }
    }
}

/// Reads and drops `body` until its end, [`BODY_DRAIN_LIMIT`] bytes or
/// [`BODY_DRAIN_TIMEOUT`], whichever comes first.
async fn drain(mut body: Incoming) {
    let read_all = async {
        let mut left = BODY_DRAIN_LIMIT;
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let len = frame.data_ref().map_or(0, Bytes::len);
            match left.checked_sub(len) {
                Some(rest) => left = rest,
                None => break,
            }
        }
    };
    let _ = tokio::time::timeout(BODY_DRAIN_TIMEOUT, read_all).await;
}
