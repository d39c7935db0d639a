//! The MLS profile every MIMI room uses: one ciphersuite, the extensions and
//! proposal types every member must support, and the handshake wire format.
//!
//! Hub and clients read these from one place so a room the client creates is
//! exactly a room the hub accepts.

use openmls::prelude::{
    Capabilities, Ciphersuite, CredentialType, ExtensionType, ProposalType,
    RequiredCapabilitiesExtension,
};

/// The ciphersuite of every room (X25519, AES-128-GCM, SHA-256, Ed25519).
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// Non-default GroupContext extensions every member must support: the room
/// state lives in `app_data_dictionary` (protocol-06 §7.2). `external_senders`
/// (§7.4) is an RFC 9420 default extension, so it is supported implicitly and
/// must not be listed.
pub const REQUIRED_EXTENSIONS: [ExtensionType; 1] = [ExtensionType::AppDataDictionary];

/// Proposal types every member must support: room-state changes travel as
/// AppDataUpdate (mls-extensions), and leaving clients use SelfRemove.
pub const REQUIRED_PROPOSALS: [ProposalType; 2] =
    [ProposalType::AppDataUpdate, ProposalType::SelfRemove];

/// Credential types mimi accepts in leaves. Basic credentials carry the client
/// URI as identity (decision ID-3).
pub const CREDENTIALS: [CredentialType; 1] = [CredentialType::Basic];

/// The `required_capabilities` GroupContext extension of every room.
pub fn required_capabilities() -> RequiredCapabilitiesExtension {
    RequiredCapabilitiesExtension::new(&REQUIRED_EXTENSIONS, &REQUIRED_PROPOSALS, &CREDENTIALS)
}

/// The leaf capabilities of a last-resort KeyPackage (RFC 9420 §16.8): every
/// extension a KeyPackage carries must be among its leaf's capabilities, so
/// these are [`leaf_capabilities`] plus `last_resort`.
pub fn last_resort_capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[CIPHERSUITE]),
        Some(&[REQUIRED_EXTENSIONS[0], ExtensionType::LastResort]),
        Some(&REQUIRED_PROPOSALS),
        Some(&CREDENTIALS),
    )
}

/// The leaf capabilities every mimi client advertises, matching
/// [`required_capabilities`].
pub fn leaf_capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[CIPHERSUITE]),
        Some(&REQUIRED_EXTENSIONS),
        Some(&REQUIRED_PROPOSALS),
        Some(&CREDENTIALS),
    )
}
