//! A development PKI: one CA and one certificate per provider, so a local
//! federation can be brought up in a minute (`mimi pki init`).
//!
//! Each provider certificate carries the provider's domain as a `dNSName`
//! subject alternative name and is valid for both TLS server and TLS client
//! authentication, because every provider is both: it serves MIMI requests and
//! makes them (protocol-06 §4.1: mutually authenticated TLS, RFC 6125 names).

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::setup::server_error::ServerError;

/// File names inside a PKI directory.
pub const CA_CERT_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca.key";

/// The certificate and key paths of one provider inside a PKI directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFiles {
    /// The provider's domain.
    pub domain: String,
    /// PEM certificate (leaf only).
    pub cert: PathBuf,
    /// PEM PKCS#8 private key.
    pub key: PathBuf,
}

/// Paths written by [`init`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiFiles {
    /// The CA certificate every provider trusts.
    pub ca_cert: PathBuf,
    /// One entry per provider, in the order given.
    pub providers: Vec<ProviderFiles>,
}

/// Creates a CA and one certificate per provider domain under `out`.
///
/// An existing CA in `out` is reused, so providers can be added later; existing
/// provider files are overwritten.
///
/// # Errors
/// [`ServerError::Config`] for an invalid domain, [`ServerError::Io`] when files
/// cannot be written.
pub fn init(out: &Path, domains: &[String]) -> Result<PkiFiles, ServerError> {
    fs::create_dir_all(out).map_err(|e| ServerError::io(out, e))?;
    let ca_cert_path = out.join(CA_CERT_FILE);
    let ca_key_path = out.join(CA_KEY_FILE);

    let ca = if ca_cert_path.exists() && ca_key_path.exists() {
        let key_pem = read(&ca_key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| pki_error("read CA key", e))?;
        // Re-issue the CA certificate from the same key and parameters so the
        // issuer name and key identifier match what providers already trust.
        CertifiedIssuer::self_signed(ca_params(), key).map_err(|e| pki_error("rebuild CA", e))?
    } else {
        let key = KeyPair::generate().map_err(|e| pki_error("generate CA key", e))?;
        let key_pem = key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params(), key)
            .map_err(|e| pki_error("self-sign CA", e))?;
        write_private(&ca_key_path, &key_pem)?;
        write(&ca_cert_path, &ca.pem())?;
        ca
    };

    let mut providers = Vec::with_capacity(domains.len());
    for domain in domains {
        mimi_proto::ProviderId::from_domain(domain)
            .map_err(|e| ServerError::Config(format!("provider domain {domain:?}: {e}")))?;
        let key = KeyPair::generate().map_err(|e| pki_error("generate provider key", e))?;
        let mut params = CertificateParams::new(vec![domain.clone()])
            .map_err(|e| pki_error("provider certificate parameters", e))?;
        params.distinguished_name = name(domain);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params
            .signed_by(&key, &ca)
            .map_err(|e| pki_error("sign provider", e))?;
        let files = ProviderFiles {
            domain: domain.clone(),
            cert: out.join(format!("{domain}.pem")),
            key: out.join(format!("{domain}.key")),
        };
        write(&files.cert, &cert.pem())?;
        write_private(&files.key, &key.serialize_pem())?;
        providers.push(files);
    }
    Ok(PkiFiles {
        ca_cert: ca_cert_path,
        providers,
    })
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name("mimi development CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

fn pki_error(what: &str, e: rcgen::Error) -> ServerError {
    ServerError::Config(format!("pki: {what}: {e}"))
}

fn read(path: &Path) -> Result<String, ServerError> {
    fs::read_to_string(path).map_err(|e| ServerError::io(path, e))
}

fn write(path: &Path, contents: &str) -> Result<(), ServerError> {
    fs::write(path, contents).map_err(|e| ServerError::io(path, e))
}

/// Writes a private key readable only by its owner.
fn write_private(path: &Path, contents: &str) -> Result<(), ServerError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ServerError::io(path, e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| ServerError::io(path, e))
}
