//! `POST /v1/groupInfo/{roomId}`: a follower claims a room's GroupInfo and
//! ratchet tree for an external join (protocol-06 §5.6).
//!
//! The request is signed by the joining client; the response is signed by the
//! hub's external-sender key and carries the GroupInfo HPKE-encrypted to the
//! client, so the follower can neither read nor forge it.

use openmls::ciphersuite::HpkePublicKey;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::{
    Ciphersuite, Credential, ExternalSender, OpenMlsCrypto, SignaturePublicKey,
};
use openmls_traits::signatures::Signer;
use openmls_traits::types::HpkeCiphertext;

use crate::codec::{
    Codec, Reader, WireMessage, Writer, encode_all, tls_via_codec, wire_body, wire_enum,
};
use crate::error::{DecodeError, EncodeError};
use crate::id::RoomId;
use crate::messages::crypto::{
    CryptoError, decrypt_with_label, encrypt_with_label, external_sender_key, sign_with_label,
    verify_with_label,
};
use crate::messages::mls::ProposalMessage;
use crate::messages::update::RatchetTreeOption;
use crate::messages::{Protocol, read_protocol};

/// Most pending proposals a response may carry: the proposals the hub accepted
/// in the current epoch. Bounds what a joiner must decode and verify.
pub const MAX_PENDING_PROPOSALS: usize = 4096;

/// Label of the request signature.
pub const GROUP_INFO_REQUEST_LABEL: &str = "GroupInfoRequestTBS";
/// Label of the response signature.
pub const GROUP_INFO_RESPONSE_LABEL: &str = "GroupInfoResponseTBS";
/// Label of the HPKE encryption of [`GroupInfoRatchetTreeTbe`].
pub const GROUP_INFO_ENCRYPTION_LABEL: &str = "GroupInfo and ratchet_tree encryption";

/// The signed part of a [`GroupInfoRequest`].
///
/// ```text
/// struct {
///   Protocol protocol;
///   select (protocol) {
///     case mls10:
///       CipherSuite cipher_suite;
///       SignaturePublicKey requestingSignatureKey;
///       Credential requestingCredential;
///       HPKEPublicKey groupInfoPublicKey;
///       opaque joiningCode<V>;        // TBS in the draft: optional<opaque> (decisions W-9)
///   };
/// } GroupInfoRequestTBS;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfoRequestTbs {
    /// The suite of the requester's signature key and of `groupInfoPublicKey`.
    pub cipher_suite: Ciphersuite,
    /// The joining client's signature key.
    pub requesting_signature_key: SignaturePublicKey,
    /// The joining client's credential; the hub correlates it with the later
    /// external commit.
    pub requesting_credential: Credential,
    /// HPKE key (of `cipher_suite`'s KEM) the response is encrypted to.
    pub group_info_public_key: HpkePublicKey,
    /// A join code; empty when there is none.
    pub joining_code: Vec<u8>,
}

/// `GroupInfoRequest` (protocol-06 §5.6): the TBS then `opaque signature<V>`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfoRequest {
    /// Everything the signature covers.
    pub tbs: GroupInfoRequestTbs,
    /// `SignWithLabel(requestingSignatureKey, "GroupInfoRequestTBS", tbs)`.
    pub signature: Vec<u8>,
}

wire_body!(GroupInfoRequest, "GroupInfoRequest");

wire_enum! {
    /// `enum { reserved(0), success(1), notAuthorized(2), noSuchRoom(3), (255) } GroupInfoCode;`
    pub enum GroupInfoCode {
        /// The encrypted GroupInfo follows.
        Success = 1,
        /// The requester may not join.
        NotAuthorized = 2,
        /// No such room (may be hidden behind `notAuthorized`).
        NoSuchRoom = 3,
    }
}

/// `PendingProposal` (protocol-06 §5.6).
///
/// ```text
/// struct { MLSMessage proposal; uint64 hub_accepted_time; } PendingProposal;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PendingProposal {
    /// A proposal the hub accepted in the current epoch.
    pub proposal: ProposalMessage,
    /// When, in milliseconds since the UNIX epoch.
    pub hub_accepted_time: u64,
}

tls_via_codec!(PendingProposal);

