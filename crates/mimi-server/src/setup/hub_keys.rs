//! The hub's long-term keys on disk: its MLS external-sender signature key and
//! its franking secret.
//!
//! Every room this provider hosts lists the signature key in `external_senders`
//! (protocol-06 §7.4), so losing it orphans every room: the file is created once,
//! written atomically with owner-only permissions, and reused on every start.
//!
//! ```text
//! struct {
//!   uint8 version = 1;
//!   SignatureKeyPair signer;      // openmls_basic_credential's TLS encoding:
//!                                 // private<V>, public<V>, uint16 scheme
//!   uint8 franking_secret[32];
//! } HubKeyFile;
//! ```

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use mimi_hub::HubKeys;
use mimi_proto::ProviderId;
use openmls_basic_credential::SignatureKeyPair;
use tls_codec::{DeserializeBytes as _, Serialize as _};

use crate::setup::server_error::ServerError;

/// File name of the key file inside the data directory.
pub const HUB_KEYS_FILE: &str = "hub-keys.bin";

/// Layout version; a file with another version is refused, never misread.
const VERSION: u8 = 1;

/// Largest key file accepted. Real files are under 200 bytes; the cap bounds
/// what a corrupt file can make us allocate.
const MAX_FILE_LEN: usize = 16 * 1024;

/// Why a key file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The bytes are not a `HubKeyFile`.
    #[error("key file does not decode")]
    Malformed,
    /// Written by another layout version.
    #[error("key file has an unknown version")]
    UnknownVersion,
    /// Larger than any real key file.
    #[error("key file is too large")]
    TooLarge,
}

/// Loads the hub keys from `dir`, creating them on first start.
///
/// # Errors
/// [`ServerError::Io`] if the file cannot be read or written,
/// [`ServerError::Config`] if it is corrupt (never silently replaced: that
/// would orphan every hosted room).
pub fn load_or_create(dir: &Path, provider: &ProviderId) -> Result<HubKeys, ServerError> {
    let path = dir.join(HUB_KEYS_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            let (signer, franking) = decode(&bytes)
                .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
            Ok(HubKeys::from_parts(provider.clone(), signer, franking))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let keys = HubKeys::generate(provider.clone())
                .map_err(|e| ServerError::Config(format!("hub keys: {e}")))?;
            let (signer, franking) = keys.to_parts();
            write_atomically(dir, &path, &encode(signer, franking)?)?;
            tracing::info!(path = %path.display(), "created hub keys");
            Ok(keys)
        }
        Err(e) => Err(ServerError::io(&path, e)),
    }
}

/// Encodes the key parts.
///
/// # Errors
/// [`ServerError::Config`] if a key is too long to encode.
pub fn encode(signer: &SignatureKeyPair, franking: &[u8; 32]) -> Result<Vec<u8>, ServerError> {
    let mut out = vec![VERSION];
    signer
        .tls_serialize(&mut out)
        .map_err(|_| ServerError::Config("hub keys do not encode".into()))?;
    out.extend_from_slice(franking);
    Ok(out)
}

/// Decodes a key file.
///
/// # Errors
/// The [`KeyFileError`] describing the first problem.
pub fn decode(bytes: &[u8]) -> Result<(SignatureKeyPair, [u8; 32]), KeyFileError> {
    if bytes.len() > MAX_FILE_LEN {
        return Err(KeyFileError::TooLarge);
    }
    let (&version, rest) = bytes.split_first().ok_or(KeyFileError::Malformed)?;
    if version != VERSION {
        return Err(KeyFileError::UnknownVersion);
    }
    let (signer, rest) =
        SignatureKeyPair::tls_deserialize_bytes(rest).map_err(|_| KeyFileError::Malformed)?;
    let franking: [u8; 32] = rest.try_into().map_err(|_| KeyFileError::Malformed)?;
    Ok((signer, franking))
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash
/// leaves either no file or a whole one; the key is readable by the owner only.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    fs::create_dir_all(dir).map_err(|e| ServerError::io(dir, e))?;
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| ServerError::io(&tmp, e))?;
    file.write_all(bytes)
        .map_err(|e| ServerError::io(&tmp, e))?;
    file.sync_all().map_err(|e| ServerError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| ServerError::io(path, e))?;
    // The rename is durable only once the directory entry is.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ServerError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use openmls_traits::types::SignatureScheme;
    use proptest::prelude::*;

    use super::*;

    fn provider() -> ProviderId {
        ProviderId::from_domain("a.example").unwrap()
    }

    #[test]
    fn keys_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), &provider()).unwrap();
        let second = load_or_create(dir.path(), &provider()).unwrap();
        assert_eq!(first.external_sender(), second.external_sender());
        assert_eq!(first.to_parts().1, second.to_parts().1);
        let mode = fs::metadata(dir.path().join(HUB_KEYS_FILE))
            .unwrap()
            .permissions();
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(mode.mode() & 0o777, 0o600);
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(HUB_KEYS_FILE), b"\x01garbage").unwrap();
        let err = load_or_create(dir.path(), &provider()).unwrap_err();
        assert!(err.to_string().contains("does not decode"), "{err}");
    }

    #[test]
    fn decode_names_each_problem() {
        let keys = HubKeys::generate(provider()).unwrap();
        let (signer, franking) = keys.to_parts();
        let good = encode(signer, franking).unwrap();
        let mut wrong_version = good.clone();
        wrong_version[0] = 9;
        assert_eq!(
            decode(&wrong_version).err(),
            Some(KeyFileError::UnknownVersion)
        );
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(decode(&trailing).err(), Some(KeyFileError::Malformed));
        assert_eq!(
            decode(&good[..good.len() - 1]).err(),
            Some(KeyFileError::Malformed)
        );
        assert_eq!(decode(&[]).err(), Some(KeyFileError::Malformed));
        assert_eq!(
            decode(&vec![1; MAX_FILE_LEN + 1]).err(),
            Some(KeyFileError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn round_trips(private in proptest::collection::vec(any::<u8>(), 0..200),
                       public in proptest::collection::vec(any::<u8>(), 0..200),
                       franking in any::<[u8; 32]>()) {
            let signer = SignatureKeyPair::from_raw(SignatureScheme::ED25519, private, public.clone());
            let bytes = encode(&signer, &franking).unwrap();
            let (back, franking_back) = decode(&bytes).unwrap();
            prop_assert_eq!(back.public(), &public[..]);
            prop_assert_eq!(franking_back, franking);
            prop_assert_eq!(encode(&back, &franking_back).unwrap(), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }
}
