//! Signed requests: how a client proves who it is to its own provider.
//!
//! A client registers its MLS signature key once, proving possession with a
//! [`RegisterProof`]. Every later request carries
//!
//! ```text
//! Authorization: MIMI-Sig client=<percent-encoded client URI>, ts=<unix secs>, nonce=<base64>, sig=<base64>
//! ```
//!
//! where `sig = SignWithLabel(key, "mimi client request", ClientRequestTBS)`:
//!
//! ```text
//! struct {
//!   opaque client<V>;       // the client URI
//!   opaque method<V>;       // "GET", "POST", …
//!   opaque path<V>;         // path and query, exactly as sent
//!   uint64 timestamp;       // seconds since the Unix epoch
//!   opaque nonce<V>;        // 16 random bytes
//!   opaque body_hash<V>;    // SHA-256 of the body (of the empty string for none)
//! } ClientRequestTBS;
//! ```
//!
//! The server accepts a timestamp within [`MAX_SKEW_SECS`] of its clock and
//! each (client, nonce) once within that window ([`ReplayGuard`]), so a
//! captured request cannot be replayed, and the body hash binds the request's
//! content. Per-request signatures need no session state and no token that a
//! log could leak (decisions CAPI-1).

use std::collections::{HashMap, VecDeque};

use mimi_proto::directory::{percent_decode, percent_encode};
use mimi_proto::messages::crypto::{sign_with_label, verify_with_label};
use mimi_proto::mls_profile::CIPHERSUITE;
use openmls::prelude::{OpenMlsCrypto, SignaturePublicKey};
use openmls_traits::signatures::Signer;
use sha2::{Digest, Sha256};

/// The HTTP header carrying the signature.
pub const HEADER: &str = "authorization";
/// The authorization scheme.
pub const SCHEME: &str = "MIMI-Sig";
/// Label of request signatures.
pub const REQUEST_LABEL: &str = "mimi client request";
/// Label of registration proofs.
pub const REGISTER_LABEL: &str = "mimi client register";
/// How far a request's timestamp may be from the server's clock, in seconds.
pub const MAX_SKEW_SECS: u64 = 300;
/// Length of a request nonce.
pub const NONCE_LEN: usize = 16;

/// Why a request's authentication failed. Every variant answers 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header, or not the `MIMI-Sig` scheme.
    #[error("missing MIMI-Sig authorization")]
    Missing,
    /// The header does not parse.
    #[error("malformed authorization header: {0}")]
    Malformed(&'static str),
    /// The timestamp is too far from the server's clock.
    #[error("timestamp outside the accepted window")]
    Stale,
    /// The (client, nonce) pair was seen already.
    #[error("replayed request")]
    Replayed,
    /// The signature does not verify under the client's registered key.
    #[error("bad signature")]
    BadSignature,
    /// Signing failed on the client side.
    #[error("signing failed")]
    Sign,
}

/// A parsed `Authorization: MIMI-Sig …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    /// The client URI the request claims to come from.
    pub client: String,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// The request nonce.
    pub nonce: Vec<u8>,
    /// `SignWithLabel` over [`request_tbs`].
    pub signature: Vec<u8>,
}