/// The plaintext of `encrypted_groupinfo_and_tree` (protocol-06 §5.6).
///
/// ```text
/// struct {
///   GroupInfo groupInfo;
///   RatchetTreeOption ratchetTreeOption;
///   PendingProposal pending_proposals<V>;
/// } GroupInfoRatchetTreeTBE;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfoRatchetTreeTbe {
    /// The room's GroupInfo (without the `ratchet_tree` extension).
    pub group_info: Box<VerifiableGroupInfo>,
    /// How to get the tree.
    pub ratchet_tree_option: RatchetTreeOption,
    /// Proposals accepted this epoch (at most [`MAX_PENDING_PROPOSALS`]).
    pub pending_proposals: Vec<PendingProposal>,
}

wire_body!(GroupInfoRatchetTreeTbe, "GroupInfoRatchetTreeTBE");

/// The signed part of a successful [`GroupInfoResponse`]: the response
/// without its signature.
///
/// ```text
/// struct {
///   Protocol version;                 // the draft's name for the protocol field
///   opaque room_id<V>;
///   GroupInfoCode status;             // success
///   select (protocol) {
///     case mls10:
///       CipherSuite cipher_suite;
///       ExternalSender hub_sender;
///       HPKECiphertext encrypted_groupinfo_and_tree;
///   };
/// } GroupInfoResponseTBS;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfoResponseTbs {
    /// The room; also the HPKE context of the encryption.
    pub room_id: RoomId,
    /// The suite of `hub_sender`'s signature key.
    pub cipher_suite: Ciphersuite,
    /// The hub's entry in the group's `external_senders`; its key signs this.
    pub hub_sender: ExternalSender,
    /// `EncryptWithLabel(groupInfoPublicKey, "GroupInfo and ratchet_tree
    /// encryption", room_id, GroupInfoRatchetTreeTBE)`.
    pub encrypted_groupinfo_and_tree: HpkeCiphertext,
}

/// `GroupInfoResponse` (protocol-06 §5.6), one variant per status.
///
/// ```text
/// struct {
///   Protocol version;
///   opaque room_id<V>;
///   GroupInfoCode status;
///   select (status) {
///     case success:
///       select (protocol) { case mls10: ...GroupInfoResponseTBS fields...; opaque signature<V>; };
///     default: struct {};
///   };
/// } GroupInfoResponse;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum GroupInfoResponse {
    /// `success`.
    Success {
        /// Everything the signature covers.
        tbs: Box<GroupInfoResponseTbs>,
        /// `SignWithLabel(hub_sender.signature_key, "GroupInfoResponseTBS", tbs)`.
        signature: Vec<u8>,
    },
    /// `notAuthorized`.
    NotAuthorized {
        /// The room asked for.
        room_id: RoomId,
    },
    /// `noSuchRoom`.
    NoSuchRoom {
        /// The room asked for.
        room_id: RoomId,
    },
}

impl GroupInfoRequestTbs {
    /// Signs the request with the joining client's key.
    ///
    /// # Errors
    /// [`CryptoError::SchemeMismatch`] if the signer's scheme is not the one of
    /// `cipher_suite`, or a signing failure.
    pub fn sign(self, signer: &impl Signer) -> Result<GroupInfoRequest, CryptoError> {
        if signer.signature_scheme() != self.cipher_suite.signature_algorithm() {
            return Err(CryptoError::SchemeMismatch);
        }
        let content = encode_all(&self).map_err(|_| CryptoError::Encode)?;
        let signature = sign_with_label(signer, GROUP_INFO_REQUEST_LABEL, &content)?;
        Ok(GroupInfoRequest {
            tbs: self,
            signature,
        })
    }
}

