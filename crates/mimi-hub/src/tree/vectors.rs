//! The MLS working group's `tree-validation.json` (read from
//! `../shared/vectors/mls/`, never copied here) against the hub's ratchet-tree
//! serialization. OpenMLS builds a tree only from a signed GroupInfo or a
//! Welcome, which these vectors lack, so the check is two links that meet in
//! one independent RFC 9420 §7.8 tree-hash function over serialized tree bytes:
//! - every vector tree decodes through MIMI's `RatchetTreeOption` and
//!   re-encodes byte for byte, and the function reproduces all its expected
//!   tree hashes;
//! - over `ratchet_tree_bytes` of real groups (tests.rs, every epoch), the
//!   function gives OpenMLS's own tree hash.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use mimi_proto::messages::RatchetTreeOption;
use openmls::prelude::Ciphersuite;
use openmls::prelude::tls_codec::{DeserializeBytes as _, Serialize as _};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;

/// `../shared/vectors/mls` from the repository root; missing vectors fail.
fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mls");
    assert!(
        dir.join("tree-validation.json").is_file(),
        "MLS test vectors missing at {} (see ../shared/vectors/README.md)",
        dir.display()
    );
    dir
}

/// Reads an MLS variable-length prefix (RFC 9420 §2.1.2); returns the vector
/// it announces and the rest.
fn vl(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (len, head) = match bytes[0] >> 6 {
        0 => (usize::from(bytes[0]), 1),
        1 => (
            usize::from(u16::from_be_bytes([bytes[0] & 0x3f, bytes[1]])),
            2,
        ),
        2 => (
            u32::from_be_bytes([bytes[0] & 0x3f, bytes[1], bytes[2], bytes[3]]) as usize,
            4,
        ),
        _ => panic!("reserved length prefix"),
    };
    (&bytes[head..head + len], &bytes[head + len..])
}

fn skip_vl(bytes: &[u8], count: usize) -> &[u8] {
    (0..count).fold(bytes, |rest, _| vl(rest).1)
}

/// The length of the `LeafNode` at the start of `bytes` (RFC 9420 §7.2).
fn leaf_node_len(bytes: &[u8]) -> usize {
    let rest = skip_vl(bytes, 2); // encryption_key, signature_key
    let rest = skip_vl(&rest[2..], 1); // credential_type, then its one vector
    let rest = skip_vl(rest, 5); // capabilities
    let rest = match rest[0] {
        1 => &rest[17..],            // key_package: lifetime
        2 => &rest[1..],             // update
        3 => skip_vl(&rest[1..], 1), // commit: parent_hash
        other => panic!("leaf_node_source {other}"),
    };
    let rest = skip_vl(rest, 2); // extensions, signature
    bytes.len() - rest.len()
}

/// Splits `optional<Node> ratchet_tree<V>` into each node's
/// `optional<LeafNode>` or `optional<ParentNode>` bytes.
fn nodes(tree: &[u8]) -> Vec<Vec<u8>> {
    let (mut body, rest) = vl(tree);
    assert!(rest.is_empty());
    let mut out = Vec::new();
    while !body.is_empty() {
        if body[0] == 0 {
            out.push(vec![0]);
            body = &body[1..];
            continue;
        }
        let node = &body[2..];
        let len = if body[1] == 1 {
            leaf_node_len(node)
        } else {
            node.len() - skip_vl(node, 3).len()
        };
        out.push([&[1], &node[..len]].concat());
        body = &node[len..];
    }
    out
}

/// RFC 9420 §7.8 tree hashes of every node of the full tree the array pads
/// to (with blanks), in array order; the root is at `leaves - 1`.
pub(super) fn tree_hashes(tree: &[u8], suite: Ciphersuite) -> Vec<Vec<u8>> {
    let provider = OpenMlsRustCrypto::default();
    let hash = |data: &[u8]| {
        provider
            .crypto()
            .hash(suite.hash_algorithm(), data)
            .unwrap()
    };
    let mut nodes = nodes(tree);
    let leaves = nodes.len().div_ceil(2).max(1).next_power_of_two();
    nodes.resize(2 * leaves - 1, vec![0]);
    let mut hashes = vec![Vec::new(); nodes.len()];
    // Post-order: children before parents, level by level.
    for level in 0..=leaves.trailing_zeros() {
        for x in (0..nodes.len()).filter(|x| x.trailing_ones() == level) {
            let input = if level == 0 {
                let index = u32::try_from(x / 2).unwrap().to_be_bytes();
                [&[1u8][..], &index, &nodes[x]].concat()
            } else {
                let mut input = [&[2u8][..], &nodes[x]].concat();
                for child in [x ^ (1 << (level - 1)), x ^ (3 << (level - 1))] {
                    // opaque<V>: SHA-512 hashes (64 bytes) take a 2-byte prefix.
                    let len = hashes[child].len();
                    if len < 64 {
                        input.push(u8::try_from(len).unwrap());
                    } else {
                        input.extend((0x4000 | u16::try_from(len).unwrap()).to_be_bytes());
                    }
                    input.extend(&hashes[child]);
                }
                input
            };
            hashes[x] = hash(&input);
        }
    }
    hashes
}

/// The root tree hash of serialized tree bytes.
pub(super) fn root_tree_hash(tree: &[u8], suite: Ciphersuite) -> Vec<u8> {
    let mut hashes = tree_hashes(tree, suite);
    let root = hashes.len() / 2;
    hashes.swap_remove(root)
}

#[derive(serde::Deserialize)]
struct TreeCase {
    cipher_suite: u16,
    tree: String,
    tree_hashes: Vec<String>,
}

#[test]
fn vector_trees_round_trip_through_mimi_and_hash_as_expected() {
    let text = std::fs::read(vectors_dir().join("tree-validation.json")).unwrap();
    let cases: Vec<TreeCase> = serde_json::from_slice(&text).unwrap();
    let (mut checked, mut skipped) = (0, Vec::new());
    for (i, case) in cases.iter().enumerate() {
        let Ok(suite) = Ciphersuite::try_from(case.cipher_suite) else {
            skipped.push(case.cipher_suite);
            continue;
        };
        let tree = hex::decode(&case.tree).unwrap();
        // The tree as a MIMI body embeds it (RatchetTreeOption, full = 1).
        let option = [&[1u8][..], &tree].concat();
        let decoded = RatchetTreeOption::tls_deserialize_exact_bytes(&option).unwrap();
        assert_eq!(
            decoded.tls_serialize_detached().unwrap(),
            option,
            "case {i}"
        );
        let expected: Vec<Vec<u8>> = case
            .tree_hashes
            .iter()
            .map(|h| hex::decode(h).unwrap())
            .collect();
        let mut ours = tree_hashes(&tree, suite);
        ours.truncate(expected.len());
        assert_eq!(ours, expected, "case {i} (suite {})", case.cipher_suite);
        checked += 1;
    }
    assert!(checked > 0);
    println!(
        "tree-validation.json: {checked} trees checked, {} skipped (unsupported suites {skipped:?})",
        skipped.len()
    );
}
