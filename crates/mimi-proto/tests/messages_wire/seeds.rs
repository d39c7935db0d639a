//! Writes the sample encodings as fuzz seeds (`scripts/fuzz.sh` runs this).
//! Ignored by default: it writes files, and only where asked.

use std::path::PathBuf;

use crate::samples;

#[test]
#[ignore = "writes fuzz seeds; run by scripts/fuzz.sh"]
fn write_fuzz_seeds() {
    let dir = PathBuf::from(
        std::env::var_os("MIMI_FUZZ_SEED_DIR").expect("MIMI_FUZZ_SEED_DIR names the corpus root"),
    );
    for (i, sample) in samples::all().into_iter().enumerate() {
        let target_dir = dir.join(sample.target);
        std::fs::create_dir_all(&target_dir).unwrap();
        std::fs::write(target_dir.join(format!("seed-{i:04}")), &sample.bytes).unwrap();
    }
}
