//! The server's source tree keeps the shape its module docs describe: a few
//! groups that follow the request paths, and one file that chooses every HTTP
//! status (decisions FED-1). These tests read files only.

use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_top_level_is_lib_bin_and_the_groups() {
    let mut names: Vec<String> = fs::read_dir(src())
        .expect("src/ is readable")
        .map(|e| {
            e.expect("a readable directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert!(
        names.len() <= 8,
        "src/ has {} entries: {names:?}",
        names.len()
    );
    for group in ["admin", "client_api", "fanout", "fed", "lanes", "setup"] {
        let module = src().join(group).join("mod.rs");
        let text =
            fs::read_to_string(&module).unwrap_or_else(|e| panic!("{}: {e}", module.display()));
        assert!(
            text.starts_with("//! "),
            "{group}/mod.rs must open with a module doc saying why the group exists"
        );
    }
}

#[test]
fn statuses_are_chosen_only_in_http_error() {
    let home = src().join("setup").join("http_error.rs");
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut offenders = Vec::new();
    for file in files.iter().filter(|f| **f != home) {
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (n, line) in text.lines().enumerate() {
            if line.contains("StatusCode::") || line.contains("with_status_code") {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "set statuses in setup/http_error.rs:\n{}",
        offenders.join("\n")
    );
}