impl Codec for GroupInfoRequestTbs {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(r)?;
        Ok(Self {
            cipher_suite: r.mls("GroupInfoRequest.cipher_suite")?,
            requesting_signature_key: r.mls("GroupInfoRequest.requestingSignatureKey")?,
            requesting_credential: r.mls("GroupInfoRequest.requestingCredential")?,
            group_info_public_key: r.mls("GroupInfoRequest.groupInfoPublicKey")?,
            joining_code: r.opaque_uncapped()?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        Protocol::Mls10.write(w);
        w.mls(&self.cipher_suite)?;
        w.mls(&self.requesting_signature_key)?;
        w.mls(&self.requesting_credential)?;
        w.mls(&self.group_info_public_key)?;
        w.opaque(&self.joining_code)
    }
}

impl GroupInfoRequest {
    /// Verifies the signature with `requestingSignatureKey` under the scheme of
    /// `cipher_suite`. Proves possession of the key only; authorizing the
    /// credential is the hub's check.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] if it does not verify.
    pub fn verify(&self, crypto: &impl OpenMlsCrypto) -> Result<(), CryptoError> {
        let content = encode_all(&self.tbs).map_err(|_| CryptoError::Encode)?;
        verify_with_label(
            crypto,
            self.tbs.cipher_suite.signature_algorithm(),
            &self.tbs.requesting_signature_key,
            GROUP_INFO_REQUEST_LABEL,
            &content,
            &self.signature,
        )
    }
}

impl Codec for GroupInfoRequest {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tbs: GroupInfoRequestTbs::read(r)?,
            signature: r.opaque_uncapped()?.to_vec(),
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.tbs.write(w)?;
        w.opaque(&self.signature)
    }
}

impl Codec for PendingProposal {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: ProposalMessage::read(r, "PendingProposal.proposal")?,
            hub_accepted_time: r.u64()?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.mls(&self.proposal)?;
        w.u64(self.hub_accepted_time);
        Ok(())
    }
}

impl GroupInfoRatchetTreeTbe {
    /// Encrypts for the joiner: `EncryptWithLabel(public_key, "GroupInfo and
    /// ratchet_tree encryption", room_id, self)`, with the HPKE suite of the
    /// request's `cipher_suite` (the suite of `groupInfoPublicKey`, decisions W-17).
    ///
    /// # Errors
    /// [`CryptoError::Encrypt`] for a malformed key, [`CryptoError::Encode`] if
    /// the plaintext is too long.
    pub fn encrypt(
        &self,
        crypto: &impl OpenMlsCrypto,
        ciphersuite: Ciphersuite,
        public_key: &[u8],
        room_id: &RoomId,
    ) -> Result<HpkeCiphertext, CryptoError> {
        let plaintext = self.encode().map_err(|_| CryptoError::Encode)?;
        encrypt_with_label(
            crypto,
            ciphersuite,
            public_key,
            GROUP_INFO_ENCRYPTION_LABEL,
            room_id.as_bytes(),
            &plaintext,
        )
    }

    /// Decrypts and decodes what [`GroupInfoRatchetTreeTbe::encrypt`] produced.
    ///
    /// # Errors
    /// [`CryptoError::Decrypt`] for a wrong key, room or tampered ciphertext;
    /// [`CryptoError::Decode`] if the plaintext does not decode.
    pub fn decrypt(
        crypto: &impl OpenMlsCrypto,
        ciphersuite: Ciphersuite,
        private_key: &[u8],
        room_id: &RoomId,
        ciphertext: &HpkeCiphertext,
    ) -> Result<Self, CryptoError> {
        let plaintext = decrypt_with_label(
            crypto,
            ciphersuite,
            private_key,
            GROUP_INFO_ENCRYPTION_LABEL,
            room_id.as_bytes(),
            ciphertext,
        )?;
        Self::decode(&plaintext).map_err(CryptoError::Decode)
    }
}

impl Codec for GroupInfoRatchetTreeTbe {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            group_info: Box::new(r.mls("GroupInfoRatchetTreeTBE.groupInfo")?),
            ratchet_tree_option: RatchetTreeOption::read(r)?,
            pending_proposals: r.vector(
                "GroupInfoRatchetTreeTBE.pending_proposals",
                MAX_PENDING_PROPOSALS,
                PendingProposal::read,
            )?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.mls(&self.group_info)?;
        self.ratchet_tree_option.write(w)?;
        w.vector(&self.pending_proposals, |w, p| p.write(w))
    }
}

