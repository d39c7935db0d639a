//! Entry points for cargo-fuzz targets (`fuzz/fuzz_targets/hub_*.rs`).
//! Each must return normally for every input: a panic is a bug.

/// Parses arbitrary bytes as a commit `MLSMessage`: the reader the hub runs on every
/// commit a follower submits, before OpenMLS sees it.
pub fn parse_commit(data: &[u8]) {
    let _ = crate::parse::parse_commit(data);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary bytes, and bytes that start like a PublicMessage commit (version 1,
        /// wire format 1) so the reader gets past its first checks.
        #[test]
        fn never_panics(tail in proptest::collection::vec(any::<u8>(), 0..512), framed in any::<bool>()) {
            let data = if framed { [&[0, 1, 0, 1][..], &tail].concat() } else { tail };
            super::parse_commit(&data);
        }
    }
}
