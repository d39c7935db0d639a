//! MLS objects written out by hand from RFC 9420's layouts, with fixed filler
//! for keys, hashes, MACs and signatures: deterministic inputs for the
//! published vectors (decision W-22). They decode with OpenMLS but do not
//! verify; the vectors test MIMI's framing around them, not MLS.

use mimi_proto::messages::{CommitMessage, ProposalMessage};
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::*;
use tls_codec::DeserializeBytes;

use crate::kat::Part::{Ascii, Hex};
use crate::kat::bytes;

const GROUP: &str = "mimi://a.example/g/clubhouse";

/// `opaque<V>` of `n` copies of `fill` (n < 64: a one-byte length).
fn filler(n: u8, fill: u8) -> Vec<u8> {
    assert!(n < 64, "one-byte varint lengths only");
    let mut out = vec![n];
    out.extend(std::iter::repeat_n(fill, n.into()));
    out
}

/// A 64-byte signature `opaque<V>`: the two-byte varint `40 40`, then filler.
fn signature(fill: u8) -> Vec<u8> {
    let mut out = vec![0x40, 0x40];
    out.extend([fill; 64]);
    out
}

/// `FramedContent` up to the content, from member `leaf` at epoch 7.
fn framed_header(content_type: u8) -> Vec<u8> {
    let mut out = bytes(&[
        Hex("0001 0001"), // ProtocolVersion mls10, WireFormat mls_public_message
        Hex("1c"),        // opaque group_id<V>, 28 bytes
        Ascii(GROUP),
        Hex("0000000000000007"), // uint64 epoch = 7
        Hex("01 00000000"),      // Sender: member, leaf_index 0
        Hex("00"),               // opaque authenticated_data<V>: empty
    ]);
    out.push(content_type); // ContentType: proposal(2) or commit(3)
    out
}

/// `Proposal`: remove(3) of leaf 1.
const REMOVE_LEAF_1: &str = "0003 00000001";

/// A `PublicMessage` proposal: member 0 proposes to remove leaf 1.
pub fn remove_proposal() -> ProposalMessage {
    let mut out = framed_header(2);
    out.extend(bytes(&[Hex(REMOVE_LEAF_1)]));
    out.extend(signature(0x51)); // FramedContentAuthData.signature<V>
    out.extend(filler(32, 0x6d)); // MAC membership_tag<V>
    ProposalMessage::try_from(MlsMessageIn::tls_deserialize_exact(out).unwrap()).unwrap()
}

/// A `PublicMessage` commit removing leaf 1 by value, without a path.
pub fn remove_commit() -> CommitMessage {
    let mut out = framed_header(3);
    out.extend(bytes(&[
        Hex("07 01"), // ProposalOrRef proposals<V>, 7 bytes: type proposal(1)
        Hex(REMOVE_LEAF_1),
        Hex("00"), // optional<UpdatePath> path: absent
    ]));
    out.extend(signature(0x53)); // FramedContentAuthData.signature<V>
    out.extend(filler(32, 0x63)); // MAC confirmation_tag<V>
    out.extend(filler(32, 0x6d)); // MAC membership_tag<V>
    CommitMessage::try_from(MlsMessageIn::tls_deserialize_exact(out).unwrap()).unwrap()
}

/// A bare `Welcome` (RFC 9420 §12.4.3.1) for one new member.
pub fn welcome() -> Welcome {
    let mut out = bytes(&[Hex("0001")]); // CipherSuite cipher_suite
    out.extend(bytes(&[Hex("40 53")])); // EncryptedGroupSecrets secrets<V>, 83 bytes:
    out.extend(filler(32, 0x4b)); //   KeyPackageRef new_member<V>
    out.extend(filler(32, 0x45)); //   HPKECiphertext.kem_output<V>
    out.extend(filler(16, 0x43)); //   HPKECiphertext.ciphertext<V>
    out.extend(filler(16, 0x47)); // opaque encrypted_group_info<V>
    let (welcome, rest) = Welcome::tls_deserialize_bytes(&out).unwrap();
    assert!(rest.is_empty());
    welcome
}

/// A `GroupInfo` (RFC 9420 §12.4.3) of the clubhouse at epoch 8.
pub fn group_info() -> VerifiableGroupInfo {
    let mut out = bytes(&[
        Hex("0001 0001"), // GroupContext: version mls10, cipher_suite 0x0001
        Hex("1c"),        //   opaque group_id<V>, 28 bytes
        Ascii(GROUP),
        Hex("0000000000000008"), //   uint64 epoch = 8
    ]);
    out.extend(filler(32, 0x74)); //   opaque tree_hash<V>
    out.extend(filler(32, 0x68)); //   opaque confirmed_transcript_hash<V>
    out.extend(bytes(&[Hex("00")])); //   Extension extensions<V>: none
    out.extend(bytes(&[Hex("00")])); // Extension extensions<V>: none
    out.extend(filler(32, 0x63)); // MAC confirmation_tag<V>
    out.extend(bytes(&[Hex("00000000")])); // uint32 signer = leaf 0
    out.extend(signature(0x47)); // opaque signature<V>
    VerifiableGroupInfo::tls_deserialize_exact(out).unwrap()
}

/// A `KeyPackage` (RFC 9420 §10) of `mimi://b.example/d/bob/laptop`.
pub fn key_package() -> KeyPackageIn {
    let mut out = bytes(&[Hex("0001 0001")]); // version mls10, cipher_suite 0x0001
    out.extend(filler(32, 0x69)); // HPKEPublicKey init_key<V>
    // LeafNode:
    out.extend(filler(32, 0x65)); //   HPKEPublicKey encryption_key<V>
    out.extend(filler(32, 0x73)); //   SignaturePublicKey signature_key<V>
    out.extend(bytes(&[
        Hex("0001 1d"), //   Credential: basic, identity<V> 29 bytes
        Ascii("mimi://b.example/d/bob/laptop"),
        Hex("02 0001"), //   Capabilities: versions<V> [mls10]
        Hex("02 0001"), //     cipher_suites<V> [0x0001]
        Hex("02 0006"), //     extensions<V> [app_data_dictionary]
        Hex("02 0008"), //     proposals<V> [app_data_update]
        Hex("02 0001"), //     credentials<V> [basic]
        Hex("01"),      //   LeafNodeSource leaf_node_source = key_package
        Hex("0000000065000000 0000000070000000"), //   Lifetime not_before, not_after
        Hex("00"),      //   Extension extensions<V>: none
    ]));
    out.extend(signature(0x4c)); //   opaque signature<V> (of the leaf node)
    out.extend(bytes(&[Hex("00")])); // Extension extensions<V>: none
    out.extend(signature(0x4b)); // opaque signature<V> (of the KeyPackage)
    KeyPackageIn::tls_deserialize_exact(out).unwrap()
}

/// A `ProposalRef` (RFC 9420 §5.2): a 32-byte hash reference.
pub fn proposal_ref() -> openmls::ciphersuite::hash_ref::ProposalRef {
    let mut out = vec![32];
    out.extend([0x52; 32]);
    openmls::ciphersuite::hash_ref::ProposalRef::tls_deserialize_exact(out).unwrap()
}
