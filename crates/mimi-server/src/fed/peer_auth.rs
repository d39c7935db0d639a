//! Who is calling: the peer provider authenticated by mutual TLS, cross-checked
//! with the `From` header, and whether the request is for us (`Host`).
//!
//! protocol-06 §4.1: the source provider is named by `From: mimi@<domain>` and
//! the TLS client certificate must authenticate that domain; the target is
//! named by `Host`. A request failing either check never reaches a handler.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use mimi_proto::ProviderId;

use crate::setup::listener::PeerIdentity;

/// The provider that sent a federation request, verified. Handlers take it
/// from the request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer(pub ProviderId);

/// Why a request was refused before reaching its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No verified client certificate on the connection.
    NoCertificate,
    /// `From` is missing or not `mimi@<domain>`.
    BadFrom,
    /// The certificate does not authenticate the `From` domain.
    FromMismatch,
    /// `Host` names another provider.
    NotForUs,
}

impl AuthFailure {
    /// What the peer reads ([`crate::setup::http_error`] gives the status).
    pub(crate) fn text(self) -> &'static str {
        match self {
            Self::NoCertificate => "client certificate required",
            Self::BadFrom => "From must be mimi@<provider-domain>",
            Self::FromMismatch => "From does not match the TLS client certificate",
            Self::NotForUs => "Host names another provider",
        }
    }
}

/// Checks one request's peer identity. Pure, so it is tested without sockets.
///
/// # Errors
/// The [`AuthFailure`] describing the first failed check.
pub fn check(
    our_domain: &str,
    peer: Option<&PeerIdentity>,
    from: Option<&str>,
    host: Option<&str>,
) -> Result<Peer, AuthFailure> {
    let peer = peer
        .filter(|p| !p.domains.is_empty())
        .ok_or(AuthFailure::NoCertificate)?;
    let domain = from
        .and_then(|f| f.trim().strip_prefix("mimi@"))
        .ok_or(AuthFailure::BadFrom)?;
    let provider =
        ProviderId::from_domain(&domain.to_ascii_lowercase()).map_err(|_| AuthFailure::BadFrom)?;
    if !peer.authenticates(provider.domain()) {
        return Err(AuthFailure::FromMismatch);
    }
    if let Some(host) = host {
        // The port is ignored (protocol-06 §4.1).
        let name = host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        });
        if !name.eq_ignore_ascii_case(our_domain) {
            return Err(AuthFailure::NotForUs);
        }
    }
    Ok(Peer(provider))
}

/// axum middleware applying [`check`] and inserting [`Peer`] for handlers.
pub async fn require_peer(
    State(our_domain): State<std::sync::Arc<str>>,
    mut req: Request,
    next: Next,
) -> Response {
    let from = req
        .headers()
        .get(header::FROM)
        .and_then(|v| v.to_str().ok());
    // HTTP/2 carries the target in :authority (the URI), HTTP/1.1 in Host.
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    match check(
        &our_domain,
        req.extensions().get::<PeerIdentity>(),
        from,
        host.as_deref(),
    ) {
        Ok(peer) => {
            req.extensions_mut().insert(peer);
            next.run(req).await
        }
        Err(failure) => {
            tracing::info!(?failure, from, "federation request refused");
            failure.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn peer(domains: &[&str]) -> PeerIdentity {
        PeerIdentity {
            domains: domains
                .iter()
                .map(|d| (*d).to_owned())
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[test]
    fn accepts_a_matching_from_and_host() {
        let p = peer(&["b.example"]);
        let ok = check(
            "a.example",
            Some(&p),
            Some("mimi@B.example"),
            Some("a.example:8443"),
        );
        assert_eq!(ok.unwrap().0.domain(), "b.example");
        assert!(check("a.example", Some(&p), Some("mimi@b.example"), None).is_ok());
    }

    #[test]
    fn refuses_each_mismatch_with_its_reason() {
        let p = peer(&["b.example"]);
        let cases = [
            (
                None,
                Some("mimi@b.example"),
                Some("a.example"),
                AuthFailure::NoCertificate,
            ),
            (
                Some(peer(&[])),
                Some("mimi@b.example"),
                Some("a.example"),
                AuthFailure::NoCertificate,
            ),
            (
                Some(p.clone()),
                None,
                Some("a.example"),
                AuthFailure::BadFrom,
            ),
            (
                Some(p.clone()),
                Some("b.example"),
                Some("a.example"),
                AuthFailure::BadFrom,
            ),
            (
                Some(p.clone()),
                Some("mimi@not a domain"),
                Some("a.example"),
                AuthFailure::BadFrom,
            ),
            (
                Some(p.clone()),
                Some("mimi@c.example"),
                Some("a.example"),
                AuthFailure::FromMismatch,
            ),
            (
                Some(p.clone()),
                Some("mimi@b.example"),
                Some("c.example"),
                AuthFailure::NotForUs,
            ),
        ];
        for (peer, from, host, want) in cases {
            assert_eq!(
                check("a.example", peer.as_ref(), from, host),
                Err(want),
                "{from:?} {host:?}"
            );
        }
    }

    #[tokio::test]
    async fn middleware_blocks_before_the_handler() {
        use axum::Router;
        use axum::body::Body;
        use axum::routing::post;
        use tower::ServiceExt as _;

        let app = Router::new()
            .route(
                "/v1/update/x",
                post(|axum::Extension(p): axum::Extension<Peer>| async move { p.0.to_string() }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Arc::<str>::from("a.example"),
                require_peer,
            ));
        let request = |from: &str, with_peer: bool| {
            let mut r = Request::post("https://a.example/v1/update/x")
                .header(header::FROM, from)
                .body(Body::empty())
                .unwrap();
            if with_peer {
                r.extensions_mut().insert(peer(&["b.example"]));
            }
            r
        };
        let ok = app
            .clone()
            .oneshot(request("mimi@b.example", true))
            .await
            .unwrap();
        assert_eq!(ok.status().as_u16(), 200);
        let spoofed = app
            .clone()
            .oneshot(request("mimi@c.example", true))
            .await
            .unwrap();
        assert_eq!(spoofed.status().as_u16(), 403);
        let anonymous = app.oneshot(request("mimi@b.example", false)).await.unwrap();
        assert_eq!(anonymous.status().as_u16(), 403);
    }
}
