//! Mutual TLS between providers (protocol-06 §4.1).
//!
//! Both directions use the same identity: the provider's certificate (with its
//! domain as a `dNSName` SAN) and key, plus the CA(s) it trusts for peers. The
//! server requires a client certificate; the peer's provider domain is read
//! from that certificate and later matched against the `From` header.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    SignatureScheme,
};

use crate::setup::server_error::ServerError;

/// ALPN protocols we offer: HTTP/2 first (one connection carries all of a
/// peer's concurrent requests), HTTP/1.1 for simple tools.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A provider's TLS identity and trust anchors.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    roots: Arc<RootCertStore>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TlsIdentity")
            .field("chain_len", &self.chain.len())
            .field("roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// Loads a PEM certificate chain, a PEM private key and a PEM CA bundle.
    ///
    /// # Errors
    /// [`ServerError::Tls`] naming the file that is missing or malformed.
    pub fn load(cert: &Path, key: &Path, ca: &Path) -> Result<Self, ServerError> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| ServerError::Tls(format!("certificate {}: {e}", cert.display())))?;
        if chain.is_empty() {
            return Err(ServerError::Tls(format!(
                "certificate {}: no certificate",
                cert.display()
            )));
        }
        let key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| ServerError::Tls(format!("private key {}: {e}", key.display())))?;
        let mut roots = RootCertStore::empty();
        for der in CertificateDer::pem_file_iter(ca)
            .map_err(|e| ServerError::Tls(format!("CA {}: {e}", ca.display())))?
        {
            let der = der.map_err(|e| ServerError::Tls(format!("CA {}: {e}", ca.display())))?;
            roots
                .add(der)
                .map_err(|e| ServerError::Tls(format!("CA {}: {e}", ca.display())))?;
        }
        if roots.is_empty() {
            return Err(ServerError::Tls(format!(
                "CA {}: no certificate",
                ca.display()
            )));
        }
        Ok(Self {
            chain,
            key,
            roots: Arc::new(roots),
        })
    }

    /// The server side: requires and verifies a client certificate from the
    /// trusted CAs.
    ///
    /// # Errors
    /// [`ServerError::Tls`] if the key does not match or the CA set is unusable.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiClientVerifier::builder_with_provider(self.roots.clone(), provider.clone())
                .build()
                .map_err(|e| ServerError::Tls(format!("client verifier: {e}")))?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Tls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| ServerError::Tls(format!("server certificate: {e}")))?;
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }

    /// The client API's side: our certificate, no client certificate asked for
    /// (a provider's own clients authenticate with signed requests, decisions
    /// CAPI-1), HTTP/2 or HTTP/1.1.
    ///
    /// # Errors
    /// [`ServerError::Tls`] if the key does not match the certificate.
    pub fn server_config_without_client_auth(&self) -> Result<Arc<ServerConfig>, ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| ServerError::Tls(format!("server certificate: {e}")))?;
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }

    /// The client side: presents our certificate and verifies the peer's
    /// against the trusted CAs and the peer's domain (RFC 6125).
    ///
    /// # Errors
    /// [`ServerError::Tls`] if the key does not match the certificate.
    pub fn client_config(&self) -> Result<ClientConfig, ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Tls(e.to_string()))?
            .with_root_certificates(self.roots.clone())
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| ServerError::Tls(format!("client certificate: {e}")))?;
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

impl TlsIdentity {
    /// Like [`TlsIdentity::server_config`], but a client with no certificate
    /// or an unverifiable one still completes the handshake, so that it can be
    /// told *why* it is refused (403) instead of seeing a dropped connection
    /// (decisions FED-3). The handshake still proves possession of the
    /// presented key; whether the chain verifies is answered by the returned
    /// [`PeerCheck`], which the accept loop consults before it trusts any name
    /// in the certificate.
    ///
    /// # Errors
    /// [`ServerError::Tls`] if the key does not match or the CA set is unusable.
    pub(crate) fn server_config_reporting(
        &self,
    ) -> Result<(Arc<ServerConfig>, PeerCheck), ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let strict: Arc<dyn ClientCertVerifier> =
            WebPkiClientVerifier::builder_with_provider(self.roots.clone(), provider.clone())
                .build()
                .map_err(|e| ServerError::Tls(format!("client verifier: {e}")))?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Tls(e.to_string()))?
            .with_client_cert_verifier(Arc::new(Reporting(strict.clone())))
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(|e| ServerError::Tls(format!("server certificate: {e}")))?;
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok((Arc::new(config), PeerCheck(strict)))
    }
}

/// Verifies a peer's certificate chain against our trusted CAs, after the
/// handshake (see [`TlsIdentity::server_config_reporting`]).
#[derive(Debug, Clone)]
pub struct PeerCheck(Arc<dyn ClientCertVerifier>);

impl PeerCheck {
    /// Whether `chain` (leaf first) verifies for client authentication now.
    pub fn verifies(&self, chain: &[CertificateDer<'_>]) -> bool {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return false;
        };
        self.0
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .is_ok()
    }
}

/// A client verifier that asks for a certificate, checks the handshake
/// signature with it, but lets the handshake finish whatever the chain is;
/// the accept loop decides with [`PeerCheck`].
#[derive(Debug)]
struct Reporting(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for Reporting {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Err(e) = self.0.verify_client_cert(end_entity, intermediates, now) {
            tracing::info!(error = %e, "client certificate does not verify; requests will get 403");
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The `dNSName` subject alternative names of a peer's leaf certificate, lower-cased.
///
/// A certificate that does not parse yields no names, so the peer is treated as
/// unauthenticated rather than trusted by accident.
pub fn dns_names(cert: &CertificateDer<'_>) -> Vec<String> {
    use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
    let Ok((_, parsed)) = X509Certificate::from_der(cert.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