impl AuthHeader {
    /// Signs a request.
    ///
    /// # Errors
    /// [`AuthError::Sign`] if the signer fails.
    pub fn sign(
        signer: &impl Signer,
        client: &str,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        timestamp: u64,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Self, AuthError> {
        let tbs = request_tbs(client, method, path_and_query, timestamp, &nonce, body);
        let signature =
            sign_with_label(signer, REQUEST_LABEL, &tbs).map_err(|_| AuthError::Sign)?;
        Ok(Self {
            client: client.to_owned(),
            timestamp,
            nonce: nonce.to_vec(),
            signature,
        })
    }

    /// The header value.
    pub fn to_header_value(&self) -> String {
        format!(
            "{SCHEME} client={}, ts={}, nonce={}, sig={}",
            percent_encode(&self.client),
            self.timestamp,
            b64(&self.nonce),
            b64(&self.signature)
        )
    }

    /// Parses a header value.
    ///
    /// # Errors
    /// [`AuthError::Missing`] for another scheme, [`AuthError::Malformed`]
    /// for anything else that is not a complete, well-formed header.
    pub fn parse(value: &str) -> Result<Self, AuthError> {
        let rest = value
            .strip_prefix(SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(AuthError::Missing)?;
        let (mut client, mut ts, mut nonce, mut sig) = (None, None, None, None);
        for part in rest.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or(AuthError::Malformed("expected key=value"))?;
            let slot = match key {
                "client" => &mut client,
                "ts" => &mut ts,
                "nonce" => &mut nonce,
                "sig" => &mut sig,
                _ => return Err(AuthError::Malformed("unknown parameter")),
            };
            if slot.replace(value).is_some() {
                return Err(AuthError::Malformed("repeated parameter"));
            }
        }
        let client = percent_decode(client.ok_or(AuthError::Malformed("no client"))?)
            .ok_or(AuthError::Malformed("client is not percent-encoded UTF-8"))?;
        let timestamp = ts
            .ok_or(AuthError::Malformed("no ts"))?
            .parse()
            .map_err(|_| AuthError::Malformed("ts is not a number"))?;
        let nonce = unb64(nonce.ok_or(AuthError::Malformed("no nonce"))?)?;
        if nonce.len() != NONCE_LEN {
            return Err(AuthError::Malformed("nonce must be 16 bytes"));
        }
        let signature = unb64(sig.ok_or(AuthError::Malformed("no sig"))?)?;
        Ok(Self {
            client,
            timestamp,
            nonce,
            signature,
        })
    }

    /// Checks the timestamp against `now` and the signature against the
    /// client's registered `key`. Replay is checked separately
    /// ([`ReplayGuard`]) so it runs only for authentic requests.
    ///
    /// # Errors
    /// [`AuthError::Stale`] or [`AuthError::BadSignature`].
    pub fn verify(
        &self,
        crypto: &impl OpenMlsCrypto,
        key: &[u8],
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: u64,
    ) -> Result<(), AuthError> {
        if self.timestamp.abs_diff(now) > MAX_SKEW_SECS {
            return Err(AuthError::Stale);
        }
        let tbs = request_tbs(
            &self.client,
            method,
            path_and_query,
            self.timestamp,
            &self.nonce,
            body,
        );
        verify_with_label(
            crypto,
            CIPHERSUITE.signature_algorithm(),
            &SignaturePublicKey::from(key.to_vec()),
            REQUEST_LABEL,
            &tbs,
            &self.signature,
        )
        .map_err(|_| AuthError::BadSignature)
    }
}

/// The encoded `ClientRequestTBS`.
pub fn request_tbs(
    client: &str,
    method: &str,
    path_and_query: &str,
    timestamp: u64,
    nonce: &[u8],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + path_and_query.len());
    put_opaque(&mut out, client.as_bytes());
    put_opaque(&mut out, method.as_bytes());
    put_opaque(&mut out, path_and_query.as_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    put_opaque(&mut out, nonce);
    put_opaque(&mut out, &Sha256::digest(body));
    out
}

/// The registration proof:
///
/// ```text
/// struct {
///   opaque client<V>;
///   opaque credential<V>;      // TLS-encoded Credential
///   opaque signature_key<V>;
///   uint64 timestamp;
/// } RegisterProofTBS;
/// ```
///
/// signed with `SignWithLabel(key, "mimi client register", …)`.
#[derive(Debug, Clone, Copy)]
pub struct RegisterProof;

impl RegisterProof {
    /// Signs a registration.
    ///
    /// # Errors
    /// [`AuthError::Sign`] if the signer fails.
    pub fn sign(
        signer: &impl Signer,
        client: &str,
        credential: &[u8],
        signature_key: &[u8],
        timestamp: u64,
    ) -> Result<Vec<u8>, AuthError> {
        let tbs = Self::tbs(client, credential, signature_key, timestamp);
        sign_with_label(signer, REGISTER_LABEL, &tbs).map_err(|_| AuthError::Sign)
    }

