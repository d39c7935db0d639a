//! The ratchet tree a joiner needs, serialized straight from the hub's
//! `PublicGroup` (RFC 9420 §12.4.3.3):
//!
//! ```text
//! struct { NodeType node_type; select (node_type) {
//!     case leaf: LeafNode leaf_node; case parent: ParentNode parent_node; }; } Node;
//! optional<Node> ratchet_tree<V>;
//! ```
//!
//! Array order: leaf 0, parent 0, leaf 1, parent 1, …, ending with the
//! rightmost non-blank leaf (no trailing blanks). These are the bytes of
//! OpenMLS's `export_ratchet_tree().tls_serialize_detached()`, but that
//! first clones every node of the tree into a `RatchetTree`, which at 1000
//! members costs more than the rest of accepting an add (docs/benchmarks.md).
//! Here the nodes are only borrowed.

use openmls::treesync::{LeafNode, ParentNode, TreeSync};
use tls_codec::{Serialize, Size};

use crate::error::HubError;

/// `NodeType` code points (RFC 9420 §7.8).
const NODE_TYPE_LEAF: u8 = 1;
const NODE_TYPE_PARENT: u8 = 2;

/// Serializes `tree` as `optional<Node> ratchet_tree<V>`.
///
/// # Errors
/// [`HubError::Internal`] if a node does not serialize or the tree is longer
/// than a TLS vector may be (2^30 bytes), neither of which a tree OpenMLS
/// accepted can reach.
pub(crate) fn ratchet_tree_bytes(tree: &TreeSync) -> Result<Vec<u8>, HubError> {
    let leaves = tree.leaves();
    // Trailing blank leaves (and the parents between them) are trimmed; with
    // no full leaf at all, the tree is the empty vector.
    let width = leaves
        .iter()
        .rposition(Option::is_some)
        .map_or(0, |i| i + 1);
    // Parent `p` sits between leaves `p` and `p + 1`, so only parents
    // `0..width - 1` come before the last kept leaf.
    let mut parents: Vec<Option<&ParentNode>> = vec![None; width.saturating_sub(1)];
    for (index, parent) in tree.full_parents() {
        if let Some(slot) = usize::try_from(index.u32())
            .ok()
            .and_then(|i| parents.get_mut(i))
        {
            *slot = Some(parent);
        }
    }
    let leaves = leaves.get(..width).unwrap_or_default();

    let content_len = leaves.iter().map(|l| leaf_len(*l)).sum::<usize>()
        + parents.iter().map(|p| parent_len(*p)).sum::<usize>();
    let mut out = Vec::with_capacity(content_len + 4);
    tls_codec::vlen::write_length(&mut out, content_len).map_err(internal)?;
    for (i, leaf) in leaves.iter().enumerate() {
        if i > 0 {
            // `parents` has exactly `leaves.len() - 1` slots.
            write_parent(&mut out, parents.get(i - 1).copied().flatten())?;
        }
        write_leaf(&mut out, *leaf)?;
    }
    Ok(out)
}

/// Bytes of an `optional<Node>` holding `leaf`.
fn leaf_len(leaf: Option<&LeafNode>) -> usize {
    1 + leaf.map_or(0, |l| 1 + l.tls_serialized_len())
}

/// Bytes of an `optional<Node>` holding `parent`.
fn parent_len(parent: Option<&ParentNode>) -> usize {
    1 + parent.map_or(0, |p| 1 + p.tls_serialized_len())
}

fn write_leaf(out: &mut Vec<u8>, leaf: Option<&LeafNode>) -> Result<(), HubError> {
    match leaf {
        Some(leaf) => {
            out.extend_from_slice(&[1, NODE_TYPE_LEAF]);
            leaf.tls_serialize(out).map_err(internal)?;
        }
        None => out.push(0),
    }
    Ok(())
}

fn write_parent(out: &mut Vec<u8>, parent: Option<&ParentNode>) -> Result<(), HubError> {
    match parent {
        Some(parent) => {
            out.extend_from_slice(&[1, NODE_TYPE_PARENT]);
            parent.tls_serialize(out).map_err(internal)?;
        }
        None => out.push(0),
    }
    Ok(())
}

fn internal(_: tls_codec::Error) -> HubError {
    HubError::Internal("ratchet tree does not serialize")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