impl GroupInfoResponseTbs {
    /// Signs the response with the hub's external-sender key.
    ///
    /// # Errors
    /// [`CryptoError::SchemeMismatch`] if the signer's scheme is not the one of
    /// `cipher_suite`, or a signing failure.
    pub fn sign(self, signer: &impl Signer) -> Result<GroupInfoResponse, CryptoError> {
        if signer.signature_scheme() != self.cipher_suite.signature_algorithm() {
            return Err(CryptoError::SchemeMismatch);
        }
        let content = encode_all(&self).map_err(|_| CryptoError::Encode)?;
        let signature = sign_with_label(signer, GROUP_INFO_RESPONSE_LABEL, &content)?;
        Ok(GroupInfoResponse::Success {
            tbs: Box::new(self),
            signature,
        })
    }

    /// Verifies `signature` with `hub_sender`'s key under the scheme of
    /// `cipher_suite`. The caller must also check that `hub_sender` is the
    /// hub's entry in the group's `external_senders`.
    ///
    /// # Errors
    /// [`CryptoError::BadSignature`] if it does not verify.
    pub fn verify(&self, crypto: &impl OpenMlsCrypto, signature: &[u8]) -> Result<(), CryptoError> {
        let content = encode_all(self).map_err(|_| CryptoError::Encode)?;
        verify_with_label(
            crypto,
            self.cipher_suite.signature_algorithm(),
            &external_sender_key(&self.hub_sender)?,
            GROUP_INFO_RESPONSE_LABEL,
            &content,
            signature,
        )
    }
}

impl Codec for GroupInfoResponseTbs {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_protocol(r)?;
        let room_id = r.item("GroupInfoResponse.room_id")?;
        if GroupInfoCode::read(r, "GroupInfoResponse.status")? != GroupInfoCode::Success {
            return Err(DecodeError::Invalid {
                what: "GroupInfoResponseTBS",
                reason: "status must be success",
            });
        }
        Ok(Self {
            room_id,
            cipher_suite: r.mls("GroupInfoResponse.cipher_suite")?,
            hub_sender: r.mls("GroupInfoResponse.hub_sender")?,
            encrypted_groupinfo_and_tree: r
                .mls("GroupInfoResponse.encrypted_groupinfo_and_tree")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        Protocol::Mls10.write(w);
        w.opaque(self.room_id.as_bytes())?;
        GroupInfoCode::Success.write(w);
        w.mls(&self.cipher_suite)?;
        w.mls(&self.hub_sender)?;
        w.mls(&self.encrypted_groupinfo_and_tree)
    }
}

tls_via_codec!(GroupInfoResponseTbs, GroupInfoRequestTbs);

impl GroupInfoResponse {
    /// The room the response is about.
    pub fn room_id(&self) -> &RoomId {
        match self {
            Self::Success { tbs, .. } => &tbs.room_id,
            Self::NotAuthorized { room_id } | Self::NoSuchRoom { room_id } => room_id,
        }
    }

    /// The wire status.
    pub fn status(&self) -> GroupInfoCode {
        match self {
            Self::Success { .. } => GroupInfoCode::Success,
            Self::NotAuthorized { .. } => GroupInfoCode::NotAuthorized,
            Self::NoSuchRoom { .. } => GroupInfoCode::NoSuchRoom,
        }
    }
}

impl Codec for GroupInfoResponse {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let start = *r;
        read_protocol(r)?;
        let room_id = r.item("GroupInfoResponse.room_id")?;
        Ok(match GroupInfoCode::read(r, "GroupInfoResponse.status")? {
            GroupInfoCode::Success => {
                // The signed part starts at the protocol byte: read it again
                // as a whole.
                *r = start;
                Self::Success {
                    tbs: Box::new(GroupInfoResponseTbs::read(r)?),
                    signature: r.opaque_uncapped()?.to_vec(),
                }
            }
            GroupInfoCode::NotAuthorized => Self::NotAuthorized { room_id },
            GroupInfoCode::NoSuchRoom => Self::NoSuchRoom { room_id },
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        match self {
            Self::Success { tbs, signature } => {
                tbs.write(w)?;
                w.opaque(signature)
            }
            Self::NotAuthorized { room_id } | Self::NoSuchRoom { room_id } => {
                Protocol::Mls10.write(w);
                w.opaque(room_id.as_bytes())?;
                self.status().write(w);
                Ok(())
            }
        }
    }
}

wire_body!(GroupInfoResponse, "GroupInfoResponse");