    /// Verifies a registration's proof and timestamp.
    ///
    /// # Errors
    /// [`AuthError::Stale`] or [`AuthError::BadSignature`].
    pub fn verify(
        crypto: &impl OpenMlsCrypto,
        request: &crate::RegisterRequest,
        now: u64,
    ) -> Result<(), AuthError> {
        if request.timestamp.abs_diff(now) > MAX_SKEW_SECS {
            return Err(AuthError::Stale);
        }
        let tbs = Self::tbs(
            &request.client,
            &request.credential.0,
            &request.signature_key.0,
            request.timestamp,
        );
        verify_with_label(
            crypto,
            CIPHERSUITE.signature_algorithm(),
            &SignaturePublicKey::from(request.signature_key.0.clone()),
            REGISTER_LABEL,
            &tbs,
            &request.proof.0,
        )
        .map_err(|_| AuthError::BadSignature)
    }

    fn tbs(client: &str, credential: &[u8], signature_key: &[u8], timestamp: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_opaque(&mut out, client.as_bytes());
        put_opaque(&mut out, credential);
        put_opaque(&mut out, signature_key);
        out.extend_from_slice(&timestamp.to_be_bytes());
        out
    }
}

/// Remembers recent (client, nonce) pairs so each signed request is accepted
/// once. Entries older than [`MAX_SKEW_SECS`] are dropped (a request that old
/// is refused as stale anyway), and at most `capacity` are kept: when full,
/// new requests are refused rather than old nonces forgotten early, so an
/// attacker cannot flush the guard to replay.
#[derive(Debug)]
pub struct ReplayGuard {
    seen: HashMap<(String, Vec<u8>), u64>,
    order: VecDeque<(u64, String, Vec<u8>)>,
    capacity: usize,
}

impl ReplayGuard {
    /// A guard holding at most `capacity` recent nonces.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Records the header's nonce, or refuses it if seen (or if the guard is
    /// full of live nonces).
    ///
    /// # Errors
    /// [`AuthError::Replayed`].
    pub fn check(&mut self, header: &AuthHeader, now: u64) -> Result<(), AuthError> {
        while let Some((at, _, _)) = self.order.front() {
            if now.saturating_sub(*at) <= 2 * MAX_SKEW_SECS {
                break;
            }
            if let Some((_, client, nonce)) = self.order.pop_front() {
                self.seen.remove(&(client, nonce));
            }
        }
        let key = (header.client.clone(), header.nonce.clone());
        if self.seen.contains_key(&key) || self.seen.len() >= self.capacity {
            return Err(AuthError::Replayed);
        }
        self.seen.insert(key, now);
        self.order
            .push_back((now, header.client.clone(), header.nonce.clone()));
        Ok(())
    }
}

fn put_opaque(out: &mut Vec<u8>, bytes: &[u8]) {
    // MLS variable-length integer (RFC 9420 §2.1.2); our values stay far
    // below the 4-byte form's 2^30 limit (bodies are hashed).
    let len = bytes.len();
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.extend_from_slice(&((len as u16) | 0x4000).to_be_bytes());
    } else {
        out.extend_from_slice(&((len as u32 & 0x3fff_ffff) | 0x8000_0000).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, AuthError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| AuthError::Malformed("not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use openmls_traits::OpenMlsProvider as _;
    use proptest::prelude::*;

    const CLIENT: &str = "mimi://x.example/d/alice/phone";

    fn key() -> SignatureKeyPair {
        SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).unwrap()
    }

    #[test]
    fn a_signed_request_verifies_and_any_change_breaks_it() {
        let crypto = OpenMlsRustCrypto::default();
        let k = key();
        let h =
            AuthHeader::sign(&k, CLIENT, "POST", "/client/v1/rooms", b"{}", 1000, [7; 16]).unwrap();
        let parsed = AuthHeader::parse(&h.to_header_value()).unwrap();
        assert_eq!(parsed, h);
        let pk = k.to_public_vec();
        let ok =
            |m: &str, p: &str, b: &[u8], now| parsed.verify(crypto.crypto(), &pk, m, p, b, now);
        assert_eq!(ok("POST", "/client/v1/rooms", b"{}", 1000), Ok(()));
        assert_eq!(
            ok("GET", "/client/v1/rooms", b"{}", 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            ok("POST", "/client/v1/hub", b"{}", 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            ok("POST", "/client/v1/rooms", b"{ }", 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            ok("POST", "/client/v1/rooms", b"{}", 1000 + MAX_SKEW_SECS + 1),
            Err(AuthError::Stale)
        );
        let other = key().to_public_vec();
        assert_eq!(
            parsed.verify(
                crypto.crypto(),
                &other,
                "POST",
                "/client/v1/rooms",
                b"{}",
                1000
            ),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn a_nonce_is_accepted_once() {
        let k = key();
        let h = AuthHeader::sign(&k, CLIENT, "GET", "/x", b"", 1000, [1; 16]).unwrap();
        let mut guard = ReplayGuard::new(10);
        assert_eq!(guard.check(&h, 1000), Ok(()));
        assert_eq!(guard.check(&h, 1001), Err(AuthError::Replayed));
        // Long after, the entry is gone, but the timestamp check refuses it.
        assert_eq!(guard.check(&h, 1000 + 3 * MAX_SKEW_SECS), Ok(()));
    }

    #[test]
    fn a_full_guard_refuses_instead_of_forgetting() {
        let k = key();
        let mut guard = ReplayGuard::new(1);
        let a = AuthHeader::sign(&k, CLIENT, "GET", "/x", b"", 1000, [1; 16]).unwrap();
        let b = AuthHeader::sign(&k, CLIENT, "GET", "/x", b"", 1000, [2; 16]).unwrap();
        assert_eq!(guard.check(&a, 1000), Ok(()));
        assert_eq!(guard.check(&b, 1000), Err(AuthError::Replayed));
        assert_eq!(guard.check(&a, 1000), Err(AuthError::Replayed));
    }

    #[test]
    fn registration_proof() {
        let crypto = OpenMlsRustCrypto::default();
        let k = key();
        let proof = RegisterProof::sign(&k, CLIENT, b"cred", &k.to_public_vec(), 50).unwrap();
        let mut request = crate::RegisterRequest {
            client: CLIENT.into(),
            credential: b"cred".to_vec().into(),
            signature_key: k.to_public_vec().into(),
            timestamp: 50,
            proof: proof.into(),
            token: None,
        };
        assert_eq!(RegisterProof::verify(crypto.crypto(), &request, 60), Ok(()));
        assert_eq!(
            RegisterProof::verify(crypto.crypto(), &request, 50 + MAX_SKEW_SECS + 1),
            Err(AuthError::Stale)
        );
        request.client = "mimi://x.example/d/mallory/phone".into();
        assert_eq!(
            RegisterProof::verify(crypto.crypto(), &request, 60),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "Bearer x",
            "MIMI-Sig ",
            "MIMI-Sig client=a",
            "MIMI-Sig client=a, ts=1, nonce=AAAAAAAAAAAAAAAAAAAAAA==, sig=AA==, sig=AA==",
            "MIMI-Sig client=a, ts=x, nonce=AAAAAAAAAAAAAAAAAAAAAA==, sig=AA==",
            "MIMI-Sig client=a, ts=1, nonce=AA==, sig=AA==",
            "MIMI-Sig client=%zz, ts=1, nonce=AAAAAAAAAAAAAAAAAAAAAA==, sig=AA==",
        ] {
            assert!(AuthHeader::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn headers_round_trip(client in "\\PC{1,40}", ts: u64, nonce: [u8; 16], sig in proptest::collection::vec(any::<u8>(), 0..80)) {
            let h = AuthHeader { client, timestamp: ts, nonce: nonce.to_vec(), signature: sig };
            prop_assert_eq!(AuthHeader::parse(&h.to_header_value()).unwrap(), h);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = AuthHeader::parse(&text);
        }
    }
}
